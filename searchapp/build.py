"""Index the configured corpus into the configured backend, with the office's corrections.

The one way to run a build: `searchapp index` and the web service's jobs (office/jobs.py)
both call `index_corpus`, so a correction made in the browser holds for every build.
"""

from __future__ import annotations

from .config import Config
from .embedded import IndexReport, build_index
from .indexing import OCR_CACHE, Progress
from .ocr import Ocr
from .office import db, overrides
from .solr import index_solr


def corrections(config: Config) -> dict[str, dict[str, object]]:
    """The corrections stored in the data folder (none when there is no database yet)."""
    if not db.exists(config.data_folder):
        return {}
    with db.connect(config.data_folder) as conn:
        return overrides.entries(conn)


def index_corpus(
    config: Config,
    rebuild: bool = False,
    progress: Progress | None = None,
    shards: int = 1,
    replicas: int = 1,
    break_lock: bool = False,
) -> IndexReport:
    """Build or update the index of `config` (embedded, or a Solr collection; `break_lock`:
    Solr's lock of a run known to be gone is removed first)."""
    ocr = Ocr(cache_dir=config.index_dir / OCR_CACHE)
    if config.backend == "solr":
        return index_solr(
            config.corpus_dir,
            config.solr_url,
            config.solr_collection,
            shards=shards,
            replicas=replicas,
            user_dict=config.user_dict,
            procs=config.index_procs,
            rebuild=rebuild,
            progress=progress,
            ocr=ocr,
            corrections=corrections(config),
            break_lock=break_lock,
        )
    return build_index(
        config.corpus_dir,
        config.index_dir,
        user_dict=config.user_dict,
        rebuild=rebuild,
        procs=config.index_procs,
        progress=progress,
        ocr=ocr,
        corrections=corrections(config),
    )
