"""Build and update the index, safely.

Layout of an index folder:

    index/
      CURRENT            name of the live generation (replaced atomically)
      lock               held (a POSIX lock) by the indexer that is writing
      g-000001/          a complete Whoosh index, a `.sadata` file beside each of its
                         segments (texts and channels: sidecar.py) and searchapp.json
                         (settings, dictionary, file report)
      g-000002.tmp/      a generation being written; never read

A run writes a new generation beside the live one (an incremental run starts from
hard links to the live generation's files, which Whoosh never rewrites in place)
and switches CURRENT only once the new one is committed. A reader therefore never
sees a half-written index, and an indexer killed at any moment leaves the previous
generation live; the next run removes the leftovers.
"""

from __future__ import annotations

import fcntl
import json
import logging
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import IndexWriter

from .. import fields as F
from ..analysis import (
    ANALYSIS_VERSION,
    SEGMENTER,
    exit_with_parent,
    get_segmenter,
    load_dictionary,
    mine_slogans,
    segmenter_loaded,
)
from ..documents import (
    Document,
    Entries,
    FileReport,
    entries_by_file,
    file_entries,
    iter_corpus_files,
    load_file,
    load_sidecar,
)
from ..errors import IndexIncompatible, IndexLocked, IndexMissing
from ..indexing import (
    OCR_CACHE,
    IndexReport,
    Progress,
    can_keep,
    can_update,
    current_mtimes,
    dictionary_terms,
    make_meta,
    paragraph_fields,
    quick_hash,
    report_fields,
    sort_key,
)
from ..ocr import Ocr
from .schema import WHOOSH_FIELDS, make_schema
from .sidecar import Paragraph, SegmentFile, file_name, open_segment, write_segment
from .whoosh_io import load_leaves

log = logging.getLogger(__name__)

META_NAME = "searchapp.json"
CURRENT = "CURRENT"
LOCK = "lock"

SMALL_UPDATE = 8 * 2**20  # changed bytes below which an update uses one process
# paragraphs a Whoosh writer process puts in one segment: writing a segment's file holds
# all its (gram, paragraph) pairs in memory, so a segment's size, not the corpus's,
# bounds a segment worker's memory (200 MB corpus: 1.65 GB at the largest, with what
# the worker inherits from the parent; 3.47 GB with two uncapped segments)
SEGMENT_PARAGRAPHS = 64_000
# documents the parallel writer deals to one process at a time: a report's paragraphs,
# and the pieces of a cut one, can so be written into different segments (blocks.py)
WRITER_BATCH = 200

# --- locations ------------------------------------------------------------------------------


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, or None when no index has been built."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    path = index_dir / name
    return path if name and path.is_dir() else None


def read_meta(generation: Path) -> dict[str, Any]:
    return json.loads((generation / META_NAME).read_text(encoding="utf-8"))


def open_index(index_dir: Path) -> tuple[whoosh_index.Index, dict[str, Any]]:
    """Open the live generation; refuse an index built with other analysis settings."""
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissing(
            f"{index_dir} 中还没有索引", hint=f"先建立索引：searchapp index --index {index_dir}"
        )
    return open_generation(generation, index_dir)


def open_generation(
    generation: Path, index_dir: Path | None = None
) -> tuple[whoosh_index.Index, dict[str, Any]]:
    """Open one generation folder; refuse one built with other analysis settings."""
    index_dir = index_dir or generation.parent
    meta = read_meta(generation)
    if meta.get("analysis_version") != ANALYSIS_VERSION or meta.get("segmenter") != SEGMENTER:
        raise IndexIncompatible(
            f"{index_dir} 中的索引由另一版本的 searchapp 建立"
            f"（分析版本 {meta.get('analysis_version')}，{meta.get('segmenter')}），"
            f"本版本需要分析版本 {ANALYSIS_VERSION}，{SEGMENTER}",
            hint=f"请重建索引：searchapp index --rebuild --index {index_dir}",
        )
    # Without mmap, Whoosh reads the files as it needs them; with it, every reader
    # copies the whole postings file into memory (~150 ms and the index's size each).
    storage = FileStorage(str(generation), supports_mmap=False, readonly=True)
    ix = storage.open_index()
    with ix.reader() as reader:
        for leaf in load_leaves(reader):  # every segment's exact channel is there and whole
            open_segment(leaf.folder, leaf.segment_id)
    return ix, meta


