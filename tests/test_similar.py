"""Precedent wording and the across-towns view."""

from __future__ import annotations

import json

from click.testing import CliRunner

from searchapp.cli import main
from searchapp.config import Config
from searchapp.engine import Engine
from searchapp.search import SearchRequest, run_search, usage_by_town
from searchapp.similar import find_similar, mark_differences


def test_mark_differences_marks_only_what_differs():
    marked = str(mark_differences("持续优化营商环境", "不断优化营商环境，"))
    assert marked == "<mark>不断</mark>优化营商环境，"
    assert "<mark>" not in str(mark_differences("三清两建", "三清两建"))


def test_similar_finds_other_wordings_grouped_by_town(seed_engine: Engine):
    text = "积极做好脱贫攻坚与乡村振兴有效衔接，持续优化营商环境。"  # appears nowhere verbatim
    assert run_search(seed_engine, SearchRequest(q=text, mode="phrase")).total == 0
    result = find_similar(seed_engine, text)
    towns = result.by_town
    assert len(towns) >= 3
    sentences = [s.sentence for s in result.sentences]
    assert any("脱贫攻坚与乡村振兴深度融合" in s for s in sentences)
    assert any("营商环境" in s and "持续优化营商环境" not in s for s in sentences)
    scores = [s.similarity for s in result.sentences]
    assert scores == sorted(scores, reverse=True) and all(50 <= s <= 100 for s in scores)
    assert all(len(items) <= 3 for items in towns.values())


def test_similar_can_leave_out_the_source_report(seed_engine: Engine):
    result = find_similar(seed_engine, "持续优化营商环境")
    source = result.sentences[0].doc_id
    others = find_similar(seed_engine, "持续优化营商环境", exclude_doc=source)
    assert others.sentences and source not in {s.doc_id for s in others.sentences}


def test_usage_by_town(seed_engine: Engine):
    page = run_search(seed_engine, SearchRequest(q="三清两建", mode="phrase", all=True))
    (usage,) = usage_by_town(page)
    assert (usage.town, usage.paragraphs, usage.occurrences) == ("潭头镇", 5, 7)
    assert sorted(r["year"] for r in usage.reports) == [2022, 2023]


def test_cli_towns_and_similar_json(seed_config: Config):
    runner = CliRunner()
    index = ["--index", str(seed_config.index_dir)]
    data = json.loads(runner.invoke(main, ["towns", "乡村振兴", "--json", *index]).output)
    assert data["total"] == sum(t["paragraphs"] for t in data["towns"])
    assert len(data["towns"]) > 1 and all(t["best"] for t in data["towns"])
    every = ["towns", "乡村振兴", "--json", "--best", "all", *index]
    assert json.loads(runner.invoke(main, every).output) == data  # fewer than 20 towns
    args = ["towns", "乡村振兴", "--json", "--best", "1", *index]
    first = json.loads(runner.invoke(main, args).output)
    assert first["towns"][0] == data["towns"][0]
    assert [t["best"] for t in first["towns"][1:]] == [None] * (len(data["towns"]) - 1)
    data = json.loads(runner.invoke(main, ["similar", "持续优化营商环境", "--json", *index]).output)
    assert data["sentences"][0]["similarity"] == 100.0
    assert set(data["by_town"]) == {s["town"] for s in data["sentences"]}
