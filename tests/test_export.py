"""Export rows: hits to rows, CSV/JSONL/XLSX writers, formula injection, streaming."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.escape import unescape

from searchapp.export import (
    CHUNK_CHARS,
    COLUMNS,
    HEADERS,
    ExportRow,
    absolute_url,
    export_filename,
    iter_csv_chunks,
    iter_jsonl_chunks,
    neutralise,
    row_from_hit,
    spool_xlsx,
    table_csv,
    table_xlsx,
    write_csv,
    write_jsonl,
    write_rows,
    write_xlsx,
)

HIT = {
    "doc_id": "d1a2b3",
    "para_id": "p9f8e7",
    "title": "潭头镇2023年政府工作报告",
    "town": "潭头镇",
    "year": 2023,
    "doc_type": "政府工作报告",
    "section": "一、2022年工作回顾 / （二）乡村振兴",
    "text": "深入推进“三清两建”，村集体经济收入全部超过10万元。",
    "snippet": "深入推进“<mark>三清两建</mark>”",
    "url": "/doc/d1a2b3#p9f8e7",
    "score": 1012.5,
    "place": "栾川县",
    "date": "2023-01-12",
    "source": "tantou-2023.txt",
    "ordinal": 12,
    "section_path": ["一、2022年工作回顾", "（二）乡村振兴"],
    "spans": [[5, 9]],
    "province": "河南省",
    "city": "洛阳市",
    "county": "栾川县",
    "level": "town",
}
HOSTILE = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\tx", "\r=1+1"]
ROW = ExportRow(
    town="潭头镇",
    place="栾川县",
    province="河南省",
    city="洛阳市",
    county="栾川县",
    level="town",
    year="2023",
    date="2023-01-12",
    doc_type="政府工作报告",
    title="潭头镇2023年政府工作报告",
    section="一、2022年工作回顾",
    text='深入推进“三清两建”，逗号,引号"和换行\n都在。',
    permalink="http://127.0.0.1:5000/doc/d1a2b3#p9f8e7",
)
cell_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
rows_strategy = st.lists(st.builds(ExportRow, *[cell_text] * len(COLUMNS)), max_size=8)


def hostile_rows() -> list[ExportRow]:
    return [replace(ROW, town=value, title=value, text=value) for value in HOSTILE]


def expected_cells(row: ExportRow) -> list[str]:
    """Brute force: the cells a spreadsheet should show for a row."""
    levels = {
        "town": "乡镇级",
        "county": "县级",
        "city": "市级",
        "province": "省级",
        "national": "国家级",
    }
    values = asdict(row) | {"level": levels.get(row.level, row.level)}
    return [("'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v) for v in values.values()]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


# --- rows from hits ----------------------------------------------------------------------


def test_row_from_hit_maps_every_column():
    row = row_from_hit(HIT, "http://127.0.0.1:5000")
    assert row == ExportRow(
        town="潭头镇",
        place="栾川县",
        province="河南省",
        city="洛阳市",
        county="栾川县",
        level="town",
        year="2023",
        date="2023-01-12",
        doc_type="政府工作报告",
        title="潭头镇2023年政府工作报告",
        section="一、2022年工作回顾 / （二）乡村振兴",
        text="深入推进“三清两建”，村集体经济收入全部超过10万元。",
        permalink="http://127.0.0.1:5000/doc/d1a2b3#p9f8e7",
    )


def test_row_from_hit_without_new_fields_or_base():
    old = {k: v for k, v in HIT.items() if k not in {"province", "city", "county", "level"}}
    old |= {"year": None, "section": None}
    row = row_from_hit(old, None)
    assert (row.province, row.city, row.county, row.level, row.year) == ("", "", "", "", "")
    assert row.section == "一、2022年工作回顾 / （二）乡村振兴"  # from section_path
    assert row.permalink == "/doc/d1a2b3#p9f8e7"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000/doc/d1#p2"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000/doc/d1#p2"),
        ("https://example.org/search", "https://example.org/search/doc/d1#p2"),
        ("https://example.org/search/", "https://example.org/search/doc/d1#p2"),
        ("", "/doc/d1#p2"),
        (None, "/doc/d1#p2"),
    ],
)
def test_absolute_url_joins_once(base: str | None, expected: str):
    assert absolute_url("/doc/d1#p2", base) == expected


def test_absolute_url_keeps_absolute_urls():
    assert absolute_url("https://a.org/doc/d1#p2", "http://b.org") == "https://a.org/doc/d1#p2"


# --- formula injection ---------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_prefixes_formula_starts(value: str):
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["三清两建", "1+1", "2023", " =x", "", "“=”", "'quoted"])
def test_neutralise_leaves_plain_text(value: str):
    assert neutralise(value) == value


# --- CSV ------------------------------------------------------------------------------------


def test_csv_has_bom_chinese_header_and_intact_text():
    out = io.BytesIO()
    assert write_csv([ROW], out) == 1
    data = out.getvalue()
    assert data.startswith(codecs.BOM_UTF8)
    table = read_csv(data)
    assert table[0] == [HEADERS[name] for name in COLUMNS]
    assert table[0][:3] == ["镇", "地方", "省"]
    assert table[1] == expected_cells(ROW)
    assert table[1][COLUMNS.index("level")] == "乡镇级"
    assert table[1][COLUMNS.index("text")] == ROW.text  # comma, quote and newline survive


def test_csv_neutralises_hostile_cells():
    out = io.BytesIO()
    write_csv(hostile_rows(), out)
    table = read_csv(out.getvalue())[1:]
    assert [r[COLUMNS.index("town")] for r in table] == ["'" + v for v in HOSTILE]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in table for cell in r)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_csv_round_trips_any_text(rows: list[ExportRow]):
    out = io.BytesIO()
    assert write_csv(rows, out) == len(rows)
    assert read_csv(out.getvalue())[1:] == [expected_cells(r) for r in rows]


def counting_rows(n: int, produced: list[int]) -> Iterator[ExportRow]:
    """n rows; produced[0] tells how many have been taken so far."""
    row = replace(ROW, text="三清两建" * 20)
    for _ in range(n):
        produced[0] += 1
        yield row


def test_csv_chunks_consume_rows_lazily():
    produced = [0]
    chunks = iter_csv_chunks(counting_rows(200_000, produced))
    head = next(chunks)
    assert head.startswith(codecs.BOM_UTF8) and produced[0] == 0  # header before any row
    first = next(chunks).decode("utf-8")
    row_chars = len(first) / produced[0]
    assert produced[0] < 1000  # one chunk's worth, not the whole generator
    assert CHUNK_CHARS <= len(first) < CHUNK_CHARS + row_chars + 1
    seen = [produced[0]]
    sizes = [len(first)]
    for chunk in chunks:
        seen.append(produced[0])
        sizes.append(len(chunk.decode("utf-8")))
    assert produced[0] == 200_000
    assert max(b - a for a, b in itertools.pairwise(seen)) < 1000
    assert max(sizes) < CHUNK_CHARS + row_chars + 1


class RecordingSink(io.BytesIO):
    """A binary stream that notes how many rows had been produced at each write."""

    def __init__(self, produced: list[int]) -> None:
        super().__init__()
        self.produced = produced
        self.at_write: list[int] = []

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.at_write.append(self.produced[0])
        return super().write(data)


@pytest.mark.parametrize("writer", [write_csv, write_jsonl])
def test_writers_write_while_rows_arrive(writer):
    produced = [0]
    sink = RecordingSink(produced)
    assert writer(counting_rows(200_000, produced), sink) == 200_000
    assert len(sink.at_write) > 100
    assert sink.at_write[1] < 1000  # the first rows are out long before the last arrive


# --- JSON Lines -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_jsonl_round_trips_rows_unchanged(rows: list[ExportRow]):
    out = io.BytesIO()
    assert write_jsonl(rows, out) == len(rows)
    lines = out.getvalue().decode("utf-8").splitlines(keepends=True)
    assert all(line.endswith("\n") for line in lines)
    assert [ExportRow(**json.loads(line)) for line in lines] == rows


def test_jsonl_keeps_chinese_and_hostile_values_raw():
    out = io.BytesIO()
    write_jsonl([*hostile_rows(), ROW], out)
    data = out.getvalue()
    assert not data.startswith(codecs.BOM_UTF8)
    assert "潭头镇".encode() in data  # not \u escapes
    objects = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    assert [o["town"] for o in objects[:-1]] == HOSTILE  # data for scripts is not altered
    assert objects[-1]["level"] == "town"


def test_jsonl_chunks_are_lazy():
    produced = [0]
    chunks = iter_jsonl_chunks(counting_rows(200_000, produced))
    next(chunks)
    assert 0 < produced[0] < 1000


# --- XLSX -----------------------------------------------------------------------------------


def load_sheet(source: Path | io.BytesIO):
    workbook = openpyxl.load_workbook(source)
    assert workbook.sheetnames == ["检索结果"]
    return workbook.active


def sheet_values(sheet, min_row: int = 1) -> list[list[object]]:
    """The cells' values, with OOXML's _xHHHH_ escapes of control characters decoded as
    Excel decodes them (openpyxl leaves them in inline strings)."""
    return [
        [unescape(v) if isinstance(v, str) else v for v in row]
        for row in sheet.iter_rows(min_row=min_row, values_only=True)
    ]


def test_xlsx_header_frozen_panes_widths_and_values(tmp_path: Path):
    path = tmp_path / "out.xlsx"
    rows = [ROW, *hostile_rows()]
    assert write_xlsx(rows, path) == len(rows)
    sheet = load_sheet(path)
    values = sheet_values(sheet)
    assert values[0] == [HEADERS[name] for name in COLUMNS]
    assert sheet.freeze_panes == "B2"  # below the header, right of the town column
    assert sheet.auto_filter.ref == f"A1:M{len(rows) + 1}"
    year = COLUMNS.index("year")
    for got, row in zip(values[1:], rows, strict=True):
        want = expected_cells(row)
        want[year] = int(row.year)  # a year is a number, so it sorts and filters as one
        assert got == want
    assert values[1][COLUMNS.index("title")] == "潭头镇2023年政府工作报告"
    assert [v[0] for v in values[2:]] == ["'" + v for v in HOSTILE]
    text_col = "L"
    assert COLUMNS.index("text") == 11
    assert sheet.column_dimensions[text_col].width == pytest.approx(80, abs=1)
    assert sheet.column_dimensions["A"].width == pytest.approx(12, abs=1)
    assert sheet[f"{text_col}2"].alignment.wrap_text
    assert sheet["A1"].font.bold


def test_xlsx_cells_are_never_formulas(tmp_path: Path):
    path = tmp_path / "out.xlsx"
    write_xlsx(hostile_rows(), path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in xml and 't="str"' not in xml
    sheet = load_sheet(path)
    assert all(cell.data_type in {"s", "n"} for row in sheet.iter_rows() for cell in row)


def test_xlsx_rich_text_lookalike_cannot_inject_cells(tmp_path: Path):
    """xlsxwriter copies '<r>…</r>' strings into the XML unescaped in constant_memory mode."""
    evil = (
        '<r><t>x</t></r></is></c><c r="B2" t="str"><f>HYPERLINK("http://evil","点我")</f>'
        '<v>1</v></c><c r="Z2" t="inlineStr"><is><r><t>y</t></r>'
    )
    path = tmp_path / "out.xlsx"
    write_xlsx([replace(ROW, town=evil, text=evil)], path)
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    row = [c.value for c in load_sheet(path)[2]]
    assert row[0] == evil and row[COLUMNS.index("text")] == evil
    assert len(row) == len(COLUMNS)


@settings(max_examples=25, deadline=None)
@given(rows_strategy)
def test_xlsx_round_trips_any_text(rows: list[ExportRow]):
    out = io.BytesIO()
    write_xlsx(rows, out)
    out.seek(0)
    got = sheet_values(load_sheet(out), min_row=2)
    year = COLUMNS.index("year")
    want = []
    for row in rows:
        cells = expected_cells(row)
        if row.year.isascii() and row.year.isdigit() and len(row.year) == 4:
            cells[year] = int(row.year)
        want.append([c if c != "" else None for c in cells])  # blank cells are None
    while want and want[-1] == [None] * len(COLUMNS):
        want.pop()  # a sheet ends at its last non-blank row
    assert got == want


def long_rows(n: int) -> Iterator[ExportRow]:
    """Rows of about 1,000 characters, each a new object with new strings."""
    for i in range(n):
        yield ExportRow(town="潭头镇", title=f"报告{i}", text=f"{i}三清两建乡村振兴" * 100)


def traced_peak(n: int) -> int:
    """Peak Python memory while writing n long rows to an .xlsx."""
    tracemalloc.start()
    try:
        write_xlsx(long_rows(n), io.BytesIO())
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_xlsx_memory_stays_flat_for_many_rows():
    """Four times the rows take about the same peak memory, far below the rows' size."""
    tracemalloc.start()
    try:
        held = list(long_rows(2000))
        held_bytes = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del held
    small, large = traced_peak(500), traced_peak(2000)
    assert large < 1.5 * small
    assert large < held_bytes / 2


