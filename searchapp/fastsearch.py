"""Fast keyword and phrase search: bitsets over a Whoosh generation, Whoosh's results.

Whoosh scores every matching posting in Python, which costs tens to hundreds of
milliseconds on a common term. This module answers the same searches from posting
lists decoded once into bitsets (Python ints, bit i = global document number i):

* the hit set is bitset algebra (verbatim, from the exact channel's files in
  grams.py, OR all-words per term, AND over terms, OR within a group, minus
  excluded terms, filters as per-value bitsets), so the total and the facet counts
  over every hit cost a few big-int operations;
* only the page needs scores. They are computed exactly as Whoosh computes them
  (BM25F per word, the verbatim bonus, and every sum in the order of the matcher
  tree Whoosh builds for each segment), so pages, ties and scores are identical.

Two caches, both shared by all threads: one `Generation` per published index
generation (columns: live documents, sort order, facet values, word-field lengths)
and, inside it, an LRU of decoded terms and exact matches bounded in bytes. Generation folders never
change once published, so nothing is ever invalidated, only evicted.

`search()` returns None for what it does not handle; the caller then runs Whoosh.
"""

from __future__ import annotations

import io
import logging
import pickle
import struct
import threading
import weakref
import zlib
from array import array
from bisect import insort
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from heapq import merge, nsmallest
from itertools import accumulate, islice
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.reading import IndexReader, TermNotFound
from whoosh.scoring import bm25
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from . import schema as F
from .analysis import exact_key, segment
from .grams import bits_from_ids, id_array, ids_from_bits, leaf_grams
from .query import EXACT_BOOST

log = logging.getLogger(__name__)

ENABLED = True  # False: every search goes through Whoosh (tests compare the two)
TERM_CACHE_BYTES = 64 * 2**20  # per generation
MAX_GENERATIONS = 2
B, K1 = 0.75, 1.2  # whoosh.scoring.BM25F defaults, which the searcher uses
LENGTH_OF_BYTE = tuple(byte_to_length(b) for b in range(256))
FEW_HITS = 32  # fewer than 1/FEW_HITS of all documents: work on document lists
MASKED_VALUES = 64  # a facet value gets a bitset when it holds over 1/64 of the documents


# --- bitsets --------------------------------------------------------------------------------


def has_bit(buf: bytes, doc: int) -> bool:
    return bool((buf[doc >> 3] >> (doc & 7)) & 1)


# --- W3 postings ----------------------------------------------------------------------------

POSTINGS_MAGIC = b"W3Bl"
BLOCK_LENGTH = struct.Struct("!i")


@dataclass(frozen=True)
class Leaf:
    """One segment of the generation: its reader, first global docnum and deletions."""

    reader: IndexReader
    offset: int
    postfile: Any
    deleted: frozenset[int]
    live_count: int
    lock: threading.Lock  # the segment's files are read under it (they may seek)


def iter_blocks(
    postfile: Any, terminfo: Any, lock: threading.Lock
) -> Iterator[tuple[Any, Any, Any]]:
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


def leaf_postings(leaf: Leaf, terminfo: Any) -> Iterator[tuple[int, float]]:
    """(global docnum, weight) of a term's live postings in one segment."""
    if terminfo.is_inlined():
        ids, weights, vals = terminfo.inlined_postings()
        blocks: Iterable[tuple[Any, Any, Any]] = [(ids, weights, vals)]
        deltas = False
    else:
        blocks = iter_blocks(leaf.postfile, terminfo, leaf.lock)
        deltas = True
    for ids, weights, _ in blocks:
        docs = list(accumulate(ids)) if deltas else list(ids)
        for doc, weight in zip(docs, block_weights(weights, len(docs)), strict=True):
            if doc not in leaf.deleted:
                yield doc + leaf.offset, weight


def term_info(leaf: Leaf, field: str, text: bytes) -> Any | None:
    try:
        with leaf.lock:
            return leaf.reader._terms.term_info(field, text)
    except TermNotFound:
        return None


# --- cached terms ---------------------------------------------------------------------------


