"""Benchmark searchapp beside the "tutorial" set-up (Whoosh + jieba.analyse.ChineseAnalyzer).

Prints figures, asserts nothing:

* build time, MB/s and index size for both engines on the same corpus;
* query latency p50/p95 for a fixed query set, as the top 10 with total and town
  facets (what a user waits for) and as every hit (what an export needs); /api/towns
  through the Flask app (JSON included), its first request for each word on a fresh
  app as well as repeated ones (every other row is timed after one unmeasured call);
* phrase recall of both engines against a brute-force substring scan.

    python benchmarks/generate_corpus.py --size-mb 20 --out /tmp/corpus20
    python benchmarks/run.py --corpus /tmp/corpus20 [--work /tmp/bench20] [--repeat 5]

`--reuse-tutorial` keeps a tutorial index already in WORK (built from the same corpus by an
earlier run) instead of building it again (~35 min at 200 MB); its build time is then not
measured. `--no-tutorial` leaves the baseline out (what a 1 GB run needs).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path

import jieba
from whoosh import index as whoosh_index
from whoosh import sorting
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import QueryParser

from searchapp.analysis import exact_key
from searchapp.config import Config
from searchapp.documents import load_corpus
from searchapp.embedded import build_index
from searchapp.engine import open_engine
from searchapp.export import write_csv
from searchapp.results import SearchRequest
from searchapp.search import (
    iter_export_rows,
    iter_hits,
    plan_request,
    run_search,
    run_trend,
    town_usage,
)
from searchapp.web import create_app

jieba.setLogLevel(logging.WARNING)

QUERIES: dict[str, list[str]] = {
    "2-char word": ["发展", "乡村", "治理", "企业", "项目", "民生"],
    "3-char word": ["新农村", "合作社", "示范区", "党支部", "基础上"],
    "4-char word": ["乡村振兴", "营商环境", "三清两建", "招商引资", "人居环境"],
    "long phrase": [
        "坚持以习近平新时代中国特色社会主义思想为指导",
        "持续巩固脱贫成果",
        "全面贯彻落实党的二十大精神",
        "统筹发展和安全",
    ],
    "rare term": ["三变改革", "乡贤返", "清两", "二十大精", "诗画潭洲"],
    "AND query": ["乡村振兴 营商环境", "三清两建 集体经济", "招商引资 项目 落地"],
}


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def corpus_bytes(corpus: Path) -> int:
    return sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(func: Callable[[], object], repeat: int) -> list[float]:
    if repeat == 0:  # the first call alone
        start = time.perf_counter()
        func()
        return [(time.perf_counter() - start) * 1000]
    func()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return times


# --- the tutorial set-up ----------------------------------------------------------------------


def build_tutorial(corpus: Path, target: Path) -> float:
    """Whoosh with jieba's ChineseAnalyzer, one document per paragraph, as tutorials do it."""
    from jieba.analyse import ChineseAnalyzer

    schema = Schema(
        key=ID(stored=True, unique=True),
        town=ID(stored=True, sortable=True),
        content=TEXT(analyzer=ChineseAnalyzer()),
    )
    target.mkdir(parents=True)
    start = time.perf_counter()
    ix = whoosh_index.create_in(str(target), schema)
    writer = ix.writer(limitmb=256)
    for _, docs in load_corpus(corpus):
        for doc in docs:
            for para in doc.paragraphs:
                writer.add_document(
                    key=f"{doc.doc_id}/{para.para_id}", town=doc.town, content=para.text
                )
    writer.commit()
    return time.perf_counter() - start


def tutorial_search(searcher, q: str, limit: int | None) -> set[str]:  # type: ignore[no-untyped-def]
    query = QueryParser("content", searcher.schema).parse(q)
    results = searcher.search(
        query, limit=limit, groupedby={"town": sorting.FieldFacet("town", maptype=sorting.Count)}
    )
    len(results)
    results.groups("town")
    return {hit["key"] for hit in results}


# --- runs -------------------------------------------------------------------------------------


