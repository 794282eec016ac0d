"""What a search is asked and what it answers: requests, stored paragraphs, hits, pages.

Backend-neutral data: every engine returns `Record`s, and the front ends (CLI, web,
JSON API) show `Hit`s, `SearchPage`s and `DocumentView`s built from them.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import orjson

from . import fields as F
from .highlight import Span, make_snippet, merge_spans

MODES = ("keyword", "phrase", "fuzzy")


@dataclass
class SearchRequest:
    """Everything a search needs from a front end."""

    q: str = ""
    mode: str = "keyword"
    town: list[str] = field(default_factory=list)
    year: list[str] = field(default_factory=list)
    doc_type: list[str] = field(default_factory=list)
    page: int = 1
    page_size: int = 10
    all: bool = False
    province: list[str] = field(default_factory=list)
    city: list[str] = field(default_factory=list)
    county: list[str] = field(default_factory=list)
    level: list[str] = field(default_factory=list)
    section: list[str] = field(default_factory=list)
    sort: str = "relevance"  # relevance, newest or oldest
    scope: str = "paragraph"  # keyword mode: paragraph, sentence or document


@dataclass(slots=True)  # not frozen: a frozen __init__ costs ~3x (every-hit answers make 100,000s)
class Record:
    """One paragraph as an engine stores it, with its report's metadata (read-only by use)."""

    doc_id: str
    para_id: str
    text: str
    title: str = ""
    town: str = ""
    place: str = ""
    year: str = ""  # digits, or "" when unknown
    doc_type: str = ""
    date: str = ""
    source: str = ""
    ordinal: int = 0
    section: tuple[str, ...] = ()
    heading: bool = False
    issuer: str = ""
    level: str = ""
    province: str = ""
    city: str = ""
    county: str = ""
    ocr: bool = False  # the report's text was read by OCR (errors of single characters)
    # the text's exact-match form (`analysis.exact_units`) when the engine holds it and it
    # has a character for each of the text's (no white space dropped), else ""
    units: str = field(default="", repr=False, compare=False)
    # a piece of a cut paragraph (plan.py): its place, and every piece's para_id and text
    piece: int = 0
    piece_ids: tuple[str, ...] = field(default=(), compare=False)  # () when not cut
    piece_texts: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def block(self) -> str:
        """The author paragraph's name: its first piece's key ("<doc_id>/<para_id>")."""
        return f"{self.doc_id}/{self.piece_ids[0] if self.piece_ids else self.para_id}"

    @property
    def year_number(self) -> int | None:
        return int(self.year) if self.year.isdigit() else None

    @property
    def url(self) -> str:
        return permalink(self.doc_id, self.para_id)

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Record:
        """A record from stored fields named as in `fields.py` (missing ones empty)."""
        return cls(
            doc_id=fields[F.DOC_ID],
            para_id=fields[F.PARA_ID],
            text=fields.get(F.TEXT) or "",
            title=fields.get(F.TITLE) or "",
            town=fields.get(F.TOWN) or "",
            place=fields.get(F.PLACE) or "",
            year=str(fields.get(F.YEAR) or ""),
            doc_type=fields.get(F.DOC_TYPE) or "",
            date=fields.get(F.DATE) or "",
            source=fields.get(F.SOURCE) or "",
            ordinal=int(fields.get(F.ORDINAL) or 0),
            section=tuple(fields.get(F.SECTION) or ()),
            heading=bool(fields.get(F.HEADING)),
            issuer=fields.get(F.ISSUER) or "",
            level=fields.get(F.LEVEL) or "",
            province=fields.get(F.PROVINCE) or "",
            city=fields.get(F.CITY) or "",
            county=fields.get(F.COUNTY) or "",
            ocr=bool(fields.get(F.OCR)),
            piece=int(fields.get(F.PIECE) or 0),
        )


def permalink(doc_id: str, para_id: str) -> str:
    """The web app's permanent address of a paragraph."""
    return f"/doc/{doc_id}#{para_id}"


def paragraph_meta(record: Record) -> dict[str, Any]:
    """What every result shows of a paragraph: ids, report metadata, section and link."""
    return {
        "doc_id": record.doc_id,
        "para_id": record.para_id,
        "title": record.title,
        "town": record.town,
        "year": record.year_number,
        "doc_type": record.doc_type,
        "section": " / ".join(record.section),
        "url": record.url,
        "ocr": record.ocr,
    }


