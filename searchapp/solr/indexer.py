"""Build and update a SolrCloud collection from a corpus folder, incrementally.

A run:

1. finds the collection the name's alias points at, and deletes what an interrupted full
   build left behind;
2. commits whatever an interrupted earlier run left uncommitted, so the collection shows
   everything it holds;
3. unless a full build is due, compares every file with the collection: a file is kept
   when the meta document (written by the last complete run) lists it with its current
   content hash and the collection holds exactly that many paragraphs of it, all with
   that hash; every other file is read again (its old paragraphs deleted by source
   first), and paragraphs of files that are gone are deleted;
4. reads and segments the files in worker processes (a window of files at a time, so
   memory stays bounded), feeds the paragraphs in JSON batches, writes the meta document,
   and commits once.

A full build passes over the files twice, because slogan mining needs every file's
quotations before the first paragraph can be segmented with the mined words; the first
pass keeps each file's parse in a temporary spool (pickled, about the corpus's size on
disk), which the second takes it from, so each file is read and parsed once. A
collection made with another configset version (the meta's `configset`) takes a full
build: its schema lacks the fields sent now (SAME_SCHEMA lists the configsets that only
changed solrconfig.xml).

Keys are unique ("<doc_id>/<para_id>", the uniqueKey), so a paragraph sent twice
overwrites itself: an interrupted run leaves no duplicate, and the next run re-reads
every file it did not confirm.

The name searches use is an alias. A full build (the first, `--rebuild`, or one whose
analysis settings changed) goes into a collection of its own, `<name>__b<time>`, and
the alias is switched to it only once it is complete and committed; the collection it
replaces is kept until the next run of the name, which deletes it first: searches
already sent to it finish, however long they take. Searches during a rebuild therefore
see the old collection, whole, until they see the new one, whole. A full build that fails or is
interrupted deletes its collection; one killed outright leaves it behind, and the next
run deletes it. Incremental runs update the live collection through the alias. A
collection of the name itself (built before aliases) is replaced by the first full
build: deleted just before the alias is made, the one moment searches fail.

doc_id and para_id come from documents.py, as in the embedded index, so permalinks work
on both backends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import pickle
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from .. import fields as F
from ..analysis import (
    QUOTED,
    Dictionary,
    get_segmenter,
    load_dictionary,
    mine_slogans,
    segmenter_loaded,
)
from ..cluster import (
    CONFIGSET_DIR,
    create_alias,
    create_collection,
    delete_collection,
    list_aliases,
    list_collections,
    list_configsets,
    redact_url,
    upload_configset,
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
from ..errors import SearchAppError
from ..indexing import (
    IndexReport,
    Progress,
    base_dictionary,
    can_keep,
    can_update,
    current_mtimes,
    dictionary_terms,
    make_meta,
    paragraph_fields,
    quick_hash,
)
from ..ocr import Ocr
from .client import SolrClient
from .lock import index_lock
from .tokens import (
    FILE_DOCS,
    META_JSON,
    META_KEY,
    PARA,
    block_documents,
    file_document,
    file_key,
    file_reports,
    meta_document,
    reports_are_documents,
    solr_document,
)

log = logging.getLogger(__name__)

CONFIGSET = "searchapp-5"  # bump the number when searchapp/solr/configset changes
SAME_SCHEMA = {"searchapp-4"}  # older configsets whose collections take the same documents
BATCH_DOCS = 500  # paragraphs per update request
BATCH_BYTES = 4 * 2**20  # or fewer, when the paragraphs are long
WINDOW = 4  # files handed to each worker process at a time
IN_FLIGHT = 3  # update requests sent at once
FILE_BATCH = 2_000  # file reports per update request


BUILD_MARK = "__b"  # a full build's collection: <name>__b<milliseconds since 1970>


def live_collection(solr_url: str, name: str) -> str | None:
    """The collection that searches of `name` reach: the alias's, the collection of that
    name itself (built before aliases), or None."""
    aliases = list_aliases(solr_url)
    if name in aliases:
        return aliases[name]
    return name if name in list_collections(solr_url) else None


def build_name(name: str) -> str:
    """A new full build's collection name for `name`."""
    return f"{name}{BUILD_MARK}{time.time_ns() // 1_000_000}"


def new_build(solr_url: str, build: str, shards: int, replicas: int) -> None:
    """Create the collection of a full build (the configset uploaded if missing)."""
    if CONFIGSET not in list_configsets(solr_url):
        upload_configset(solr_url, CONFIGSET, CONFIGSET_DIR)
    create_collection(solr_url, build, CONFIGSET, shards, replicas)
    log.info("created collection %s (%d×%d) for a full build", build, shards, replicas)


