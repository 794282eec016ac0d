"""The seam between what a user asked and the engine that answers it.

Front ends (CLI, web, JSON API) and the search services (search.py, fuzzy.py,
similar.py) talk to an `Engine` only: they hand it a `QueryPlan` (plan.py) and get
back document references, counts and `Record`s — never a backend object. A reference to a
hit is opaque and valid for the engine that returned it only.

The embedded engine (searchapp.embedded) is one published generation of the local
index; a new generation gets a new engine, while searches on the old one finish.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from .config import Config
from .embedded import open_live
from .plan import QueryPlan
from .results import Matches, Record, TownTable, Trend
from .solr import open_solr_engine


class Engine(Protocol):
    """What every backend offers; thread-safe."""

    backend: str
    meta: dict[str, Any]  # the index's build report (counts, corpus folder); may be {}

    def segment(self, text: str) -> list[str]:
        """A text's words, cut as the index's word channel cuts them."""
        ...

    def match(self, plan: QueryPlan, start: int = 0, stop: int | None = 10) -> Matches:
        """Total and facets over every hit; ranked hits [start:stop] (stop None: all)."""
        ...

    def iter_matches(self, plan: QueryPlan, batch: int = 1000) -> Iterator[tuple[Any, float]]:
        """Every hit as (ref, score), best first, produced in batches."""
        ...

    def records(self, refs: Sequence[Any]) -> list[Record]:
        """The stored paragraphs of these refs, in the same order."""
        ...

    def document(self, doc_id: str) -> list[Record]:
        """Every paragraph of one report ([] when there is none)."""
        ...

    def trend(self, plan: QueryPlan) -> Trend:
        """Per-year reports, towns, paragraphs and occurrences, and a town × year table,
        counted from every hit without building hits."""
        ...

    def town_table(self, plan: QueryPlan, best: int | None = None) -> TownTable:
        """Every hit counted by town and report (most paragraphs first), the best hit of
        the first `best` towns (at least; every town's when None) named in `best_refs`,
        without building hits."""
        ...

    def count_exact(self, text: str) -> int:
        """How many paragraphs hold `text` verbatim."""
        ...

    def candidates(self, key: str, limit: int, plan: QueryPlan | None = None) -> list[Any]:
        """Paragraphs likely to hold wording close to `key` (exact-match form), best first,
        within the plan's filters."""
        ...

    def vocabulary(self) -> list[str]:
        """The index's words of two or more characters."""
        ...

    def status(self) -> dict[str, Any]: ...

    def file_reports(self) -> list[dict[str, Any]]:
        """What the build did with each source file (`FileReport` fields, mtime), by path."""
        ...

    def release_pages(self) -> None:
        """After an answer that read every text: give back the pages of mapped files it
        read (memory.py), where the engine maps any."""
        ...

    def close(self) -> None: ...


def open_engine(index_dir: Path) -> Engine:
    """The engine of the live generation of an embedded index folder."""
    return open_live(index_dir)


def connect(config: Config) -> Engine:
    """The engine a configuration names: the embedded index's live generation, or a
    SolrCloud collection."""
    if config.backend == "solr":
        return open_solr_engine(config.solr_url, config.solr_collection)
    return open_live(config.index_dir)
