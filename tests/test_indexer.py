"""Index lifecycle: stable ids, incremental updates, locking, crash safety."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from searchapp import indexing
from searchapp.embedded import indexer
from searchapp.embedded.indexer import (
    META_NAME,
    build_index,
    current_generation,
    index_lock,
    open_index,
    run_parallel,
)
from searchapp.engine import open_engine
from searchapp.errors import IndexIncompatible, IndexLocked, IndexMissing
from searchapp.results import SearchRequest
from searchapp.search import run_search, town_usage

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
SEEDS = PROJECT_ROOT / "seeds"
REPORT = "某镇2023年政府工作报告\n各位代表：\n一、工作回顾\n推进三清两建工作。\n乡贤返乡创业。\n"


def hit_keys(index_dir: Path, q: str, mode: str = "keyword") -> list[tuple[str, str]]:
    engine = open_engine(index_dir)
    page = run_search(engine, SearchRequest(q=q, mode=mode, all=True))
    engine.close()
    return sorted((h.doc_id, h.para_id) for h in page.hits)


def copy_seeds(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    return corpus


def test_ids_survive_rebuilds_and_other_files(tmp_path: Path):
    corpus = copy_seeds(tmp_path)
    index = tmp_path / "index"
    build_index(corpus, index)
    before = hit_keys(index, "三清两建")
    assert len(before) == 5
    (corpus / "zzz_other.txt").write_text(REPORT, encoding="utf-8")
    (corpus / "000_40916b3ed7792af0.txt").rename(corpus / "000_40916b3ed7792af0.txt.bak")
    build_index(corpus, index, rebuild=True)
    after = hit_keys(index, "三清两建")
    assert set(after) - set(before) == {k for k in after if k[0] not in {b[0] for b in before}}
    assert set(before) - set(after) == {b for b in before if b[0] not in {a[0] for a in after}}
    (corpus / "000_40916b3ed7792af0.txt.bak").rename(corpus / "000_40916b3ed7792af0.txt")
    build_index(corpus, index, rebuild=True)
    assert set(before) <= set(hit_keys(index, "三清两建"))


def two_reports(tmp_path: Path) -> tuple[Path, Path]:
    """A corpus folder of two towns' reports (a.txt, b.txt) and where its index goes."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(REPORT, encoding="utf-8")
    (corpus / "b.txt").write_text(REPORT.replace("某镇", "另镇"), encoding="utf-8")
    return corpus, tmp_path / "index"


def test_a_touched_file_is_hashed_once_not_at_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    corpus, index = two_reports(tmp_path)
    first = build_index(corpus, index)
    touched = corpus / "a.txt"
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same content
    hashed: list[str] = []
    file_hash = indexing.file_hash
    monkeypatch.setattr(
        indexing, "file_hash", lambda path: hashed.append(path.name) or file_hash(path)
    )
    for _ in range(3):
        again = build_index(corpus, index)
        assert again.mode == "unchanged" and again.generation == first.generation
    assert hashed == ["a.txt"]  # the first run recorded the new modification time
    assert hit_keys(index, "三清两建")  # the index is untouched and still opens


def test_incremental_update(tmp_path: Path):
    corpus, index = two_reports(tmp_path)
    first = build_index(corpus, index)
    assert first.mode == "full" and first.documents == 2
    old_generation = current_generation(index)
    unchanged = build_index(corpus, index)
    assert unchanged.mode == "unchanged" and unchanged.generation == first.generation

    (corpus / "c.txt").write_text(REPORT.replace("某镇", "新镇"), encoding="utf-8")
    (corpus / "b.txt").write_text(REPORT.replace("某镇", "另镇").replace("三清两建", "三变改革"))
    (corpus / "a.txt").unlink()
    update = build_index(corpus, index)
    assert update.mode == "incremental"
    assert (update.added, update.updated, update.removed) == (["c.txt"], ["b.txt"], ["a.txt"])
    assert update.documents == 2
    assert {h[0] for h in hit_keys(index, "三清两建")} == {h[0] for h in hit_keys(index, "新镇")}
    assert len(hit_keys(index, "三变改革")) == 1
    # the previous generation was not touched by the update (hard links, no in-place writes)
    assert old_generation is not None and old_generation.exists()
    from whoosh import index as whoosh_index

    with whoosh_index.open_dir(str(old_generation)).searcher() as searcher:
        assert searcher.doc_count() == first.paragraphs


