"""The embedded backend: a local Whoosh index plus a file beside each segment, one engine a
generation.

Whoosh is imported in this package only.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import IndexMissing
from .engine import EmbeddedEngine
from .indexer import IndexReport, build_index, current_generation, read_meta

__all__ = [
    "EmbeddedEngine",
    "IndexReport",
    "build_index",
    "current_generation",
    "open_live",
    "read_meta",
]


def open_live(index_dir: Path) -> EmbeddedEngine:
    """An engine over the live generation that `index_dir/CURRENT` names."""
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexMissing(
            f"{index_dir} 中还没有索引", hint=f"先建立索引：searchapp index --index {index_dir}"
        )
    return EmbeddedEngine(generation)
