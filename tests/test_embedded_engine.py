"""The embedded engine against a brute-force scan, on multi-segment and updated indexes;
its whoosh3 reads, its sharing between threads, its lifecycle in the web store."""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import author_paragraphs, corpus_paragraphs, hit_key

from searchapp import fields as F
from searchapp.analysis import exact_key, exact_units, segment
from searchapp.embedded import EmbeddedEngine, build_index, open_live, whoosh_io
from searchapp.embedded import engine as embedded_engine
from searchapp.embedded.codec import ids_from_bits
from searchapp.embedded.engine import LruCache
from searchapp.embedded.indexer import open_index
from searchapp.errors import IndexIncompatible
from searchapp.plan import make_plan
from searchapp.querylang import parse_query
from searchapp.results import Record, SearchRequest
from searchapp.search import merged_filters, plan_request, run_search, run_trend, town_table

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT_ROOT / "seeds"
PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def build_copy(root: Path, procs: int) -> Path:
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    build_index(corpus, root / "index", procs=procs)
    return corpus


@pytest.fixture(scope="module")
def multi_segment_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("multi-segment")
    build_copy(root, procs=2)
    return root / "index"


@pytest.fixture(scope="module")
def deleted_docs_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built, then one file removed and one changed: an incremental update deletes docs."""
    root = tmp_path_factory.mktemp("deleted")
    corpus = build_copy(root, procs=2)
    files = sorted(corpus.glob("*.txt"))
    files[0].unlink()
    text = files[1].read_text(encoding="utf-8")
    files[1].write_text(text[: len(text) // 2] + "\n推进数字政府建设，三清两建。\n", "utf-8")
    assert build_index(corpus, root / "index", procs=1).mode == "incremental"
    return root / "index"


def live_paragraphs(index_dir: Path) -> list[dict[str, Any]]:
    """Every author paragraph the corpus holds now, read from its files (the oracle)."""
    return author_paragraphs(corpus_paragraphs(index_dir.parent / "corpus"))


class BruteForce:
    """plan.py's matching rules, applied to every paragraph in turn."""

    def __init__(self, rows: list[dict[str, Any]], words: tuple[str, ...]) -> None:
        self.rows = rows
        self.words = words
        self.keys = [exact_key(r[F.TEXT]) for r in rows]
        self.cut = [set(segment(r[F.TEXT], words)) for r in rows]

    def holds(self, i: int, text: str, quoted: bool) -> bool:
        if exact_key(text) in self.keys[i]:
            return True
        parts = set(segment(text, self.words))
        return not quoted and bool(parts) and parts <= self.cut[i]

    def hits(self, q: str, request: SearchRequest) -> set[tuple[str, str]]:
        parsed = parse_query(q)
        filters = merged_filters(parsed, request)
        found = set()
        for i, row in enumerate(self.rows):
            if any(row[name] not in values for name, values in filters.items()):
                continue
            if not all(any(self.holds(i, a.text, a.quoted) for a in g) for g in parsed.groups):
                continue
            if any(exact_key(a.text) in self.keys[i] for a in parsed.excluded):
                continue
            found.add((row[F.DOC_ID], row[F.PARA_ID]))
        return found


@st.composite
def queries(draw: st.DrawFn, rows: list[dict[str, Any]]) -> str:
    """Terms (substrings), quotes, OR, NOT and filters, in any mix."""
    texts = sorted(r[F.TEXT] for r in rows)
    parts: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        text = draw(st.sampled_from(texts))
        length = draw(st.integers(min_value=1, max_value=min(6, len(text))))
        start = draw(st.integers(min_value=0, max_value=len(text) - length))
        term = "".join(ch for ch in text[start : start + length] if ch.isalnum())
        if not term or term in {"OR", "NOT", "AND"}:
            continue
        kind = draw(st.sampled_from(["plain", "plain", "quoted", "or", "not"]))
        prefix = {"plain": "", "quoted": "", "or": "OR " if parts else "", "not": "-"}[kind]
        parts.append(f'"{term}"' if kind == "quoted" else prefix + term)
    for name, key in (("town", F.TOWN), ("year", F.YEAR), ("type", F.DOC_TYPE)):
        if draw(st.integers(0, 4)) == 0:
            value = draw(st.sampled_from(rows))[key]
            if value:
                parts.append(f"{name}:{value}")
    return " ".join(parts)


