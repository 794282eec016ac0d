"""Precedent wording: how other reports phrased a sentence.

Paste a sentence or a paragraph; each of its sentences is looked up by its rarest
character pairs (so a sentence found nowhere verbatim still has candidates), the
candidate paragraphs are cut into sentences, and rapidfuzz scores each against the
pasted one. Characters that differ from the pasted text are marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from markupsafe import Markup
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from .analysis import exact_key, exact_units
from .engine import Engine
from .highlight import highlight, merge_spans
from .results import Record, paragraph_meta

CLAUSE_END = "，,；;。！？!?：:、"
SENTENCE_END = "。！？!?；;"
SENTENCE = re.compile(r"[^。！？；!?;]+[。！？；!?;]*")
CANDIDATES = 200
MIN_SIMILARITY = 50.0
MAX_QUERY_SENTENCES = 6


@dataclass
class SimilarSentence:
    """A sentence of the corpus that resembles a pasted sentence."""

    doc_id: str
    para_id: str
    title: str
    town: str
    year: int | None
    doc_type: str
    section: str
    url: str
    sentence: str
    marked: str  # HTML: the sentence, escaped, with differing characters in <mark>
    similarity: float
    query_sentence: str
    ocr: bool = False  # the report's text was read by OCR

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SimilarResult:
    """Similar sentences, best first, and the same grouped by town."""

    text: str
    sentences: list[SimilarSentence] = field(default_factory=list)

    @property
    def by_town(self) -> dict[str, list[SimilarSentence]]:
        groups: dict[str, list[SimilarSentence]] = {}
        for item in self.sentences:
            groups.setdefault(item.town, []).append(item)
        return groups

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "total": len(self.sentences),
            "sentences": [s.to_json() for s in self.sentences],
            "by_town": {t: [s.to_json() for s in items] for t, items in self.by_town.items()},
        }


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a text, cut after Chinese and Latin sentence ends."""
    return [(m.start(), m.end()) for m in SENTENCE.finditer(text) if m.group().strip()]


def mark_differences(query_key: str, sentence: str) -> Markup:
    """The sentence with the characters that differ from the query marked."""
    units, offsets = exact_units(sentence)
    spans = []
    for op in Levenshtein.opcodes(query_key, units.rstrip(CLAUSE_END)):
        if op.tag in {"replace", "insert"} and op.dest_end > op.dest_start:
            spans.append((offsets[op.dest_start], offsets[op.dest_end - 1] + 1))
    return highlight(sentence, merge_spans(spans))


def clause_spans(units: str) -> list[tuple[int, int]]:
    """Clauses of a text in exact-match form, each with its closing punctuation."""
    spans = []
    start = 0
    for i, ch in enumerate(units):
        if ch in CLAUSE_END:
            if i > start:
                spans.append((start, i + 1))
            start = i + 1
    if start < len(units):
        spans.append((start, len(units)))
    return spans


def closest_clauses(key: str, paragraph: str, min_similarity: float) -> tuple[str, float] | None:
    """The clause, or pair of adjacent clauses, of a paragraph closest to `key`.

    rapidfuzz's partial alignment finds where the paragraph is closest; the clauses
    around that place are then scored whole, so a result reads as real wording.
    """
    units, offsets = exact_units(paragraph)
    aligned = fuzz.partial_ratio_alignment(key, units, score_cutoff=min_similarity)
    if aligned is None or aligned.dest_end <= aligned.dest_start:
        return None
    spans = [
        (a, b) for a, b in clause_spans(units) if a < aligned.dest_end and b > aligned.dest_start
    ]
    pairs = [(a, d) for (a, b), (_, d) in pairwise(spans) if units[b - 1] not in SENTENCE_END]
    runs = spans + pairs
    best: tuple[float, int, int] | None = None
    for a, b in runs:
        score = fuzz.WRatio(key, units[a:b].rstrip(CLAUSE_END))
        if score >= min_similarity and (best is None or score > best[0]):
            best = (score, a, b)
    if best is None:
        return None
    score, a, b = best
    return paragraph[offsets[a] : offsets[b - 1] + 1], float(score)


def query_sentences(text: str) -> list[str]:
    """The pasted text's clauses worth looking up (the longest few).

    Drafts and reports share wording clause by clause (持续优化营商环境，推动…), so
    the pasted text is cut at every clause end, not only at sentence ends.
    """
    clauses = [c.strip() for c in re.split(f"[{CLAUSE_END}]", text)]
    clauses = list(dict.fromkeys(c for c in clauses if len(exact_key(c)) >= 4))
    if not clauses and exact_key(text):
        clauses = [text.strip()]
    return sorted(clauses, key=lambda c: -len(c))[:MAX_QUERY_SENTENCES]


def find_similar(
    engine: Engine,
    text: str,
    *,
    limit: int = 30,
    per_town: int = 3,
    exclude_doc: str | None = None,
    min_similarity: float = MIN_SIMILARITY,
) -> SimilarResult:
    """Sentences of other reports most like the pasted text's, at most `per_town` a town."""
    best: dict[tuple[str, str], SimilarSentence] = {}
    for query in query_sentences(text):
        key = exact_key(query).rstrip(CLAUSE_END)
        for record in engine.records(engine.candidates(key, CANDIDATES)):
            if record.doc_id == exclude_doc:
                continue
            found = closest_clauses(key, record.text, min_similarity)
            if found is None:
                continue
            sentence, score = found
            slot = (record.doc_id, record.para_id)
            if slot not in best or best[slot].similarity < score:
                best[slot] = make_sentence(record, sentence, key, query, score)
    ranked = sorted(best.values(), key=lambda s: (-s.similarity, s.town, s.doc_id, s.sentence))
    kept: list[SimilarSentence] = []
    per: dict[str, int] = {}
    for item in ranked:
        if per.get(item.town, 0) < per_town:
            kept.append(item)
            per[item.town] = per.get(item.town, 0) + 1
        if len(kept) >= limit:
            break
    return SimilarResult(text, kept)


def make_sentence(
    record: Record, sentence: str, key: str, query: str, score: float
) -> SimilarSentence:
    return SimilarSentence(
        **paragraph_meta(record),
        sentence=sentence,
        marked=str(mark_differences(key, sentence)),
        similarity=round(float(score), 1),
        query_sentence=query,
    )
