"""Memory of a server-like process: open the embedded index, answer every benchmark
query the way the web app does (page, every hit, towns, trend, export), print the RSS.

    python benchmarks/server_rss.py --index /tmp/b20/searchapp

`run.py` starts it after its own queries, so the figure is one engine's, not the
benchmark process's (which also holds the corpus and the tutorial index).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import all_queries

from searchapp.engine import open_engine
from searchapp.export import write_csv
from searchapp.results import SearchRequest
from searchapp.search import iter_export_rows, run_search, run_trend, town_usage


def status_mb(field: str) -> float:
    """A memory figure of this process from /proc (VmRSS now, VmHWM its peak since exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args()
    engine = open_engine(args.index)
    opened = status_mb("VmRSS")
    for _, q in all_queries():
        run_search(engine, SearchRequest(q=q, page_size=10))
        run_search(engine, SearchRequest(q=q, all=True))
        town_usage(engine, SearchRequest(q=q))
        run_trend(engine, SearchRequest(q=q))
        with open(os.devnull, "wb") as sink:
            write_csv(iter_export_rows(engine, SearchRequest(q=q)), sink)
    after, peak = status_mb("VmRSS"), status_mb("VmHWM")
    print(
        f"server-like process: RSS {opened:.0f} MB after opening the index, "
        f"{after:.0f} MB after every benchmark query (peak {peak:.0f} MB)"
    )


if __name__ == "__main__":
    main()