class Term:
    """A term's live postings in global docnums; immutable once built."""

    __slots__ = ("_impact", "_scores", "bits", "cost", "ids", "leaf_df", "weights")

    def __init__(self, ids: array, weights: array, leaf_df: tuple[int, ...], nbytes: int) -> None:
        self.ids = ids
        self.weights = weights
        self.bits = bits_from_ids(ids, nbytes)
        self.leaf_df = leaf_df  # each segment's doc frequency (deletions included), as Whoosh
        self.cost = nbytes + 40 * len(ids) + 200  # ids, weights, scores, impact lists
        self._scores: array | None = None
        self._impact: list[tuple[float, array]] | None = None


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


# --- the generation -------------------------------------------------------------------------


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


class Generation:
    """What one published index generation needs for fast search, loaded once."""

    def __init__(
        self, reader: IndexReader, searcher: Searcher, term_budget: int = TERM_CACHE_BYTES
    ) -> None:
        self.reader = reader  # its own reader: request searchers close theirs
        # the reader holds open files: close them once this generation is dropped
        weakref.finalize(self, close_reader, reader)
        self.leaves = [load_leaf(leaf, offset) for leaf, offset in reader.leaf_readers()]
        self.size = reader.doc_count_all()
        self.nbytes = (self.size + 8) >> 3
        self.live = bits_from_ids(
            (d + leaf.offset for leaf in self.leaves for d in live_docs(leaf)), self.nbytes
        )
        keys = column_values(reader, F.SORT_KEY)
        self.order = array("I", sorted(range(self.size), key=keys.__getitem__))  # stable
        self.rank_array = np.empty(self.size, dtype=np.uint32)
        self.rank_array[np.frombuffer(self.order, dtype=np.uint32)] = np.arange(
            self.size, dtype=np.uint32
        )
        self.rank = array("I", self.rank_array.tobytes())
        self.facets = {name: self.load_facet(reader, name) for name in F.FACET_FIELDS}
        self.lengths = b"".join(word_lengths(leaf) for leaf in self.leaves)
        self.avgfl = searcher.avg_field_length(F.WORDS) or 1
        self.terms = LruCache(term_budget)
        self.grams = leaf_grams(reader)

    def load_facet(self, reader: IndexReader, name: str) -> FacetColumn:
        code_of: dict[str, int] = {}
        values = column_values(reader, name)
        codes = np.fromiter((code_of.setdefault(v, len(code_of)) for v in values), dtype=np.uint32)
        live = id_array(self.live).astype(np.uint32)
        live_codes = codes[live]
        grouped = live[np.argsort(live_codes, kind="stable")]  # by value, then docnum
        ends = np.cumsum(np.bincount(live_codes, minlength=len(code_of))).tolist()
        docs = [array("I", grouped[a:b].tobytes()) for a, b in zip([0, *ends], ends, strict=False)]
        common = self.size // MASKED_VALUES
        masks = {c: bits_from_ids(d, self.nbytes) for c, d in enumerate(docs) if len(d) > common}
        return FacetColumn(list(code_of), codes, docs, masks, code_of)

    @property
    def columns_bytes(self) -> int:
        """Approximate memory held by the generation's columns (term cache apart)."""
        facets = sum(
            c.codes.nbytes + 4 * self.size + self.nbytes * len(c.masks)
            for c in self.facets.values()
        )
        return 8 * self.size + len(self.lengths) + self.nbytes + facets

    # --- terms --------------------------------------------------------------------------

    def term(self, field: str, text: str) -> Term:
        """A term's postings, from the cache or decoded now."""
        key = (field, text)
        found = self.terms.get(key)
        if found is not None:
            return found
        term = self.load_term(field, text)
        return self.terms.put(key, term, term.cost)

    def load_term(self, field: str, text: str) -> Term:
        ids, weights = array("I"), array("d")
        leaf_df = []
        for leaf in self.leaves:
            info = term_info(leaf, field, text.encode("utf-8"))
            leaf_df.append(info.doc_frequency() if info else 0)
            if info is not None:
                for doc, weight in leaf_postings(leaf, info):
                    ids.append(doc)
                    weights.append(weight)
        return Term(ids, weights, tuple(leaf_df), self.nbytes)

    # --- the exact channel ----------------------------------------------------------------

    def exact(self, text: str) -> int:
        """Live paragraphs holding `text` verbatim (in exact-match form)."""
        units = exact_key(text)
        if not units:
            return 0
        key = ("exact", units)
        found = self.terms.get(key)
        if found is None:
            bits = 0
            for grams, offset, _ in self.grams:
                bits |= grams.exact(units) << offset
            found = self.terms.put(key, bits & self.live, self.nbytes + 100)
        return found

    # --- filters and facets ---------------------------------------------------------------

    def filter_bits(self, filters: dict[str, list[str]]) -> int:
        """Documents passing the filters: an AND over fields of an OR over values."""
        bits = self.live
        for name, values in filters.items():
            column = self.facets[name]
            wanted = [v for v in dict.fromkeys(values) if v]
            if not wanted:
                continue
            field_bits = 0
            for value in wanted:
                code = column.code_of.get(value)
                if code is not None:
                    field_bits |= column.bits(code, self.nbytes)
            bits &= field_bits
        return bits

    def facet_counts(self, hits: int, total: int) -> dict[str, dict[str, int]]:
        """Hits per value of each facet field, most first, as query.facet_counts orders them."""
        docs = id_array(hits)
        counts = {}
        for name, column in self.facets.items():
            per_code = np.bincount(column.codes[docs], minlength=len(column.values)).tolist()
            items = [(column.values[c], n) for c, n in enumerate(per_code) if n]
            counts[name] = dict(sorted(items, key=lambda kv: (-kv[1], str(kv[0]))))
        return counts

    # --- ranking --------------------------------------------------------------------------

    def word_scores(self, searcher: Searcher, word: str) -> tuple[Term, array]:
        """A word's postings and each posting's BM25F score, computed as Whoosh does."""
        term = self.term(F.WORDS, word)
        if term._scores is None:  # idempotent: racing threads compute equal arrays
            idf = searcher.idf(F.WORDS, word)
            memo: dict[tuple[float, int], float] = {}
            scores = array("d")
            for doc, weight in zip(term.ids, term.weights, strict=True):
                key = (weight, self.lengths[doc])
                score = memo.get(key)
                if score is None:
                    score = bm25(idf, weight, LENGTH_OF_BYTE[key[1]], self.avgfl, B, K1)
                    memo[key] = score
                scores.append(score)
            term._scores = scores
        return term, term._scores

    def impact(self, searcher: Searcher, word: str) -> list[tuple[float, array]]:
        """A word's documents grouped by score, best first, each group in sort_key order."""
        term, scores = self.word_scores(searcher, word)
        if term._impact is None:
            groups: dict[float, list[int]] = {}
            for doc, score in zip(term.ids, scores, strict=True):
                groups.setdefault(score, []).append(doc)
            term._impact = [
                (score, array("I", sorted(docs, key=self.rank.__getitem__)))
                for score, docs in sorted(groups.items(), reverse=True)
            ]
        return term._impact

    def in_rank_order(self, bits: int, limit: int) -> list[int]:
        """Up to `limit` documents of a bitset, in sort_key order."""
        count = bits.bit_count()
        if count * FEW_HITS < self.size:
            return nsmallest(limit, ids_from_bits(bits), key=self.rank.__getitem__)
        buf = bits.to_bytes(self.nbytes, "little")
        out = []
        for doc in self.order:
            if has_bit(buf, doc):
                out.append(doc)
                if len(out) >= limit:
                    break
        return out


