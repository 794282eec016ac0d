"""The live index for the web app: one Whoosh index per generation, pooled searchers.

A Whoosh `Index` can be shared between threads, a `Searcher` cannot. The store keeps
the index of the live generation (named by `index_dir/CURRENT`) and reads CURRENT on
every request, so a re-index is picked up by the next request without a restart, and
a request never sees a half-written generation (the indexer switches CURRENT only once
a generation is complete).

Each generation keeps a pool of searchers (one per server thread at most); a request
borrows one and gives it back at teardown, so per-searcher caches (stored-field
readers, term infos) stay warm across requests.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from whoosh.index import Index
from whoosh.searching import Searcher

from ..config import Config
from ..errors import SearchAppError
from ..indexer import current_generation, open_index

EXTENSION = "searchapp"


class SearcherPool:
    """At most `size` searchers of one index, opened on demand and reused."""

    def __init__(self, index: Index, size: int) -> None:
        self.index = index
        self.size = max(1, size)
        self._idle: list[Searcher] = []
        self._opened = 0
        self._retired = False
        self._cond = threading.Condition()
        # idle searchers hold open files: close them when the pool is dropped
        weakref.finalize(self, close_all, self._idle)

    def acquire(self, timeout: float = 30.0) -> Searcher:
        with self._cond:
            while not self._idle and self._opened >= self.size:
                if not self._cond.wait(timeout):
                    raise ServerBusy("检索服务繁忙，请稍后再试", hint="所有检索器都在使用中")
            if self._idle:
                return self._idle.pop()
            self._opened += 1
        try:
            return self.index.searcher()
        except BaseException:
            with self._cond:
                self._opened -= 1
                self._cond.notify()
            raise

    def release(self, searcher: Searcher) -> None:
        with self._cond:
            if self._retired:
                self._opened -= 1
                searcher.close()
            else:
                self._idle.append(searcher)
            self._cond.notify()

    def retire(self) -> None:
        """Close idle searchers now and borrowed ones when they come back."""
        with self._cond:
            self._retired = True
            for searcher in self._idle:
                searcher.close()
            self._opened -= len(self._idle)
            self._idle.clear()


def close_all(searchers: list[Searcher]) -> None:
    for searcher in searchers:
        if not searcher.is_closed:
            searcher.close()
    searchers.clear()


class ServerBusy(SearchAppError):
    """Every searcher is in use for longer than a request should wait."""

    status = 503


@dataclass(frozen=True)
class Generation:
    """An opened generation of the index, its meta data (searchapp.json) and searchers."""

    path: Path
    index: Index
    meta: dict[str, Any]
    searchers: SearcherPool


class IndexStore:
    """Opens the live generation once and reopens when CURRENT names another one."""

    def __init__(self, index_dir: Path, searchers: int = 2) -> None:
        self.index_dir = index_dir
        self.searchers = searchers
        self._lock = threading.Lock()
        self._live: Generation | None = None

    def live(self) -> Generation:
        """The live generation; raises IndexMissing or IndexIncompatible."""
        path = current_generation(self.index_dir)
        with self._lock:
            if self._live is None or path is None or self._live.path != path:
                index, meta = open_index(self.index_dir)
                if self._live is not None:
                    self._live.searchers.retire()
                pool = SearcherPool(index, self.searchers)
                self._live = Generation(Path(index.storage.folder), index, meta, pool)
            return self._live


def init_store(app: Flask, config: Config) -> None:
    app.extensions[EXTENSION] = IndexStore(config.index_dir, config.searchers)
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
    """This request's searcher, borrowed on first use and given back at teardown."""
    if "searcher" not in g:
        generation = get_generation()
        g.searcher = generation.searchers.acquire()
        g.searcher_pool = generation.searchers
    searcher: Searcher = g.searcher
    return searcher


def close_searcher(exc: BaseException | None = None) -> None:
    searcher = g.pop("searcher", None)
    pool = g.pop("searcher_pool", None)
    if searcher is not None and pool is not None:
        pool.release(searcher)


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