# --- locking --------------------------------------------------------------------------------


@contextmanager
def index_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock; the OS releases it if the process dies."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = str((index_dir / LOCK).resolve())
    with _held_guard:
        if path in _held_locks:  # POSIX locks do not exclude the process holding them
            raise IndexLocked(f"{index_dir} 的索引正在被本进程写入")
        _held_locks.add(path)
    try:
        with _locked_file(index_dir):
            yield
    finally:
        with _held_guard:
            _held_locks.discard(path)


_held_locks: set[str] = set()
_held_guard = threading.Lock()


@contextmanager
def _locked_file(index_dir: Path) -> Iterator[None]:
    with (index_dir / LOCK).open("a+") as fh:
        try:
            # a POSIX record lock: held by this process only (not by forked workers)
            # and released by the OS when the process dies, however it dies
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise IndexLocked(
                f"{index_dir} 的索引正在被另一个索引进程（{holder}）写入",
                hint="请等它结束；被终止的索引进程会自动释放锁",
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.lockf(fh, fcntl.LOCK_UN)


# --- building -------------------------------------------------------------------------------


def write_sidecars(
    target: Path,
    loaded: list[tuple[FileReport, list[Document]]],
    words: tuple[str, ...],
    previous: Path | None = None,
    procs: int = 1,
) -> None:
    """Write the file of every segment of `target` that has none yet (sidecar.py).

    Segments carried over from the previous generation keep their (hard-linked) files.
    A new segment's paragraphs are found by their sort keys: among the files just read,
    or, for a segment Whoosh merged from older ones, in the previous generation's files.
    Segments are written by up to `procs` processes at a time (jieba runs there).
    """
    new: dict[str, Paragraph] = {}
    for file_report, docs in loaded:
        for doc in docs:
            report = report_fields(doc, file_report.content_hash)
            new.update(
                (
                    sort_key(doc, p),
                    Paragraph(
                        p.text, report, p.para_id, p.ordinal, p.is_heading, p.piece, p.pieces
                    ),
                )
                for p in doc.paragraphs
            )
    older: dict[str, tuple[SegmentFile, int]] | None = None
    jobs: list[tuple[Path, list[Paragraph], tuple[str, ...]]] = []
    ix = whoosh_index.open_dir(str(target))
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            path = target / file_name(leaf.segment().segment_id())
            if path.exists():
                continue
            paragraphs = []
            for key in leaf.column_reader(F.SORT_KEY):
                paragraph = new.get(key)
                if paragraph is None:
                    if older is None:
                        older = previous_paragraphs(previous)
                    segment, old_doc = older[key]
                    paragraph = segment.paragraph(old_doc)
                paragraphs.append(paragraph)
            jobs.append((path, paragraphs, words))
    ix.close()
    run_parallel(write_segment, jobs, procs)


def load_files(
    paths: list[Path],
    corpus_dir: Path,
    sidecar: dict[str, dict[str, object]],
    procs: int,
    ocr: Ocr | None = None,
) -> Iterator[tuple[Path, tuple[FileReport, list[Document]]]]:
    """Read files into documents (`documents.load_file`), in order, in up to `procs`
    forked processes (reading, parsing and placing cost ~0.6 s a MB of one core)."""
    if (
        procs <= 1
        or len(paths) < 2 * procs
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        for path in paths:
            yield path, load_file(path, corpus_dir, sidecar, ocr)
        return
    # inherited by the forked workers
    _loading.update(corpus_dir=corpus_dir, sidecar=sidecar, ocr=ocr)
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        yield from zip(paths, pool.imap(load_one, paths, chunksize=4), strict=True)


_loading: dict[str, Any] = {}


def load_one(path: Path) -> tuple[FileReport, list[Document]]:
    exit_with_parent()
    return load_file(path, _loading["corpus_dir"], _loading["sidecar"], _loading["ocr"])


def in_worker(func: Callable[..., None], jobs: list[tuple[Any, ...]]) -> None:
    exit_with_parent()  # a killed indexer leaves no worker behind
    for job in jobs:
        func(*job)


def run_parallel(func: Callable[..., None], jobs: list[tuple[Any, ...]], procs: int) -> None:
    """func(*job) for every job, in up to `procs` forked processes that each take every
    procs-th job in turn (their arguments are inherited, not pickled, and what a worker
    learns, such as jieba's cut memo, serves its later jobs); the first failure is
    raised once all have ended."""
    if procs <= 1 or len(jobs) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for job in jobs:
            func(*job)
        return
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=in_worker, args=(func, jobs[k::procs]), daemon=True)
        for k in range(min(procs, len(jobs)))
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    failed = [w.exitcode for w in workers if w.exitcode != 0]
    if failed:
        raise RuntimeError(f"writing the segment files failed in {len(failed)} worker(s)")


def previous_paragraphs(generation: Path | None) -> dict[str, tuple[SegmentFile, int]]:
    """Where each live paragraph of a generation keeps its text and report."""
    found: dict[str, tuple[SegmentFile, int]] = {}
    if generation is None:
        return found
    ix = whoosh_index.open_dir(str(generation))
    with ix.reader() as reader:
        for leaf in load_leaves(reader):
            segment = open_segment(leaf.folder, leaf.segment_id)
            keys = leaf.reader.column_reader(F.SORT_KEY)
            for doc in leaf.live_docs():
                found[keys[doc]] = (segment, doc)
    ix.close()
    return found


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    user_dict: Path | None = None,
    rebuild: bool = False,
    procs: int = 1,
    progress: Progress | None = None,
    ocr: Ocr | None = None,
    corrections: Entries | None = None,
) -> IndexReport:
    """Index a corpus folder: incrementally when a compatible index exists, else in full.

    Scanned pages are read by `ocr`, by default cached in index_dir/ocr-cache (which
    outlives every generation, so no file is OCR'd twice). `corrections` are metadata
    entries made in the browser (office/overrides.py), applied after the sidecar's.
    """
    started = time.perf_counter()
    corpus_dir = corpus_dir.resolve()
    index_dir = index_dir.resolve()
    ocr = ocr or Ocr(cache_dir=index_dir / OCR_CACHE)
    report = IndexReport(str(corpus_dir), str(index_dir))
    with index_lock(index_dir):
        remove_leftovers(index_dir)
        live = current_generation(index_dir)
        meta = read_meta(live) if live else None
        sidecar = load_sidecar(corpus_dir) | (corrections or {})
        if meta and not rebuild and can_update(meta, corpus_dir, user_dict):
            assert live is not None
            update_generation(
                live, meta, corpus_dir, index_dir, report, procs, progress, ocr, sidecar
            )
        else:
            full_generation(corpus_dir, index_dir, user_dict, report, procs, progress, ocr, sidecar)
        remove_old_generations(index_dir)
    report.seconds = time.perf_counter() - started
    return report


