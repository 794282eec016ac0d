"""From a user's query to a page of hits: parsing, building Whoosh queries, running them.

Query language (keyword mode):

    三清两建 乡贤         both terms (a paragraph must contain every term)
    三清两建 OR 三变改革  either
    -疫情  /  NOT 疫情    without
    "二十大精神"          an exact phrase (also “…”)
    town:潭头镇 year:2022 type:政府工作报告   filters

A term matches a paragraph that holds it verbatim (exact channel) or holds all of
its jieba words (word channel); verbatim holders rank first, then BM25F over the
words. Phrase mode takes the whole query as one exact substring.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from whoosh import query as wq
from whoosh import scoring, sorting
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.searching import Results, SearchContext, Searcher

from . import schema as F
from .analysis import exact_key, segment
from .errors import QueryError
from .grams import leaf_grams, live_docs
from .highlight import Span, make_snippet, merge_spans, term_spans

log = logging.getLogger(__name__)

MODES = ("keyword", "phrase", "fuzzy")
FILTER_NAMES = {"town": F.TOWN, "year": F.YEAR, "type": F.DOC_TYPE, "doc_type": F.DOC_TYPE}
MAX_TERMS = 16  # terms per query; more only slow a search down
SUGGEST_BELOW = 3  # fewer hits than this: suggest corpus terms ("did you mean")
EXACT_BOOST = 1000.0  # a verbatim match outranks any number of partial ones


# --- parsed form ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    """One term or quoted phrase of a query."""

    text: str
    quoted: bool = False


@dataclass
class ParsedQuery:
    """A query as understood: an AND of OR-groups, exclusions, filters, and notices."""

    groups: list[list[Atom]] = field(default_factory=list)
    excluded: list[Atom] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    @property
    def positive(self) -> list[Atom]:
        return [atom for group in self.groups for atom in group]

    @property
    def empty(self) -> bool:
        return not self.groups and not self.excluded and not self.filters


@dataclass
class SearchRequest:
    """Everything a search needs from a front end."""

    q: str = ""
    mode: str = "keyword"
    town: list[str] = field(default_factory=list)
    year: list[str] = field(default_factory=list)
    doc_type: list[str] = field(default_factory=list)
    page: int = 1
    page_size: int = 10
    all: bool = False


@dataclass
class Hit:
    """One matching paragraph, ready to show."""

    doc_id: str
    para_id: str
    title: str
    town: str
    year: int | None
    doc_type: str
    section: str
    text: str
    snippet: str
    url: str
    score: float
    place: str = ""
    date: str = ""
    source: str = ""
    ordinal: int = 0
    section_path: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    similarity: float | None = None  # fuzzy mode: 0-100

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in {"spans"}}
        data["spans"] = [list(s) for s in self.spans]
        if self.similarity is None:
            del data["similarity"]
        return data


@dataclass
class SearchPage:
    """A page of results with totals and facet counts over all hits."""

    query: str
    mode: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    page: int = 1
    page_size: int = 10
    pages: int = 1
    filters: dict[str, list[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    elapsed_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
            "filters": self.filters,
            "hits": [h.to_json() for h in self.hits],
            "facets": self.facets,
            "notices": self.notices,
            "suggestions": self.suggestions,
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


# --- parsing --------------------------------------------------------------------------------

QUOTES = {'"': '"', "“": "”", "”": "“", "「": "」", "『": "』", "＂": "＂"}
LEXEME = re.compile(r'\s+|["“”「『＂]|[^\s"“”「『＂]+')


def parse_query(text: str, mode: str = "keyword") -> ParsedQuery:
    """Parse a query; malformed input gets a sensible reading and a notice, never an error."""
    parsed = ParsedQuery()
    text = text.strip()
    if mode == "phrase" or mode == "fuzzy":
        body, filters, notices = extract_filters(text)
        parsed.filters, parsed.notices = filters, notices
        body = strip_outer_quotes(body)
        if exact_key(body):
            parsed.groups = [[Atom(body.strip(), quoted=True)]]
        return parsed
    tokens = tokenize_query(text, parsed)
    negate_next = False
    or_next = False
    for kind, value in tokens:
        if kind == "OR":
            if not parsed.groups or or_next:
                parsed.notices.append("“OR” 两侧需要检索词，已忽略")
            or_next = True
            continue
        if kind == "NOT":
            negate_next = True
            continue
        if kind == "filter":
            name, val = value.split(":", 1)
            parsed.filters.setdefault(FILTER_NAMES[name.lower()], []).append(val)
            continue
        atom = Atom(value, quoted=(kind == "phrase"))
        if negate_next:
            parsed.excluded.append(atom)
        elif or_next and parsed.groups:
            parsed.groups[-1].append(atom)
        else:
            parsed.groups.append([atom])
        negate_next = or_next = False
    if or_next:
        parsed.notices.append("查询末尾的 “OR” 没有检索词，已忽略")
    if negate_next:
        parsed.notices.append("查询末尾的 “NOT” 没有检索词，已忽略")
    return limit_terms(parsed)


def limit_terms(parsed: ParsedQuery) -> ParsedQuery:
    """Drop repeated terms (they change nothing) and keep at most MAX_TERMS of them."""
    groups = [list(dict.fromkeys(group)) for group in parsed.groups]
    parsed.groups = [g for i, g in enumerate(groups) if g not in groups[:i]]
    parsed.excluded = list(dict.fromkeys(parsed.excluded))
    count = 0
    kept: list[list[Atom]] = []
    for group in parsed.groups:
        if count + len(group) > MAX_TERMS:
            parsed.notices.append(f"检索词太多，只用了前 {MAX_TERMS} 个")
            break
        kept.append(group)
        count += len(group)
    parsed.groups = kept
    if len(parsed.excluded) > MAX_TERMS:
        parsed.notices.append(f"排除词太多，只用了前 {MAX_TERMS} 个")
        parsed.excluded = parsed.excluded[:MAX_TERMS]
    return parsed


def tokenize_query(text: str, parsed: ParsedQuery) -> list[tuple[str, str]]:
    """Split a keyword query into (kind, value) tokens: term, phrase, OR, NOT, filter."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in QUOTES:
            close = QUOTES[ch]
            end = find_close(text, i + 1, close)
            if end < 0:
                parsed.notices.append("引号没有配对，已把引号后的全部内容当作短语")
                end = len(text)
            phrase = text[i + 1 : end]
            if exact_key(phrase):
                tokens.append(("phrase", phrase.strip()))
            i = end + 1
            continue
        end = i
        while end < len(text) and not text[end].isspace() and text[end] not in QUOTES:
            end += 1
        word = text[i:end]
        i = end
        tokens.extend(classify_word(word, parsed))
    return tokens


