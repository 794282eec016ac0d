"""A phrase across years and towns, counted from bitsets and columns, against the hits."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import whole_text

from searchapp.analysis import exact_key
from searchapp.embedded.engine import best_in_groups
from searchapp.engine import Engine, open_engine
from searchapp.errors import QueryError
from searchapp.results import SearchRequest, TownTable, TownUsage
from searchapp.search import run_search, run_trend, town_table, town_usage, usage_by_town


@pytest.mark.parametrize(
    ("q", "mode"),
    [
        ("三清两建", "phrase"),
        ("乡村振兴", "phrase"),
        ("发展 集体经济", "keyword"),
        ("的", "phrase"),
    ],
)
def test_trend_equals_counting_every_hit(seed_engine: Engine, q: str, mode: str):
    trend = run_trend(seed_engine, SearchRequest(q=q, mode=mode))
    page = run_search(seed_engine, SearchRequest(q=q, mode=mode, all=True))
    assert trend.total == page.total > 0
    keys = [exact_key(t) for t in q.split()]
    by_year = {y.year: y for y in trend.years}
    dated = [h for h in page.hits if h.year]
    assert set(by_year) == {h.year for h in dated}
    for year, counts in by_year.items():
        hits = [h for h in dated if h.year == year]
        assert counts.paragraphs == len(hits)
        assert counts.reports == len({h.doc_id for h in hits})
        assert counts.towns == len({h.town for h in hits})
        found = [sum(exact_key(whole_text(seed_engine, h)).count(k) for k in keys) for h in hits]
        assert counts.occurrences == sum(max(1, n) for n in found)
    table = Counter((h.town, h.year) for h in dated)
    assert {(t, y): n for t, row in trend.table.items() for y, n in row.items()} == table
    for town, first in trend.first_year.items():
        assert first == min(h.year for h in dated if h.town == town)
    assert trend.undated == page.total - len(dated)


def test_trend_json_and_refusals(seed_engine: Engine):
    data = run_trend(seed_engine, SearchRequest(q="三清两建", mode="phrase")).to_json()
    assert data["years"][0] == {
        "year": 2022,
        "reports": 1,
        "towns": 1,
        "paragraphs": 4,
        "occurrences": 6,
    }
    assert data["towns"][0]["town"] == "潭头镇" and data["towns"][0]["first_year"] == 2022
    assert run_trend(seed_engine, SearchRequest(q="   ")).total == 0
    with pytest.raises(QueryError):
        run_trend(seed_engine, SearchRequest(q="三清两见", mode="fuzzy"))


@pytest.mark.parametrize(
    ("q", "mode", "options"),
    [
        ("三清两建", "phrase", {}),
        ("乡村振兴", "keyword", {}),
        ("发展 -疫情", "keyword", {}),
        ("三清两见", "fuzzy", {}),
        ("发展 乡村", "keyword", {"sort": "newest"}),
        ("发展 乡村", "keyword", {"scope": "document"}),
    ],
)
def test_town_usage_from_columns_equals_grouping_every_hit(
    seed_engine: Engine, q: str, mode: str, options: dict[str, str]
):
    """Towns, paragraphs, reports and best paragraphs (and their scores) as grouping every
    hit gives them, whatever the order; occurrences are the terms' verbatim occurrences
    (at least one a paragraph)."""
    total, usage = town_usage(seed_engine, SearchRequest(q=q, mode=mode, **options))
    page = run_search(seed_engine, SearchRequest(q=q, mode=mode, all=True, **options))
    expected = usage_by_town(page)
    assert total == page.total > 0
    assert [(u.town, u.paragraphs) for u in usage] == [(u.town, u.paragraphs) for u in expected]
    for got, want in zip(usage, expected, strict=True):
        assert got.best is not None and want.best is not None
        assert (got.best.para_id, got.best.score) == (want.best.para_id, want.best.score)
        # the same reports, in the order of their first hit, with the same fields
        assert [{**r, "occurrences": 0} for r in got.reports] == [
            {**r, "occurrences": 0} for r in want.reports
        ]
        if mode != "fuzzy":
            keys = [exact_key(t) for t in q.split() if not t.startswith("-")]
            hits = [h for h in page.hits if h.town == got.town]
            by_block = options.get("scope", "paragraph") == "paragraph"  # plan.py
            texts = [whole_text(seed_engine, h) if by_block else h.text for h in hits]
            counts = [max(1, sum(exact_key(t).count(k) for k in keys)) for t in texts]
            assert got.occurrences == sum(counts)


def test_recurring_headings_are_a_section_facet(make_index):
    def report(town: str, extra: str) -> str:
        return (
            f"{town}2023年政府工作报告\n各位代表：\n一、2022年工作回顾\n{town}推进乡村振兴，成效明显。\n"
            f"二、2023年工作安排\n{town}继续推进乡村振兴。\n三、{extra}\n{town}乡村振兴还有短板。\n"
        )

    config = make_index(
        {
            "a.txt": report("甲镇", "存在的问题"),
            "b.txt": report("乙镇", "存在的问题"),
            "c.txt": report("丙镇", "只此一处的标题"),
        }
    )
    engine = open_engine(config.index_dir)
    page = run_search(engine, SearchRequest(q="乡村振兴"))
    sections = page.facets["section"]
    assert sections == {"工作回顾": 3, "工作安排": 3, "存在的问题": 2}
    for heading, count in sections.items():
        narrowed = run_search(engine, SearchRequest(q="乡村振兴", section=[heading], all=True))
        assert narrowed.total == count
        assert all(any(heading in s for s in h.section_path) for h in narrowed.hits)


@pytest.mark.parametrize(
    ("q", "mode", "best"),
    [
        ("三清两建", "phrase", None),
        ("发展", "keyword", 3),
        ("发展 -疫情", "keyword", 0),
        ("三清两见", "fuzzy", 2),
        ("没有这个词语吧", "phrase", None),
    ],
)
def test_towns_json_is_the_json_of_the_usages(seed_engine: Engine, q: str, mode: str, best):
    """/api/towns writes its towns column by column; they must read back as the
    TownUsage objects' own JSON, field for field and in order."""
    table = town_table(seed_engine, SearchRequest(q=q, mode=mode), best=best)
    usages = table.usages()
    assert orjson.loads(table.towns_json()) == json.loads(
        json.dumps([u.to_json() for u in usages], default=str)
    )
    shown = [u for u in usages if u.best is not None]
    assert len(shown) == (len(usages) if best is None else min(best, len(usages)))


