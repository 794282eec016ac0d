"""The JSON of every API response, through orjson.

Flask's own provider goes through the standard `json` module, 3–4× slower on the large
answers of /api/towns and /api/search?all (megabytes of UTF-8). Output is the same JSON:
UTF-8 (no \\u escapes but for a lone surrogate, which orjson refuses and the standard
library escapes: `results.json_bytes`), keys in the order they were made, compact. Values
the standard provider knows beyond JSON's own (dates, dataclasses, `Markup`) are
converted the same way.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider
from werkzeug.http import http_date

from ..results import json_bytes


def encode_other(value: Any) -> Any:
    """What a value orjson does not know stands for in JSON (as Flask's provider does)."""
    if isinstance(value, date):
        return http_date(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class OrjsonProvider(JSONProvider):
    """`app.json` for searchapp: orjson for responses and request bodies."""

    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return json_bytes(obj, default=encode_other).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        data = json_bytes(self._prepare_response_obj(args, kwargs), default=encode_other)
        return self._app.response_class(data, mimetype=self.mimetype)
