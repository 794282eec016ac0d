"""One frozen configuration object; the only place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    """Paths and limits shared by the indexer, the query engine and the front ends."""

    corpus_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"
    user_dict: Path | None = None  # extra words for jieba, one a line
    page_size: int = 10
    max_page_size: int = 100
    max_query_chars: int = 200
    index_procs: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    searchers: int = 8  # web: pooled searchers per index generation (waitress's threads)

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        """Build a Config from SEARCHAPP_* environment variables, then apply overrides."""
        env = os.environ
        values: dict[str, object] = {}
        if "SEARCHAPP_CORPUS" in env:
            values["corpus_dir"] = Path(env["SEARCHAPP_CORPUS"])
        if "SEARCHAPP_INDEX" in env:
            values["index_dir"] = Path(env["SEARCHAPP_INDEX"])
        if "SEARCHAPP_USER_DICT" in env:
            values["user_dict"] = Path(env["SEARCHAPP_USER_DICT"])
        if "SEARCHAPP_INDEX_PROCS" in env:
            values["index_procs"] = int(env["SEARCHAPP_INDEX_PROCS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)  # type: ignore[arg-type]