def test_spool_xlsx_is_rewound_and_readable():
    with spool_xlsx([ROW]) as spool:
        data = spool.read()
    assert data.startswith(b"PK")
    sheet = load_sheet(io.BytesIO(data))
    assert sheet["A2"].value == "潭头镇"


# --- small tables ---------------------------------------------------------------------------

EVIL_CELL = (
    '<r><t>x</t></r></is></c><c r="C2" t="str"><f>1+1</f><v>2</v></c><c r="Z2"><is><r><t>y</t></r>'
)


def test_table_csv_has_bom_and_defused_cells():
    data = table_csv(["镇", "2022"], [["潭头镇", "3"], ["=HYPERLINK(1)", "0"]])
    assert read_csv(data) == [["镇", "2022"], ["潭头镇", "3"], ["'=HYPERLINK(1)", "0"]]


def test_table_xlsx_keeps_hostile_text_as_text():
    with table_xlsx(
        ["镇", "2021", "2022"], [["潭头镇", "1", ""], [EVIL_CELL, "", "2"]], "按镇"
    ) as spool:
        data = spool.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not any("<f>" in archive.read(n).decode("utf-8") for n in archive.namelist())
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook["按镇"]
    assert sheet.freeze_panes == "B2"
    assert sheet_values(sheet) == [
        ["镇", "2021", "2022"],
        ["潭头镇", 1, None],
        [EVIL_CELL, None, 2],
    ]