@dataclass
class Matches:
    """An engine's answer to a plan: the total, facet counts over every hit, and a slice
    of the ranked hits as (ref, score), best first (refs are opaque to callers)."""

    total: int
    facets: dict[str, dict[str, int]]
    ranked: list[tuple[Any, float]]
    notices: list[str] = field(default_factory=list)  # e.g. a shard that did not answer
    records: dict[Any, Record] = field(default_factory=dict)  # some refs' records, if at hand


@dataclass(slots=True)
class Hit:
    """One matching paragraph, ready to show (slots: every-hit answers hold 100,000s)."""

    doc_id: str
    para_id: str
    title: str
    town: str
    year: int | None
    doc_type: str
    section: str
    text: str
    snippet: str
    url: str
    score: float
    ocr: bool = False  # the report's text was read by OCR
    place: str = ""
    date: str = ""
    source: str = ""
    ordinal: int = 0
    section_path: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    similarity: float | None = None  # fuzzy mode: 0-100
    issuer: str = ""
    level: str = ""
    province: str = ""
    city: str = ""
    county: str = ""
    # the author paragraph (plan.py): its name, this piece's place, every piece's para_id
    block: str = ""
    piece: int = 0
    piece_ids: list[str] = field(default_factory=list)

    @classmethod
    def from_record(
        cls,
        record: Record,
        spans: list[Span],
        score: float,
        snippet: str | None = None,
    ) -> Hit:
        """A hit from a stored paragraph, its matched spans and its score (`snippet`:
        made by the caller, for a cut paragraph whose terms lie in several pieces)."""
        spans = merge_spans(spans)
        return cls(
            **paragraph_meta(record),
            text=record.text,
            snippet=str(make_snippet(record.text, spans)) if snippet is None else snippet,
            score=round(float(score), 4),
            place=record.place,
            date=record.date,
            source=record.source,
            ordinal=record.ordinal,
            section_path=list(record.section),
            spans=spans,
            issuer=record.issuer,
            level=record.level,
            province=record.province,
            city=record.city,
            county=record.county,
            block=record.block,
            piece=record.piece,
            piece_ids=list(record.piece_ids) or [record.para_id],
        )

    def to_json(self) -> dict[str, Any]:
        data = dict(zip(HIT_FIELDS, hit_values(self), strict=True))
        data["spans"] = [list(s) for s in self.spans]
        if self.similarity is None:
            del data["similarity"]
        return data


HIT_FIELDS = tuple(f.name for f in fields(Hit) if f.name != "spans")  # to_json's order
hit_values = operator.attrgetter(*HIT_FIELDS)


def empty_facets() -> dict[str, dict[str, int]]:
    return {name: {} for name in F.COLUMNS}


@dataclass
class SearchPage:
    """A page of results with totals and facet counts over all hits."""

    query: str
    mode: str
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    page: int = 1
    page_size: int = 10
    pages: int = 1
    filters: dict[str, list[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    elapsed_ms: float = 0.0
    try_fuzzy: bool = False  # few exact hits in an index with OCR text: fuzzy mode may find more

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
            "filters": self.filters,
            "hits": [h.to_json() for h in self.hits],
            "facets": self.facets,
            "notices": self.notices,
            "suggestions": self.suggestions,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "try_fuzzy": self.try_fuzzy,
        }


@dataclass
class DocumentView:
    """A whole report from the index, paragraphs in order."""

    doc_id: str
    title: str
    town: str
    place: str
    year: int | None
    doc_type: str
    date: str
    source: str
    paragraphs: list[dict[str, Any]]
    issuer: str = ""
    level: str = ""
    province: str = ""
    city: str = ""
    county: str = ""

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_records(cls, records: list[Record]) -> DocumentView | None:
        """A report from its paragraphs' records (any order), or None when there are none."""
        if not records:
            return None
        rows = sorted(records, key=lambda r: r.ordinal)
        first = rows[0]
        return cls(
            doc_id=first.doc_id,
            title=first.title,
            town=first.town,
            place=first.place,
            year=first.year_number,
            doc_type=first.doc_type,
            date=first.date,
            source=first.source,
            issuer=first.issuer,
            level=first.level,
            province=first.province,
            city=first.city,
            county=first.county,
            paragraphs=[
                {
                    "para_id": r.para_id,
                    "ordinal": r.ordinal,
                    "text": r.text,
                    "section": " / ".join(r.section),
                    "section_path": list(r.section),
                    "heading": r.heading,
                    "url": r.url,
                }
                for r in rows
            ],
        )


@dataclass
class YearCount:
    """How much a query is used in one year."""

    year: int
    reports: int = 0
    towns: int = 0
    paragraphs: int = 0
    occurrences: int = 0  # verbatim occurrences of the terms (a paragraph matched by words: 1)


@dataclass
class Trend:
    """A query across years and towns: per-year counts and a town × year table."""

    query: str
    total: int
    years: list[YearCount] = field(default_factory=list)
    table: dict[str, dict[int, int]] = field(default_factory=dict)  # town → year → paragraphs
    first_year: dict[str, int] = field(default_factory=dict)  # town → first year it appears
    undated: int = 0  # paragraphs of reports without a year

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "undated": self.undated,
            "years": [dict(y.__dict__) for y in self.years],
            "towns": [
                {
                    "town": town,
                    "first_year": self.first_year.get(town),
                    "paragraphs": sum(row.values()),
                    "years": {str(y): n for y, n in sorted(row.items())},
                }
                for town, row in self.table.items()
            ],
        }


