"""Precedent wording on the web: /similar (a pasted text or a paragraph) and /api/similar."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from ..errors import NotFound
from ..search import load_document
from ..similar import SimilarResult, find_similar
from .params import BadParameter
from .store import get_engine

bp = Blueprint("similar", __name__)

MAX_TEXT_CHARS = 1000


def similar_request() -> tuple[str, str | None, SimilarResult | None]:
    """The text to compare (pasted, or a paragraph by doc and para id) and its results."""
    text = request.args.get("text", "").strip()
    doc_id = request.args.get("doc", "").strip()
    para_id = request.args.get("para", "").strip()
    exclude = None
    if doc_id and para_id and not text:
        doc = load_document(get_engine(), doc_id)
        para = next((p for p in doc.paragraphs if p["para_id"] == para_id), None) if doc else None
        if para is None:
            raise NotFound("没有找到这个段落", hint="链接可能来自旧版本的索引，请重新检索")
        text, exclude = para["text"], doc_id
    if len(text) > MAX_TEXT_CHARS:
        raise BadParameter(
            f"文字太长（{len(text)} 字），最多 {MAX_TEXT_CHARS} 字", hint="请只粘贴一两句话"
        )
    if not text:
        return "", exclude, None
    return text, exclude, find_similar(get_engine(), text, exclude_doc=exclude)


@bp.get("/similar")
def show() -> str:
    """A form for a draft sentence, and how other reports phrased it, grouped by town."""
    text, exclude, result = similar_request()
    return render_template("similar.html", text=text, exclude=exclude, result=result)


@bp.get("/api/similar")
def api() -> Response:
    """The same as JSON: sentences best first, and grouped by town."""
    text, _, result = similar_request()
    return jsonify(result.to_json() if result else SimilarResult(text).to_json())
