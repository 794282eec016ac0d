"""Approximate matching with rapidfuzz over candidates that the index supplies.

Edit distance over words does little for Hanzi, so fuzzy mode works on characters:
the index proposes paragraphs that share character pairs with the query, and
rapidfuzz's partial-ratio alignment finds the closest stretch of each paragraph.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rapidfuzz import fuzz, process

from . import fields as F
from .analysis import exact_key, exact_units
from .engine import Engine
from .plan import QueryPlan
from .querylang import ParsedQuery
from .results import Hit, SearchPage, SearchRequest, empty_facets

CANDIDATES = 500
MIN_SIMILARITY = 70.0


def min_similarity(key: str) -> float:
    """The similarity a match needs: one wrong character in three still passes."""
    if len(key) <= 2:
        return 100.0  # two characters with one wrong is any character
    return min(MIN_SIMILARITY, 100.0 * (len(key) - 1) / len(key) - 0.5)


def align(key: str, text: str) -> tuple[float, tuple[int, int]] | None:
    """Similarity (0-100) of the closest stretch of `text` to `key`, and that stretch."""
    units, offsets = exact_units(text)
    start = units.find(key)
    if start >= 0:
        return 100.0, (offsets[start], offsets[start + len(key) - 1] + 1)
    result = fuzz.partial_ratio_alignment(key, units, score_cutoff=min_similarity(key))
    if result is None or result.dest_end <= result.dest_start:
        return None
    return result.score, (offsets[result.dest_start], offsets[result.dest_end - 1] + 1)


def run_fuzzy(
    engine: Engine, request: SearchRequest, parsed: ParsedQuery, plan: QueryPlan
) -> SearchPage:
    """Fuzzy mode: candidates from the engine, ranked by rapidfuzz similarity."""
    text = parsed.groups[0][0].text if parsed.groups else ""
    key = exact_key(text)
    if not key:
        return SearchPage(request.q, request.mode, 0, [], empty_facets(), notices=parsed.notices)
    refs = engine.candidates(key, CANDIDATES, plan)
    scored = []
    for record in engine.records(refs):
        found = align(key, record.text)
        if found:
            similarity, span = found
            order = (record.source, record.doc_id, record.ordinal)
            scored.append((-similarity, order, record, span))
    scored.sort(key=lambda item: (item[0], item[1]))
    counts: dict[str, Counter[str]] = {name: Counter() for name in F.COLUMNS}
    for _, _, record, _ in scored:
        for name in F.COLUMNS:
            counts[name][getattr(record, name)] += 1
    facets = {name: dict(c.most_common()) for name, c in counts.items()}
    total = len(scored)
    first = 0 if request.all else (request.page - 1) * request.page_size
    last = total if request.all else first + request.page_size
    hits = []
    for neg_similarity, _, record, span in scored[first:last]:
        hit = Hit.from_record(record, [span], -neg_similarity)
        hit.similarity = round(-neg_similarity, 1)
        hits.append(hit)
    notices = list(parsed.notices)
    if any(h.similarity and h.similarity < 100 for h in hits):
        notices.append("模糊检索：结果为近似匹配，按相似度排序")
    return SearchPage(
        request.q,
        request.mode,
        total,
        hits,
        facets,
        page=request.page,
        page_size=request.page_size,
        pages=max(1, -(-total // request.page_size)),
        notices=notices,
    )


# --- did you mean ---------------------------------------------------------------------------

SUGGEST_MIN_SIMILARITY = 60.0


def suggest_terms(engine: Engine, text: str, limit: int = 5) -> list[dict[str, Any]]:
    """Corpus words closest to `text` in characters, with how many paragraphs hold them."""
    key = exact_key(text)
    if len(key) < 2:
        return []
    matches = process.extract(
        key,
        engine.vocabulary(),
        scorer=fuzz.ratio,
        score_cutoff=SUGGEST_MIN_SIMILARITY,
        limit=limit * 3,
    )
    suggestions = []
    for term, score, _ in matches:
        if term == key:
            continue
        hits = engine.count_exact(term)
        if hits:
            suggestions.append({"term": term, "hits": hits, "similarity": round(score, 1)})
    suggestions.sort(key=lambda s: (-s["similarity"], -s["hits"], s["term"]))
    return suggestions[:limit]
