"""The office database: one SQLite file in the data folder.

Every function of the office modules takes an open connection; `connect` makes one per
use (a request, a command, a job), as SQLite connections do not cross threads. WAL lets
searches read while a job writes; a busy database waits rather than failing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_NAME = "office.sqlite3"
SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    epoch INTEGER NOT NULL DEFAULT 0  -- raised by a new password: older sessions end
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,  -- the token's first characters, to tell tokens apart in a list
    created_at TEXT NOT NULL,
    last_used TEXT
);
CREATE TABLE IF NOT EXISTS overrides (
    content_hash TEXT NOT NULL,
    part INTEGER NOT NULL,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (content_hash, part, field)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,  -- correct, revert, upload, remove, restore, user-add …
    target TEXT NOT NULL,  -- a doc id, a file, a user name
    field TEXT,
    old TEXT,
    new TEXT,
    content_hash TEXT,
    part INTEGER,
    prior INTEGER  -- correct: 1 when a correction of this field stood before (revert)
);
CREATE TABLE IF NOT EXISTS removed (
    doc_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    trash_id INTEGER NOT NULL REFERENCES trash(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS trash (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,  -- where the file was in the corpus
    stored TEXT NOT NULL,  -- its name in the trash folder
    content_hash TEXT NOT NULL,
    removed_at TEXT NOT NULL,
    removed_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,  -- queued, running, done, failed
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    files TEXT NOT NULL DEFAULT '[]',  -- JSON: each file's fate
    error TEXT
);
"""


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


@contextmanager
def connect(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the office database (created on first use); commits on success."""
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db_path(data_dir), timeout=30, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if conn.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            conn.executescript(SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT: a writer holds the database from its first read."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def exists(data_dir: Path) -> bool:
    return db_path(data_dir).is_file()


def now() -> str:
    """The time as stored: ISO 8601, UTC, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def log_change(
    conn: sqlite3.Connection,
    user: str,
    action: str,
    target: str,
    **details: object,
) -> int:
    """One line of the audit trail (field, old, new, content_hash, part, prior)."""
    columns = ["at", "user", "action", "target", *details]
    cur = conn.execute(
        f"INSERT INTO audit ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        (now(), user, action, target, *details.values()),
    )
    return int(cur.lastrowid or 0)


def audit_trail(conn: sqlite3.Connection, limit: int = 200) -> list[dict[str, object]]:
    rows = conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
    return [dict(row) for row in rows]
