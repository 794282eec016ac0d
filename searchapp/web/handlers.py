"""One error handler: error.html for pages, JSON {"error", "hint", "status"} for the API."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from ..errors import SearchAppError

log = logging.getLogger(__name__)

TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "没有权限",
    404: "找不到页面",
    405: "不支持的请求方式",
    409: "索引正在更新",
    410: "文档已删除",
    413: "请求太大",
    429: "请求太频繁",
    500: "服务器出错了",
    503: "索引暂不可用",
}
MESSAGES = {
    400: "请求的格式有误",
    404: "这个地址没有对应的页面",
    405: "这个地址不接受这种请求方式",
    413: "上传的内容太大",
    500: "服务器处理请求时出错",
}
JSON_PATHS = ("/api/", "/healthz")


def register_error_handler(app: Flask) -> None:
    app.register_error_handler(Exception, handle_error)


def handle_error(exc: Exception) -> Response | HTTPException | tuple[Response | str, int]:
    """Turn any exception into a page or a JSON error with the right status."""
    headers: dict[str, str] = {}
    if isinstance(exc, SearchAppError):
        status, message, hint = exc.status, exc.message, exc.hint
    elif isinstance(exc, HTTPException):
        if exc.code is None or exc.code < 400:
            return exc  # redirects raised by routing
        status = exc.code
        message, hint = MESSAGES.get(status, exc.name), None
        allow = exc.get_response().headers.get("Allow")
        if allow:
            headers["Allow"] = allow
    else:
        log.exception("error while serving %s", request.path)
        status, message = 500, MESSAGES[500]
        hint = "请稍后再试；如果问题持续，请联系管理员"
    if wants_json():
        response = jsonify(error=message, hint=hint, status=status)
    else:
        response = Response(render_error_page(status, message, hint))
    response.headers.update(headers)
    # never kept by a browser: a 410 of a removed report turns 200 when it is restored,
    # a 404 or 503 when the index catches up
    response.headers["Cache-Control"] = "no-store"
    return response, status


def render_error_page(status: int, message: str, hint: str | None) -> str:
    title = TITLES.get(status, "出错了")
    try:
        return render_template("error.html", status=status, title=title, message=message, hint=hint)
    except Exception:  # a broken template must not hide the original error
        log.exception("cannot render error.html")
        return str(
            Markup(
                "<!doctype html><html lang=zh-CN><title>{0}</title><h1>{0}</h1><p>{1}</p>"
            ).format(title, message)
        )


def wants_json() -> bool:
    return request.path.startswith(JSON_PATHS)