def close_reader(reader: IndexReader) -> None:
    if not getattr(reader, "is_closed", False):
        reader.close()


def load_leaf(reader: IndexReader, offset: int) -> Leaf:
    deleted = reader.deleted_docs_set if reader.has_deletions() else frozenset()
    postfile = reader._terms._postfile
    return Leaf(reader, offset, postfile, frozenset(deleted), reader.doc_count(), threading.Lock())


def live_docs(leaf: Leaf) -> Iterator[int]:
    return (d for d in range(leaf.reader.doc_count_all()) if d not in leaf.deleted)


def word_lengths(leaf: Leaf) -> bytes:
    """Each document's word-field length byte (Whoosh's length encoding)."""
    column = leaf.reader._perdoc._cached_reader(_lenfield(F.WORDS), LENGTHS_COLUMN)
    count = leaf.reader.doc_count_all()
    if column is None:
        return bytes(count)
    if isinstance(column, NumericColumn.Reader) and column._typecode == "B":
        # one read instead of one per document; documents past the end weigh 0
        stored = min(column._count, count)
        return bytes(column._dbfile.get(column._basepos, stored)).ljust(count, b"\0")
    return bytes(column[i] for i in range(count))


def column_values(reader: IndexReader, name: str) -> list[str]:
    """A text column's value for every document: one read per segment, not per value."""
    values: list[str] = []
    for leaf, _ in reader.leaf_readers():
        column = leaf.column_reader(name)
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


