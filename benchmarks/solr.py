"""Benchmark the Solr backend beside the embedded engine, on the same corpus in the same run.

Prints figures, asserts nothing:

* build time, MB/s and index size on disk (Solr: the collection's folders in every node's
  data; embedded: the index folder), with the CPU seconds spent by the Python feeder
  (this process and its worker processes) and by the Solr JVMs during the build;
* latency p50/p95 of the query set of benchmarks/run.py: top 10 with total and facets,
  every hit as `iter_matches` (refs and scores, no records), the towns view and the trend;
* exact-phrase recall of both engines against a brute-force substring scan;
* each Solr node's resident memory and JVM heap in use after the queries.

The cluster is the local SolrCloud of `searchapp cluster` in `--cluster-dir`: used as it is
when it runs, else started here with `--nodes` nodes (and stopped at the end). The
collection is built from scratch with `--shards` × `--replicas` NRT replicas.

    python benchmarks/generate_corpus.py --size-mb 20 --out /tmp/corpus20
    python benchmarks/solr.py --corpus /tmp/corpus20 --cluster-dir /tmp/bench-cluster \
        [--work /tmp/solrbench20] [--shards 2 --replicas 1] [--repeat 5] [--heap 1g]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from run import (  # benchmarks/run.py
    QUERIES,
    all_queries,
    author_paragraphs,
    corpus_bytes,
    folder_size,
    percentile,
)

from searchapp.analysis import exact_key
from searchapp.cluster import (
    ClusterInfo,
    cluster_status,
    read_cluster,
    solr_get,
    start_cluster,
    stop_cluster,
)
from searchapp.embedded import build_index
from searchapp.engine import Engine, open_engine
from searchapp.results import SearchRequest
from searchapp.search import plan_request, run_search, run_trend, town_usage
from searchapp.solr import index_solr, open_solr_engine
from searchapp.solr.indexer import live_collection

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Build:
    """One engine's build: wall seconds, CPU seconds (feeder, Solr), bytes on disk."""

    seconds: float
    feeder_cpu: float
    solr_cpu: float
    index_bytes: int
    extra_bytes: int = 0  # Solr: transaction logs


# --- measuring --------------------------------------------------------------------------------


