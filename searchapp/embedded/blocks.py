"""The author's paragraphs of a generation: the pieces of a cut paragraph as one unit.

plan.py's rules make a paragraph over documents.MAX_PARAGRAPH characters, indexed as
several pieces (records), one unit of matching in paragraph scope. The engine's sets
are bitsets over records; a set of whole author paragraphs is a bitset holding every
piece of each (`spread`), so AND, OR and NOT of such sets are the author paragraphs'
own. What a piece-level index cannot see is a term held across a cut: the exact-match
forms of the pieces of every cut paragraph are kept here, one after another, and an
occurrence across a cut is found from the pair of characters at the cut
(`across_cuts`). A corpus has few cut paragraphs (the seeds three of 330), so this
costs little memory and nothing at all where no paragraph was cut.

Pieces of one author paragraph are consecutive documents of one segment (the indexer
writes a report's paragraphs in order, and deletes or adds a report whole).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from .codec import bit_flags, bits_from_ids, id_array

log = logging.getLogger(__name__)


class Blocks:
    """Which records are pieces of a cut paragraph, and the texts of those paragraphs."""

    def __init__(
        self,
        piece: np.ndarray,
        pieces: np.ndarray,
        live: int,
        nbytes: int,
        units: Callable[[int], str],
    ) -> None:
        self.piece = piece.astype(np.int64)  # each record's place in its author paragraph
        self.pieces = pieces.astype(np.int64)  # how many pieces that paragraph has
        self.nbytes = nbytes
        firsts = self.consistent_firsts(live)
        counts = self.pieces[firsts]
        self.firsts = firsts  # each cut paragraph's first piece, ascending
        self.members = spread_ids(firsts, counts)
        self.bits = bits_from_ids(self.members, nbytes) if len(firsts) else 0
        self.text = ""  # the cut paragraphs' exact-match forms, one after another
        self.starts = np.zeros(0, dtype=np.int64)  # where each piece starts in `text`
        self.cut_pairs: dict[str, list[tuple[int, int, int]]] = {}  # (cut, start, end)
        if len(firsts):
            self.read_texts(units, counts)

    def consistent_firsts(self, live: int) -> np.ndarray:
        """The first pieces of the live cut paragraphs whose pieces are in place."""
        if not len(self.pieces):
            return np.zeros(0, dtype=np.int64)
        live_flags = bit_flags(live, self.nbytes)[: len(self.pieces)].astype(bool)
        firsts = np.flatnonzero((self.pieces > 1) & (self.piece == 0) & live_flags)
        keep = []
        for first in firsts.tolist():
            count = int(self.pieces[first])
            span = slice(first, first + count)
            places = self.piece[span]
            if len(places) == count and (places == np.arange(count)).all():
                keep.append(first)
            else:  # never written so; matched piece by piece rather than wrongly
                log.warning("the pieces of paragraph %d are not in order: not joined", first)
        return np.asarray(keep, dtype=np.int64)

    def read_texts(self, units: Callable[[int], str], counts: np.ndarray) -> None:
        parts: list[str] = []
        starts: list[int] = []
        at = 0
        for first, count in zip(self.firsts.tolist(), counts.tolist(), strict=True):
            begin = at
            cuts: list[tuple[str, int]] = []
            for n, doc in enumerate(range(first, first + count)):
                text = units(doc)
                if n:  # a cut: the pair of characters across it
                    cuts.append((parts[-1][-1:] + text[:1], at))
                starts.append(at)
                parts.append(text)
                at += len(text)
            for pair, cut in cuts:
                self.cut_pairs.setdefault(pair, []).append((cut, begin, at))
        self.text = "".join(parts)
        self.starts = np.asarray(starts, dtype=np.int64)

    def __bool__(self) -> bool:
        return bool(self.bits)

    # --- sets of author paragraphs ----------------------------------------------------------

    def spread(self, bits: int) -> int:
        """`bits` with every piece of each cut paragraph it touches."""
        touched = bits & self.bits
        if not touched:
            return bits
        docs = id_array(touched).astype(np.int64)
        firsts = np.unique(docs - self.piece[docs])
        return bits | bits_from_ids(spread_ids(firsts, self.pieces[firsts]), self.nbytes)

    def across_cuts(self, units: str) -> int:
        """The pieces in which an occurrence of `units` starts that runs across a cut
        (one the pieces' own exact channels cannot see)."""
        found: set[int] = set()
        length = len(units)
        for j in range(1, length):  # the cut falls after units[:j]
            for cut, start, end in self.cut_pairs.get(units[j - 1 : j + 1], ()):
                at = cut - j
                if at >= start and at + length <= end and self.text.startswith(units, at):
                    found.add(at)
        if not found:
            return 0
        pieces = [self.piece_at(at) for at in sorted(found)]
        return bits_from_ids(np.unique(np.asarray(pieces, dtype=np.int64)), self.nbytes)

    def piece_at(self, at: int) -> int:
        """The record whose exact-match form holds position `at` of `text`."""
        index = int(np.searchsorted(self.starts, at, side="right")) - 1
        return int(self.members[index])

    def first_of(self, docs: np.ndarray) -> np.ndarray:
        """Each record's author paragraph, named by its first piece's docnum."""
        docs = docs.astype(np.int64)
        return docs - self.piece[docs]

    def count_in_block(self, doc: int, units: str) -> int:
        """Occurrences of `units` in the whole author paragraph of piece `doc`
        (`str.count`: not overlapping, across cuts included)."""
        return self.block_units(doc).count(units)

    def block_units(self, doc: int) -> str:
        """The exact-match form of the author paragraph that piece `doc` belongs to."""
        first = doc - int(self.piece[doc])
        index = int(np.searchsorted(self.members, first))
        last = index + int(self.pieces[first])
        end = int(self.starts[last]) if last < len(self.starts) else len(self.text)
        return self.text[int(self.starts[index]) : end]


def spread_ids(firsts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """first, first+1, …, first+count-1 for each (first, count), ascending."""
    if not len(firsts):
        return np.zeros(0, dtype=np.int64)
    total = int(counts.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(firsts, counts) + offsets