@pytest.mark.parametrize("which", ["multi", "deleted", "multi, facets on threads"])
def test_hits_totals_facets_and_pages_equal_a_scan(
    which: str,
    multi_segment_index: Path,
    deleted_docs_index: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    if which.endswith("threads"):  # every search counts its facets beside its ranking
        monkeypatch.setattr(embedded_engine, "PARALLEL_HITS", 0)
    index_dir = deleted_docs_index if which == "deleted" else multi_segment_index
    engine = EmbeddedEngine(Path(open_index(index_dir)[0].storage.folder))
    assert len(engine.leaves) > 1
    if which == "deleted":
        assert any(leaf.deleted for leaf in engine.leaves)
    rows = live_paragraphs(index_dir)
    assert engine.headings()  # the section facet has values to count
    scan = BruteForce(rows, engine.words)
    by_key = {(r[F.DOC_ID], r[F.PARA_ID]): r for r in rows}

    @PROPERTY
    @given(queries(rows), st.integers(1, 3))
    def check(q: str, page: int) -> None:
        everything = run_search(engine, SearchRequest(q=q, all=True), max_query_chars=500)
        keys = [hit_key(h) for h in everything.hits]
        expected = scan.hits(q, SearchRequest(q=q))
        if parse_query(q).empty:
            assert everything.total == 0  # nothing asked: nothing found
            return
        assert set(keys) == expected and len(keys) == len(expected) == everything.total, q
        for name in F.FACET_FIELDS:
            counts = Counter(by_key[k][name] for k in keys)
            assert everything.facets[name] == {v: n for v, n in counts.items()}, (q, name)
            most_first = sorted(counts, key=lambda v: (-counts[v], str(v)))
            assert list(everything.facets[name]) == most_first, (q, name)
        # the section facet counts the hits the section filter would keep, most first
        hits = engine.hit_bits(plan_request(engine, SearchRequest(q=q))[1])
        under = [(h, (engine.heading_bits(h) & hits).bit_count()) for h in engine.headings()]
        under.sort(key=lambda hn: -hn[1])
        assert list(everything.facets[F.SECTION].items()) == [(h, n) for h, n in under if n], q
        one = run_search(engine, SearchRequest(q=q, page=page, page_size=4), max_query_chars=500)
        assert [hit_key(h) for h in one.hits] == keys[(page - 1) * 4 : page * 4]

    check()
    engine.close()


@pytest.mark.parametrize("which", ["multi", "deleted"])
def test_columns_read_in_bulk_equal_whooshs(
    which: str, multi_segment_index: Path, deleted_docs_index: Path
):
    ix, _ = open_index(multi_segment_index if which == "multi" else deleted_docs_index)
    with ix.reader() as reader:
        leaves = whoosh_io.check_reader(reader)
        for name in (F.SORT_KEY, F.SECTION_KEY):
            assert whoosh_io.column_values(leaves, name) == list(reader.column_reader(name))


def test_a_changed_whoosh3_is_refused_at_open(seed_config: Any, monkeypatch: pytest.MonkeyPatch):
    """A whoosh3 release whose internals moved: a clear error when the engine opens."""

    def moved(*args: Any) -> None:
        raise AttributeError("'VarBytesColumn.Reader' object has no attribute '_lengths'")

    monkeypatch.setattr(whoosh_io, "column_values", moved)
    generation = Path(open_index(seed_config.index_dir)[0].storage.folder)
    with pytest.raises(IndexIncompatible, match="whoosh3"):
        EmbeddedEngine(generation)


def test_threads_share_one_engine(seed_engine: Any):
    qs = ["发展", "乡村振兴 治理", "三清两建 OR 三变改革", '"二十大精神"', "集体经济 -疫情"]
    expected = {}
    for q in qs:
        data = run_search(seed_engine, SearchRequest(q=q)).to_json()
        del data["elapsed_ms"]
        expected[q] = data
    fresh = EmbeddedEngine(seed_engine.path)  # cold caches, filled by racing threads
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(20):
                q = qs[(i + offset) % len(qs)]
                data = run_search(fresh, SearchRequest(q=q)).to_json()
                del data["elapsed_ms"]
                assert data == expected[q]
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    fresh.close()


def test_term_cache_stays_within_its_budget():
    cache = LruCache(budget=100)
    for i in range(10):
        cache.put(i, str(i), cost=30)
    assert cache.used <= 100
    assert cache.get(0) is None and cache.get(9) == "9"
    assert cache.put(9, "other", cost=30) == "9"


def test_documents_and_records_by_reference(seed_engine: Any):
    matches = seed_engine.match(
        make_plan(parse_query("三清两建"), {}, seed_engine.segment), 0, None
    )
    records = seed_engine.records([ref for ref, _ in matches.ranked])
    assert len(records) == matches.total == 5
    report = seed_engine.document(records[0].doc_id)
    assert records[0] in report
    assert [r.ordinal for r in sorted(report, key=lambda r: r.ordinal)] == list(range(len(report)))
    assert seed_engine.document("no-such-report") == []


@pytest.mark.parametrize("which", ["multi", "deleted"])
def test_records_equal_the_paragraphs_and_carry_their_exact_form(
    which: str, multi_segment_index: Path, deleted_docs_index: Path
):
    """Records read straight from the columns and segment files are the corpus's
    paragraphs with their reports' fields; where a record brings its exact-match form
    (highlighting then skips folding the text), it is the text's own."""
    index_dir = multi_segment_index if which == "multi" else deleted_docs_index
    engine = EmbeddedEngine(Path(open_index(index_dir)[0].storage.folder))
    pieces = corpus_paragraphs(index_dir.parent / "corpus")
    rows = {(r[F.DOC_ID], r[F.PARA_ID]): r for r in pieces}
    records = engine.records(ids_from_bits(engine.live))
    assert len(records) == len(rows)
    with_units = 0
    for record in records:
        row = rows[(record.doc_id, record.para_id)]
        expected = Record.from_fields({**row, F.SECTION: record.section})
        assert record == expected  # `units` is not compared
        assert record.section == tuple(row.get(F.SECTION) or ())
        siblings = [r for r in pieces if r[F.BLOCK] == row[F.BLOCK]] if row[F.PIECES] > 1 else []
        assert record.piece_ids == tuple(r[F.PARA_ID] for r in siblings)  # () when not cut
        assert record.piece_texts == tuple(r[F.TEXT] for r in siblings)
        assert record.block == row[F.BLOCK] and record.piece == row[F.PIECE]
        if record.units:
            with_units += 1
            assert (record.units, range(len(record.text))) == exact_units(record.text)
        else:
            assert len(exact_units(record.text)[0]) != len(record.text)
    assert 0 < with_units < len(records)  # both kinds are there
    engine.close()


@pytest.mark.parametrize("which", ["multi", "deleted"])
def test_a_warmed_engine_answers_as_a_cold_one(
    which: str, multi_segment_index: Path, deleted_docs_index: Path
):
    """`warm` makes the towns', trend's and facets' tables ahead of time; the answers do
    not change (towns JSON, trend, facets, section facet)."""
    index = multi_segment_index if which == "multi" else deleted_docs_index
    cold, warmed = open_live(index), open_live(index)
    warmed.warm()
    assert "pairs" in vars(warmed) and "pairs" not in vars(cold)
    for q in ["发展", "乡村振兴", "三清两建", "工作 -项目"]:
        request = SearchRequest(q=q)
        answers = []
        for engine in (cold, warmed):
            table = town_table(engine, request)
            page = run_search(engine, request)
            answers.append((table.towns_json(), run_trend(engine, request).to_json(), page.facets))
        assert answers[0] == answers[1]
    cold.close()
    warmed.close()


def test_records_read_in_batches_are_each_paragraphs_own(make_index):
    """records() gathers each segment's columns at once; every record must still be the
    one its segment file gives paragraph by paragraph, in the order asked, repeats kept."""
    files = {
        f"r{n}.txt": f"第{n}号镇报告\n"
        + "".join(f"（{n}）第{k}段，含“引号”与 全角、半角,混排；\n" for k in range(30))
        for n in range(6)
    }
    config = make_index(files)
    engine = open_live(config.index_dir)
    try:
        # a second segment: an incremental build adds one
        (config.corpus_dir / "new.txt").write_text("新镇报告\n新的一段（补充）。\n", "utf-8")
        build_index(config.corpus_dir, config.index_dir, procs=1)
        engine.close()
        engine = open_live(config.index_dir)
        assert len(engine.files) >= 2
        docs = [*range(engine.size - 1, -1, -1), 0, 0, engine.size - 1]
        for doc, record in zip(docs, engine.records(docs), strict=True):
            segment, local = engine.where(doc)
            text, units = segment.text_and_units(local)
            assert (record.text, record.para_id) == (text, segment.para_id(local))
            assert record.units == (units if len(units) == len(text) else "")
            assert record.ordinal == int(segment.ordinals[local])
            assert record.piece == int(segment.piece[local])
            assert record.heading == bool(segment.headings[local])
        assert engine.records([]) == []
    finally:
        engine.close()
