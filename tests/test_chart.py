"""The trend chart: SVG structure, gaps as zero, scales, escaping, CSP-safe markup."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from searchapp.chart import (
    MIN_LABEL_GAP,
    YearPoint,
    fill_gaps,
    nice_ticks,
    points_from_years,
    trend_svg,
)
from searchapp.results import YearCount

NS = "{http://www.w3.org/2000/svg}"
SERIES = [
    YearPoint(2018, reports=1, towns=1, occurrences=2),
    YearPoint(2020, reports=4, towns=3, occurrences=9),  # 2019 is missing: a zero bar
    YearPoint(2021, reports=6, towns=5, occurrences=15),
    YearPoint(2022, reports=8, towns=6, occurrences=21),
]
HOSTILE = '</title><script>alert(1)</script><a href="javascript:x">"&\'{{ 7*7 }}'


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def by_class(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [e for e in root.iter(NS + tag) if name in (e.get("class") or "").split()]


def test_one_bar_and_title_per_year_with_gaps_as_zero():
    root = parse(trend_svg(SERIES, title="三清两建"))
    assert root.tag == NS + "svg"
    assert root.get("viewBox") == "0 0 640 240"
    years = by_class(root, "g", "year")
    assert [g.get("data-year") for g in years] == ["2018", "2019", "2020", "2021", "2022"]
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 5
    assert [int(b.get("data-value")) for b in bars] == [1, 0, 3, 5, 6]  # towns, by default
    assert float(bars[1].get("height")) == 0
    titles = [g.find(NS + "title").text for g in years]
    assert titles[2] == "2020年：3 个镇，4 份报告，出现 9 次"
    assert titles[1] == "2019年：0 个镇，0 份报告，出现 0 次"
    labels = [t.text for t in by_class(root, "text", "year-label")]
    assert labels == ["2018", "2019", "2020", "2021", "2022"]
    texts = {t.text for t in root.iter(NS + "text")}
    assert {"镇数（柱，左轴）", "出现次数（折线，右轴）", "年份"} <= texts
    assert root.find(NS + "title").text == "三清两建"
    assert root.get("aria-label") == "三清两建"
    assert len(root.findall(f"{NS}g[@class='occurrences']/{NS}circle")) == 5


def test_bar_heights_are_proportional_and_fit_the_axis():
    root = parse(trend_svg(SERIES, bars="reports"))
    bars = by_class(root, "rect", "bar")
    values = [int(b.get("data-value")) for b in bars]
    assert values == [1, 0, 4, 6, 8]
    heights = [float(b.get("height")) for b in bars]
    tallest = max(heights)
    for value, height in zip(values, heights, strict=True):
        assert height == pytest.approx(tallest * value / max(values), abs=0.15)
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 1) for b in bars}
    assert len(bottoms) == 1  # every bar stands on the baseline
    assert "报告数（柱，左轴）" in {t.text for t in root.iter(NS + "text")}


def test_hostile_title_is_escaped_and_markup_is_csp_safe():
    svg = trend_svg(SERIES, title=HOSTILE)
    root = parse(svg)
    assert root.find(NS + "title").text == HOSTILE
    assert root.get("aria-label") == HOSTILE
    for element in root.iter():
        assert element.tag.removeprefix(NS) not in {"script", "style", "a", "foreignObject"}
        for name in element.attrib:
            assert name != "style" and not name.startswith("on") and "href" not in name
    assert "<script" not in svg and "<a " not in svg


def test_empty_series_is_a_friendly_chart():
    root = parse(trend_svg([], title="三清两建"))
    assert root.get("width") == "640" and root.get("height") == "240"
    texts = [t.text for t in root.iter(NS + "text")]
    assert len(texts) == 1 and texts[0].startswith("暂无按年份统计的数据")
    assert by_class(root, "rect", "bar") == []


def test_a_single_year_and_all_zero_years_draw():
    root = parse(trend_svg([YearPoint(2022, 1, 1, 3)]))
    assert len(by_class(root, "rect", "bar")) == 1
    assert root.findall(f".//{NS}polyline") == []  # one point: a dot, no line
    zeros = parse(trend_svg([YearPoint(2020), YearPoint(2022)]))
    assert [float(b.get("height")) for b in by_class(zeros, "rect", "bar")] == [0, 0, 0]


def test_many_years_thin_out_the_labels():
    series = [YearPoint(year, 1, 1, 1) for year in range(1950, 2027)]
    root = parse(trend_svg(series))
    assert len(by_class(root, "rect", "bar")) == 77
    assert len(by_class(root, "g", "year")) == 77
    xs = [float(t.get("x")) for t in by_class(root, "text", "year-label")]
    assert 5 <= len(xs) < 77
    assert min(b - a for a, b in itertools.pairwise(xs)) >= MIN_LABEL_GAP


def test_fill_gaps_orders_fills_and_adds_up_repeats():
    points = fill_gaps(
        [YearPoint(2022, 1, 1, 1), YearPoint(2019, 2, 2, 2), YearPoint(2022, 1, 0, 4)]
    )
    assert points == [
        YearPoint(2019, 2, 2, 2),
        YearPoint(2020),
        YearPoint(2021),
        YearPoint(2022, 2, 1, 5),
    ]


def test_points_from_trend_years():
    years = [YearCount(2021, reports=2, towns=1, paragraphs=3, occurrences=4)]
    assert points_from_years(years) == [YearPoint(2021, 2, 1, 4)]


@given(st.integers(min_value=0, max_value=10**7))
def test_nice_ticks_cover_the_maximum_with_round_steps(top: int):
    ticks = nice_ticks(top)
    step = ticks[1] - ticks[0]
    assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) <= 6
    assert all(b - a == step for a, b in itertools.pairwise(ticks))
    assert int(str(step)[0]) in {1, 2, 5} and set(str(step)[1:]) <= {"0"}
