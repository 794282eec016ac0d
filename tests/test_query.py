"""Query parsing, ranking, filters, facets and snippets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from oracle import whole_text

from searchapp.analysis import exact_key, normalize
from searchapp.engine import Engine
from searchapp.errors import QueryError
from searchapp.highlight import (
    SENTENCE,
    busiest,
    find_spans,
    make_snippet,
    merge_spans,
)
from searchapp.querylang import Atom, parse_query
from searchapp.results import SearchRequest
from searchapp.search import run_search


def search(engine: Engine, q: str, **options: object):
    return run_search(engine, SearchRequest(q=q, **options))  # type: ignore[arg-type]


def test_parse_operators_and_filters():
    parsed = parse_query(
        '三清两建 乡贤 OR 三变改革 -疫情 NOT 防控 "二十大 精神" town:潭头镇 year:2022'
    )
    assert parsed.groups == [
        [Atom("三清两建")],
        [Atom("乡贤"), Atom("三变改革")],
        [Atom("二十大 精神", quoted=True)],
    ]
    assert parsed.excluded == [Atom("疫情"), Atom("防控")]
    assert parsed.filters == {"town": ["潭头镇"], "year": ["2022"]}
    assert parsed.notices == []


@pytest.mark.parametrize(
    ("q", "reading", "noticed"),
    [
        ('"三清两建', '"三清两建"', True),
        ("OR", "", True),
        ("三清两建 OR", "三清两建", True),
        ("OR 乡贤", "乡贤", True),
        ("town:", "", True),
        ("三清两建 town:", "三清两建", True),
        ("(((", "", True),
        ("((三清两建))", "三清两建", True),
        (")", "", True),
        ("NOT", "", True),
        ("三清两建 NOT", "三清两建", True),
        ("-", "", False),
        (":", ":", False),
        ('""', "", False),
    ],
)
def test_malformed_queries_get_a_reading_not_an_error(
    q: str, reading: str, noticed: bool, seed_engine: Engine
):
    """A malformed query gives the hits of its sensible reading, and says so when it
    dropped something the user typed."""
    page = search(seed_engine, q, all=True)
    expected = search(seed_engine, reading, all=True)
    assert [h.para_id for h in page.hits] == [h.para_id for h in expected.hits]
    assert bool(page.notices) == noticed, page.notices
    if reading.strip('"') == "三清两建":
        assert page.total == 5


def test_unbalanced_quote_reads_rest_as_phrase():
    parsed = parse_query('乡村 "三清两建 工作')
    assert parsed.groups[-1] == [Atom("三清两建 工作", quoted=True)]
    assert parsed.notices


def test_every_term_must_match(seed_engine: Engine):
    both = search(seed_engine, "三清两建 三变改革", all=True)
    one = search(seed_engine, "三清两建", all=True)
    assert 0 < both.total < one.total
    assert all(
        "三变改革" in whole_text(seed_engine, h) and "三清两建" in whole_text(seed_engine, h)
        for h in both.hits
    )


def test_or_not_and_filters(seed_engine: Engine):
    either = search(seed_engine, "三清两建 OR 三变改革", all=True)
    assert either.total >= search(seed_engine, "三变改革", all=True).total
    without = search(seed_engine, "三清两建 -三变改革", all=True)
    assert without.total and all("三变改革" not in whole_text(seed_engine, h) for h in without.hits)
    town = search(seed_engine, "乡村振兴 town:横沥镇", all=True)
    assert town.total and {h.town for h in town.hits} == {"横沥镇"}
    assert search(seed_engine, "乡村振兴", town=["横沥镇"], all=True).total == town.total


def test_verbatim_ranks_above_parts(seed_engine: Engine):
    page = search(seed_engine, "乡村治理", all=True)
    verbatim = ["乡村治理" in whole_text(seed_engine, h) for h in page.hits]
    assert any(verbatim) and not all(verbatim)
    first_partial = verbatim.index(False)
    assert all(verbatim[:first_partial]) and not any(verbatim[first_partial:])


def test_more_verbatim_terms_rank_higher(seed_engine: Engine):
    terms = ("乡村治理", "发展")
    page = search(seed_engine, " ".join(terms), all=True)
    held = [sum(t in whole_text(seed_engine, h) for t in terms) for h in page.hits]
    assert len(set(held)) > 1 and held == sorted(held, reverse=True)


def test_quoted_term_and_word_rank_the_best_paragraph_first(seed_engine: Engine):
    """Regression: when Whoosh's matcher tree ranked, an AndMaybe per term under the
    query's And lost the optional words' scores of some paragraphs (whoosh3's
    AndMaybeMatcher.skip_to): this paragraph scored 2003.1947 and came 13th."""
    page = search(seed_engine, '"二十大精神" 发展', all=True)
    first = page.hits[0]
    assert first.town == "平湖镇" and first.score == 2007.5894  # plan.py's BM25
    assert "二十大精神" in first.text and "发展" in first.text


def test_ranking_is_deterministic(seed_engine: Engine):
    runs = [[h.para_id for h in search(seed_engine, "发展", all=True).hits] for _ in range(2)]
    assert runs[0] == runs[1]


def test_facets_count_all_hits_not_the_page(seed_engine: Engine):
    page = search(seed_engine, "乡村振兴", page_size=3)
    assert len(page.hits) == 3
    assert sum(page.facets["town"].values()) == page.total > 3
    assert page.pages == -(-page.total // 3)


def test_pagination_is_consistent(seed_engine: Engine):
    everything = [h.para_id for h in search(seed_engine, "发展", all=True).hits]
    second = [h.para_id for h in search(seed_engine, "发展", page=2, page_size=5).hits]
    assert second == everything[5:10]


def test_snippet_marks_every_occurrence_and_escapes():
    text = "<b>前文</b>。三清两建很好；再说三清两建。" + "无关内容。" * 60
    spans = find_spans(text, ["三清两建"])
    assert len(spans) == 2
    snippet = str(make_snippet(text, spans))
    assert snippet.count("<mark>三清两建</mark>") == 2
    assert "<b>" not in snippet and "&lt;b&gt;" in snippet
    assert snippet.endswith("…")


def test_snippet_cut_at_chinese_sentence_ends(seed_engine: Engine):
    hit = search(seed_engine, "三清两建").hits[0]
    assert "<mark>三清两建</mark>" in hit.snippet
    body = hit.snippet.strip("…")
    assert body[-1] in "。！？；”" or not hit.snippet.endswith("…")


def test_normalisation_for_matching_not_display(make_index):
    config = make_index(
        {"a.txt": "某镇2023年政府工作报告\n各位代表：\n推进ＡＩ＋政务，建设“数字政府”。\n"}
    )
    from searchapp.engine import open_engine

    engine = open_engine(config.index_dir)
    page = search(engine, "ai+政务", mode="phrase")
    assert page.total == 1
    assert "<mark>ＡＩ＋政务</mark>" in page.hits[0].snippet
    assert search(engine, '"数字政府"', mode="phrase").total == 1
    assert search(engine, "“数字政府”").total == 1


def test_too_long_query_is_a_clear_error(seed_engine: Engine):
    with pytest.raises(QueryError, match="太长"):
        run_search(seed_engine, SearchRequest(q="长" * 500), max_query_chars=200)


def test_fuzzy_finds_a_misspelled_slogan(seed_engine: Engine):
    page = search(seed_engine, "三清两见", mode="fuzzy")
    assert page.hits and "<mark>三清两建</mark>" in page.hits[0].snippet
    assert page.hits[0].similarity and page.hits[0].similarity < 100


def test_json_contract(seed_engine: Engine):
    data = search(seed_engine, "三清两建").to_json()
    assert {"query", "mode", "total", "hits", "facets"} <= set(data)
    assert {"town", "year", "doc_type"} <= set(data["facets"])  # more facets may follow
    required = {"doc_id", "para_id", "title", "town", "year", "doc_type", "section"}
    assert required | {"text", "snippet", "url"} <= set(data["hits"][0])
    hit = data["hits"][0]
    assert hit["url"] == f"/doc/{hit['doc_id']}#{hit['para_id']}"


def test_traditional_and_simplified_match_each_other(make_index):
    from searchapp.engine import open_engine

    config = make_index(
        {
            "s.txt": "某镇2023年政府工作报告\n各位代表：\n全面实施乡村振兴战略。\n",
            "t.txt": "某鄉2023年政府工作報告\n各位代表：\n全面實施鄉村振興戰略。\n",
        }
    )
    engine = open_engine(config.index_dir)
    for q in ("鄉村振興", "乡村振兴"):
        page = search(engine, q, all=True)
        assert page.total == 2
        snippets = sorted(h.snippet for h in page.hits)
        assert "<mark>乡村振兴</mark>" in snippets[0] + snippets[1]
        assert "<mark>鄉村振興</mark>" in snippets[0] + snippets[1]


def test_did_you_mean(seed_engine: Engine):
    page = search(seed_engine, "三清两见")
    assert page.total == 0
    assert page.suggestions[0]["term"] == "三清两建" and page.suggestions[0]["hits"] == 5
    assert search(seed_engine, "乡村振兴").suggestions == []


def test_exclusion_is_exact(make_index):
    """Regression: whoosh3's AndNot kept 发展乡村产业 for 发展 -乡村."""
    from searchapp.engine import open_engine

    lines = ["某镇2023年政府工作报告", "各位代表：", "推进乡村建设。", "发展乡村产业。"]
    lines += ["经济发展很快。", "乡村美丽。", "发展不停。", "发展乡村旅游。"]
    config = make_index({"a.txt": "\n".join(lines)})
    engine = open_engine(config.index_dir)
    page = search(engine, "发展 -乡村", all=True)
    assert sorted(h.text for h in page.hits) == ["发展不停。", "经济发展很快。"]
    assert page.facets["town"] == {"某镇": 2}


