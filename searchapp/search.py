"""Running a search request on any engine: parse, plan, match, and build the hits shown.

A `SearchRequest` is parsed (querylang.py) and planned (plan.py) once; the engine
answers with counts and ranked references; full hits with snippets are built only for
the hits of the page (or every hit when a caller asks for all of them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from markupsafe import Markup

from . import fields as F
from .engine import Engine
from .errors import QueryError
from .export import ExportRow, absolute_url, row_from_hit
from .fuzzy import run_fuzzy, suggest_terms
from .highlight import SNIPPET_CHARS, make_snippet, term_spans
from .plan import QueryPlan, make_plan
from .querylang import ParsedQuery, parse_query
from .results import (
    MODES,
    DocumentView,
    Hit,
    Record,
    SearchPage,
    SearchRequest,
    TownTable,
    TownUsage,
    Trend,
    empty_facets,
)

SUGGEST_BELOW = 3  # fewer hits than this: suggest corpus terms ("did you mean")
FEW_FOR_OCR = 10  # fewer hits than this in an index with OCR text: suggest fuzzy mode
OCR_NOTICE = (
    "部分报告由扫描件识别（OCR）而来，个别字可能识别有误；结果少时可改用模糊检索（mode=fuzzy）"
)
RECORD_BATCH = 500  # every-hit output reads records this many at a time


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


def merged_filters(parsed: ParsedQuery, request: SearchRequest) -> dict[str, list[str]]:
    """The query's own filters plus the request's (town=…, year=…, type=…)."""
    filters = {k: list(v) for k, v in parsed.filters.items()}
    for name, values in (
        (F.TOWN, request.town),
        (F.YEAR, request.year),
        (F.DOC_TYPE, request.doc_type),
        (F.PROVINCE, request.province),
        (F.CITY, request.city),
        (F.COUNTY, request.county),
        (F.LEVEL, request.level),
        (F.SECTION, request.section),
    ):
        filters.setdefault(name, []).extend(values)
    return {k: list(dict.fromkeys(v)) for k, v in filters.items() if v}


def plan_request(engine: Engine, request: SearchRequest) -> tuple[ParsedQuery, QueryPlan]:
    """The request parsed and planned with the engine's word segmentation."""
    parsed = parse_query(request.q, request.mode)
    filters = merged_filters(parsed, request)
    plan = make_plan(parsed, filters, engine.segment, request.mode, request.sort, request.scope)
    return parsed, plan


def run_search(
    engine: Engine,
    request: SearchRequest,
    *,
    max_query_chars: int = 200,
    max_page_size: int = 100,
) -> SearchPage:
    """Run a search request and build its page of hits."""
    started = time.perf_counter()
    check_request(request, max_query_chars, max_page_size)
    parsed, plan = plan_request(engine, request)
    if request.mode == "fuzzy":
        page = run_fuzzy(engine, request, parsed, plan)
    elif plan.is_empty:
        page = SearchPage(request.q, request.mode, 0, [], empty_facets(), notices=parsed.notices)
    else:
        page = run_indexed(engine, request, parsed, plan)
    if request.mode != "fuzzy" and page.total < SUGGEST_BELOW and plan.positive:
        page.suggestions = suggest_terms(engine, " ".join(t.text for t in plan.positive))
    # OCR errors are single characters, which fuzzy mode finds
    few = request.mode != "fuzzy" and page.total < FEW_FOR_OCR and plan.positive
    if few and engine.meta.get("ocr_files"):
        page.try_fuzzy = True
        page.notices.append(OCR_NOTICE)
    page.filters = merged_filters(parsed, request)
    page.elapsed_ms = (time.perf_counter() - started) * 1000
    return page


