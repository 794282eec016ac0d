"""Issue 22 part 1: a paragraph cut into pieces matches as one unit in paragraph scope.

A corpus of generated reports whose paragraphs run to 2,600 characters (cut into pieces
of about 450) is searched with random AND / OR / NOT queries on both backends, against
a scan of the author paragraphs read from the files (oracle.py): terms from anywhere in
a paragraph, across a cut included; the hit is one piece of its paragraph, the one that
holds the most terms.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import author_paragraphs, corpus_paragraphs, hit_key
from solr_fixture import new_collection

from searchapp import fields as F
from searchapp.analysis import exact_key, segment, words_among
from searchapp.cluster import ClusterInfo
from searchapp.documents import split_long_paragraph
from searchapp.embedded import build_index
from searchapp.embedded import indexer as embedded_indexer
from searchapp.engine import Engine, open_engine
from searchapp.plan import make_plan, representative
from searchapp.querylang import ParsedQuery, parse_query
from searchapp.results import SearchRequest
from searchapp.search import run_search, run_trend, town_table
from searchapp.solr import index_solr, open_solr_engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SENTENCE_ENDS = "。！？；"
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# the issue's example: 垃圾分类 near the start of a 1,600-character paragraph, 人居环境 near its end
FILLER = "".join(f"第{n}项工作稳步推进，全镇上下团结一心，群众满意度不断提升。" for n in range(53))
EXAMPLE = "我镇推进垃圾分类工作，取得明显成效。" + FILLER + "持续改善农村人居环境。"
ISSUE_WORDS = ("垃圾分类", "人居环境")  # kept out of the generated paragraphs


def seed_sentences() -> list[str]:
    """The seeds' sentences (what the generated paragraphs are made of)."""
    sentences = []
    for path in sorted((PROJECT_ROOT / "seeds").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        current = ""
        for ch in text.replace("\n", ""):
            current += ch
            if ch in SENTENCE_ENDS:
                if 8 <= len(current) <= 120 and not any(w in current for w in ISSUE_WORDS):
                    sentences.append(current.strip())
                current = ""
    return sentences


def generated_corpus(folder: Path) -> Path:
    """Six reports of long and short paragraphs made of seed sentences (fixed seed)."""
    rng = random.Random(22)
    sentences = seed_sentences()
    towns = ["甲山镇", "乙水镇", "丙河乡", "丁岭镇", "戊川镇", "己原乡"]
    folder.mkdir(parents=True)
    for n, town in enumerate(towns):
        paragraphs = [f"{town}2023年政府工作报告", "一、2022年工作回顾"]
        for _ in range(6):
            target = rng.choice([150, 600, 1100, 1600, 2600])
            text = ""
            while len(text) < target:
                text += rng.choice(sentences)
            paragraphs.append(text)
        if n == 0:
            paragraphs.append(EXAMPLE)
        (folder / f"{n}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_corpus(tmp_path_factory.mktemp("long-paragraphs") / "corpus")


@pytest.fixture(scope="module")
def embedded(corpus_dir: Path) -> Iterator[Engine]:
    index_dir = corpus_dir.parent / "index"
    build_index(corpus_dir, index_dir, procs=1)
    engine = open_engine(index_dir)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def scattered(corpus_dir: Path) -> Iterator[Engine]:
    """The corpus written with each report's even-placed paragraphs before its odd ones,
    by two writer processes dealt three documents at a time: the pieces of a cut
    paragraph are apart, often in different segments, as Whoosh's parallel writer can
    leave them (the dealing alone scatters them only when the processes race)."""
    index_dir = corpus_dir.parent / "scattered"
    in_order = embedded_indexer.paragraph_fields

    def evens_first(*args: Any) -> list[dict[str, Any]]:
        rows = list(in_order(*args))
        return rows[::2] + rows[1::2]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedded_indexer, "WRITER_BATCH", 3)
        patch.setattr(embedded_indexer, "paragraph_fields", evens_first)
        build_index(corpus_dir, index_dir, procs=2)
    engine = open_engine(index_dir)
    blocks = engine.blocks  # type: ignore[attr-defined]
    gaps = [np.diff(blocks.siblings(int(first))) for first in blocks.members[blocks.starts]]
    assert any((gap != 1).any() for gap in gaps)  # some pieces are apart
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def solr(solr_cluster: ClusterInfo, corpus_dir: Path) -> Iterator[Engine]:
    name = new_collection("long")
    index_solr(corpus_dir, solr_cluster.solr_url, name, shards=2, replicas=1, procs=1)
    engine = open_solr_engine(solr_cluster.solr_url, name)
    yield engine
    engine.close()


@pytest.fixture(params=["embedded", "scattered", pytest.param("solr", marks=pytest.mark.solr)])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def records(corpus_dir: Path) -> list[dict[str, Any]]:
    rows = corpus_paragraphs(corpus_dir)
    assert sum(1 for r in rows if r[F.PIECES] > 1) > 20  # many pieces of cut paragraphs
    return rows


class Scan:
    """plan.py's matching over author paragraphs: verbatim in the pieces' exact-match
    forms one after another, or (unquoted) every word in some piece of it."""

    def __init__(self, records: list[dict[str, Any]], words: tuple[str, ...]) -> None:
        self.words = words
        self.units = author_paragraphs(records)
        self.keys = [exact_key(u[F.TEXT]) for u in self.units]
        held: dict[str, set[str]] = {}
        for r in records:
            held.setdefault(r[F.BLOCK], set()).update(segment(r[F.TEXT], words))
        self.held = [held[u[F.BLOCK]] for u in self.units]

    def holds(self, i: int, text: str, quoted: bool) -> bool:
        if exact_key(text) in self.keys[i]:
            return True
        parts = set(segment(text, self.words))
        return not quoted and bool(parts) and parts <= self.held[i]

    def hits(self, q: str) -> set[tuple[str, str]]:
        parsed = parse_query(q)
        found = set()
        for i, unit in enumerate(self.units):
            if not all(any(self.holds(i, a.text, a.quoted) for a in g) for g in parsed.groups):
                continue
            if any(exact_key(a.text) in self.keys[i] for a in parsed.excluded):
                continue
            found.add((unit[F.DOC_ID], unit[F.PARA_ID]))
        return found


def matches_by_terms(parsed: ParsedQuery) -> bool:
    """Whether a generated query has positive terms to match (not only exclusions)."""
    return not parsed.empty and bool(parsed.groups)


@st.composite
def terms(draw: st.DrawFn, records: list[dict[str, Any]]) -> str:
    """A substring of a cut paragraph: anywhere, or across one of its cuts."""
    units = [u for u in author_paragraphs(records) if len(u[F.TEXT]) > 1000]
    unit = draw(st.sampled_from(units))
    text = unit[F.TEXT]
    pieces = [r[F.TEXT] for r in records if r[F.BLOCK] == unit[F.BLOCK]]
    cuts = [sum(len(p) for p in pieces[:i]) for i in range(1, len(pieces))]
    length = draw(st.integers(min_value=2, max_value=8))
    if draw(st.booleans()):  # across a cut
        cut = draw(st.sampled_from(cuts))
        start = cut - draw(st.integers(min_value=1, max_value=length - 1))
    else:
        start = draw(st.integers(min_value=0, max_value=len(text) - length))
    return "".join(ch for ch in text[start : start + length] if ch.isalnum() or ch in "，。")


@st.composite
def queries(draw: st.DrawFn, records: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        term = draw(terms(records))
        if not exact_key(term) or term in {"OR", "NOT", "AND"}:
            continue
        kind = draw(st.sampled_from(["plain", "plain", "quoted", "or", "not"]))
        if kind == "quoted":
            parts.append(f'"{term}"')
        elif kind == "not":
            parts.append(f'-"{term}"')
        else:
            parts.append(("OR " if kind == "or" and parts else "") + term)
    return " ".join(parts)


def test_and_or_not_equal_a_scan_of_the_author_paragraphs(
    engine: Engine, records: list[dict[str, Any]]
):
    scan = Scan(records, engine.words)  # type: ignore[attr-defined]
    pieces = {(r[F.DOC_ID], r[F.PARA_ID]): r for r in records}

    @PROPERTY
    @given(queries(records))
    def check(q: str) -> None:
        parsed = parse_query(q)
        if not matches_by_terms(parsed):
            return
        page = run_search(engine, SearchRequest(q=q, all=True), max_query_chars=500)
        keys = [hit_key(h) for h in page.hits]
        assert len(keys) == len(set(keys)) == page.total, q  # one hit an author paragraph
        assert set(keys) == scan.hits(q), q
        for hit in page.hits:  # the hit is a piece of its paragraph
            piece = pieces[(hit.doc_id, hit.para_id)]
            assert hit.block == piece[F.BLOCK] and hit.piece == piece[F.PIECE], q
            assert len(hit.piece_ids) == piece[F.PIECES] and hit.piece_ids[hit.piece] == hit.para_id

    check()


def test_the_issues_paragraph_is_found_by_both_of_its_words(engine: Engine):
    """垃圾分类 near the start, 人居环境 near the end of 1,600 characters: one hit, in the
    piece holding 垃圾分类 (the earliest of those holding a term), the snippet showing both."""
    assert len(EXAMPLE) > 1600
    page = run_search(engine, SearchRequest(q="垃圾分类 人居环境"))
    assert page.total == 1
    (hit,) = page.hits
    assert hit.piece == 0 and "垃圾分类" in hit.text and "人居环境" not in hit.text
    assert len(hit.piece_ids) >= 4
    assert "<mark>垃圾分类</mark>" in hit.snippet and "<mark>人居环境</mark>" in hit.snippet
    assert run_search(engine, SearchRequest(q="垃圾分类 -人居环境")).total == 0
    assert run_search(engine, SearchRequest(q="垃圾分类 人居环境", scope="sentence")).total == 0
    # a phrase held only across a cut (each 第N项 once), and the towns' and trend's counts
    cut = len(split_long_paragraph(EXAMPLE)[0])
    across = EXAMPLE[cut - 3 : cut + 4]
    assert across.count("。") == 1 and EXAMPLE.count(across) == 1
    found = run_search(engine, SearchRequest(q=across, mode="phrase"))
    assert found.total == 1 and found.hits[0].piece == 0  # the piece it starts in
    table = town_table(engine, SearchRequest(q="人居环境 垃圾分类"))
    assert table.total == 1 and table.usages()[0].occurrences == 2
    trend = run_trend(engine, SearchRequest(q="垃圾分类 人居环境"))
    assert [(y.year, y.paragraphs, y.occurrences) for y in trend.years] == [(2023, 1, 2)]


@pytest.mark.solr
def test_both_backends_give_the_same_hits(embedded: Engine, solr: Engine):
    """The same representing pieces and the same facets."""
    for q in ["发展 建设", "乡村振兴 -疫情", '"工作" 群众', "垃圾分类 人居环境", "推进 OR 实施"]:
        ours = run_search(solr, SearchRequest(q=q, all=True))
        theirs = run_search(embedded, SearchRequest(q=q, all=True))
        assert ours.total == theirs.total > 0, q
        assert {(h.doc_id, h.para_id) for h in ours.hits} == {
            (h.doc_id, h.para_id) for h in theirs.hits
        }, q
        assert ours.facets == theirs.facets, q


def segmented_representative(
    plan: Any, pieces: list[dict[str, Any]], words: tuple[str, ...]
) -> int:
    """plan.representative's rule with every piece segmented in full: the most positive
    terms (verbatim, across a cut from it, or by all words), the most scoring words, the
    earliest."""
    units = [exact_key(p[F.TEXT]) for p in pieces]
    held_words = [{w for t in segment(p[F.TEXT], words) for w in t.split()} for p in pieces]
    whole, starts = "".join(units), [sum(len(u) for u in units[:i]) for i in range(len(units))]
    held = [0] * len(pieces)
    for term in plan.positive:
        for i in range(len(pieces)):
            by_words = not term.quoted and term.words and set(term.words) <= held_words[i]
            across = any(
                whole.startswith(term.units, at)
                and at + len(term.units) > starts[i] + len(units[i])
                for at in range(starts[i], starts[i] + len(units[i]))
            )
            held[i] += bool(term.units in units[i] or by_words or across)
    scoring = set(plan.scoring_words)
    return min(range(len(pieces)), key=lambda i: (-held[i], -len(scoring & held_words[i]), i))


def test_the_representative_piece_needs_no_full_segmentation(
    embedded: Engine, records: list[dict[str, Any]]
):
    """The shortcut (jieba only where a wanted word is written) picks the piece that
    segmenting every piece picks, for random queries on every cut paragraph they match."""
    words = embedded.words  # type: ignore[attr-defined]
    blocks: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r[F.PIECES] > 1:
            blocks.setdefault(r[F.BLOCK], []).append(r)
    groups = [sorted(g, key=lambda r: r[F.PIECE]) for g in blocks.values()]

    @PROPERTY
    @given(queries(records))
    def check(q: str) -> None:
        parsed = parse_query(q)
        if not matches_by_terms(parsed):
            return
        plan = make_plan(parsed, {}, lambda text: segment(text, words))
        for pieces in groups:
            fast = representative(plan, pieces, lambda t, w: words_among(t, w, words))
            assert fast == segmented_representative(plan, pieces, words), q

    check()


@pytest.mark.parametrize("scope", ["paragraph", "sentence"])
def test_one_words_best_hits_from_its_postings_equal_scoring_every_hit(
    embedded: Engine, scattered: Engine, scope: str, monkeypatch: pytest.MonkeyPatch
):
    """The top-k of a one-word query taken from the word's postings (the pieces of cut
    paragraphs scored apart, as their paragraph) is exactly the order of scoring every
    hit: the same hits, the same scores, ties by document order."""
    from searchapp.embedded import engine as embedded_engine

    compared = 0
    for engine in (embedded, scattered):
        words = sorted({w for f in engine.files for w in f.vocabulary if len(w) >= 2})  # type: ignore[attr-defined]
        for word in words[:: max(1, len(words) // 150)]:
            plan = make_plan(parse_query(word), {}, engine.segment, scope=scope)  # type: ignore[attr-defined]
            hits = engine.hit_bits(plan)  # type: ignore[attr-defined]
            for _, tier in engine.verbatim_tiers(plan, hits):  # type: ignore[attr-defined]
                for k in (1, 3, 10):
                    fast = engine.one_word_order(plan, tier, 7.0, k)  # type: ignore[attr-defined]
                    if fast is None:
                        continue
                    with monkeypatch.context() as patch:
                        patch.setattr(embedded_engine, "FEW_HITS", 10**9)  # every hit scored
                        slow = engine.tier_order(plan, tier, 7.0, k)  # type: ignore[attr-defined]
                    assert fast[0].tolist() == slow[0].tolist(), (word, k)
                    assert fast[1].tolist() == slow[1].tolist(), (word, k)
                    compared += 1
    assert compared > 100
