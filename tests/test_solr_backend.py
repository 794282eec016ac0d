"""The Solr backend against the embedded engine and brute-force scans: the same checks on both.

The seeds are indexed into a 2-shard × 2-replica collection of the session's local SolrCloud
(tests/solr_fixture.py) and into the session's embedded index (conftest.py). Matching, filters,
facets, ids, trends, fuzzy and similar wording must agree between the backends and with a scan
of the texts. Solr ranks with Lucene's own scoring (the verbatim tier as a constant, then
Lucene's BM25), checked against that formula recomputed from the texts; the embedded engine
ranks with plan.py's BM25, so within a tier the two orders may differ: sets, tiers, totals and
facets must agree, and each engine follows its rule.
"""

from __future__ import annotations

import json
import math
import operator
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from oracle import author_paragraphs, corpus_paragraphs, hit_key
from solr_fixture import new_collection

from searchapp import fields as F
from searchapp.analysis import exact_key
from searchapp.cluster import (
    ClusterInfo,
    collection_state,
    free_port,
    kill_node,
    list_collections,
    process_running,
    read_cluster,
    restart_node,
    solr_get,
)
from searchapp.config import Config
from searchapp.documents import iter_corpus_files, load_corpus
from searchapp.embedded import IndexReport, build_index
from searchapp.engine import Engine, open_engine
from searchapp.errors import (
    BackendUnavailable,
    IncompleteResults,
    IndexLocked,
    IndexMissing,
    SearchAppError,
)
from searchapp.plan import EXACT_BOOST, Term, make_plan
from searchapp.querylang import parse_query, strip_outer_quotes
from searchapp.results import Record, SearchRequest
from searchapp.search import plan_request, run_search, run_trend, town_usage
from searchapp.similar import find_similar
from searchapp.solr import SolrEngine, index_solr, open_solr_engine
from searchapp.solr import indexer as solr_indexer
from searchapp.solr import lock as solr_lock
from searchapp.solr import tokens as solr_tokens
from searchapp.solr.client import RequestRefused, SolrClient
from searchapp.solr.engine import overlaps_itself

pytestmark = pytest.mark.solr
Key = tuple[str, str]


def examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@pytest.fixture(scope="module")
def collection(solr_cluster: ClusterInfo, seed_config: Config) -> str:
    """The seeds in a 2 × 2 collection, from the folder the embedded seed index was built from."""
    name = new_collection("seeds")
    report = index_solr(
        seed_config.corpus_dir, solr_cluster.solr_url, name, shards=2, replicas=2, procs=2
    )
    assert report.mode == "full" and report.paragraphs > 300
    return name


@pytest.fixture(scope="module")
def solr(solr_cluster: ClusterInfo, collection: str) -> Iterator[SolrEngine]:
    engine = open_solr_engine(solr_cluster.solr_url, collection)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def corpus(seed_config: Config) -> dict[Key, str]:
    """Every paragraph of the seed files: (doc_id, para_id) → text, read from the files."""
    return {
        (d.doc_id, p.para_id): p.text
        for _, docs in load_corpus(seed_config.corpus_dir)
        for d in docs
        for p in d.paragraphs
    }


@pytest.fixture(scope="module")
def units(seed_config: Config) -> dict[Key, str]:
    """Every author paragraph (a cut one's pieces joined): (doc_id, first para_id) → text;
    what paragraph scope matches (plan.py)."""
    rows = author_paragraphs(corpus_paragraphs(seed_config.corpus_dir))
    return {(r[F.DOC_ID], r[F.PARA_ID]): r[F.TEXT] for r in rows}


def sort_keys(solr: SolrEngine) -> dict[str, str]:
    """Every paragraph key of the collection with its sort key, straight from Solr."""
    found = solr.client.select(
        [("q", "kind:para"), ("rows", "100000"), ("fl", f"{F.KEY},{F.SORT_KEY}")]
    )
    return {d[F.KEY]: d[F.SORT_KEY] for d in found["response"]["docs"]}


def hits(engine: Engine, q: str, mode: str = "keyword", **options: object) -> list[Key]:
    page = run_search(
        engine, SearchRequest(q=q, mode=mode, all=True, **options), max_query_chars=500
    )  # type: ignore[arg-type]
    keys = [hit_key(h) for h in page.hits]  # author paragraphs
    assert len(keys) == len(set(keys)) == page.total
    return keys


def scan(corpus: dict[Key, str], phrase: str) -> set[Key]:
    key = exact_key(strip_outer_quotes(phrase.strip()))
    return {k for k, text in corpus.items() if key in exact_key(text)}


@st.composite
def substrings(draw: st.DrawFn, texts: list[str], max_length: int = 16) -> str:
    text = draw(st.sampled_from(texts))
    length = draw(st.integers(min_value=1, max_value=min(max_length, len(text))))
    start = draw(st.integers(min_value=0, max_value=len(text) - length))
    return text[start : start + length]


def plain(term: str) -> str:
    return "".join(ch for ch in term if ch.isalnum())


# --- the collection ------------------------------------------------------------------------------