def find_close(text: str, start: int, close: str) -> int:
    """Index of the closing quote; straight and curly closers both count."""
    candidates = [text.find(c, start) for c in {close, '"', "”", "＂"}]
    found = [c for c in candidates if c >= 0]
    return min(found) if found else -1


def classify_word(word: str, parsed: ParsedQuery) -> list[tuple[str, str]]:
    """One space-free word of a query as an operator, a filter or a term."""
    if word in {"OR", "|", "||", "或"}:
        return [("OR", word)]
    if word in {"NOT", "AND", "&&"}:
        return [("NOT", word)] if word == "NOT" else []
    if word.startswith("-") and len(word) > 1:
        return [("NOT", "-"), *classify_word(word[1:], parsed)]
    if word == "-":
        return []
    name, sep, value = word.partition(":")
    if not sep:
        name, sep, value = word.partition("：")
    if sep and name.lower() in FILTER_NAMES:
        if value:
            return [("filter", f"{name}:{value}")]
        parsed.notices.append(f"筛选条件 “{name}:” 缺少取值，已忽略")
        return []
    stripped = word.strip("()（）[]【】")
    if not exact_key(stripped):
        if stripped != word:
            parsed.notices.append(f"已忽略多余的括号 “{word}”")
        return []
    return [("term", word if exact_key(word) else stripped)]


def extract_filters(text: str) -> tuple[str, dict[str, list[str]], list[str]]:
    """Filters (town:… year:… type:…) out of a phrase or fuzzy query; the rest is the text."""
    filters: dict[str, list[str]] = {}
    notices: list[str] = []
    kept = []
    for word in re.split(r"(\s+)", text):
        name, sep, value = word.partition(":")
        if sep and name.lower() in FILTER_NAMES:
            if value:
                filters.setdefault(FILTER_NAMES[name.lower()], []).append(value)
            else:
                notices.append(f"筛选条件 “{name}:” 缺少取值，已忽略")
            continue
        kept.append(word)
    return "".join(kept).strip(), filters, notices


