"""The Whoosh schema: one Whoosh document per paragraph, holding what is small.

Field names are those of `searchapp.fields`. The paragraph's text, the exact channel
and the jieba word channel are in the segment's own file beside it (sidecar.py).

Whoosh pickles the schema into the index, so the classes here are part of the index
format: keep their import paths, and bump `analysis.ANALYSIS_VERSION` when they change.
"""

from __future__ import annotations

from whoosh.fields import ID, Schema

from .. import fields as F


class Column(ID):
    """A stored value with a column for filters, facets and sorting, never indexed: it
    writes no postings (the engine filters and counts from the columns)."""

    indexed = False

    def __init__(self, stored: bool = False) -> None:
        super().__init__(stored=stored, sortable=True)


def make_schema() -> Schema:
    """The schema: what is small and a paragraph's own.

    Indexed (postings): source (deletes a file's paragraphs) and doc_id (a report's
    paragraphs); columns: document order and the section path. Nothing is stored: the
    paragraph's own fields (para_id, ordinal, heading), the report's fields (title,
    town, year …, `fields.REPORT_FIELDS`), the text and the word channel are in the
    segment's own file beside it (sidecar.py).
    """
    return Schema(
        doc_id=ID(),
        source=ID(),
        sort_key=Column(),
        section_key=Column(),
    )


WHOOSH_FIELDS = (
    F.DOC_ID,
    F.SOURCE,
    F.SORT_KEY,
    F.SECTION_KEY,
)
