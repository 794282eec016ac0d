"""Index runs started from the browser, one at a time, each file's fate recorded.

A job is a row in the office database: queued by an upload, a correction, a removal or
a restore, then run by the web server's one `Runner` thread. The runner takes every job
queued when it wakes and serves them with one incremental build (each build reads the
whole corpus, so one run holds every upload made meanwhile: two editors uploading at once
lose nothing and wait for one build, not two). Builds take the index lock, so a
`searchapp index` run from a shell makes a job wait, never fail. A search sees the new
reports as soon as the build publishes its generation.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import IndexLocked, SearchAppError
from ..indexing import IndexReport
from .db import connect, now, transaction

log = logging.getLogger(__name__)

STATES = ("queued", "running", "done", "failed")
PROGRESS_EVERY = 0.3  # seconds between progress writes
LOCK_RETRY = 2.0  # seconds to wait when another indexer holds the index

Build = Callable[[Config, Callable[[str, int, int], None]], IndexReport]


def queue(conn: sqlite3.Connection, kind: str, user: str, files: list[dict[str, Any]]) -> int:
    """A new job; `files` are the files it is about (each with at least "path" or "name")."""
    cur = conn.execute(
        "INSERT INTO jobs (kind, state, created_by, created_at, files) "
        "VALUES (?, 'queued', ?, ?, ?)",
        (kind, user, now(), json.dumps(files, ensure_ascii=False)),
    )
    return int(cur.lastrowid or 0)


def get_job(conn: sqlite3.Connection, job_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return job_json(row) if row else None


def recent_jobs(conn: sqlite3.Connection, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM jobs ORDER BY id DESC LIMIT ?", (limit,))
    return [job_json(row) for row in rows]


def job_json(row: sqlite3.Row) -> dict[str, Any]:
    """A job as `GET /api/jobs/ID` answers it (a contract: keys are only added)."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "state": row["state"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "done": row["done"],
        "total": row["total"],
        "files": json.loads(row["files"]),
        "error": row["error"],
    }


def interrupt_running(conn: sqlite3.Connection) -> None:
    """Jobs left running by a server that stopped: failed, with the reason (a new build
    made by the next job reads their files anyway)."""
    conn.execute(
        "UPDATE jobs SET state = 'failed', finished_at = ?, "
        "error = '服务器在运行中停止；文件已保存，下一次建立索引时会读取' WHERE state = 'running'",
        (now(),),
    )


def file_fates(files: list[dict[str, Any]], report: IndexReport) -> list[dict[str, Any]]:
    """Each file of a job with what the build did to it (indexed, skipped and why)."""
    by_path = {f.path: f for f in report.files}
    fates = []
    for item in files:
        done = by_path.get(item.get("path", ""))
        if item.get("status") in {"rejected", "duplicate"} or not item.get("path"):
            fates.append(item)
        elif done is None:
            gone = item.get("expect") == "gone"
            fates.append(item | {"status": "removed" if gone else "missing"})
        elif done.status == "indexed":
            fates.append(
                item
                | {"status": "indexed", "documents": done.documents, "paragraphs": done.paragraphs}
            )
        else:
            fates.append(
                item | {"status": "skipped", "reason": done.reason, "message": done.message}
            )
    return fates


class Runner:
    """The web server's job thread: runs the queued jobs with `build`, one build at a time."""

    def __init__(self, config: Config, build: Build) -> None:
        self.config = config
        self.build = build
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.idle = threading.Event()
        self.idle.set()
        self.lock = threading.Lock()

    @property
    def data_dir(self) -> Path:
        return self.config.data_folder

    def start(self) -> None:
        """Start the thread once (later calls do nothing): jobs left running by a stopped
        server are marked failed, and those left queued run now."""
        with self.lock:
            if self.thread is not None:
                return
            with connect(self.data_dir) as conn:
                interrupt_running(conn)
            self.thread = threading.Thread(target=self.loop, name="searchapp-jobs", daemon=True)
            self.thread.start()
        self.wake()

    def wake(self) -> None:
        with self.lock:  # with loop's check: idle is never set while a wake-up is pending
            self.idle.clear()
            self.wakeup.set()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()
        if self.thread:
            self.thread.join(timeout=30)

    def loop(self) -> None:
        while not self.stopping.is_set():
            self.wakeup.wait()
            self.wakeup.clear()
            try:
                while not self.stopping.is_set() and self.run_queued():
                    pass
            except Exception:  # never let the thread die: the next job may succeed
                log.exception("job runner")
            with self.lock:
                if not self.wakeup.is_set():
                    self.idle.set()

    def run_queued(self) -> bool:
        """Run every job queued now with one build; False when there was none."""
        with connect(self.data_dir) as conn, transaction(conn):
            rows = conn.execute("SELECT * FROM jobs WHERE state = 'queued' ORDER BY id").fetchall()
            ids = [row["id"] for row in rows]
            conn.executemany(
                "UPDATE jobs SET state = 'running', started_at = ? WHERE id = ?",
                [(now(), i) for i in ids],
            )
        if not rows:
            return False
        try:
            report = self.run_build(ids)
        except Exception as exc:
            message = (
                exc.message if isinstance(exc, SearchAppError) else f"{type(exc).__name__}: {exc}"
            )
            if not isinstance(exc, SearchAppError):
                log.exception("index job %s", ids)
            self.finish(ids, "failed", error=message)
            return True
        with connect(self.data_dir) as conn:
            for row in rows:
                fates = file_fates(json.loads(row["files"]), report)
                conn.execute(
                    "UPDATE jobs SET files = ? WHERE id = ?",
                    (json.dumps(fates, ensure_ascii=False), row["id"]),
                )
        self.finish(ids, "done")
        return True

    def run_build(self, ids: list[int]) -> IndexReport:
        last = 0.0

        def progress(name: str, done: int, total: int) -> None:
            nonlocal last
            if time.monotonic() - last < PROGRESS_EVERY and done < total:
                return
            last = time.monotonic()
            with connect(self.data_dir) as conn:
                conn.executemany(
                    "UPDATE jobs SET done = ?, total = ? WHERE id = ?",
                    [(done, total, i) for i in ids],
                )

        while True:
            try:
                return self.build(self.config, progress)
            except IndexLocked:  # a build from the shell: wait for it
                if self.stopping.wait(LOCK_RETRY):
                    raise

    def finish(self, ids: list[int], state: str, error: str | None = None) -> None:
        with connect(self.data_dir) as conn:
            conn.executemany(
                "UPDATE jobs SET state = ?, finished_at = ?, error = ?, done = MAX(done, total) "
                "WHERE id = ?",
                [(state, now(), error, i) for i in ids],
            )

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Tests and the CLI: wait until every queued job has run."""
        return self.idle.wait(timeout)
