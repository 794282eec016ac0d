"""The office's pages and JSON writes: documents uploaded, corrected, removed, restored.

    /manage                      editors: upload, the jobs, the trash
    /manage/audit                admins: every change, with revert
    POST /api/documents          multipart `files` → 202 {"job": ID, "files": [...]}
    GET  /api/jobs/ID            {"state": "queued|running|done|failed", "files": [...]}
    PATCH /api/doc/DOC_ID        JSON of the fields to correct
    DELETE /api/doc/DOC_ID       the report's file to the trash
and the same as forms on the pages (POST, with the session's CSRF token).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from ..errors import IndexMissing, NotFound, SearchAppError
from ..office import db, jobs, library
from ..office.accounts import User
from ..office.library import TooLarge
from ..office.overrides import FIELDS
from ..office.service import Office
from .auth import current_user, require
from .documents import find_document
from .store import get_engine

bp = Blueprint("manage", __name__)

OFFICE = "searchapp-office"


def get_office() -> Office:
    office: Office = current_app.extensions[OFFICE]
    return office


def signed_in() -> User:
    user = current_user()
    assert user is not None  # every view here is behind require()
    return user


def indexed_files() -> dict[str, str]:
    """path → content hash of every file the live index holds (none before a first build)."""
    try:
        files = get_engine().file_reports()
    except IndexMissing:
        return {}
    return {f["path"]: f.get("content_hash", "") for f in files}


def uploaded_files() -> list[tuple[str, Any]]:
    """The request's files, within the count and size limits (413 otherwise)."""
    config = get_office().config
    # the whole request may hold every file at its largest; each is checked below. Refused
    # before parsing when the length says so (a parse cut short leaves its temporary files)
    limit = (config.max_upload_mb * config.max_upload_files + 1) << 20
    if (request.content_length or 0) > limit:
        raise TooLarge(
            f"一次上传的内容超过 {limit >> 20} MB",
            hint=f"每个文件不超过 {config.max_upload_mb} MB，一次最多 {config.max_upload_files} 个",
        )
    request.max_content_length = limit  # a body without a length is cut off there
    files = [f for f in request.files.getlist("files") if f.filename]
    if not files:
        raise SearchAppError("没有收到文件", hint="表单字段 files，可一次选多个文件")
    if len(files) > config.max_upload_files:
        raise TooLarge(
            f"一次最多上传 {config.max_upload_files} 个文件（收到 {len(files)} 个）",
            hint="请分几次上传",
        )
    limit = config.max_upload_mb << 20
    for f in files:
        f.stream.seek(0, 2)
        size = f.stream.tell()
        f.stream.seek(0)
        if size > limit:
            raise TooLarge(
                f"{f.filename} 超过每个文件 {config.max_upload_mb} MB 的上限",
                hint="没有保存任何文件；请去掉这个文件后再上传",
            )
    return [(f.filename or "", f.stream) for f in files]


def job_or_404(job_id: int) -> dict[str, Any]:
    with db.connect(get_office().data_dir) as conn:
        job = jobs.get_job(conn, job_id)
    if job is None:
        raise NotFound(f"没有编号为 {job_id} 的任务")
    return job


@bp.get("/manage")
@require("editor")
def show() -> str:
    office = get_office()
    with db.connect(office.data_dir) as conn:
        recent = jobs.recent_jobs(conn)
        trash = library.trash_list(conn)
    config = office.config
    return render_template(
        "manage.html",
        jobs=recent,
        trash=trash,
        max_upload_mb=config.max_upload_mb,
        max_upload_files=config.max_upload_files,
        job_id=request.args.get("job", type=int),
    )


@bp.post("/manage/upload")
@require("editor")
def upload_form() -> Response:
    job, saved = get_office().upload(signed_in(), uploaded_files(), indexed_files())
    for item in saved:
        if item.status != "saved":
            flash(f"{item.name}：{item.message}", "warn")
    return redirect(url_for("manage.show", job=job) if job else url_for("manage.show"))


@bp.post("/api/documents")
@require("editor")
def upload() -> tuple[Response, int]:
    job, saved = get_office().upload(signed_in(), uploaded_files(), indexed_files())
    body = {"job": job, "files": [u.to_json() for u in saved]}
    return jsonify(body), 202 if job else 200


@bp.get("/api/jobs/<int:job_id>")
@require("editor")
def job(job_id: int) -> Response:
    return jsonify(job_or_404(job_id))


@bp.patch("/api/doc/<doc_id>")
@require("editor")
def correct(doc_id: str) -> Response:
    doc = find_document(doc_id)
    changes = request.get_json(silent=True)
    if changes is None:
        raise SearchAppError("请求体应是 JSON", hint='例如 {"town": "某某镇"}')
    changed, job = get_office().correct(signed_in(), doc, changes)
    return jsonify({"doc_id": doc_id, "changed": changed, "job": job})


