"""Export of result rows to CSV, JSON Lines and Excel, streamed row by row.

Every writer takes an iterable of `ExportRow`s and consumes it lazily: a generator over
every hit of a query is never held whole in memory. CSV and JSON Lines also come as
chunk iterators for a streamed HTTP response (`Response(iter_csv_chunks(rows))`); an
.xlsx file is a zip archive written at the end, so the web sends `spool_xlsx(rows)`.

Columns of the spreadsheets (CSV and XLSX), in order, with their Chinese headers:

    镇 town · 地方 place · 省 province · 市 city · 县区 county · 层级 level ·
    年份 year · 日期 date · 类型 doc_type · 标题 title · 章节 section ·
    段落原文 text · 链接 permalink

The level is shown in Chinese there (国家级, 省级, 市级, 县级, 乡镇级); JSON Lines keeps
the field names and values of `ExportRow` as they are (level: national, province, …).

Spreadsheet formula injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return gets a leading `'` (OWASP's advice), so Excel and WPS show it as text.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from operator import attrgetter
from os import PathLike
from typing import IO, Any, BinaryIO

import orjson
import xlsxwriter

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "jsonl")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
HEADERS = {
    "town": "镇",
    "place": "地方",
    "province": "省",
    "city": "市",
    "county": "县区",
    "level": "层级",
    "year": "年份",
    "date": "日期",
    "doc_type": "类型",
    "title": "标题",
    "section": "章节",
    "text": "段落原文",
    "permalink": "链接",
}
LEVEL_LABELS = {
    "national": "国家级",
    "province": "省级",
    "city": "市级",
    "county": "县级",
    "town": "乡镇级",
}
# Column widths in Excel's character units (a Chinese character is about two).
XLSX_WIDTHS = {
    "town": 12,
    "place": 14,
    "province": 9,
    "city": 10,
    "county": 10,
    "level": 8,
    "year": 7,
    "date": 12,
    "doc_type": 16,
    "title": 36,
    "section": 24,
    "text": 80,
    "permalink": 44,
}
LINE_BREAK_ESCAPES = {ch.encode("utf-8"): f"\\u{ord(ch):04x}".encode() for ch in "\x85\u2028\u2029"}
LINE_BREAK_BYTES = re.compile(b"|".join(map(re.escape, LINE_BREAK_ESCAPES)))
FORMULA_STARTS = frozenset("=+-@\t\r")
XLSX_MAX_CHARS = 32767  # Excel's limit for one cell
CHUNK_CHARS = 32 * 1024  # a streamed response's pieces (up to 3 bytes a character)
SPOOL_BYTES = 8 * 1024 * 1024  # an .xlsx up to this size stays in memory


@dataclass(frozen=True)
class ExportRow:
    """One exported paragraph: where it is from, its text and its permalink."""

    town: str = ""
    place: str = ""
    province: str = ""
    city: str = ""
    county: str = ""
    level: str = ""
    year: str = ""
    date: str = ""
    doc_type: str = ""
    title: str = ""
    section: str = ""
    text: str = ""
    permalink: str = ""


COLUMNS = tuple(f.name for f in fields(ExportRow))
LEVEL_COLUMN = COLUMNS.index("level")
ROW_VALUES = attrgetter(*COLUMNS)  # a row's values in column order


def row_from_hit(hit_json: dict[str, Any], base_url: str | None = None) -> ExportRow:
    """The export row of a hit as `searchapp search --json` prints it.

    Missing fields (older indexes have no province/city/county/level) are left empty;
    a year of None becomes "". With `base_url` the permalink is absolute.
    """
    section = hit_json.get("section")
    if section is None:
        section = " / ".join(hit_json.get("section_path") or ())
    return ExportRow(
        town=text_of(hit_json.get("town")),
        place=text_of(hit_json.get("place")),
        province=text_of(hit_json.get("province")),
        city=text_of(hit_json.get("city")),
        county=text_of(hit_json.get("county")),
        level=text_of(hit_json.get("level")),
        year=text_of(hit_json.get("year")),
        date=text_of(hit_json.get("date")),
        doc_type=text_of(hit_json.get("doc_type")),
        title=text_of(hit_json.get("title")),
        section=text_of(section),
        text=text_of(hit_json.get("text")),
        permalink=absolute_url(text_of(hit_json.get("url")), base_url),
    )


def text_of(value: Any) -> str:
    """A JSON value as cell text: None is empty, anything else its str()."""
    return "" if value is None else str(value)


def absolute_url(url: str, base_url: str | None) -> str:
    """`url` (a site path such as /doc/…#…) under `base_url`, which may end in / or not.

    A base with a path (https://host/search/) keeps it: the app may be mounted there.
    An already absolute url, or no base, leaves `url` as it is.
    """
    if not base_url or not url or "://" in url.split("#", 1)[0]:
        return url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def neutralise(value: str) -> str:
    """The value with a leading ' when a spreadsheet would read it as a formula."""
    return "'" + value if value[:1] in FORMULA_STARTS else value


def spreadsheet_cells(row: ExportRow) -> list[str]:
    """A row's cells for CSV/XLSX, in column order: level in Chinese, formulas defused."""
    cells = ["'" + v if v[:1] in FORMULA_STARTS else v for v in ROW_VALUES(row)]  # neutralise
    cells[LEVEL_COLUMN] = LEVEL_LABELS.get(row.level, cells[LEVEL_COLUMN])
    return cells


# --- CSV ----------------------------------------------------------------------------------


def iter_csv_chunks(rows: Iterable[ExportRow], chunk_chars: int = CHUNK_CHARS) -> Iterator[bytes]:
    """CSV as UTF-8 byte chunks: BOM and header first, then rows, `chunk_chars` characters
    or a little more each.

    Rows are read only as the chunks are asked for, so a streamed HTTP response holds
    one chunk at a time.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # Excel's dialect: quoted where needed, CRLF line ends
    writer.writerow(HEADERS[name] for name in COLUMNS)
    yield codecs.BOM_UTF8 + take(buffer).encode("utf-8")
    size = 0
    for row in rows:
        size += writer.writerow(spreadsheet_cells(row))  # the characters written
        if size >= chunk_chars:
            yield take(buffer).encode("utf-8")
            size = 0
    rest = take(buffer)
    if rest:
        yield rest.encode("utf-8")


def take(buffer: io.StringIO) -> str:
    """The buffer's text, leaving it empty."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write_csv(rows: Iterable[ExportRow], out: BinaryIO) -> int:
    """Write CSV (UTF-8 with BOM, Chinese header) to a binary stream; return the row count."""
    counted = CountingRows(rows)
    for chunk in iter_csv_chunks(counted):
        out.write(chunk)
    return counted.count


# --- JSON Lines ---------------------------------------------------------------------------


def iter_jsonl_chunks(rows: Iterable[ExportRow], chunk_chars: int = CHUNK_CHARS) -> Iterator[bytes]:
    """JSON Lines as UTF-8 byte chunks of about `chunk_chars` bytes or a little more: one
    object per row, with ExportRow's field names."""
    parts: list[bytes] = []
    size = 0
    for row in rows:
        line = json_line(row)
        parts.append(line)
        size += len(line)
        if size >= chunk_chars:
            yield b"".join(parts)
            parts, size = [], 0
    if parts:
        yield b"".join(parts)


def json_line(row: ExportRow) -> bytes:
    """One row as a JSON object and a newline, UTF-8. U+0085, U+2028 and U+2029 are
    escaped too: JSON allows them raw, but Python's splitlines() and some readers break
    lines there. orjson writes it (a fifth of json.dumps's time); a lone surrogate, which
    orjson refuses, is written by json as an escape."""
    values = dict(zip(COLUMNS, ROW_VALUES(row), strict=True))
    try:
        line = orjson.dumps(values)
    except orjson.JSONEncodeError:
        line = json.dumps(values).encode("ascii")
    if LINE_BREAK_BYTES.search(line):
        line = LINE_BREAK_BYTES.sub(lambda m: LINE_BREAK_ESCAPES[m.group()], line)
    return line + b"\n"


def write_jsonl(rows: Iterable[ExportRow], out: BinaryIO) -> int:
    """Write JSON Lines (UTF-8, no BOM) to a binary stream; return the row count."""
    counted = CountingRows(rows)
    for chunk in iter_jsonl_chunks(counted):
        out.write(chunk)
    return counted.count


# --- XLSX ---------------------------------------------------------------------------------


def write_xlsx(rows: Iterable[ExportRow], out: str | PathLike[str] | IO[bytes]) -> int:
    """Write an .xlsx workbook to a path or a binary file object; return the row count.

    xlsxwriter's constant_memory mode writes each row to a temporary file as soon as
    the next one starts, so memory stays flat whatever the row count. One sheet 检索结果:
    a bold header row, panes frozen below it and right of the town column, an
    autofilter, column widths for Chinese text and the paragraph column wrapped. Every
    cell is written as a string (never parsed as a formula), except the year when it is
    a plain number.
    """
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True})
    try:
        sheet = workbook.add_worksheet("检索结果")
        header = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "bottom": 1})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        top = workbook.add_format({"valign": "top"})
        plain = workbook.add_format({})
        formats = [wrap if name == "text" else top for name in COLUMNS]
        for col, name in enumerate(COLUMNS):
            sheet.set_column(col, col, XLSX_WIDTHS[name])
            sheet.write_string(0, col, HEADERS[name], header)
        sheet.freeze_panes(1, 1)
        count = 0
        for count, row in enumerate(rows, start=1):
            for col, value in enumerate(spreadsheet_cells(row)):
                write_cell(sheet, count, col, value, formats[col], plain)
        sheet.autofilter(0, 0, max(count, 1), len(COLUMNS) - 1)
    finally:
        workbook.close()
    return count


