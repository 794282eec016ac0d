"""The live engine for the web app: one engine per index generation, shared by all threads.

The store reads `index_dir/CURRENT` on every request, so a re-index is picked up by the
next request without a restart, and a request never sees a half-written generation
(the indexer switches CURRENT only once a generation is complete). A request keeps the
engine it started with (`g.engine`) to its end.

Opening a generation's engine (reading its columns) takes up to a second on a large
index. It happens once per generation, under that generation's own lock; meanwhile
requests go on being answered by the previous generation's engine. An engine that is
no longer live is dropped from the store and closed once its last request lets go.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g

from ..config import Config
from ..embedded import EmbeddedEngine, current_generation
from ..engine import Engine, connect
from ..errors import IndexMissing

EXTENSION = "searchapp"


class Slot:
    """One generation's engine, opened at most once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.engine: EmbeddedEngine | None = None

    def open(self) -> EmbeddedEngine:
        with self.lock:
            if self.engine is None:
                engine = EmbeddedEngine(self.path)
                engine.warm()  # meanwhile the previous generation answers (EngineStore)
                self.engine = engine
            return self.engine


class EngineStore:
    """The engine of the live generation; opens a new one when CURRENT names another."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._lock = threading.Lock()  # guards the slots only, never held while opening
        self._slots: dict[Path, Slot] = {}
        self._serving: Slot | None = None  # the newest generation whose engine is open

    def live(self) -> Engine:
        """The live engine; raises IndexMissing or IndexIncompatible."""
        path = current_generation(self.index_dir)
        if path is None:
            raise IndexMissing(
                f"{self.index_dir} 中还没有索引",
                hint=f"先建立索引：searchapp index --index {self.index_dir}",
            )
        with self._lock:
            slot = self._slots.setdefault(path, Slot(path))
            serving = self._serving
        if slot.engine is None and serving is not None and serving is not slot:
            if not slot.lock.acquire(blocking=False):  # another request is opening it
                assert serving.engine is not None
                return serving.engine
            slot.lock.release()
        engine = slot.open()
        with self._lock:
            if self._serving is not slot:
                self._serving = slot
                for old in [p for p in self._slots if p != path]:
                    del self._slots[old]  # closed when the last request drops it
        return engine


class CollectionStore:
    """A SolrCloud collection's engine: opened on first use (again after a failed open);
    Solr itself keeps every search on one consistent view of the collection."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._engine: Engine | None = None

    def live(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._engine = connect(self.config)  # BackendUnavailable: a 503 page
            return self._engine


def init_store(app: Flask, config: Config) -> None:
    if config.backend == "solr":
        app.extensions[EXTENSION] = CollectionStore(config)
    else:
        app.extensions[EXTENSION] = EngineStore(config.index_dir)
    app.teardown_appcontext(release_engine)


def get_config() -> Config:
    config: Config = current_app.config["SEARCHAPP"]
    return config


def get_engine() -> Engine:
    """The engine this request reads (fixed at its first use in the request)."""
    if "engine" not in g:
        g.engine = current_app.extensions[EXTENSION].live()
    engine: Engine = g.engine
    return engine


def release_engine(exc: BaseException | None = None) -> None:
    g.pop("engine", None)


def index_meta() -> dict[str, Any]:
    """The build report of the generation this request reads."""
    meta: dict[str, Any] = get_engine().meta
    return meta


def index_status() -> dict[str, Any]:
    """The live generation, its size, and the per-file report of the run that built it."""
    engine = get_engine()
    meta = engine.meta
    files = [
        {
            key: f.get(key)
            for key in ("path", "status", "reason", "message", "documents", "paragraphs")
        }
        | {"ocr_pages": f.get("ocr_pages", 0), "ocr_confidence": f.get("ocr_confidence", 0.0)}
        | {"warnings": list(f.get("warnings") or [])}
        for f in engine.file_reports()
    ]
    return {
        "generation": engine.status().get("generation", ""),
        "built_at": meta.get("built_at"),
        "documents": meta.get("documents", 0),
        "paragraphs": meta.get("paragraphs", 0),
        "files": files,
    }
