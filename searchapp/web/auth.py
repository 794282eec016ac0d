"""Sign-in, sessions, API tokens, CSRF and roles for every request.

    /login, /logout        the sign-in page and sign-out (a POST, with a CSRF token)

Who asks: the session cookie's user (signed by the server's secret, HttpOnly,
SameSite=Lax, Secure behind https by the `secure_cookies` setting), or an
`Authorization: Bearer TOKEN` header. A session ends when the user's password or role
changes (its epoch). Every write made with a session cookie needs the session's CSRF
token (a form field, or the X-CSRF-Token header for JSON): a token sent by header cannot
be forged by another site. Reading is open or needs a sign-in, by the `reading` setting.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from ..config import Config
from ..errors import Forbidden, TooManyRequests, Unauthorized
from ..office import accounts, db
from ..office.accounts import User
from .handlers import wants_json
from .store import get_config

bp = Blueprint("auth", __name__)

SECRET_NAME = "secret_key"  # in the data folder: sessions outlive a restart
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OPEN_ENDPOINTS = {"auth.login", "auth.logout", "static", "api.health"}
SESSION_HOURS = 12
F = TypeVar("F", bound=Callable[..., Any])


def init_auth(app: Flask, config: Config, host: str | None) -> None:
    """Sessions signed with the data folder's secret; who may read, from the settings."""
    app.secret_key = secret_key(config.data_folder)
    app.config.update(
        SESSION_COOKIE_NAME="searchapp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        SEARCHAPP_OPEN_READING=reading_is_open(config.reading, host),
    )
    app.extensions["searchapp-login-limits"] = LoginLimits()
    app.before_request(load_user)
    app.before_request(check_csrf)
    app.before_request(check_reading)
    app.jinja_env.globals.update(csrf_token=csrf_token)
    app.context_processor(lambda: {"user": g.get("user")})


def reading_is_open(setting: str, host: str | None) -> bool:
    """`auto`: open while the server listens on a loopback address only."""
    if setting != "auto":
        return setting == "open"
    if host is None or host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def secret_key(data_dir: Path) -> bytes:
    """The server's session secret, made once (readable by its owner only)."""
    path = data_dir / SECRET_NAME
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("xb") as fh:  # first start: nobody else may have made it meanwhile
            path.chmod(0o600)
            fh.write(secrets.token_bytes(32))
    except FileExistsError:
        pass
    return path.read_bytes()


def load_user() -> None:
    """g.user from a bearer token or the session cookie; g.via says which."""
    g.user, g.via = None, None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        with db.connect(get_config().data_folder) as conn:
            user = accounts.user_for_token(conn, header.removeprefix("Bearer ").strip())
        if user is None:
            raise Unauthorized("API 令牌无效或已撤销", hint="新令牌：searchapp users token NAME")
        g.user, g.via = user, "token"
        return
    user_id = session.get("user_id")
    if user_id is None:
        return
    with db.connect(get_config().data_folder) as conn:
        user = accounts.get_user(conn, int(user_id))
    if user is None or user.epoch != session.get("epoch"):
        session.pop("user_id", None)  # removed, or a new password or role since
        return
    g.user, g.via = user, "session"


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    """A write that a browser could send by itself (cookies) must carry the session's token.

    Anonymous writes are refused by the view (401) except sign-in and sign-out, which are
    checked too (no signing a victim in to an attacker's account)."""
    if request.method not in UNSAFE_METHODS or g.via == "token":
        return
    if g.via is None and request.endpoint not in {"auth.login", "auth.logout"}:
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        raise Forbidden("表单已过期或来源不明（CSRF 校验失败）", hint="请刷新页面后重试")


def check_reading() -> Response | None:
    """When reading needs a sign-in, anonymous requests go to the sign-in page (API: 401)."""
    if current_app.config["SEARCHAPP_OPEN_READING"] or g.user is not None:
        return None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    return sign_in_first("这个服务需要登录后才能检索")


def sign_in_first(hint: str) -> Response:
    """Pages: to the sign-in page and back; the API: 401."""
    if wants_json() or request.method != "GET":
        raise Unauthorized("请先登录", hint=hint)
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def current_user() -> User | None:
    user: User | None = g.get("user")
    return user


def require(role: str) -> Callable[[F], F]:
    """A view only for users with `role` (or larger): 401 without credentials, 403 below."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return sign_in_first("需要登录（或 API 令牌）才能修改")
            if not user.may(role):
                raise Forbidden(f"需要 {role} 角色", hint="请联系管理员授予权限")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


class LoginLimits:
    """Failed sign-ins per name and per address in a sliding window: a guessing client is
    slowed to a few tries a quarter-hour, whatever names it tries."""

    WINDOW = 15 * 60
    PER_NAME = 5
    PER_ADDRESS = 20

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] < now - self.WINDOW:
            times.popleft()
        return times

    def check(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            by_name = self._recent(f"n:{name}", now)
            by_address = self._recent(f"a:{address}", now)
            if len(by_name) >= self.PER_NAME or len(by_address) >= self.PER_ADDRESS:
                oldest = min(by_name[0] if by_name else now, by_address[0] if by_address else now)
                wait = max(1, int(oldest + self.WINDOW - now) // 60 + 1)
                raise TooManyRequests("登录失败次数太多", hint=f"请约 {wait} 分钟后再试")

    def failed(self, name: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(f"n:{name}", now).append(now)
            self._recent(f"a:{address}", now).append(now)
            if len(self._failures) > 10_000:  # forget the oldest keys, never grow unbounded
                for key in list(self._failures)[:5_000]:
                    del self._failures[key]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(f"n:{name}", None)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no //host, no scheme)."""
    if not target:
        return url_for("search.results")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("search.results")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next_url=next_url, error=None, name="")
    name = request.form.get("name", "").strip()[:64]
    password = request.form.get("password", "")
    limits: LoginLimits = current_app.extensions["searchapp-login-limits"]
    limits.check(name, request.remote_addr or "")
    with db.connect(get_config().data_folder) as conn:
        user = accounts.authenticate(conn, name, password)
    if user is None:
        limits.failed(name, request.remote_addr or "")
        error = "用户名或密码不对"  # the same words whether the name exists or not
        return render_template("login.html", next_url=next_url, error=error, name=name), 401
    limits.succeeded(name)
    session.clear()  # nothing of the anonymous session carries over (its CSRF token too)
    session.permanent = True
    session.update(user_id=user.id, epoch=user.epoch, csrf=secrets.token_urlsafe(32))
    return redirect(next_url)


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("search.results"))