def full_generation(
    corpus_dir: Path,
    index_dir: Path,
    user_dict: Path | None,
    report: IndexReport,
    procs: int,
    progress: Progress | None,
    ocr: Ocr,
    sidecar: Entries,
) -> None:
    """Read every file, mine the slogans, and write a fresh generation."""
    report.mode = "full"
    clock = time.perf_counter()
    paths = iter_corpus_files(corpus_dir)
    loaded: list[tuple[FileReport, list[Document]]] = []
    with ThreadPoolExecutor(1) as background:
        # a first build in this process loads jieba's dictionary while workers read files
        base = None if segmenter_loaded() else background.submit(load_dictionary)
        files = load_files(paths, corpus_dir, sidecar, procs, ocr)
        for n, (path, file_loaded) in enumerate(files, 1):
            loaded.append(file_loaded)
            report.bytes_read += path.stat().st_size
            if progress:
                progress(loaded[-1][0].path, n, len(paths) * 2)
    clock = log_phase("read and placed %d files", len(paths), since=clock)
    mined = mine_slogans(p.text for _, docs in loaded for d in docs for p in d.paragraphs)
    words = dictionary_terms(user_dict, mined)
    clock = log_phase("mined %d slogans", len(mined), since=clock)
    target = new_generation_dir(index_dir)
    ix = whoosh_index.create_in(str(target), make_schema())
    writer = add_files(ix, make_writer(ix, procs), loaded, report, procs, progress, len(paths))
    writer.commit(merge=False)
    clock = log_phase("wrote the Whoosh segments", since=clock)
    dictionary = tuple(sorted(set(words)))
    # made here once, and inherited by the worker processes
    get_segmenter(dictionary, base=base.result() if base else None)
    write_sidecars(target, loaded, dictionary, procs=procs)
    log_phase("wrote the segment files", since=clock)
    meta = make_meta(corpus_dir, user_dict, words, mined, report, sidecar)
    publish(target, index_dir, meta, report)