def test_updates_that_merge_segments_keep_exact_matching(tmp_path: Path):
    """Whoosh merges small segments on commit; a merged segment's exact channel is
    rebuilt from the previous generation's texts, so phrases still match exactly."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index = tmp_path / "index"
    segment_counts = []
    for n in range(9):
        body = f"第{n}号文件，推进三清两建。\n乡贤返乡创业{n}次。\n"
        (corpus / f"r{n}.txt").write_text(REPORT + body, encoding="utf-8")
        if n >= 2:  # an edit and a removal: deletions in older segments
            (corpus / f"r{n - 2}.txt").write_text(REPORT + f"修改后的第{n - 2}号。\n")
        if n == 5:
            (corpus / "r0.txt").unlink()
        build_index(corpus, index)
        texts = [
            para.strip()
            for path in sorted(corpus.iterdir())
            for para in path.read_text(encoding="utf-8").splitlines()
        ]
        for phrase in ["三清两建", "乡贤返", "号文件", f"第{n}号", "修改后的", "创业1次"]:
            expected = sum(phrase in t for t in texts)
            assert len(hit_keys(index, phrase, mode="phrase")) == expected, (n, phrase)
        ix, _ = open_index(index)
        with ix.reader() as reader:
            segment_counts.append(len(reader.leaf_readers()))
    assert min(segment_counts[4:]) < max(segment_counts), segment_counts  # some merged


def test_a_second_indexer_is_refused(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(REPORT, encoding="utf-8")
    with index_lock(tmp_path / "index"), pytest.raises(IndexLocked, match="正在"):
        build_index(corpus, tmp_path / "index")


def test_missing_and_incompatible_index(tmp_path: Path):
    with pytest.raises(IndexMissing):
        open_index(tmp_path / "nothing")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(REPORT, encoding="utf-8")
    build_index(corpus, tmp_path / "index")
    meta_path = current_generation(tmp_path / "index") / META_NAME  # type: ignore[operator]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["analysis_version"] = -1
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IndexIncompatible, match="--rebuild"):
        open_index(tmp_path / "index")
    assert build_index(corpus, tmp_path / "index").mode == "full"  # rebuilt by itself
    open_index(tmp_path / "index")


def group_threads(pgid: int) -> dict[int, int]:
    """The live processes of a process group (from /proc), each with its thread count."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            threads = len(list((stat.parent / "task").iterdir()))
        except (OSError, ValueError):
            continue  # ended while we looked
        if int(pgrp) == pgid and state not in "ZX":  # an orphan's zombie waits for init
            found[int(stat.parent.name)] = threads
    return found


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` every 20 ms until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def start_indexer(corpus: Path, index: Path, rebuild: bool) -> subprocess.Popen[bytes]:
    """`build_index(procs=2)` in a process of its own group: its workers join that group."""
    code = "import sys; from pathlib import Path; from searchapp.embedded import build_index; "
    code += f"build_index(Path(sys.argv[1]), Path(sys.argv[2]), procs=2, rebuild={rebuild})"
    command = [sys.executable, "-c", code, str(corpus), str(index)]
    return subprocess.Popen(command, start_new_session=True)


def end_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill whatever the indexer process left behind, so that a failing test leaks nothing."""
    proc.kill()
    proc.wait()
    for pid in group_threads(proc.pid):
        os.kill(pid, signal.SIGKILL)


def kill_indexer_midway(corpus: Path, index: Path, rebuild: bool) -> None:
    """SIGKILL an indexer while it writes a generation (a rebuild: while both of its worker
    processes analyse documents), then wait for every process of its group to end."""
    proc = start_indexer(corpus, index, rebuild)

    def writing() -> bool:
        workers = [n for pid, n in group_threads(proc.pid).items() if pid != proc.pid]
        # a worker runs a second thread (exit_with_parent) once it analyses documents
        analysing = len(workers) == 2 and min(workers) >= 2
        started = bool(list(index.glob("g-*.tmp"))) and (analysing or not rebuild)
        return started or proc.poll() is not None

    try:
        assert wait_until(writing, timeout=120), "the indexer never started writing"
        assert proc.poll() is None, "the indexer finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # its workers notice that their parent died and exit by themselves
        assert wait_until(lambda: not group_threads(proc.pid), timeout=10), (
            f"processes left behind: {group_threads(proc.pid)}"
        )
    finally:
        end_group(proc)


def test_killed_indexer_loses_nothing_and_leaves_no_worker(tmp_path: Path):
    corpus = copy_seeds(tmp_path)
    index = tmp_path / "index"
    build_index(corpus, index)
    before = hit_keys(index, "三清两建")
    text = (SEEDS / "002_728e3c0284a2da64.txt").read_text(encoding="utf-8")
    for n in range(60):  # enough work to be caught in the middle
        (corpus / f"copy_{n:03d}.txt").write_text(text.replace("潭头镇", f"第{n}镇"), "utf-8")
    for rebuild in (False, True):  # an update (from hard links to the live files), a rebuild
        kill_indexer_midway(corpus, index, rebuild)
        assert list(index.glob("g-*.tmp")), "killed while writing a generation"
        assert hit_keys(index, "三清两建") == before  # the old generation still answers
    report = build_index(corpus, index)  # recovers without manual cleanup
    assert report.documents == 9 + 60
    assert not list(index.glob("*.tmp"))
    assert len(hit_keys(index, "三清两建")) == len(before) + 60 * 4


def test_a_worker_killed_before_its_first_document_exits_too(tmp_path: Path):
    corpus = copy_seeds(tmp_path)
    text = (SEEDS / "002_728e3c0284a2da64.txt").read_text(encoding="utf-8")
    for n in range(60):
        (corpus / f"copy_{n:03d}.txt").write_text(text.replace("潭头镇", f"第{n}镇"), "utf-8")
    proc = start_indexer(corpus, tmp_path / "index", rebuild=True)
    fresh: list[int] = []

    def catch_a_fresh_worker() -> bool:
        """Stop a worker that has only its first thread (it has not analysed anything)."""
        for pid, threads in group_threads(proc.pid).items():
            if pid != proc.pid and threads == 1:
                try:
                    os.kill(pid, signal.SIGSTOP)
                    if group_threads(proc.pid).get(pid) == 1:
                        fresh.append(pid)
                        return True
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:  # it ended between the listing and the signal
                    continue
        return proc.poll() is not None

    try:
        assert wait_until(catch_a_fresh_worker, timeout=120)
        if not fresh:
            pytest.skip("no worker could be caught before its first document")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        os.kill(fresh[0], signal.SIGCONT)
        assert wait_until(lambda: fresh[0] not in group_threads(proc.pid), timeout=10)
    finally:
        end_group(proc)


def test_user_dictionary_change_resegments_without_losing_phrases(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(REPORT + "推进宜居宜业和美乡村建设。\n", encoding="utf-8")
    user_dict = tmp_path / "words.txt"
    user_dict.write_text("# 自定义词\n", encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, user_dict=user_dict)
    before = hit_keys(index, "宜居宜业和美", mode="phrase")
    assert build_index(corpus, index, user_dict=user_dict).mode == "unchanged"
    user_dict.write_text("宜居宜业和美乡村\n", encoding="utf-8")
    assert build_index(corpus, index, user_dict=user_dict).mode == "full"
    _, meta = open_index(index)
    assert "宜居宜业和美乡村" in meta["words"]
    assert hit_keys(index, "宜居宜业和美", mode="phrase") == before != []
    assert hit_keys(index, "和美", mode="phrase") == before


def test_lock_held_by_another_process_and_released_when_it_dies(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(REPORT, encoding="utf-8")
    index = tmp_path / "index"
    code = (
        "import sys, time; from pathlib import Path; from searchapp.embedded.indexer import index_lock\n"
        "with index_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(index)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        with pytest.raises(IndexLocked, match=f"pid {holder.pid}"):
            build_index(corpus, index)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert build_index(corpus, index).documents == 1  # a killed holder blocks nothing


def test_two_processes_build_the_same_index(tmp_path: Path):
    """Whoosh's worker segments and the grams files written in parallel answer alike."""
    corpus = copy_seeds(tmp_path)
    build_index(corpus, tmp_path / "one", procs=1)
    build_index(corpus, tmp_path / "two", procs=2)
    ix, _ = open_index(tmp_path / "two")
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) >= 2
    for q, mode in [("三清两建", "phrase"), ("清两", "phrase"), ("乡村振兴 治理", "keyword")]:
        assert hit_keys(tmp_path / "one", q, mode) == hit_keys(tmp_path / "two", q, mode)


def test_segments_are_capped_and_answer_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A build commits a segment whenever a writer holds SEGMENT_PARAGRAPHS (a segment's
    size bounds the memory of writing its file); many small segments answer as one."""
    corpus = copy_seeds(tmp_path)
    build_index(corpus, tmp_path / "one", procs=1)
    monkeypatch.setattr(indexer, "SEGMENT_PARAGRAPHS", 40)
    for procs in (1, 2):
        target = tmp_path / f"capped{procs}"
        report = build_index(corpus, target, procs=procs)
        ix, _ = open_index(target)
        with ix.reader() as reader:
            sizes = [leaf.doc_count_all() for leaf, _ in reader.leaf_readers()]
        assert len(sizes) >= 3  # seeds: 404 paragraphs, one file of 283 (files are not split)
        assert sum(sizes) == report.paragraphs
        for q, mode in [("三清两建", "phrase"), ("清两", "phrase"), ("乡村振兴 治理", "keyword")]:
            assert hit_keys(tmp_path / "one", q, mode) == hit_keys(target, q, mode)
        one, capped = open_engine(tmp_path / "one"), open_engine(target)
        for q in ("发展", "三清两建"):
            ours = town_usage(capped, SearchRequest(q=q))[1]
            assert [(u.town, u.paragraphs, u.occurrences) for u in ours] == [
                (u.town, u.paragraphs, u.occurrences)
                for u in town_usage(one, SearchRequest(q=q))[1]
            ]
        one.close()
        capped.close()


def _fail(code: int) -> None:
    if code:
        raise SystemExit(code)


def test_a_failing_worker_fails_the_run():
    run_parallel(_fail, [(0,), (0,), (0,)], procs=2)
    with pytest.raises(RuntimeError, match="1 worker"):
        run_parallel(_fail, [(0,), (3,), (0,)], procs=2)


def test_writer_memory_follows_the_machine(monkeypatch: pytest.MonkeyPatch):
    from searchapp.embedded import indexer

    for available, procs, expected in [
        (None, 2, 256),
        (1000, 2, 256),
        (6000, 2, 1000),
        (10**6, 2, 2048),
    ]:
        monkeypatch.setattr(indexer, "available_memory_mb", lambda a=available: a)
        assert indexer.pool_limit_mb(procs) == expected


def test_missing_or_damaged_segment_file_asks_for_a_rebuild(tmp_path: Path):
    corpus = copy_seeds(tmp_path)
    index = tmp_path / "index"
    build_index(corpus, index, procs=2)
    generation = current_generation(index)
    assert generation is not None
    first = sorted(generation.glob("*.sadata"))[0]
    damaged = tmp_path / "damaged"
    damaged.write_bytes(first.read_bytes()[:-10])
    damaged.replace(first)  # a new file, as a partial copy would leave it
    with pytest.raises(IndexIncompatible, match="已损坏") as info:
        open_index(index)
    assert "--rebuild" in (info.value.hint or "")
    first.unlink()
    with pytest.raises(IndexIncompatible, match="缺失"):
        open_index(index)
    build_index(corpus, index, rebuild=True)
    assert len(hit_keys(index, "三清两建", mode="phrase")) == 5


def test_an_updated_file_shows_its_new_metadata(tmp_path: Path):
    """The old version of an updated report stays in an older segment, its paragraphs
    deleted: hits and documents must show the new title, never the old one."""
    corpus, index = two_reports(tmp_path)
    build_index(corpus, index)
    (corpus / "a.txt").write_text(REPORT.replace("2023年", "2024年"), encoding="utf-8")
    assert build_index(corpus, index).mode == "incremental"
    engine = open_engine(index)
    page = run_search(engine, SearchRequest(q="三清两建"))
    assert sorted(h.title for h in page.hits) == [
        "另镇2023年政府工作报告",
        "某镇2024年政府工作报告",
    ]
    assert page.facets["year"] == {"2023": 1, "2024": 1}
    engine.close()