def write_cell(sheet: Any, row: int, col: int, value: str, cell_format: Any, plain: Any) -> None:
    """Write one cell as text (a 4-digit year as a number), keeping the value intact."""
    if not value:
        return  # a blank cell, not an empty string
    if COLUMNS[col] == "year" and value.isascii() and value.isdigit() and len(value) == 4:
        sheet.write_number(row, col, int(value), cell_format)
        return
    if len(value) > XLSX_MAX_CHARS:
        log.warning("单元格超过 Excel 的 %d 字上限，已截断（CSV 保留全文）", XLSX_MAX_CHARS)
    write_text(sheet, row, col, value, plain, cell_format)


def write_text(
    sheet: Any, row: int, col: int, value: str, plain: Any, cell_format: Any = None
) -> None:
    """Write a string cell whatever it holds; `plain` is any format of the workbook.

    xlsxwriter copies a string that starts with <r> and ends with </r> into the sheet's
    XML (or its shared strings) unescaped, taking it for its own rich text, which would
    let a document's text inject cells and formulas. Such a value is written as a
    two-run rich string instead, which xlsxwriter escapes.
    """
    if value.startswith("<r>") and value.endswith("</r>"):
        args = [value[:1], plain, value[1:]]
        if cell_format is not None:
            args.append(cell_format)
        sheet.write_rich_string(row, col, *args)
    else:
        sheet.write_string(row, col, value, cell_format)


