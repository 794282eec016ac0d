"""Everything that reads whoosh3's internals, in one place, checked when an index opens.

The embedded engine reads posting lists, length bytes and columns straight from
Whoosh's files (decoding them through Whoosh's matchers costs microseconds a posting).
That leans on whoosh3 3.54's private layout: the W3 posting-block format,
`reader._terms`, `_perdoc._cached_reader`, column `_typecode/_count/_dbfile`,
`leaf._storage`. `check_reader` exercises every one of them when a generation is
opened, so a whoosh3 release that changes them gives a clear "incompatible whoosh3"
error at open, never a failure in the middle of a request.
"""

from __future__ import annotations

import io
import pickle
import struct
import threading
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from itertools import accumulate
from pathlib import Path
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.reading import IndexReader, TermNotFound
from whoosh.util.numeric import byte_to_length

from ..errors import IndexIncompatible
from ..fields import SORT_KEY, WORDS

POSTINGS_MAGIC = b"W3Bl"
BLOCK_LENGTH = struct.Struct("!i")
LENGTH_OF_BYTE = tuple(float(byte_to_length(b)) for b in range(256))


@dataclass(frozen=True)
class Leaf:
    """One segment of a generation: its reader, first global docnum and deletions."""

    reader: IndexReader
    offset: int
    postfile: Any
    deleted: frozenset[int]
    size: int  # documents, deleted ones included
    live_count: int
    folder: Path  # where the segment's files (and its grams file) are
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
                leaf._terms._postfile,
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


def iter_blocks(postfile: Any, terminfo: Any, lock: threading.Lock) -> Iterator[tuple[Any, ...]]:
    """A term's posting blocks as (id deltas, weights, values), as W3PostingsWriter wrote them.

    Each block: a signed big-endian length (negative for the last), the pickled block
    info, then the (possibly zlib-compressed) pickled data tuple.
    """
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves a 1-tuple here
        length = length[0]
    with lock:
        buf = postfile.get(offset, length)
    if buf[:4] != POSTINGS_MAGIC:
        raise ValueError("not a W3 posting list")
    pos = 4
    while pos < len(buf):
        size = BLOCK_LENGTH.unpack_from(buf, pos)[0]
        last = size < 0
        size = abs(size)
        pos += 4
        stream = io.BytesIO(buf[pos : pos + size])
        info = pickle.load(stream)
        data = buf[pos + stream.tell() : pos + size]
        yield pickle.loads(zlib.decompress(data) if info[3] else data)
        pos += size
        if last:
            break


def block_weights(weights: Any, count: int) -> Iterable[float]:
    """A block's weights as W3LeafMatcher expands them."""
    if weights is None:
        return [1.0] * count
    if isinstance(weights, float):
        return [weights] * count
    return weights


def term_postings(leaf: Leaf, field: str, text: str) -> tuple[array, array, int]:
    """A term's live postings in one segment: (global docnums, weights, doc frequency).

    The doc frequency counts deleted documents too, as Whoosh's does.
    """
    ids, weights = array("I"), array("d")
    try:
        with leaf.lock:
            info = leaf.reader._terms.term_info(field, text.encode("utf-8"))
    except TermNotFound:
        return ids, weights, 0
    if info.is_inlined():
        docs, values, _ = info.inlined_postings()
        blocks: Iterable[tuple[Any, ...]] = [(docs, values, None)]
        deltas = False
    else:
        blocks = iter_blocks(leaf.postfile, info, leaf.lock)
        deltas = True
    for block_ids, block_values, _ in blocks:
        docs = list(accumulate(block_ids)) if deltas else list(block_ids)
        for doc, weight in zip(docs, block_weights(block_values, len(docs)), strict=True):
            if doc not in leaf.deleted:
                ids.append(doc + leaf.offset)
                weights.append(weight)
    return ids, weights, info.doc_frequency()


def term_docs(leaf: Leaf, field: str, value: str) -> list[int]:
    """Global docnums of the live documents holding an ID field's value (public API)."""
    with leaf.lock:
        try:
            local = list(leaf.reader.postings(field, value).all_ids())
        except TermNotFound:
            return []
    return [d + leaf.offset for d in local if d not in leaf.deleted]


# --- columns --------------------------------------------------------------------------------


def word_lengths(leaf: Leaf) -> bytes:
    """Each document's word-field length byte (Whoosh's length encoding)."""
    column = leaf.reader._perdoc._cached_reader(_lenfield(WORDS), LENGTHS_COLUMN)
    count = leaf.size
    if column is None:
        return bytes(count)
    if isinstance(column, NumericColumn.Reader) and column._typecode == "B":
        # one read instead of one per document; documents past the end weigh 0
        stored = min(column._count, count)
        return bytes(column._dbfile.get(column._basepos, stored)).ljust(count, b"\0")
    return bytes(column[i] for i in range(count))


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
        for leaf in leaves:
            word_lengths(leaf)
            for field, text in leaf.reader.terms_from(WORDS, ""):
                word = text.decode("utf-8") if isinstance(text, bytes) else text
                term_postings(leaf, field, word)
                break
        column_values(leaves[:1], SORT_KEY)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError, struct.error) as exc:
        raise IndexIncompatible(
            f"whoosh3 {version('whoosh3')} 与本程序不兼容（{type(exc).__name__}: {exc}）",
            hint="请安装 setup.cfg 中固定的 whoosh3 版本：pip install -e .",
        ) from exc
    return leaves
