"""The office's writes as one call each, for the web views (and tests): upload, correct,
remove, restore, revert. Each stores its change, writes the audit trail and queues the
index job that makes the change visible; the views stay thin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..config import Config
from ..indexing import OCR_CACHE
from ..ocr import Ocr
from ..results import DocumentView
from . import db, jobs, library, overrides
from .accounts import User
from .db import connect, log_change


@dataclass
class Office:
    """The office service over one configuration."""

    config: Config
    runner: jobs.Runner | None = None

    @property
    def data_dir(self) -> Path:
        return self.config.data_folder

    @property
    def corpus_dir(self) -> Path:
        return self.config.corpus_dir

    def ocr(self) -> Ocr:
        return Ocr(cache_dir=self.config.index_dir / OCR_CACHE)

    def start_job(self, kind: str, user: User, files: list[dict[str, Any]]) -> int:
        with connect(self.data_dir) as conn:
            job = jobs.queue(conn, kind, user.name, files)
        if self.runner:
            self.runner.start()  # once
            self.runner.wake()
        return job

    def resume(self) -> None:
        """At start-up: run the jobs a stopped server left queued (when there are any)."""
        if self.runner is None or not db.exists(self.data_dir):
            return
        with connect(self.data_dir) as conn:
            pending = conn.execute(
                "SELECT 1 FROM jobs WHERE state IN ('queued', 'running') LIMIT 1"
            ).fetchone()
        if pending:
            self.runner.start()

    def upload(
        self, user: User, files: Iterable[tuple[str, BinaryIO]], indexed: dict[str, str]
    ) -> tuple[int | None, list[library.Upload]]:
        """Store the files and queue their indexing; (job id or None, each file's fate)."""
        max_bytes = self.config.max_upload_mb << 20
        saved = library.save_uploads(self.corpus_dir, files, indexed, max_bytes)
        stored = [u for u in saved if u.status == "saved"]
        with connect(self.data_dir) as conn:
            for item in stored:
                log_change(conn, user.name, "upload", item.path, content_hash=item.content_hash)
        job = None
        if stored:
            job = self.start_job("upload", user, [u.to_json() for u in saved])
        return job, saved

    def correct(
        self, user: User, doc: DocumentView, changes: object
    ) -> tuple[list[str], int | None]:
        """Store a report's corrections; (fields changed, the job that re-indexes it)."""
        checked = overrides.check_changes(changes)
        content_hash, part = library.report_key(self.corpus_dir, doc.source, doc.doc_id, self.ocr())
        current = {
            "town": doc.town,
            "place": doc.place,
            "year": str(doc.year or ""),
            "date": doc.date or "",
            "doc_type": doc.doc_type,
            "title": doc.title,
            "issuer": doc.issuer,
        }
        with connect(self.data_dir) as conn:
            changed = overrides.correct(
                conn, user.name, doc.doc_id, content_hash, part, current, checked
            )
        if not changed:
            return [], None
        file = {"path": doc.source, "doc_id": doc.doc_id, "changed": changed}
        return changed, self.start_job("correct", user, [file])

    def remove(self, user: User, doc: DocumentView) -> tuple[int, list[str], int]:
        """Move a report's file to the trash; (trash id, the reports removed, job id)."""
        _, reports = library.read_reports(self.corpus_dir, doc.source, self.ocr())
        pairs = [(d.doc_id, d.title) for d in reports] or [(doc.doc_id, doc.title)]
        with connect(self.data_dir) as conn:
            trash_id = library.remove_file(
                conn, self.corpus_dir, self.data_dir, doc.source, pairs, user.name
            )
        file = {"path": doc.source, "expect": "gone"}
        return trash_id, [p[0] for p in pairs], self.start_job("remove", user, [file])

    def restore(self, user: User, trash_id: int) -> tuple[str, int]:
        with connect(self.data_dir) as conn:
            rel = library.restore(conn, self.corpus_dir, self.data_dir, trash_id, user.name)
        return rel, self.start_job("restore", user, [{"path": rel}])

    def revert(self, user: User, audit_id: int) -> int:
        with connect(self.data_dir) as conn:
            row = overrides.revert(conn, user.name, audit_id)
        return self.start_job("revert", user, [{"doc_id": row["target"]}])
