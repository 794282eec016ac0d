"""The bitset engine (searchapp.fastsearch) beside plain Whoosh: same results, latency.

For each query of benchmarks/run.py (top 10 with total and facets, keyword mode) it
checks that both paths give the same page and prints p50/p95 in milliseconds:

* cold: a fresh Whoosh searcher / an empty term cache (the generation's columns
  loaded, as in a server that has answered one query);
* warm: the same query again (five times).

    python benchmarks/fast_vs_whoosh.py --index /tmp/bench20v3 [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from whoosh.searching import Searcher

sys.path.insert(0, str(Path(__file__).parent))

from run import QUERIES, percentile

from searchapp import fastsearch
from searchapp.indexer import open_index
from searchapp.query import SearchPage, SearchRequest, run_search


def page_of(searcher: Searcher, query: str, fast: bool) -> SearchPage:
    fastsearch.ENABLED = fast
    return run_search(searcher, SearchRequest(q=query, page_size=10))


def summary(page: SearchPage) -> tuple[object, ...]:
    top = [(h.doc_id, h.para_id, h.score) for h in page.hits]
    return page.total, page.facets, top


def timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=Path("/tmp/bench20v3"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ix, _ = open_index(args.index)
    searcher = ix.searcher()
    started = time.perf_counter()
    page_of(searcher, "工作", fast=True)  # loads the generation's columns and jieba
    print(f"first query (generation columns + jieba): {(time.perf_counter() - started):.2f} s")
    generation = fastsearch.get_generation(searcher)
    assert generation is not None
    print(f"documents {generation.size}, columns {generation.columns_bytes / 2**20:.1f} MiB")
    mismatches = 0
    repeats = range(args.repeat)
    print(f"{'':<12} {'whoosh cold':>12} {'warm p50/p95':>14} {'fast cold':>11} {'warm':>8}")
    for kind, queries in QUERIES.items():
        times: dict[str, list[float]] = {"wc": [], "ww": [], "fc": [], "fw": []}
        for q in queries:
            with ix.searcher() as fresh:
                times["wc"].append(timed(lambda s=fresh, q=q: page_of(s, q, fast=False)))
            times["ww"] += [timed(lambda q=q: page_of(searcher, q, False)) for _ in repeats]
            generation.terms.clear()
            times["fc"].append(timed(lambda q=q: page_of(searcher, q, fast=True)))
            times["fw"] += [timed(lambda q=q: page_of(searcher, q, True)) for _ in repeats]
            if summary(page_of(searcher, q, True)) != summary(page_of(searcher, q, False)):
                mismatches += 1
                print(f"MISMATCH {q}")
        print(
            f"{kind:<12} {percentile(times['wc'], 0.5):12.1f}"
            f" {percentile(times['ww'], 0.5):7.1f}/{percentile(times['ww'], 0.95):<6.1f}"
            f" {percentile(times['fc'], 0.5):11.1f}"
            f" {percentile(times['fw'], 0.5):7.2f}/{percentile(times['fw'], 0.95):<6.2f}"
        )
    print(f"term cache {generation.terms.used / 2**20:.1f} MiB, mismatches {mismatches}")
    fastsearch.ENABLED = True


if __name__ == "__main__":
    main()