def test_repeated_and_too_many_terms():
    parsed = parse_query(" ".join(["的"] * 99))
    assert parsed.groups == [[Atom("的")]]
    parsed = parse_query(" ".join(f"词{i}" for i in range(40)))
    assert len(parsed.groups) == 16 and any("太多" in n for n in parsed.notices)
    parsed = parse_query("甲 OR 甲 乙 -丙 -丙")
    assert parsed.groups == [[Atom("甲")], [Atom("乙")]] and parsed.excluded == [Atom("丙")]


def test_years_in_chinese_numerals_match_digits(make_index):
    from searchapp.engine import open_engine

    config = make_index(
        {"a.txt": "某镇政府工作报告\n各位代表：\n二〇二二年是关键之年。\n一是抓好2022年的项目。\n"}
    )
    engine = open_engine(config.index_dir)
    page = search(engine, "2022年", mode="phrase", all=True)
    assert page.total == 2
    assert any("<mark>二〇二二年</mark>" in h.snippet for h in page.hits)
    assert search(engine, "二零二二年", mode="phrase").total == 2
    assert search(engine, "1是", mode="phrase").total == 0  # only years fold


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_exact_key_is_idempotent(text: str):
    """Texts already in exact-match form (the grams files' texts) fold to themselves."""
    assert exact_key("薴") == exact_key("苧") == "苎"  # a chain in OpenCC's table
    assert exact_key(exact_key(text)) == exact_key(text)
    assert len(normalize(text)) == len(text)  # one character to one: offsets carry over


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="<>&'\"三清两建 。a\ufdd0\ufdd1", max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6),
)
def test_snippet_escapes_as_markupsafe_does(text: str, cuts: list[int]):
    """Snippets escape every piece between the marks exactly as markupsafe.escape would,
    so no character of a document can open a tag (the noncharacters that stand for the
    marks while a snippet is escaped show as U+FFFD when a document holds them)."""
    edges = sorted(min(c, len(text)) for c in cuts)
    spans = merge_spans((a, b) for a, b in zip(edges[::2], edges[1::2], strict=False) if a < b)
    snippet = str(make_snippet(text, spans, width=len(text) + 1))  # hits pass merged spans
    expected, pos = [], 0
    for start, end in spans:
        expected += [
            str(escape(text[pos:start])),
            "<mark>",
            str(escape(text[start:end])),
            "</mark>",
        ]
        pos = end
    expected.append(str(escape(text[pos:])))
    shown = "".join(expected).replace("\ufdd0", "\ufffd").replace("\ufdd1", "\ufffd")
    assert snippet == shown
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="三清两建发展。！？；!?;”）)\n a", min_size=1, max_size=120),
    cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=10),
)
def test_busiest_sentence_as_a_scan_of_every_sentence(text: str, cuts: list[int]):
    """The snippet's sentences adjoin and cover the text (what bisection over their ends
    needs), and the first sentence most matches overlap, found by bisection, is the one a
    scan of every sentence against every match finds."""
    sentences = [(m.start(), m.end()) for m in SENTENCE.finditer(text)]
    assert [a for a, _ in sentences] == [0] + [b for _, b in sentences[:-1]]
    assert sentences[-1][1] == len(text)
    edges = sorted(min(c, len(text)) for c in cuts)
    spans = merge_spans((a, b) for a, b in zip(edges[::2], edges[1::2], strict=False) if a < b)
    overlaps = [sum(1 for a, b in spans if a < end and b > start) for start, end in sentences]
    assert busiest(sentences, spans) == overlaps.index(max(overlaps))