def log_phase(message: str, *args: object, since: float) -> float:
    """Log how long a build phase took; the time it ended."""
    now = time.perf_counter()
    log.info(message + " in %.1f s", *args, now - since)
    return now


def update_generation(
    live: Path,
    meta: dict[str, Any],
    corpus_dir: Path,
    index_dir: Path,
    report: IndexReport,
    procs: int,
    progress: Progress | None,
    ocr: Ocr,
    sidecar: Entries,
) -> None:
    """Re-index only the files whose content hash or metadata entries changed, in a copy
    of the live index."""
    old_files: dict[str, dict[str, Any]] = {f["path"]: f for f in meta["files"]}
    old_entries, new_entries = entries_by_file(meta.get("sidecar") or {}), entries_by_file(sidecar)
    paths = iter_corpus_files(corpus_dir)
    current = {p.relative_to(corpus_dir).as_posix(): p for p in paths}
    changed: list[tuple[FileReport, list[Document]]] = []
    kept: list[FileReport] = []
    for n, (rel, path) in enumerate(current.items(), start=1):
        old = old_files.get(rel)
        digest = quick_hash(path, old) if old else ""
        same_entries = file_entries(old_entries, rel, digest) == file_entries(
            new_entries, rel, digest
        )
        if old and same_entries and can_keep(old, digest):
            kept.append(FileReport(**{k: v for k, v in old.items() if k != "mtime"}))
        else:
            changed.append(load_file(path, corpus_dir, sidecar, ocr))
            report.bytes_read += path.stat().st_size
            (report.updated if old else report.added).append(rel)
        if progress:
            progress(rel, n, len(current))
    report.removed = sorted(set(old_files) - set(current))
    if not changed and not report.removed:
        report.mode = "unchanged"
        report.generation = live.name
        moved = {r["path"]: r for r in current_mtimes(corpus_dir, meta["files"])}
        if moved:  # only the build report changes: the index is the same
            meta["files"] = [moved.get(f["path"], f) for f in meta["files"]]
            write_atomic(live / META_NAME, json.dumps(meta, ensure_ascii=False, indent=1))
        report.files = sorted(kept, key=lambda f: f.path)
        report.documents = meta["documents"]
        report.paragraphs = meta["paragraphs"]
        return
    report.mode = "incremental"
    target = new_generation_dir(index_dir)
    for item in live.iterdir():
        if item.name != META_NAME:
            os.link(item, target / item.name)
    ix = whoosh_index.open_dir(str(target))
    words = tuple(meta["words"])
    get_segmenter(words)
    writers = procs if report.bytes_read > SMALL_UPDATE else 1
    writer = make_writer(ix, writers)
    for rel in report.removed + report.updated:
        writer.delete_by_term(F.SOURCE, rel)
    writer = add_files(ix, writer, changed, report, writers)
    writer.commit()  # Whoosh merges the small segments it finds
    write_sidecars(target, changed, words, live, procs)
    report.files.extend(kept)
    report.files.sort(key=lambda f: f.path)
    report.documents = sum(f.documents for f in report.files)
    report.paragraphs = sum(f.paragraphs for f in report.files)
    new_meta = make_meta(corpus_dir, None, list(words), meta.get("mined", []), report, sidecar)
    new_meta["base_dictionary"] = meta["base_dictionary"]
    publish(target, index_dir, new_meta, report)


