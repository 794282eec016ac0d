"""Search parameters in a URL: reading and checking them, and building links back.

Everything a search page shows is in its URL (GET): q, mode, town, year, type (each
filter may repeat), page, size (the API's page size) and view (list or towns).
A malformed value is a 400 with a message; numbers that are merely too large or too
small are clamped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from werkzeug.datastructures import MultiDict

from ..config import Config
from ..errors import SearchAppError
from ..results import MODES, SearchRequest

MODE_LABELS = {"keyword": "关键词", "phrase": "精确短语", "fuzzy": "模糊"}
VIEWS = ("list", "towns")
FILTERS = ("town", "year", "type", "province", "city", "county", "level", "section")
FILTER_LABELS = {
    "town": "镇",
    "year": "年份",
    "type": "类型",
    "province": "省",
    "city": "市",
    "county": "县区",
    "level": "层级",
    "section": "章节",
}
LEVEL_LABELS = {  # what the issuing place is called on a document page
    "national": "发文",
    "province": "省",
    "city": "市",
    "county": "县区",
    "town": "镇",
}
SORT_LABELS = {"relevance": "相关度", "newest": "最新", "oldest": "最早"}
SCOPE_LABELS = {"sentence": "同句", "paragraph": "同段", "document": "同篇"}
FIELD_LABELS = {  # SearchPage.filters' keys
    "town": "镇",
    "year": "年份",
    "doc_type": "类型",
    "province": "省",
    "city": "市",
    "county": "县区",
    "level": "层级",
    "section": "章节",
}
MAX_PAGE = 1000
MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 100


class BadParameter(SearchAppError):
    """A URL parameter that is malformed (not a number, an unknown choice, too long)."""

    status = 400


@dataclass(frozen=True)
class SearchParams:
    """A search as its URL states it."""

    q: str = ""
    mode: str = "keyword"
    town: tuple[str, ...] = ()
    year: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    page: int = 1
    size: int | None = None
    view: str = "list"
    province: tuple[str, ...] = ()
    city: tuple[str, ...] = ()
    county: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    section: tuple[str, ...] = ()
    sort: str = "relevance"
    scope: str = "paragraph"

    @property
    def has_query(self) -> bool:
        return bool(self.q.strip()) or self.has_filters

    @property
    def has_filters(self) -> bool:
        return any(self.values(name) for name in FILTERS)

    def values(self, name: str) -> tuple[str, ...]:
        values: tuple[str, ...] = getattr(self, name)
        return values

    def with_changes(self, **changes: Any) -> SearchParams:
        return replace(self, **changes)

    def with_filter(self, name: str, value: str) -> SearchParams:
        """These parameters with one more filter value, back on page 1."""
        values = self.values(name)
        if value not in values:
            values = (*values, value)
        return replace(self, page=1, **{name: values})

    def without_filter(self, name: str, value: str | None = None) -> SearchParams:
        """Without one filter value (or all of a filter's values), back on page 1."""
        kept = tuple(v for v in self.values(name) if value is not None and v != value)
        return replace(self, page=1, **{name: kept})

    def without_filters(self) -> SearchParams:
        return replace(self, page=1, **{name: () for name in FILTERS})

    def to_args(self) -> dict[str, Any]:
        """URL arguments for url_for; defaults left out, filters as lists."""
        args: dict[str, Any] = {}
        if self.q:
            args["q"] = self.q
        if self.mode != "keyword":
            args["mode"] = self.mode
        for name in FILTERS:
            if self.values(name):
                args[name] = list(self.values(name))
        if self.view != "list":
            args["view"] = self.view
        if self.sort != "relevance":
            args["sort"] = self.sort
        if self.scope != "paragraph":
            args["scope"] = self.scope
        if self.page > 1:
            args["page"] = self.page
        if self.size is not None:
            args["size"] = self.size
        return args

    def to_request(self, default_size: int, /, **changes: Any) -> SearchRequest:
        request = SearchRequest(
            q=self.q,
            mode=self.mode,
            town=list(self.town),
            year=list(self.year),
            doc_type=list(self.type),
            page=self.page,
            page_size=self.size or default_size,
            province=list(self.province),
            city=list(self.city),
            county=list(self.county),
            level=list(self.level),
            section=list(self.section),
            sort=self.sort,
            scope=self.scope,
        )
        return replace(request, **changes)


def parse_params(args: MultiDict[str, str], config: Config) -> SearchParams:
    """Read and check a search's URL arguments."""
    q = check_query(args.get("q", ""), config)
    mode = args.get("mode") or "keyword"
    if mode not in MODES:
        raise BadParameter(
            f"未知的检索方式 “{shorten(mode)}”",
            hint="mode 可选：keyword（关键词）、phrase（精确短语）、fuzzy（模糊）",
        )
    view = args.get("view") or "list"
    if view not in VIEWS:
        raise BadParameter(f"未知的视图 “{shorten(view)}”", hint="view 可选：list、towns")
    sort = args.get("sort") or "relevance"
    if sort not in SORT_LABELS:
        raise BadParameter(
            f"未知的排序 “{shorten(sort)}”", hint="sort 可选：relevance、newest、oldest"
        )
    scope = args.get("scope") or "paragraph"
    if scope not in SCOPE_LABELS:
        hint = "scope 可选：paragraph（同段）、sentence（同句）、document（同篇）"
        raise BadParameter(f"未知的范围 “{shorten(scope)}”", hint=hint)
    page = parse_int(args, "page", 1)
    size = parse_int(args, "size", None)
    return SearchParams(
        q=q,
        mode=mode,
        town=parse_filter(args, "town"),
        year=parse_filter(args, "year"),
        type=parse_filter(args, "type"),
        province=parse_filter(args, "province"),
        city=parse_filter(args, "city"),
        county=parse_filter(args, "county"),
        level=parse_filter(args, "level"),
        section=parse_filter(args, "section"),
        sort=sort,
        scope=scope,
        page=min(max(page or 1, 1), MAX_PAGE),
        size=None if size is None else min(max(size, 1), config.max_page_size),
        view=view,
    )


def check_query(q: str, config: Config) -> str:
    """The query, unless it is longer than the configured limit."""
    if len(q) > config.max_query_chars:
        raise BadParameter(
            f"查询太长（{len(q)} 字），最多 {config.max_query_chars} 字",
            hint="请缩短查询，或只保留最有区分度的词语",
        )
    return q


def parse_int(args: MultiDict[str, str], name: str, default: int | None) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadParameter(
            f"参数 {name} 应是整数，而不是 “{shorten(raw)}”", hint=f"例如 {name}=2"
        ) from None


def parse_filter(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    values = tuple(dict.fromkeys(v.strip() for v in args.getlist(name) if v.strip()))
    if len(values) > MAX_FILTER_VALUES:
        raise BadParameter(
            f"筛选条件 {name} 的取值太多（{len(values)} 个），最多 {MAX_FILTER_VALUES} 个"
        )
    for value in values:
        if len(value) > MAX_FILTER_CHARS:
            raise BadParameter(f"筛选条件 {name} 的取值太长，最多 {MAX_FILTER_CHARS} 字")
    return values


def shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