def test_towns_json_escapes_and_counts_beyond_the_lookup_table():
    """Names and titles with quotes, backslashes, control characters, markup and a lone
    surrogate (orjson refuses those: the standard library escapes them), and counts past
    the table of small numbers, come out as JSON that reads back."""
    odd = ['引号"镇', "反斜杠\\乡", "换行\n街道", "<script>alert(1)</script>镇", "孤立\ud800镇"]
    usages = [
        TownUsage(
            town,
            paragraphs=5000 + i,
            occurrences=123456789 + i,
            reports=[
                {
                    "doc_id": f"d{i}",
                    "title": f"{town}《报告》\t{i}",
                    "year": None if i % 2 else 2023,
                    "doc_type": "",
                    "paragraphs": 5000 + i,
                    "occurrences": 4095 + i,
                }
            ]
            * (i + 1),
        )
        for i, town in enumerate(odd)
    ]
    usages.append(TownUsage("没有报告的镇", 0, 0, [], None))
    table = TownTable.from_usages(usages)
    assert json.loads(table.towns_json()) == [u.to_json() for u in usages]
    assert table.usages() == usages


def test_best_in_groups_takes_the_keys_in_turn():
    """A group's best is the highest first key (a verbatim tier), then the highest second
    (a score, however large), then the last; an empty group has none."""
    groups = np.array([0, 0, 0, 2, 2])
    tiers = np.array([1, 2, 2, 0, 0])
    scores = np.array([5000.0, 1.0, 1.0, 3.0, 4.0])  # the tier wins over any score
    last = -np.array([7, 9, 8, 1, 2])  # lower rank first
    assert best_in_groups(groups, (tiers, scores, last), 3).tolist() == [2, -1, 4]


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 2), st.sampled_from([0.5, 1.0, 2.0])),
        max_size=40,
    ),
)
def test_best_in_groups_equals_a_sort_of_each_group(rows: list[tuple[int, int, float]]):
    """Against sorting each group's elements by the keys: whatever the keys share, and
    however few candidates are left after a key."""
    groups = np.array([g for g, _, _ in rows], dtype=np.int64)
    tiers = np.array([t for _, t, _ in rows], dtype=np.int64)
    scores = np.array([s for _, _, s in rows], dtype=np.float64)
    last = -np.arange(len(rows), dtype=np.int64)  # distinct: earlier first
    expected = [-1] * 6
    for group in range(6):
        members = [i for i, (g, _, _) in enumerate(rows) if g == group]
        if members:
            expected[group] = max(members, key=lambda i: (tiers[i], scores[i], last[i]))
    assert best_in_groups(groups, (tiers, scores, last), 6).tolist() == expected
