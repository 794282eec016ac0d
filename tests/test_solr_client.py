"""The Solr client against stand-in nodes (no cluster): which node answers when others time
out, answer 5xx or vanish; the node list read again; Solr's version checked."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from searchapp.cluster import free_port
from searchapp.errors import BackendUnavailable
from searchapp.solr import client as solr_client
from searchapp.solr.client import SolrClient, SolrTooOld, parse_version

ANSWER = {"responseHeader": {"status": 0}, "response": {"numFound": 7}}


@dataclass
class Node:
    """A stand-in Solr node: how it answers searches, what it says of the cluster."""

    status: int = 200  # of searches and updates
    delay: float = 0.0  # seconds before it answers them
    version: str = "9.10.1"
    live_nodes: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    url: str = ""

    @property
    def name(self) -> str:  # as live_nodes spells it
        return self.url.removeprefix("http://").replace("/solr", "_solr")


@pytest.fixture()
def nodes() -> Iterator[list[Node]]:
    """Three stand-in nodes on 127.0.0.1, each listing all three as live."""
    servers, made = [], []
    for _ in range(3):
        node = Node()
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler(node))
        node.url = f"http://127.0.0.1:{server.server_address[1]}/solr"
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        made.append(node)
    for node in made:
        node.live_nodes = [n.name for n in made]
    try:
        yield made
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def handler(node: Node) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            node.paths.append(self.path)
            if "/admin/collections" in self.path:
                self.answer(200, {"cluster": {"live_nodes": node.live_nodes}})
            elif "/admin/info/system" in self.path:
                self.answer(200, {"lucene": {"solr-spec-version": node.version}})
            else:
                time.sleep(node.delay)
                body = ANSWER if node.status == 200 else {"error": {"msg": "boom", "code": 1}}
                self.answer(node.status, body)

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client gave up waiting
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def searches(node: Node) -> int:
    return sum("/select" in p for p in node.paths)


def test_a_node_that_times_out_is_passed_over_and_tried_last(nodes: list[Node]):
    slow, fine, _ = nodes
    slow.delay = 2.0
    client = SolrClient(slow.url, "reports", timeout=0.3)
    client.connect()
    assert client.urls[0] == slow.url
    assert client.select([("q", "*:*")])["response"]["numFound"] == 7
    assert client.urls[-1] == slow.url  # demoted: the next search does not wait for it
    client.select([("q", "*:*")])
    assert searches(slow) == 1 and searches(fine) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_answer_sends_the_request_to_another_node(nodes: list[Node], status: int):
    nodes[0].status = status
    client = SolrClient(nodes[0].url, "reports")
    client.connect()
    assert client.select([("q", "*:*")])["response"]["numFound"] == 7
    assert searches(nodes[0]) == 1 and searches(nodes[1]) == 1


def test_a_bad_request_is_not_sent_to_every_node(nodes: list[Node]):
    for node in nodes:
        node.status = 400
    client = SolrClient(nodes[0].url, "reports")
    client.connect()
    with pytest.raises(BackendUnavailable, match="400"):
        client.select([("q", "*:*")])
    assert [searches(n) for n in nodes] == [1, 0, 0]


def test_every_node_failing_gives_one_clear_error(nodes: list[Node]):
    for node in nodes:
        node.status = 503
    client = SolrClient(nodes[0].url, "reports")
    client.connect()
    with pytest.raises(BackendUnavailable, match="无法连接 Solr") as raised:
        client.select([("q", "*:*")])
    assert all(n.url in raised.value.message for n in nodes)
    assert [searches(n) for n in nodes] == [1, 1, 1]  # each once, even after the re-read


def test_when_every_known_node_fails_the_node_list_is_read_again(nodes: list[Node]):
    """The client knew two nodes; both now fail searches (one gone, one without its
    replicas), and the cluster has a third: it is found and answers."""
    first, second, third = nodes
    client = SolrClient(first.url, "reports")
    client.urls = [first.url, f"http://127.0.0.1:{free_port()}/solr"]  # a node since gone
    first.status = 503
    assert client.select([("q", "*:*")])["response"]["numFound"] == 7
    assert searches(third) + searches(second) == 1
    assert set(client.urls) >= {n.url for n in nodes}


def test_the_node_list_is_read_again_after_a_while(
    nodes: list[Node], monkeypatch: pytest.MonkeyPatch
):
    first, second, third = nodes
    for node in nodes:
        node.live_nodes = [first.name]
    client = SolrClient(first.url, "reports")
    client.connect()
    assert client.urls == [first.url]
    first.live_nodes = [first.name, third.name]  # a node joined
    client.select([("q", "*:*")])
    assert client.urls == [first.url]  # read at most every NODES_TTL seconds
    monkeypatch.setattr(solr_client, "NODES_TTL", 0.0)
    client.select([("q", "*:*")])
    assert client.urls == [first.url, third.url]
    first.live_nodes = [third.name]  # the given node left the live list: tried last
    client.select([("q", "*:*")])
    assert client.urls == [third.url, first.url]
    assert second.url not in client.urls


def test_an_old_solr_is_refused_with_the_versions_named(nodes: list[Node]):
    nodes[0].version = "8.11.2"
    with pytest.raises(SolrTooOld, match=r"Solr 8\.11\.2 低于 searchapp 支持的版本 9\.0") as raised:
        SolrClient(nodes[0].url, "reports").connect()
    assert raised.value.hint and raised.value.status == 503
    nodes[0].version = "9.10.1"
    client = SolrClient(nodes[0].url, "reports")
    client.connect()
    assert client.version == "9.10.1"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("9.10.1", (9, 10, 1)), ("10.0.0-SNAPSHOT", (10, 0, 0)), ("8.11", (8, 11)), ("", ())],
)
def test_parse_version(text: str, parsed: tuple[int, ...]):
    assert parse_version(text) == parsed
