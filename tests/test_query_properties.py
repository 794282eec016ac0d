"""Exact matching checked against a brute-force scan of every indexed paragraph."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.searching import Searcher

from searchapp import schema as F
from searchapp.analysis import exact_key, segment
from searchapp.config import Config
from searchapp.indexer import open_index
from searchapp.query import SearchRequest, run_search, strip_outer_quotes

Key = tuple[str, str]


@pytest.fixture(scope="module")
def corpus(seed_config: Config) -> dict[Key, str]:
    """Every paragraph of the seed index: (doc_id, para_id) → text."""
    ix, _ = open_index(seed_config.index_dir)
    with ix.searcher() as searcher:
        return {(f[F.DOC_ID], f[F.PARA_ID]): f[F.TEXT_FIELD] for f in searcher.all_stored_fields()}


def brute_force(corpus: dict[Key, str], phrase: str) -> set[Key]:
    key = exact_key(strip_outer_quotes(phrase.strip()))
    return {k for k, text in corpus.items() if key in exact_key(text)}


def engine(searcher: Searcher, q: str, mode: str) -> set[Key]:
    page = run_search(searcher, SearchRequest(q=q, mode=mode, all=True), max_query_chars=500)
    keys = [(h.doc_id, h.para_id) for h in page.hits]
    assert len(keys) == len(set(keys)) == page.total
    return set(keys)


@st.composite
def substrings(draw: st.DrawFn, corpus: dict[Key, str]) -> str:
    texts = sorted(corpus.values())
    text = draw(st.sampled_from(texts))
    length = draw(st.integers(min_value=1, max_value=min(16, len(text))))
    start = draw(st.integers(min_value=0, max_value=len(text) - length))
    return text[start : start + length]


def test_phrase_mode_equals_substring_scan(corpus: dict[Key, str], seed_searcher: Searcher):
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
        assert engine(seed_searcher, phrase, "phrase") == expected

    check()


@pytest.mark.parametrize("phrase", ["清两", "乡贤返", "二十大精", "三清两建", "的", "，", "2022年"])
def test_phrases_across_jieba_boundaries(
    phrase: str, corpus: dict[Key, str], seed_searcher: Searcher
):
    expected = brute_force(corpus, phrase)
    assert expected
    assert engine(seed_searcher, phrase, "phrase") == expected
    assert engine(seed_searcher, f'"{phrase}"', "keyword") == expected


def test_keyword_terms_find_every_verbatim_paragraph(
    corpus: dict[Key, str], seed_searcher: Searcher
):
    words = tuple(F.word_tokenizer(seed_searcher.schema).words)

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
        hits = engine(seed_searcher, term, "keyword")
        verbatim = brute_force(corpus, term)
        parts = set(segment(term, words))
        assert verbatim <= hits  # recall: every paragraph holding the term verbatim
        for key in hits - verbatim:  # precision: the others hold all of its words
            assert parts <= set(segment(corpus[key], words))

    check()


def test_exclusion_removes_exactly_the_verbatim_holders(
    corpus: dict[Key, str], seed_searcher: Searcher
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
        expected = engine(seed_searcher, term, "keyword") - brute_force(corpus, excluded)
        assert engine(seed_searcher, f"{term} -{excluded}", "keyword") == expected

    check()