_generations: OrderedDict[Any, Generation] = OrderedDict()
_generations_lock = threading.Lock()


def generation_key(searcher: Searcher) -> tuple[Any, ...]:
    """What identifies a generation: its folder and its segments with their deletions."""
    storage = getattr(getattr(searcher, "_ix", None), "storage", None)
    segments = tuple(
        (leaf.segment().segment_id(), leaf.segment().deleted_count())
        for leaf, _ in searcher.reader().leaf_readers()
    )
    return (getattr(storage, "folder", None), segments)


def get_generation(searcher: Searcher) -> Generation | None:
    """The shared cache of the searcher's generation, loaded on first use (two kept)."""
    index = getattr(searcher, "_ix", None)
    if index is None:
        return None
    key = generation_key(searcher)
    with _generations_lock:
        found = _generations.get(key)
        if found is None:
            found = _generations[key] = Generation(index.reader(), searcher)
            log.info("fast search: loaded generation %s (%d documents)", key[0], found.size)
            while len(_generations) > MAX_GENERATIONS:
                _generations.popitem(last=False)
        else:
            _generations.move_to_end(key)
        return found


# --- the query plan: Whoosh's query tree ------------------------------------------------------


@dataclass(frozen=True)
class Exact:
    """The verbatim channel of a term: a constant bonus when the paragraph holds it."""

    text: str
    units: str  # its exact-match form

    @property
    def bonus(self) -> float:
        """query.Verbatim's score."""
        return EXACT_BOOST


@dataclass(frozen=True)
class Word:
    """A jieba word of a term, scored with BM25F."""

    text: str


@dataclass(frozen=True)
class Node:
    """A Whoosh compound query: "or" (Or), "and" (And), "maybe" (AndMaybe of two) or
    "unscored" (query.Unscored of one: its child's matches, each scoring 0)."""

    op: str
    children: tuple[Plan, ...]


Plan = Exact | Word | Node


def term_words(text: str, words: tuple[str, ...]) -> tuple[Word, ...]:
    """query.word_terms: a term's jieba words, each once."""
    return tuple(Word(w) for w in dict.fromkeys(segment(text, words)))


def atom_plan(text: str, quoted: bool, words: tuple[str, ...]) -> Plan:
    """query.atom_query's shape: which paragraphs a term matches, with its verbatim bonus."""
    exact = Exact(text, exact_key(text))
    terms = term_words(text, words)
    if quoted or not terms:
        return exact
    return Node(
        "or", (exact, Node("unscored", (terms[0] if len(terms) == 1 else Node("and", terms),)))
    )


def scoring_plan(texts: Iterable[str], words: tuple[str, ...]) -> Plan | None:
    """query.scoring_query's shape: every word of the positive terms, each once."""
    terms = tuple(dict.fromkeys(w for text in texts for w in term_words(text, words)))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else Node("or", terms)


def query_plan(groups: list[list[Plan]], scoring: Plan | None = None) -> Plan:
    """query.build_query's shape: AndMaybe(matching tree, scoring words) at the top."""
    clauses = [g[0] if len(g) == 1 else Node("or", tuple(g)) for g in groups]
    required = clauses[0] if len(clauses) == 1 else Node("and", tuple(clauses))
    return required if scoring is None else Node("maybe", (required, scoring))


def reproducible(plan: Plan, skipped: bool = False) -> bool:
    """Whether Whoosh scores this plan as written.

    whoosh3's AndMaybeMatcher.skip_to moves its optional side to the target, not to
    where its required side landed, so wherever Whoosh calls skip_to on it (under an
    And, or as an AndMaybe's optional side) it drops the optional side's score for
    some documents. query.build_query puts its one AndMaybe at the top, where the
    collector only calls next(); this stays as a guard.
    """
    if not isinstance(plan, Node):
        return True
    if plan.op == "maybe":
        required, optional = plan.children
        return not skipped and reproducible(required) and reproducible(optional, True)
    inner = skipped or plan.op == "and"
    return all(reproducible(child, inner) for child in plan.children)


