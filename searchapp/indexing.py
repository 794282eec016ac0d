"""What every backend's indexer shares: the run report, the paragraph records, the
dictionary and the meta data that decide whether an update can be incremental.

Backend-neutral: the embedded indexer (embedded/indexer.py) writes these records into
Whoosh and grams files, the Solr indexer (solr/indexer.py) sends them to a collection.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import fields as F
from . import ocr
from .analysis import (
    ANALYSIS_VERSION,
    SEGMENTER,
    dictionary_hash,
    read_user_dict,
    shipped_terms,
)
from .documents import Document, FileReport, Paragraph, file_hash

Progress = Callable[[str, int, int], None]  # (file, files done, files in all)
OCR_CACHE = "ocr-cache"  # the OCR results' folder in an index folder (kept by rebuilds)


@dataclass
class IndexReport:
    """What an index run did, file by file."""

    corpus_dir: str
    index_dir: str
    generation: str = ""
    mode: str = "full"  # "full", "incremental", "unchanged"
    files: list[FileReport] = field(default_factory=list)
    documents: int = 0
    paragraphs: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    bytes_read: int = 0

    @property
    def skipped(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "skipped"]

    @property
    def failed(self) -> list[FileReport]:
        """Files of a supported type that could not be read (unsupported types are not)."""
        return [f for f in self.skipped if f.reason not in {"unsupported"}]

    @property
    def warned(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "indexed" and f.warnings]

    @property
    def scanned(self) -> list[FileReport]:
        """Files read by OCR, wholly or in part."""
        return [f for f in self.files if f.status == "indexed" and f.ocr_pages]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = len(self.skipped)
        data["failed"] = len(self.failed)
        data["ocr_files"] = len(self.scanned)
        return data


def dictionary_terms(user_dict: Path | None, mined: list[str]) -> list[str]:
    return sorted(set(shipped_terms()) | set(read_user_dict(user_dict)) | set(mined))


def base_dictionary(user_dict: Path | None) -> str:
    """Hash of the dictionary parts a user controls (shipped list and user file)."""
    return dictionary_hash(shipped_terms() + read_user_dict(user_dict))


def report_fields(doc: Document, file_hash: str) -> dict[str, str]:
    """What every paragraph of a report shares (`fields.REPORT_FIELDS`)."""
    return {
        F.DOC_ID: doc.doc_id,
        F.SOURCE: doc.source,
        F.FILE_HASH: file_hash,
        F.TITLE: doc.title,
        F.TOWN: doc.town,
        F.PLACE: doc.place,
        F.YEAR: str(doc.year) if doc.year else "",
        F.DOC_TYPE: doc.doc_type,
        F.DATE: doc.date or "",
        F.SORT_DATE: doc.date or (f"{doc.year:04d}-00-00" if doc.year else ""),
        F.ISSUER: getattr(doc, "issuer", ""),
        F.LEVEL: getattr(doc, "level", ""),
        F.PROVINCE: getattr(doc, "province", ""),
        F.CITY: getattr(doc, "city", ""),
        F.COUNTY: getattr(doc, "county", ""),
        F.OCR: "1" if doc.ocr else "",
    }


def paragraph_fields(doc: Document, file_hash: str) -> Iterator[dict[str, Any]]:
    """One record per paragraph of a report: the report's fields and the paragraph's own."""
    shared = report_fields(doc, file_hash)
    first = ""
    for para in doc.paragraphs:
        if para.piece == 0 or not first:  # its author paragraph's first piece
            first = para.para_id
        yield {
            F.KEY: f"{doc.doc_id}/{para.para_id}",
            F.PARA_ID: para.para_id,
            F.ORDINAL: para.ordinal,
            F.BLOCK: f"{doc.doc_id}/{first}",
            F.PIECE: para.piece,
            F.PIECES: para.pieces,
            F.SORT_KEY: sort_key(doc, para),
            **shared,
            F.SECTION: list(para.section),
            F.SECTION_KEY: F.SECTION_SEPARATOR.join(para.section),
            F.HEADING: para.is_heading,
            F.TEXT: para.text,
            F.WORDS: para.text,
        }


def sort_key(doc: Document, para: Paragraph) -> str:
    """A paragraph's place in document order, unique in an index."""
    return f"{doc.source}\x00{doc.part:04d}\x00{para.ordinal:06d}"


def can_update(meta: dict[str, Any], corpus_dir: Path, user_dict: Path | None) -> bool:
    """An incremental update is possible when nothing but the files has changed."""
    return (
        meta.get("analysis_version") == ANALYSIS_VERSION
        and meta.get("segmenter") == SEGMENTER
        and meta.get("base_dictionary") == base_dictionary(user_dict)
        and meta.get("corpus_dir") == str(corpus_dir)
    )


def can_keep(old: dict[str, Any], content_hash: str) -> bool:
    """An incremental build keeps a file's records when its content is unchanged, unless
    it was skipped for want of OCR and OCR can run now."""
    if old.get("reason") == "no-ocr" and ocr.unavailable() is None:
        return False
    return old.get("content_hash") == content_hash


def current_mtimes(corpus_dir: Path, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of the files an "unchanged" run found with their recorded content,
    whose size and modification time on disk differ from the record (a file touched,
    copied or checked out again): with the new ones, so that the next run does not hash
    the file again. Files gone are left out (a run that found them gone is not unchanged)."""
    moved = []
    for record in records:
        path = corpus_dir / record["path"]
        if not path.exists():
            continue
        stat = path.stat()
        now = [stat.st_size, stat.st_mtime_ns]
        if record.get("mtime") != now:
            moved.append({**record, "mtime": now})
    return moved


def quick_hash(path: Path, old: dict[str, Any]) -> str:
    """The file's content hash; size and mtime unchanged means the recorded hash holds."""
    stat = path.stat()
    if old.get("mtime") == [stat.st_size, stat.st_mtime_ns]:
        return str(old.get("content_hash"))
    return file_hash(path)


def make_meta(
    corpus_dir: Path,
    user_dict: Path | None,
    words: list[str],
    mined: list[str],
    report: IndexReport,
    sidecar: dict[str, Any],
) -> dict[str, Any]:
    """The build report kept with an index; `sidecar` is the metadata entries applied (the
    sidecar file's and the corrections), so the next update sees which files they change."""
    files = []
    for f in report.files:
        record = asdict(f)
        path = corpus_dir / f.path
        if path.exists():
            stat = path.stat()
            record["mtime"] = [stat.st_size, stat.st_mtime_ns]
        files.append(record)
    return {
        "analysis_version": ANALYSIS_VERSION,
        "segmenter": SEGMENTER,
        "dictionary": dictionary_hash(words),
        "words": sorted(set(words)),  # the domain words jieba was given
        "base_dictionary": base_dictionary(user_dict),
        "mined": mined,
        "corpus_dir": str(corpus_dir),
        "sidecar": sidecar,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_id": uuid.uuid4().hex,  # unique, where built_at repeats within a second
        "documents": report.documents,
        "paragraphs": report.paragraphs,
        "ocr_files": len(report.scanned),  # files read by OCR: searches may suggest fuzzy mode
        "files": files,
    }
