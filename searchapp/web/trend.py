"""A phrase across years and towns: /trend (chart, per-year table, town × year table)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from ..chart import points_from_years, trend_svg
from ..export import export_filename, table_csv, table_xlsx
from ..results import Trend
from ..search import run_trend
from .export import attachment
from .params import BadParameter, SearchParams, parse_params
from .store import get_config, get_engine

bp = Blueprint("trend", __name__)


@bp.get("/trend")
def show() -> str:
    """Since when and where a phrase is used, as a chart and tables linked to the search."""
    config = get_config()
    params = parse_params(request.args, config)
    if params.mode == "fuzzy" or "mode" not in request.args:  # a slogan: verbatim by default
        params = params.with_changes(mode="phrase")
    trend = None
    if params.q.strip():
        trend = run_trend(
            get_engine(),
            params.to_request(config.page_size, page=1),
            max_query_chars=config.max_query_chars,
        )
    years = sorted({y for row in trend.table.values() for y in row}) if trend else []
    return render_template(
        "trend.html",
        params=params,
        trend=trend,
        years=years,
        chart=trend_svg(points_from_years(trend.years), title=f"“{params.q}”逐年使用情况")
        if trend and trend.total
        else None,
        cell_link=lambda town, year: cell_url(params, town, year),
        table_links={
            fmt: url_for("trend.table", **params.to_args(), format=fmt) for fmt in ("csv", "xlsx")
        },
    )


@bp.get("/trend/table")
def table() -> Response:
    """The town × year table as a download (format=csv or xlsx)."""
    config = get_config()
    params = parse_params(request.args, config)
    fmt = request.args.get("format") or "csv"
    if fmt not in ("csv", "xlsx"):
        raise BadParameter(f"未知的导出格式 “{fmt[:20]}”", hint="format 可选：csv、xlsx")
    if not params.q.strip():
        raise BadParameter("没有可导出的趋势", hint="请先输入要看趋势的提法")
    mode = "phrase" if params.mode == "fuzzy" else params.mode
    trend = run_trend(
        get_engine(),
        params.to_request(config.page_size, page=1, mode=mode),
        max_query_chars=config.max_query_chars,
    )
    years = sorted({y for row in trend.table.values() for y in row})
    headers = ["镇", "始于", *[str(y) for y in years], "合计"]
    rows = trend_rows(trend, years)
    name = export_filename(f"{params.q} 镇年份表", fmt)
    if fmt == "xlsx":
        return attachment(table_xlsx(headers, rows, "镇×年份"), fmt, name)
    return attachment(table_csv(headers, rows), fmt, name)


def cell_url(params: SearchParams, town: str | None, year: int | None) -> str:
    """The search behind one cell of the town × year table (a town, a year, or both)."""
    changes: dict[str, Any] = {"page": 1, "view": "list"}
    if town is not None:
        changes["town"] = (town,)
    if year is not None:
        changes["year"] = (str(year),)
    return url_for("search.results", **params.with_changes(**changes).to_args())


def trend_rows(trend: Trend, years: list[int]) -> list[list[str]]:
    """The town × year table as rows of text: town, first year, paragraphs a year, total."""
    rows = []
    for town, row in trend.table.items():
        counts = [str(row.get(y, "")) for y in years]
        rows.append([town, str(trend.first_year.get(town, "")), *counts, str(sum(row.values()))])
    return rows
