"""Share of judged misspelled or reworded queries whose intended wording is in the top 3 / 10.

Prints fuzzy mode beside keyword mode, and fuzzy / similar-wording latency:

    python benchmarks/fuzzy_quality.py [--index DIR] [--latency-corpus-index DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from searchapp.embedded import build_index
from searchapp.engine import open_engine
from searchapp.results import SearchRequest
from searchapp.search import run_search
from searchapp.similar import find_similar

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
JUDGED = PROJECT_ROOT / "tests" / "data" / "judged_fuzzy.tsv"


def load_judged(path: Path = JUDGED) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, wanted, kind = line.split("\t")
            rows.append((query, wanted, kind))
    return rows


def rank_of(searcher, query: str, wanted: str, mode: str) -> int | None:  # type: ignore[no-untyped-def]
    page = run_search(searcher, SearchRequest(q=query, mode=mode, page_size=10))
    for rank, hit in enumerate(page.hits, start=1):
        if wanted in hit.text:
            return rank
    return None


def quality(searcher) -> dict[str, tuple[float, float]]:  # type: ignore[no-untyped-def]
    judged = load_judged()
    figures = {}
    for mode in ("keyword", "fuzzy"):
        ranks = [rank_of(searcher, q, wanted, mode) for q, wanted, _ in judged]
        top3 = sum(1 for r in ranks if r is not None and r <= 3) / len(judged)
        top10 = sum(1 for r in ranks if r is not None) / len(judged)
        figures[mode] = (top3, top10)
    return figures


def latency(searcher, repeat: int = 3) -> None:  # type: ignore[no-untyped-def]
    fuzzy_times, similar_times = [], []
    for query, _, _ in load_judged():
        for _ in range(repeat):
            start = time.perf_counter()
            run_search(searcher, SearchRequest(q=query, mode="fuzzy"))
            fuzzy_times.append((time.perf_counter() - start) * 1000)
    for text in (
        "持续优化营商环境，推动经济高质量发展。",
        "深入推进三清两建工作，壮大村集体经济。",
    ):
        for _ in range(repeat):
            start = time.perf_counter()
            find_similar(searcher, text)
            similar_times.append((time.perf_counter() - start) * 1000)
    for name, times in (("fuzzy", fuzzy_times), ("similar wording", similar_times)):
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"  {name:<16} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None, help="seed index (built if absent)")
    parser.add_argument("--latency-index", type=Path, default=None, help="e.g. a 20 MB index")
    args = parser.parse_args()
    index = args.index or Path("/tmp/searchapp-judged-index")
    build_index(PROJECT_ROOT / "seeds", index)
    engine = open_engine(index)
    print(f"judged queries: {len(load_judged())}  (tests/data/judged_fuzzy.tsv)")
    for mode, (top3, top10) in quality(engine).items():
        print(f"  {mode:<8} top-3 {top3:.2f}   top-10 {top10:.2f}")
    print("latency on the seed index")
    latency(engine)
    if args.latency_index:
        print(f"latency on {args.latency_index}")
        latency(open_engine(args.latency_index))


if __name__ == "__main__":
    main()
