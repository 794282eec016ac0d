"""An office app over a small corpus in a temporary folder, and signed-in clients."""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
from flask import Flask
from flask.testing import FlaskClient

from searchapp.build import index_corpus
from searchapp.config import Config
from searchapp.office import accounts, db
from searchapp.web import create_app

PASSWORDS = {"ed": "editor password 1", "ad": "admin password 1", "re": "reader password 1"}
ROLES = {"ed": "editor", "ad": "admin", "re": "reader"}
CORPUS = {
    "青山镇2023年政府工作报告.txt": (
        "青山镇2023年政府工作报告\n各位代表：\n一、2022年工作回顾\n"
        "过去一年，青山镇推进三清两建，人居环境明显改善。\n"
        "二、2023年工作安排\n持续推进垃圾分类和厕所革命。\n"
    ),
}


def make_docx(title: str, *paragraphs: str) -> bytes:
    document = docx.Document()
    document.add_heading(title, 0)
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@dataclass
class Office:
    config: Config
    app: Flask

    def client(self, name: str | None = None) -> FlaskClient:
        """A test client, signed in as `name` when given."""
        client = self.app.test_client()
        if name:
            token = csrf(client.get("/login").text)
            form = {"name": name, "password": PASSWORDS[name], "csrf_token": token}
            response = client.post("/login", data=form)
            assert response.status_code == 302, response.text
        return client

    def headers(self, client: FlaskClient) -> dict[str, str]:
        """The CSRF header of a signed-in client's session."""
        return {"X-CSRF-Token": csrf(client.get("/manage").text)}

    def wait(self) -> None:
        assert self.app.extensions["searchapp-office"].runner.wait_idle(120)

    def search(self, q: str, **params: Any) -> dict[str, Any]:
        query = {"q": q, "mode": "phrase", **params}
        response = self.app.test_client().get("/api/search", query_string=query)
        assert response.status_code == 200, response.text
        return response.json  # type: ignore[return-value]


def csrf(page: str) -> str:
    found = re.search(r'name="csrf(?:_token|-token)" (?:value|content)="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def make_office(root: Path, corpus: dict[str, str] | None = None, **settings: Any) -> Office:
    host = settings.pop("host", None)
    folder = root / "corpus"
    if corpus is None:
        shutil.copytree(Path(__file__).resolve().parent.parent / "seeds", folder)
    else:
        folder.mkdir(parents=True)
        for name, text in corpus.items():
            (folder / name).write_text(text, encoding="utf-8")
    config = Config(corpus_dir=folder, index_dir=root / "index", index_procs=1, **settings)
    index_corpus(config)
    with db.connect(config.data_folder) as conn:
        for name, password in PASSWORDS.items():
            accounts.add_user(conn, name, ROLES[name], password)
    return Office(config, create_app(config, host=host))
