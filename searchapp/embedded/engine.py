"""The embedded engine: one published Whoosh generation, searched through bitsets.

Whoosh holds the stored metadata and the facet columns; each of its segments has a
file beside it with the texts, the exact channel and the jieba word channel
(sidecar.py). An `EmbeddedEngine` is one generation, opened once and shared by every
thread:

* hit sets are bitset algebra (Python ints, bit i = global document number i) over
  posting lists decoded once (codec.py) and kept in an LRU bounded in bytes, so
  totals and facet counts over every hit cost a few big-int operations;
* ranking follows `plan.py`'s rules, scored with numpy over the hits of the best
  verbatim tier only (a verbatim term outranks any BM25 sum);
* records (stored fields) are read for the hits a caller asks for, nothing more.

Generation folders never change once published, so nothing is ever invalidated;
the engine's caches go when the engine is dropped (`close`).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import weakref
from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import fields as F
from ..analysis import exact_key, segment
from ..headings import recurring_headings
from ..plan import EXACT_BOOST, K1, B, QueryPlan, Term, in_one_sentence
from ..results import Matches, Record, ReportRows, Shared, TownTable, Trend, YearCount
from .blocks import Blocks
from .codec import bit_flags, bits_at, bits_from_ids, id_array, ids_from_bits
from .indexer import open_generation
from .sidecar import SegmentFile, open_segment, query_grams
from .whoosh_io import Leaf, check_reader, column_values, term_docs

log = logging.getLogger(__name__)

TERM_CACHE_BYTES = 64 * 2**20  # decoded postings kept per engine
FEW_HITS = 32  # fewer than 1/FEW_HITS of all documents: work on document lists
MASKED_VALUES = 64  # a facet value gets a bitset when it holds over 1/64 of the documents
DENSE_LOOKUP = 8  # scores for over 1/8 of all documents: looked up in a dense array
PARALLEL_HITS = 100_000  # more hits than this: facets counted beside the ranking
RARE_GRAMS = 12  # fuzzy candidates: the query's rarest pairs that the index holds


class LruCache:
    """A thread-safe LRU cache bounded by the summed cost of its values."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Any, value: Any, cost: int) -> Any:
        """Store a value (keeping one already stored under the key) and return the stored one."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                return item[0]
            self._items[key] = (value, cost)
            self.used += cost
            while self.used > self.budget and len(self._items) > 1:
                _, (_, old_cost) = self._items.popitem(last=False)
                self.used -= old_cost
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0


class WordPostings:
    """A word's live postings in global docnums, with each posting's BM25; immutable."""

    __slots__ = ("bits", "cost", "df", "idf", "ids", "scores", "tfs")

    def __init__(
        self, ids: np.ndarray, tfs: np.ndarray, scores: np.ndarray, idf: float, nbytes: int
    ) -> None:
        self.ids = ids  # uint32, ascending
        self.tfs = tfs  # uint8, the word's count in each paragraph (for cut paragraphs)
        self.scores = scores  # float64, BM25 of the word in each paragraph
        self.df = len(ids)  # deleted paragraphs included, like the paragraph count
        self.idf = idf
        self.bits = bits_from_ids(array("I", ids.tobytes()), nbytes)
        self.cost = nbytes + 13 * len(ids) + 200

    def scores_at(self, docs: np.ndarray, size: int) -> np.ndarray:
        """The word's BM25 in each of `docs` (ascending docnums below `size`), 0 where
        it is absent: through a dense array when `docs` are many, else by binary search."""
        if not len(self.ids):
            return np.zeros(len(docs), dtype=np.float64)
        if len(docs) * DENSE_LOOKUP >= size:
            dense = np.zeros(size, dtype=np.float64)
            dense[self.ids] = self.scores
            return dense[docs]
        return self.found_at(self.scores, docs)

    def tfs_at(self, docs: np.ndarray) -> np.ndarray:
        """The word's count in each of `docs` (any order), 0 where it is absent."""
        if not len(self.ids):
            return np.zeros(len(docs), dtype=np.float64)
        return self.found_at(self.tfs, docs).astype(np.float64)

    def found_at(self, values: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """`values` (one per posting) at each of `docs` by binary search, 0 where absent."""
        at = np.minimum(np.searchsorted(self.ids, docs), len(self.ids) - 1)
        return np.where(self.ids[at] == docs, values[at], 0)


@dataclass(frozen=True)
class FacetColumn:
    """One facet field: each document's value code, its live documents per value, and a
    bitset for each value common enough to be worth one (memory: n/8 bytes a bitset)."""

    values: list[str]
    codes: np.ndarray  # uint32, one per document
    docs: list[array]
    masks: dict[int, int]
    code_of: dict[str, int]

    def bits(self, code: int, nbytes: int) -> int:
        found = self.masks.get(code)
        return found if found is not None else bits_from_ids(self.docs[code], nbytes)

    def per_code(self, hits: int, docs: np.ndarray, nbytes: int) -> np.ndarray:
        """How many of the hits (a bitset, and its ids) hold each value code: with a
        bitset AND a value when every value but one has a bitset and the hits are many
        (gathering their codes then costs more), else by counting their codes."""
        unmasked = len(self.values) - len(self.masks)
        if unmasked > 1 or len(docs) * 4 <= nbytes * len(self.masks):
            return np.bincount(self.codes[docs], minlength=len(self.values))
        counts = np.zeros(len(self.values), dtype=np.int64)
        for code, mask in self.masks.items():
            counts[code] = (mask & hits).bit_count()
        if unmasked:  # every document holds one value: the last one holds the rest
            rest = next(c for c in range(len(self.values)) if c not in self.masks)
            counts[rest] = len(docs) - int(counts.sum())
        return counts

    @functools.cached_property
    def value_array(self) -> np.ndarray:
        """The values as a numpy array of objects (picked many at a time)."""
        values = np.empty(len(self.values), dtype=object)
        values[:] = self.values
        return values

    @functools.cached_property
    def rank(self) -> np.ndarray:
        """Each value code's place in the values' sorted order (worked out on first use)."""
        rank = np.empty(len(self.values), dtype=np.int64)
        rank[sorted(range(len(self.values)), key=self.values.__getitem__)] = np.arange(len(rank))
        return rank


class EmbeddedEngine:
    """One published generation of the embedded index, ready to search; thread-safe."""

    backend = "embedded"

    def __init__(self, generation: Path, term_budget: int = TERM_CACHE_BYTES) -> None:
        self.path = generation
        self.index, self.meta = open_generation(generation)
        self.reader = self.index.reader()
        weakref.finalize(self, close_reader, self.reader)
        self.leaves: list[Leaf] = check_reader(self.reader)
        self.words = tuple(self.meta["words"])
        self.files: list[SegmentFile] = [
            open_segment(leaf.folder, leaf.segment_id) for leaf in self.leaves
        ]
        self.size = self.reader.doc_count_all()
        self.nbytes = (self.size + 8) >> 3
        self.live = bits_from_ids(
            (d + leaf.offset for leaf in self.leaves for d in leaf.live_docs()), self.nbytes
        )
        keys = column_values(self.leaves, F.SORT_KEY)
        self.reports, self.report_codes = self.load_reports()
        # made when the engine opens: made during queries, these long-lived objects
        # would sit among the short-lived hits and keep their memory from being freed
        self._report_records = [report_part(report) for report in self.reports]
        self.order = array("I", sorted(range(self.size), key=keys.__getitem__))  # stable
        self.rank_array = np.empty(self.size, dtype=np.uint32)
        self.rank_array[np.frombuffer(self.order, dtype=np.uint32)] = np.arange(
            self.size, dtype=np.uint32
        )
        self.facets = {name: self.load_facet(name) for name in F.COLUMNS}
        self.sections = self.load_facet(F.SECTION_KEY)
        self._section_paths = [
            tuple(v.split(F.SECTION_SEPARATOR)) if v else () for v in self.sections.values
        ]
        self._headings: list[str] | None = None  # the section facet's values, on first use
        self._heading_bits: dict[str, int] = {}
        self.dates = self.load_facet(F.SORT_DATE)
        # each document's place in date order (its report's date, else its year)
        date_rank = np.argsort(np.argsort(self.dates.values, kind="stable"), kind="stable")
        self.date_rank = date_rank.astype(np.uint32)[self.dates.codes] if self.size else None
        # a report with neither date nor year sorts after the others, newest or oldest first
        self.undated = (np.asarray(self.dates.values, dtype=object) == "")[self.dates.codes]
        self.lengths = np.concatenate(
            [f.lengths.astype(np.float64) for f in self.files] or [np.zeros(0)]
        )
        self.avg_length = float(self.lengths.sum() / self.size) if self.size else 1.0
        self.avg_length = self.avg_length or 1.0
        self.cache = LruCache(term_budget)
        self.blocks = Blocks(  # the pieces of cut paragraphs, one unit in paragraph scope
            np.concatenate([f.piece for f in self.files] or [np.zeros(0, np.uint32)]),
            np.concatenate([f.pieces for f in self.files] or [np.zeros(0, np.uint32)]),
            np.concatenate([f.ordinals for f in self.files] or [np.zeros(0, np.uint32)]),
            self.report_codes,
            self.live,
            self.nbytes,
            self.units,
        )
        self._vocabulary: list[str] | None = None
        self._vocabulary_lock = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Release the generation's files and caches (searches still running may finish)."""
        self.cache.clear()
        close_reader(self.reader)

    def release_pages(self) -> None:
        """Unmap the segment files' texts after an answer that read them all (sidecar.py)."""
        for segment_file in self.files:
            segment_file.release_texts()

    def warm(self) -> None:
        """Make now the tables that the first towns, trend and facet answers would make
        (~0.2 s at 200 MB): a served engine's first users should not wait for them, a
        one-off search from the command line never needs them."""
        self.pairs  # noqa: B018 (a cached property: read to be made)
        self.town_names.json  # noqa: B018
        self.report_entries.open_json  # noqa: B018
        self.heading_members  # noqa: B018
        for column in self.facets.values():
            column.rank  # noqa: B018
            column.value_array  # noqa: B018

    def segment(self, text: str) -> list[str]:
        """Words of a text as this index's word channel cuts them."""
        return segment(text, self.words)

    def status(self) -> dict[str, Any]:
        return {"backend": self.backend, "generation": self.path.name, "paragraphs": self.size}

    def file_reports(self) -> list[dict[str, Any]]:
        return list(self.meta.get("files", []))

    # --- columns --------------------------------------------------------------------------

    def load_reports(self) -> tuple[list[dict[str, str]], np.ndarray]:
        """Every report's fields and each paragraph's report code.

        A report is its whole set of fields: a file updated in place leaves its old
        version in an older segment (its paragraphs deleted) beside the new one.
        """
        reports: list[dict[str, str]] = []
        code_of: dict[tuple[tuple[str, str], ...], int] = {}
        parts = [np.zeros(0, dtype=np.uint32)]
        for segment_file in self.files:
            local = []
            for report in segment_file.reports:
                key = tuple(sorted(report.items()))
                code = code_of.get(key)
                if code is None:
                    code = code_of[key] = len(reports)
                    reports.append(report)
                local.append(code)
            parts.append(np.array(local, dtype=np.uint32)[segment_file.report_of])
        return reports, np.concatenate(parts)

    def load_facet(self, name: str) -> FacetColumn:
        code_of: dict[str, int] = {}
        by_report = name in F.REPORT_FIELDS  # then a code a report, mapped to each paragraph
        values = (
            [report.get(name, "") for report in self.reports]
            if by_report
            else column_values(self.leaves, name)
        )
        codes = np.fromiter((code_of.setdefault(v, len(code_of)) for v in values), dtype=np.uint32)
        if by_report:
            codes = codes[self.report_codes]
        live = id_array(self.live).astype(np.uint32)
        live_codes = codes[live]
        grouped = live[np.argsort(live_codes, kind="stable")]  # by value, then docnum
        ends = np.cumsum(np.bincount(live_codes, minlength=len(code_of))).tolist()
        docs = [array("I", grouped[a:b].tobytes()) for a, b in zip([0, *ends], ends, strict=False)]
        common = self.size // MASKED_VALUES
        masks = {c: bits_from_ids(d, self.nbytes) for c, d in enumerate(docs) if len(d) > common}
        return FacetColumn(list(code_of), codes, docs, masks, code_of)

    # --- channels -------------------------------------------------------------------------

    def word(self, text: str) -> WordPostings:
        """A word's postings and BM25 scores, from the cache or decoded now."""
        key = ("word", text)
        found = self.cache.get(key)
        if found is not None:
            return found
        parts = [
            (ids + leaf.offset, tfs)
            for segment_file, leaf in zip(self.files, self.leaves, strict=True)
            for ids, tfs in [segment_file.word_postings(text)]
        ] or [(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8))]
        doc_ids = np.concatenate([ids for ids, _ in parts]).astype(np.uint32)
        tfs = np.concatenate([tfs for _, tfs in parts])
        tf = tfs.astype(np.float64)
        idf = math.log(self.size / (len(doc_ids) + 1)) + 1
        lengths = self.lengths[doc_ids]
        scores = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / self.avg_length)))
        postings = WordPostings(doc_ids, tfs, scores, idf, self.nbytes)
        return self.cache.put(key, postings, postings.cost)

    def exact(self, units: str) -> int:
        """Live paragraphs whose exact-match form contains `units`."""
        if not units:
            return 0
        key = ("exact", units)
        found = self.cache.get(key)
        if found is None:
            bits = 0
            for segment_file, leaf in zip(self.files, self.leaves, strict=True):
                bits |= segment_file.exact(units) << leaf.offset
            found = self.cache.put(key, bits & self.live, self.nbytes + 100)
        return found

    def term_bits(self, term: Term) -> int:
        """A term's matches: verbatim, or (unquoted) every one of its words."""
        bits = self.exact(term.units)
        if not term.quoted and term.words:
            words = -1
            for word in term.words:
                words &= self.word(word).bits
                if not words:
                    break
            bits |= words & self.live
        return bits

    def by_block(self, plan: QueryPlan) -> bool:
        """Whether the plan matches author paragraphs (paragraph scope, and some
        paragraph was cut) rather than records piece by piece."""
        return plan.scope == "paragraph" and bool(self.blocks)

    def across_cuts(self, units: str) -> int:
        """Pieces in which an occurrence of `units` across a cut starts."""
        key = ("across", units)
        found = self.cache.get(key)
        if found is None:
            found = self.cache.put(key, self.blocks.across_cuts(units), 200)
        return found

    def verbatim(self, plan: QueryPlan, units: str) -> int:
        """What holds `units` verbatim: every piece of the author paragraphs holding it
        (across a cut included) in paragraph scope, else the records holding it."""
        if not self.by_block(plan):
            return self.exact(units)
        key = ("verbatim", units)
        found = self.cache.get(key)
        if found is None:
            bits = self.blocks.spread(self.exact(units) | self.across_cuts(units))
            found = self.cache.put(key, bits, self.nbytes + 100)
        return found

    def block_term_bits(self, plan: QueryPlan, term: Term) -> int:
        """`term_bits` for author paragraphs: verbatim in one, or (unquoted) every one
        of its words in one, each word in any of its pieces."""
        bits = self.verbatim(plan, term.units)
        if not term.quoted and term.words:
            words = -1
            for word in term.words:
                words &= self.spread_word(word)
                if not words:
                    break
            bits |= words & self.live
        return bits

    def spread_word(self, word: str) -> int:
        """The author paragraphs holding a word in any of their pieces (every piece set)."""
        key = ("spread", word)
        found = self.cache.get(key)
        if found is None:
            found = self.cache.put(key, self.blocks.spread(self.word(word).bits), self.nbytes + 100)
        return found

    def piece_term_bits(self, term: Term) -> int:
        """The pieces that hold a term themselves (an occurrence across a cut counts for
        the piece it starts in): what chooses the piece that represents a hit."""
        return self.term_bits(term) | self.across_cuts(term.units)

    def collapse(self, plan: QueryPlan, bits: int) -> int:
        """Matching author paragraphs (every piece set) as one record each: the piece
        holding the most of the positive terms, then the most scoring words, then the
        earliest (plan.py)."""
        touched = bits & self.blocks.bits
        if not touched:
            return bits
        docs = self.blocks.held(touched)
        held = np.zeros(len(docs), dtype=np.int64)
        for term in plan.positive:
            held += bits_at(self.piece_term_bits(term), self.nbytes, docs)
        words = np.zeros(len(docs), dtype=np.int64)
        for word in plan.scoring_words:
            words += bits_at(self.word(word).bits, self.nbytes, docs)
        # the three keys as one (each under 2**20): one pass of best_in_groups, not three
        key = (held << 40) | (words << 20) | ((1 << 20) - 1 - self.blocks.piece[docs])
        best = best_in_groups(self.blocks.groups(docs), (key,), len(self.blocks.counts))
        chosen = docs[best[best >= 0]]
        return (bits & ~self.blocks.bits) | bits_from_ids(chosen, self.nbytes)

    def column(self, name: str) -> FacetColumn | None:
        if name == F.SECTION_KEY:
            return self.sections
        return self.facets.get(name)

    def filter_bits(self, plan: QueryPlan | None) -> int:
        """Documents passing the plan's filters: an AND over fields of an OR over the
        field's values, ranges and substrings."""
        bits = self.live
        if plan is None:
            return bits
        wanted: dict[str, set[int]] = {}
        for name, values in plan.filters:
            column = self.column(name)
            codes = wanted.setdefault(name, set())
            if column is not None:
                codes.update(column.code_of[v] for v in values if v in column.code_of)
        for name, lo, hi in plan.ranges:
            column = self.column(name)
            codes = wanted.setdefault(name, set())
            if column is not None:
                codes.update(
                    c for c, v in enumerate(column.values) if v.isdigit() and lo <= int(v) <= hi
                )
        for name, needles in plan.contains:
            column = self.column(name)
            codes = wanted.setdefault(name, set())
            if column is not None:
                keys = [exact_key(v) for v in column.values]
                codes.update(c for c, k in enumerate(keys) if any(n in k for n in needles))
        for name, codes in wanted.items():
            column = self.column(name)
            field_bits = 0
            for code in codes:
                assert column is not None
                field_bits |= column.bits(code, self.nbytes)
            bits &= field_bits
        return bits

    def hit_bits(self, plan: QueryPlan) -> int:
        """Every paragraph the plan matches (in its scope)."""
        bits = self.filter_bits(plan)
        for units in plan.excluded:
            bits &= ~self.verbatim(plan, units)
        if plan.scope == "document" and plan.groups:
            return self.document_scope(plan, bits)
        by_block = self.by_block(plan)
        for group in plan.groups:
            if not bits:
                break
            alternatives = 0
            for term in group:
                if by_block:
                    alternatives |= self.block_term_bits(plan, term)
                else:
                    alternatives |= self.term_bits(term)
            bits &= alternatives
        if by_block:
            return self.collapse(plan, bits)
        if plan.scope == "sentence" and plan.groups:
            kept = [
                d for d in ids_from_bits(bits) if in_one_sentence(plan, self.units(d), self.segment)
            ]
            bits = bits_from_ids(kept, self.nbytes)
        return bits

    def document_scope(self, plan: QueryPlan, allowed: int) -> int:
        """Paragraphs meeting at least one group, in reports where every group is met."""
        groups = []
        for group in plan.groups:
            alternatives = 0
            for term in group:
                alternatives |= self.term_bits(term)
            groups.append(alternatives & allowed)
        reports = None
        for bits in groups:
            codes = np.unique(self.report_codes[id_array(bits)])
            reports = codes if reports is None else np.intersect1d(reports, codes)
        anywhere = 0
        for bits in groups:
            anywhere |= bits
        docs = id_array(anywhere)
        return bits_from_ids(docs[np.isin(self.report_codes[docs], reports)], self.nbytes)

    def units(self, doc: int) -> str:
        """A paragraph's exact-match form (from its segment's file)."""
        segment, local = self.where(doc)
        return segment.units(local)

    # --- search ---------------------------------------------------------------------------

    def match(self, plan: QueryPlan, start: int = 0, stop: int | None = 10) -> Matches:
        """The plan's total, facet counts over every hit, and its ranked hits [start:stop]."""
        hits = self.hit_bits(plan)
        total = hits.bit_count()
        if not total:
            return Matches(0, {name: {} for name in (*F.COLUMNS, F.SECTION)}, [])
        docs = id_array(hits)  # made once: both need it, and it costs ~3-6 ms at 1 GB
        k = total if stop is None else min(stop, total)
        # many hits: the facets counted on another core while this one ranks (numpy lets
        # go of the GIL for most of both); ~15-25 % off a common word's search at 1 GB
        beside = (
            facet_pool().submit(self.facet_counts, hits, docs) if total >= PARALLEL_HITS else None
        )
        ranked = self.ranked(plan, hits, k, docs)
        facets = beside.result() if beside is not None else self.facet_counts(hits, docs)
        return Matches(total, facets, ranked[start:])

    def iter_matches(self, plan: QueryPlan, batch: int = 1000) -> Iterator[tuple[int, float]]:
        """Every hit as (docnum, score), best first."""
        docs, scores = self.ranked_arrays(plan, self.hit_bits(plan))
        for i in range(0, len(docs), batch):
            chunk = slice(i, i + batch)
            yield from zip(docs[chunk].tolist(), scores[chunk].tolist(), strict=True)

    def facet_counts(self, hits: int, docs: np.ndarray) -> dict[str, dict[str, int]]:
        """Hits (a bitset, and its ids) per value of each facet field, most first, then
        by value; and per recurring heading (the `section` facet)."""
        counts = {}
        for name, column in self.facets.items():
            per_code = column.per_code(hits, docs, self.nbytes)
            held = np.flatnonzero(per_code)
            # most first, then by value: one int64 key sorts 7x faster than lexsort's two
            held = held[np.argsort(-per_code[held] * len(column.values) + column.rank[held])]
            values = column.value_array[held].tolist()
            counts[name] = dict(zip(values, per_code[held].tolist(), strict=True))
        counts[F.SECTION] = self.section_counts(docs)
        return counts

    def section_counts(self, docs: np.ndarray) -> dict[str, int]:
        """Live hits under each recurring heading (`heading_bits`), most first, counted
        over the hits' section paths."""
        headings, heads, codes = self.heading_members
        per_code = np.bincount(self.sections.codes[docs], minlength=len(self.sections.values))
        per_heading = np.bincount(heads, weights=per_code[codes], minlength=len(headings))
        order = np.argsort(-per_heading, kind="stable")
        return {headings[i]: int(per_heading[i]) for i in order.tolist() if per_heading[i]}

    @functools.cached_property
    def heading_members(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The recurring headings, and each (heading, section path) pair where the path
        holds the heading, as two arrays (heading index, path code)."""
        headings = self.headings()
        pairs = [(i, c) for i, heading in enumerate(headings) for c in self.paths_under(heading)]
        heads = np.array([i for i, _ in pairs], dtype=np.int64)
        codes = np.array([c for _, c in pairs], dtype=np.int64)
        return headings, heads, codes

    @functools.cached_property
    def section_keys(self) -> list[str]:
        """Each section path in exact-match form."""
        return [exact_key(value) for value in self.sections.values]

    def paths_under(self, heading: str) -> list[int]:
        """The section codes whose path holds a heading (compared in exact-match form)."""
        key = exact_key(heading)
        return [code for code, path in enumerate(self.section_keys) if key in path]

    def headings(self) -> list[str]:
        """The section facet's values, worked out on first use (not when the engine opens)."""
        if self._headings is None:  # racing threads compute the same list
            self._headings = self.recurring_headings()
        return self._headings

    def recurring_headings(self) -> list[str]:
        """headings.py's facet values: reports per distinct heading, from the columns."""
        pairs = np.unique(
            np.stack([self.report_codes.astype(np.int64), self.sections.codes.astype(np.int64)]),
            axis=1,
        )
        seen: set[tuple[int, str]] = set()
        for report, code in pairs.T.tolist():
            path = self.sections.values[code]
            seen.update((report, h) for h in path.split(F.SECTION_SEPARATOR) if h)
        return recurring_headings(Counter(h for _, h in seen).items())

    def heading_bits(self, heading: str) -> int:
        """Paragraphs under a heading that contains `heading` (cached per heading)."""
        found = self._heading_bits.get(heading)
        if found is None:
            bits = 0
            for code in self.paths_under(heading):
                bits |= self.sections.bits(code, self.nbytes)
            found = self._heading_bits[heading] = bits & self.live
        return found

    def ranked(
        self, plan: QueryPlan, hits: int, k: int, docs: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k best hits as (docnum, score): score, then document order (`docs`: the
        hits' ids, when the caller has them)."""
        if k <= 0 or not hits:
            return []
        if plan.sort != "relevance":
            return self.by_date(plan, hits, k)
        if plan.scope == "document":
            return self.by_report(plan, hits, k)
        out: list[tuple[int, float]] = []
        for count, tier in self.verbatim_tiers(plan, hits):
            need = k - len(out)
            if need <= 0:
                break
            bonus = EXACT_BOOST * count
            ids = docs if docs is not None and tier == hits else None
            out.extend(self.best_in_tier(plan, tier, bonus, need, ids))
        return out

    def ranked_arrays(self, plan: QueryPlan, hits: int) -> tuple[np.ndarray, np.ndarray]:
        """Every hit as arrays of docnums and scores, best first (`ranked`'s order)."""
        if plan.sort != "relevance" or plan.scope == "document" or not hits:
            ranked = self.ranked(plan, hits, hits.bit_count())
            docs = np.fromiter((d for d, _ in ranked), dtype=np.uint32, count=len(ranked))
            return docs, np.fromiter((s for _, s in ranked), dtype=np.float64, count=len(ranked))
        docs, tiers, scores = self.relevance(plan, hits)
        order = np.lexsort((self.rank_array[docs], -scores, -tiers))
        return docs[order], scores[order]

    def relevance(self, plan: QueryPlan, hits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every hit in docnum order with its verbatim tier (how many terms it holds
        verbatim) and its score (EXACT_BOOST a tier + the words' BM25): relevance ranks
        by tier, then score, then document order."""
        docs = id_array(hits).astype(np.uint32)
        tiers = np.zeros(len(docs), dtype=np.int64)
        for term in plan.positive:
            tiers += bit_flags(self.verbatim(plan, term.units), self.nbytes)[docs]
        return docs, tiers, EXACT_BOOST * tiers + self.word_sums(plan, docs)

    def verbatim_tiers(self, plan: QueryPlan, hits: int) -> list[tuple[int, int]]:
        """Hits by how many terms they hold verbatim, most first, as (count, bitset)."""
        at_least = [hits]  # at_least[c]: hits holding at least c of the terms verbatim
        for term in plan.positive:
            bits = self.verbatim(plan, term.units)
            at_least.append(0)
            for c in range(len(at_least) - 1, 0, -1):
                at_least[c] |= at_least[c - 1] & bits
        tiers = [(c, at_least[c] & ~at_least[c + 1]) for c in range(len(at_least) - 1)]
        tiers.append((len(at_least) - 1, at_least[-1]))
        return [(c, t) for c, t in reversed(tiers) if t]

    def best_in_tier(
        self, plan: QueryPlan, tier: int, bonus: float, k: int, ids: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k best of one verbatim tier (`ids`: its ids, when known): bonus + the
        words' BM25, then document order."""
        if not plan.scoring_words:
            return [(doc, bonus) for doc in self.in_rank_order(tier, k)]
        docs, values = self.tier_order(plan, tier, bonus, k, ids)
        return list(zip(docs.tolist(), values.tolist(), strict=True))

    def tier_order(
        self, plan: QueryPlan, tier: int, bonus: float, k: int, ids: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """`best_in_tier` as arrays of docnums and scores."""
        if len(plan.scoring_words) == 1 and k * FEW_HITS < tier.bit_count():
            found = self.one_word_order(plan, tier, bonus, k)
            if found is not None:
                return found
        docs = (id_array(tier) if ids is None else ids).astype(np.uint32)
        values = bonus + self.word_sums(plan, docs)
        ranks = self.rank_array[docs]
        if k < len(docs):
            cut = np.partition(values, len(values) - k)[len(values) - k]
            keep = np.flatnonzero(values >= cut)
            docs, values, ranks = docs[keep], values[keep], ranks[keep]
        order = np.lexsort((ranks, -values))[:k]
        return docs[order], values[order]

    def one_word_order(
        self, plan: QueryPlan, tier: int, bonus: float, k: int
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """`tier_order` for a plan with one scoring word, from that word's postings: the
        k best postings in the tier that are not pieces of a cut paragraph, and the k
        best such pieces (scored as their author paragraph), merged. A hit without the
        word scores `bonus` alone, under any posting; None (use the general way) when
        fewer than k hits score above it. About half the time of scoring every hit (1 GB)."""
        postings = self.word(plan.scoring_words[0])
        by_block = self.by_block(plan)
        wanted = tier & ~self.blocks.bits if by_block else tier  # pieces: scored below
        values = np.where(
            bit_flags(wanted, self.nbytes).view(bool)[postings.ids], postings.scores, -np.inf
        )
        values += bonus  # in place: bonus + score, as scoring every hit adds them
        if len(values) > k:
            cut = np.partition(values, len(values) - k)[len(values) - k]
            keep = np.flatnonzero(values >= max(cut, bonus))  # ties at the cut included
        else:
            keep = np.flatnonzero(values > -np.inf)
        docs, found = postings.ids[keep].astype(np.uint32), values[keep]
        if by_block:
            pieces = self.blocks.held(tier & self.blocks.bits).astype(np.uint32)
            docs = np.concatenate((docs, pieces))
            found = np.concatenate((found, bonus + self.block_sums(plan, pieces)))
        order = np.lexsort((self.rank_array[docs], -found))[:k]
        if len(order) < k or found[order[-1]] <= bonus:
            return None
        return docs[order], found[order]

    def by_report(self, plan: QueryPlan, hits: int, k: int) -> list[tuple[int, float]]:
        """Hits grouped by report: reports in the order of their best hit, each report's
        hits in ranking order."""
        flat = replace(plan, scope="sentence")  # ranked record by record, as in sentence scope
        ranked = self.ranked(flat, hits, hits.bit_count())
        groups: dict[int, list[tuple[int, float]]] = {}
        for doc, score in ranked:
            groups.setdefault(int(self.report_codes[doc]), []).append((doc, score))
        return [item for group in groups.values() for item in group][:k]

    def by_date(self, plan: QueryPlan, hits: int, k: int) -> list[tuple[int, float]]:
        """The k newest (or oldest) hits, then in document order; scored as for relevance."""
        docs = id_array(hits).astype(np.uint32)
        assert self.date_rank is not None
        dates = self.date_rank[docs].astype(np.int64)
        keys = (self.rank_array[docs], -dates if plan.sort == "newest" else dates)
        order = np.lexsort((*keys, self.undated[docs]))  # the last key sorts first
        chosen = docs[order[:k]]
        scores = dict(self.best_in_tier(plan, bits_from_ids(chosen, self.nbytes), 0.0, k))
        for term in plan.positive:  # add the verbatim bonuses
            exact = self.verbatim(plan, term.units)
            for doc in scores:
                if (exact >> doc) & 1:
                    scores[doc] += EXACT_BOOST
        return [(int(doc), scores[int(doc)]) for doc in chosen.tolist()]

    def in_rank_order(self, bits: int, limit: int) -> list[int]:
        """Up to `limit` documents of a bitset, in document order."""
        count = bits.bit_count()
        if count * FEW_HITS < self.size or limit >= count:
            docs = id_array(bits)
            ranks = self.rank_array[docs]
            if limit < count:
                keep = np.argpartition(ranks, limit - 1)[:limit]
                docs, ranks = docs[keep], ranks[keep]
            return [int(d) for d in docs[np.argsort(ranks, kind="stable")][:limit].tolist()]
        buf = bits.to_bytes(self.nbytes, "little")
        out = []
        for doc in self.order:
            if (buf[doc >> 3] >> (doc & 7)) & 1:
                out.append(doc)
                if len(out) >= limit:
                    break
        return out

    # --- across years ----------------------------------------------------------------------

    def trend(self, plan: QueryPlan) -> Trend:
        """Per-year reports, towns, paragraphs and occurrences, and a town × year table,
        counted from the hit bitset and the columns (texts read for verbatim hits only)."""
        hits = self.hit_bits(plan)
        docs = id_array(hits).astype(np.uint32)
        trend = Trend(plan_text(plan), len(docs))
        if not len(docs):
            return trend
        years, towns = self.facets[F.YEAR], self.facets[F.TOWN]
        number_of = np.array([int(v) if v.isdigit() else 0 for v in years.values], dtype=np.int64)
        numbers = np.unique(number_of)  # the years, ascending (0: undated)
        year_at = np.searchsorted(numbers, number_of)[years.codes[docs]]  # each hit's year
        town_codes = towns.codes[docs].astype(np.int64)
        paragraphs = np.bincount(year_at, minlength=len(numbers))
        occurrences = np.bincount(
            year_at, weights=self.occurrences(plan, docs), minlength=len(numbers)
        )
        reports = distinct_per(year_at, self.report_codes[docs], len(numbers))
        town_count = distinct_per(year_at, town_codes, len(numbers))
        for i in np.flatnonzero(paragraphs).tolist():
            if not numbers[i]:
                trend.undated = int(paragraphs[i])
                continue
            trend.years.append(
                YearCount(
                    year=int(numbers[i]),
                    reports=int(reports[i]),
                    towns=int(town_count[i]),
                    paragraphs=int(paragraphs[i]),
                    occurrences=int(occurrences[i]),
                )
            )
        cells, n = np.unique(town_codes * len(numbers) + year_at, return_counts=True)
        for cell, count in zip(cells.tolist(), n.tolist(), strict=True):
            town, year = divmod(cell, len(numbers))
            if numbers[year]:
                trend.table.setdefault(towns.values[town], {})[int(numbers[year])] = count
        trend.table = dict(sorted(trend.table.items(), key=lambda kv: (min(kv[1]), kv[0])))
        trend.first_year = {town: min(row) for town, row in trend.table.items()}
        return trend

    def ranking_keys(self, plan: QueryPlan, hits: int) -> tuple[np.ndarray, ...]:
        """Every hit in docnum order with keys that give `ranked`'s order without sorting
        every hit: (docs, tiers, scores); higher tier first, then higher score, then lower
        `rank_array`. Where relevance does not rank, the tier is the negated place."""
        if plan.sort == "relevance" and plan.scope != "document" and hits:
            return self.relevance(plan, hits)
        docs, scores = self.ranked_arrays(plan, hits)
        order = np.argsort(docs, kind="stable")
        return docs[order], -order, scores[order]

    def word_sums(self, plan: QueryPlan, docs: np.ndarray) -> np.ndarray:
        """Each of `docs`' BM25 over the plan's words (ascending docnums)."""
        sums = np.zeros(len(docs), dtype=np.float64)
        for word in plan.scoring_words:
            sums += self.word(word).scores_at(docs, self.size)
        if self.by_block(plan) and len(docs):
            cut = np.flatnonzero(self.blocks.flags[docs])
            if len(cut):
                sums[cut] = self.block_sums(plan, docs[cut])
        return sums

    def block_sums(self, plan: QueryPlan, docs: np.ndarray) -> np.ndarray:
        """BM25 over the plan's words of the author paragraphs of pieces `docs`."""
        groups = self.blocks.groups(docs)
        sums = np.zeros(len(docs), dtype=np.float64)
        for word in plan.scoring_words:
            sums += self.block_scores(word)[groups]
        return sums

    def block_scores(self, word: str) -> np.ndarray:
        """A word's BM25 in each cut paragraph as one: tf the sum of its pieces', length
        the sum of their lengths; N, df and the average length those of the records
        (plan.py). Kept with the postings: a common word's blocks cost ~10 ms a query."""
        key = ("block bm25", word)
        found = self.cache.get(key)
        if found is None:
            postings = self.word(word)
            scores = np.zeros(len(self.blocks.counts), dtype=np.float64)
            if len(postings.ids):
                tf = self.blocks.totals(postings.tfs_at(self.blocks.members))
                norm = K1 * ((1 - B) + B * self.block_lengths / self.avg_length)
                scores = postings.idf * tf * (K1 + 1) / (tf + norm)
            found = self.cache.put(key, scores, scores.nbytes + 100)
        return found

    @functools.cached_property
    def block_lengths(self) -> np.ndarray:
        return self.blocks.totals(self.lengths[self.blocks.members])

    def town_table(self, plan: QueryPlan, best: int | None = None) -> TownTable:
        """Every hit counted by town and report from the columns, most paragraphs first;
        a town's best hit is its first in ranking order, its reports in the order of
        their first hit (every town's best named: they come at once, whatever `best`)."""
        docs, tiers, scores = self.ranking_keys(plan, self.hit_bits(plan))
        pair_of, pair_towns, pair_reports = self.pairs
        pairs = pair_of[docs]
        ranks = self.rank_array[docs]
        paragraphs = np.bincount(pairs, minlength=len(pair_towns))
        occurrences = np.bincount(
            pairs, weights=self.occurrences(plan, docs), minlength=len(pair_towns)
        ).astype(np.int64)
        held = np.flatnonzero(paragraphs)  # the (town, report) pairs with hits
        keys = (tiers, scores, -ranks.astype(np.int64))  # the highest of each, in turn
        best = best_in_groups(pairs, keys, len(pair_towns))[held]
        by_rank = np.lexsort((ranks[best], -scores[best], -tiers[best]))  # by their best hit
        held, best = held[by_rank], best[by_rank]
        towns, first, town_of = np.unique(
            pair_towns[held], return_index=True, return_inverse=True
        )  # each town's first pair
        town_paragraphs = np.bincount(town_of, weights=paragraphs[held]).astype(np.int64)
        town_occurrences = np.bincount(town_of, weights=occurrences[held]).astype(np.int64)
        # most paragraphs, then most occurrences, then by name
        column = self.facets[F.TOWN]
        shown = np.lexsort((column.rank[towns], -town_occurrences, -town_paragraphs))
        place = np.empty(len(shown), dtype=np.int64)
        place[shown] = np.arange(len(shown))
        # the rows: each town's pairs together, towns as shown, pairs by their best hit
        grouped = held[np.argsort(place[town_of], kind="stable")]
        rows = ReportRows(
            self.report_entries, pair_reports[grouped], paragraphs[grouped], occurrences[grouped]
        )
        chosen = best[first[shown]]
        return TownTable(
            names=self.town_names,
            codes=towns[shown],
            paragraphs=town_paragraphs[shown],
            occurrences=town_occurrences[shown],
            bounds=np.cumsum(np.append(0, np.bincount(town_of)[shown])),
            rows=rows,
            best_refs=list(zip(docs[chosen].tolist(), scores[chosen].tolist(), strict=True)),
        )

    @functools.cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each paragraph's (town, report) pair code, and each pair's town and report
        codes (worked out on first use)."""
        width = max(1, len(self.reports))
        keys = self.facets[F.TOWN].codes.astype(np.int64) * width + self.report_codes
        unique, codes = np.unique(keys, return_inverse=True)
        return codes.astype(np.int32), unique // width, unique % width

    @functools.cached_property
    def town_names(self) -> Shared:
        """The town facet's values, rendered as JSON once."""
        return Shared(self.facets[F.TOWN].values)

    @functools.cached_property
    def report_entries(self) -> Shared:
        """Each report's doc_id, title, year and type as the towns view lists them."""
        entries = []
        for report in self.reports:
            year = report.get(F.YEAR, "")
            entries.append(
                {
                    "doc_id": report[F.DOC_ID],
                    "title": report.get(F.TITLE, ""),
                    "year": int(year) if year.isdigit() else None,
                    "doc_type": report.get(F.DOC_TYPE, ""),
                }
            )
        return Shared(entries)

    def occurrences(self, plan: QueryPlan, docs: np.ndarray) -> np.ndarray:
        """Verbatim occurrences of the plan's terms in each hit (at least 1 a hit)."""
        counts = np.zeros(len(docs), dtype=np.int64)
        needles = [t.units for t in plan.positive if t.units]
        for units in needles:
            counts += self.occurrences_of(units)[docs]
        if self.by_block(plan) and len(docs):  # a cut paragraph's in its whole text
            for i in np.flatnonzero(self.blocks.flags[docs]).tolist():
                block = self.blocks.block_units(int(docs[i]))
                counts[i] = sum(block.count(units) for units in needles)
        return np.maximum(counts, 1)

    def occurrences_of(self, units: str) -> np.ndarray:
        """Every paragraph's verbatim occurrences of an exact-match string (0 where it is
        not held or deleted); kept in the cache, as the towns and the trend both ask."""
        key = ("occurrences", units)
        found = self.cache.get(key)
        if found is not None:
            return found
        counts = np.zeros(self.size, dtype=np.uint32)
        holders = id_array(self.exact(units))
        for segment_file, leaf in zip(self.files, self.leaves, strict=True):
            end = leaf.offset + segment_file.ndocs
            docs = holders[(holders >= leaf.offset) & (holders < end)]
            counts[docs] = segment_file.occurrences(units, (docs - leaf.offset).astype(np.int64))
        return self.cache.put(key, counts, counts.nbytes)

    # --- records --------------------------------------------------------------------------

    def leaf_index(self, doc: int) -> int:
        for index in range(len(self.leaves) - 1, -1, -1):
            if doc >= self.leaves[index].offset:
                return index
        raise IndexError(doc)

    def where(self, doc: int) -> tuple[SegmentFile, int]:
        """The segment file holding record `doc`, and its number there."""
        index = self.leaf_index(doc)
        return self.files[index], doc - self.leaves[index].offset

    def leaf_of(self, doc: int) -> Leaf:
        return self.leaves[self.leaf_index(doc)]

    def records(self, docs: Sequence[int]) -> list[Record]:
        """The stored paragraphs of these document numbers, in the same order."""
        if not len(docs):
            return []
        wanted = np.asarray(docs, dtype=np.int64)
        starts = np.array([leaf.offset for leaf in self.leaves], dtype=np.int64)
        leaf_of = np.searchsorted(starts, wanted, side="right") - 1
        report_codes = self.report_codes[wanted].tolist()
        section_codes = self.sections.codes[wanted].tolist()
        out: list[Record | None] = [None] * len(wanted)
        for index in np.unique(leaf_of).tolist():  # each segment's records in one pass
            at = np.flatnonzero(leaf_of == index)
            segment = self.files[index]
            stored = segment.stored(wanted[at] - self.leaves[index].offset)
            for i, (text, units, para_id, ordinal, heading, piece) in zip(
                at.tolist(), stored, strict=True
            ):
                siblings = [self.where(n) for n in self.blocks.siblings(int(wanted[i]))]
                out[i] = Record(
                    **self._report_records[report_codes[i]],
                    para_id=para_id,
                    text=text,
                    ordinal=ordinal,
                    section=self._section_paths[section_codes[i]],
                    heading=heading,
                    units=units if len(units) == len(text) else "",
                    piece=piece,
                    piece_ids=tuple(f.para_id(n) for f, n in siblings),
                    piece_texts=tuple(f.text_and_units(n)[0] for f, n in siblings),
                )
        return out  # type: ignore[return-value]  (every place filled)

    def document(self, doc_id: str) -> list[Record]:
        """Every paragraph of one report, in any order ([] when there is no such report)."""
        docs = [d for leaf in self.leaves for d in term_docs(leaf, F.DOC_ID, doc_id)]
        return self.records(docs)

    def count_exact(self, text: str) -> int:
        """How many paragraphs hold `text` verbatim."""
        return self.exact(exact_key(text)).bit_count()

    # --- fuzzy and similar wording ------------------------------------------------------------

    def candidates(self, key: str, limit: int, plan: QueryPlan | None = None) -> list[int]:
        """Paragraphs sharing the most of the query's rarest character pairs, best first
        (ties: docnum order), for rapidfuzz to score; within the plan's filters."""
        allowed = self.filter_bits(plan)
        shared: Counter[int] = Counter()
        for gram in self.candidate_grams(key):
            bits = 0
            for segment_file, leaf in zip(self.files, self.leaves, strict=True):
                bits |= segment_file.bits(gram) << leaf.offset
            shared.update(ids_from_bits(bits & allowed))
        ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))
        return [doc for doc, _ in ranked[:limit]]

    def candidate_grams(self, key: str) -> list[str]:
        """The query's rarest character pairs present in the index.

        They carry its identity; common pairs (发展, 工作) would make every paragraph a
        candidate. Single characters join in only when one wrong character leaves a
        short query with fewer than two pairs the index knows (医供体).
        """

        def df(gram: str) -> int:  # deleted documents included
            return sum(segment_file.df(gram) for segment_file in self.files)

        pairs = sorted(set(query_grams(key))) if len(key) > 1 else [key]
        present = sorted((df(g), g) for g in pairs)
        found = [g for n, g in present if n > 0]
        if len(found) < 2 and len(key) > 1:
            singles = sorted((df(ch), ch) for ch in set(key))
            found += [g for n, g in singles if n > 0]
        return found[:RARE_GRAMS]

    def vocabulary(self) -> list[str]:
        """The index's words of two or more characters (for "did you mean")."""
        with self._vocabulary_lock:
            if self._vocabulary is None:
                words = {w for segment_file in self.files for w in segment_file.vocabulary}
                self._vocabulary = sorted(w for w in words if len(w) >= 2 and not w.isdigit())
            return self._vocabulary


def close_reader(reader: Any) -> None:
    if not getattr(reader, "is_closed", False):
        reader.close()


def plan_text(plan: QueryPlan) -> str:
    return " ".join(term.text for term in plan.positive)


REPORT_TEXTS = (F.TITLE, F.TOWN, F.PLACE, F.DOC_TYPE, F.DATE, F.SOURCE, F.ISSUER, F.LEVEL)
REPORT_TEXTS += (F.PROVINCE, F.CITY, F.COUNTY)


def report_part(report: dict[str, Any]) -> dict[str, Any]:
    """A report's fields as a Record holds them (`Record.from_fields`: missing ones
    empty, the year as text, the OCR mark true or false)."""
    part = {name: report.get(name) or "" for name in REPORT_TEXTS}
    part[F.DOC_ID] = report[F.DOC_ID]
    part[F.YEAR] = str(report.get(F.YEAR) or "")
    part[F.OCR] = bool(report.get(F.OCR))
    return part


@functools.cache
def facet_pool() -> ThreadPoolExecutor:
    """The threads that count facets beside a ranking (`match`), made on first use."""
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="searchapp-facets")


def best_in_groups(groups: np.ndarray, keys: Sequence[np.ndarray], n: int) -> np.ndarray:
    """For each of `n` groups, the index of its best element: the highest first key,
    among those the highest second key, and so on (the last key is distinct); -1 for a
    group with no element."""
    candidates = np.arange(len(groups))
    held = np.count_nonzero(np.bincount(groups, minlength=n)) if len(groups) else 0
    for key in keys:
        if len(candidates) == held:  # one element a group is left: it is the best
            break
        values = key[candidates]
        if values.min() == values.max():  # a key all elements share decides nothing
            continue
        # a start of the keys' own type: maximum.at casting ints to floats is ~15x slower
        low = np.iinfo(values.dtype).min if values.dtype.kind in "iu" else -np.inf
        top = np.full(n, low, dtype=values.dtype)
        np.maximum.at(top, groups[candidates], values)
        candidates = candidates[values == top[groups[candidates]]]
    best = np.full(n, -1, dtype=np.int64)
    best[groups[candidates]] = candidates
    return best


def distinct_per(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """How many distinct values each of `n` groups holds."""
    width = int(values.max()) + 1 if len(values) else 1
    pairs = np.unique(groups.astype(np.int64) * width + values)
    return np.bincount(pairs // width, minlength=n)
