"""A phrase's use over the years as a small server-side SVG chart.

Bars count towns (or reports) per year, a line with dots counts occurrences on its own
scale at the right. Years missing between the first and the last are drawn as zero.
Each year is a group with a <title>, so hovering a bar tells that year's figures.

The SVG works inline in a page served with `style-src 'self'`: it has no <style>
element and no style attributes (a CSP without 'unsafe-inline' blocks both), only SVG
presentation attributes (fill=, stroke=, font-size=…), which CSP does not govern; no
script, no link, nothing loaded. Every text is escaped. Classes (trend-chart, bar,
occurrences, …) let the page's own stylesheet restyle it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 52, 34, 30  # margins around the plot
FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"
BAR_FILL = "#1f5fbf"
LINE_STROKE = "#d97706"
GRID = "#e2e6ec"
INK = "#5c6775"
BAR_LABELS = {"towns": "镇数", "reports": "报告数"}
MIN_LABEL_GAP = 40  # pixels between two year labels


@dataclass(frozen=True)
class YearPoint:
    """One year of a phrase's use."""

    year: int
    reports: int = 0
    towns: int = 0
    occurrences: int = 0


def points_from_years(years: Iterable[Any]) -> list[YearPoint]:
    """YearPoints from objects with year, reports, towns and occurrences (results.YearCount)."""
    return [YearPoint(y.year, y.reports, y.towns, y.occurrences) for y in years]


