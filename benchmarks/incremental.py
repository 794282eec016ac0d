"""Time an incremental update: one file added to an indexed corpus, then removed again.

python benchmarks/incremental.py --corpus /tmp/corpus20 --index /tmp/bench20
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from searchapp.embedded import build_index

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
ADDED = "zz_incremental_benchmark.txt"


def timed_build(corpus: Path, index: Path) -> None:
    start = time.perf_counter()
    report = build_index(corpus, index, procs=2)
    seconds = time.perf_counter() - start
    changes = f"+{len(report.added)} ~{len(report.updated)} -{len(report.removed)}"
    print(f"  {report.mode:<12} {changes:<10} {seconds:7.2f} s   {report.paragraphs} paragraphs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args()
    print("full or catch-up run")
    timed_build(args.corpus, args.index)
    print("nothing changed")
    timed_build(args.corpus, args.index)
    print("one file added")
    shutil.copy(PROJECT_ROOT / "seeds" / "002_728e3c0284a2da64.txt", args.corpus / ADDED)
    try:
        timed_build(args.corpus, args.index)
    finally:
        (args.corpus / ADDED).unlink()
    print("the file removed again")
    timed_build(args.corpus, args.index)


if __name__ == "__main__":
    main()
