"""The Solr backend: the `Engine` interface on a SolrCloud collection (every Solr request
of searchapp's searches and indexing lives in this package).

    engine = open_solr_engine("http://127.0.0.1:8983/solr", "reports")
    report = index_solr(Path("seeds"), "http://127.0.0.1:8983/solr", "reports",
                        shards=2, replicas=2)
"""

from __future__ import annotations

from .engine import SolrEngine, SolrMatches
from .indexer import CONFIGSET, index_solr

__all__ = ["CONFIGSET", "SolrEngine", "SolrMatches", "index_solr", "open_solr_engine"]


def open_solr_engine(solr_url: str, collection: str, *, timeout: float = 30.0) -> SolrEngine:
    """An engine over a collection that `index_solr` built; raises IndexMissing when the
    collection holds no searchapp index and BackendUnavailable when Solr cannot be reached."""
    return SolrEngine(solr_url, collection, timeout=timeout)