def trend_svg(
    series: Iterable[YearPoint],
    title: str = "",
    bars: Literal["towns", "reports"] = "towns",
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """The chart of `series` as inline SVG markup; a friendly empty chart when it is empty.

    `title` (e.g. the query) becomes the SVG's <title> and accessible name.
    """
    points = fill_gaps(series)
    name = title or "逐年使用情况"
    if not points:
        return empty_svg(name, width, height)
    plot = Plot(left=LEFT, top=TOP, width=width - LEFT - RIGHT, height=height - TOP - BOTTOM)
    bar_values = [getattr(p, bars) for p in points]
    left_ticks = nice_ticks(max(bar_values))
    right_ticks = scaled_ticks(max(p.occurrences for p in points), len(left_ticks) - 1)
    parts = [
        svg_open(name, width, height),
        element("title", name),
        legend(BAR_LABELS[bars], width, height),
        axes(plot, left_ticks, right_ticks),
        bars_and_labels(plot, points, bar_values, left_ticks[-1], bars),
        occurrence_line(plot, points, right_ticks[-1]),
        "</svg>",
    ]
    return Markup("".join(parts))


@dataclass(frozen=True)
class Plot:
    """The plotting area in SVG user units."""

    left: float
    top: float
    width: float
    height: float

    @property
    def bottom(self) -> float:
        return self.top + self.height

    @property
    def right(self) -> float:
        return self.left + self.width


def fill_gaps(series: Iterable[YearPoint]) -> list[YearPoint]:
    """The points in year order, with a zero point for every missing year in between
    (a year given twice adds up)."""
    by_year: dict[int, YearPoint] = {}
    for p in series:
        seen = by_year.get(p.year)
        if seen:
            p = YearPoint(
                p.year,
                seen.reports + p.reports,
                seen.towns + p.towns,
                seen.occurrences + p.occurrences,
            )
        by_year[p.year] = p
    if not by_year:
        return []
    first, last = min(by_year), max(by_year)
    return [by_year.get(year, YearPoint(year)) for year in range(first, last + 1)]


def nice_ticks(top: int, count: int = 4) -> list[int]:
    """Tick values 0, step, … up to at least `top`, the step 1, 2 or 5 × 10^k."""
    step = nice_step(max(top, 1) / count)
    ticks = [0]
    while ticks[-1] < top or len(ticks) < 2:
        ticks.append(ticks[-1] + step)
    return ticks


def scaled_ticks(top: int, intervals: int) -> list[int]:
    """`intervals` + 1 tick values from 0 with a nice step that reaches `top`."""
    step = nice_step(max(top, 1) / intervals)
    return [step * i for i in range(intervals + 1)]


def nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5 × 10^k (k ≥ 0) that is at least `raw`."""
    magnitude = 10 ** max(0, math.floor(math.log10(raw))) if raw > 0 else 1
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def svg_open(name: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(name)}" font-family="{FONT}" font-size="12" fill="{INK}">'
    )


def empty_svg(name: str, width: int, height: int) -> Markup:
    """A chart-sized SVG saying there is nothing to draw."""
    return Markup(
        svg_open(name, width, height)
        + element("title", name)
        + f'<rect class="frame" x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" '
        f'rx="8" fill="#fafbfc" stroke="{GRID}"/>'
        + element(
            "text",
            "暂无按年份统计的数据（没有找到匹配的段落，或报告没有年份）",
            x=width / 2,
            y=height / 2,
            text_anchor="middle",
            class_="empty",
        )
        + "</svg>"
    )


def legend(bar_label: str, width: int, height: int) -> str:
    x = LEFT
    return (
        '<g class="legend">'
        f'<rect x="{x}" y="10" width="12" height="12" rx="2" fill="{BAR_FILL}" '
        'fill-opacity="0.85"/>'
        + element("text", f"{bar_label}（柱，左轴）", x=x + 18, y=20)
        + f'<line x1="{x + 150}" y1="16" x2="{x + 172}" y2="16" stroke="{LINE_STROKE}" '
        'stroke-width="2"/>'
        f'<circle cx="{x + 161}" cy="16" r="3" fill="{LINE_STROKE}"/>'
        + element("text", "出现次数（折线，右轴）", x=x + 178, y=20)
        + element("text", "年份", x=width - 8, y=height - 10, text_anchor="end")
        + "</g>"
    )


def axes(plot: Plot, left_ticks: list[int], right_ticks: list[int]) -> str:
    """Grid lines with the left axis's values, the right axis's values beside them."""
    parts = ['<g class="axes">']
    for i, (left_value, right_value) in enumerate(zip(left_ticks, right_ticks, strict=True)):
        y = plot.bottom - plot.height * i / (len(left_ticks) - 1)
        parts.append(
            f'<line class="grid" x1="{plot.left}" y1="{y:.1f}" x2="{plot.right}" '
            f'y2="{y:.1f}" stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(element("text", str(left_value), x=plot.left - 6, y=y + 4, text_anchor="end"))
        parts.append(element("text", str(right_value), x=plot.right + 6, y=y + 4, fill=LINE_STROKE))
    parts.append(
        f'<line class="baseline" x1="{plot.left}" y1="{plot.bottom}" x2="{plot.right}" '
        f'y2="{plot.bottom}" stroke="{INK}" stroke-width="1"/>'
    )
    parts.append("</g>")
    return "".join(parts)


def bars_and_labels(
    plot: Plot, points: list[YearPoint], values: list[int], top: int, bars: str
) -> str:
    """One group per year: a hover area, the bar, the year's label when there is room."""
    slot = plot.width / len(points)
    bar_width = max(1.0, min(36.0, slot * 0.6))
    label_every = max(1, math.ceil(MIN_LABEL_GAP / slot))
    parts = ['<g class="bars">']
    for i, (point, value) in enumerate(zip(points, values, strict=True)):
        x = plot.left + slot * i
        bar_height = plot.height * value / top if top else 0
        parts.append(f'<g class="year" data-year="{point.year}">')
        parts.append(element("title", year_summary(point)))
        parts.append(
            f'<rect class="hover" x="{x:.1f}" y="{plot.top}" width="{slot:.1f}" '
            f'height="{plot.height}" fill="#000" fill-opacity="0"/>'
        )
        parts.append(
            f'<rect class="bar" data-value="{value}" x="{x + (slot - bar_width) / 2:.1f}" '
            f'y="{plot.bottom - bar_height:.1f}" width="{bar_width:.1f}" '
            f'height="{bar_height:.1f}" fill="{BAR_FILL}" fill-opacity="0.85"/>'
        )
        if i % label_every == 0:
            parts.append(
                element(
                    "text",
                    str(point.year),
                    x=x + slot / 2,
                    y=plot.bottom + 16,
                    text_anchor="middle",
                    class_="year-label",
                )
            )
        parts.append("</g>")
    parts.append("</g>")
    return "".join(parts)


def occurrence_line(plot: Plot, points: list[YearPoint], top: int) -> str:
    """The occurrences as a polyline with a dot per year (a single year: just the dot)."""
    slot = plot.width / len(points)
    coords = [
        (plot.left + slot * (i + 0.5), plot.bottom - plot.height * p.occurrences / top)
        for i, p in enumerate(points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts = ['<g class="occurrences">']
    if len(coords) > 1:
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE_STROKE}" stroke-width="2" '
            'stroke-linejoin="round"/>'
        )
    for (x, y), point in zip(coords, points, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE_STROKE}">')
        parts.append(element("title", year_summary(point)))
        parts.append("</circle>")
    parts.append("</g>")
    return "".join(parts)


def year_summary(point: YearPoint) -> str:
    return (
        f"{point.year}年：{point.towns} 个镇，{point.reports} 份报告，出现 {point.occurrences} 次"
    )


def element(tag: str, text: str, **attributes: object) -> str:
    """<tag attr="…">text</tag>, everything escaped; `class_` is class, `text_anchor`
    is text-anchor; floats are rounded to one decimal."""
    attrs = "".join(
        f' {name.rstrip("_").replace("_", "-")}="{escape(format_value(value))}"'
        for name, value in attributes.items()
    )
    return f"<{tag}{attrs}>{escape(text)}</{tag}>"


def format_value(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)
