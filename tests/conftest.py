"""Shared fixtures: small indexes built in temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from searchapp.config import Config
from searchapp.embedded import build_index
from searchapp.engine import Engine, open_engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout (tests only)
SEEDS = PROJECT_ROOT / "seeds"


@pytest.fixture(scope="session")
def seed_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A Config whose index holds the seed corpus (built once per test session)."""
    root = tmp_path_factory.mktemp("seed-index")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    config = Config(corpus_dir=corpus, index_dir=root / "index", index_procs=1)
    build_index(config.corpus_dir, config.index_dir, procs=1)
    return config


@pytest.fixture(scope="session")
def seed_engine(seed_config: Config) -> Iterator[Engine]:
    """The engine of the seed index (shared: engines are thread-safe and read-only)."""
    engine = open_engine(seed_config.index_dir)
    yield engine
    engine.close()


def write_corpus(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write a small corpus: relative path → text (UTF-8) or bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture()
def make_index(tmp_path: Path):
    """Build an index of a small corpus given as {name: text}; returns its Config."""

    def make(files: dict[str, str | bytes], **options: object) -> Config:
        corpus = write_corpus(tmp_path / "corpus", files)
        config = Config(corpus_dir=corpus, index_dir=tmp_path / "index", index_procs=1)
        build_index(corpus, config.index_dir, procs=1, **options)  # type: ignore[arg-type]
        return config

    return make


from solr_fixture import solr_cluster  # noqa: E402, F401  (session-wide local SolrCloud)