def remove_leftovers(solr_url: str, name: str, live: str | None) -> None:
    """Delete the collections of full builds of `name` that are not live: the one the last
    full build replaced, and any that an interrupted build left."""
    for other in list_collections(solr_url):
        if other.startswith(name + BUILD_MARK) and other != live:
            log.info("deleting %s, a replaced or interrupted full build of %s", other, name)
            delete_collection(solr_url, other)


def go_live(solr_url: str, name: str, target: SolrClient, old: str | None) -> None:
    """Point the alias `name` at a complete build (`target`) and merge its segments. The
    collection it replaces stays until the next run of `name` (`remove_leftovers`):
    searches already sent to it finish however long they take, and the alias can be
    pointed back at it."""
    if old == name:  # a collection of the alias's name: it must go first
        delete_collection(solr_url, name)
    create_alias(solr_url, name, target.collection)
    merge_segments(target)


def drop_build(solr_url: str, build: str) -> None:
    """Delete a build that is not live (best effort: the next run deletes leftovers)."""
    try:
        delete_collection(solr_url, build)
    except SearchAppError as exc:
        log.warning("could not delete the collection %s: %s", build, exc)


def read_meta(client: SolrClient) -> tuple[dict[str, Any], list[str]] | None:
    """The collection's build report (with every file's, under "files") and dictionary
    words, or None."""
    found = client.get([("id", META_KEY), ("fl", META_JSON)]).get("doc")
    if not found:
        return None
    data = json.loads(found[META_JSON])
    meta = data["meta"]
    meta["files"] = file_reports(client, meta)
    return meta, list(data["words"])


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
    corpus_dir: Path, sidecar: dict[str, Any], words: tuple[str, ...], ocr: Ocr, spool: Path | None
) -> None:
    _job.update(corpus_dir=corpus_dir, sidecar=sidecar, words=words, ocr=ocr, spool=spool)


def spooled(path: Path) -> Path | None:
    """Where the first pass of a full build keeps a file's parse (None: no spool)."""
    spool = _job.get("spool")
    if spool is None:
        return None
    return spool / hashlib.sha1(str(path).encode("utf-8")).hexdigest()


def quotations(path: Path) -> list[str]:
    """A file's quotations re-wrapped in quotes (what slogan mining reads), nothing else;
    its parse is kept in the spool for the second pass."""
    loaded = load_file(path, _job["corpus_dir"], _job["sidecar"], _job["ocr"])
    spool = spooled(path)
    if spool is not None:
        spool.write_bytes(pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL))
    return [f"“{q}”" for d in loaded[1] for p in d.paragraphs for q in QUOTED.findall(p.text)]


def parsed(path: Path) -> tuple[FileReport, list[Document]]:
    """A file's report and documents: from the spool when the first pass left them there
    (taken out of it), else read."""
    spool = spooled(path)
    if spool is not None and spool.exists():
        loaded = pickle.loads(spool.read_bytes())
        spool.unlink()
        return loaded  # type: ignore[no-any-return]
    return load_file(path, _job["corpus_dir"], _job["sidecar"], _job["ocr"])


def read_file(path: Path) -> tuple[FileReport, list[bytes]]:
    """A file's report and its paragraphs as Solr documents in JSON (segmented and encoded
    here, in the worker: the parent only batches bytes)."""
    report, docs = parsed(path)
    out = [
        solr_document(fields, _job["words"])
        for doc in docs
        for fields in paragraph_fields(doc, report.content_hash)
    ]
    return report, [
        json.dumps(d, ensure_ascii=False).encode("utf-8") for d in out + block_documents(out)
    ]


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


