"""The JSON API: the search and document pages' data, health, and an OpenAPI description."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, jsonify, request

from ..results import MODES
from ..search import DEFAULT_BEST, parse_best, run_search, run_trend, town_table
from .documents import find_document
from .manage import SECURITY_SCHEMES, openapi_paths
from .params import MAX_PAGE, parse_params
from .store import get_config, get_engine, index_status

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search() -> Response:
    """Hits as `searchapp search --json` prints them; the same parameters as /search."""
    config = get_config()
    params = parse_params(request.args, config)
    page = run_search(
        get_engine(),
        params.to_request(config.page_size),
        max_query_chars=config.max_query_chars,
        max_page_size=config.max_page_size,
    )
    return jsonify(page.to_json())


@bp.get("/api/towns")
def towns() -> Response:
    """Which towns use a term: paragraphs, occurrences, reports, years (`searchapp towns`)."""
    config = get_config()
    params = parse_params(request.args, config)
    request_ = params.to_request(config.page_size, page=1)
    table = town_table(
        get_engine(),
        request_,
        max_query_chars=config.max_query_chars,
        best=parse_best(request.args.get("best")),
    )
    towns = orjson.Fragment(table.towns_json())  # written from the columns (results.py)
    return jsonify({"query": params.q, "mode": params.mode, "total": table.total, "towns": towns})


@bp.get("/api/trend")
def trend() -> Response:
    """A query across years and towns (`searchapp trend`): per-year counts, town × year."""
    config = get_config()
    params = parse_params(request.args, config)
    mode = "phrase" if params.mode == "fuzzy" else params.mode
    result = run_trend(
        get_engine(),
        params.to_request(config.page_size, mode=mode, page=1),
        max_query_chars=config.max_query_chars,
    )
    return jsonify(result.to_json())


@bp.get("/api/doc/<doc_id>")
def document(doc_id: str) -> Response:
    """A whole report, paragraphs in order."""
    return jsonify(find_document(doc_id).to_json())


@bp.get("/api/status")
def status() -> Response:
    """The live index and its per-file report."""
    return jsonify(index_status())


@bp.get("/healthz")
def health() -> Response:
    """The live generation and its size; 503 when there is no usable index."""
    data = index_status()
    data.pop("files")
    return jsonify({"status": "ok", **data})


@bp.get("/api/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_spec())


def openapi_spec() -> dict[str, Any]:
    """A short OpenAPI 3 description of the JSON endpoints."""
    config = get_config()

    def query_param(
        name: str, description: str, schema: dict[str, Any], multi: bool = False
    ) -> dict[str, Any]:
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "description": description,
            "schema": {"type": "array", "items": schema} if multi else schema,
        }
        if multi:
            param["explode"] = True
        return param

    error = {"$ref": "#/components/responses/Error"}
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "searchapp",
            "version": "1",
            "description": "全文检索乡镇政府工作报告等政策文件（段落级命中、固定链接）。",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "检索段落",
                    "parameters": [
                        query_param(
                            "q",
                            '查询；关键词模式支持 OR、-词、"短语"，以及筛选 town:/year:/type:/'
                            "province:/city:/county:/level:/section:（year:2020-2023、"
                            "year:>=2021 为年份范围，section: 为章节标题所含文字）",
                            {"type": "string", "maxLength": config.max_query_chars},
                        ),
                        query_param(
                            "mode",
                            "keyword（关键词）、phrase（精确短语）、fuzzy（模糊）",
                            {"type": "string", "enum": list(MODES), "default": "keyword"},
                        ),
                        query_param("town", "只看这些镇（可重复）", {"type": "string"}, True),
                        query_param("year", "只看这些年份（可重复）", {"type": "string"}, True),
                        query_param("type", "只看这些文件类型（可重复）", {"type": "string"}, True),
                        query_param("province", "只看这些省（可重复）", {"type": "string"}, True),
                        query_param("city", "只看这些市/州（可重复）", {"type": "string"}, True),
                        query_param("county", "只看这些县/区（可重复）", {"type": "string"}, True),
                        query_param(
                            "level",
                            "发文层级：national、province、city、county、town",
                            {"type": "string"},
                            True,
                        ),
                        query_param(
                            "section", "只看标题含此文字的章节（可重复）", {"type": "string"}, True
                        ),
                        query_param(
                            "scope",
                            "关键词模式的范围：paragraph（同段）、sentence（同句）、document（同篇）",
                            {"type": "string", "enum": ["paragraph", "sentence", "document"]},
                        ),
                        query_param(
                            "sort",
                            "relevance（相关度）、newest（最新）、oldest（最早）",
                            {"type": "string", "enum": ["relevance", "newest", "oldest"]},
                        ),
                        query_param(
                            "page",
                            "页码（超出范围时取最近的有效值）",
                            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
                        ),
                        query_param(
                            "size",
                            "每页段落数",
                            {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": config.max_page_size,
                                "default": config.page_size,
                            },
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "一页命中段落、总数与分面计数",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/SearchPage"}
                                }
                            },
                        },
                        "400": error,
                        "503": error,
                    },
                }
            },
            "/api/doc/{doc_id}": {
                "get": {
                    "summary": "一份报告的全部段落",
                    "parameters": [
                        {
                            "name": "doc_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {"description": "文档元数据与段落（para_id、text、section_path…）"},
                        "404": error,
                        "503": error,
                    },
                }
            },
            "/api/towns": {
                "get": {
                    "summary": "按镇统计：哪些镇、哪些报告和年份、用了多少次",
                    "parameters": [
                        query_param("q", "查询（同 /api/search）", {"type": "string"}),
                        query_param(
                            "mode",
                            "keyword、phrase、fuzzy",
                            {"type": "string", "enum": list(MODES), "default": "keyword"},
                        ),
                        query_param(
                            "best",
                            f"只为前 N 个镇附上最佳段落（其余 best 为 null；默认 {DEFAULT_BEST}；"
                            "all 为每个镇）",
                            {
                                "oneOf": [
                                    {"type": "integer", "minimum": 0},
                                    {"type": "string", "enum": ["all"]},
                                ],
                                "default": DEFAULT_BEST,
                            },
                        ),
                    ],
                    "responses": {
                        "200": {"description": "每个镇的段落数、出现次数、报告与年份"},
                        "400": error,
                        "503": error,
                    },
                }
            },
            "/api/trend": {
                "get": {
                    "summary": "趋势：各年份的报告数、镇数、段落数与出现次数，及镇×年份表",
                    "parameters": [
                        query_param("q", "查询（同 /api/search）", {"type": "string"}),
                        query_param(
                            "mode",
                            "keyword、phrase（fuzzy 按 phrase 计）",
                            {"type": "string", "enum": list(MODES), "default": "keyword"},
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "years[]: year, reports, towns, paragraphs, "
                            "occurrences; towns[]: town, first_year, paragraphs, years"
                        },
                        "400": error,
                        "503": error,
                    },
                }
            },
            "/api/similar": {
                "get": {
                    "summary": "相似表述：其他报告中与一段文字最相近的句子，按镇分组",
                    "parameters": [
                        query_param("text", "要比对的文字", {"type": "string", "maxLength": 1000}),
                        query_param("doc", "或：某段落所在报告的 doc_id", {"type": "string"}),
                        query_param("para", "与 doc 一起：该段落的 para_id", {"type": "string"}),
                    ],
                    "responses": {
                        "200": {"description": "text、total、sentences[]、by_town{}"},
                        "400": error,
                        "404": error,
                        "503": error,
                    },
                }
            },
            "/api/status": {
                "get": {
                    "summary": "索引状态与逐个文件的读取报告",
                    "responses": {"200": {"description": "generation、built_at、files…"}},
                }
            },
            "/healthz": {
                "get": {
                    "summary": "健康检查",
                    "responses": {
                        "200": {"description": "generation、documents、paragraphs"},
                        "503": error,
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "SearchPage": {
                    "type": "object",
                    "properties": {
                        name: {"type": kind}
                        for name, kind in (
                            ("query", "string"),
                            ("mode", "string"),
                            ("total", "integer"),
                            ("page", "integer"),
                            ("page_size", "integer"),
                            ("pages", "integer"),
                            ("filters", "object"),
                            ("hits", "array"),
                            ("facets", "object"),
                            ("notices", "array"),
                            ("suggestions", "array"),
                            ("try_fuzzy", "boolean"),
                            ("elapsed_ms", "number"),
                        )
                    },
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string"},
                        "hint": {"type": "string", "nullable": True},
                        "status": {"type": "integer"},
                    },
                },
            },
            "responses": {
                "Error": {
                    "description": "错误信息与处理建议",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    for path, methods in openapi_paths(error).items():  # GET and PATCH share /api/doc/{id}
        spec["paths"].setdefault(path, {}).update(methods)
    return spec
