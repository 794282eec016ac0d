"""The corpus as the office changes it: uploads, the trash, and removed reports.

Uploads land in `uploads/` inside the corpus folder, under a sanitised name that never
leaves that folder and never replaces a file: each is written to a hidden temporary file
(the indexer skips hidden files) and linked to its final name only when it is whole, so
a crash leaves no half file for a build to read. The same content twice is reported as a
duplicate of the file already held, not stored again.

A removed report's file moves to `trash/` in the data folder (out of the corpus, so the
next build drops it); its ids are kept, so its permalinks answer 410 with a notice, until
it is restored.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from ..documents import Document, file_hash, iter_corpus_files, load_file
from ..errors import SearchAppError
from ..ocr import Ocr
from ..readers import SUPPORTED_SUFFIXES
from .db import log_change, now, transaction

UPLOADS = "uploads"  # inside the corpus folder
TRASH = "trash"  # inside the data folder
MAX_NAME = 120  # characters of a stored file name, suffix included
UNSAFE = re.compile(r"[^\w.\-()（）【】《》、，\u3000 ]+")
CHUNK = 1 << 20
_saving = threading.Lock()  # one upload at a time checks for duplicates and picks names


class LibraryError(SearchAppError):
    """A file that cannot be stored, removed or restored."""


class TooLarge(LibraryError):
    """An upload over the size or count limit."""

    status = 413


@dataclass
class Upload:
    """One uploaded file's fate when it was received."""

    name: str  # as the browser sent it
    status: str  # "saved", "duplicate", "rejected"
    path: str = ""  # saved: relative to the corpus folder; duplicate: the file held
    reason: str = ""  # rejected: unsupported, empty, too-large
    message: str = ""
    content_hash: str = ""

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def safe_name(filename: str) -> str:
    """A file name that is one plain name: no folders, no hidden file, no odd characters."""
    name = unicodedata.normalize("NFKC", filename).replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = UNSAFE.sub("_", name).strip(" ._")
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    suffix = suffix.lower()[:10]
    stem = stem.strip(" ._")[: MAX_NAME - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix}" if suffix else stem


