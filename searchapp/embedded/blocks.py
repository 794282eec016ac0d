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

The pieces of one author paragraph are found by their report and their first piece's
place in it (ordinal − piece), not by their docnums: Whoosh's parallel writer deals
documents to its processes in batches, so a report's paragraphs, and the pieces of
one of them, can land in different segments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from .codec import bit_flags, bits_at, bits_from_ids, id_array

log = logging.getLogger(__name__)


class Blocks:
    """Which records are pieces of a cut paragraph, and the texts of those paragraphs.

    The cut paragraphs are numbered 0, 1, … ("groups"); `members` holds their pieces'
    docnums group after group, each group's in piece order, `starts[g]` where group g's
    pieces begin in `members` and `counts[g]` how many there are; `group_of[doc]` is
    the group of a record (-1 for one that is not a piece of a cut paragraph).
    """

    def __init__(
        self,
        piece: np.ndarray,
        pieces: np.ndarray,
        ordinals: np.ndarray,
        reports: np.ndarray,
        live: int,
        nbytes: int,
        units: Callable[[int], str],
    ) -> None:
        self.piece = piece.astype(np.int64)  # each record's place in its author paragraph
        self.nbytes = nbytes
        self.group_of = np.full(len(piece), -1, dtype=np.int64)
        self.members, self.starts, self.counts = self.find_groups(
            pieces.astype(np.int64), ordinals.astype(np.int64), reports.astype(np.int64), live
        )
        self.owners = np.repeat(np.arange(len(self.counts)), self.counts)  # each member's
        self.group_of[self.members] = self.owners
        self.bits = bits_from_ids(self.members, nbytes) if len(self.members) else 0
        self.flags = bit_flags(self.bits, nbytes).view(bool)  # each record: a piece?
        self.ascending = np.sort(self.members)
        self.text = ""  # the cut paragraphs' exact-match forms, one after another
        self.offsets = np.zeros(0, dtype=np.int64)  # where each member starts in `text`
        self.cut_pairs: dict[str, list[tuple[int, int, int]]] = {}  # (cut, start, end)
        if len(self.members):
            self.read_texts(units)

    def find_groups(
        self, pieces: np.ndarray, ordinals: np.ndarray, reports: np.ndarray, live: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(members, starts, counts) of the live cut paragraphs whose pieces are all
        there, each once."""
        empty = np.zeros(0, dtype=np.int64)
        if not len(pieces):
            return empty, empty, empty
        live_flags = bit_flags(live, self.nbytes)[: len(pieces)].astype(bool)
        docs = np.flatnonzero((pieces > 1) & live_flags)
        if not len(docs):
            return empty, empty, empty
        firsts = ordinals[docs] - self.piece[docs]  # the first piece's place in the report
        order = np.lexsort((self.piece[docs], firsts, reports[docs]))
        docs = docs[order]
        keys = np.stack([reports[docs], firsts[order]])
        _, group, counts = np.unique(keys, axis=1, return_inverse=True, return_counts=True)
        group = group.reshape(-1)
        starts = np.cumsum(counts) - counts
        places = np.arange(len(docs)) - starts[group]
        whole = (counts == pieces[docs[starts]]) & np.logical_and.reduceat(
            self.piece[docs] == places, starts
        )
        if not whole.all():  # never written so; matched piece by piece rather than wrongly
            log.warning("%d cut paragraphs lack pieces: not joined", int((~whole).sum()))
            docs = docs[whole[group]]
            counts = counts[whole]
            starts = np.cumsum(counts) - counts
        return docs, starts, counts

    def read_texts(self, units: Callable[[int], str]) -> None:
        parts: list[str] = []
        offsets: list[int] = []
        at = 0
        for start, count in zip(self.starts.tolist(), self.counts.tolist(), strict=True):
            begin = at
            cuts: list[tuple[str, int]] = []
            for n in range(count):
                text = units(int(self.members[start + n]))
                if n:  # a cut: the pair of characters across it
                    cuts.append((parts[-1][-1:] + text[:1], at))
                offsets.append(at)
                parts.append(text)
                at += len(text)
            for pair, cut in cuts:
                self.cut_pairs.setdefault(pair, []).append((cut, begin, at))
        self.text = "".join(parts)
        self.offsets = np.asarray(offsets, dtype=np.int64)

    def __bool__(self) -> bool:
        return bool(self.bits)

    # --- sets of author paragraphs ----------------------------------------------------------

    def groups(self, docs: np.ndarray) -> np.ndarray:
        """Each record's cut paragraph (-1 where it is not a piece of one)."""
        return self.group_of[docs]

    def held(self, bits: int) -> np.ndarray:
        """The pieces of cut paragraphs in a bitset, ascending."""
        return self.ascending[bits_at(bits, self.nbytes, self.ascending).view(bool)]

    def pieces_of(self, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every piece of these cut paragraphs, and the place in `groups` of each one's."""
        counts = self.counts[groups]
        at = spread_ids(self.starts[groups], counts)
        return self.members[at], np.repeat(np.arange(len(groups)), counts)

    def siblings(self, doc: int) -> list[int]:
        """The pieces of the cut paragraph that record `doc` is one of, in order."""
        group = int(self.group_of[doc]) if doc < len(self.group_of) else -1
        if group < 0:
            return []
        start = int(self.starts[group])
        return self.members[start : start + int(self.counts[group])].tolist()

    def spread(self, bits: int) -> int:
        """`bits` with every piece of each cut paragraph it touches."""
        touched = bits & self.bits
        if not touched:
            return bits
        groups = np.unique(self.groups(id_array(touched)))
        return bits | bits_from_ids(np.sort(self.pieces_of(groups)[0]), self.nbytes)

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
        index = int(np.searchsorted(self.offsets, at, side="right")) - 1
        return int(self.members[index])

    def block_units(self, doc: int) -> str:
        """The exact-match form of the author paragraph that piece `doc` belongs to."""
        group = int(self.group_of[doc])
        first = int(self.starts[group])
        last = first + int(self.counts[group])
        end = int(self.offsets[last]) if last < len(self.offsets) else len(self.text)
        return self.text[int(self.offsets[first]) : end]

    def totals(self, values: np.ndarray) -> np.ndarray:
        """For each cut paragraph, the sum of `values` (one per member, as `members`)
        over its pieces, in piece order."""
        return np.bincount(self.owners, weights=values, minlength=len(self.counts))


def spread_ids(firsts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """first, first+1, …, first+count-1 for each (first, count), in that order."""
    if not len(firsts):
        return np.zeros(0, dtype=np.int64)
    total = int(counts.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(firsts.astype(np.int64), counts) + offsets
