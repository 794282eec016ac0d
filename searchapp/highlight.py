"""Snippets and highlights: the only place that produces markup.

Matches are found in the normalised text without white space (the exact channel's
view) and mapped back to the original characters, so a highlight covers exactly the
characters the document shows. Everything else is escaped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

from markupsafe import Markup

from .analysis import exact_units

Span = tuple[int, int]
SENTENCE = re.compile(r"[^。！？；!?;]*[。！？；!?;]+[”’\"'）)]*|[^。！？；!?;]+$")
SNIPPET_CHARS = 120


def find_spans(text: str, needles: Iterable[str]) -> list[Span]:
    """Every occurrence of every needle (compared in exact-match form), merged and sorted."""
    return spans_in(exact_units(text), needles)


def spans_in(exact: tuple[str, Sequence[int]], needles: Iterable[str]) -> list[Span]:
    """find_spans over a text already in exact-match form (`analysis.exact_units`)."""
    units, offsets = exact
    spans: list[Span] = []
    for needle in {needle_units(n) for n in needles}:
        if not needle:
            continue
        start = units.find(needle)
        while start >= 0:
            end = start + len(needle)
            spans.append((offsets[start], offsets[end - 1] + 1))
            start = units.find(needle, start + 1)
    return merge_spans(spans)


@functools.lru_cache(maxsize=4096)
def needle_units(needle: str) -> str:
    """A needle in exact-match form (the same few needles are looked for in every hit)."""
    return exact_units(needle)[0]


def escape(text: str) -> str:
    """`markupsafe.escape` as a plain string, with the same entities, without a Markup
    object a piece (hit pages render thousands of pieces)."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def term_spans(text: str, needles: list[tuple[str, list[str]]], units: str = "") -> list[Span]:
    """Each (term, words) needle: the term verbatim, else its words when all of them occur
    (`units`: the text's exact-match form when known, one unit a character)."""
    spans: list[Span] = []
    # once per text: folding is most of the cost
    exact = (units, range(len(units))) if units else exact_units(text)
    for verbatim, parts in needles:
        found = spans_in(exact, [verbatim])
        if not found and parts:
            per_part = [spans_in(exact, [part]) for part in parts]
            if all(per_part):
                found = [span for part_spans in per_part for span in part_spans]
        spans.extend(found)
    return merge_spans(spans)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def render(text: str, spans: list[Span], open_tag: str, close_tag: str, esc: bool) -> str:
    out = []
    pos = 0
    for start, end in spans:
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        out.append(escape(text[pos:start]) if esc else text[pos:start])
        out.append(open_tag)
        out.append(escape(text[start:end]) if esc else text[start:end])
        out.append(close_tag)
        pos = end
    out.append(escape(text[pos:]) if esc else text[pos:])
    return "".join(out)


def highlight(text: str, spans: list[Span]) -> Markup:
    """The whole text, escaped, with <mark> around each span."""
    return Markup(render(text, spans, "<mark>", "</mark>", esc=True))


def snippet_window(text: str, spans: list[Span], width: int = SNIPPET_CHARS) -> Span:
    """A window of whole sentences around the best match, about `width` characters."""
    if len(text) <= width * 1.4:
        return 0, len(text)
    sentences = [(m.start(), m.end()) for m in SENTENCE.finditer(text) if m.end() > m.start()]
    if not sentences:
        sentences = [(0, len(text))]

    def hits(s: Span) -> int:
        return sum(1 for a, b in spans if a < s[1] and b > s[0])

    best = max(range(len(sentences)), key=lambda i: (hits(sentences[i]), -i)) if spans else 0
    lo, hi = best, best
    while True:
        grown = False
        if hi + 1 < len(sentences) and sentences[hi + 1][1] - sentences[lo][0] <= width:
            hi += 1
            grown = True
        if lo > 0 and sentences[hi][1] - sentences[lo - 1][0] <= width:
            lo -= 1
            grown = True
        if not grown:
            break
    start, end = sentences[lo][0], sentences[hi][1]
    if end - start > width * 2:  # one very long sentence: cut around the first match in it
        first = next((a for a, b in spans if a >= start and a < end), start)
        start = max(start, first - width // 3)
        end = min(end, start + width)
    return start, end


def window_and_spans(text: str, spans: list[Span], width: int) -> tuple[int, int, list[Span]]:
    """The snippet window, and the spans inside it relative to its start."""
    start, end = snippet_window(text, spans, width)
    inner = [
        (max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start
    ]
    return start, end, inner


def make_snippet(text: str, spans: list[Span], width: int = SNIPPET_CHARS) -> Markup:
    """An escaped snippet with <mark>ed matches and … where text was cut."""
    start, end, inner = window_and_spans(text, spans, width)
    body = render(text[start:end], inner, "<mark>", "</mark>", esc=True)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return Markup(prefix + body + suffix)


def snippet_plain(
    text: str, spans: list[Span], open_tag: str, close_tag: str, width: int = SNIPPET_CHARS
) -> str:
    """The same snippet as plain text with the given markers (for terminals)."""
    start, end, inner = window_and_spans(text, spans, width)
    body = render(text[start:end], inner, open_tag, close_tag, esc=False)
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
