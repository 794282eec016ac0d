"""Basic authentication of the Solr client, against a small stand-in for Solr on 127.0.0.1.

The stand-in answers like Solr's BasicAuthPlugin: 401 without the right `Authorization`
header, JSON otherwise, and records what every request carried. No cluster is needed.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from searchapp.cluster import free_port, redact_url, solr_request, split_credentials
from searchapp.errors import BackendUnavailable, ClusterError
from searchapp.solr import client as solr_client
from searchapp.solr.client import AuthenticationFailed, SolrClient

USER = "searcher"
PASSWORD = "p@ss:w/rd 密"  # every character that needs percent-encoding in a URL
QUOTED = "p%40ss%3Aw%2Frd%20%E5%AF%86"


@dataclass
class Seen:
    """What the stand-in received."""

    paths: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    live_nodes: list[str] = field(default_factory=list)


def expected_header() -> str:
    return "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode("ascii")


@pytest.fixture()
def fake_solr() -> Iterator[tuple[str, Seen]]:
    """A server on 127.0.0.1 that wants USER/PASSWORD; (its host:port, what it saw)."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.paths.append(self.path)
            seen.authorizations.append(self.headers.get("Authorization"))
            if self.headers.get("Authorization") != expected_header():
                self.answer(401, {"error": {"msg": "require authentication", "code": 401}})
            elif "CLUSTERSTATUS" in self.path or "/admin/collections" in self.path:
                self.answer(200, {"cluster": {"live_nodes": seen.live_nodes}})
            else:
                self.answer(200, {"responseHeader": {"status": 0}, "response": {"numFound": 7}})

        def do_GET(self) -> None:
            self.do_POST()

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="solr"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_credentials_in_the_url_become_a_basic_header(fake_solr: tuple[str, Seen]):
    host, seen = fake_solr
    client = SolrClient(f"http://{USER}:{QUOTED}@{host}/solr/", "reports")
    assert client.urls == [f"http://{host}/solr"]
    found = client.select([("q", "*:*"), ("rows", "0")])
    assert found["response"]["numFound"] == 7
    assert seen.authorizations == [expected_header()]
    assert seen.paths[0].startswith("/solr/reports/select")
    assert PASSWORD not in repr(vars(client)).replace(expected_header(), "")


def test_failover_nodes_get_the_credentials_too(fake_solr: tuple[str, Seen]):
    host, seen = fake_solr
    dead = f"127.0.0.1:{free_port()}"
    seen.live_nodes = [f"{host}_solr", f"{dead}_solr"]
    client = SolrClient(f"http://{USER}:{QUOTED}@{host}/solr", "reports")
    client.discover_nodes()
    assert client.urls == [f"http://{host}/solr", f"http://{dead}/solr"]
    client.urls.reverse()  # the dead node first: the request fails over to the live one
    client.select([("q", "*:*")])
    assert seen.authorizations == [expected_header(), expected_header()]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"http://{USER}:wrong-{QUOTED}@HOST/solr", "拒绝了所给的用户名与密码"),
        ("http://HOST/solr", "要求认证，但地址中没有用户名与密码"),
    ],
)
def test_refused_credentials_give_a_clear_error_without_the_password(
    url: str, message: str, fake_solr: tuple[str, Seen], caplog: pytest.LogCaptureFixture
):
    host, seen = fake_solr
    client = SolrClient(url.replace("HOST", host), "reports")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationFailed, match=message) as raised:
        client.select([("q", "*:*")])
    assert raised.value.status == 503 and "http://用户:密码@主机:8983/solr" in str(raised.value)
    assert isinstance(raised.value, BackendUnavailable)
    text = str(raised.value) + caplog.text
    assert PASSWORD not in text and QUOTED not in text and "wrong" not in text
    assert len(seen.paths) == 1


def test_refused_updates_are_not_tried_again(
    fake_solr: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
):
    host, seen = fake_solr
    monkeypatch.setattr(solr_client, "UPDATE_PAUSE", 0.01)
    client = SolrClient(f"http://{USER}:nope@{host}/solr", "reports")
    with pytest.raises(AuthenticationFailed, match="401"):
        client.update(b'{"commit": {}}')
    assert len(seen.paths) == 1  # a wrong password does not get better by waiting


@pytest.mark.parametrize(
    ("url", "base", "user", "password"),
    [
        ("http://127.0.0.1:8983/solr", "http://127.0.0.1:8983/solr", None, None),
        ("https://a:b@solr.example:8983/solr/", "https://solr.example:8983/solr", "a", "b"),
        (f"http://{USER}:{QUOTED}@h/solr", "http://h/solr", USER, PASSWORD),
        ("http://only-user@[::1]:8983/solr", "http://[::1]:8983/solr", "only-user", ""),
    ],
)
def test_split_credentials(url: str, base: str, user: str | None, password: str | None):
    clean, header = split_credentials(url)
    assert clean == base
    if user is None:
        assert header is None
    else:
        assert header is not None and header.startswith("Basic ")
        assert base64.b64decode(header[6:]).decode() == f"{user}:{password}"


def test_redact_url_masks_the_password_only():
    assert redact_url(f"http://{USER}:{QUOTED}@h:8983/solr") == f"http://{USER}:***@h:8983/solr"
    assert redact_url("http://h:8983/solr") == "http://h:8983/solr"


def test_cluster_helpers_send_the_credentials_and_never_show_them(fake_solr: tuple[str, Seen]):
    """searchapp index calls the Collections/Configsets helpers first: they need the
    header too, and their errors must not print the password."""
    host, seen = fake_solr
    seen.live_nodes = [f"{host}_solr"]
    answer = solr_request(f"http://{USER}:{QUOTED}@{host}/solr", "/admin/collections",
                          {"action": "CLUSTERSTATUS"})  # fmt: skip
    assert answer["cluster"]["live_nodes"] == [f"{host}_solr"]
    assert seen.authorizations[-1] == expected_header()
    with pytest.raises(ClusterError) as refused:
        solr_request(f"http://{USER}:wrong@{host}/solr", "/admin/collections")
    assert "401" in str(refused.value) and "wrong" not in str(refused.value)
    dead = f"127.0.0.1:{free_port()}"
    with pytest.raises(ClusterError) as unreachable:
        solr_request(f"http://{USER}:{QUOTED}@{dead}/solr", "/admin/collections")
    assert QUOTED not in str(unreachable.value) and PASSWORD not in str(unreachable.value)
    assert "***" in str(unreachable.value)
