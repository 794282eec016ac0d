"""The web front end: `create_app()` wires the blueprints to one configured index.

    search      /  and  /search          the search page (list or by town)
    documents   /doc/<id>, /doc/<id>/source   a report, its permalinks, its source file
    similar     /similar, /api/similar   how other reports phrased a sentence
    status      /status                  the index and its per-file report
    api         /api/search, /api/doc/<id>, /api/status, /healthz, /api/openapi.json
    export      /export?…&format=csv|xlsx   every hit of a search as a table
    trend       /trend, /trend/table   a phrase across years and towns
    auth        /login, /logout          sign-in (sessions, API tokens, CSRF: auth.py)
    manage      /manage, /manage/audit, POST /api/documents, GET /api/jobs/<id>,
                PATCH and DELETE /api/doc/<id>   the office's writes (editors, admins)

Templates come from the package `searchapp.templates` (the project's top-level
`templates/` folder, installed under that name); CSS and JS from `static/` beside this
module. Both are found through the installed package, never through the working folder.
"""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from flask import Flask, Response, current_app, g, request

from ..build import index_corpus
from ..config import Config
from ..memory import release_after_answer
from ..office.jobs import Runner
from ..office.service import Office
from ..results import MODES
from . import api, auth, documents, export, manage, search, similar, status, trend
from .auth import init_auth
from .handlers import register_error_handler
from .jsonio import OrjsonProvider
from .links import register_links
from .manage import OFFICE
from .params import (
    FIELD_LABELS,
    FILTER_LABELS,
    FILTERS,
    LEVEL_LABELS,
    MODE_LABELS,
    SCOPE_LABELS,
    SORT_LABELS,
    SearchParams,
)
from .store import init_store

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(
    config: Config | None = None,
    test_config: dict[str, Any] | None = None,
    host: str | None = None,
) -> Flask:
    """The Flask application serving `config`'s index (from the environment when None).

    `host` is the address the server listens on: with the `reading` setting "auto",
    reading is open on a loopback address and needs a sign-in on any other."""
    config = config or Config.from_env()
    app = Flask(__name__, template_folder=template_folder())
    app.config.update(SEARCHAPP=config, MAX_CONTENT_LENGTH=64 * 1024)
    if test_config:
        app.config.update(test_config)
    app.config["DEBUG"] = False  # never: the debugger runs code from the browser
    app.debug = False
    app.json = OrjsonProvider(app)  # UTF-8, keys as made (facets are ordered by count)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    init_store(app, config)
    init_auth(app, config, host)
    runner = Runner(config, lambda cfg, progress: index_corpus(cfg, progress=progress))
    app.extensions[OFFICE] = Office(config, runner)
    app.extensions[OFFICE].resume()
    for module in (search, documents, similar, status, api, export, trend, auth, manage):
        app.register_blueprint(module.bp)
    register_error_handler(app)
    register_links(app)
    app.jinja_env.globals.update(
        mode_labels=MODE_LABELS,
        filter_labels=FILTER_LABELS,
        field_labels=FIELD_LABELS,
        filter_names=FILTERS,
        scope_labels=SCOPE_LABELS,
        sort_labels=SORT_LABELS,
        level_labels=LEVEL_LABELS,
        filter_count=lambda params: sum(len(params.values(name)) for name in FILTERS),
    )
    app.context_processor(template_context)
    app.after_request(add_security_headers)
    app.before_request(note_start)
    app.after_request(release_after_large_answers)
    return app


def template_folder() -> str:
    """The folder of the installed `searchapp.templates` package."""
    return str(resources.files("searchapp.templates"))


def template_context() -> dict[str, Any]:
    """Defaults every page's header needs (a page's own values take precedence)."""
    mode = request.args.get("mode", "keyword")
    return {
        "params": SearchParams(
            q=request.args.get("q", ""), mode=mode if mode in MODES else "keyword"
        ),
        "max_query_chars": current_app.config["SEARCHAPP"].max_query_chars,
    }


LARGE_ANSWER_SECONDS = 0.5  # an answer this slow went over many hits (towns, trend)


def note_start() -> None:
    g.started = time.perf_counter()


def release_after_large_answers(response: Response) -> Response:
    """Once a slow or streamed answer (an export) has gone, hand the memory it freed
    back to the system (memory.py): else the server keeps its largest answer's peak."""
    if request.endpoint == "static":
        return response
    slow = time.perf_counter() - g.get("started", time.perf_counter()) > LARGE_ANSWER_SECONDS
    if slow or response.is_streamed:
        engine = g.get("engine")  # the one this answer read (web/store.py)
        response.call_on_close(lambda: release_after_answer(engine))
    return response


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
