"""The session-wide local SolrCloud for tests marked `solr` (exposed through conftest.py).

`solr_cluster` starts ZooKeeper and three Solr nodes (each its own JVM, 127.0.0.1) in a
temporary folder on first use, and stops every one of them when the session ends, failed
or not. Tests share it: a test that kills a node starts it again (`restart_node`) before
it ends, and a test makes its own collection (`new_collection` names one).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from searchapp.cluster import ClusterInfo, start_cluster, stop_cluster
from searchapp.errors import ClusterError

SOLR_NODES = 3
_names = itertools.count(1)


@pytest.fixture(scope="session")
def solr_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """A running 3-node SolrCloud: `solr_url`, `zk_host`, `nodes` (url, pid, port, home, log).

    After a test restarts a node, `read_cluster(info.directory)` has its new pid.
    """
    directory = tmp_path_factory.mktemp("solrcloud")
    try:
        try:
            info = start_cluster(directory, nodes=SOLR_NODES)
        except ClusterError as exc:
            pytest.fail(f"the local SolrCloud did not start: {exc}", pytrace=False)
        yield info
    finally:
        stop_cluster(directory)


def new_collection(prefix: str = "test") -> str:
    """A collection name not used before in this session."""
    return f"{prefix}_{next(_names)}"
