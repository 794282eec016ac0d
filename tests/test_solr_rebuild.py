"""Full rebuilds of a Solr index with no outage: into a collection of their own, the alias
switched when it is complete; an interrupted one leaves the live collection as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from solr_fixture import new_collection

from searchapp.cluster import (
    CONFIGSET_DIR,
    ClusterInfo,
    create_collection,
    delete_collection,
    list_aliases,
    list_collections,
    list_configsets,
    solr_request,
    upload_configset,
)
from searchapp.config import Config
from searchapp.errors import SearchAppError
from searchapp.results import SearchRequest
from searchapp.search import run_search
from searchapp.solr import CONFIGSET, index_solr, open_solr_engine
from searchapp.solr.indexer import BUILD_MARK, live_collection

pytestmark = pytest.mark.solr

QUERIES = [
    SearchRequest(q="发展", page_size=10),
    SearchRequest(q="三清两建", mode="phrase", page_size=10),
    SearchRequest(q="乡村 振兴 -旅游", page_size=10),
]


class Interrupted(Exception):
    """An indexer killed in the middle of a run."""


@pytest.fixture()
def corpus(tmp_path: Path, seed_config: Config) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(seed_config.corpus_dir, folder)
    return folder


def builds(url: str, name: str) -> list[str]:
    return sorted(c for c in list_collections(url) if c.startswith(name + BUILD_MARK))


def test_searches_during_a_rebuild_see_no_error_and_no_changed_total(
    solr_cluster: ClusterInfo, corpus: Path
):
    url, name = solr_cluster.solr_url, new_collection("rebuild")
    index_solr(corpus, url, name, shards=2, replicas=1, procs=1)
    before = live_collection(url, name)
    assert before and before.startswith(name + BUILD_MARK) and list_aliases(url)[name] == before
    engine = open_solr_engine(url, name)
    expected = [run_search(engine, q).total for q in QUERIES]
    assert all(expected)
    errors: list[str] = []
    totals: list[tuple[int, int]] = []
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            for i, request in enumerate(QUERIES):
                try:
                    totals.append((i, run_search(engine, request).total))
                except Exception as exc:  # every failure is the finding
                    errors.append(f"{request.q}: {exc!r}")

    loop = threading.Thread(target=search)
    loop.start()
    try:
        searchapp = Path(sys.executable).parent / "searchapp"  # the installed command
        command = [searchapp, "index", "--backend", "solr",
                   "--solr-url", url, "--collection", name, "--corpus", str(corpus),
                   "--rebuild", "--shards", "2"]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, env=os.environ | {
            "SEARCHAPP_INDEX": str(corpus.parent / "unused")}, timeout=600)  # fmt: skip
        time.sleep(1.0)  # and a while on the new collection
    finally:
        stop.set()
        loop.join()
    assert done.returncode == 0, done.stderr
    after = live_collection(url, name)
    assert after and after != before
    assert builds(url, name) == sorted([before, after])  # the replaced build is kept …
    assert errors == []
    assert len(totals) > 30  # the loop really ran through the rebuild
    assert {(i, t) for i, t in totals} == {(i, t) for i, t in enumerate(expected)}
    assert [run_search(engine, q).total for q in QUERIES] == expected
    assert index_solr(corpus, url, name, procs=1).mode == "unchanged"
    assert builds(url, name) == [after]  # … until the next run, which deletes it first
    engine.close()


def test_an_interrupted_rebuild_leaves_the_live_collection_as_it_was(
    solr_cluster: ClusterInfo, corpus: Path
):
    url, name = solr_cluster.solr_url, new_collection("interrupted")
    first = index_solr(corpus, url, name, procs=1)
    live = live_collection(url, name)
    engine = open_solr_engine(url, name)
    expected = [run_search(engine, q).to_json()["hits"] for q in QUERIES]

    def interrupt(path: str, done: int, total: int) -> None:
        if done == 2:
            raise Interrupted

    (corpus / "extra.txt").write_text("某镇2024年政府工作报告\n\n坚持三清两建。\n", "utf-8")
    with pytest.raises(Interrupted):
        index_solr(corpus, url, name, procs=1, rebuild=True, progress=interrupt)
    assert live_collection(url, name) == live
    assert builds(url, name) == [live]  # the unfinished build was deleted
    assert [run_search(engine, q).to_json()["hits"] for q in QUERIES] == expected
    assert engine.meta["paragraphs"] == first.paragraphs

    # a run killed outright leaves its build behind: the next run deletes it
    leftover = f"{name}{BUILD_MARK}1"
    create_collection(url, leftover, CONFIGSET)
    second = index_solr(corpus, url, name, procs=1)
    assert second.mode == "incremental" and second.added == ["extra.txt"]
    assert builds(url, name) == [live]
    engine.close()


def test_a_collection_of_the_name_itself_becomes_an_alias(solr_cluster: ClusterInfo, corpus: Path):
    """An index built before aliases: its collection bears the name searches use."""
    url, name = solr_cluster.solr_url, new_collection("legacy")
    if CONFIGSET not in list_configsets(url):
        upload_configset(url, CONFIGSET, CONFIGSET_DIR)
    create_collection(url, name, CONFIGSET)
    report = index_solr(corpus, url, name, procs=1)
    assert report.mode == "full"
    assert list_aliases(url)[name] == live_collection(url, name) != name
    assert name not in list_collections(url)
    engine = open_solr_engine(url, name)
    assert run_search(engine, QUERIES[1]).total > 0
    assert engine.status()["build"] == live_collection(url, name)
    engine.close()


def test_the_counted_handler_exists_only_where_the_nodes_have_the_plugin(
    solr_cluster: ClusterInfo,
):
    """The configset's `/counted` (searchapp.ReportHits) is on where `searchapp.plugin` is
    true (the local cluster's nodes set it) and absent elsewhere, where Solr answers 404
    and the engine counts facets by column instead (test_solr_backend.py)."""
    url = solr_cluster.solr_url
    if CONFIGSET not in list_configsets(url):
        upload_configset(url, CONFIGSET, CONFIGSET_DIR)
    with_plugin, without = new_collection("plugin"), new_collection("noplugin")
    create_collection(url, with_plugin, CONFIGSET)
    solr_request(
        url,
        "/admin/collections",
        {
            "action": "CREATE",
            "name": without,
            "collection.configName": CONFIGSET,
            "numShards": 1,
            "waitForFinalState": "true",
            "property.searchapp.plugin": "false",
        },
    )  # fmt: skip — a core property wins
    try:
        found = solr_request(url, f"/{with_plugin}/counted", {"q": "*:*", "reportHits": "true"})
        assert found["reportHits"] == {"values": [], "counts": []}
        with pytest.raises(SearchAppError, match="404"):
            solr_request(url, f"/{without}/counted", {"q": "*:*", "reportHits": "true"})
        assert solr_request(url, f"/{without}/select", {"q": "*:*"})["response"]["numFound"] == 0
    finally:
        delete_collection(url, with_plugin)
        delete_collection(url, without)
