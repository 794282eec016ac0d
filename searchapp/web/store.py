"""The live index for the web app: one Whoosh index per generation, a searcher per request.

A Whoosh `Index` can be shared between threads, a `Searcher` cannot. The store keeps
the index of the live generation (named by `index_dir/CURRENT`) and reads CURRENT on
every request, so a re-index is picked up by the next request without a restart, and
a request never sees a half-written generation (the indexer switches CURRENT only once
a generation is complete).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from whoosh.index import Index
from whoosh.searching import Searcher

from ..config import Config
from ..indexer import current_generation, open_index

EXTENSION = "searchapp"


@dataclass(frozen=True)
class Generation:
    """An opened generation of the index and its meta data (searchapp.json)."""

    path: Path
    index: Index
    meta: dict[str, Any]


class IndexStore:
    """Opens the live generation once and reopens when CURRENT names another one."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._live: Generation | None = None

    def live(self) -> Generation:
        """The live generation; raises IndexMissing or IndexIncompatible."""
        path = current_generation(self.index_dir)
        with self._lock:
            if self._live is None or path is None or self._live.path != path:
                index, meta = open_index(self.index_dir)
                self._live = Generation(Path(index.storage.folder), index, meta)
            return self._live


def init_store(app: Flask, config: Config) -> None:
    app.extensions[EXTENSION] = IndexStore(config.index_dir)
    app.teardown_appcontext(close_searcher)


def get_config() -> Config:
    config: Config = current_app.config["SEARCHAPP"]
    return config


def get_generation() -> Generation:
    """The generation this request reads (fixed at its first use in the request)."""
    if "generation" not in g:
        g.generation = current_app.extensions[EXTENSION].live()
    generation: Generation = g.generation
    return generation


def get_searcher() -> Searcher:
    """This request's searcher, opened on first use and closed at teardown."""
    if "searcher" not in g:
        g.searcher = get_generation().index.searcher()
    searcher: Searcher = g.searcher
    return searcher


def close_searcher(exc: BaseException | None = None) -> None:
    searcher = g.pop("searcher", None)
    if searcher is not None:
        searcher.close()


def index_status() -> dict[str, Any]:
    """The live generation, its size, and the per-file report of the run that built it."""
    generation = get_generation()
    meta = generation.meta
    files = [
        {
            key: f.get(key)
            for key in ("path", "status", "reason", "message", "documents", "paragraphs")
        }
        | {"warnings": list(f.get("warnings") or [])}
        for f in meta.get("files", [])
    ]
    return {
        "generation": generation.path.name,
        "built_at": meta.get("built_at"),
        "documents": meta.get("documents", 0),
        "paragraphs": meta.get("paragraphs", 0),
        "files": files,
    }
