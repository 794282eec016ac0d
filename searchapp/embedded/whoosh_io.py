"""Everything that reads whoosh3's internals, in one place, checked when an index opens.

The embedded engine reads whole columns straight from Whoosh's files (one read a
segment instead of one a value) and finds each segment's folder. That leans on
whoosh3 3.54's private layout: `VarBytesColumn.Reader._lengths/_dbfile/_basepos`,
`leaf._storage` (and `OverlayStorage.b`). `check_reader` exercises them when a
generation is opened, so a whoosh3 release that changes them gives a clear
"incompatible whoosh3" error at open, never a failure in the middle of a request.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from itertools import accumulate
from pathlib import Path

from whoosh.columns import VarBytesColumn
from whoosh.reading import IndexReader, TermNotFound

from ..errors import IndexIncompatible
from ..fields import SORT_KEY


@dataclass(frozen=True)
class Leaf:
    """One segment of a generation: its reader, first global docnum and deletions."""

    reader: IndexReader
    offset: int
    deleted: frozenset[int]
    size: int  # documents, deleted ones included
    live_count: int
    folder: Path  # where the segment's files (and its sidecar file) are
    segment_id: str
    lock: threading.Lock  # the segment's files are read under it (they may seek)

    def live_docs(self) -> Iterator[int]:
        return (d for d in range(self.size) if d not in self.deleted)


def load_leaves(reader: IndexReader) -> list[Leaf]:
    """The segments of a reader, in docnum order."""
    leaves = []
    for leaf, offset in reader.leaf_readers():
        deleted = frozenset(leaf.deleted_docs_set) if leaf.has_deletions() else frozenset()
        storage = leaf._storage  # the folder's storage, or an overlay of it
        storage = getattr(storage, "b", storage)  # OverlayStorage(compound file, folder)
        leaves.append(
            Leaf(
                leaf,
                offset,
                deleted,
                leaf.doc_count_all(),
                leaf.doc_count(),
                Path(storage.folder),
                leaf.segment().segment_id(),
                threading.Lock(),
            )
        )
    return leaves


# --- postings -------------------------------------------------------------------------------


def term_docs(leaf: Leaf, field: str, value: str) -> list[int]:
    """Global docnums of the live documents holding an ID field's value (public API)."""
    with leaf.lock:
        try:
            local = list(leaf.reader.postings(field, value).all_ids())
        except TermNotFound:
            return []
    return [d + leaf.offset for d in local if d not in leaf.deleted]


# --- columns --------------------------------------------------------------------------------


def column_values(leaves: list[Leaf], name: str) -> list[str]:
    """A text column's value for every document: one read per segment, not per value."""
    values: list[str] = []
    for leaf in leaves:
        column = leaf.reader.column_reader(name)
        raw = column.raw_column() if hasattr(column, "raw_column") else None
        if not isinstance(raw, VarBytesColumn.Reader):
            values.extend(column)
            continue
        lengths = raw._lengths  # VarBytesColumn.Reader.__iter__ reads them back to back
        data = bytes(raw._dbfile.get(raw._basepos, sum(lengths)))
        ends = list(accumulate(lengths))
        values.extend(
            data[end - length : end].decode("utf-8")
            for end, length in zip(ends, lengths, strict=True)
        )
    return values


# --- the check ------------------------------------------------------------------------------


def check_reader(reader: IndexReader) -> list[Leaf]:
    """Load the reader's segments, exercising every internal read once; IndexIncompatible
    if this whoosh3 release lays its files out otherwise."""
    try:
        leaves = load_leaves(reader)
        column_values(leaves[:1], SORT_KEY)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, struct.error) as exc:
        raise IndexIncompatible(
            f"whoosh3 {version('whoosh3')} 与本程序不兼容（{type(exc).__name__}: {exc}）",
            hint="请安装 setup.cfg 中固定的 whoosh3 版本：pip install -e .",
        ) from exc
    return leaves