@dataclass(slots=True)
class TownUsage:
    """How one town uses a term: paragraphs, occurrences, reports and its best paragraph."""

    town: str
    paragraphs: int = 0
    occurrences: int = 0
    reports: list[dict[str, Any]] = field(default_factory=list)  # in order of their first hit
    best: Hit | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "town": self.town,
            "paragraphs": self.paragraphs,
            "occurrences": self.occurrences,
            "reports": self.reports,
            "best": self.best.to_json() if self.best else None,
        }


JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def json_bytes(value: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """A value's JSON through orjson (UTF-8, keys as made, compact); where a string holds
    a lone surrogate, which orjson refuses, the standard library's with it escaped."""
    try:
        return orjson.dumps(value, default=default, option=JSON_OPTIONS)
    except TypeError:
        text = json.dumps(value, default=default, ensure_ascii=True, separators=(",", ":"))
        return text.encode("ascii")


SMALL_NUMBERS = np.arange(4096).astype("S")  # their digits, looked up (astype: ~0.2 µs each)


def digits(numbers: Any) -> np.ndarray:
    """Non-negative integers as the bytes of their decimal digits."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if not len(numbers) or numbers.max() < len(SMALL_NUMBERS):
        return SMALL_NUMBERS[numbers]
    return numbers.astype("S")


class Shared:
    """Values many answers share (each report's entry, each town's name), rendered as
    JSON once, on first use; an engine keeps one for its generation."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = values

    @functools.cached_property
    def json(self) -> np.ndarray:
        """Each value's JSON (bytes)."""
        return np.array([json_bytes(v) for v in self.values] or [b"null"])

    @functools.cached_property
    def open_json(self) -> np.ndarray:
        """Each (dict) value's JSON without its closing brace, a comma after: b'{"a":1,'."""
        return np.array([json_bytes(v)[:-1] + b"," for v in self.values] or [b"{"])


@dataclass
class ReportRows:
    """One row a (town, report) pair: the report's entry and the pair's counts."""

    entries: Shared  # doc_id, title, year, doc_type of each report code
    codes: np.ndarray  # each row's report code
    paragraphs: np.ndarray
    occurrences: np.ndarray

    def dicts(self) -> list[dict[str, Any]]:
        """Every row as the dict TownUsage.reports holds."""
        entries = self.entries.values
        columns = zip(
            self.codes.tolist(), self.paragraphs.tolist(), self.occurrences.tolist(), strict=True
        )
        return [{**entries[c], "paragraphs": n, "occurrences": o} for c, n, o in columns]

    def json(self, last: np.ndarray) -> np.ndarray:
        """Every row as its dict's JSON (bytes), a comma after each but the `last` rows."""
        counts = np.strings.add(b'"paragraphs":', digits(self.paragraphs))
        counts = np.strings.add(counts, b',"occurrences":')
        counts = np.strings.add(counts, digits(self.occurrences))
        counts = np.strings.add(counts, np.where(last, b"}", b"},"))
        return np.strings.add(self.entries.open_json[self.codes], counts)


@dataclass
class TownTable:
    """Every town's use of a term as columns, most paragraphs first: what the towns view
    shows, made into objects (`usages`) or JSON (`towns_json`) only at the end."""

    names: Shared  # town names
    codes: np.ndarray  # each town's name
    paragraphs: np.ndarray
    occurrences: np.ndarray
    bounds: np.ndarray  # town i's report rows: rows[bounds[i] : bounds[i + 1]]
    rows: ReportRows
    best_refs: list[tuple[Any, float]]  # each town's best hit as the engine names it
    best: list[Hit | None] = field(default_factory=list)  # the hits built (None: not asked)

    @property
    def total(self) -> int:
        return int(self.paragraphs.sum())

    @property
    def towns(self) -> list[str]:
        return [self.names.values[c] for c in self.codes.tolist()]

    @classmethod
    def from_usages(
        cls, usages: list[TownUsage], best_refs: list[tuple[Any, float]] | None = None
    ) -> TownTable:
        """A table of towns counted one by one (most paragraphs first already)."""
        reports = [r for u in usages for r in u.reports]
        counted = ("paragraphs", "occurrences")
        entries = [{k: v for k, v in r.items() if k not in counted} for r in reports]
        rows = ReportRows(
            Shared(entries),
            np.arange(len(reports)),
            np.array([r["paragraphs"] for r in reports], dtype=np.int64),
            np.array([r["occurrences"] for r in reports], dtype=np.int64),
        )
        return cls(
            names=Shared([u.town for u in usages]),
            codes=np.arange(len(usages)),
            paragraphs=np.array([u.paragraphs for u in usages], dtype=np.int64),
            occurrences=np.array([u.occurrences for u in usages], dtype=np.int64),
            bounds=np.cumsum([0] + [len(u.reports) for u in usages]),
            rows=rows,
            best_refs=best_refs or [],
            best=[u.best for u in usages],
        )

    def best_hits(self) -> list[Hit | None]:
        return self.best + [None] * (len(self.codes) - len(self.best))

    def usages(self) -> list[TownUsage]:
        """Every town as a TownUsage."""
        rows = self.rows.dicts()
        columns = zip(
            self.towns,
            self.paragraphs.tolist(),
            self.occurrences.tolist(),
            self.bounds[:-1].tolist(),
            self.bounds[1:].tolist(),
            self.best_hits(),
            strict=True,
        )
        return [
            TownUsage(town, n, occurring, rows[start:end], hit)
            for town, n, occurring, start, end, hit in columns
        ]

    def towns_json(self) -> bytes:
        """The JSON array of `[u.to_json() for u in self.usages()]`, written column by
        column: at 200 MB a common word has ~7,700 towns and ~14,000 report rows, and a
        dict a row and a town cost more than the counting."""
        count = len(self.codes)
        if not count:
            return b"[]"
        heads = np.strings.add(b'{"town":', self.names.json[self.codes])
        heads = np.strings.add(heads, b',"paragraphs":')
        heads = np.strings.add(heads, digits(self.paragraphs))
        heads = np.strings.add(heads, b',"occurrences":')
        heads = np.strings.add(heads, digits(self.occurrences))
        heads = np.strings.add(heads, b',"reports":[')
        tails = [b'],"best":null},'] * count
        for i, hit in enumerate(self.best):
            if hit is not None:
                tails[i] = b'],"best":%s},' % json_bytes(hit.to_json())
        tails[-1] = tails[-1][:-1]
        sizes = np.diff(self.bounds)
        last = np.zeros(self.bounds[-1], dtype=bool)
        last[self.bounds[1:][sizes > 0] - 1] = True  # a town's last row takes no comma
        # town after town: its head, its rows, its tail
        shift = 2 * np.arange(count)
        pieces = np.empty(2 * count + self.bounds[-1], dtype=object)
        pieces[self.bounds[:-1] + shift] = heads.tolist()
        pieces[self.bounds[1:] + shift + 1] = tails
        if self.bounds[-1]:
            places = np.arange(self.bounds[-1]) + np.repeat(shift, sizes) + 1
            pieces[places] = self.rows.json(last).tolist()
        return b"[" + b"".join(pieces.tolist()) + b"]"
