"""Matching and scoring checked against a brute-force scan of every indexed paragraph."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import author_paragraphs, corpus_paragraphs, hit_key

from searchapp import fields as F
from searchapp.analysis import exact_key, segment
from searchapp.config import Config
from searchapp.embedded import EmbeddedEngine
from searchapp.engine import Engine
from searchapp.plan import EXACT_BOOST, make_plan
from searchapp.querylang import Atom, ParsedQuery, parse_query, strip_outer_quotes
from searchapp.results import SearchRequest
from searchapp.search import run_search

Key = tuple[str, str]


@pytest.fixture(scope="module")
def corpus(seed_config: Config) -> dict[Key, str]:
    """Every paragraph of the seed corpus, read from its files: (doc_id, para_id) → text."""
    rows = author_paragraphs(corpus_paragraphs(seed_config.corpus_dir))
    return {(r[F.DOC_ID], r[F.PARA_ID]): r[F.TEXT] for r in rows}


@pytest.fixture(scope="module")
def records(seed_config: Config) -> dict[Key, str]:
    """Every record (a cut paragraph's pieces apart): (doc_id, para_id) → text."""
    rows = corpus_paragraphs(seed_config.corpus_dir)
    return {(r[F.DOC_ID], r[F.PARA_ID]): r[F.TEXT] for r in rows}


def brute_force(corpus: dict[Key, str], phrase: str) -> set[Key]:
    key = exact_key(strip_outer_quotes(phrase.strip()))
    return {k for k, text in corpus.items() if key in exact_key(text)}


def engine(searcher: Engine, q: str, mode: str) -> set[Key]:
    page = run_search(searcher, SearchRequest(q=q, mode=mode, all=True), max_query_chars=500)
    keys = [hit_key(h) for h in page.hits]
    assert len(keys) == len(set(keys)) == page.total
    return set(keys)


@st.composite
def substrings(draw: st.DrawFn, corpus: dict[Key, str]) -> str:
    texts = sorted(corpus.values())
    text = draw(st.sampled_from(texts))
    length = draw(st.integers(min_value=1, max_value=min(16, len(text))))
    start = draw(st.integers(min_value=0, max_value=len(text) - length))
    return text[start : start + length]


def test_phrase_mode_equals_substring_scan(corpus: dict[Key, str], seed_engine: Engine):
    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(substrings(corpus))
    def check(phrase: str) -> None:
        if not exact_key(strip_outer_quotes(phrase.strip())):
            return
        expected = brute_force(corpus, phrase)
        assert expected, "a sampled substring must occur somewhere"
        assert engine(seed_engine, phrase, "phrase") == expected

    check()


@pytest.mark.parametrize("phrase", ["清两", "乡贤返", "二十大精", "三清两建", "的", "，", "2022年"])
def test_phrases_across_jieba_boundaries(phrase: str, corpus: dict[Key, str], seed_engine: Engine):
    expected = brute_force(corpus, phrase)
    assert expected
    assert engine(seed_engine, phrase, "phrase") == expected
    assert engine(seed_engine, f'"{phrase}"', "keyword") == expected


def test_keyword_terms_find_every_verbatim_paragraph(corpus: dict[Key, str], seed_engine: Engine):
    words = seed_engine.words

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(substrings(corpus))
    def check(term: str) -> None:
        term = "".join(ch for ch in term if ch.isalnum())  # a plain term: no operators
        if not term or term in {"OR", "NOT", "AND"}:
            return
        hits = engine(seed_engine, term, "keyword")
        verbatim = brute_force(corpus, term)
        parts = set(segment(term, words))
        assert verbatim <= hits  # recall: every paragraph holding the term verbatim
        for key in hits - verbatim:  # precision: the others hold all of its words
            assert parts <= set(segment(corpus[key], words))

    check()


def test_exclusion_removes_exactly_the_verbatim_holders(
    corpus: dict[Key, str], seed_engine: Engine
):
    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(substrings(corpus), substrings(corpus))
    def check(term: str, excluded: str) -> None:
        term = "".join(ch for ch in term if ch.isalnum())[:4]
        excluded = "".join(ch for ch in excluded if ch.isalnum())[:2]
        if not term or not excluded or {term, excluded} & {"OR", "NOT", "AND"}:
            return
        expected = engine(seed_engine, term, "keyword") - brute_force(corpus, excluded)
        assert engine(seed_engine, f"{term} -{excluded}", "keyword") == expected

    check()


# --- the engine's scores against a brute-force scorer ----------------------------------------------


@dataclass
class Paragraphs:
    """Live paragraphs by docnum, cut by jieba here: BM25 from first principles. A cut
    paragraph is one unit (plan.py): named by its first piece's docnum, its exact-match
    form its pieces' one after another, tf and length its pieces' summed; N, df and the
    average length stay the records'."""

    words: tuple[str, ...]
    texts: dict[int, str]  # docnum → text
    units: dict[int, list[int]]  # author paragraph (its first docnum) → its pieces' docnums
    keys: dict[int, str] = field(init=False)  # author paragraph → exact-match form
    tokens: dict[int, list[str]] = field(init=False)  # docnum → words
    postings: dict[str, dict[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keys = {
            u: "".join(exact_key(self.texts[d]) for d in ds) for u, ds in self.units.items()
        }
        self.tokens = {d: segment(t, self.words) for d, t in self.texts.items()}
        self.average = sum(map(len, self.tokens.values())) / len(self.tokens) or 1
        self.lengths = {u: sum(len(self.tokens[d]) for d in ds) for u, ds in self.units.items()}

    def tf(self, word: str) -> dict[int, int]:
        """docnum → how often the word is one of the paragraph's tokens."""
        if word not in self.postings:
            self.postings[word] = {
                d: tokens.count(word) for d, tokens in self.tokens.items() if word in tokens
            }
        return self.postings[word]

    def unit_tf(self, word: str, unit: int) -> int:
        return sum(self.tf(word).get(d, 0) for d in self.units[unit])

    def bm25(self, word: str, unit: int) -> float:
        """BM25 of one word in one paragraph (plan.py's formula, B=0.75, K1=1.2)."""
        idf = math.log(len(self.texts) / (len(self.tf(word)) + 1)) + 1
        tf, length = self.unit_tf(word, unit), self.lengths[unit]
        return idf * (tf * 2.2) / (tf + 1.2 * (0.25 + 0.75 * length / self.average))

    def matches(self, unit: int, atom: Atom) -> bool:
        """A term: verbatim or all of its words; a quoted phrase: verbatim only."""
        if exact_key(atom.text) in self.keys[unit]:
            return True
        parts = segment(atom.text, self.words)
        return not atom.quoted and bool(parts) and all(self.unit_tf(w, unit) for w in parts)

    def expected(self, parsed: ParsedQuery) -> dict[int, float]:
        """docnum → score of every hit: 1000 per term held verbatim + BM25 of each query
        word the paragraph holds (each word once)."""
        scored = dict.fromkeys(w for a in parsed.positive for w in segment(a.text, self.words))
        out = {}
        for doc, key in self.keys.items():
            if not all(any(self.matches(doc, a) for a in group) for group in parsed.groups):
                continue
            if any(exact_key(a.text) in key for a in parsed.excluded):
                continue
            bonus = sum(EXACT_BOOST for a in parsed.positive if exact_key(a.text) in key)
            out[doc] = bonus + sum(self.bm25(w, doc) for w in scored if self.unit_tf(w, doc))
        return out


def engine_scores(engine: EmbeddedEngine, parsed: ParsedQuery) -> list[tuple[int, float]]:
    """(docnum, score) of every hit, in the engine's order."""
    return list(engine.iter_matches(make_plan(parsed, {}, engine.segment)))


@st.composite
def multi_term_queries(draw: st.DrawFn, texts: list[str], words: list[str]) -> str:
    """Two to four terms: words, multi-word substrings, quoted, OR-ed and excluded."""
    term = st.one_of(st.sampled_from(words), substrings_of(texts, 6))
    parts: list[str] = []
    for _ in range(draw(st.integers(min_value=2, max_value=4))):
        text = "".join(ch for ch in draw(term) if ch.isalnum())
        if not text or text in {"OR", "NOT", "AND"}:
            continue
        kind = draw(st.sampled_from(["plain", "plain", "quoted", "or", "not"]))
        prefix = {"plain": "", "quoted": "", "or": "OR " if parts else "", "not": "-"}[kind]
        parts.append(f'{prefix}"{text}"' if kind == "quoted" else prefix + text)
    return " ".join(parts)


@st.composite
def substrings_of(draw: st.DrawFn, texts: list[str], max_length: int) -> str:
    text = draw(st.sampled_from(texts))
    length = draw(st.integers(min_value=1, max_value=min(max_length, len(text))))
    start = draw(st.integers(min_value=0, max_value=len(text) - length))
    return text[start : start + length]


def test_engine_scores_equal_a_brute_force_scorer(seed_config: Config, seed_engine: Engine):
    """plan.py's ranking rules, recomputed for every paragraph of the corpus files, cut
    by jieba here: every hit, its score, and the order (score, then document order).
    (Regression: when Whoosh's matcher tree ranked, "二十大精神" 发展 put the 平湖镇
    paragraph 13th.)"""
    assert isinstance(seed_engine, EmbeddedEngine)
    rows = {(r[F.DOC_ID], r[F.PARA_ID]): r for r in corpus_paragraphs(seed_config.corpus_dir)}
    docs = range(seed_engine.size)  # the seed index has no deleted paragraphs
    records = seed_engine.records(docs)
    assert sorted((r.doc_id, r.para_id) for r in records) == sorted(rows)
    words = seed_engine.words
    sort_keys = {
        d: rows[r.doc_id, r.para_id][F.SORT_KEY] for d, r in zip(docs, records, strict=True)
    }
    first_of = {
        d: (r.doc_id, (r.piece_ids or (r.para_id,))[0]) for d, r in zip(docs, records, strict=True)
    }
    named = {(r.doc_id, r.para_id): d for d, r in zip(docs, records, strict=True)}
    units: dict[int, list[int]] = {}
    for d in docs:
        units.setdefault(named[first_of[d]], []).append(d)
    assert any(len(pieces) > 1 for pieces in units.values())  # the seeds have cut paragraphs
    paragraphs = Paragraphs(
        words,
        {d: rows[r.doc_id, r.para_id][F.TEXT] for d, r in zip(docs, records, strict=True)},
        units,
    )
    texts = sorted(paragraphs.texts.values())
    vocabulary = sorted({w for t in texts[:40] for w in segment(t, words) if len(w) > 1})
    checked = []

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(multi_term_queries(texts, vocabulary))
    def check(q: str) -> None:
        parsed = parse_query(q)
        if not parsed.groups:
            return
        found = [(named[first_of[d]], score) for d, score in engine_scores(seed_engine, parsed)]
        expected = paragraphs.expected(parsed)
        assert {doc for doc, _ in found} == set(expected), q
        for doc, score in found:
            assert score == pytest.approx(expected[doc], abs=1e-9), (q, doc)
        order = sorted(expected, key=lambda d: (-round(expected[d], 9), sort_keys[d]))
        assert [doc for doc, _ in found] == order, q
        checked.append(len(found))

    check()
    assert sum(1 for n in checked if n > 1) >= 20  # enough queries with several hits


# --- scopes: one sentence, one report -----------------------------------------------------------


@functools.cache
def cut_words(text: str, words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(segment(text, words))


@functools.cache
def cut_sentences(text: str) -> tuple[str, ...]:
    """A paragraph's sentences in exact-match form, cut after 。！？；!?;."""
    units = exact_key(text)
    pieces, start = [], 0
    for i, ch in enumerate(units):
        if ch in "。！？；!?;":
            pieces.append(units[start : i + 1])
            start = i + 1
    pieces.append(units[start:])
    return tuple(p for p in pieces if p)


def sentence_scan(corpus: dict[Key, str], terms: list[str], words: tuple[str, ...]) -> set[Key]:
    """Paragraphs with one sentence that holds every term, verbatim or by all its words."""
    found = set()
    for key, text in corpus.items():
        for sentence in cut_sentences(text):
            if all(
                exact_key(t) in sentence
                or (bool(cut_words(t, words)) and cut_words(t, words) <= cut_words(sentence, words))
                for t in terms
            ):
                found.add(key)
                break
    return found


def document_scan(corpus: dict[Key, str], terms: list[str], words: tuple[str, ...]) -> set[Key]:
    """Paragraphs holding some term, in reports where every term is held somewhere."""

    def holds(text: str, term: str) -> bool:
        parts = cut_words(term, words)
        return exact_key(term) in exact_key(text) or (
            bool(parts) and parts <= cut_words(text, words)
        )

    reports: dict[str, list[Key]] = {}
    for key in corpus:
        reports.setdefault(key[0], []).append(key)
    found = set()
    for keys in reports.values():
        held = {t: [k for k in keys if holds(corpus[k], t)] for t in terms}
        if all(held.values()):
            found.update(k for ks in held.values() for k in ks)
    return found


def test_sentence_and_document_scopes_equal_a_scan(records: dict[Key, str], seed_engine: Engine):
    """Sentence and document scope match piece by piece, as indexed (plan.py)."""
    corpus = records
    words = seed_engine.words
    texts = sorted(corpus.values())
    vocabulary = sorted({w for t in texts[:60] for w in segment(t, words) if len(w) > 1})

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        st.lists(
            st.one_of(st.sampled_from(vocabulary), substrings_of(texts, 4)), min_size=2, max_size=3
        )
    )
    def check(raw: list[str]) -> None:
        terms = list(dict.fromkeys("".join(ch for ch in t if ch.isalnum()) for t in raw))
        terms = [t for t in terms if t and t not in {"OR", "NOT", "AND"}]
        if len(terms) < 2:
            return
        q = " ".join(terms)
        for scope, scan in (("sentence", sentence_scan), ("document", document_scan)):
            page = run_search(seed_engine, SearchRequest(q=q, scope=scope, all=True))
            keys = [(h.doc_id, h.para_id) for h in page.hits]
            assert len(keys) == len(set(keys)) == page.total
            assert set(keys) == scan(corpus, terms, words), (scope, q)
            if scope == "document":  # grouped: each report's hits together
                reports = [k[0] for k in keys]
                assert reports == sorted(reports, key=reports.index)

    check()


def test_sentence_scope_examples(seed_engine: Engine):
    same = run_search(seed_engine, SearchRequest(q="三清两建 集体经济", scope="sentence", all=True))
    paragraph = run_search(seed_engine, SearchRequest(q="三清两建 集体经济", all=True))
    assert 0 < same.total < paragraph.total
    for hit in same.hits:
        assert any("三清两建" in s and "集体经济" in s for s in hit.text.split("。"))
