"""What an index must hold, read from the corpus files themselves (never from an index)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from searchapp.documents import iter_corpus_files, load_file, load_sidecar
from searchapp.indexing import paragraph_fields


def corpus_paragraphs(corpus: Path) -> list[dict[str, Any]]:
    """Every paragraph of a corpus folder as the indexers receive it (`paragraph_fields`)."""
    sidecar = load_sidecar(corpus)
    rows: list[dict[str, Any]] = []
    for path in iter_corpus_files(corpus):
        report, docs = load_file(path, corpus, sidecar)
        for doc in docs:
            rows.extend(paragraph_fields(doc, report.content_hash))
    return rows