def run_indexed(
    engine: Engine, request: SearchRequest, parsed: ParsedQuery, plan: QueryPlan
) -> SearchPage:
    """Keyword and phrase modes: the engine's ranking, hits built for the page only."""
    first = 0 if request.all else (request.page - 1) * request.page_size
    stop = None if request.all else request.page * request.page_size
    matches = engine.match(plan, first, stop)
    hits = make_hits(engine, matches.ranked, plan, matches.records)
    total = matches.total
    return SearchPage(
        request.q,
        request.mode,
        total,
        hits,
        matches.facets,
        page=1 if request.all else request.page,
        page_size=total if request.all else request.page_size,
        pages=1 if request.all else max(1, -(-total // request.page_size)),
        notices=[*parsed.notices, *matches.notices],
    )


def make_hits(
    engine: Engine,
    ranked: Sequence[tuple[Any, float]],
    plan: QueryPlan,
    known: Mapping[Any, Record] | None = None,
) -> list[Hit]:
    """Full hits (text, snippet, marked spans) for ranked refs, their records read a
    batch at a time (a record also holds the text's exact-match form) unless `known`."""
    needles = plan.needles()
    hits: list[Hit] = []
    for start in range(0, len(ranked), RECORD_BATCH):
        batch = ranked[start : start + RECORD_BATCH]
        records = known_records(engine, [ref for ref, _ in batch], known or {})
        hits += (
            Hit.from_record(
                record,
                term_spans(record.text, needles, record.units),
                score,
                block_snippet(record, needles) if record.piece_texts else None,
            )
            for record, (_, score) in zip(records, batch, strict=True)
        )
    return hits


def known_records(engine: Engine, refs: list[Any], known: Mapping[Any, Record]) -> list[Record]:
    """The records of refs, those not in `known` read from the engine."""
    missing = [ref for ref in refs if ref not in known]
    read = dict(zip(missing, engine.records(missing), strict=True)) if missing else {}
    return [known[ref] if ref in known else read[ref] for ref in refs]


SNIPPET_PIECES = 3  # a cut paragraph's snippet shows the terms of at most this many pieces


def block_snippet(record: Record, needles: list[tuple[str, list[str]]]) -> str | None:
    """A cut paragraph's snippet: a stretch of each piece that holds some of the terms,
    in order (the hit's own piece among them), so that every term found is seen."""
    parts = []
    for text in record.piece_texts:
        spans = term_spans(text, needles)
        if spans:
            parts.append(make_snippet(text, spans, SNIPPET_CHARS * 2 // 3))
    if len(parts) <= 1:
        return None  # the terms lie in one piece: its own snippet
    return str(Markup(" ").join(parts[:SNIPPET_PIECES]))


def iter_hits(engine: Engine, plan: QueryPlan) -> Iterator[Hit]:
    """Every hit of a plan, best first, built a batch at a time (for streamed output)."""
    batch: list[tuple[Any, float]] = []
    for item in engine.iter_matches(plan, RECORD_BATCH):
        batch.append(item)
        if len(batch) >= RECORD_BATCH:
            yield from make_hits(engine, batch, plan)
            batch = []
    if batch:
        yield from make_hits(engine, batch, plan)


def run_trend(engine: Engine, request: SearchRequest, *, max_query_chars: int = 200) -> Trend:
    """A query across years and towns (keyword or phrase mode), counted over every hit."""
    check_request(request, max_query_chars, 1)
    if request.mode == "fuzzy":
        raise QueryError("趋势不支持模糊检索", hint="请改用关键词或精确短语")
    _, plan = plan_request(engine, request)
    if plan.is_empty:
        return Trend(request.q, 0)
    trend = engine.trend(plan)
    trend.query = request.q
    return trend


def iter_export_rows(
    engine: Engine,
    request: SearchRequest,
    base_url: str | None = None,
    *,
    max_query_chars: int = 200,
) -> Iterator[ExportRow]:
    """Every hit of a keyword or phrase request as export rows, best first, read a batch
    of records at a time (no snippets: a spreadsheet gets the whole paragraph)."""
    check_request(request, max_query_chars, 1)
    if request.mode == "fuzzy":
        page = run_search(engine, replace(request, all=True), max_query_chars=max_query_chars)
        for hit in page.hits:
            yield row_from_hit(hit.to_json(), base_url)
        return
    _, plan = plan_request(engine, request)
    if plan.is_empty:
        return
    batch: list[Any] = []
    for ref, _ in engine.iter_matches(plan, RECORD_BATCH):
        batch.append(ref)
        if len(batch) >= RECORD_BATCH:
            yield from (row_from_record(r, base_url) for r in engine.records(batch))
            batch = []
    if batch:
        yield from (row_from_record(r, base_url) for r in engine.records(batch))


def row_from_record(record: Record, base_url: str | None) -> ExportRow:
    """The export row of a record: what `row_from_hit` makes of the record's hit JSON,
    built directly (an every-hit export makes 100,000s; a test holds the two equal)."""
    year = record.year_number
    return ExportRow(
        town=record.town,
        place=record.place,
        province=record.province,
        city=record.city,
        county=record.county,
        level=record.level,
        year="" if year is None else str(year),
        date=record.date,
        doc_type=record.doc_type,
        title=record.title,
        section=" / ".join(record.section),
        text=record.text,
        permalink=absolute_url(record.url, base_url),
    )


def load_document(engine: Engine, doc_id: str) -> DocumentView | None:
    """The report with this id, or None."""
    return DocumentView.from_records(engine.document(doc_id))


# The towns answer builds a full hit for the best paragraph of this many towns unless
# asked for more ("all"): what the towns view shows, and a 2-character word is used by
# thousands of towns whose best hits nobody reads.
DEFAULT_BEST = 20


def parse_best(raw: str | int | None) -> int | None:
    """`best` as typed (a number of towns, or "all" for every town; blank: the default)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_BEST
    if isinstance(raw, str) and raw.strip().lower() == "all":
        return None
    try:
        best = int(raw)
    except ValueError:
        raise QueryError(
            f"best 应是非负整数或 all，而不是 “{str(raw)[:20]}”", hint="例如 best=20 或 best=all"
        ) from None
    if best < 0:
        raise QueryError("best 须为非负整数或 all", hint="例如 best=20 或 best=all")
    return best


def town_table(
    engine: Engine, request: SearchRequest, *, max_query_chars: int = 200, best: int | None = None
) -> TownTable:
    """Which towns use a query: every hit counted by town and report from the engine's
    columns; a full hit is built for the best paragraph of the first `best` towns (of
    every town when None), the others' stays None."""
    check_request(request, max_query_chars, 1)
    if best is not None and best < 0:
        raise QueryError("best 须为非负整数")
    if request.mode == "fuzzy":
        page = run_search(engine, replace(request, all=True), max_query_chars=max_query_chars)
        table = TownTable.from_usages(usage_by_town(page))
        if best is not None:
            del table.best[best:]
        return table
    _, plan = plan_request(engine, request)
    if plan.is_empty:
        return TownTable.from_usages([])
    table = engine.town_table(plan, best)
    table.best = list(make_hits(engine, table.best_refs[:best], plan))
    return table


def town_usage(
    engine: Engine, request: SearchRequest, *, max_query_chars: int = 200, best: int | None = None
) -> tuple[int, list[TownUsage]]:
    """`town_table` as one TownUsage a town: (total paragraphs, towns)."""
    table = town_table(engine, request, max_query_chars=max_query_chars, best=best)
    return table.total, table.usages()


def usage_by_town(page: SearchPage) -> list[TownUsage]:
    """Group every hit of a search (run with all=True) by town, most paragraphs first."""
    towns: dict[str, TownUsage] = {}
    reports: dict[str, dict[str, dict[str, Any]]] = {}  # a town's reports by doc_id
    for hit in page.hits:  # hits come best first, so a town's first hit is its best
        usage = towns.setdefault(hit.town, TownUsage(hit.town, best=hit))
        usage.paragraphs += 1
        usage.occurrences += max(1, len(hit.spans))
        report = reports.setdefault(hit.town, {}).setdefault(
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
    for town, usage in towns.items():
        usage.reports = list(reports[town].values())
    return sorted(towns.values(), key=lambda u: (-u.paragraphs, -u.occurrences, u.town))
