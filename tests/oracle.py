"""What an index must hold, read from the corpus files themselves (never from an index)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from searchapp import fields as F
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


def author_paragraphs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records of a corpus with each cut paragraph's pieces joined into one (what
    paragraph scope matches: plan.py), named by its first piece (its para_id and key)."""
    out: list[dict[str, Any]] = []
    by_block: dict[str, dict[str, Any]] = {}
    for row in rows:
        whole = by_block.get(row[F.BLOCK])
        if whole is None:
            by_block[row[F.BLOCK]] = whole = dict(row)
            out.append(whole)
        else:
            whole[F.TEXT] += row[F.TEXT]
    return out


def hit_key(hit: Any) -> tuple[str, str]:
    """A hit's author paragraph as `author_paragraphs` names it: (doc_id, first para_id)."""
    return hit.doc_id, hit.piece_ids[0]


def whole_text(engine: Any, hit: Any) -> str:
    """The text of a hit's author paragraph: its pieces' texts one after another."""
    if len(hit.piece_ids) <= 1:
        return hit.text
    texts = {r.para_id: r.text for r in engine.document(hit.doc_id)}
    return "".join(texts[p] for p in hit.piece_ids)