def strip_outer_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] in QUOTES and text[-1] in {QUOTES[text[0]], '"', "”"}:
        return text[1:-1]
    return text


# --- building -------------------------------------------------------------------------------


class ConstantScorer(scoring.BaseScorer):
    """Scores every posting with the same value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def supports_block_quality(self) -> bool:
        return True

    def score(self, matcher: Any) -> float:
        return self.value

    def max_quality(self) -> float:
        return self.value

    def block_quality(self, matcher: Any) -> float:
        return self.value


class ConstantWeighting(scoring.WeightingModel):
    """A weighting model under which every matching term scores `value`."""

    def __init__(self, value: float) -> None:
        self.value = value

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> ConstantScorer:
        return ConstantScorer(self.value)


class Verbatim(wq.WrappingQuery):
    """An exact-channel query that adds a fixed score to the paragraphs it matches.

    (Whoosh's own WeightingQuery drops its weighting, and ConstantScoreQuery keeps the
    child's scores whenever results are sorted by score.)
    """

    def __init__(self, child: wq.Query, score: float) -> None:
        super().__init__(child)
        self.score = score

    def _rewrap(self, child: wq.Query) -> Verbatim:
        return Verbatim(child, self.score)

    def matcher(self, searcher: Searcher, context: SearchContext | None = None) -> Any:
        context = (context or SearchContext()).set(weighting=ConstantWeighting(self.score))
        return self.child.matcher(searcher, context)


class ExactQuery(wq.Query):
    """Paragraphs whose exact-match form contains `units`, from the grams files (grams.py).

    Scored by Verbatim's (or Unscored's) constant; elsewhere each match weighs 1.
    """

    def __init__(self, units: str) -> None:
        self.units = units
        self.boost = 1.0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExactQuery) and other.units == self.units

    def __hash__(self) -> int:
        return hash(("exact", self.units))

    def __repr__(self) -> str:
        return f"ExactQuery({self.units!r})"

    __str__ = __repr__

    def normalize(self) -> ExactQuery:
        return self

    def simplify(self, ixreader: Any) -> ExactQuery:
        return self

    def has_terms(self) -> bool:
        return False

    def estimate_size(self, ixreader: Any) -> int:
        return sum(grams.estimate(self.units) for grams, _, _ in leaf_grams(ixreader))

    def estimate_min_size(self, ixreader: Any) -> int:
        return 0

    def matcher(self, searcher: Searcher, context: SearchContext | None = None) -> Any:
        ids = live_docs(leaf_grams(searcher.reader()), lambda grams: grams.exact_ids(self.units))
        if not ids:
            return NullMatcher()
        weighting = context.weighting if context is not None else None
        if isinstance(weighting, ConstantWeighting):  # under Verbatim or Unscored
            return ListMatcher(ids, scorer=weighting.scorer(searcher, "", self.units))
        return ListMatcher(ids)  # each match weighs 1


def exact_query(text: str) -> wq.Query:
    """Paragraphs holding `text` verbatim, in exact-match form."""
    units = exact_key(text)
    return ExactQuery(units) if units else wq.NullQuery


class Unscored(wq.WrappingQuery):
    """Matches what its child matches, with a score of 0 (the matching tree's word channel:
    the words' BM25F comes from the query's scoring side, once)."""

    def matcher(self, searcher: Searcher, context: SearchContext | None = None) -> Any:
        context = (context or SearchContext()).set(weighting=ConstantWeighting(0.0))
        return self.child.matcher(searcher, context)


def word_terms(text: str, words: tuple[str, ...]) -> list[wq.Query]:
    return [wq.Term(F.WORDS, w) for w in dict.fromkeys(segment(text, words))]


def atom_query(atom: Atom, words: tuple[str, ...]) -> wq.Query:
    """Which paragraphs a term matches, scored with its verbatim bonus only.

    A term: verbatim (+EXACT_BOOST) or all of its words (+0); a quoted phrase: verbatim
    only. The words' BM25F is added once for the whole query by `build_query`.
    """
    exact = Verbatim(exact_query(atom.text), EXACT_BOOST)
    terms = word_terms(atom.text, words)
    if atom.quoted or not terms:
        return exact
    return wq.Or([exact, Unscored(terms[0] if len(terms) == 1 else wq.And(terms))])


def scoring_query(parsed: ParsedQuery, words: tuple[str, ...]) -> wq.Query | None:
    """Every word of every positive term, each once: an Or whose BM25F ranks the hits."""
    terms = list(dict.fromkeys(t for atom in parsed.positive for t in word_terms(atom.text, words)))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else wq.Or(terms)


def build_query(parsed: ParsedQuery, words: tuple[str, ...]) -> wq.Query:
    """The Whoosh query for a parsed query's positive part (filters and exclusions apart).

    AndMaybe(matching tree, scoring words), the AndMaybe only at the top: the matching
    tree (And of groups, Or within a group, `atom_query` per term) decides the hits and
    adds the verbatim bonuses; the words' Or adds BM25F. (whoosh3 3.54's
    AndMaybeMatcher.skip_to moves its optional side to the target rather than to where
    its required side landed, so under an And it loses the optional side's score for
    some documents; at the top the collector only calls next(), which is right.)
    """
    clauses = []
    for group in parsed.groups:
        alternatives = [atom_query(atom, words) for atom in group]
        clauses.append(alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives))
    if not clauses:
        return wq.Every()
    required = clauses[0] if len(clauses) == 1 else wq.And(clauses)
    scoring = scoring_query(parsed, words)
    return required if scoring is None else wq.AndMaybe(required, scoring)


def exclusion_query(parsed: ParsedQuery) -> wq.Query | None:
    """Paragraphs holding any excluded term verbatim, for the search's `mask`.

    (Not wq.AndNot: whoosh3 3.54's AndNotMatcher keeps a document when the excluded
    term's postings start before the positive side's; see test_exclusion_is_exact.)
    """
    if not parsed.excluded:
        return None
    return wq.Or([exact_query(a.text) for a in parsed.excluded])


def filter_query(filters: dict[str, list[str]]) -> wq.Query | None:
    """An AND over fields of an OR over each field's values."""
    clauses = []
    for name, values in sorted(filters.items()):
        values = [v for v in dict.fromkeys(values) if v]
        if values:
            clauses.append(wq.Or([wq.Term(name, v) for v in values]))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else wq.And(clauses)


