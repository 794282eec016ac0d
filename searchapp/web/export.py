"""Downloads of every hit of a search: /export?…&format=csv|xlsx (the page's own query,
mode and filters), streamed as CSV or spooled as an Excel workbook."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO
from urllib.parse import quote

from flask import Blueprint, Response, request, send_file, stream_with_context

from ..export import MEDIA_TYPES, ExportRow, export_filename, iter_csv_chunks, spool_xlsx
from ..search import iter_export_rows
from .params import BadParameter, parse_params
from .store import get_config, get_engine

bp = Blueprint("export", __name__)

WEB_FORMATS = ("csv", "xlsx")


@bp.get("/export")
def download() -> Response:
    """Every hit of the search the parameters describe, as a file to open in Excel or WPS."""
    config = get_config()
    params = parse_params(request.args, config)
    fmt = request.args.get("format") or "csv"
    if fmt not in WEB_FORMATS:
        raise BadParameter(f"未知的导出格式 “{fmt[:20]}”", hint="format 可选：csv、xlsx")
    if not params.has_query:
        raise BadParameter("没有可导出的检索", hint="请先输入检索词或筛选条件")
    base_url = config.base_url or request.host_url
    search = params.to_request(config.page_size, page=1)
    rows = iter_export_rows(get_engine(), search, base_url, max_query_chars=config.max_query_chars)
    first = next(rows, None)  # a bad query is an error page, not a broken download
    name = export_filename(params.q, fmt)
    if fmt == "xlsx":
        return attachment(spool_xlsx(chain(first, rows)), fmt, name)
    return attachment(stream_with_context(iter_csv_chunks(chain(first, rows))), fmt, name)


def attachment(body: IO[bytes] | Iterable[bytes] | bytes, fmt: str, name: str) -> Response:
    """A download: a spooled file (sent and closed by send_file), or CSV bytes/chunks."""
    if hasattr(body, "seek"):
        return send_file(body, mimetype=MEDIA_TYPES[fmt], as_attachment=True, download_name=name)
    response = Response(body, mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def chain(first: ExportRow | None, rest: Iterator[ExportRow]) -> Iterator[ExportRow]:
    """The rows again, the first one (read ahead) included."""
    if first is not None:
        yield first
    yield from rest