def test_every_paragraph_has_the_same_ids_and_fields(
    solr: SolrEngine, seed_engine: Engine, corpus: dict[Key, str]
):
    assert solr.status()["paragraphs"] == len(corpus)
    assert sorted(solr.status()["shards"]) == ["shard1", "shard2"]
    doc_ids = sorted({doc_id for doc_id, _ in corpus})
    for doc_id in doc_ids:
        ours = sorted(solr.document(doc_id), key=lambda r: r.ordinal)
        theirs = sorted(seed_engine.document(doc_id), key=lambda r: r.ordinal)
        assert ours == theirs
        assert [r.text for r in ours] == [corpus[(doc_id, r.para_id)] for r in ours]
    reference = {r.url: r for doc_id in doc_ids for r in seed_engine.document(doc_id)}
    keys = sorted(f"{d}/{p}" for d, p in corpus)[::-1]  # more than one batch, any order
    assert solr.records(keys) == [reference[f"/doc/{k.replace('/', '#')}"] for k in keys]
    assert solr.document("no-such-report") == []
    assert solr.meta["paragraphs"] == len(corpus) and solr.meta["corpus_dir"]
    assert solr.segment("推进三清两建工作") == seed_engine.segment("推进三清两建工作")


def analysed(solr: SolrEngine, field_type: str, value: str) -> list[tuple[int, str]]:
    """What the collection's index analyser of `field_type` makes of `value`: (position, token)."""
    answer = solr.client.call(
        f"/{solr.client.collection}/analysis/field",
        [("analysis.fieldtype", field_type), ("analysis.fieldvalue", value)],
    )
    stages = answer["analysis"]["field_types"][field_type]["index"]
    return [(t["position"], t["text"]) for t in stages[-1]]


# Characters where Python and Java disagree or that need care: a supplementary-plane CJK
# character (two UTF-16 units), an emoji, a combining mark, full-width forms, a BOM-like mark.
ODD_CHARACTERS = "𠀀😀\u0301Ａ１，\ufeff\u200b"


@examples(40)
@given(st.text(alphabet=st.sampled_from("三清两建a1，。" + ODD_CHARACTERS), max_size=40))
def test_solr_cuts_the_exact_units_into_our_pairs_and_characters(solr: SolrEngine, text: str):
    # The pair and character channels are made by Solr from `units` (tokens.py); searches
    # send pairs made by tokens.pairs. They must be the same tokens at the same positions.
    units = exact_key(text)
    pairs = solr_tokens.pairs(units).split()
    assert analysed(solr, "ws_grams", units) == list(enumerate(pairs, 1))
    assert analysed(solr, "ws_chars", units) == list(enumerate(units, 1))


