"""Snippets and highlights: the only place that produces markup.

Matches are found in the normalised text without white space (the exact channel's
view) and mapped back to the original characters, so a highlight covers exactly the
characters the document shows. Everything else is escaped.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
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
    spans: list[Span] = []
    for needle in {needle_units(n) for n in needles}:
        spans += needle_spans(exact, needle)
    return merge_spans(spans)


def needle_spans(exact: tuple[str, Sequence[int]], needle: str) -> list[Span]:
    """Every occurrence of one needle in exact-match form, in order (overlaps kept)."""
    units, offsets = exact
    spans: list[Span] = []
    if not needle:
        return spans
    last = len(needle) - 1
    start = units.find(needle)
    while start >= 0:
        spans.append((offsets[start], offsets[start + last] + 1))
        start = units.find(needle, start + 1)
    return spans


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
        found = needle_spans(exact, needle_units(verbatim))
        if not found and parts:
            per_part = [spans_in(exact, [part]) for part in parts]
            if all(per_part):
                found = [span for part_spans in per_part for span in part_spans]
        spans += found
    return merge_spans(spans)


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


MARKS = "\ufdd0\ufdd1"  # Unicode noncharacters: where tags go while a text is escaped
NOT_MARKS = str.maketrans(MARKS, "\ufffd\ufffd")  # a text's own noncharacters (same length)


def render(text: str, spans: list[Span], open_tag: str, close_tag: str, esc: bool) -> str:
    """The text with open/close tags around each span (merged, sorted), escaped when
    `esc`: marks go in first and the whole is escaped once (hit pages make thousands)."""
    if esc and (MARKS[0] in text or MARKS[1] in text):
        text = text.translate(NOT_MARKS)
    opening, closing = (MARKS[0], MARKS[1]) if esc else (open_tag, close_tag)
    out = []
    pos = 0
    for start, end in spans:
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        out += (text[pos:start], opening, text[start:end], closing)
        pos = end
    out.append(text[pos:])
    if not esc:
        return "".join(out)
    return escape("".join(out)).replace(MARKS[0], open_tag).replace(MARKS[1], close_tag)


def highlight(text: str, spans: list[Span]) -> Markup:
    """The whole text, escaped, with <mark> around each span."""
    return Markup(render(text, spans, "<mark>", "</mark>", esc=True))


def snippet_window(text: str, spans: list[Span], width: int = SNIPPET_CHARS) -> Span:
    """A window of whole sentences around the best match, about `width` characters."""
    if len(text) <= width * 1.4:
        return 0, len(text)
    sentences = [(m.start(), m.end()) for m in SENTENCE.finditer(text)]  # cover the text
    if not sentences:
        sentences = [(0, len(text))]
    best = busiest(sentences, spans)
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


def busiest(sentences: list[Span], spans: list[Span]) -> int:
    """The first of the sentences (in order, adjoining) that most spans overlap."""
    counts = [0] * len(sentences)
    ends = [end for _, end in sentences]
    for start, end in spans:
        i = bisect_right(ends, start)  # the sentence holding the span's first character
        while i < len(sentences) and sentences[i][0] < end:
            counts[i] += 1
            i += 1
    return counts.index(max(counts))


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
