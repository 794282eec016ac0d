"""The status page: the live index generation and what became of each source file."""

from __future__ import annotations

from flask import Blueprint, render_template

from .store import index_status

bp = Blueprint("status", __name__)


@bp.get("/status")
def show() -> str:
    data = index_status()
    files = data["files"]
    return render_template(
        "status.html",
        status=data,
        files=files,
        indexed=sum(1 for f in files if f["status"] == "indexed"),
        skipped=sum(1 for f in files if f["status"] != "indexed"),
        warned=sum(1 for f in files if f["warnings"]),
        scanned=sum(1 for f in files if f["ocr_pages"]),
    )