def plan_leaves(plan: Plan) -> Iterator[Exact | Word]:
    if isinstance(plan, Node):
        for child in plan.children:
            yield from plan_leaves(child)
    else:
        yield plan


# --- matching -------------------------------------------------------------------------------


class Matching:
    """The bitsets of one query's leaves and nodes."""

    def __init__(self, gen: Generation) -> None:
        self.gen = gen
        self.memo: dict[Plan, int] = {}

    def bits(self, plan: Plan) -> int:
        found = self.memo.get(plan)
        if found is None:
            found = self.memo[plan] = self.compute(plan)
        return found

    def compute(self, plan: Plan) -> int:
        if isinstance(plan, Exact):
            return self.gen.exact(plan.text)
        if isinstance(plan, Word):
            return self.gen.term(F.WORDS, plan.text).bits
        if plan.op in ("maybe", "unscored"):  # the optional side adds scores, not hits
            return self.bits(plan.children[0])
        parts = [self.bits(child) for child in plan.children]
        result = parts[0]
        for part in parts[1:]:
            result = result | part if plan.op == "or" else result & part
        return result


# --- scoring: Whoosh's matcher tree, segment by segment ---------------------------------------


class Scoring:
    """Scores documents as Whoosh's matchers do, sums in the same order."""

    def __init__(self, gen: Generation, searcher: Searcher, matching: Matching) -> None:
        self.gen = gen
        self.searcher = searcher
        self.matching = matching

    def estimate(self, plan: Plan, leaf: int) -> int:
        """Query.estimate_size on one segment, which orders Whoosh's matcher trees."""
        if isinstance(plan, Word):
            return self.gen.term(F.WORDS, plan.text).leaf_df[leaf]
        if isinstance(plan, Exact):
            return self.gen.grams[leaf][0].estimate(plan.units)
        if plan.op == "unscored":  # a WrappingQuery: its child's estimate
            return self.estimate(plan.children[0], leaf)
        sizes = [self.estimate(child, leaf) for child in plan.children]
        if plan.op == "and":
            return min(sizes)
        return min(sum(sizes), self.gen.leaves[leaf].live_count)  # Or, AndMaybe

    def scores(self, plan: Plan, leaf: int, docs: np.ndarray) -> Scored:
        """The plan's scores for documents of one segment, summed as Whoosh sums them."""
        if isinstance(plan, Exact):
            return constant_scores(plan.bonus, self.member(self.matching.bits(plan), docs))
        if isinstance(plan, Word):
            return self.word_scores(plan.text, docs)
        if plan.op == "unscored":
            return constant_scores(0.0, self.member(self.matching.bits(plan), docs))
        subs = [self.scores(child, leaf, docs) for child in plan.children]
        if plan.op == "maybe":
            return maybe_scores(subs[0], subs[1])
        if len(subs) == 1:
            return subs[0]
        sign = -1 if plan.op == "and" else 1
        weighted = [
            (sign * self.estimate(c, leaf), s) for c, s in zip(plan.children, subs, strict=True)
        ]
        return weighted_tree(and_scores if plan.op == "and" else or_scores, weighted)

    def member(self, bits: int, docs: np.ndarray) -> np.ndarray:
        """Which of the documents are in the bitset."""
        buf = np.frombuffer(bits.to_bytes(self.gen.nbytes, "little"), dtype=np.uint8)
        return ((buf[docs >> 3] >> (docs & 7)) & 1).astype(bool)

    def word_scores(self, word: str, docs: np.ndarray) -> Scored:
        term, scores = self.gen.word_scores(self.searcher, word)
        if not term.ids:
            return constant_scores(0.0, np.zeros(len(docs), dtype=bool))
        ids = np.frombuffer(term.ids, dtype=np.uint32)
        at = np.minimum(np.searchsorted(ids, docs), len(ids) - 1)
        matched = ids[at] == docs
        return np.where(matched, np.frombuffer(scores, dtype=np.float64)[at], 0.0), matched

    def best(self, plan: Plan, docs: np.ndarray, k: int) -> list[tuple[float, int, int]]:
        """The k best documents as (-score, rank, doc), best first; segment by segment, as
        Whoosh's matcher trees are built per segment."""
        values = np.zeros(len(docs), dtype=np.float64)
        bounds = np.searchsorted(docs, [leaf.offset for leaf in self.gen.leaves] + [self.gen.size])
        for index in range(len(self.gen.leaves)):
            start, end = int(bounds[index]), int(bounds[index + 1])
            if start < end:
                scored, matched = self.scores(plan, index, docs[start:end])
                values[start:end] = np.where(matched, scored, 0.0)
        ranks = self.gen.rank_array[docs]
        order = np.lexsort((ranks, -values))[:k]
        return [(-float(values[i]), int(ranks[i]), int(docs[i])) for i in order.tolist()]