def merged_filters(parsed: ParsedQuery, request: SearchRequest) -> dict[str, list[str]]:
    filters = {k: list(v) for k, v in parsed.filters.items()}
    for name, values in ((F.TOWN, request.town), (F.YEAR, request.year)):
        filters.setdefault(name, []).extend(values)
    filters.setdefault(F.DOC_TYPE, []).extend(request.doc_type)
    return {k: list(dict.fromkeys(v)) for k, v in filters.items() if v}


# --- running --------------------------------------------------------------------------------

SORT_ORDER = sorting.MultiFacet([sorting.ScoreFacet(), sorting.FieldFacet(F.SORT_KEY)])


def facet_spec() -> dict[str, sorting.FacetType]:
    return {name: sorting.FieldFacet(name, maptype=sorting.Count) for name in F.FACET_FIELDS}


def check_request(request: SearchRequest, max_query_chars: int, max_page_size: int) -> None:
    """Reject what no user types; clamp what a URL can exaggerate."""
    if request.mode not in MODES:
        raise QueryError(f"未知的检索方式 “{request.mode}”", hint="可选：keyword、phrase、fuzzy")
    if len(request.q) > max_query_chars:
        raise QueryError(
            f"查询太长（{len(request.q)} 字），最多 {max_query_chars} 字",
            hint="请缩短查询，或改用“相似表述”查找整段文字",
        )
    request.page = max(1, request.page)
    request.page_size = min(max(1, request.page_size), max_page_size)