def add_files(
    ix: whoosh_index.Index,
    writer: IndexWriter,
    loaded: list[tuple[FileReport, list[Document]]],
    report: IndexReport,
    procs: int,
    progress: Progress | None = None,
    done: int = 0,
) -> IndexWriter:
    """Add the files' paragraphs through `writer`, committing its segments (unmerged) and
    going on with a new writer whenever each writer process holds SEGMENT_PARAGRAPHS;
    the writer to commit last."""
    held = report.paragraphs
    for n, (file_report, docs) in enumerate(loaded, start=1):
        add_file(writer, file_report, docs, report)
        if progress:
            progress(file_report.path, done + n, done + len(loaded))
        if report.paragraphs - held >= SEGMENT_PARAGRAPHS * max(1, procs) and n < len(loaded):
            writer.commit(merge=False)
            writer = make_writer(ix, procs)
            held = report.paragraphs
    return writer


def make_writer(ix: whoosh_index.Index, procs: int) -> IndexWriter:
    limit = pool_limit_mb(procs)
    if procs > 1:
        return ix.writer(procs=procs, multisegment=True, limitmb=limit, batchsize=WRITER_BATCH)
    return ix.writer(limitmb=limit)


def pool_limit_mb(procs: int, floor: int = 256, ceiling: int = 2048) -> int:
    """How much postings each writer process keeps in memory before spilling a sorted run.

    Spilled runs are merged back in Python at the end (a 44 MB corpus builds 21% faster
    at 2048 MB than at 256 MB), so take what the machine has: half the available
    memory shared among the writers and the parent, between `floor` and `ceiling`.
    """
    available = available_memory_mb()
    if available is None:
        return floor
    return max(floor, min(ceiling, available // (2 * (procs + 1))))


def available_memory_mb() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (OSError, ValueError, AttributeError):
        return None


def add_file(
    writer: IndexWriter, file_report: FileReport, docs: list[Document], report: IndexReport
) -> None:
    report.files.append(file_report)
    for doc in docs:
        report.documents += 1
        for fields in paragraph_fields(doc, file_report.content_hash):
            # the segment's own file holds the text and the report's fields
            writer.add_document(**{name: fields[name] for name in WHOOSH_FIELDS})
            report.paragraphs += 1


def new_generation_dir(index_dir: Path) -> Path:
    numbers = [int(p.name[2:8]) for p in index_dir.glob("g-[0-9]*") if p.name[2:8].isdigit()]
    name = f"g-{max(numbers, default=0) + 1:06d}.tmp"
    target = index_dir / name
    target.mkdir(parents=True)
    return target


def publish(target: Path, index_dir: Path, meta: dict[str, Any], report: IndexReport) -> None:
    """Make a written generation live: write its meta, rename it, switch CURRENT atomically."""
    write_atomic(target / META_NAME, json.dumps(meta, ensure_ascii=False, indent=1))
    final = target.with_name(target.name.removesuffix(".tmp"))
    target.rename(final)
    fsync_dir(index_dir)
    write_atomic(index_dir / CURRENT, final.name + "\n")
    report.generation = final.name


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_leftovers(index_dir: Path) -> None:
    """Remove generations that a killed indexer left half-written."""
    for path in index_dir.glob("g-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def remove_old_generations(index_dir: Path, keep_seconds: float = 60.0) -> None:
    """Remove generations other than the live one once no fresh reader can still want them.

    A server that opened the previous generation a moment ago may still be reading
    it, so a generation is kept for `keep_seconds` after it stopped being live.
    """
    live = current_generation(index_dir)
    now = time.time()
    for path in index_dir.glob("g-[0-9]*"):
        if path == live or path.name.endswith(".tmp") or not path.is_dir():
            continue
        retired = path / "RETIRED"
        if not retired.exists():
            retired.write_text(str(now))
        elif now - float(retired.read_text() or 0) > keep_seconds:
            shutil.rmtree(path, ignore_errors=True)