def spool_xlsx(rows: Iterable[ExportRow], max_memory: int = SPOOL_BYTES) -> IO[bytes]:
    """The workbook in a SpooledTemporaryFile (in memory up to `max_memory`, then on
    disk), rewound, for `flask.send_file(…, mimetype=MEDIA_TYPES["xlsx"])`; the caller
    closes it (send_file does)."""
    spool = tempfile.SpooledTemporaryFile(max_size=max_memory)  # noqa: SIM115  (returned open)
    try:
        write_xlsx(rows, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


# --- shared -------------------------------------------------------------------------------


class CountingRows:
    """An iterable that passes rows through and counts them."""

    def __init__(self, rows: Iterable[ExportRow]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[ExportRow]:
        for row in self.rows:
            self.count += 1
            yield row


def write_rows(rows: Iterable[ExportRow], fmt: str, out: BinaryIO) -> int:
    """Write rows in one of FORMATS to a binary stream; return the row count."""
    if fmt == "csv":
        return write_csv(rows, out)
    if fmt == "jsonl":
        return write_jsonl(rows, out)
    if fmt == "xlsx":
        return write_xlsx(rows, out)
    raise ValueError(f"未知的导出格式 “{fmt}”（可选：{'、'.join(FORMATS)}）")


def export_filename(query: str, fmt: str, limit: int = 40) -> str:
    """A download name such as 三清两建-检索结果.csv: the query without characters that
    file systems or headers refuse, shortened."""
    keep = "".join(ch for ch in query if ch.isalnum() or ch in "-_ ").strip()[:limit]
    return f"{keep.replace(' ', '_') + '-' if keep else ''}检索结果.{fmt}"


# --- small tables (a trend's town × year table) --------------------------------------------


def table_csv(headers: list[str], rows: Iterable[list[str]]) -> bytes:
    """A small table as CSV for Excel/WPS: UTF-8 with BOM, formulas defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(neutralise(cell) for cell in row)
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def table_xlsx(headers: list[str], rows: Iterable[list[str]], sheet: str = "表") -> IO[bytes]:
    """A small table as an .xlsx workbook, rewound: a bold header row, panes frozen below
    it and right of the first column; whole numbers as numbers, other cells as text."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (returned open)
    workbook = xlsxwriter.Workbook(spool, {"in_memory": True})
    try:
        worksheet = workbook.add_worksheet(sheet)
        bold = workbook.add_format({"bold": True, "bg_color": "#E8EEF7", "bottom": 1})
        plain = workbook.add_format({})
        for col, name in enumerate(headers):
            write_text(worksheet, 0, col, name, plain, bold)
        worksheet.set_column(0, 0, 16)
        worksheet.freeze_panes(1, 1)
        for r, row in enumerate(rows, start=1):
            for col, cell in enumerate(row):
                if cell.isascii() and cell.isdigit():
                    worksheet.write_number(r, col, int(cell))
                elif cell:
                    write_text(worksheet, r, col, neutralise(cell), plain)
    finally:
        workbook.close()
    spool.seek(0)
    return spool
