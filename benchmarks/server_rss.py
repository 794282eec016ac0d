"""Memory of a server: open the embedded index in the web app, ask it every benchmark
query as a browser or script would (the results page's JSON, the towns view, the trend,
a CSV export of every hit), print the RSS and what it is made of.

    python benchmarks/server_rss.py --index /tmp/b20/searchapp

`run.py` starts it after its own queries, so the figure is one server's, not the
benchmark process's (which also holds the corpus and the tutorial index). Requests go
through Flask's test client, so the app's own hooks run (memory.py: heap handed back
and texts unmapped after large answers); `--no-release` measures without them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from unittest import mock
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import all_queries

from searchapp.config import Config
from searchapp.web import create_app


def status_mb() -> dict[str, float]:
    """This process's memory from /proc: VmRSS now, VmHWM its peak since exec, and
    RSS split into anonymous memory and mapped files (the index's sidecar files)."""
    figures = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                figures[name] = int(value.split()[0]) / 1024
    return figures


def describe(figures: dict[str, float]) -> str:
    return (
        f"RSS {figures['VmRSS']:.0f} MB (anonymous {figures['RssAnon']:.0f},"
        f" mapped files {figures['RssFile']:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--no-release", action="store_true", help="without memory.py's hooks")
    args = parser.parse_args()
    if args.no_release:
        mock.patch("searchapp.web.release_after_answer", lambda _: None).start()
    client = create_app(Config(index_dir=args.index)).test_client()
    client.get("/api/search?q=测试").close()  # the index opened, jieba loaded
    opened = status_mb()
    start = time.perf_counter()
    for _, q in all_queries():
        text = quote(q)
        for url in (
            f"/api/search?q={text}",
            f"/api/towns?q={text}",
            f"/api/trend?q={text}",
            f"/export?q={text}&format=csv",
        ):
            answer = client.get(url)
            assert answer.status_code == 200, (url, answer.status_code)
            answer.get_data()
            answer.close()  # a streamed answer's close hooks run here, as after sending
    after = status_mb()
    print(f"server: {describe(opened)} with the index open")
    print(
        f"server: {describe(after)} after every benchmark query"
        f" ({time.perf_counter() - start:.0f} s; peak {after['VmHWM']:.0f} MB)"
    )


if __name__ == "__main__":
    main()
