"""The search page: one box, three modes, facets, a list of hits or hits grouped by town."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, render_template, request

from .. import fields as F
from ..config import Config
from ..engine import Engine
from ..plan import year_range
from ..querylang import parse_query
from ..results import Hit, SearchPage
from ..search import run_search
from .params import FILTER_LABELS, SearchParams, parse_params
from .store import get_config, get_engine, index_meta

bp = Blueprint("search", __name__)

FACET_FIELDS = {
    "section": F.SECTION,
    "province": F.PROVINCE,
    "city": F.CITY,
    "county": F.COUNTY,
    "town": F.TOWN,
    "year": F.YEAR,
    "type": F.DOC_TYPE,
}
FACET_SHOWN = 10  # values shown before "更多"
TOWNS_PER_PAGE = 20
TOWN_PREVIEW = 4  # a town's best paragraph and the next ones behind "展开"


@dataclass
class FacetValue:
    """One value of a facet with its count, and whether it is a filter now."""

    value: str
    count: int
    selected: bool
    params: SearchParams  # the search with this value added (or removed when selected)


@dataclass
class Facet:
    """The values of one field (town, year, type) among the hits."""

    name: str
    label: str
    values: list[FacetValue] = field(default_factory=list)

    @property
    def shown(self) -> list[FacetValue]:
        return self.values[:FACET_SHOWN]

    @property
    def more(self) -> list[FacetValue]:
        return self.values[FACET_SHOWN:]


@dataclass
class TownGroup:
    """A town's hit count and its best paragraphs."""

    town: str
    count: int
    hits: list[Hit]
    params: SearchParams  # the list of all of this town's hits


@bp.get("/")
@bp.get("/search")
def results() -> str:
    """The search page; without a query, a short help with example queries."""
    config = get_config()
    params = parse_params(request.args, config)
    meta = index_meta()
    if not params.has_query:
        return render_template("search.html", params=params, page=None, meta=meta)
    engine = get_engine()
    groups: list[TownGroup] = []
    town_pages = 1
    if params.view == "towns":
        page = run_page(engine, params, config, page=1, page_size=1)
        groups, town_pages = group_by_town(engine, params, page, config)
        params = params.with_changes(page=min(params.page, town_pages))
    else:
        page = run_page(engine, params, config)
        if page.total and params.page > page.pages:
            params = params.with_changes(page=page.pages)
            page = run_page(engine, params, config)
    return render_template(
        "search.html",
        params=params,
        page=page,
        meta=meta,
        facets=build_facets(engine, params, page, config),
        groups=groups,
        pages=town_pages if params.view == "towns" else page.pages,
        typed_filters=parse_query(params.q, params.mode).filters,
    )


def run_page(engine: Engine, params: SearchParams, config: Config, **changes: object) -> SearchPage:
    """Run the search the parameters describe (with changes to the request)."""
    return run_search(
        engine,
        params.to_request(config.page_size, **changes),
        max_query_chars=config.max_query_chars,
        max_page_size=config.max_page_size,
    )


def build_facets(
    engine: Engine, params: SearchParams, page: SearchPage, config: Config
) -> list[Facet]:
    """Town, year and type facets; a field with a filter on counts as if it had none.

    So the values of a filtered field stay visible and can be combined (values of one
    field are alternatives; fields narrow each other).
    """
    facets = []
    for name, field_name in FACET_FIELDS.items():
        selected = params.values(name)
        counts = dict(page.facets.get(field_name, {}))
        if selected:
            wider = run_page(engine, params.without_filter(name), config, page=1, page_size=1)
            counts = dict(wider.facets.get(field_name, {}))
            for value in selected:
                if name != "year" or year_range(value) is None:  # a range shows as a chip
                    counts.setdefault(value, 0)
        items = [(str(v), n) for v, n in counts.items() if str(v)]
        if name == "year":
            items.sort(key=lambda item: item[0], reverse=True)
        else:
            items.sort(key=lambda item: (-item[1], item[0]))
        values = [
            FacetValue(
                value,
                count,
                value in selected,
                params.without_filter(name, value)
                if value in selected
                else params.with_filter(name, value),
            )
            for value, count in items
        ]
        facets.append(Facet(name, FILTER_LABELS[name], values))
    return facets


def group_by_town(
    engine: Engine, params: SearchParams, page: SearchPage, config: Config
) -> tuple[list[TownGroup], int]:
    """One page of towns (most hits first), each with its best paragraphs."""
    towns = [(str(t), n) for t, n in page.facets.get(F.TOWN, {}).items() if str(t)]
    pages = max(1, -(-len(towns) // TOWNS_PER_PAGE))
    first = (min(params.page, pages) - 1) * TOWNS_PER_PAGE
    # town: filters typed in the query are alternatives to the town asked for here, so
    # ask for more hits and keep this town's
    typed_towns = parse_query(params.q, params.mode).filters.get(F.TOWN, [])
    size = config.max_page_size if typed_towns else TOWN_PREVIEW
    groups = []
    for town, count in towns[first : first + TOWNS_PER_PAGE]:
        found = run_page(engine, params, config, town=[town], page=1, page_size=size)
        hits = [hit for hit in found.hits if hit.town == town][:TOWN_PREVIEW]
        groups.append(
            TownGroup(town, count, hits, params.with_changes(town=(town,), view="list", page=1))
        )
    return groups, pages