def test_solr_cuts_every_seed_paragraph_into_our_pairs(solr: SolrEngine, corpus: dict[Key, str]):
    texts = sorted(corpus.values(), key=len)
    for text in texts[:: max(1, len(texts) // 25)] + texts[-3:]:  # short to the longest
        units = exact_key(text)
        assert [t for _, t in analysed(solr, "ws_grams", units)] == solr_tokens.pairs(units).split()


# --- matching: the same sets as the embedded engine and a scan -----------------------------------


def test_phrase_mode_equals_a_substring_scan(
    solr: SolrEngine, units: dict[Key, str], corpus: dict[Key, str]
):
    @examples(60)
    @given(substrings(sorted(units.values())))
    def check(phrase: str) -> None:
        if not exact_key(strip_outer_quotes(phrase.strip())):
            return
        expected = scan(units, phrase)
        assert expected
        assert set(hits(solr, phrase, "phrase")) == expected

    check()


@pytest.mark.parametrize("phrase", ["清两", "乡贤返", "三清两建", "的", "，", "2022年"])
def test_phrases_across_word_boundaries(
    phrase: str, solr: SolrEngine, units: dict[Key, str], corpus: dict[Key, str]
):
    assert set(hits(solr, phrase, "phrase")) == scan(units, phrase)
    assert set(hits(solr, f'"{phrase}"')) == scan(units, phrase)
    assert solr.count_exact(phrase) == len(scan(corpus, phrase))  # records


def test_keyword_terms_match_verbatim_or_by_all_words(
    solr: SolrEngine, seed_engine: Engine, units: dict[Key, str]
):
    @examples(40)
    @given(substrings(sorted(units.values()), 8))
    def check(term: str) -> None:
        term = plain(term)
        if not term or term in {"OR", "NOT", "AND"}:
            return
        found = set(hits(solr, term))
        verbatim = scan(units, term)
        assert verbatim <= found
        parts = set(solr.segment(term))
        for key in found - verbatim:
            assert parts <= set(solr.segment(units[key]))
        assert found == set(hits(seed_engine, term))

    check()


def test_exclusions_remove_exactly_the_verbatim_holders(
    solr: SolrEngine, seed_engine: Engine, units: dict[Key, str]
):
    texts = sorted(units.values())

    @examples(30)
    @given(substrings(texts, 4), substrings(texts, 2))
    def check(term: str, excluded: str) -> None:
        term, excluded = plain(term), plain(excluded)
        if not term or not excluded or {term, excluded} & {"OR", "NOT", "AND"}:
            return
        expected = set(hits(seed_engine, term)) - scan(units, excluded)
        assert set(hits(solr, f"{term} -{excluded}")) == expected

    check()


QUERIES = [
    ("三清两建", {}),
    ("三清两建 乡贤", {}),
    ("乡村振兴 OR 集体经济 -疫情", {}),
    ('"二十大精神" 发展', {}),
    ("发展", {"town": ["潭头镇"]}),
    ("发展", {"year": ["2022"]}),
    ("发展", {"year": ["2020-2023"]}),
    ("发展", {"year": [">=2023"]}),
    ("发展", {"year": ["2021", "2023-"]}),
    ("经济", {"doc_type": ["政府工作报告"]}),
    ("工作", {"section": ["工作"]}),
    ("工作", {"section": ["重点"], "year": ["2022"]}),
    ("", {"town": ["潭头镇"]}),
    ("发展 集体", {"scope": "sentence"}),
    ("发展 集体", {"scope": "document"}),
]


@pytest.mark.parametrize(("q", "options"), QUERIES)
def test_filters_scopes_and_facets_equal_the_embedded_engine(
    q: str, options: dict, solr: SolrEngine, seed_engine: Engine
):
    ours = run_search(solr, SearchRequest(q=q, all=True, **options))
    theirs = run_search(seed_engine, SearchRequest(q=q, all=True, **options))
    assert ours.total == theirs.total > 0
    assert {(h.doc_id, h.para_id) for h in ours.hits} == {
        (h.doc_id, h.para_id) for h in theirs.hits
    }
    assert ours.facets == theirs.facets
    assert list(ours.facets["town"].items()) == list(theirs.facets["town"].items())  # order too
    assert not ours.notices or ours.notices == theirs.notices


def test_filters_equal_a_scan_of_the_records(solr: SolrEngine, corpus: dict[Key, str]):
    records = solr.records([f"{d}/{p}" for d, p in sorted(corpus)])
    page = run_search(solr, SearchRequest(q="发展", year=["2020-2022"], section=["工作"], all=True))
    blocks: dict[Key, list[Record]] = {}  # the author paragraphs (plan.py)
    for r in records:
        blocks.setdefault((r.doc_id, r.block.rsplit("/", 1)[1]), []).append(r)
    expected = {
        key
        for key, pieces in blocks.items()
        if pieces[0].year.isdigit()
        and 2020 <= int(pieces[0].year) <= 2022
        and "工作" in exact_key("".join(pieces[0].section))
        and (
            "发展" in "".join(exact_key(r.text) for r in pieces)
            or any("发展" in solr.segment(r.text) for r in pieces)
        )
    }
    assert {hit_key(h) for h in page.hits} == expected and expected


# --- ranking -------------------------------------------------------------------------------------


LUCENE_K1, LUCENE_B = 1.2, 0.75  # BM25Similarity's defaults (the configset sets none)
FREE_LENGTHS = 24  # lengths Lucene stores exactly in the norm byte (SmallFloat.intToByte4)


def norm_length(length: int) -> int:
    """The length Lucene's BM25 sees: SmallFloat.intToByte4, then byte4ToInt (4 bits of
    mantissa above 23 words)."""
    if length < FREE_LENGTHS:
        return length
    rest = length - FREE_LENGTHS
    shift = max(rest.bit_length() - 4, 0)
    mantissa = rest >> shift if shift else rest
    return FREE_LENGTHS + (mantissa << shift)


def expected_scores(solr: SolrEngine, corpus: dict[Key, str], q: str) -> dict[str, float]:
    """The score of every author paragraph the query matches (named by its block), from the
    texts: 1000 per term held verbatim + Lucene's BM25 of each query word held. Lucene's
    statistics count every document with words: each piece, and each cut paragraph's block
    document (its pieces' words in order), so a block's tf and length are its pieces' summed."""
    plan = make_plan(parse_query(q), {}, solr.segment)
    pieces = {f"{d}/{p}": solr.segment(text) for (d, p), text in corpus.items()}
    tokens: dict[str, list[str]] = {}
    units: dict[str, str] = {}
    cut: set[str] = set()
    for record in solr.records(sorted(pieces)):  # in document order within a report
        block = record.block
        tokens.setdefault(block, []).extend(pieces[f"{record.doc_id}/{record.para_id}"])
        units[block] = units.get(block, "") + exact_key(record.text)
        if len(record.piece_ids) > 1:
            cut.add(block)
    documents = [t for t in pieces.values() if t] + [tokens[b] for b in cut if tokens[b]]
    n = len(documents)
    avg = sum(len(t) for t in documents) / n
    df = Counter(w for t in documents for w in set(t))
    out = {}
    for key, words in tokens.items():
        held, text = set(words), units[key]

        def meets(term: Term, text: str = text, held: set[str] = held) -> bool:
            if term.units in text:
                return True
            return not term.quoted and bool(term.words) and set(term.words) <= held

        if not all(any(meets(t) for t in group) for group in plan.groups):
            continue
        if any(u in units[key] for u in plan.excluded):
            continue
        score = EXACT_BOOST * sum(1 for t in plan.positive if t.units in units[key])
        tf = Counter(words)
        length = norm_length(len(words))
        for word in plan.scoring_words:
            if tf[word]:
                idf = math.log(1 + (n - df[word] + 0.5) / (df[word] + 0.5))
                norm = LUCENE_K1 * (1 - LUCENE_B + LUCENE_B * length / avg)
                score += idf * tf[word] / (tf[word] + norm)
        out[key] = score
    return out


@pytest.mark.parametrize(
    "q", ["三清两建 乡贤", "发展 集体经济", '"二十大精神" 发展', "乡村振兴 OR 人居环境 -疫情", "的"]
)
def test_ranking_follows_the_rule_verbatim_then_bm25_then_document_order(
    q: str, solr: SolrEngine, seed_engine: Engine, corpus: dict[Key, str]
):
    plan = make_plan(parse_query(q), {}, solr.segment)
    ranked = list(solr.iter_matches(plan, batch=7))
    expected = expected_scores(solr, corpus, q)
    block = {f"{r.doc_id}/{r.para_id}": r.block for r in solr.records([k for k, _ in ranked])}
    assert {block[k] for k, _ in ranked} == set(expected)
    for key, score in ranked:
        assert score == pytest.approx(expected[block[key]], abs=2e-3), key
    order = sort_keys(solr)
    # scores as Solr computed them (32-bit floats): descending, ties in document order
    assert ranked == sorted(ranked, key=lambda kv: (-kv[1], order[kv[0]]))
    # pages: the same order, the same facets as the embedded engine, tiers as the embedded
    pages = [solr.match(plan, i, i + 10).ranked for i in range(0, len(ranked), 10)]
    assert [item for page in pages for item in page] == ranked
    theirs = list(seed_engine.iter_matches(make_plan(parse_query(q), {}, seed_engine.segment)))
    tiers = [int(s // EXACT_BOOST) for _, s in ranked]
    assert tiers == [int(s // EXACT_BOOST) for _, s in theirs]
    assert solr.match(plan).facets == seed_engine.match(plan).facets


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_date_sorts_equal_the_embedded_engine(sort: str, solr: SolrEngine, seed_engine: Engine):
    assert hits(solr, "经济", sort=sort) == hits(seed_engine, "经济", sort=sort)


# --- fuzzy, similar wording, suggestions, trends -------------------------------------------------


@pytest.mark.parametrize("q", ["三清两见", "乡村振兴战略实施", "乡贤反乡", "人居环竟整治"])
def test_fuzzy_gives_the_embedded_engine_results(q: str, solr: SolrEngine, seed_engine: Engine):
    ours = run_search(solr, SearchRequest(q=q, mode="fuzzy", page_size=10))
    theirs = run_search(seed_engine, SearchRequest(q=q, mode="fuzzy", page_size=10))
    assert ours.total == theirs.total > 0
    assert [(h.doc_id, h.para_id, h.similarity) for h in ours.hits] == [
        (h.doc_id, h.para_id, h.similarity) for h in theirs.hits
    ]
    assert ours.facets == theirs.facets


@pytest.mark.parametrize(
    "text", ["持续优化营商环境，推动经济高质量发展。", "深入推进三清两建，改善农村人居环境"]
)
def test_similar_wording_gives_the_embedded_engine_results(
    text: str, solr: SolrEngine, seed_engine: Engine
):
    ours = find_similar(solr, text).to_json()
    theirs = find_similar(seed_engine, text).to_json()
    assert ours["total"] > 0
    assert ours["sentences"][:10] == theirs["sentences"][:10]


def test_vocabulary_and_suggestions_equal(solr: SolrEngine, seed_engine: Engine):
    assert solr.vocabulary() == seed_engine.vocabulary()
    ours = run_search(solr, SearchRequest(q="三清两见"))
    theirs = run_search(seed_engine, SearchRequest(q="三清两见"))
    assert ours.suggestions == theirs.suggestions and ours.suggestions


@pytest.mark.parametrize(
    ("q", "mode", "scope"),
    [
        ("三清两建", "phrase", "paragraph"),
        ("发展 集体经济", "keyword", "paragraph"),
        ("的", "phrase", "paragraph"),
        ("乡村振兴 发展", "keyword", "paragraph"),  # 4 characters: occurrences from the texts
        ("发展 集体", "keyword", "sentence"),
    ],
)
def test_trend_and_towns_equal_the_embedded_engine(
    q: str, mode: str, scope: str, solr: SolrEngine, seed_engine: Engine
):
    request = SearchRequest(q=q, mode=mode, scope=scope)
    assert run_trend(solr, request).to_json() == run_trend(seed_engine, request).to_json()
    ours, theirs = town_usage(solr, request), town_usage(seed_engine, request)
    assert ours[0] == theirs[0] > 0

    def counts(usage: list) -> list:  # reports as a set: each in the order of its engine's hits
        key = operator.itemgetter("doc_id")
        return [(u.town, u.paragraphs, u.occurrences, sorted(u.reports, key=key)) for u in usage]

    assert counts(ours[1]) == counts(theirs[1])
    # Solr's own order: a town's best hit is its first in Solr's ranking; its reports come
    # by the tier of their first hit (within a tier by a facet's score, which may use
    # shard-local statistics)
    _, plan = plan_request(solr, request)
    ranked = list(solr.iter_matches(plan))
    tier: dict[str, int] = {}
    best: dict[str, str] = {}
    for record, (_, score) in zip(solr.records([k for k, _ in ranked]), ranked, strict=True):
        tier.setdefault(record.doc_id, int(score // EXACT_BOOST))
        best.setdefault(record.town, record.para_id)
    assert {u.town: u.best.para_id for u in ours[1]} == best
    for usage in ours[1]:
        tiers = [tier[r["doc_id"]] for r in usage.reports]
        assert tiers == sorted(tiers, reverse=True)


def test_occurrences_counted_by_the_index_equal_the_embedded_engine(
    solr: SolrEngine, seed_engine: Engine, units: dict[Key, str], monkeypatch: pytest.MonkeyPatch
):
    """Phrases of 3+ characters (and several terms): searchapp.ReportHits counts their
    occurrences by phrase frequency, not in the texts; the trend and the towns' counts are
    still the embedded engine's, for random phrases of the corpus and ones that overlap."""
    texts_read: list[str] = []
    plain = solr.verbatim_counts

    def verbatim_counts(plan: object, *args: object, **kwargs: object) -> object:
        texts_read.append(" ".join(t.units for t in plan.positive))  # type: ignore[attr-defined]
        return plain(plan, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(solr, "verbatim_counts", verbatim_counts)

    def same(request: SearchRequest) -> None:
        assert run_trend(solr, request).to_json() == run_trend(seed_engine, request).to_json()
        ours, theirs = town_usage(solr, request), town_usage(seed_engine, request)
        assert [(u.town, u.paragraphs, u.occurrences) for u in ours[1]] == [
            (u.town, u.paragraphs, u.occurrences) for u in theirs[1]
        ]

    @examples(40)
    @given(st.lists(substrings(sorted(units.values()), 8), min_size=1, max_size=2), st.booleans())
    def check(parts: list[str], quoted: bool) -> None:
        terms = [exact_key(p) for p in parts]
        assume(all(len(t) >= 3 and not overlaps_itself(t) for t in terms))
        assume(len(set(terms)) == len(terms) and all(t.isalnum() for t in terms))
        # unquoted, a term also matches by its words: hits without an occurrence count 1
        q = " ".join(f'"{t}"' if quoted else t for t in terms)
        same(SearchRequest(q=q, mode="keyword"))

    check()
    assert texts_read == []  # every count above came from the index
    for q in ["工作工作", "发展 乡村振兴", "乡村振兴 人居环境"]:  # the first overlaps itself
        same(SearchRequest(q=q))
    assert set(texts_read) == {"工作工作"}  # for the trend and the towns


# --- incremental updates, interrupted runs -------------------------------------------------------


def scan_corpus(corpus_dir: Path) -> set[Key]:
    return {
        (d.doc_id, p.para_id)
        for _, docs in load_corpus(corpus_dir)
        for d in docs
        for p in d.paragraphs
    }


def collection_keys(engine: SolrEngine) -> list[Key]:
    found = engine.client.select([("q", "kind:para"), ("rows", "100000"), ("fl", F.KEY)])
    return [tuple(d[F.KEY].split("/", 1)) for d in found["response"]["docs"]]  # type: ignore[misc]


class Interrupted(Exception):
    """An indexer killed in the middle of a run."""


def test_incremental_updates_and_an_interrupted_run(
    solr_cluster: ClusterInfo, tmp_path: Path, seed_config: Config, monkeypatch: pytest.MonkeyPatch
):
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_config.corpus_dir, corpus)
    name = new_collection("incremental")
    url = solr_cluster.solr_url
    first = index_solr(corpus, url, name, shards=2, replicas=1, procs=1)
    files = sorted(p for p in corpus.glob("*.txt"))
    changed, removed = files[0], files[1]
    changed.write_text(
        changed.read_text(encoding="utf-8") + "\n新增一段：推进智慧党建。\n", encoding="utf-8"
    )
    removed.unlink()
    (corpus / "new.txt").write_text(
        "某某镇2024年政府工作报告\n\n坚持三清两建不动摇。\n", encoding="utf-8"
    )

    def interrupt(path: str, done: int, total: int) -> None:
        raise Interrupted  # the run dies after its first file

    monkeypatch.setattr(solr_indexer, "BATCH_DOCS", 5)  # some paragraphs sent, none committed
    with pytest.raises(Interrupted):
        index_solr(corpus, url, name, procs=1, progress=interrupt)
    monkeypatch.undo()
    second = index_solr(corpus, url, name, procs=1)
    assert second.mode == "incremental"
    assert removed.name in second.removed and "new.txt" in second.added
    assert changed.name in second.updated
    engine = open_solr_engine(url, name)
    keys = collection_keys(engine)
    assert len(keys) == len(set(keys))  # nothing duplicated
    assert set(keys) == scan_corpus(corpus)  # nothing lost
    assert engine.meta["paragraphs"] == len(keys) != first.paragraphs
    # the same ids and records as an embedded index of the same folder
    embedded = tmp_path / "index"
    build_index(corpus, embedded, procs=1)
    reference = open_engine(embedded)
    for doc_id in sorted({d for d, _ in keys}):
        assert sorted(engine.document(doc_id), key=lambda r: r.ordinal) == sorted(
            reference.document(doc_id), key=lambda r: r.ordinal
        )
    assert set(hits(engine, "三清两建", "phrase")) == set(hits(reference, "三清两建", "phrase"))
    reference.close()
    assert index_solr(corpus, url, name, procs=1).mode == "unchanged"
    check_file_reports(engine, corpus, second)


def check_file_reports(engine: SolrEngine, corpus: Path, report: IndexReport) -> None:
    """Each file's report is a document of its own, not a list in the meta document that
    grows with the corpus; an incremental run rewrites the reports it changes."""
    stored = engine.client.get([("id", "_meta"), ("fl", "meta_json")])["doc"]["meta_json"]
    assert "files" not in json.loads(stored)["meta"]
    on_disk = sorted(p.relative_to(corpus).as_posix() for p in iter_corpus_files(corpus))
    reports = engine.file_reports()
    assert [f["path"] for f in reports] == on_disk
    assert {f["path"]: f["paragraphs"] for f in reports} == {
        f.path: f.paragraphs for f in report.files
    }
    touched, edited = corpus / "new.txt", corpus / on_disk[0]
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    assert index_solr(corpus, engine.solr_url, engine.collection, procs=1).mode == "unchanged"
    recorded = {f["path"]: f for f in solr_tokens.file_reports(engine.client, engine.meta)}
    # the unchanged run recorded the touched file's new time: the next run does not hash it
    assert recorded["new.txt"]["mtime"] == [touched.stat().st_size, touched.stat().st_mtime_ns]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n又一段。\n", encoding="utf-8")
    third = index_solr(corpus, engine.solr_url, engine.collection, procs=1)
    assert third.mode == "incremental" and third.updated == [edited.name]
    engine.load_meta()
    after = {f["path"]: f for f in engine.file_reports()}
    assert list(after) == on_disk
    assert after["new.txt"]["mtime"] == [touched.stat().st_size, touched.stat().st_mtime_ns]
    assert after[edited.name]["paragraphs"] == reports[0]["paragraphs"] + 1


# --- faults --------------------------------------------------------------------------------------


def replica_nodes(url: str, collection: str) -> dict[str, set[str]]:
    """shard → the node names holding its replicas."""
    status = solr_get(url, "/admin/collections", action="CLUSTERSTATUS", collection=collection)
    shards = collection_state(status, collection)["shards"]
    return {s: {r["node_name"] for r in shard["replicas"].values()} for s, shard in shards.items()}


def test_a_full_build_reads_each_file_once_and_an_older_schema_is_rebuilt(
    solr_cluster: ClusterInfo, tmp_path: Path, seed_config: Config, monkeypatch: pytest.MonkeyPatch
):
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_config.corpus_dir, corpus)
    spool_parent = tmp_path / "tmp"
    spool_parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool_parent))
    loads: Counter[Path] = Counter()
    load_file = solr_indexer.load_file

    def counted(path: Path, *args: object) -> object:
        loads[path] += 1
        return load_file(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(solr_indexer, "load_file", counted)
    name = new_collection("once")
    url = solr_cluster.solr_url

    def commit_the_build(path: str, done: int, total: int) -> None:
        # a commit after each file flushes a segment of its own: several before the merge
        for build in list_collections(url):
            if build.startswith(f"{name}{solr_indexer.BUILD_MARK}"):
                SolrClient(url, build).update(b'{"commit": {}}')

    monkeypatch.setattr(solr_indexer, "BATCH_DOCS", 20)
    first = index_solr(corpus, url, name, shards=1, replicas=1, procs=1, progress=commit_the_build)
    # slogan mining and the paragraphs come from one parse of each file, the spool removed
    assert first.mode == "full" and first.paragraphs == seed_config_paragraphs(seed_config)
    assert loads == Counter(iter_corpus_files(corpus)) and not list(spool_parent.iterdir())
    client = SolrClient(url, name)
    client.connect()
    luke = client.call(f"/{name}/admin/luke", [("numTerms", "0"), ("show", "index")])
    assert luke["index"]["segmentCount"] == 1  # merged before it went live

    # A collection whose meta names no configset (or another one) was made with an older
    # schema, which lacks the fields sent now: the next run is a full build, not an error.
    engine = open_solr_engine(url, name)
    try:
        meta_json = json.loads(
            engine.client.get([("id", solr_tokens.META_KEY)])["doc"]["meta_json"]
        )
    finally:
        engine.close()
    live = solr_indexer.live_collection(url, name)
    meta_json["meta"].pop("configset")
    old = solr_tokens.meta_document(meta_json["meta"], meta_json["words"])
    client.update(json.dumps([old]).encode("utf-8"), [("commit", "true")])
    second = index_solr(corpus, url, name, shards=1, replicas=1, procs=1)
    assert second.mode == "full" and second.paragraphs == first.paragraphs
    assert solr_indexer.live_collection(url, name) != live
    assert index_solr(corpus, url, name, shards=1, replicas=1, procs=1).mode == "unchanged"


def test_one_indexing_run_at_a_time_on_a_name(
    solr_cluster: ClusterInfo, tmp_path: Path, seed_config: Config
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(seed_config.corpus_dir.glob("*.txt"))[:2]:
        shutil.copy(path, corpus / path.name)
    name = new_collection("locked")
    url = solr_cluster.solr_url
    index_solr(corpus, url, name, procs=1)  # the first build: no live collection, no lock
    (corpus / "new.txt").write_text(
        "某某镇2024年政府工作报告\n\n推进三清两建。\n", encoding="utf-8"
    )
    refused: list[str] = []

    def meanwhile(path: str, done: int, total: int) -> None:
        if refused:
            return
        for rebuild in (False, True):  # a second run, incremental or full, while this one runs
            with pytest.raises(IndexLocked, match=f"进程 {os.getpid()}") as raised:
                index_solr(corpus, url, name, procs=1, rebuild=rebuild)
            refused.append(raised.value.message)

    builds_before = set(list_collections(url))
    assert index_solr(corpus, url, name, procs=1, progress=meanwhile).mode == "incremental"
    assert len(refused) == 2 and set(list_collections(url)) == builds_before  # nothing deleted
    assert index_solr(corpus, url, name, procs=1).mode == "unchanged"  # released

    client = SolrClient(url, solr_indexer.live_collection(url, name) or name)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()

    def leave_lock(host: str, pid: int) -> None:
        who = {"host": host, "pid": pid, "since": "2026-12-01T00:00:00+0000"}
        client.update(json.dumps([solr_lock.lock_document(who)]).encode("utf-8"))

    leave_lock(socket.gethostname(), ended.pid)  # a run killed outright on this machine
    assert index_solr(corpus, url, name, procs=1).mode == "unchanged"  # taken over
    leave_lock("another-machine", 1)  # cannot be checked from here
    with pytest.raises(IndexLocked, match="another-machine"):
        index_solr(corpus, url, name, procs=1)
    assert index_solr(corpus, url, name, procs=1, break_lock=True).mode == "unchanged"
    assert solr_lock.current_holder(client) is None


def seed_config_paragraphs(config: Config) -> int:
    return sum(len(d.paragraphs) for _, docs in load_corpus(config.corpus_dir) for d in docs)


def test_a_killed_node_leaves_searches_complete_and_a_lost_shard_is_reported(
    solr_cluster: ClusterInfo, collection: str, seed_config: Config, tmp_path: Path
):
    info = read_cluster(solr_cluster.directory)
    assert info is not None
    single = new_collection("single")
    small = tmp_path / "small"
    small.mkdir()
    for path in sorted(seed_config.corpus_dir.glob("*.txt"))[:3]:
        shutil.copy(path, small / path.name)
    index_solr(small, info.solr_url, single, shards=2, replicas=1, procs=1)
    victim = 0  # the node the engines were given: requests fail over to the others
    victim_name = info.nodes[victim].node_name
    lost = [s for s, nodes in replica_nodes(info.solr_url, single).items() if victim_name in nodes]
    engine = open_solr_engine(info.solr_url, collection)
    partial = open_solr_engine(info.solr_url, single)
    request = SearchRequest(q="发展", page_size=5)
    before = run_search(engine, request).to_json()
    partial_total = run_search(partial, request).total
    errors: list[str] = []
    totals: list[int] = []
    stop = threading.Event()

    def search() -> None:  # searches already running when the node dies
        while not stop.is_set():
            try:
                totals.append(run_search(engine, request).total)
            except Exception as exc:  # every failure is the finding
                errors.append(repr(exc))

    loop = threading.Thread(target=search)
    loop.start()
    time.sleep(0.5)
    try:
        kill_node(info, victim)
        time.sleep(2.0)
    finally:
        stop.set()
        loop.join()
    try:
        assert errors == [] and set(totals) == {before["total"]} and len(totals) > 5
        for _ in range(3):
            after = run_search(engine, request).to_json()
            assert (after["total"], after["facets"], after["hits"]) == (
                before["total"],
                before["facets"],
                before["hits"],
            )
            assert not after["notices"]
        assert run_trend(engine, SearchRequest(q="三清两建", mode="phrase")).total > 0
        if lost:  # a shard of the single-replica collection has no live replica now
            matches = partial.match(make_plan(parse_query("发展"), {}, partial.segment))
            assert matches.total < partial_total
            assert matches.notices and "不完整" in matches.notices[0]
            with pytest.raises(IncompleteResults, match="不完整"):
                partial.count_exact("发展")
    finally:
        restarted = restart_node(info, victim)
    assert process_running(restarted.nodes[victim].pid)


def test_a_refused_update_is_not_sent_again(solr: SolrEngine, monkeypatch: pytest.MonkeyPatch):
    client = SolrClient(solr.solr_url, solr.collection)
    client.connect()
    sent: list[str] = []
    post = client.post
    monkeypatch.setattr(client, "post", lambda url, *rest: sent.append(url) or post(url, *rest))
    with pytest.raises(RequestRefused, match="bogus"):
        client.update(b'{"optimize": {"bogus": 1}}')  # a 400: the same on every node, every time
    assert len(sent) == 1


def test_unreachable_solr_gives_a_clear_error(solr: SolrEngine):
    dead = f"http://127.0.0.1:{free_port()}/solr"
    with pytest.raises(BackendUnavailable, match="无法连接 Solr") as raised:
        open_solr_engine(dead, "seeds")
    assert raised.value.status == 503 and "searchapp cluster status" in str(raised.value)
    with pytest.raises(SearchAppError):
        index_solr(Path("/nonexistent"), dead, "seeds")
    cut_off = open_solr_engine(solr.solr_url, solr.collection)
    cut_off.client.urls = [dead]  # every node gone mid-session
    with pytest.raises(BackendUnavailable, match="无法连接 Solr"):
        run_search(cut_off, SearchRequest(q="发展"))


def test_a_missing_collection_says_how_to_build_it(solr_cluster: ClusterInfo):

    with pytest.raises(IndexMissing, match="searchapp index --backend solr"):
        open_solr_engine(solr_cluster.solr_url, "no_such_collection")


def test_the_meta_and_block_documents_are_never_hits(
    solr: SolrEngine, units: dict[Key, str], corpus: dict[Key, str]
):
    """Paragraph scope counts author paragraphs (a cut one once, as its block document),
    the other scopes records; the meta document is neither."""
    paragraphs = solr.status()["paragraphs"]
    assert paragraphs == len(corpus) > len(units)  # the seeds have cut paragraphs
    assert run_search(solr, SearchRequest(q="-不存在的词语")).total == len(units)
    assert run_search(solr, SearchRequest(q="-不存在的词语", scope="sentence")).total == paragraphs
    facet = json.dumps({"k": {"type": "terms", "field": "kind"}})
    found = solr.client.select([("q", "*:*"), ("rows", "0"), ("json.facet", facet)])
    kinds = {b["val"]: b["count"] for b in found["facets"]["k"]["buckets"]}
    records = set(corpus.values())
    blocks = sum(1 for text in units.values() if text not in records)  # the cut ones
    files = len(solr.file_reports())
    assert kinds == {"para": paragraphs, "block": blocks, "meta": 1, "file": files}


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_reports_without_a_year_sort_last(solr_cluster: ClusterInfo, tmp_path: Path, sort: str):
    from test_query import DATED_AND_UNDATED, SORTED_SOURCES, sources_in_date_order

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DATED_AND_UNDATED.items():
        (corpus / name).write_text(text, encoding="utf-8")
    name = new_collection(f"undated-{sort}")
    index_solr(corpus, solr_cluster.solr_url, name, shards=2, replicas=1, procs=1)
    engine = open_solr_engine(solr_cluster.solr_url, name)
    try:
        assert sources_in_date_order(engine, sort) == SORTED_SOURCES[sort]
    finally:
        engine.close()


@pytest.mark.parametrize(("q", "options"), [(q, o) for q, o in QUERIES if "scope" not in o])
def test_facets_counted_by_report_equal_one_terms_facet_a_column(
    q: str, options: dict, solr: SolrEngine
):
    request = SearchRequest(q=q, **options)
    by_report = run_search(solr, request)
    built = solr.build_id()
    assert solr._counted[built] is True  # the local cluster's nodes serve /counted
    solr._counted[built] = False  # as on a cluster without searchapp's jar
    try:
        by_column = run_search(solr, request)
    finally:
        solr._counted[built] = True
    assert by_report.total == by_column.total > 0
    assert by_report.facets == by_column.facets
    for name, counts in by_report.facets.items():
        assert list(counts.items()) == list(by_column.facets[name].items())  # order too


def test_a_cluster_without_the_counted_handler_gets_the_same_facets(
    solr: SolrEngine, monkeypatch: pytest.MonkeyPatch
):
    request = SearchRequest(q="发展")
    expected = run_search(solr, request).facets
    built = solr.build_id()
    monkeypatch.delitem(solr._counted, built)
    plain = solr.client.select
    handlers = []

    def select(params: list, handler: str = "/select") -> dict:
        handlers.append(handler)
        if handler == "/counted":  # what Solr answers when the configset has no such handler
            raise IndexMissing("no /counted")
        return plain(params, handler)

    monkeypatch.setattr(solr.client, "select", select)
    assert run_search(solr, request).facets == expected
    assert run_search(solr, request).facets == expected
    assert handlers == ["/counted", "/select", "/select"]  # asked once, then not again
    assert solr._counted[built] is False
