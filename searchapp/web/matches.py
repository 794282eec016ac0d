"""Where a query matches inside a whole document, and how a paragraph is cited.

The search page highlights what the engine returns (`Hit.snippet`, `Hit.spans`); the
document page highlights every match of the query that led to it, with the same rules:
a term is marked verbatim, or by its words where all of them occur in a paragraph;
a phrase only verbatim; fuzzy mode marks each paragraph's closest stretch.
"""

from __future__ import annotations

from ..analysis import exact_key
from ..engine import Engine
from ..fuzzy import align
from ..highlight import SENTENCE, Span, term_spans
from ..plan import make_plan
from ..querylang import parse_query

QUOTE_CHARS = 160  # a longer paragraph is quoted by the sentence holding the match


def document_spans(
    engine: Engine, texts: dict[str, str], q: str, mode: str
) -> dict[str, list[Span]]:
    """Spans to mark in each paragraph (para_id → text) for the query `q` in `mode`."""
    parsed = parse_query(q, mode)
    if not parsed.positive:
        return {}
    if mode == "fuzzy":
        key = exact_key(parsed.positive[0].text)
        found = {pid: align(key, text) for pid, text in texts.items()} if key else {}
        return {pid: [match[1]] for pid, match in found.items() if match}
    needles = make_plan(parsed, {}, engine.segment, mode).needles()
    spans = {pid: term_spans(text, needles) for pid, text in texts.items()}
    return {pid: found for pid, found in spans.items() if found}


def quote_for(text: str, spans: list[Span], limit: int = QUOTE_CHARS) -> str:
    """The words to quote: the paragraph, or the sentence holding the first match."""
    text = text.strip()
    if len(text) <= limit:
        return text
    first = spans[0][0] if spans else 0
    for match in SENTENCE.finditer(text):
        if match.start() <= first < match.end() or (not spans and match.end() > match.start()):
            sentence = match.group().strip()
            return sentence if len(sentence) <= limit * 2 else sentence[: limit * 2] + "…"
    return text[:limit] + "…"


def cite_head(title: str, town: str, section_path: list[str]) -> str:
    """The part of a citation before the quote: 《title》（town，section）："""
    where = "，".join(part for part in (town, section_path[-1] if section_path else "") if part)
    return f"《{title}》（{where}）：" if where else f"《{title}》："


def citation(head: str, quote: str, link: str) -> str:
    """A citation ready to paste: 《title》（town，section）：“quote” link"""
    return f"{head}“{quote}” {link}"