def run_search(
    searcher: Searcher,
    request: SearchRequest,
    *,
    max_query_chars: int = 200,
    max_page_size: int = 100,
) -> SearchPage:
    """Run a search request against an open searcher and build the page of hits."""
    started = time.perf_counter()
    check_request(request, max_query_chars, max_page_size)
    words = tuple(F.word_tokenizer(searcher.schema).words)
    parsed = parse_query(request.q, request.mode)
    filters = merged_filters(parsed, request)
    if request.mode == "fuzzy":
        from .fuzzy import run_fuzzy

        page = run_fuzzy(searcher, request, parsed, filters, words)
    elif not parsed.groups and not parsed.excluded and not filters:
        page = SearchPage(request.q, request.mode, 0, [], empty_facets(), notices=parsed.notices)
    else:
        page = run_indexed(searcher, request, parsed, filters, words)
    if request.mode != "fuzzy" and page.total < SUGGEST_BELOW and parsed.positive:
        from .fuzzy import suggest_terms

        page.suggestions = suggest_terms(searcher, " ".join(a.text for a in parsed.positive))
    page.filters = filters
    page.elapsed_ms = (time.perf_counter() - started) * 1000
    return page


def empty_facets() -> dict[str, dict[str, int]]:
    return {name: {} for name in F.FACET_FIELDS}


