"""The local SolrCloud: cluster.json, live nodes, the configset, a kill -9, stop leaving nothing.

Tests marked `solr` use the session's 3-node cluster (tests/solr_fixture.py); `pytest -m
"not solr"` skips them. Documents are tokenised here the way the configset expects
(space-separated words, character pairs and characters), and every search is compared with a
brute-force scan of the same texts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from solr_fixture import new_collection

from searchapp.cli import main
from searchapp.cluster import (
    CONFIGSET_DIR,
    ClusterInfo,
    cluster_status,
    create_collection,
    kill_node,
    list_configsets,
    live_nodes,
    process_running,
    read_cluster,
    restart_node,
    solr_get,
    solr_request,
    start_cluster,
    upload_configset,
    wait_for_collection,
)
from searchapp.errors import ClusterError

solr = pytest.mark.solr
CONFIGSET = "searchapp_test"

# (doc_id, para_id, town, year, text, jieba-like words)
PARAGRAPHS = [
    (
        "d1",
        "p1",
        "潭头镇",
        "2022",
        "推进三清两建工作，改善农村人居环境。",
        "推进 三清两建 工作 改善 农村 人居环境",
    ),
    (
        "d1",
        "p2",
        "潭头镇",
        "2022",
        "三清工作和两建任务同步推进。",
        "三清 工作 和 两建 任务 同步 推进",
    ),
    (
        "d2",
        "p1",
        "石门乡",
        "2022",
        "深入学习贯彻二十大精神，推进乡村振兴。",
        "深入 学习 贯彻 二十大精神 推进 乡村振兴",
    ),
    (
        "d3",
        "p1",
        "石门乡",
        "2023",
        "实施乡村振兴战略，推进三清两建。",
        "实施 乡村振兴 战略 推进 三清两建",
    ),
    (
        "d4",
        "p1",
        "白沙镇",
        "2023",
        "乡贤返乡创业，带动ABC合作社发展。",
        "乡贤 返乡 创业 带动 ABC 合作社 发展",
    ),
    (
        "d5",
        "p1",
        "白沙镇",
        "2021",
        "持续优化营商环境，推动经济高质量发展。",
        "持续 优化 营商环境 推动 经济 高质量 发展",
    ),
    (
        "d6",
        "p1",
        "潭头镇",
        "2021",
        "清两建设施完善，环境整治见效。",
        "清 两 建设 设施 完善 环境整治 见效",
    ),
]
NEEDLES = [
    "三清两建",
    "清两建",
    "三清两",
    "两建",
    "建工",
    "乡村振兴",
    "振兴战略",
    "推进",
    "环境",
    "清两建设",
]


def pairs(text: str) -> str:
    return " ".join(text[i : i + 2] for i in range(len(text) - 1))


def solr_docs() -> list[dict[str, Any]]:
    return [
        {
            "key": f"{doc_id}/{para_id}",
            "doc_id": doc_id,
            "para_id": para_id,
            "town": town,
            "year": year,
            "ordinal": ordinal,
            "section": ["一、工作回顾", "（一）人居环境"],
            "heading": False,
            "text": text,
            "words": words,
            "units": text,  # Solr makes grams and chars of it
        }
        for ordinal, (doc_id, para_id, town, year, text, words) in enumerate(PARAGRAPHS)
    ]


def keys_containing(needle: str) -> set[str]:
    return {f"{d}/{p}" for d, p, _, _, text, _ in PARAGRAPHS if needle in text}


def select(url: str, collection: str, **params: str | int) -> dict[str, Any]:
    params.setdefault("rows", 100)
    params.setdefault("fl", "key")
    return solr_request(url, f"/{collection}/select", params)


def found_keys(answer: dict[str, Any]) -> set[str]:
    return {doc["key"] for doc in answer["response"]["docs"]}


def exact_query(needle: str) -> str:
    """A true substring test: one character → chars, longer → phrase over its pairs."""
    if len(needle) == 1:
        return f'chars:"{needle}"'
    return f'grams:"{pairs(needle)}"'


@pytest.fixture(scope="module")
def collection(solr_cluster: ClusterInfo) -> Iterator[str]:
    """A 2-shard × 2-replica collection of PARAGRAPHS on the session cluster."""
    url = solr_cluster.solr_url
    upload_configset(url, CONFIGSET, CONFIGSET_DIR)
    name = new_collection("cluster")
    create_collection(url, name, CONFIGSET, shards=2, replicas=2)
    body = json.dumps(solr_docs(), ensure_ascii=False).encode("utf-8")
    solr_request(url, f"/{name}/update", {"commit": "true"}, body=body)
    yield name
    solr_get(url, "/admin/collections", action="DELETE", name=name)


# --- the cluster ------------------------------------------------------------------------------


@solr
def test_cluster_json_has_the_documented_shape(solr_cluster: ClusterInfo):
    data = json.loads((solr_cluster.directory / "cluster.json").read_text("utf-8"))
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/solr", data["solr_url"])
    assert re.fullmatch(r"127\.0\.0\.1:\d+", data["zk_host"])
    assert len(data["nodes"]) == 3
    assert data["solr_url"] in [node["url"] for node in data["nodes"]]
    assert len({node["url"] for node in data["nodes"]}) == 3
    for node in data["nodes"]:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/solr", node["url"])
        assert isinstance(node["pid"], int) and process_running(node["pid"])
        assert Path(node["log"]).parent == solr_cluster.directory


@solr
def test_every_node_is_live_in_cloud_mode(solr_cluster: ClusterInfo):
    names = {node.node_name for node in solr_cluster.nodes}
    for node in solr_cluster.nodes:
        assert set(live_nodes(node.url)) == names
        assert solr_get(node.url, "/admin/info/system")["mode"] == "solrcloud"
    status = cluster_status(solr_cluster.directory)
    assert status.healthy and status.zk_running


@solr
def test_a_running_cluster_is_not_started_twice(solr_cluster: ClusterInfo):
    with pytest.raises(ClusterError, match="已在运行"):
        start_cluster(solr_cluster.directory, nodes=3)


def test_a_missing_launcher_names_the_command_that_builds_it(tmp_path: Path):
    with pytest.raises(ClusterError) as caught:
        start_cluster(tmp_path / "cluster", nodes=1, solr_dir=tmp_path / "no-solr")
    assert "make solr" in str(caught.value)
    assert not (tmp_path / "cluster" / "cluster.json").exists()


# --- the configset and a collection -----------------------------------------------------------


@solr
def test_collection_has_two_shards_of_two_replicas_on_different_nodes(
    solr_cluster: ClusterInfo, collection: str
):
    assert CONFIGSET in list_configsets(solr_cluster.solr_url)
    status = solr_get(
        solr_cluster.solr_url, "/admin/collections", action="CLUSTERSTATUS", collection=collection
    )
    shards = status["cluster"]["collections"][collection]["shards"]
    assert len(shards) == 2
    for shard in shards.values():
        replicas = list(shard["replicas"].values())
        assert len(replicas) == 2
        assert {replica["state"] for replica in replicas} == {"active"}
        assert len({replica["node_name"] for replica in replicas}) == 2
    assert select(solr_cluster.solr_url, collection, q="*:*")["response"]["numFound"] == len(
        PARAGRAPHS
    )


@solr
@pytest.mark.parametrize("needle", [*NEEDLES, "建", "镇", "，"])
def test_exact_channel_is_a_substring_test(solr_cluster: ClusterInfo, collection: str, needle: str):
    answer = select(solr_cluster.solr_url, collection, q=exact_query(needle))
    assert found_keys(answer) == keys_containing(needle)
    assert answer["response"]["numFound"] == len(keys_containing(needle))


@solr
def test_pairs_out_of_order_do_not_make_a_phrase(solr_cluster: ClusterInfo, collection: str):
    # d1/p2 holds 三清 and 两建 but not 三清两建: the pairs alone match it, the phrase must not
    pair_and = select(solr_cluster.solr_url, collection, q="grams:三清 AND grams:两建")
    phrase = select(solr_cluster.solr_url, collection, q=exact_query("三清两建"))
    assert "d1/p2" in found_keys(pair_and)
    assert "d1/p2" not in found_keys(phrase)


@solr
@pytest.mark.parametrize("word", ["三清两建", "乡村振兴", "推进", "ABC"])
def test_words_term_finds_the_paragraphs_with_that_word(
    solr_cluster: ClusterInfo, collection: str, word: str
):
    expected = {f"{d}/{p}" for d, p, _, _, _, words in PARAGRAPHS if word in words.split()}
    answer = select(solr_cluster.solr_url, collection, q=f"words:{word}", fl="key,score")
    assert found_keys(answer) == expected
    assert all(doc["score"] > 0 for doc in answer["response"]["docs"])  # BM25 ranks words


@solr
def test_solr_does_not_change_the_tokens(solr_cluster: ClusterInfo, collection: str):
    url = solr_cluster.solr_url
    assert found_keys(select(url, collection, q="words:ABC")) == {"d4/p1"}
    assert select(url, collection, q="words:abc")["response"]["numFound"] == 0  # no lowercasing
    assert select(url, collection, q="words:三清")["response"]["numFound"] == 1  # no CJK split
    assert select(url, collection, q="words:农")["response"]["numFound"] == 0


@solr
def test_stored_fields_come_back_as_sent(solr_cluster: ClusterInfo, collection: str):
    answer = select(solr_cluster.solr_url, collection, q="{!term f=key}d4/p1", fl="*")
    (doc,) = answer["response"]["docs"]
    sent = next(d for d in solr_docs() if d["key"] == "d4/p1")
    for name in ("key", "doc_id", "para_id", "town", "year", "ordinal", "section", "text"):
        assert doc[name] == sent[name], name
    assert "words" not in doc and "grams" not in doc  # token channels are not stored


@solr
def test_town_facet_counts_match_a_count_of_the_paragraphs(
    solr_cluster: ClusterInfo, collection: str
):
    facet = json.dumps({"town": {"type": "terms", "field": "town", "limit": -1}})
    answer = select(
        solr_cluster.solr_url, collection, q=exact_query("推进"), rows=0, **{"json.facet": facet}
    )
    buckets = {b["val"]: b["count"] for b in answer["facets"]["town"]["buckets"]}
    expected = Counter(town for _, _, town, _, text, _ in PARAGRAPHS if "推进" in text)
    assert buckets == dict(expected)


# --- faults -----------------------------------------------------------------------------------


@solr
def test_killing_one_node_leaves_every_search_complete(solr_cluster: ClusterInfo, collection: str):
    info = solr_cluster
    victim = len(info.nodes) - 1  # not the node the queries go to
    kill_node(info, victim)
    try:
        assert not process_running(info.nodes[victim].pid)
        for needle in NEEDLES:  # straight after the kill: ZooKeeper still lists the node live
            answer = select(
                info.solr_url, collection, q=exact_query(needle), **{"shards.tolerant": "false"}
            )
            assert found_keys(answer) == keys_containing(needle), needle
            assert not answer["responseHeader"].get("partialResults"), needle
        everything = select(info.solr_url, collection, q="*:*", **{"shards.tolerant": "false"})
        assert everything["response"]["numFound"] == len(PARAGRAPHS)
    finally:
        restarted = restart_node(info, victim)  # for the tests after this one
        wait_for_collection(info.solr_url, collection)
    assert process_running(restarted.nodes[victim].pid)
    assert read_cluster(info.directory) == restarted  # cluster.json has the new pid


@solr
def test_cli_start_status_stop_leave_no_process(tmp_path: Path):
    directory = tmp_path / "sc"
    runner = CliRunner()
    started = runner.invoke(main, ["cluster", "start", "--nodes", "1", "--dir", str(directory)])
    try:
        assert started.exit_code == 0, started.output
        data = json.loads((directory / "cluster.json").read_text("utf-8"))
        pids = [node["pid"] for node in data["nodes"]] + [data["zk"]["pid"]]
        assert all(process_running(pid) for pid in pids)
        status = runner.invoke(main, ["cluster", "status", "--dir", str(directory), "--json"])
        assert status.exit_code == 0, status.output
        assert json.loads(status.output)["healthy"] is True
    finally:
        stopped = runner.invoke(main, ["cluster", "stop", "--dir", str(directory)])
    assert stopped.exit_code == 0, stopped.output
    assert not any(process_running(pid) for pid in pids)
    assert not processes_mentioning(str(directory))
    again = runner.invoke(main, ["cluster", "stop", "--dir", str(directory)])
    assert again.exit_code == 0, again.output  # idempotent
    status = runner.invoke(main, ["cluster", "status", "--dir", str(directory)])
    assert status.exit_code == 1


def processes_mentioning(text: str) -> list[int]:
    """Pids of running processes whose command line mentions text."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if text in command and process_running(int(entry.name)):
            found.append(int(entry.name))
    return found