# Scores of one segment's candidate documents: (values, matched), values 0 where unmatched.
Scored = tuple[np.ndarray, np.ndarray]


def constant_scores(value: float, matched: np.ndarray) -> Scored:
    """A constant score where matched (the verbatim bonus; 0 for query.Unscored)."""
    return np.where(matched, value, 0.0), matched


def or_scores(a: Scored, b: Scored) -> Scored:
    """UnionMatcher: the sum of the sides that match (x + 0.0 is x)."""
    return a[0] + b[0], a[1] | b[1]


def and_scores(a: Scored, b: Scored) -> Scored:
    """IntersectionMatcher: both sides must match."""
    matched = a[1] & b[1]
    return np.where(matched, a[0] + b[0], 0.0), matched


def maybe_scores(a: Scored, b: Scored) -> Scored:
    """AndMaybeMatcher: a's matches, plus b's score where b matches too."""
    return np.where(a[1], a[0] + b[0], 0.0), a[1]


def weighted_tree(
    combine: Callable[[Scored, Scored], Scored], items: list[tuple[int, Scored]]
) -> Scored:
    """whoosh.util.make_weighted_tree: pair the two lightest, reinsert after equal weights.

    (Whoosh sorts (weight, matcher) pairs; matchers never compare "less", so ties keep
    their order, as a stable sort on the weight does.)
    """
    items = sorted(items, key=lambda item: item[0])
    while len(items) > 1:
        (wa, a), (wb, b) = items[0], items[1]
        del items[:2]
        insort(items, (wa + wb, combine(a, b)), key=lambda item: item[0])
    return items[0][1]


# --- top k ----------------------------------------------------------------------------------


def top_docs(scoring: Scoring, plan: Plan, hits: int, k: int) -> list[tuple[int, float]]:
    """The k best hits as (docnum, score), ordered as Whoosh orders them: score, sort_key."""
    leaves = list(plan_leaves(plan))
    if isinstance(plan, Exact):  # a quoted term without words: every hit scores the bonus
        return [(doc, plan.bonus) for doc in scoring.gen.in_rank_order(hits, k)]
    words = list(dict.fromkeys(leaf for leaf in leaves if isinstance(leaf, Word)))
    exacts = [leaf for leaf in leaves if isinstance(leaf, Exact)]
    if len(exacts) == 1 and len(words) == 1:
        found = single_word_top(scoring, exacts[0], words[0].text, hits, k)
        if found is not None:
            return found
    ceiling = sum(scoring.searcher.idf(F.WORDS, w.text) * (K1 + 1) for w in words)
    tiers = exact_tiers(scoring.matching, exacts, hits) if ceiling < EXACT_BOOST / 2 else [hits]
    best: list[tuple[float, int, int]] = []
    for tier in tiers:
        if len(best) >= k:
            break
        best.extend(scoring.best(plan, id_array(tier), k - len(best)))
    return [(doc, -negative) for negative, _, doc in best]


def exact_tiers(matching: Matching, exacts: list[Exact], hits: int) -> list[int]:
    """Hits by how many terms they hold verbatim, most first.

    Each verbatim term adds about 1000, more than all BM25F scores of the query
    together (checked by the caller), so a tier outranks every tier after it.
    """
    at_least = [hits]  # at_least[c]: hits holding at least c of the terms verbatim
    for leaf in exacts:
        bits = matching.bits(leaf)
        at_least.append(0)
        for c in range(len(at_least) - 1, 0, -1):
            at_least[c] |= at_least[c - 1] & bits
    tiers = [at_least[c] & ~at_least[c + 1] for c in range(len(at_least) - 1)]
    tiers.append(at_least[-1])
    return [t for t in reversed(tiers) if t]


