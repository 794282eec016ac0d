"""Fuzzy mode against a judged set of misspelled and reworded queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchapp.engine import Engine
from searchapp.search import SearchRequest, run_search

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
JUDGED = PROJECT_ROOT / "tests" / "data" / "judged_fuzzy.tsv"


def judged() -> list[tuple[str, str]]:
    rows = []
    for line in Path(JUDGED).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, wanted, _ = line.split("\t")
            rows.append((query, wanted))
    return rows


def rank(engine: Engine, query: str, wanted: str, mode: str) -> int | None:
    page = run_search(engine, SearchRequest(q=query, mode=mode, page_size=10))
    return next((i for i, h in enumerate(page.hits, 1) if wanted in h.text), None)


def test_judged_set_is_sound(seed_engine: Engine):
    rows = judged()
    assert len(rows) >= 20
    for query, wanted in rows:  # the intended wording exists, the query itself does not
        assert run_search(seed_engine, SearchRequest(q=wanted, mode="phrase")).total, wanted
        assert not run_search(seed_engine, SearchRequest(q=query, mode="phrase")).total, query


def test_fuzzy_finds_what_was_meant(seed_engine: Engine):
    ranks = [rank(seed_engine, q, w, "fuzzy") for q, w in judged()]
    top3 = sum(1 for r in ranks if r is not None and r <= 3) / len(ranks)
    top10 = sum(1 for r in ranks if r is not None) / len(ranks)
    keyword = [rank(seed_engine, q, w, "keyword") for q, w in judged()]
    keyword_top10 = sum(1 for r in keyword if r is not None) / len(keyword)
    assert top3 >= 0.9 and top10 >= 0.9
    assert top10 > keyword_top10


@pytest.mark.parametrize(
    ("query", "expected"), [("三清两见", "三清两建"), ("三清二建", "三清两建")]
)
def test_fuzzy_highlights_the_span_that_matched(seed_engine: Engine, query: str, expected: str):
    hit = run_search(seed_engine, SearchRequest(q=query, mode="fuzzy")).hits[0]
    assert f"<mark>{expected}</mark>" in hit.snippet
    start, end = hit.spans[0]
    assert hit.text[start:end] == expected
    assert hit.similarity == 75.0


def test_exact_matches_rank_first(seed_engine: Engine):
    page = run_search(seed_engine, SearchRequest(q="营商环境", mode="fuzzy", all=True))
    similarities = [h.similarity for h in page.hits]
    assert similarities == sorted(similarities, reverse=True)
    exact = run_search(seed_engine, SearchRequest(q="营商环境", mode="phrase", all=True)).total
    assert similarities[:exact] == [100.0] * exact


def test_fuzzy_says_results_are_approximate(seed_engine: Engine):
    page = run_search(seed_engine, SearchRequest(q="三清两见", mode="fuzzy"))
    assert any("近似" in n for n in page.notices)
