"""Build and update a SolrCloud collection from a corpus folder, incrementally.

A run:

1. uploads the configset if the cluster lacks it and creates the collection if missing;
2. commits whatever an interrupted earlier run left uncommitted, so the collection shows
   everything it holds;
3. compares every file with the collection: a file is kept when the meta document (written
   by the last complete run) lists it with its current content hash and the collection
   holds exactly that many paragraphs of it, all with that hash; every other file is read
   again (its old paragraphs deleted by source first), and paragraphs of files that are
   gone are deleted;
4. reads and segments the files in worker processes (a window of files at a time, so
   memory stays bounded), feeds the paragraphs in JSON batches, writes the meta document,
   and commits once.

Keys are unique ("<doc_id>/<para_id>", the uniqueKey), so a paragraph sent twice
overwrites itself: an interrupted run leaves no duplicate, and the next run re-reads
every file it did not confirm. doc_id and para_id come from documents.py, as in the
embedded index, so permalinks work on both backends.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import fields as F
from ..analysis import QUOTED, get_segmenter, mine_slogans
from ..cluster import (
    CONFIGSET_DIR,
    create_collection,
    list_collections,
    list_configsets,
    redact_url,
    upload_configset,
)
from ..documents import (
    Entries,
    FileReport,
    entries_by_file,
    file_entries,
    iter_corpus_files,
    load_file,
    load_sidecar,
)
from ..indexing import (
    IndexReport,
    Progress,
    base_dictionary,
    can_keep,
    can_update,
    dictionary_terms,
    make_meta,
    paragraph_fields,
    quick_hash,
)
from ..ocr import Ocr
from .client import SolrClient
from .tokens import META_JSON, META_KEY, PARA, block_documents, meta_document, solr_document

log = logging.getLogger(__name__)

CONFIGSET = "searchapp-2"  # bump the number when searchapp/solr/configset changes incompatibly
BATCH_DOCS = 500  # paragraphs per update request
BATCH_BYTES = 4 * 2**20  # or fewer, when the paragraphs are long
WINDOW = 4  # files handed to each worker process at a time


def ensure_collection(client: SolrClient, solr_url: str, shards: int, replicas: int) -> bool:
    """Upload the configset and create the collection when missing; True if created."""
    if client.collection in list_collections(solr_url):
        return False
    if CONFIGSET not in list_configsets(solr_url):
        upload_configset(solr_url, CONFIGSET, CONFIGSET_DIR)
    create_collection(solr_url, client.collection, CONFIGSET, shards, replicas)
    log.info("created collection %s (%d×%d)", client.collection, shards, replicas)
    return True


def read_meta(client: SolrClient) -> tuple[dict[str, Any], list[str]] | None:
    """The collection's meta document (build report, dictionary words), or None."""
    found = client.get([("id", META_KEY), ("fl", META_JSON)]).get("doc")
    if not found:
        return None
    data = json.loads(found[META_JSON])
    return data["meta"], list(data["words"])


def held_files(client: SolrClient) -> dict[str, dict[str, int]]:
    """What the collection holds: source → {file hash: paragraphs}."""
    facet = {
        "s": {
            "type": "terms",
            "field": F.SOURCE,
            "limit": -1,
            "facet": {"h": {"type": "terms", "field": F.FILE_HASH, "limit": -1}},
        }
    }
    found = client.select(
        [("q", f"{{!term f=kind}}{PARA}"), ("rows", "0"), ("json.facet", json.dumps(facet))]
    )
    held: dict[str, dict[str, int]] = {}
    for bucket in found.get("facets", {}).get("s", {}).get("buckets", []):
        held[bucket["val"]] = {h["val"]: int(h["count"]) for h in bucket["h"]["buckets"]}
    return held


# --- worker processes -------------------------------------------------------------------------

_job: dict[str, Any] = {}  # a worker process's corpus folder, sidecar and dictionary


def start_worker(
    corpus_dir: Path, sidecar: dict[str, Any], words: tuple[str, ...], ocr: Ocr
) -> None:
    _job.update(corpus_dir=corpus_dir, sidecar=sidecar, words=words, ocr=ocr)


def quotations(path: Path) -> list[str]:
    """A file's quotations re-wrapped in quotes (what slogan mining reads), nothing else."""
    _, docs = load_file(path, _job["corpus_dir"], _job["sidecar"], _job["ocr"])
    return [f"“{q}”" for d in docs for p in d.paragraphs for q in QUOTED.findall(p.text)]


def read_file(path: Path) -> tuple[FileReport, list[dict[str, Any]]]:
    """A file's report and its paragraphs as Solr documents (segmented here)."""
    report, docs = load_file(path, _job["corpus_dir"], _job["sidecar"], _job["ocr"])
    out = [
        solr_document(fields, _job["words"])
        for doc in docs
        for fields in paragraph_fields(doc, report.content_hash)
    ]
    return report, out + block_documents(out)


def run_workers(func: Any, paths: list[Path], procs: int, setup: tuple[Any, ...]) -> Iterator[Any]:
    """func(path) for every path, in order, in up to `procs` forked processes, a window of
    files at a time (results never pile up beyond a window)."""
    start_worker(*setup)
    if procs <= 1 or len(paths) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for path in paths:
            yield func(path)
        return
    context = multiprocessing.get_context("fork")
    window = procs * WINDOW
    with context.Pool(procs, initializer=start_worker, initargs=setup) as pool:
        for i in range(0, len(paths), window):
            yield from pool.imap(func, paths[i : i + window])


# --- a run --------------------------------------------------------------------------------------


