"""Users, roles, passwords and API tokens.

Passwords are hashed with werkzeug's scrypt (salted, memory-hard; werkzeug comes with
Flask). Tokens are 256 random bits, so a plain SHA-256 of each is what is stored: the
token itself is shown once, when it is made.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import SearchAppError
from .db import now, transaction

ROLES = ("reader", "editor", "admin")  # each may do what the ones before it may
NAME = re.compile(r"^[\w.@-]{1,64}$")  # letters (Chinese too), digits, _ . @ -
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # scrypt over megabytes of "password" is a denial of service
TOKEN_PREFIX = "sa_"
# compared against when the user does not exist, so a wrong name costs what a wrong
# password costs and the time tells nothing (no user enumeration)
DUMMY_HASH = generate_password_hash(secrets.token_hex(16), method="scrypt")


class AccountError(SearchAppError):
    """A user name, role or password that cannot be used."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    epoch: int = 0

    def may(self, role: str) -> bool:
        """Whether this user has `role` or a larger one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def user_from_row(row: sqlite3.Row) -> User:
    return User(row["id"], row["name"], row["role"], row["epoch"])


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"未知的角色 “{role}”", hint="可选：" + "、".join(ROLES))
    return role


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"密码应有 {MIN_PASSWORD}–{MAX_PASSWORD} 个字符")
    return password


def add_user(conn: sqlite3.Connection, name: str, role: str, password: str) -> User:
    if not NAME.match(name):
        raise AccountError(f"用户名 “{name}” 不可用", hint="1–64 个字母、数字、汉字或 _ . @ -")
    check_role(role)
    hashed = generate_password_hash(check_password(password), method="scrypt")
    with transaction(conn):
        if find_user(conn, name):
            raise AccountError(f"用户 {name} 已存在", hint="改密码：searchapp users passwd")
        cur = conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, role, hashed, now()),
        )
    return User(int(cur.lastrowid or 0), name, role)


def find_user(conn: sqlite3.Connection, name: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return user_from_row(row) if row else None


def get_user(conn: sqlite3.Connection, user_id: int) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return user_from_row(row) if row else None


def require_user(conn: sqlite3.Connection, name: str) -> User:
    user = find_user(conn, name)
    if user is None:
        raise AccountError(f"没有用户 {name}", hint="查看用户：searchapp users list")
    return user


def list_users(conn: sqlite3.Connection) -> list[dict[str, object]]:
    rows = conn.execute(
        "SELECT u.name, u.role, u.created_at, COUNT(t.id) AS tokens FROM users u "
        "LEFT JOIN tokens t ON t.user_id = u.id GROUP BY u.id ORDER BY u.name"
    ).fetchall()
    return [dict(row) for row in rows]


def remove_user(conn: sqlite3.Connection, name: str) -> None:
    user = require_user(conn, name)
    conn.execute("DELETE FROM users WHERE id = ?", (user.id,))  # its tokens go with it


def set_password(conn: sqlite3.Connection, name: str, password: str) -> None:
    """A new password; the user's sessions signed in with the old one end."""
    user = require_user(conn, name)
    hashed = generate_password_hash(check_password(password), method="scrypt")
    conn.execute(
        "UPDATE users SET password_hash = ?, epoch = epoch + 1 WHERE id = ?", (hashed, user.id)
    )


def set_role(conn: sqlite3.Connection, name: str, role: str) -> None:
    user = require_user(conn, name)
    conn.execute(
        "UPDATE users SET role = ?, epoch = epoch + 1 WHERE id = ?", (check_role(role), user.id)
    )


def authenticate(conn: sqlite3.Connection, name: str, password: str) -> User | None:
    """The user when the name and password match, else None (in the same time either way)."""
    row = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    if len(password) > MAX_PASSWORD:
        password = password[:MAX_PASSWORD]  # never a match: stored ones are no longer
    ok = check_password_hash(row["password_hash"] if row else DUMMY_HASH, password)
    return user_from_row(row) if row and ok else None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(conn: sqlite3.Connection, name: str) -> str:
    """A new API token for the user; only its hash is stored, so it is shown only now."""
    user = require_user(conn, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO tokens (user_id, token_hash, hint, created_at) VALUES (?, ?, ?, ?)",
        (user.id, token_hash(token), token[: len(TOKEN_PREFIX) + 6], now()),
    )
    return token


def list_tokens(conn: sqlite3.Connection, name: str | None = None) -> list[dict[str, object]]:
    sql = (
        "SELECT t.id, u.name, t.hint, t.created_at, t.last_used FROM tokens t "
        "JOIN users u ON u.id = t.user_id"
    )
    args: tuple[str, ...] = ()
    if name:
        sql += " WHERE u.name = ?"
        args = (name,)
    return [dict(row) for row in conn.execute(sql + " ORDER BY t.id", args)]


def revoke_token(conn: sqlite3.Connection, token_id: int) -> None:
    if conn.execute("DELETE FROM tokens WHERE id = ?", (token_id,)).rowcount == 0:
        raise AccountError(f"没有编号为 {token_id} 的令牌", hint="查看令牌：searchapp users tokens")


def user_for_token(conn: sqlite3.Connection, token: str) -> User | None:
    """The user an API token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = token_hash(token)
    row = conn.execute(
        "SELECT u.*, t.id AS token_id, t.token_hash FROM tokens t "
        "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        (digest,),
    ).fetchone()
    if row is None or not hmac.compare_digest(row["token_hash"], digest):
        return None
    conn.execute("UPDATE tokens SET last_used = ? WHERE id = ?", (now(), row["token_id"]))
    return user_from_row(row)


def has_users(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
