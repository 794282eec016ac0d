"""Links the templates build: search URLs, hit links, permalinks and citations."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from markupsafe import Markup

from ..results import Hit
from .matches import citation, cite_head, quote_for
from .params import SearchParams


def search_url(params: SearchParams, **changes: Any) -> str:
    """The search page's URL for these parameters (with changes)."""
    if changes:
        params = params.with_changes(**changes)
    return url_for("search.results", **params.to_args())


def hit_url(hit: Hit, params: SearchParams) -> str:
    """A hit's paragraph in its document, with the query's matches marked there."""
    args: dict[str, Any] = {"q": params.q} if params.q else {}
    if params.q and params.mode != "keyword":
        args["mode"] = params.mode
    return url_for("documents.show", doc_id=hit.doc_id, _anchor=hit.para_id, **args)


def permalink(doc_id: str, para_id: str) -> str:
    """The absolute, permanent address of a paragraph: http://host/doc/<doc_id>#<para_id>."""
    return url_for("documents.show", doc_id=doc_id, _external=True) + "#" + para_id


def hit_cite_head(hit: Hit) -> str:
    return cite_head(hit.title, hit.town, hit.section_path)


def hit_citation(hit: Hit) -> str:
    """《title》（town，section）：“the paragraph or its matching sentence” permalink"""
    return citation(
        hit_cite_head(hit), quote_for(hit.text, hit.spans), permalink(hit.doc_id, hit.para_id)
    )


def snippet(hit: Hit) -> Markup:
    """The engine's snippet: escaped text with <mark>s (the only markup from a hit)."""
    return Markup(hit.snippet)


def page_window(current: int, pages: int, width: int = 2) -> list[int | None]:
    """Page numbers to link, None where some are left out: 1 … 4 5 6 … 20."""
    shown = {1, pages, *range(current - width, current + width + 1)}
    numbers = sorted(n for n in shown if 1 <= n <= pages)
    window: list[int | None] = []
    for n in numbers:
        if window and n - (window[-1] or 0) > 1:
            window.append(None)
        window.append(n)
    return window


def register_links(app: Flask) -> None:
    for func in (search_url, hit_url, permalink, hit_citation, hit_cite_head, snippet, page_window):
        app.add_template_global(func)