# Issue 22 part 3: a report with neither date nor year sorts last, newest or oldest first.
DATED_AND_UNDATED = {
    "a.txt": "甲镇2021年政府工作报告\n\n我们推进垃圾分类工作。\n",
    "b.txt": "乙镇政府工作报告\n\n2022年3月5日在乙镇第三届人民代表大会上\n\n我们推进垃圾分类工作。\n",
    "c.txt": "丙镇情况\n\n我们推进垃圾分类工作。\n",  # no date, no year anywhere
    "d.txt": "丁镇2023年政府工作报告\n\n我们推进垃圾分类工作。\n",
    "e.txt": "戊镇工作\n\n我们推进垃圾分类工作。\n",  # none either
}
SORTED_SOURCES = {
    "newest": ["d.txt", "b.txt", "a.txt", "c.txt", "e.txt"],
    "oldest": ["a.txt", "b.txt", "d.txt", "c.txt", "e.txt"],
}


def sources_in_date_order(engine: Engine, sort: str) -> list[str]:
    page = run_search(engine, SearchRequest(q="垃圾分类", sort=sort, all=True))
    return [hit.source for hit in page.hits]


@pytest.mark.parametrize("sort", sorted(SORTED_SOURCES))
def test_reports_without_a_year_sort_last(make_index, sort: str):
    from searchapp.engine import open_engine

    engine = open_engine(make_index(DATED_AND_UNDATED).index_dir)
    try:
        assert sources_in_date_order(engine, sort) == SORTED_SOURCES[sort]
        page = run_search(engine, SearchRequest(q="垃圾分类", sort=sort, page_size=2, page=3))
        assert [h.source for h in page.hits] == SORTED_SOURCES[sort][4:]  # pages agree
    finally:
        engine.close()
