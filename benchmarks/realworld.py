"""Ingestion and recognition figures on the real-world documents (issue 11).

Loads every file of tests/data/realworld/ and ../shared/realworld/ through the public
``searchapp.documents.load_file`` and compares what it recognised with the ground truth in
tests/data/realworld/expected.tsv (established by reading each document):

    python benchmarks/realworld.py [--verbose] [--shared DIR] [--data DIR]

Prints files, skipped files (by reason), documents, paragraphs, paragraphs longer than
1,000 characters, and the shares of documents with the right issuer and level, year,
province, city and document type. Figures, not tests: it always exits 0.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from searchapp.documents import Document, load_file

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
DATA = PROJECT_ROOT / "tests" / "data" / "realworld"
SHARED = PROJECT_ROOT.parent / "shared" / "realworld"
SHARED_PREFIX = "shared:"
NOT_DOCUMENTS = {"README.md", "expected.tsv"}
LONG_PARAGRAPH = 1000
COLUMNS = ("path", "title", "issuer", "level", "province", "city", "county", "town", "year")
LEVEL_PLACE = {"province": "province", "city": "city", "county": "county", "town": "town"}


@dataclass(frozen=True)
class Expected:
    """One row of expected.tsv: what a person reading the document says it is."""

    path: str
    title: str
    issuer: str
    level: str
    province: str
    city: str
    county: str
    town: str
    year: int | None
    doc_type: str


@dataclass
class Tally:
    """Counts over the whole run."""

    files: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    documents: int = 0
    paragraphs: int = 0
    long_paragraphs: int = 0
    longest: int = 0
    compared: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    mismatches: list[str] = field(default_factory=list)


def load_expected(path: Path) -> dict[str, list[Expected]]:
    """Rows of expected.tsv grouped by file, in file order (several rows = a compilation)."""
    rows: dict[str, list[Expected]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if cells[0] == "path":
            continue
        cells += [""] * (10 - len(cells))
        year = int(cells[8]) if cells[8].strip().isdigit() else None
        row = Expected(*cells[:8], year, cells[9])  # type: ignore[arg-type]
        rows.setdefault(row.path, []).append(row)
    return rows


def corpus_files(folder: Path) -> list[Path]:
    """Every document file under a folder, sorted; README.md and expected.tsv are not."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name not in NOT_DOCUMENTS and not p.name.startswith(".")
    )


def got(doc: Document, name: str) -> str:
    """A recognised field as text; fields not (yet) on Document read as empty."""
    value = getattr(doc, name, "")
    return "" if value is None else str(value)


def issuer_level_ok(want: Expected, doc: Document) -> bool:
    """Level equal and the place name at that level equal."""
    if got(doc, "level") != want.level:
        return False
    place_field = LEVEL_PLACE.get(want.level)
    if place_field is None:  # national: no place to compare
        return True
    return got(doc, place_field) == getattr(want, place_field)


def compare(key: str, want: Expected, doc: Document | None, tally: Tally) -> None:
    """Score one expected document against what was recognised (None: no such document)."""
    tally.compared += 1
    checks: dict[str, tuple[bool, str, str]] = {}
    if doc is None:
        checks["issuer+level"] = (False, f"{want.level} {want.issuer}", "no document")
    else:
        place = LEVEL_PLACE.get(want.level, "")
        shown = f"{got(doc, 'level') or '-'} {got(doc, place) if place else ''}".strip()
        checks["issuer+level"] = (
            issuer_level_ok(want, doc),
            f"{want.level} {getattr(want, place) if place else ''}".strip(),
            f"{shown} (issuer {got(doc, 'issuer') or '-'})",
        )
        checks["year"] = (doc.year == want.year, str(want.year), str(doc.year))
        checks["doc_type"] = (doc.doc_type == want.doc_type, want.doc_type, doc.doc_type)
        if want.province:
            ok = got(doc, "province") == want.province
            checks["province"] = (ok, want.province, got(doc, "province") or "-")
        if want.city:
            checks["city"] = (got(doc, "city") == want.city, want.city, got(doc, "city") or "-")
    for name in ("issuer+level", "year", "doc_type"):
        tally.totals[name] += 1
    if want.province:
        tally.totals["province"] += 1
    if want.city:
        tally.totals["city"] += 1
    for name, (ok, expected, actual) in checks.items():
        if ok:
            tally.hits[name] += 1
        else:
            tally.mismatches.append(f"{key}: {name}: expected {expected!r}, got {actual!r}")


