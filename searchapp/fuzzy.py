"""Approximate matching with rapidfuzz over candidates that the index supplies.

Edit distance over words does little for Hanzi, so fuzzy mode works on characters:
the index proposes paragraphs that share character pairs with the query, and
rapidfuzz's partial-ratio alignment finds the closest stretch of each paragraph.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rapidfuzz import fuzz, process
from whoosh.searching import Searcher

from . import schema as F
from .analysis import exact_key, exact_units
from .grams import LeafGrams, leaf_grams, live_docs, query_grams
from .query import (
    ParsedQuery,
    SearchPage,
    SearchRequest,
    empty_facets,
    exact_query,
    filter_query,
    hit_from_fields,
)

CANDIDATES = 500
MIN_SIMILARITY = 70.0


RARE_GRAMS = 12


def candidate_grams(segments: list[LeafGrams], key: str) -> list[str]:
    """The query's rarest character pairs present in the index.

    They carry its identity; common pairs (发展, 工作) would make every paragraph a
    candidate. Single characters join in only when one wrong character leaves a
    short query with fewer than two pairs the index knows (医供体).
    """

    def df(gram: str) -> int:  # deleted documents included, as Whoosh counts
        return sum(segment.df(gram) for segment, _, _ in segments)

    pairs = sorted(set(query_grams(key))) if len(key) > 1 else [key]
    present = sorted((df(g), g) for g in pairs)
    grams = [g for n, g in present if n > 0]
    if len(grams) < 2 and len(key) > 1:
        singles = sorted((df(ch), ch) for ch in set(key))
        grams += [g for n, g in singles if n > 0]
    return grams[:RARE_GRAMS]


def candidates(
    searcher: Searcher, key: str, limit: int, allowed: set[int] | None = None
) -> list[int]:
    """Documents sharing the most of the query's rare grams, best first (ties: index order)."""
    shared: Counter[int] = Counter()
    segments = leaf_grams(searcher.reader())
    for gram in candidate_grams(segments, key):
        shared.update(live_docs(segments, lambda grams, gram=gram: grams.ids(gram)))
    ranked = sorted(shared.items(), key=lambda item: (-item[1], item[0]))
    return [doc for doc, _ in ranked if allowed is None or doc in allowed][:limit]


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
    searcher: Searcher,
    request: SearchRequest,
    parsed: ParsedQuery,
    filters: dict[str, list[str]],
    words: tuple[str, ...],
) -> SearchPage:
    """Fuzzy mode: candidates from the exact channel, ranked by rapidfuzz similarity."""
    text = parsed.groups[0][0].text if parsed.groups else ""
    key = exact_key(text)
    if not key:
        return SearchPage(request.q, request.mode, 0, [], empty_facets(), notices=parsed.notices)
    narrowed = filter_query(filters)
    allowed = set(searcher.docs_for_query(narrowed)) if narrowed is not None else None
    scored = []
    for doc in candidates(searcher, key, CANDIDATES, allowed):
        fields = searcher.stored_fields(doc)
        found = align(key, fields[F.TEXT_FIELD])
        if found:
            similarity, span = found
            order = (fields[F.SOURCE], fields[F.DOC_ID], fields[F.ORDINAL])
            scored.append((-similarity, order, fields, span))
    scored.sort(key=lambda item: (item[0], item[1]))
    facets = empty_facets()
    for _, _, fields, _ in scored:
        for name in F.FACET_FIELDS:
            facets[name][fields[name]] = facets[name].get(fields[name], 0) + 1
    facets = {n: dict(Counter(c).most_common()) for n, c in facets.items()}
    total = len(scored)
    first = 0 if request.all else (request.page - 1) * request.page_size
    last = total if request.all else first + request.page_size
    hits = []
    for neg_similarity, _, fields, span in scored[first:last]:
        hit = hit_from_fields(fields, [span], -neg_similarity)
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
_lexicons: dict[str, list[str]] = {}


def lexicon(searcher: Searcher) -> list[str]:
    """The index's words of two or more characters, cached per generation folder.

    A generation folder is never written again once published, so its path is a
    safe cache key.
    """
    folder = str(getattr(getattr(getattr(searcher, "_ix", None), "storage", None), "folder", ""))
    cached = _lexicons.get(folder) if folder else None
    if cached is None:
        cached = [
            term.decode("utf-8") if isinstance(term, bytes) else term
            for term in searcher.lexicon(F.WORDS)
        ]
        cached = [t for t in cached if len(t) >= 2 and not t.isdigit()]
        if folder:
            _lexicons.clear()  # keep only the live generation's
            _lexicons[folder] = cached
    return cached


def suggest_terms(searcher: Searcher, text: str, limit: int = 5) -> list[dict[str, Any]]:
    """Corpus words closest to `text` in characters, with how many paragraphs hold them."""
    key = exact_key(text)
    if len(key) < 2:
        return []
    matches = process.extract(
        key,
        lexicon(searcher),
        scorer=fuzz.ratio,
        score_cutoff=SUGGEST_MIN_SIMILARITY,
        limit=limit * 3,
    )
    suggestions = []
    for term, score, _ in matches:
        if term == key:
            continue
        hits = len(searcher.search(exact_query(term), limit=1))
        if hits:
            suggestions.append({"term": term, "hits": hits, "similarity": round(score, 1)})
    suggestions.sort(key=lambda s: (-s["similarity"], -s["hits"], s["term"]))
    return suggestions[:limit]