@bp.post("/doc/<doc_id>/correct")
@require("editor")
def correct_form(doc_id: str) -> Response:
    doc = find_document(doc_id)
    changes = {name: request.form[name] for name in FIELDS if name in request.form}
    try:
        changed, job = get_office().correct(signed_in(), doc, changes)
    except SearchAppError as exc:
        flash(str(exc), "warn")
        return redirect(url_for("documents.show", doc_id=doc_id))
    if changed:
        labels = "、".join(FIELDS[name] for name in changed)
        flash(f"已更正{labels}；索引更新后检索结果随之改变（任务 {job}）", "ok")
    else:
        flash("没有改动", "info")
    return redirect(url_for("documents.show", doc_id=doc_id, job=job))


@bp.delete("/api/doc/<doc_id>")
@require("editor")
def remove(doc_id: str) -> Response:
    trash_id, removed, job = get_office().remove(signed_in(), find_document(doc_id))
    return jsonify({"doc_id": doc_id, "removed": removed, "trash": trash_id, "job": job})


@bp.post("/doc/<doc_id>/remove")
@require("editor")
def remove_form(doc_id: str) -> Response:
    doc = find_document(doc_id)
    if request.form.get("confirm") != "yes":
        flash("请勾选“确认删除”后再删除", "warn")
        return redirect(url_for("documents.show", doc_id=doc_id))
    _, removed, job = get_office().remove(signed_in(), doc)
    flash(f"已将 {doc.source}（{len(removed)} 份报告）移入回收站", "ok")
    return redirect(url_for("manage.show", job=job))


@bp.post("/manage/trash/<int:trash_id>/restore")
@require("editor")
def restore(trash_id: int) -> Response:
    rel, job = get_office().restore(signed_in(), trash_id)
    flash(f"已恢复 {rel}", "ok")
    return redirect(url_for("manage.show", job=job))


@bp.get("/manage/audit")
@require("admin")
def audit() -> str:
    with db.connect(get_office().data_dir) as conn:
        rows = db.audit_trail(conn)
    return render_template("audit.html", rows=rows, labels=FIELDS)


@bp.post("/manage/audit/<int:audit_id>/revert")
@require("admin")
def revert(audit_id: int) -> Response:
    job = get_office().revert(signed_in(), audit_id)
    flash(f"已撤销更正 {audit_id}（任务 {job}）", "ok")
    return redirect(url_for("manage.audit"))


def openapi_paths(error: dict[str, str]) -> dict[str, Any]:
    """The office's endpoints in the OpenAPI document (api.py merges them in)."""
    writes = {"401": error, "403": error}
    doc_id = {"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}}
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    secured = [{"bearer": []}, {"session": []}]
    fields = {name: {"type": "string", "description": label} for name, label in FIELDS.items()}
    fields["type"] = {"type": "string", "description": "同 doc_type"}
    return {
        "/api/documents": {
            "post": {
                "summary": "上传报告（编辑）：保存到语料的 uploads/ 并在后台建立索引",
                "security": secured,
                "requestBody": {
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "files": {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    }
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "202": {"description": '{"job": ID, "files": [name, status, path, …]}'},
                    "200": {"description": "没有新文件（都重复或被拒绝）：job 为 null"},
                    "400": error,
                    "413": error,
                    **writes,
                },
            }
        },
        "/api/jobs/{job_id}": {
            "get": {
                "summary": "后台任务：state 为 queued、running、done、failed；files 为各文件结果",
                "security": secured,
                "parameters": [job_id],
                "responses": {
                    "200": {"description": "id、state、done、total、files、error"},
                    "404": error,
                    **writes,
                },
            }
        },
        "/api/doc/{doc_id}": {
            "patch": {
                "summary": "更正报告信息（编辑）：按文件内容保存，每次建立索引都会应用",
                "security": secured,
                "parameters": [doc_id],
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"type": "object", "properties": fields}}
                    }
                },
                "responses": {
                    "200": {"description": '{"doc_id", "changed": [字段], "job": ID 或 null}'},
                    "400": error,
                    "404": error,
                    "410": error,
                    **writes,
                },
            },
            "delete": {
                "summary": "删除报告（编辑）：文件移入回收站，固定链接返回 410，可恢复",
                "security": secured,
                "parameters": [doc_id],
                "responses": {
                    "200": {
                        "description": '{"doc_id", "removed": [doc_id], "trash": ID, "job": ID}'
                    },
                    "404": error,
                    "410": error,
                    **writes,
                },
            },
        },
    }


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "searchapp users token NAME"},
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "searchapp_session",
        "description": "登录后的会话；写操作另需 X-CSRF-Token 请求头",
    },
}
