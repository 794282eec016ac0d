"""The web front end on Solr: the same answers as on the embedded engine, a killed node, no Solr.

The seeds are indexed into a 2-shard × 2-replica collection of the session's local SolrCloud
(tests/solr_fixture.py); one Flask app serves it, another the session's embedded seed index
(conftest.py). For a handful of searches (keyword, phrase, filters) the JSON API, the search
page and the document pages must give the same hits, facets and permalinks on both. Hits are
compared as sets: near-equal BM25 scores may order differently between the backends
(test_solr_backend.py explains why), while totals, facets, towns and trends must be equal.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from solr_fixture import new_collection

from searchapp.cluster import ClusterInfo, free_port, kill_node, read_cluster, restart_node
from searchapp.config import Config
from searchapp.solr import index_solr
from searchapp.web import create_app

pytestmark = pytest.mark.solr

SEARCHES = [
    "q=三清两建",
    "q=三清两建&mode=phrase",
    "q=乡贤返&mode=phrase",
    "q=乡村振兴&town=潭头镇&year=2022",
    "q=集体经济 -疫情",
    "q=%22二十大精神%22 发展",
    "q=乡村振兴 OR 三清两建&year=2023",
]
PAGE_SIZE = 100  # the API's largest page


@pytest.fixture(scope="module")
def collection(solr_cluster: ClusterInfo, seed_config: Config) -> str:
    name = new_collection("web")
    report = index_solr(
        seed_config.corpus_dir, solr_cluster.solr_url, name, shards=2, replicas=2, procs=2
    )
    assert report.paragraphs > 300
    return name


@pytest.fixture(scope="module")
def solr_app(solr_cluster: ClusterInfo, seed_config: Config, collection: str) -> Flask:
    config = Config(
        corpus_dir=seed_config.corpus_dir,
        backend="solr",
        solr_url=solr_cluster.solr_url,
        solr_collection=collection,
    )
    return create_app(config, {"TESTING": True})


@pytest.fixture(scope="module")
def embedded_app(seed_config: Config) -> Flask:
    return create_app(seed_config, {"TESTING": True})


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def with_class(self, name: str) -> list[dict[str, str]]:
        return [a for _, a in self.tags if name in a.get("class", "").split()]

    def facet_links(self) -> list[tuple[str, str, str]]:
        return [
            (a["data-facet"], a["data-value"], a["href"]) for _, a in self.tags if "data-facet" in a
        ]


def get(client: FlaskClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if response.mimetype == "application/json":
        return response.get_json()
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def every_hit(client: FlaskClient, search: str) -> tuple[dict[str, Any], dict[tuple, dict]]:
    """The first page's answer (total, facets, notices) and every hit by key, score left out."""
    first = get(client, f"/api/search?{search}&size={PAGE_SIZE}")
    hits: dict[tuple, dict] = {}
    for page in range(1, first["pages"] + 1):
        answer = first if page == 1 else get(client, f"/api/search?{search}&size=100&page={page}")
        for hit in answer["hits"]:
            hits[(hit["doc_id"], hit["para_id"])] = {k: v for k, v in hit.items() if k != "score"}
    assert len(hits) == first["total"]
    return first, hits


def total_of(html: str) -> int:
    found = re.search(r'<strong class="total">(\d+)</strong>', html)
    assert found, html[:500]
    return int(found.group(1))


def towns_json(client: FlaskClient, search: str) -> dict[str, Any]:
    """/api/towns without each town's best hit (it may differ on near-equal scores)."""
    answer = get(client, f"/api/towns?{search}")
    for town in answer["towns"]:
        town.pop("best")
    return answer


def answers(client: FlaskClient, search: str) -> dict[str, Any]:
    """What the app says about a search: API hits and facets, towns, trend, the page."""
    first, hits = every_hit(client, search)
    html = get(client, f"/search?{search}")
    page = Elements(html)
    return {
        "total": first["total"],
        "facets": first["facets"],
        "notices": first["notices"],
        "hits": hits,
        "towns": towns_json(client, search),
        "trend": get(client, f"/api/trend?{search}"),
        "page_total": total_of(html),
        "page_facets": page.facet_links(),
        "page_permalinks": [a["data-permalink"] for a in page.with_class("hit")],
    }