def measure_file(
    path: Path, corpus_dir: Path, key: str, rows: list[Expected], tally: Tally
) -> None:
    """Load one file and add its figures to the tally."""
    tally.files += 1
    try:
        report, docs = load_file(path, corpus_dir, {})
    except Exception as exc:  # a bug in the project's parsing: count it, keep measuring
        tally.errors.append(f"{key}: {type(exc).__name__}: {exc}")
        docs = []
    else:
        if report.status == "skipped":
            tally.skipped.setdefault(report.reason or "?", []).append(f"{key} ({report.message})")
    tally.documents += len(docs)
    for doc in docs:
        lengths = [len(p.text) for p in doc.paragraphs]
        tally.paragraphs += len(lengths)
        tally.long_paragraphs += sum(1 for n in lengths if n > LONG_PARAGRAPH)
        tally.longest = max([tally.longest, *lengths])
    if not rows:
        tally.mismatches.append(f"{key}: no row in expected.tsv")
    for i, want in enumerate(rows):
        compare(key, want, docs[i] if i < len(docs) else None, tally)


def share(tally: Tally, name: str) -> str:
    """'hits/total (pct)' for one check."""
    total = tally.totals[name]
    if not total:
        return "-"
    return f"{tally.hits[name]}/{total} ({100 * tally.hits[name] / total:.1f} %)"


def print_report(tally: Tally, verbose: bool) -> None:
    """The figures as a plain table."""
    skipped = sum(len(v) for v in tally.skipped.values())
    lines = [
        ("files", str(tally.files)),
        ("files skipped", str(skipped)),
        ("files raising an error", str(len(tally.errors))),
        ("documents", str(tally.documents)),
        ("paragraphs", str(tally.paragraphs)),
        (f"paragraphs > {LONG_PARAGRAPH:,} chars", str(tally.long_paragraphs)),
        ("longest paragraph (chars)", str(tally.longest)),
        ("expected documents", str(tally.compared)),
        ("right issuer and level", share(tally, "issuer+level")),
        ("right year", share(tally, "year")),
        ("right province", share(tally, "province")),
        ("right city", share(tally, "city")),
        ("right doc_type", share(tally, "doc_type")),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value}")
    for reason, files in sorted(tally.skipped.items()):
        print(f"\nskipped: {reason} ({len(files)})")
        for entry in files:
            print(f"  {entry}")
    if tally.errors:
        print(f"\nerrors ({len(tally.errors)})")
        for entry in tally.errors:
            print(f"  {entry}")
    if verbose and tally.mismatches:
        print(f"\nmismatches ({len(tally.mismatches)})")
        for entry in tally.mismatches:
            print(f"  {entry}")


def run(data_dir: Path, shared_dir: Path) -> Tally:
    """Measure every file of both folders against expected.tsv."""
    expected = load_expected(data_dir / "expected.tsv")
    tally = Tally()
    for path in corpus_files(data_dir):
        key = path.relative_to(data_dir).as_posix()
        measure_file(path, data_dir, key, expected.get(key, []), tally)
    for path in corpus_files(shared_dir):
        key = SHARED_PREFIX + path.relative_to(shared_dir).as_posix()
        measure_file(path, shared_dir, key, expected.get(key, []), tally)
    return tally


def main() -> None:
    """Command line: print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="tests/data/realworld")
    parser.add_argument("--shared", type=Path, default=SHARED, help="../shared/realworld")
    parser.add_argument("--verbose", action="store_true", help="list every mismatch")
    args = parser.parse_args()
    print_report(run(args.data, args.shared), args.verbose)


if __name__ == "__main__":
    main()
