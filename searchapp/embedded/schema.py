"""The Whoosh schema: one Whoosh document per paragraph (the exact channel is in grams.py).

Field names are those of `searchapp.fields`.

Whoosh pickles the schema (analyzers included) into the index, so the classes here
are part of the index format: keep their import paths, and bump
`analysis.ANALYSIS_VERSION` when what they produce changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import ID, STORED, TEXT, Schema

from ..analysis import ANALYSIS_VERSION, SEGMENTER, dictionary_hash, iter_words
from ..fields import WORDS


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer over jieba: positions in token order, exact character offsets.

    It holds only its word list (picklable: Whoosh stores the schema in the index);
    the jieba tokenizer itself is built lazily in each process.
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        self.words = tuple(sorted(set(words)))
        self.dictionary = dictionary_hash(self.words)
        self.version = ANALYSIS_VERSION
        self.segmenter = SEGMENTER

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JiebaTokenizer) and other.dictionary == self.dictionary

    def __hash__(self) -> int:
        return hash(self.dictionary)

    def __call__(  # type: ignore[override]
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, (word, start, end) in enumerate(iter_words(value, self.words)):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[start:end]
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class Column(ID):
    """A stored value with a column for filters, facets and sorting, never indexed: it
    writes no postings (the engine filters and counts from the columns)."""

    indexed = False

    def __init__(self, stored: bool = False) -> None:
        super().__init__(stored=stored, sortable=True)


def make_schema(words: Iterable[str]) -> Schema:
    """The schema, with the domain dictionary `words` built into the word analyzer.

    Indexed (postings): key (unique, for updates), source (deletes), doc_id (documents)
    and words; everything else is stored, and a column where the engine needs one.
    """
    return Schema(
        key=ID(unique=True, stored=True),
        doc_id=ID(stored=True, sortable=True),
        para_id=STORED(),
        source=ID(stored=True),
        file_hash=STORED(),
        ordinal=STORED(),
        sort_key=Column(),
        title=Column(stored=True),
        town=Column(stored=True),
        place=STORED(),
        year=Column(stored=True),
        doc_type=Column(stored=True),
        date=STORED(),
        sort_date=Column(),
        issuer=STORED(),
        level=Column(stored=True),
        province=Column(stored=True),
        city=Column(stored=True),
        county=Column(stored=True),
        section=STORED(),
        section_key=Column(),
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