def assert_same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours["total"] == theirs["total"] == theirs["page_total"] == ours["page_total"] > 0
    assert ours["facets"] == theirs["facets"]
    assert [list(v.items()) for v in ours["facets"].values()] == [
        list(v.items()) for v in theirs["facets"].values()
    ]  # the order of the facet values too
    assert ours["notices"] == theirs["notices"]
    assert ours["hits"] == theirs["hits"]  # texts, snippets, metadata, permalinks
    assert ours["towns"] == theirs["towns"]
    assert ours["trend"] == theirs["trend"]
    assert ours["page_facets"] == theirs["page_facets"]
    every_permalink = {f"http://localhost{h['url']}" for h in theirs["hits"].values()}
    assert len(ours["page_permalinks"]) == len(theirs["page_permalinks"])
    assert set(ours["page_permalinks"]) <= every_permalink
    if theirs["total"] <= len(theirs["page_permalinks"]):
        assert set(ours["page_permalinks"]) == set(theirs["page_permalinks"])


def document_view(client: FlaskClient, doc_id: str, q: str) -> dict[str, Any]:
    """A report's page: paragraph ids and permalinks, and the marked matches."""
    html = get(client, f"/doc/{doc_id}?q={quote(q)}")
    paras = Elements(html).with_class("para")
    return {
        "paragraphs": [(a["id"], a["data-permalink"]) for a in paras],
        "marks": re.findall(r"<mark>(.*?)</mark>", html),
        "api": get(client, f"/api/doc/{doc_id}"),
    }


@pytest.mark.parametrize("search", SEARCHES)
def test_searches_give_the_embedded_answers(
    search: str, solr_app: Flask, embedded_app: Flask
) -> None:
    ours = answers(solr_app.test_client(), search)
    theirs = answers(embedded_app.test_client(), search)
    assert_same(ours, theirs)


def test_permalinks_open_the_same_paragraphs(solr_app: Flask, embedded_app: Flask) -> None:
    solr, embedded = solr_app.test_client(), embedded_app.test_client()
    _, hits = every_hit(solr, "q=三清两建")
    doc_ids = sorted({doc_id for doc_id, _ in hits})
    assert len(doc_ids) > 1
    for doc_id in doc_ids:
        ours = document_view(solr, doc_id, "三清两建")
        assert ours == document_view(embedded, doc_id, "三清两建")
        assert ours["marks"] and set(ours["marks"]) == {"三清两建"}
    for (doc_id, para_id), hit in hits.items():
        assert hit["url"] == f"/doc/{doc_id}#{para_id}"
        view = document_view(solr, doc_id, "三清两建")
        assert (para_id, f"http://localhost{hit['url']}") in view["paragraphs"]
    assert get(solr, "/doc/doesnotexist", status=404) == get(
        embedded, "/doc/doesnotexist", status=404
    )


def test_a_killed_node_leaves_every_answer_complete(
    solr_cluster: ClusterInfo, solr_app: Flask
) -> None:
    client = solr_app.test_client()
    before = {search: answers(client, search) for search in SEARCHES[:4]}
    info = read_cluster(solr_cluster.directory)
    assert info is not None
    victim = 0  # the node the app was given: its requests fail over to the others
    kill_node(info, victim)
    try:
        for search, expected in before.items():
            after = answers(client, search)
            assert not after["notices"]
            assert after == expected
        doc_id = next(iter(before[SEARCHES[0]]["hits"]))[0]
        assert get(client, f"/api/doc/{doc_id}")["paragraphs"]
    finally:
        restart_node(info, victim)


def test_unreachable_solr_is_a_503_page_with_the_reason(
    solr_cluster: ClusterInfo, seed_config: Config, collection: str
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/solr"
    app = create_app(
        Config(corpus_dir=seed_config.corpus_dir, backend="solr", solr_url=dead),
        {"TESTING": True},
    )
    client = app.test_client()
    for url in ("/search?q=三清两建", "/doc/x", "/trend?q=三清两建"):
        html = get(client, url, status=503)
        assert "无法连接 Solr" in html and "Traceback" not in html
    api = get(client, "/api/search?q=三清两建", status=503)
    assert api["status"] == 503 and "无法连接 Solr" in api["error"] and api["hint"]
    assert get(client, "/healthz", status=503)["status"] == 503

    # Solr goes away while the app runs: the same 503, then answers again once it is back
    live = create_app(
        Config(backend="solr", solr_url=solr_cluster.solr_url, solr_collection=collection),
        {"TESTING": True},
    )
    client = live.test_client()
    assert get(client, "/api/search?q=三清两建")["total"] > 0
    engine = live.extensions["searchapp"].live()
    urls = list(engine.client.urls)
    engine.client.urls = [dead]
    try:
        html = get(client, "/search?q=三清两建", status=503)
        assert "无法连接 Solr" in html and "Traceback" not in html
        assert "无法连接 Solr" in get(client, "/api/towns?q=三清两建", status=503)["error"]
    finally:
        engine.client.urls = urls
    assert get(client, "/api/search?q=三清两建")["total"] > 0