def index_solr(
    corpus_dir: Path,
    solr_url: str,
    collection: str,
    *,
    shards: int = 1,
    replicas: int = 1,
    user_dict: Path | None = None,
    procs: int = 2,
    rebuild: bool = False,
    progress: Progress | None = None,
    timeout: float = 300.0,
    ocr: Ocr | None = None,
    corrections: Entries | None = None,
) -> IndexReport:
    """Index a corpus folder into a Solr collection: incrementally when the collection was
    built from this folder with the same analysis settings, else in full. Scanned pages
    are read by `ocr` (pass one with a cache folder, or every full build reads them again).
    `corrections` are metadata entries made in the browser, applied after the sidecar's.
    """
    ocr = ocr or Ocr()
    started = time.perf_counter()
    corpus_dir = corpus_dir.resolve()
    client = SolrClient(solr_url, collection, timeout)
    report = IndexReport(str(corpus_dir), f"{redact_url(solr_url).rstrip('/')}/{collection}")
    ensure_collection(client, solr_url, shards, replicas)
    client.discover_nodes()
    client.update(b'{"commit": {}}')  # an interrupted run's leftovers become visible
    found = read_meta(client)
    sidecar = load_sidecar(corpus_dir) | (corrections or {})
    paths = iter_corpus_files(corpus_dir)
    if found and not rebuild and can_update(found[0], corpus_dir, user_dict):
        meta, words = found
        mined = list(meta.get("mined", []))
        base = meta["base_dictionary"]
        report.mode = "incremental"
    else:
        meta, words = {}, []
        report.mode = "full"
        setup = (corpus_dir, sidecar, (), ocr)
        texts = (q for quotes in run_workers(quotations, paths, procs, setup) for q in quotes)
        mined = mine_slogans(texts)
        words = dictionary_terms(user_dict, mined)
        base = base_dictionary(user_dict)
        client.update(json.dumps({"delete": {"query": "*:*"}}).encode())
    if report.mode == "full":
        changed, kept = paths, []
    else:
        changed, kept = plan_files(client, meta, corpus_dir, paths, sidecar, report)
    if report.mode == "incremental" and not changed and not report.removed:
        report.mode = "unchanged"
        report.files = kept
        report.documents = meta.get("documents", 0)
        report.paragraphs = meta.get("paragraphs", 0)
        report.seconds = time.perf_counter() - started
        return report
    for rel in report.removed + report.updated:
        command = {"delete": {"query": f"{{!term f={F.SOURCE}}}{rel}"}}
        client.update(json.dumps(command, ensure_ascii=False).encode("utf-8"))
    get_segmenter(tuple(sorted(set(words))))  # load jieba once; forked workers inherit it
    setup = (corpus_dir, sidecar, tuple(sorted(set(words))), ocr)
    feed_files(client, changed, corpus_dir, setup, procs, report, progress)
    report.files.extend(kept)
    report.files.sort(key=lambda f: f.path)
    report.documents = sum(f.documents for f in report.files)
    report.paragraphs = sum(f.paragraphs for f in report.files)
    new_meta = make_meta(corpus_dir, user_dict, words, mined, report, sidecar)
    new_meta.update(base_dictionary=base, backend="solr", collection=collection)
    body = json.dumps([meta_document(new_meta, words)], ensure_ascii=False).encode("utf-8")
    client.update(body)
    client.update(b'{"commit": {}}', [("waitSearcher", "true")])
    report.generation = new_meta["built_at"]
    report.seconds = time.perf_counter() - started
    return report


def plan_files(
    client: SolrClient,
    meta: dict[str, Any],
    corpus_dir: Path,
    paths: list[Path],
    sidecar: dict[str, Any],
    report: IndexReport,
) -> tuple[list[Path], list[FileReport]]:
    """Which files to read again, and the reports of those kept as they are."""
    old_files = {f["path"]: f for f in meta.get("files", [])}
    old_entries, new_entries = entries_by_file(meta.get("sidecar") or {}), entries_by_file(sidecar)
    held = held_files(client)
    changed: list[Path] = []
    kept: list[FileReport] = []
    current = set()
    for path in paths:
        rel = path.relative_to(corpus_dir).as_posix()
        current.add(rel)
        old = old_files.get(rel)
        digest = quick_hash(path, old) if old else ""
        if old and file_entries(old_entries, rel, digest) == file_entries(new_entries, rel, digest):
            expected = {digest: old["paragraphs"]} if old["paragraphs"] else {}
            if can_keep(old, digest) and held.get(rel, {}) == expected:
                kept.append(FileReport(**{k: v for k, v in old.items() if k != "mtime"}))
                continue
        changed.append(path)
        if rel in held or old:
            report.updated.append(rel)
        else:
            report.added.append(rel)
    report.removed = sorted((set(old_files) | set(held)) - current)
    return changed, kept


def feed_files(
    client: SolrClient,
    paths: list[Path],
    corpus_dir: Path,
    setup: tuple[Any, ...],
    procs: int,
    report: IndexReport,
    progress: Progress | None,
) -> None:
    """Read, segment and send the files' paragraphs in batches (`setup`: what
    start_worker takes)."""
    batch: list[bytes] = []
    size = 0
    for n, (file_report, docs) in enumerate(run_workers(read_file, paths, procs, setup), 1):
        report.files.append(file_report)
        report.bytes_read += (corpus_dir / file_report.path).stat().st_size
        for doc in docs:
            encoded = json.dumps(doc, ensure_ascii=False).encode("utf-8")
            batch.append(encoded)
            size += len(encoded)
            if len(batch) >= BATCH_DOCS or size >= BATCH_BYTES:
                send(client, batch)
                batch, size = [], 0
        if progress:
            progress(file_report.path, n, len(paths))
    if batch:
        send(client, batch)


def send(client: SolrClient, batch: list[bytes]) -> None:
    client.update(b"[" + b",".join(batch) + b"]")