# --- dispatch and names ---------------------------------------------------------------------


def test_write_rows_dispatches_and_rejects_unknown_formats():
    out = io.BytesIO()
    assert write_rows([ROW, ROW], "jsonl", out) == 2
    assert len(out.getvalue().splitlines()) == 2
    with pytest.raises(ValueError, match="未知的导出格式"):
        write_rows([ROW], "pdf", io.BytesIO())


def test_export_filename_is_safe():
    assert export_filename("三清两建", "csv") == "三清两建-检索结果.csv"
    assert (
        export_filename('"三清 两建" town:潭头镇/../', "xlsx")
        == "三清_两建_town潭头镇-检索结果.xlsx"
    )
    assert export_filename("", "jsonl") == "检索结果.jsonl"


def test_a_record_becomes_the_row_its_hit_json_makes(seed_engine):
    from searchapp.results import paragraph_meta
    from searchapp.search import row_from_record

    docs = list(range(0, seed_engine.size, 7))
    records = seed_engine.records(docs)
    assert len(records) == len(docs) > 20
    for record in records:
        hit = {
            **paragraph_meta(record),
            "text": record.text,
            "place": record.place,
            "date": record.date,
            "province": record.province,
            "city": record.city,
            "county": record.county,
            "level": record.level,
        }
        for base in (None, "https://search.example.org/"):
            assert row_from_record(record, base) == row_from_hit(hit, base)


def test_jsonl_escapes_line_separators_and_keeps_a_lone_surrogate():
    rows = [replace(ROW, text="甲\u2028乙\u2029丙\x85丁"), replace(ROW, text="坏\ud800字")]
    out = io.BytesIO()
    write_jsonl(rows, out)
    lines = out.getvalue().split(b"\n")[:-1]
    assert len(lines) == 2 and b"\\u2028" in lines[0] and b"\\u0085" in lines[0]
    assert [json.loads(line)["text"] for line in lines] == [r.text for r in rows]
