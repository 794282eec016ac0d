"""The document page: a whole report with its paragraphs' permalinks, and its source file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, render_template, request, send_file
from markupsafe import Markup

from ..config import Config
from ..errors import Gone, NotFound
from ..highlight import Span, highlight
from ..office import db, library
from ..office.overrides import FIELDS
from ..results import MODES, DocumentView
from ..search import load_document
from .links import permalink
from .matches import citation, cite_head, document_spans, quote_for
from .params import SearchParams, check_query
from .store import get_config, get_engine, index_meta

bp = Blueprint("documents", __name__)

MAX_DOC_ID_CHARS = 100


@dataclass
class ParagraphView:
    """A paragraph as the page shows it: marked text, level, link and citation."""

    para_id: str
    text: str
    html: Markup
    heading: bool
    level: int  # headings: 1 for the outermost level of the document
    section_path: list[str]
    matches: int
    permalink: str
    cite: str
    cite_head: str


@bp.get("/doc/<doc_id>")
def show(doc_id: str) -> str:
    """A report; with ?q= (and mode=) every match of that query is marked."""
    config = get_config()
    doc = find_document(doc_id)
    params = search_params(config)
    texts = {p["para_id"]: p["text"] for p in doc.paragraphs}
    spans = document_spans(get_engine(), texts, params.q, params.mode) if params.q else {}
    paragraphs = paragraph_views(doc, spans)
    return render_template(
        "document.html",
        doc=doc,
        params=params,
        paragraphs=paragraphs,
        toc=[p for p in paragraphs if p.heading],
        total_matches=sum(p.matches for p in paragraphs),
        source_available=source_path(corpus_dir(config), doc) is not None,
        correction_fields=FIELDS,
    )


@bp.get("/doc/<doc_id>/source")
def source(doc_id: str) -> Response:
    """The original file the report was read from, as a download."""
    doc = find_document(doc_id)
    path = source_path(corpus_dir(get_config()), doc)
    if path is None:
        raise NotFound(
            f"原始文件 {doc.source} 已不在语料目录中", hint="重建索引后，检索结果会随之更新"
        )
    return send_file(path, as_attachment=True, download_name=path.name)


def find_document(doc_id: str) -> DocumentView:
    """The report, or 404; 410 with a notice when it was removed in the browser."""
    if len(doc_id) > MAX_DOC_ID_CHARS:
        raise NotFound("没有找到这份文档", hint="文档编号太长")
    # removed answers 410 at once, while the index may hold it until the job's build
    notice = removed_notice(doc_id)
    if notice is not None:
        when = str(notice["removed_at"])[:16].replace("T", " ")
        raise Gone(
            f"《{notice['title']}》已于 {when} 由 {notice['removed_by']} 删除",
            hint="编辑可以在“文档管理”的回收站中恢复它",
        )
    doc = load_document(get_engine(), doc_id)
    if doc is None:
        raise NotFound("没有找到这份文档", hint="它可能已从语料中删除；请重新检索")
    return doc


def removed_notice(doc_id: str) -> dict[str, object] | None:
    """The removal of a report, if it was removed (None when there is no office database)."""
    data_dir = get_config().data_folder
    if not db.exists(data_dir):
        return None
    with db.connect(data_dir) as conn:
        return library.removed_notice(conn, doc_id)


def search_params(config: Config) -> SearchParams:
    """The query carried from a hit (q and mode); other search parameters do not apply here."""
    q = check_query(request.args.get("q", ""), config)
    mode = request.args.get("mode", "keyword")
    return SearchParams(q=q, mode=mode if mode in MODES else "keyword")


def corpus_dir(config: Config) -> Path:
    """The folder the live index was built from (recorded in its meta data)."""
    recorded = index_meta().get("corpus_dir")
    return Path(recorded) if recorded else config.corpus_dir


def source_path(corpus: Path, doc: DocumentView) -> Path | None:
    """The source file inside the corpus folder, or None (missing, or outside the folder)."""
    root = corpus.resolve()
    try:
        path = (root / doc.source).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def paragraph_views(doc: DocumentView, spans: dict[str, list[Span]]) -> list[ParagraphView]:
    """The paragraphs with their marks, heading levels (outermost = 1), links and citations."""
    depths = [len(p["section_path"]) for p in doc.paragraphs if p["heading"]]
    top = min(depths, default=1)
    views = []
    for p in doc.paragraphs:
        marks = spans.get(p["para_id"], [])
        link = permalink(doc.doc_id, p["para_id"])
        head = cite_head(doc.title, doc.town, p["section_path"])
        views.append(
            ParagraphView(
                para_id=p["para_id"],
                text=p["text"].strip(),
                html=highlight(p["text"], marks),
                heading=p["heading"],
                level=max(1, len(p["section_path"]) - top + 1),
                section_path=p["section_path"],
                matches=len(marks),
                permalink=link,
                cite=citation(head, quote_for(p["text"], marks), link),
                cite_head=head,
            )
        )
    return views