def timed(func: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of `repeat` calls after one warm-up call."""
    func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return times


def latencies(
    func: Callable[[str], object], repeat: int, kinds: tuple[str, ...] = tuple(QUERIES)
) -> dict[str, list[float]]:
    """Per query kind of run.py's set, the times of every query of the kind."""
    return {
        kind: [t for q in QUERIES[kind] for t in timed(lambda q=q: func(q), repeat)]
        for kind in kinds
    }


def solr_share(engine: Engine, q: str, repeat: int) -> list[tuple[float, float, int]]:
    """For a top-10 search on Solr: (wall ms, Solr's QTime summed over its requests, requests),
    measured by wrapping the engine's client."""
    client = engine.client  # type: ignore[attr-defined]
    plain = client.select
    qtimes: list[int] = []

    def select(*args: object, **kwargs: object) -> dict:
        found = plain(*args, **kwargs)
        qtimes.append(int(found.get("responseHeader", {}).get("QTime", 0)))
        return found

    client.select = select
    out = []
    try:
        run_search(engine, SearchRequest(q=q, page_size=10))
        for _ in range(repeat):
            qtimes.clear()
            start = time.perf_counter()
            run_search(engine, SearchRequest(q=q, page_size=10))
            out.append(((time.perf_counter() - start) * 1000, float(sum(qtimes)), len(qtimes)))
    finally:
        del client.select
    return out


def own_cpu() -> float:
    """CPU seconds of this process and its ended children (the indexer's workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds of a running process (user + system), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def process_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def solr_cpu(info: ClusterInfo) -> float:
    return sum(process_cpu(node.pid) for node in info.nodes)


def collection_bytes(info: ClusterInfo, collection: str) -> tuple[int, int]:
    """Bytes of the collection's cores in every node's home: (index files, transaction logs)."""
    index = tlog = 0
    for node in info.nodes:
        for core in Path(node.home).glob(f"{collection}_shard*"):
            for path in core.rglob("*"):
                if not path.is_file():
                    continue
                if "tlog" in path.relative_to(core).parts:
                    tlog += path.stat().st_size
                else:
                    index += path.stat().st_size
    return index, tlog


def core_layout(info: ClusterInfo, collection: str) -> list[str]:
    """Which node holds which replica: 'node-1: shard1' lines."""
    lines = []
    for number, node in enumerate(info.nodes, start=1):
        cores = sorted(p.name for p in Path(node.home).glob(f"{collection}_shard*"))
        lines.append(f"node-{number}: {', '.join(cores) or '-'}")
    return lines


def jvm_heap_mb(url: str) -> tuple[float, float]:
    """A node's JVM heap (used, max) in MB."""
    memory = solr_get(url, "/admin/info/system", timeout=10)["jvm"]["memory"]["raw"]
    return memory["used"] / 2**20, memory["max"] / 2**20


# --- builds -----------------------------------------------------------------------------------


def build_solr(
    corpus: Path, info: ClusterInfo, name: str, shards: int, replicas: int, procs: int
) -> Build:
    cpu0, solr0 = own_cpu(), solr_cpu(info)
    start = time.perf_counter()
    index_solr(
        corpus, info.solr_url, name, shards=shards, replicas=replicas, procs=procs, rebuild=True
    )
    seconds = time.perf_counter() - start  # to live and merged (the replaced build is kept)
    index, tlog = collection_bytes(info, live_collection(info.solr_url, name) or name)
    return Build(seconds, own_cpu() - cpu0, solr_cpu(info) - solr0, index, tlog)


def build_embedded(corpus: Path, target: Path, procs: int) -> Build:
    cpu0 = own_cpu()
    start = time.perf_counter()
    build_index(corpus, target, procs=procs, rebuild=True)
    seconds = time.perf_counter() - start
    return Build(seconds, own_cpu() - cpu0, 0.0, folder_size(target))


# --- printing ---------------------------------------------------------------------------------


def print_builds(size_mb: float, builds: dict[str, Build]) -> None:
    print(
        "\nbuild                       seconds     MB/s  index MB  tlog MB"
        "  feeder CPU s  Solr CPU s"
    )
    for name, b in builds.items():
        print(
            f"  {name:<24} {b.seconds:8.1f} {size_mb / b.seconds:8.2f} {b.index_bytes / 1e6:9.1f}"
            f" {b.extra_bytes / 1e6:8.1f} {b.feeder_cpu:13.1f} {b.solr_cpu:11.1f}"
        )


def print_beside(title: str, rows: dict[str, dict[str, list[float]]]) -> None:
    """One line per query kind: each engine's p50 and p95."""
    names = list(rows)
    print(f"\n{title}")
    print("  " + " " * 12 + "".join(f"{n + ' p50':>16}{n + ' p95':>16}" for n in names))
    for kind in next(iter(rows.values())):
        cells = "".join(
            f"{percentile(rows[n][kind], 0.5):13.1f} ms{percentile(rows[n][kind], 0.95):13.1f} ms"
            for n in names
        )
        print(f"  {kind:<12}{cells}")


def phrase_recall(corpus: Path, engines: dict[str, Engine]) -> None:
    print("\nexact-phrase recall against a brute-force scan of author paragraphs (phrase mode)")
    texts, _ = author_paragraphs(corpus)  # what paragraph scope matches: a cut one as one
    found = dict.fromkeys(engines, 0)
    extra = dict.fromkeys(engines, 0)
    expected = 0
    for _, q in all_queries():
        phrase = q.replace(" ", "")
        key = exact_key(phrase)
        truth = {k for k, t in texts.items() if key in t}
        expected += len(truth)
        cells = []
        for name, engine in engines.items():
            page = run_search(engine, SearchRequest(q=phrase, mode="phrase", all=True))
            got = {h.block for h in page.hits}
            found[name] += len(truth & got)
            extra[name] += len(got - truth)
            cells.append(f"{name} {len(truth & got)}/{len(got)}")
        print(f"  {phrase}: truth {len(truth)}, " + ", ".join(cells))
    for name in engines:
        print(
            f"  {name:<9} recall {found[name] / max(1, expected):.3f}  (false hits {extra[name]})"
        )


# --- the run ----------------------------------------------------------------------------------


def ensure_cluster(directory: Path, nodes: int, heap: str) -> tuple[ClusterInfo, bool]:
    """The running cluster of `directory`, or one started now; True when started here."""
    info = read_cluster(directory)
    if info is not None and cluster_status(directory).healthy:
        print(f"cluster {directory}: running already ({len(info.nodes)} nodes, {info.solr_url})")
        return info, False
    options = (f"-Xmx{heap}", "-Xss1m", "-XX:+UseSerialGC")
    info = start_cluster(directory, nodes=nodes, java_options=options)
    print(f"cluster {directory}: started {nodes} nodes ({' '.join(options)}), {info.solr_url}")
    return info, True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--cluster-dir", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=None, help="where to build the embedded index")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--heap", default="1g", help="each node's -Xmx when started here")
    parser.add_argument("--collection", default="bench")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument(
        "--skip-embedded", action="store_true", help="Solr only (when time is short)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    work = args.work or Path(tempfile.mkdtemp(prefix="searchapp-solrbench-"))
    shutil.rmtree(work / "embedded", ignore_errors=True)
    size_mb = corpus_bytes(args.corpus) / 1e6
    print(f"corpus {args.corpus}: {size_mb:.1f} MB; {os.cpu_count()} cores")

    info, started = ensure_cluster(args.cluster_dir, args.nodes, args.heap)
    try:
        run(args, info, work, size_mb)
    finally:
        if started:
            stop_cluster(args.cluster_dir)
            print(f"cluster {args.cluster_dir}: stopped")


def run(args: argparse.Namespace, info: ClusterInfo, work: Path, size_mb: float) -> None:
    layout = f"{args.shards} shards × {args.replicas} replica(s)"
    builds = {
        f"solr ({layout})": build_solr(
            args.corpus, info, args.collection, args.shards, args.replicas, args.procs
        )
    }
    if not args.skip_embedded:
        target = work / "embedded"
        builds[f"embedded ({args.procs} procs)"] = build_embedded(args.corpus, target, args.procs)
    print_builds(size_mb, builds)
    physical = live_collection(info.solr_url, args.collection) or args.collection
    print("  replicas: " + "; ".join(core_layout(info, physical)))

    engines: dict[str, Engine] = {"solr": open_solr_engine(info.solr_url, args.collection)}
    if not args.skip_embedded:
        engines["embedded"] = open_engine(work / "embedded")
    print("  paragraphs: " + ", ".join(f"{n} {e.meta['paragraphs']}" for n, e in engines.items()))
    slow = max(1, args.repeat // 2)

    def top10(engine: Engine) -> Callable[[str], object]:
        return lambda q: run_search(engine, SearchRequest(q=q, page_size=10))

    def every_hit(engine: Engine) -> Callable[[str], object]:
        def func(q: str) -> int:
            _, plan = plan_request(engine, SearchRequest(q=q))
            return sum(1 for _ in engine.iter_matches(plan))

        return func

    def towns(engine: Engine) -> Callable[[str], object]:
        return lambda q: town_usage(engine, SearchRequest(q=q), best=20)  # /api/towns default

    def trend(engine: Engine) -> Callable[[str], object]:
        return lambda q: run_trend(engine, SearchRequest(q=q))

    print(
        f"\nquery latency (repeat {args.repeat} for top 10, {slow} for the others, after a warm-up)"
    )
    print_beside(
        "top 10 + total + facets (run_search, page_size 10)",
        {n: latencies(top10(e), args.repeat) for n, e in engines.items()},
    )
    print("\nwhere a Solr top-10 search spends its time (wall vs Solr's QTime summed)")
    for kind, queries in QUERIES.items():
        rows = [r for q in queries for r in solr_share(engines["solr"], q, args.repeat)]
        wall = percentile([r[0] for r in rows], 0.5)
        qtime = percentile([r[1] for r in rows], 0.5)
        print(
            f"  {kind:<12} wall p50 {wall:7.1f} ms   QTime p50 {qtime:7.1f} ms"
            f"   requests {rows[0][2]}"
        )
    print_beside(
        "every hit (iter_matches: refs and scores, no records)",
        {n: latencies(every_hit(e), slow, ("2-char word",)) for n, e in engines.items()},
    )
    print_beside(
        "towns view (town_usage best=20, /api/towns)",
        {n: latencies(towns(e), slow) for n, e in engines.items()},
    )
    print_beside(
        "trend (run_trend, /api/trend)",
        {n: latencies(trend(e), slow) for n, e in engines.items()},
    )
    phrase_recall(args.corpus, engines)

    print("\nSolr nodes after the queries")
    for number, node in enumerate(info.nodes, start=1):
        used, most = jvm_heap_mb(node.url)
        print(
            f"  node-{number}: RSS {process_rss_mb(node.pid):6.0f} MB,"
            f" heap in use {used:6.0f} of {most:.0f} MB"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (engines open): {peak:.0f} MB")
    for engine in engines.values():
        engine.close()


if __name__ == "__main__":
    main()