def uploads_dir(corpus_dir: Path) -> Path:
    folder = corpus_dir / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def held_hashes(corpus_dir: Path, indexed: dict[str, str]) -> dict[str, str]:
    """content hash → path of every file in the corpus: from the index's report where the
    file is recorded, hashed here for the uploads not indexed yet."""
    held = {digest: path for path, digest in indexed.items() if digest}
    known = set(indexed)
    for path in iter_corpus_files(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        if rel not in known and rel.startswith(f"{UPLOADS}/"):
            held.setdefault(file_hash(path), rel)
    return held


def save_uploads(
    corpus_dir: Path,
    files: Iterable[tuple[str, BinaryIO]],
    indexed: dict[str, str],
    max_bytes: int,
) -> list[Upload]:
    """Store each (name, stream) in the uploads folder, or say why not."""
    results = []
    with _saving:
        held = held_hashes(corpus_dir, indexed)
        for name, stream in files:
            result = save_upload(corpus_dir, name, stream, held, max_bytes)
            if result.status == "saved":
                held[result.content_hash] = result.path
            results.append(result)
    return results


def save_upload(
    corpus_dir: Path, name: str, stream: BinaryIO, held: dict[str, str], max_bytes: int
) -> Upload:
    clean = safe_name(name)
    if Path(clean).suffix.lower() not in SUPPORTED_SUFFIXES:
        kinds = " ".join(sorted(SUPPORTED_SUFFIXES))
        return Upload(
            name, "rejected", reason="unsupported", message=f"不支持的文件类型；可用：{kinds}"
        )
    folder = uploads_dir(corpus_dir)
    partial = folder / f".upload-{secrets.token_hex(8)}.part"
    digest = hashlib.sha1()
    size = 0
    try:
        with partial.open("xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    mb = max_bytes // (1 << 20)
                    return Upload(name, "rejected", reason="too-large", message=f"超过 {mb} MB")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            return Upload(name, "rejected", reason="empty", message="空文件")
        content_hash = digest.hexdigest()
        if content_hash in held:
            return Upload(
                name,
                "duplicate",
                path=held[content_hash],
                content_hash=content_hash,
                message=f"内容与已有的 {held[content_hash]} 相同，未重复保存",
            )
        final = link_unique(partial, folder, clean)
        rel = final.relative_to(corpus_dir).as_posix()
        return Upload(name, "saved", path=rel, content_hash=content_hash)
    finally:
        partial.unlink(missing_ok=True)


def link_unique(source: Path, folder: Path, name: str) -> Path:
    """Link `source` under `name` in folder, or name-2, name-3 … : never over a file."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(1, 10_000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.link(source, target)
        except FileExistsError:
            continue
        return target
    raise LibraryError(f"上传目录中已有太多名为 {name} 的文件")


def inside(root: Path, rel: str) -> Path:
    """root/rel when it stays inside root (no .., no absolute path, no link out)."""
    base = root.resolve()
    path = (base / rel).resolve()
    if not path.is_relative_to(base) or path == base:
        raise LibraryError(f"路径 {rel} 不在 {root} 之内")
    return path


def trash_dir(data_dir: Path) -> Path:
    folder = data_dir / TRASH
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_file(
    conn: sqlite3.Connection,
    corpus_dir: Path,
    data_dir: Path,
    rel: str,
    reports: list[tuple[str, str]],
    user: str,
) -> int:
    """Move a corpus file to the trash; its reports ((doc_id, title) pairs) are noted as
    removed. The trash entry's id."""
    path = inside(corpus_dir, rel)
    if not path.is_file():
        raise LibraryError(f"语料中已没有文件 {rel}", hint="它可能已被删除；请刷新页面")
    digest = file_hash(path)
    stored = f"{secrets.token_hex(4)}-{safe_name(path.name)}"
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO trash (source, stored, content_hash, removed_at, removed_by) "
            "VALUES (?, ?, ?, ?, ?)",
            (rel, stored, digest, now(), user),
        )
        trash_id = int(cur.lastrowid or 0)
        for doc_id, title in reports:
            conn.execute(
                "INSERT OR REPLACE INTO removed (doc_id, title, source, trash_id) "
                "VALUES (?, ?, ?, ?)",
                (doc_id, title, rel, trash_id),
            )
        log_change(conn, user, "remove", rel, content_hash=digest)
        # moved last: when it fails, the transaction is rolled back and nothing changed
        shutil.move(path, trash_dir(data_dir) / stored)
    return trash_id


def restore(
    conn: sqlite3.Connection, corpus_dir: Path, data_dir: Path, trash_id: int, user: str
) -> str:
    """Move a trashed file back to where it was (or beside it, when that name is taken)."""
    with transaction(conn):
        row = conn.execute("SELECT * FROM trash WHERE id = ?", (trash_id,)).fetchone()
        if row is None:
            raise LibraryError(f"回收站中没有编号 {trash_id}", hint="它可能已被恢复")
        stored = inside(trash_dir(data_dir), row["stored"])
        target = inside(corpus_dir, row["source"])
        target.parent.mkdir(parents=True, exist_ok=True)
        # copied beside its place first (the trash may be on another file system), then
        # linked under a free name: never over a file put there since
        partial = target.parent / f".restore-{secrets.token_hex(8)}.part"
        try:
            shutil.copy2(stored, partial)
            final = link_unique(partial, target.parent, target.name)
        finally:
            partial.unlink(missing_ok=True)
        rel = final.relative_to(corpus_dir.resolve()).as_posix()
        conn.execute("DELETE FROM trash WHERE id = ?", (trash_id,))  # and its removed rows
        log_change(conn, user, "restore", rel, content_hash=row["content_hash"])
    stored.unlink()
    return rel


def trash_list(conn: sqlite3.Connection) -> list[dict[str, object]]:
    rows = conn.execute(
        "SELECT t.*, GROUP_CONCAT(r.title, '、') AS titles FROM trash t "
        "LEFT JOIN removed r ON r.trash_id = t.id GROUP BY t.id ORDER BY t.id DESC"
    )
    return [dict(row) for row in rows]


def removed_notice(conn: sqlite3.Connection, doc_id: str) -> dict[str, object] | None:
    """When and by whom a removed report was removed, or None."""
    row = conn.execute(
        "SELECT r.title, r.source, t.removed_at, t.removed_by, t.id AS trash_id FROM removed r "
        "JOIN trash t ON t.id = r.trash_id WHERE r.doc_id = ?",
        (doc_id,),
    ).fetchone()
    return dict(row) if row else None


def read_reports(corpus_dir: Path, rel: str, ocr: Ocr | None) -> tuple[str, list[Document]]:
    """A corpus file's content hash and reports, read again (the OCR cache spares scans)."""
    path = inside(corpus_dir, rel)
    if not path.is_file():
        raise LibraryError(f"语料中已没有文件 {rel}", hint="它可能已被删除；请刷新页面")
    report, docs = load_file(path, corpus_dir.resolve(), {}, ocr)
    return report.content_hash, docs


def report_key(corpus_dir: Path, rel: str, doc_id: str, ocr: Ocr | None) -> tuple[str, int]:
    """The (content hash, part) a report's corrections are keyed by, read from its file."""
    content_hash, docs = read_reports(corpus_dir, rel, ocr)
    for doc in docs:
        if doc.doc_id == doc_id:
            return content_hash, doc.part
    raise LibraryError(f"文件 {rel} 已改变，其中不再有这份报告", hint="等索引更新后再更正")
