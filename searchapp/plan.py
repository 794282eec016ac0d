"""A parsed query planned once, for any engine: what matches and how it ranks.

The plan is the only thing an engine receives. Its rules, for keyword mode:

Matching
    A paragraph matches a *term* when it holds the term verbatim — the term's
    exact-match form (`analysis.exact_key`: normalised, white space removed) is a
    substring of the paragraph's — or, for an unquoted term, when it holds every jieba
    word of the term. A quoted term matches verbatim only. Terms in one group are
    OR-ed, groups AND-ed. An excluded term removes every paragraph holding it
    verbatim. Filters keep paragraphs whose field holds one of the given values (OR
    within a field, AND across fields). A plan without positive terms matches every
    paragraph that passes the filters and exclusions. Phrase mode is one quoted term.

The author's paragraph (paragraph scope)
    A paragraph over documents.MAX_PARAGRAPH characters is indexed as pieces of about
    450 (each a record with its own para_id and permalink; fields.BLOCK names the
    author's paragraph, fields.PIECE / PIECES place the piece in it). In paragraph
    scope — the default, and phrase mode — the rules above apply to the author's
    paragraph, its pieces taken as one unit: its exact-match form is its pieces'
    exact-match forms one after another (the cuts drop only white space, so a term or
    an excluded term across a cut is held verbatim), its words are its pieces' words
    (tf summed; jieba cuts every run of Hanzi on its own and the cuts fall at
    punctuation or white space, so these are the paragraph's own words unless a cut
    had to fall inside a run at 1,000 characters), and a filter holds for all of its
    pieces or none (they share the report and the section). An excluded term held
    anywhere in it, across a cut included, removes the whole author paragraph. A
    paragraph that was not cut is a unit of one piece: nothing changes for it.

    A matching author paragraph is ONE hit: totals, facets, the towns view, the trend
    and occurrences count author paragraphs, not pieces (an author paragraph's
    occurrences are counted in its whole exact-match form). The hit is represented by
    the piece that holds the most of the positive terms (verbatim, or an unquoted term
    by all its words within the piece; a verbatim occurrence across a cut counts for
    the piece it starts in), then the most distinct scoring words, then the earliest:
    its para_id and permalink are that piece's. The hit names its author paragraph and
    every piece of it (`Hit.block`, `Hit.piece`, `Hit.piece_ids`), and its snippet shows
    the stretches of any of the pieces that hold the terms.

Scope (keyword mode)
    paragraph (default): the rules above, in one author paragraph. sentence: every group
    must be met inside one sentence of the paragraph (sentences end at 。！？；!?;),
    verbatim or, for an unquoted term, by all of its words in that sentence. document:
    the reports in which every group is met by some paragraph; the hits are those
    reports' paragraphs that meet at least one group, grouped by report (reports in
    the order of their best paragraph). Sentence and document scope match and count
    piece by piece, as indexed (a cut falls at a sentence end wherever it can).

Ranking
    score = EXACT_BOOST × (positive terms held verbatim)
            + Σ BM25(w) over the distinct jieba words w of the positive terms (quoted
              ones included: their words rank, they do not match) that the paragraph holds,
              summed in the order of `scoring_words`
    BM25(w) = idf × tf × (K1 + 1) / (tf + K1 × (1 − B + B × length / avg_length)),
    idf = ln(N / (df + 1)) + 1, with N the paragraphs of the index (deleted ones
    included until a merge drops them), df those holding w, tf w's count in the
    paragraph, length the paragraph's word count. B = 0.75,
    K1 = 1.2. A verbatim term outranks any sum of BM25 scores. Ties go to document
    order (source path, report, paragraph).
    In paragraph scope an author paragraph of several pieces is scored as a whole:
    its verbatim terms are those its whole exact-match form holds, tf is the sum of its
    pieces' tfs and length the sum of their lengths (the author paragraph's word
    count); N, df and the average length stay those of the indexed records (pieces),
    so a paragraph that was not cut scores exactly as before. Its place in document
    order is its representing piece's.

Each engine implements these rules; the embedded engine's results are checked
against a brute-force scan and scorer (tests/test_query_properties.py).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import fields as F
from .analysis import exact_key
from .querylang import ParsedQuery

EXACT_BOOST = 1000.0  # a verbatim match outranks any number of partial ones
B, K1 = 0.75, 1.2

SORTS = ("relevance", "newest", "oldest")
SCOPES = ("paragraph", "sentence", "document")
SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
YEAR_RANGE = re.compile(r"^(?P<lo>\d{4})?\s*[-~～—–至到]\s*(?P<hi>\d{4})?$")
YEAR_BOUND = re.compile(r"^(?P<op>[<>]=?|[≥≤])\s*(?P<year>\d{4})$")

Segmenter = Callable[[str], list[str]]
WordTest = Callable[[str, set[str]], set[str]]  # (text, wanted) → the wanted words it holds


@dataclass(frozen=True)
class Term:
    """One positive term: its text, exact-match form and jieba words."""

    text: str
    quoted: bool
    units: str  # exact-match form; never empty
    words: tuple[str, ...]  # distinct jieba words (a quoted term's only rank, never match)

    @property
    def needle(self) -> tuple[str, list[str]]:
        """What highlighting marks: the verbatim text, else its words when all are present."""
        return self.text, [] if self.quoted else list(self.words)


@dataclass(frozen=True)
class QueryPlan:
    """An AND of OR-groups of terms, exclusions and filters, with the words that rank."""

    mode: str
    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[str, ...]  # exact-match forms
    filters: tuple[tuple[str, tuple[str, ...]], ...]  # (field, values), fields sorted
    scoring_words: tuple[str, ...]
    ranges: tuple[tuple[str, int, int], ...] = ()  # (field, lo, hi): lo <= int(value) <= hi
    contains: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (field, any of these substrings)
    sort: str = "relevance"  # or newest / oldest: by the report's date, then its year
    scope: str = "paragraph"  # or sentence / document

    @property
    def positive(self) -> tuple[Term, ...]:
        return tuple(term for group in self.groups for term in group)

    @property
    def filter_map(self) -> dict[str, list[str]]:
        return {name: list(values) for name, values in self.filters}

    @property
    def is_empty(self) -> bool:
        """Nothing asked at all: no term, no exclusion, no filter."""
        return not (self.groups or self.excluded or self.filters or self.ranges or self.contains)

    def needles(self) -> list[tuple[str, list[str]]]:
        return [term.needle for term in self.positive]


def make_term(text: str, quoted: bool, segment: Segmenter) -> Term | None:
    units = exact_key(text)
    if not units:
        return None
    return Term(text, quoted, units, tuple(dict.fromkeys(segment(text))))


def year_range(value: str) -> tuple[int, int] | None:
    """`2020-2023`, `2020-`, `-2023`, `>=2021`, `<2020` as an inclusive range of years."""
    value = value.strip().replace("＞", ">").replace("＜", "<").replace("＝", "=")
    found = YEAR_RANGE.match(value)
    if found and (found["lo"] or found["hi"]):
        lo, hi = int(found["lo"] or 0), int(found["hi"] or 9999)
        return (lo, hi) if lo <= hi else (hi, lo)
    bound = YEAR_BOUND.match(value)
    if bound:
        year, op = int(bound["year"]), bound["op"]
        if op in (">=", "≥"):
            return year, 9999
        if op == ">":
            return year + 1, 9999
        if op in ("<=", "≤"):
            return 0, year
        return 0, year - 1
    return None


def split_filters(
    filters: dict[str, list[str]],
) -> tuple[dict[str, list[str]], list[tuple[str, int, int]], dict[str, list[str]]]:
    """Exact-value filters, year ranges and substring (section) filters apart."""
    exact: dict[str, list[str]] = {}
    ranges: list[tuple[str, int, int]] = []
    contains: dict[str, list[str]] = {}
    for name, values in filters.items():
        for value in values:
            span = year_range(value) if name == F.YEAR else None
            if span is not None:
                ranges.append((name, *span))
            elif name == F.SECTION:
                if exact_key(value):
                    contains.setdefault(F.SECTION_KEY, []).append(exact_key(value))
            elif value:
                exact.setdefault(name, []).append(value)
    return exact, ranges, contains


def make_plan(
    parsed: ParsedQuery,
    filters: dict[str, list[str]],
    segment: Segmenter,
    mode: str = "keyword",
    sort: str = "relevance",
    scope: str = "paragraph",
) -> QueryPlan:
    """Plan a parsed query with the engine's segmenter; `filters` already merged.

    Values of one field are alternatives (a year and a year range included); fields
    narrow each other.
    """
    exact_filters, ranges, contains = split_filters(filters)
    groups = []
    for group in parsed.groups:
        terms = [make_term(atom.text, atom.quoted, segment) for atom in group]
        kept = tuple(t for t in terms if t is not None)
        if kept:
            groups.append(kept)
    excluded = tuple(dict.fromkeys(u for a in parsed.excluded if (u := exact_key(a.text))))
    scoring = tuple(dict.fromkeys(w for group in groups for term in group for w in term.words if w))
    cleaned = tuple(
        (name, tuple(dict.fromkeys(v for v in values if v)))
        for name, values in sorted(exact_filters.items())
        if any(values)
    )
    return QueryPlan(
        mode,
        tuple(groups),
        excluded,
        cleaned,
        scoring,
        ranges=tuple(dict.fromkeys(ranges)),
        contains=tuple((k, tuple(dict.fromkeys(v))) for k, v in sorted(contains.items())),
        sort=sort if sort in SORTS else "relevance",
        scope=scope if scope in SCOPES and mode == "keyword" else "paragraph",
    )


def sentences(units: str) -> list[str]:
    """The sentences of a text in exact-match form, each with its closing mark."""
    return [s for s in SENTENCE_END.split(units) if s]


def in_one_sentence(plan: QueryPlan, units: str, segment: Segmenter) -> bool:
    """Whether one sentence of a paragraph (in exact-match form) meets every group."""
    for sentence in sentences(units):
        words: set[str] | None = None
        met = True
        for group in plan.groups:
            found = False
            for term in group:
                if term.units in sentence:
                    found = True
                elif not term.quoted and term.words:
                    if words is None:
                        words = set(segment(sentence))
                    found = set(term.words) <= words
                if found:
                    break
            if not found:
                met = False
                break
        if met:
            return True
    return False


def representative(plan: QueryPlan, pieces: list[dict[str, Any]], held_words: WordTest) -> int:
    """Which piece of a matching cut paragraph represents it (the place in `pieces`, which
    are in order with their F.TEXT): the one holding the most positive terms — verbatim,
    across a cut from it, or (unquoted) by all of its words — then the most distinct
    scoring words, then the earliest. The embedded engine applies the same rule with
    its bitsets (EmbeddedEngine.collapse).

    `held_words(text, wanted)` is the wanted words that the text holds as words
    (`analysis.words_among`: jieba only where one of them is written). Pieces are asked
    only when their words can change the answer: for a term not written in the piece,
    and for the scoring words of pieces tied on terms (every hit of an export comes
    here; jieba on every piece was most of its time)."""
    units = [exact_key(piece[F.TEXT]) for piece in pieces]
    starts = [sum(len(u) for u in units[:i]) for i in range(len(units))]
    whole = "".join(units)
    held = [0] * len(pieces)
    for term in plan.positive:
        wanted = set(term.words)
        holds = [
            term.units in units[i]
            or (
                not term.quoted and bool(wanted) and held_words(pieces[i][F.TEXT], wanted) == wanted
            )
            for i in range(len(pieces))
        ]
        at = whole.find(term.units)
        while at != -1:  # an occurrence across a cut counts for the piece it starts in
            i = bisect_right(starts, at) - 1
            if at + len(term.units) > starts[i] + len(units[i]):
                holds[i] = True
            at = whole.find(term.units, at + 1)
        held = [n + h for n, h in zip(held, holds, strict=True)]
    most = max(held)
    tied = [i for i in range(len(pieces)) if held[i] == most]
    scoring = set(plan.scoring_words)
    if len(tied) == 1 or not scoring:
        return tied[0]
    return min(tied, key=lambda i: (-len(held_words(pieces[i][F.TEXT], scoring)), i))