@dataclass
class Run:
    """What one indexing run reads with and reports into."""

    corpus_dir: Path
    sidecar: dict[str, Any]
    user_dict: Path | None
    procs: int
    ocr: Ocr
    progress: Progress | None
    report: IndexReport
    started: float = field(default_factory=time.perf_counter)
    spool: Path | None = None  # a full build's parses, between its two passes over the files

    def worker_setup(self, words: Sequence[str]) -> tuple[Any, ...]:
        """What start_worker takes."""
        return (self.corpus_dir, self.sidecar, tuple(sorted(set(words))), self.ocr, self.spool)

    def finished(self) -> IndexReport:
        self.report.seconds = time.perf_counter() - self.started
        return self.report


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
    break_lock: bool = False,
) -> IndexReport:
    """Index a corpus folder into a Solr collection: incrementally when the collection was
    built from this folder with the same analysis settings, else in full into a new
    collection that the alias `collection` is switched to. Scanned pages are read by `ocr`
    (pass one with a cache folder, or every full build reads them again). `corrections`
    are metadata entries made in the browser, applied after the sidecar's. One run at a
    time writes to a name (lock.py; `break_lock` removes a lock first).
    """
    corpus_dir = corpus_dir.resolve()
    report = IndexReport(str(corpus_dir), f"{redact_url(solr_url).rstrip('/')}/{collection}")
    live = live_collection(solr_url, collection)
    # taken before anything is deleted: a second run would remove the first's new build
    with index_lock(SolrClient(solr_url, live, timeout) if live else None, break_lock=break_lock):
        remove_leftovers(solr_url, collection, live)
        sidecar = load_sidecar(corpus_dir) | (corrections or {})
        run = Run(corpus_dir, sidecar, user_dict, procs, ocr or Ocr(), progress, report)
        paths = iter_corpus_files(corpus_dir)
        if live:
            client = SolrClient(solr_url, collection, timeout)
            client.connect()
            client.update(b'{"commit": {}}')  # an interrupted run's leftovers become visible
            found = read_meta(client)
            if found and not rebuild and can_update_collection(found[0], corpus_dir, user_dict):
                return update_collection(client, found, paths, run)
        build = build_name(collection)
        target = SolrClient(solr_url, build, timeout)
        try:
            create = partial(new_build, solr_url, build, shards, replicas)
            full_build(target, collection, paths, run, create)
        except BaseException:
            drop_build(solr_url, build)
            raise
        go_live(solr_url, collection, target, live)  # a failure here keeps the complete build
        return run.finished()


def full_build(
    target: SolrClient, name: str, paths: list[Path], run: Run, create: Callable[[], None]
) -> None:
    """Every file into `target`, a new collection (made by `create`) that searches will
    know as `name`."""
    run.report.mode = "full"
    with tempfile.TemporaryDirectory(prefix="searchapp-spool-") as spool:
        # Slogan mining needs every file's quotations before the first paragraph can be
        # segmented: the first pass keeps each file's parse for the second, and jieba's
        # dictionary loads and the collection is made meanwhile.
        run.spool = Path(spool)
        with ThreadPoolExecutor(2) as background:
            made = background.submit(create)
            base = None if segmenter_loaded() else background.submit(load_dictionary)
            quoted = run_workers(quotations, paths, run.procs, run.worker_setup(()))
            mined = mine_slogans(q for quotes in quoted for q in quotes)
            made.result()
        target.connect()
        words = dictionary_terms(run.user_dict, mined)
        meta = {"mined": mined, "base_dictionary": base_dictionary(run.user_dict)}
        feed(target, paths, [], words, meta, name, run, base and base.result())


def can_update_collection(meta: dict[str, Any], corpus_dir: Path, user_dict: Path | None) -> bool:
    """An incremental run is possible when the analysis settings are the same and the
    collection's schema is this version's (an older one takes other fields: a full build
    makes a new collection, with no outage)."""
    made_with = meta.get("configset")
    return (made_with == CONFIGSET or made_with in SAME_SCHEMA) and can_update(
        meta, corpus_dir, user_dict
    )


def update_collection(
    client: SolrClient, found: tuple[dict[str, Any], list[str]], paths: list[Path], run: Run
) -> IndexReport:
    """An incremental run on the live collection: the files that changed read again."""
    meta, words = found
    report = run.report
    report.mode = "incremental"
    changed, kept = plan_files(client, meta, run.corpus_dir, paths, run.sidecar, report)
    if not changed and not report.removed:
        report.mode = "unchanged"
        report.files = kept
        report.documents = meta.get("documents", 0)
        report.paragraphs = meta.get("paragraphs", 0)
        moved = current_mtimes(run.corpus_dir, meta.get("files", []))
        if moved and reports_are_documents(meta):  # only those reports change
            client.update(encode([file_document(r) for r in moved]))
            client.update(b'{"commit": {}}', [("waitSearcher", "true")])
        return run.finished()
    for rel in report.removed + report.updated:
        client.update(encode({"delete": {"query": f"{{!term f={F.SOURCE}}}{rel}"}}))
    feed(client, changed, kept, words, meta, client.collection, run)
    return run.finished()