def single_word_top(
    scoring: Scoring, exact: Exact, word: str, hits: int, k: int
) -> list[tuple[int, float]] | None:
    """One term of one word: walk the word's score groups instead of scoring every hit.

    A hit scores bonus + s (verbatim and the word), bonus (verbatim only) or s (the
    word only); bands of equal score are merged in sort_key order.
    """
    gen = scoring.gen
    bonus = exact.bonus
    impact = gen.impact(scoring.searcher, word)
    if impact and impact[0][0] >= bonus:
        return None
    exact_bits = scoring.matching.bits(exact)
    hit_buf = hits.to_bytes(gen.nbytes, "little")
    exact_buf = exact_bits.to_bytes(gen.nbytes, "little")
    word_bits = gen.term(F.WORDS, word).bits
    bands: list[tuple[float, Callable[[int], list[int]]]] = []
    for score, docs in impact:
        bands.append((bonus + score, band_walker(docs, hit_buf, exact_buf, True)))
    bands.append((bonus, lambda limit: gen.in_rank_order(hits & exact_bits & ~word_bits, limit)))
    for score, docs in impact:
        bands.append((score, band_walker(docs, hit_buf, exact_buf, False)))
    out: list[tuple[int, float]] = []
    index = 0
    while index < len(bands) and len(out) < k:
        value = bands[index][0]
        same = []
        while index < len(bands) and bands[index][0] == value:
            same.append(bands[index][1])
            index += 1
        need = k - len(out)
        found = [band(need) for band in same]
        ordered = merge(*found, key=gen.rank.__getitem__) if len(found) > 1 else found[0]
        out.extend((doc, value) for doc in islice(ordered, need))
    return out


def band_walker(
    docs: array, hit_buf: bytes, exact_buf: bytes, verbatim: bool
) -> Callable[[int], list[int]]:
    """Up to `limit` of a score group's documents that are hits, with or without verbatim."""

    def walk(limit: int) -> list[int]:
        out = []
        for doc in docs:
            if has_bit(hit_buf, doc) and has_bit(exact_buf, doc) == verbatim:
                out.append(doc)
                if len(out) >= limit:
                    break
        return out

    return walk


# --- entry point ----------------------------------------------------------------------------


@dataclass
class FastResult:
    """What query.run_indexed needs from a search: total, facets, the page's docs."""

    total: int
    facets: dict[str, dict[str, int]]
    top: list[tuple[int, float]]  # (docnum, score), best first, up to the requested k


def search(
    searcher: Searcher,
    groups: list[list[tuple[str, bool]]],
    excluded: list[str],
    filters: dict[str, list[str]],
    words: tuple[str, ...],
    k: int | None,
) -> FastResult | None:
    """Hits, total, facets and the best k (None: all) of a parsed keyword or phrase query.

    `groups`: an AND of OR-groups of (text, quoted) terms. Returns None when the fast
    path does not apply: fast search disabled, no positive term, or a query whose
    Whoosh scores are not reproducible (see `reproducible`).
    """
    if not ENABLED or not groups:
        return None
    plan = query_plan(
        [[atom_plan(text, quoted, words) for text, quoted in g] for g in groups],
        scoring_plan((text for g in groups for text, _ in g), words),
    )
    if not reproducible(plan):
        return None
    gen = get_generation(searcher)
    if gen is None:
        return None
    matching = Matching(gen)
    hits = matching.bits(plan) & gen.filter_bits(filters)
    for text in excluded:
        hits &= ~gen.exact(text)
    total = hits.bit_count()
    if not total:
        return FastResult(0, {name: {} for name in F.FACET_FIELDS}, [])
    facets = gen.facet_counts(hits, total)
    top = top_docs(Scoring(gen, searcher, matching), plan, hits, total if k is None else k)
    return FastResult(total, facets, top)


def clear_caches() -> None:
    """Forget every loaded generation (tests and benchmarks: a cold start)."""
    with _generations_lock:
        _generations.clear()
