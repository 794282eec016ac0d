"""Real documents from outside the project (tests/data/realworld): none may be lost.

Recognition rates are measured by benchmarks/realworld.py, not asserted here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from searchapp.documents import load_file

DATA = Path(__file__).resolve().parent / "data" / "realworld"
NOT_DOCUMENTS = {"README.md", "expected.tsv"}
LEVELS = {"national", "province", "city", "county", "town"}
FILES = sorted(
    p.relative_to(DATA).as_posix()
    for p in DATA.rglob("*")
    if p.is_file() and p.name not in NOT_DOCUMENTS
)


def expected_rows() -> list[list[str]]:
    """Data rows of expected.tsv (header and comments left out)."""
    lines = (DATA / "expected.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]
    return [row for row in rows if row[0] != "path"]


def test_the_collection_is_there() -> None:
    assert len(FILES) >= 20


@pytest.mark.parametrize("rel", FILES)
def test_every_real_file_gives_documents(rel: str) -> None:
    report, docs = load_file(DATA / rel, DATA, {})
    assert report.status == "indexed", f"{rel}: {report.reason} {report.message}"
    assert docs
    assert all(doc.paragraphs for doc in docs)


def test_expected_rows_are_well_formed_and_cover_every_file() -> None:
    rows = expected_rows()
    covered = {row[0] for row in rows}
    assert set(FILES) <= covered
    for row in rows:
        assert len(row) == 10, row
        path, _title, issuer, level, *_places, year, doc_type = row
        assert path.startswith("shared:") or path in FILES, path
        assert level in LEVELS, row
        assert issuer and doc_type, row
        assert year.isdigit() and 1949 <= int(year) <= 2100, row