def run_indexed(
    searcher: Searcher,
    request: SearchRequest,
    parsed: ParsedQuery,
    filters: dict[str, list[str]],
    words: tuple[str, ...],
) -> SearchPage:
    """Keyword and phrase modes, sorted by score then document order.

    The bitset engine (fastsearch) answers when it can, with Whoosh's own results;
    otherwise one Whoosh search does.
    """
    from . import fastsearch

    limit = None if request.all else request.page * request.page_size
    first = 0 if request.all else (request.page - 1) * request.page_size
    needles = highlight_needles(parsed, words)
    fast = fastsearch.search(
        searcher,
        [[(atom.text, atom.quoted) for atom in group] for group in parsed.groups],
        [atom.text for atom in parsed.excluded],
        filters,
        words,
        limit,
    )
    if fast is None:
        total, facets, hits = whoosh_hits(searcher, parsed, filters, words, limit, first, needles)
    else:
        total, facets = fast.total, fast.facets
        hits = [doc_hit(searcher, doc, score, needles) for doc, score in fast.top[first:]]
    return SearchPage(
        request.q,
        request.mode,
        total,
        hits,
        facets,
        page=1 if request.all else request.page,
        page_size=total if request.all else request.page_size,
        pages=1 if request.all else max(1, -(-total // request.page_size)),
        notices=parsed.notices,
    )


def whoosh_hits(
    searcher: Searcher,
    parsed: ParsedQuery,
    filters: dict[str, list[str]],
    words: tuple[str, ...],
    limit: int | None,
    first: int,
    needles: list[tuple[str, list[str]]],
) -> tuple[int, dict[str, dict[str, int]], list[Hit]]:
    """One Whoosh search: total, facet counts and the hits from `first` up to `limit`."""
    results = searcher.search(
        build_query(parsed, words),
        filter=filter_query(filters),
        mask=exclusion_query(parsed),
        limit=limit,
        sortedby=SORT_ORDER,
        groupedby=facet_spec(),
    )
    hits = [make_hit(results, i, needles) for i in range(first, len(results.top_n))]
    return len(results), facet_counts(results), hits


def facet_counts(results: Results) -> dict[str, dict[str, int]]:
    counts = {}
    for name in F.FACET_FIELDS:
        groups = results.groups(name)
        counts[name] = dict(sorted(groups.items(), key=lambda kv: (-kv[1], str(kv[0]))))
    return counts


def highlight_needles(parsed: ParsedQuery, words: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """For each positive atom: its verbatim form and the words to mark when it is absent."""
    needles = []
    for atom in parsed.positive:
        parts = [] if atom.quoted else segment(atom.text, words)
        needles.append((atom.text, parts))
    return needles


def make_hit(results: Results, index: int, needles: list[tuple[str, list[str]]]) -> Hit:
    fields = results.fields(index)
    spans = term_spans(fields[F.TEXT_FIELD], needles)
    key = results.score(index)  # sorted by SORT_ORDER: (-score, sort_key)
    score = -key[0] if isinstance(key, tuple) else (key or 0.0)
    return hit_from_fields(fields, spans, score)


def doc_hit(
    searcher: Searcher, docnum: int, score: float, needles: list[tuple[str, list[str]]]
) -> Hit:
    """A hit from a document number and its score (the fast path's results)."""
    fields = searcher.stored_fields(docnum)
    return hit_from_fields(fields, term_spans(fields[F.TEXT_FIELD], needles), score)


def paragraph_meta(fields: dict[str, Any]) -> dict[str, Any]:
    """What every result shows of a paragraph: ids, report metadata, section and link."""
    year = fields.get(F.YEAR) or ""
    return {
        "doc_id": fields[F.DOC_ID],
        "para_id": fields[F.PARA_ID],
        "title": fields[F.TITLE],
        "town": fields[F.TOWN],
        "year": int(year) if year.isdigit() else None,
        "doc_type": fields[F.DOC_TYPE],
        "section": " / ".join(fields.get(F.SECTION) or []),
        "url": permalink(fields[F.DOC_ID], fields[F.PARA_ID]),
    }


def hit_from_fields(fields: dict[str, Any], spans: list[Span], score: float) -> Hit:
    spans = merge_spans(spans)
    return Hit(
        **paragraph_meta(fields),
        text=fields[F.TEXT_FIELD],
        snippet=str(make_snippet(fields[F.TEXT_FIELD], spans)),
        score=round(float(score), 4),
        place=fields.get(F.PLACE, ""),
        date=fields.get(F.DATE, ""),
        source=fields.get(F.SOURCE, ""),
        ordinal=fields.get(F.ORDINAL, 0),
        section_path=list(fields.get(F.SECTION) or []),
        spans=spans,
    )


def permalink(doc_id: str, para_id: str) -> str:
    """The web app's permanent address of a paragraph."""
    return f"/doc/{doc_id}#{para_id}"


# --- documents ------------------------------------------------------------------------------


@dataclass
class DocumentView:
    """A whole report from the index, paragraphs in order."""

    doc_id: str
    title: str
    town: str
    place: str
    year: int | None
    doc_type: str
    date: str
    source: str
    paragraphs: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def load_document(searcher: Searcher, doc_id: str) -> DocumentView | None:
    """The report with this id, or None."""
    rows = sorted(
        (fields for fields in searcher.documents(doc_id=doc_id)),
        key=lambda f: f[F.ORDINAL],
    )
    if not rows:
        return None
    first = rows[0]
    year = first.get(F.YEAR) or ""
    return DocumentView(
        doc_id=doc_id,
        title=first[F.TITLE],
        town=first[F.TOWN],
        place=first.get(F.PLACE, ""),
        year=int(year) if year.isdigit() else None,
        doc_type=first[F.DOC_TYPE],
        date=first.get(F.DATE, ""),
        source=first[F.SOURCE],
        paragraphs=[
            {
                "para_id": f[F.PARA_ID],
                "ordinal": f[F.ORDINAL],
                "text": f[F.TEXT_FIELD],
                "section": " / ".join(f.get(F.SECTION) or []),
                "section_path": list(f.get(F.SECTION) or []),
                "heading": bool(f.get(F.HEADING)),
                "url": permalink(doc_id, f[F.PARA_ID]),
            }
            for f in rows
        ],
    )


# --- across towns ---------------------------------------------------------------------------


@dataclass
class TownUsage:
    """How one town uses a term: paragraphs, occurrences, reports and its best paragraph."""

    town: str
    paragraphs: int = 0
    occurrences: int = 0
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    best: Hit | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "town": self.town,
            "paragraphs": self.paragraphs,
            "occurrences": self.occurrences,
            "reports": list(self.reports.values()),
            "best": self.best.to_json() if self.best else None,
        }


def usage_by_town(page: SearchPage) -> list[TownUsage]:
    """Group every hit of a search (run with all=True) by town, most paragraphs first."""
    towns: dict[str, TownUsage] = {}
    for hit in page.hits:  # hits come best first, so a town's first hit is its best
        usage = towns.setdefault(hit.town, TownUsage(hit.town, best=hit))
        usage.paragraphs += 1
        usage.occurrences += max(1, len(hit.spans))
        report = usage.reports.setdefault(
            hit.doc_id,
            {
                "doc_id": hit.doc_id,
                "title": hit.title,
                "year": hit.year,
                "doc_type": hit.doc_type,
                "paragraphs": 0,
                "occurrences": 0,
            },
        )
        report["paragraphs"] += 1
        report["occurrences"] += max(1, len(hit.spans))
    return sorted(towns.values(), key=lambda u: (-u.paragraphs, -u.occurrences, u.town))
