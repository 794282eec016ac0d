"""A normal install: the wheel, in a fresh venv outside the checkout, indexes and serves.

The wheel is built from a copy of the project (nothing is written into the checkout) and
installed without its dependencies; the venv sees the dependencies through a .pth file
naming the folders they are installed in here (this test's own environment), so the test
runs offline and quickly. That folder's editable `searchapp` is a finder that only a
site folder's .pth would install, so it cannot shadow the wheel: the test checks that
`searchapp` is imported from the venv.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
# not needed to build the wheel: large, generated or another tool's folders (the top-level
# solr/ is the development cluster's Maven project; searchapp/solr/ is the backend, kept)
TOP_LEVEL_SKIPPED = {
    ".git",
    ".venv",
    "build",
    "dist",
    "test-output",
    "index",
    "tests",
    "benchmarks",
    "seeds",
    "solr",
}
ANYWHERE_SKIPPED = shutil.ignore_patterns(
    "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"
)


def not_for_the_build(folder: str, names: list[str]) -> set[str]:
    skipped = set(ANYWHERE_SKIPPED(folder, names))
    if Path(folder).resolve() == PROJECT_ROOT:
        skipped |= TOP_LEVEL_SKIPPED & set(names)
    return skipped


SLOGAN = quote("三清两建")  # in a URL
DEPENDENCIES = ("flask", "whoosh", "jieba", "waitress", "numpy", "rapidfuzz", "click")


def run(command: list[str | Path], cwd: Path, timeout: float = 120) -> str:
    """Run a command, failing the test with its output when it fails; returns stdout."""
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


def clean_env() -> dict[str, str]:
    """This environment without anything that points at the checkout or configures searchapp."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SEARCHAPP_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def dependency_folders() -> list[str]:
    """The site folders this interpreter imports the dependencies from."""
    folders = []
    for name in DEPENDENCIES:
        module = importlib.import_module(name)
        folder = str(Path(module.__file__ or "").resolve().parent.parent)
        if folder not in folders:
            folders.append(folder)
    return folders


def build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=not_for_the_build)
    dist = tmp / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", source, "--no-deps", "--quiet", "-w", dist], cwd=tmp)
    (wheel,) = dist.glob("searchapp-*.whl")
    return wheel


def make_venv(tmp: Path, wheel: Path) -> Path:
    """A venv with the wheel installed (no pip of its own); returns its bin folder."""
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", python]
    run([*pip, "install", "--no-deps", "--quiet", wheel], cwd=tmp)
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp)
    pth = Path(site.strip()) / "_dependencies_of_the_test.pth"
    pth.write_text("\n".join(dependency_folders()) + "\n", encoding="utf-8")
    return venv / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        body: bytes = response.read()
        return body.decode("utf-8")


@pytest.fixture()
def serving(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The wheel's `searchapp serve` on a free port; yields its base URL and the work folder."""
    bin_dir = make_venv(tmp_path, build_wheel(tmp_path))
    work = tmp_path / "work"  # an empty working folder: no index/, seeds/ or config file
    work.mkdir()
    imported = run([bin_dir / "python", "-c", "import searchapp; print(searchapp.__file__)"], work)
    assert Path(imported.strip()).is_relative_to(tmp_path / "venv"), imported

    corpus = shutil.copytree(PROJECT_ROOT / "seeds", tmp_path / "corpus")
    index = tmp_path / "index"
    command = [bin_dir / "searchapp", "index", "--corpus", corpus, "--index", index, "--json"]
    report = json.loads(run(command, work))
    assert (report["mode"], report["documents"], report["failed"]) == ("full", 9, 0)
    assert report["index_dir"] == str(index.resolve()) or Path(report["index_dir"]) == index

    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    command = [bin_dir / "searchapp", "serve", "--index", index, "--corpus", corpus]
    command += ["--port", str(port)]
    server = subprocess.Popen(
        [str(c) for c in command], cwd=work, env=clean_env(), stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(base, server, tmp_path / "serve.log")
        yield base, work
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def wait_for_server(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(encoding="utf-8")[-3000:]
        try:
            fetch(f"{base}/healthz")
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("searchapp serve did not answer within 60 s:\n" + log.read_text("utf-8")[-3000:])


def test_wheel_in_a_fresh_venv_indexes_and_serves_the_full_ui(serving: tuple[str, Path]):
    base, work = serving
    api = json.loads(fetch(f"{base}/api/search?q={SLOGAN}"))
    assert api["total"] == 5
    hit = api["hits"][0]
    assert "<mark>三清两建</mark>" in hit["snippet"]

    home = fetch(f"{base}/")
    assert "检索乡镇政府工作报告" in home and 'href="/static/app.css"' in home

    results = fetch(f"{base}/search?q={SLOGAN}")
    assert '<strong class="total">5</strong>' in results
    assert "<mark>三清两建</mark>" in results and hit["title"] in results

    document = fetch(f"{base}/doc/{hit['doc_id']}?q={SLOGAN}")
    assert hit["title"] in document and f'id="{hit["para_id"]}"' in document
    assert "<mark>三清两建</mark>" in document

    css = fetch(f"{base}/static/app.css")
    static = PROJECT_ROOT / "searchapp" / "web" / "static" / "app.css"
    assert css == static.read_text(encoding="utf-8")

    assert not list(work.iterdir()), "nothing is written into the working folder"