def author_paragraphs(corpus: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Each author paragraph's exact-match form by its name (`Hit.block`: its first
    piece's key), the pieces of a cut paragraph joined as phrase mode matches them; and
    the name of the author paragraph of each piece's key."""
    texts: dict[str, str] = {}
    block_of: dict[str, str] = {}
    for _, docs in load_corpus(corpus):
        for doc in docs:
            block = ""
            for p in doc.paragraphs:
                if p.piece == 0 or not block:
                    block = f"{doc.doc_id}/{p.para_id}"
                texts[block] = texts.get(block, "") + exact_key(p.text)
                block_of[f"{doc.doc_id}/{p.para_id}"] = block
    return texts, block_of


def all_queries() -> Iterable[tuple[str, str]]:
    for kind, queries in QUERIES.items():
        for q in queries:
            yield kind, q


def report_latency(
    name: str, func: Callable[[str], object], repeat: int, only: list[str] | None = None
) -> dict[str, float]:
    """p50/p95 of each kind of query, each timed `repeat` times after one unmeasured call
    (repeat 0: the first call alone is timed)."""
    rows = {}
    for kind, queries in QUERIES.items():
        if only and kind not in only:
            continue
        times: list[float] = []
        for q in queries:
            times += timed(lambda q=q: func(q), repeat)
        rows[kind] = percentile(times, 0.5)
        print(
            f"  {name:<28} {kind:<12} p50 {percentile(times, 0.5):8.1f} ms"
            f"   p95 {percentile(times, 0.95):8.1f} ms"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=None, help="where to build the indexes")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--reuse-tutorial", action="store_true")
    parser.add_argument(
        "--no-tutorial",
        action="store_true",
        help="searchapp alone (the baseline takes hours at 1 GB)",
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="searchapp-bench-"))
    shutil.rmtree(work / "searchapp", ignore_errors=True)
    reuse = args.reuse_tutorial and (work / "tutorial").is_dir()
    if not reuse:
        shutil.rmtree(work / "tutorial", ignore_errors=True)
    size_mb = corpus_bytes(args.corpus) / 1e6
    print(f"corpus {args.corpus}: {size_mb:.1f} MB")

    phases = logging.getLogger("searchapp.embedded.indexer")  # the build's phases
    phases.setLevel(logging.INFO)
    phases.addHandler(logging.StreamHandler(sys.stdout))
    start = time.perf_counter()
    report = build_index(args.corpus, work / "searchapp", procs=args.procs, rebuild=True)
    ours_build = time.perf_counter() - start
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    build_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"build peak RSS: this process {build_peak:.0f} MB, largest worker {workers:.0f} MB")
    tutorial = not args.no_tutorial
    tutorial_build = (
        0.0 if reuse or not tutorial else build_tutorial(args.corpus, work / "tutorial")
    )
    ours_size = folder_size(work / "searchapp") / 1e6
    tutorial_size = folder_size(work / "tutorial") / 1e6
    print(f"paragraphs: {report.paragraphs}  documents: {report.documents}")
    print("\nbuild                 seconds     MB/s   index MB")
    print(
        f"  searchapp ({args.procs} procs)  {ours_build:8.1f} {size_mb / ours_build:8.2f}"
        f" {ours_size:9.1f}"
    )
    if not tutorial:
        print("  tutorial              (not built: --no-tutorial)")
    elif reuse:
        print(f"  tutorial (1 proc)     (index of an earlier run reused) {tutorial_size:9.1f}")
    else:
        print(
            f"  tutorial (1 proc)     {tutorial_build:8.1f} {size_mb / tutorial_build:8.2f}"
            f" {tutorial_size:9.1f}"
        )
        print(f"  build time ratio searchapp/tutorial: {ours_build / tutorial_build:.2f}")

    engine = open_engine(work / "searchapp")
    app = create_app(Config(corpus_dir=args.corpus, index_dir=work / "searchapp"))
    client = app.test_client()  # its own engine: the first /api/towns calls find it fresh
    client.get("/api/search?q=测试")  # opened, and jieba loaded, before anything is timed
    with ExitStack() as stack:
        tsearcher = None
        if tutorial:
            tix = whoosh_index.open_dir(str(work / "tutorial"))
            tsearcher = stack.enter_context(tix.searcher())
        print("\nquery latency")

        def ours_top(q: str) -> object:
            return run_search(engine, SearchRequest(q=q, page_size=10))

        def ours_all(q: str) -> object:
            return run_search(engine, SearchRequest(q=q, all=True))

        def ours_ids(q: str) -> object:
            _, plan = plan_request(engine, SearchRequest(q=q))
            return sum(1 for _ in engine.iter_matches(plan))

        def ours_stream(q: str) -> object:
            _, plan = plan_request(engine, SearchRequest(q=q))
            return sum(1 for _ in iter_hits(engine, plan))

        def api_towns(suffix: str) -> Callable[[str], object]:
            def get(q: str) -> object:
                answer = client.get(f"/api/towns?q={q}{suffix}")
                assert answer.status_code == 200, answer.status_code
                return answer.data

            return get

        def ours_towns_objects(q: str) -> object:
            return town_usage(engine, SearchRequest(q=q), best=20)

        def ours_trend(q: str) -> object:
            return run_trend(engine, SearchRequest(q=q))

        def ours_export(q: str) -> object:
            with open(os.devnull, "wb") as sink:
                return write_csv(iter_export_rows(engine, SearchRequest(q=q)), sink)

        top = report_latency("searchapp top10+facets", ours_top, args.repeat)
        ttop = {}
        if tsearcher is not None:
            ttop = report_latency(
                "tutorial top10+facets", lambda q: tutorial_search(tsearcher, q, 10), args.repeat
            )
        report_latency("searchapp every hit (ids, ranked)", ours_ids, max(1, args.repeat // 2))
        report_latency("searchapp every hit", ours_all, max(1, args.repeat // 2))
        report_latency("searchapp every hit streamed", ours_stream, max(1, args.repeat // 2))
        report_latency(
            "/api/towns (default best=20), 1st call", api_towns(""), 0, only=["2-char word"]
        )
        report_latency("/api/towns (default best=20)", api_towns(""), args.repeat)
        report_latency("/api/towns?best=all", api_towns("&best=all"), max(1, args.repeat // 2))
        report_latency("town_usage objects, best=20", ours_towns_objects, max(1, args.repeat // 2))
        report_latency("searchapp trend (/api/trend)", ours_trend, max(1, args.repeat // 2))
        report_latency("searchapp export CSV (every hit)", ours_export, max(1, args.repeat // 2))
        if tsearcher is not None:
            report_latency(
                "tutorial every hit",
                lambda q: tutorial_search(tsearcher, q, None),
                max(1, args.repeat // 2),
            )
            print(
                "\n  top-10 p50 ratio searchapp/tutorial: "
                + ", ".join(f"{k} {top[k] / ttop[k]:.2f}" for k in top if ttop[k] > 0)
            )

        print("\nphrase recall against a brute-force substring scan of author paragraphs")
        texts, block_of = author_paragraphs(args.corpus)
        ours_found = tutorial_found = expected_total = 0
        for _, q in all_queries():
            phrase = q.replace(" ", "")
            key = exact_key(phrase)
            truth = {k for k, t in texts.items() if key in t}
            page = run_search(engine, SearchRequest(q=phrase, mode="phrase", all=True))
            ours = {h.block for h in page.hits}
            theirs = truth
            if tsearcher is not None:  # it indexes pieces: a phrase across a cut is lost
                theirs = {block_of[k] for k in tutorial_search(tsearcher, f'"{phrase}"', None)}
            expected_total += len(truth)
            ours_found += len(truth & ours)
            tutorial_found += len(truth & theirs)
            if ours != truth or (tsearcher is not None and theirs != truth):
                print(
                    f"  {phrase}: truth {len(truth)}, searchapp {len(truth & ours)}/{len(ours)},"
                    f" tutorial {len(truth & theirs)}/{len(theirs)}"
                )
        print(f"  searchapp phrase recall: {ours_found / max(1, expected_total):.3f}")
        if tsearcher is not None:
            print(f"  tutorial  phrase recall: {tutorial_found / max(1, expected_total):.3f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process (both engines open): {peak:.0f} MB")
    server = Path(__file__).resolve().parent / "server_rss.py"
    subprocess.run([sys.executable, str(server), "--index", str(work / "searchapp")], check=True)


if __name__ == "__main__":
    main()