def feed(
    client: SolrClient,
    changed: list[Path],
    kept: list[FileReport],
    words: list[str],
    old_meta: dict[str, Any],
    name: str,
    run: Run,
    base: Dictionary | None = None,
) -> None:
    """Send the changed files' paragraphs, then their file reports and the meta document
    (its mined slogans and base dictionary from `old_meta`, `name` the collection as
    searches name it), and commit. `base`: jieba's dictionary, when already loaded."""
    get_segmenter(tuple(sorted(set(words))), base=base)  # once; forked workers inherit it
    report = run.report
    feed_files(client, changed, words, run)
    report.files.extend(kept)
    report.files.sort(key=lambda f: f.path)
    report.documents = sum(f.documents for f in report.files)
    report.paragraphs = sum(f.paragraphs for f in report.files)
    mined = list(old_meta.get("mined", []))
    new_meta = make_meta(run.corpus_dir, run.user_dict, words, mined, report, run.sidecar)
    new_meta.update(
        base_dictionary=old_meta["base_dictionary"],
        backend="solr",
        collection=name,
        configset=CONFIGSET,  # the schema the collection was made with (incremental: the same)
    )
    read = {path.relative_to(run.corpus_dir).as_posix() for path in changed}
    write_file_reports(client, new_meta.pop("files"), read, report.removed, old_meta)
    new_meta["file_reports"] = FILE_DOCS
    client.update(encode([meta_document(new_meta, words)]))
    client.update(b'{"commit": {}}', [("waitSearcher", "true")])
    report.generation = new_meta["built_at"]


def merge_segments(client: SolrClient) -> None:
    """Merge a full build's segments into one a shard, just after it went live (searches
    use the segments as loaded until the merged searcher opens): a bulk load leaves ~17
    segments a shard at 200 MB, and facets and scoring visit each (merged, at 200 MB:
    every hit ~20 % faster, top-10 of 3-/4-char words ~10 ms faster; the merge takes
    ~10 % of the build). It only speeds searches up, so a failure (a timeout on a very
    large shard: Solr goes on merging) is logged and the build stays as it is."""
    try:
        client.update(b'{"optimize": {"maxSegments": 1, "waitSearcher": true}}', tries=1)
    except SearchAppError as exc:
        log.warning("segments of %s not merged: %s", client.collection, exc)


def write_file_reports(
    client: SolrClient,
    records: list[dict[str, Any]],
    read: set[str],
    removed: list[str],
    old_meta: dict[str, Any],
) -> None:
    """Send the reports of the files `read` this run and of the files kept whose record
    changed (a new modification time) — all of them when the collection's were in the
    meta document — and delete those of the `removed` files. Done after the paragraphs
    and before the commit, so an interrupted run leaves the last complete run's reports."""
    old = {}
    if reports_are_documents(old_meta):
        old = {f["path"]: f for f in old_meta.get("files", [])}
    changed = [file_document(r) for r in records if r["path"] in read or old.get(r["path"]) != r]
    for i in range(0, len(changed), FILE_BATCH):
        client.update(encode(changed[i : i + FILE_BATCH]))
    for i in range(0, len(removed), FILE_BATCH):
        client.update(encode({"delete": [file_key(p) for p in removed[i : i + FILE_BATCH]]}))


def encode(body: Any) -> bytes:
    """A JSON update request's body."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


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


def feed_files(client: SolrClient, paths: list[Path], words: Sequence[str], run: Run) -> None:
    """Read, segment (with `words`) and send the files' paragraphs in batches, IN_FLIGHT
    batches at a time: Solr indexes one while the next is on its way. A batch that fails
    stops the run with its error."""
    report, progress = run.report, run.progress
    batch: list[bytes] = []
    size = 0
    with ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="solr-feed") as pool:
        pending: deque[Future[Any]] = deque()

        def send(docs: list[bytes]) -> None:
            while len(pending) >= IN_FLIGHT:
                pending.popleft().result()
            pending.append(pool.submit(client.update, b"[" + b",".join(docs) + b"]"))

        try:
            read = run_workers(read_file, paths, run.procs, run.worker_setup(words))
            for n, (file_report, docs) in enumerate(read, 1):
                report.files.append(file_report)
                report.bytes_read += (run.corpus_dir / file_report.path).stat().st_size
                for encoded in docs:
                    batch.append(encoded)
                    size += len(encoded)
                    if len(batch) >= BATCH_DOCS or size >= BATCH_BYTES:
                        send(batch)
                        batch, size = [], 0
                if progress:
                    progress(file_report.path, n, len(paths))
            if batch:
                send(batch)
            while pending:
                pending.popleft().result()
        finally:
            for future in pending:  # an interrupted run sends nothing more
                future.cancel()
