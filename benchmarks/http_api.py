"""Top-10 searches through the HTTP API: `searchapp serve` on each engine, timed by a client.

What a script or the browser waits for on `GET /api/search?q=…&size=10` (the page, its
total and its facets as JSON), both engines served the same way in the same run: one
server on an embedded index, one on a Solr collection. Prints p50/p95 per query kind of
run.py's set, and Solr's p50 over the embedded engine's.

    python benchmarks/http_api.py --index /tmp/solrbench20/embedded --corpus /tmp/corpus20 \\
        --solr-url http://127.0.0.1:PORT/solr --collection bench --repeat 20
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import QUERIES  # the benchmarks' shared query set

SEARCHAPP = Path(sys.executable).parent / "searchapp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(args: list[str], data: Path) -> Iterator[str]:
    """`searchapp serve` with `args` on a free port until the block ends; its base URL."""
    port = free_port()
    env = os.environ | {"SEARCHAPP_DATA": str(data)}
    log = (data / f"serve-{port}.log").open("w")
    server = subprocess.Popen(
        [str(SEARCHAPP), "serve", "--port", str(port), *args], stdout=log, stderr=log, env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"searchapp serve {' '.join(args)} did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def search_ms(base: str, q: str) -> float:
    url = f"{base}/api/search?" + urllib.parse.urlencode({"q": q, "size": "10"})
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = json.loads(response.read())
    elapsed = (time.perf_counter() - start) * 1000
    if "total" not in body:
        raise SystemExit(f"{url}: no total in {body}")
    return elapsed


def timings(base: str, repeat: int) -> dict[str, list[float]]:
    for qs in QUERIES.values():  # warm-up: every query once
        for q in qs:
            search_ms(base, q)
    return {
        kind: [search_ms(base, q) for q in qs for _ in range(repeat)]
        for kind, qs in QUERIES.items()
    }


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="the embedded index folder")
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--solr-url", required=True)
    parser.add_argument("--collection", default="bench")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="searchapp-http-"))
    common = ["--corpus", str(args.corpus)]
    engines = {
        "embedded": [*common, "--index", str(args.index)],
        "solr": [*common, "--backend", "solr", "--solr-url", args.solr_url,
                 "--collection", args.collection],
    }  # fmt: skip
    results = {}
    for name, options in engines.items():  # one server at a time: the other is not running
        with served(options, data) as base:
            results[name] = timings(base, args.repeat)
    print(f"GET /api/search?q=…&size=10, {args.repeat} times each query, ms (p50 / p95)")
    print(f"{'query kind':<14} {'embedded':>16} {'solr':>16} {'solr / embedded':>16}")
    for kind in QUERIES:
        e, s = results["embedded"][kind], results["solr"][kind]
        ratio = statistics.median(s) / statistics.median(e)
        print(
            f"{kind:<14} {statistics.median(e):7.1f} / {p(e, 0.95):6.1f} "
            f"{statistics.median(s):7.1f} / {p(s, 0.95):6.1f} {ratio:15.1f}×"
        )


if __name__ == "__main__":
    main()
