"""The Whoosh schema: one Whoosh document per paragraph (the exact channel is in grams.py).

Whoosh pickles the schema (analyzers included) into the index, so the classes here
are part of the index format: keep their import paths, and bump
`analysis.ANALYSIS_VERSION` when what they produce changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

from .analysis import JiebaTokenizer

# Field names, used everywhere else through these constants.
KEY = "key"  # "<doc_id>/<para_id>", unique
DOC_ID = "doc_id"
PARA_ID = "para_id"
SOURCE = "source"
ORDINAL = "ordinal"
SORT_KEY = "sort_key"
TITLE = "title"
TOWN = "town"
PLACE = "place"
YEAR = "year"
DOC_TYPE = "doc_type"
DATE = "date"
SECTION = "section"
HEADING = "heading"
TEXT_FIELD = "text"
WORDS = "words"
FILE_HASH = "file_hash"

FACET_FIELDS = (TOWN, YEAR, DOC_TYPE)


def make_schema(words: Iterable[str]) -> Schema:
    """The schema, with the domain dictionary `words` built into the word analyzer."""
    return Schema(
        key=ID(unique=True, stored=True),
        doc_id=ID(stored=True),
        para_id=STORED(),
        source=ID(stored=True),
        file_hash=ID(stored=True),
        ordinal=NUMERIC(stored=True),
        sort_key=ID(sortable=True),
        title=STORED(),
        town=ID(stored=True, sortable=True),
        place=STORED(),
        year=ID(stored=True, sortable=True),
        doc_type=ID(stored=True, sortable=True),
        date=STORED(),
        section=STORED(),
        heading=STORED(),
        text=STORED(),
        # no positions: exact matching is the grams files' (grams.py); words rank and match
        words=TEXT(analyzer=JiebaTokenizer(words), phrase=False),
    )


def word_tokenizer(schema: Schema) -> JiebaTokenizer:
    """The jieba tokenizer an index was built with."""
    analyzer = schema[WORDS].analyzer
    tokenizer = analyzer if isinstance(analyzer, JiebaTokenizer) else None
    if tokenizer is None and hasattr(analyzer, "items"):
        tokenizer = next((a for a in analyzer.items if isinstance(a, JiebaTokenizer)), None)
    if tokenizer is None:
        raise TypeError("the index's word field has no jieba tokenizer")
    return tokenizer
