"""Every hit streamed: rows per second, time to the first bytes and memory (issue 22 part 4).

Prints figures, asserts nothing. For each 2-character word of run.py (the largest answers)
it times, on an index already built by run.py (WORK/searchapp):

* the CSV and JSON Lines exports as `searchapp search --all --format csv|jsonl` write
  them (search.iter_export_rows → export.write_rows) into /dev/null;
* /export?format=csv through the Flask app, read chunk by chunk as a browser would:
  the time to the first chunk and to the last;
* the growth of the Python heap while one export runs (tracemalloc peak over the start,
  measured in a separate pass so that tracing does not slow the timed ones).

    python benchmarks/run.py --corpus /tmp/corpus200 --work /tmp/b200 --no-tutorial
    python benchmarks/export.py --index /tmp/b200/searchapp [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from pathlib import Path
from urllib.parse import quote

from searchapp.config import Config
from searchapp.engine import open_engine
from searchapp.export import iter_csv_chunks, iter_jsonl_chunks
from searchapp.results import SearchRequest
from searchapp.search import iter_export_rows
from searchapp.web import create_app

WORDS = ["发展", "乡村", "治理", "企业", "项目", "民生"]
FORMATS = {"csv": iter_csv_chunks, "jsonl": iter_jsonl_chunks}


def stream(engine, q: str, fmt: str) -> tuple[int, float, float]:  # type: ignore[no-untyped-def]
    """(rows, seconds to the first row, seconds in all) of one export into /dev/null (the
    CSV header goes out before any row is read: the first row is the honest figure)."""
    counted = [0]
    first = 0.0
    start = time.perf_counter()

    def rows():  # type: ignore[no-untyped-def]
        nonlocal first
        for row in iter_export_rows(engine, SearchRequest(q=q)):
            if not counted[0]:
                first = time.perf_counter() - start
            counted[0] += 1
            yield row

    with open(os.devnull, "wb") as sink:
        for chunk in FORMATS[fmt](rows()):
            sink.write(chunk)
    return counted[0], first, time.perf_counter() - start


def heap_growth(engine, q: str) -> float:  # type: ignore[no-untyped-def]
    """MB the Python heap grew to at most while one CSV export ran."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    with open(os.devnull, "wb") as sink:
        for chunk in iter_csv_chunks(iter_export_rows(engine, SearchRequest(q=q))):
            sink.write(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 1e6


def web_export(client, q: str) -> tuple[int, float, float]:  # type: ignore[no-untyped-def]
    """(bytes, seconds to the first chunk, seconds in all) of /export?format=csv."""
    start = time.perf_counter()
    response = client.get(f"/export?q={quote(q)}&format=csv", buffered=False)
    assert response.status_code == 200, response.status_code
    first = None
    size = 0
    for chunk in response.response:
        if first is None:
            first = time.perf_counter() - start
        size += len(chunk)
    response.close()
    return size, first or 0.0, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = open_engine(args.index)
    client = create_app(Config(index_dir=args.index)).test_client()
    client.get("/api/search?q=测试")
    for fmt in FORMATS:
        stream(engine, "测试", fmt)  # jieba and the columns loaded before timing
    print(f"{'word':<6} {'format':<8} {'rows':>8} {'first ms':>9} {'total s':>8} {'rows/s':>9}")
    print("  (first ms: the first row for csv/jsonl, the first chunk of the response for /export)")
    rates: dict[str, list[float]] = {}
    for q in WORDS:
        for fmt in FORMATS:
            runs = [stream(engine, q, fmt) for _ in range(args.repeat)]
            rows, first, total = sorted(runs, key=lambda r: r[2])[len(runs) // 2]
            rates.setdefault(fmt, []).append(rows / total)
            print(
                f"{q:<6} {fmt:<8} {rows:>8} {first * 1000:>9.1f} {total:>8.2f} {rows / total:>9.0f}"
            )
        size, first, total = sorted(
            (web_export(client, q) for _ in range(args.repeat)), key=lambda r: r[2]
        )[args.repeat // 2]
        print(f"{q:<6} {'/export':<8} {size >> 20:>6}MB {first * 1000:>9.1f} {total:>8.2f}")
    for fmt, values in rates.items():
        print(f"{fmt}: rows/s min {min(values):.0f}, median {sorted(values)[len(values) // 2]:.0f}")
    print("heap growth during one CSV export (tracemalloc peak):")
    for q in WORDS[:2]:
        print(f"  {q}: {heap_growth(engine, q):.1f} MB")


if __name__ == "__main__":
    main()
