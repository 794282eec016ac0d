"""Solr documents: our own analysis makes the words and the normalised text that Solr cuts.

One Solr document per paragraph, with the fields of `indexing.paragraph_fields`
(the same ids, sort key and metadata) plus the token channels of the configset:

* `words`: the jieba words of the text (`analysis.segment` with the collection's
  dictionary), which Lucene's BM25 ranks by;
* `units`: `exact_key(text)`, which Solr cuts into `grams` (its adjacent character
  pairs, in order, at consecutive positions: `pairs`) and `chars` (its single
  characters), so the text's longest channels are sent once, as one string;
* `section_units`: the same for the section path (`section_grams`/`section_chars`, for
  `section:` filters);
* `kind` ("para"), `year_int` (year ranges), `sort_date`.

A paragraph cut into pieces also gets a document of its own, kind "block" (`block_documents`).

The collection's meta document (key `_meta`, kind "meta") holds the build report (counts,
settings, `built_at`) and the dictionary words as JSON; each file's own report (status,
hash, counts, warnings) is a small document of its own (kind "file", `file_document`), so
that no document grows with the corpus and an incremental run rewrites only the reports of
the files it read.
"""

from __future__ import annotations

import json
from typing import Any

from .. import fields as F
from ..analysis import exact_key, segment
from .client import SolrClient

KIND = "kind"
PARA = "para"
BLOCK = "block"  # a cut paragraph whole (`block_documents`)
BLOCK_SUFFIX = "~block"  # its key: the block's name and this
META = "meta"
META_KEY = "_meta"
META_JSON = "meta_json"
FILE = "file"  # a file's build report (`file_document`)
FILE_PREFIX = "_file/"  # its key: this and the file's path in the corpus
FILE_PAGE = 5_000  # file reports read a page at a time
UNITS = "units"  # the exact-match form of the text; Solr makes `grams` and `chars` of it
SECTION_UNITS = "section_units"  # the same of the section path
FILE_DOCS = "documents"  # meta["file_reports"]: each file's report is a document of its own


def pairs(units: str) -> str:
    """The adjacent character pairs of a string (no white space in it), space-separated:
    what Solr's NGramTokenizer makes of it in `grams` (queries are sent this way)."""
    return " ".join(units[i : i + 2] for i in range(len(units) - 1))


def word_tokens(text: str, words: tuple[str, ...]) -> list[str]:
    """The word channel's tokens as Solr indexes them (a word never holds white space)."""
    return [part for word in segment(text, words) for part in word.split()]


def solr_document(fields: dict[str, Any], words: tuple[str, ...]) -> dict[str, Any]:
    """A paragraph's Solr document from its `paragraph_fields` record."""
    doc = {k: v for k, v in fields.items() if k not in (F.WORDS, F.SECTION_KEY)}
    tokens = word_tokens(fields[F.TEXT], words)
    units = exact_key(fields[F.TEXT])
    section = exact_key(fields[F.SECTION_KEY])
    doc.update(
        {
            KIND: PARA,
            F.WORDS: " ".join(tokens),
            UNITS: units,
            SECTION_UNITS: section,
        }
    )
    if doc.pop(F.OCR, ""):  # a boolean field; left out when false, as before it existed
        doc[F.OCR] = True
    if not doc.get(F.SORT_DATE):  # missing, so it sorts last both ways (sortMissingLast)
        doc.pop(F.SORT_DATE, None)
    if str(fields[F.YEAR]).isdigit():
        doc["year_int"] = int(fields[F.YEAR])
    return doc


def block_documents(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A document for each cut paragraph among a report's paragraph documents (kind
    "block"): its pieces' channels one after another, so that in paragraph scope the
    author paragraph matches and ranks as one unit (plan.py); the pieces stay the
    records that are shown, linked and searched in the other scopes."""
    pieces: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        if doc.get(KIND) == PARA and int(doc.get(F.PIECES) or 1) > 1:
            pieces.setdefault(doc[F.BLOCK], []).append(doc)
    out = []
    for block, group in pieces.items():
        group.sort(key=lambda d: d[F.PIECE])
        units = "".join(d[UNITS] for d in group)
        whole = dict(group[0])
        whole.update(
            {
                F.KEY: block + BLOCK_SUFFIX,
                KIND: BLOCK,
                F.TEXT: "".join(d[F.TEXT] for d in group),
                F.WORDS: " ".join(d[F.WORDS] for d in group if d[F.WORDS]),
                UNITS: units,
            }
        )
        out.append(whole)
    return out


def json_document(
    key: str, kind: str, payload: Any, doc_id: str = "", para_id: str = ""
) -> dict[str, Any]:
    """A document of the collection's own (meta, file report, lock): `payload` as stored
    JSON, the ids the schema requires (the key, unless given), and a kind that no search
    asks for."""
    return {
        F.KEY: key,
        KIND: kind,
        F.DOC_ID: doc_id or key,
        F.PARA_ID: para_id or key,
        META_JSON: json.dumps(payload, ensure_ascii=False),
    }


def meta_document(meta: dict[str, Any], words: list[str]) -> dict[str, Any]:
    """The collection's meta document: build report and dictionary words."""
    return json_document(META_KEY, META, {"meta": meta, "words": words})


def file_document(record: dict[str, Any]) -> dict[str, Any]:
    """A file's build report (`make_meta`'s record of it) as a document of kind "file".
    It has no `source`: deleting a file's paragraphs by source (an incremental run that
    may be interrupted) leaves the report of the last complete run in place."""
    path = record["path"]
    return json_document(file_key(path), FILE, record, FILE_PREFIX.rstrip("/"), path)


def file_key(path: str) -> str:
    return FILE_PREFIX + path


def file_reports(client: SolrClient, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file's report in the collection, by path: read from the file documents, or
    from the meta document `meta` of a collection built before they were documents."""
    if not reports_are_documents(meta):
        return list(meta.get("files", []))
    params = [("q", f"{{!term f={KIND}}}{FILE}"), ("fl", META_JSON), ("sort", f"{F.KEY} asc")]
    return [json.loads(doc[META_JSON]) for doc in client.stream(params, FILE_PAGE)]


def reports_are_documents(meta: dict[str, Any]) -> bool:
    """Whether the collection of this meta data keeps its file reports as documents."""
    return meta.get("file_reports") == FILE_DOCS
