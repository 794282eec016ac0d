"""The bitset engine gives exactly Whoosh's pages: hits, order, ties, scores, totals, facets."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.searching import Searcher
from whoosh.util import make_weighted_tree

from searchapp import fastsearch, grams
from searchapp import schema as F
from searchapp.analysis import exact_key, segment
from searchapp.config import PROJECT_ROOT
from searchapp.indexer import build_index, open_index
from searchapp.query import SearchRequest, merged_filters, parse_query, run_search

SEEDS = PROJECT_ROOT / "seeds"

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def page_json(searcher: Searcher, request: SearchRequest, fast: bool) -> dict[str, Any]:
    saved = fastsearch.ENABLED
    fastsearch.ENABLED = fast
    try:
        page = run_search(searcher, request, max_query_chars=500)
    finally:
        fastsearch.ENABLED = saved
    data = page.to_json()
    del data["elapsed_ms"]
    return data


def assert_same(searcher: Searcher, **request: Any) -> dict[str, Any]:
    """Both paths give the same page, and the fast path did answer; returns the page."""
    fast = page_json(searcher, SearchRequest(**request), fast=True)
    slow = page_json(searcher, SearchRequest(**request), fast=False)
    assert fast == slow, request
    assert fast_answers(searcher, SearchRequest(**request)), request
    return fast


def fast_answers(searcher: Searcher, request: SearchRequest) -> bool:
    """Whether fastsearch answers a keyword or phrase request (rather than Whoosh)."""
    parsed = parse_query(request.q, request.mode)
    if not parsed.groups:
        return True
    words = tuple(F.word_tokenizer(searcher.schema).words)
    found = fastsearch.search(
        searcher,
        [[(atom.text, atom.quoted) for atom in group] for group in parsed.groups],
        [atom.text for atom in parsed.excluded],
        merged_filters(parsed, request),
        words,
        1,
    )
    return found is not None


def paragraphs(searcher: Searcher) -> list[dict[str, Any]]:
    return sorted(searcher.all_stored_fields(), key=lambda f: f[F.KEY])


@st.composite
def substrings(draw: st.DrawFn, texts: list[str], max_length: int = 12) -> str:
    text = draw(st.sampled_from(texts))
    length = draw(st.integers(min_value=1, max_value=min(max_length, len(text))))
    start = draw(st.integers(min_value=0, max_value=len(text) - length))
    return text[start : start + length].strip()


@st.composite
def queries(draw: st.DrawFn, texts: list[str], fields: list[dict[str, Any]]) -> str:
    """Terms (substrings and words), quotes, OR, NOT and filters, in any mix."""
    words = sorted({w for t in texts[:20] for w in segment(t, ())})
    term = st.one_of(substrings(texts, 6), st.sampled_from(words))
    parts = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        text = draw(term)
        if not exact_key(text) or any(c in text for c in '"“”「『＂:：-()（）[]【】'):
            continue
        kind = draw(st.sampled_from(["plain", "plain", "quoted", "or", "not"]))
        if kind == "quoted":
            parts.append(f'"{text}"')
        elif kind == "or" and parts:
            parts.append(f"OR {text}")
        elif kind == "not":
            parts.append(f"-{text}")
        else:
            parts.append(text)
    for name, key in (("town", F.TOWN), ("year", F.YEAR), ("type", F.DOC_TYPE)):
        if draw(st.integers(0, 4)) == 0:
            value = draw(st.sampled_from(fields))[key]
            if value:
                parts.append(f"{name}:{value}")
    return " ".join(parts)


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


@pytest.fixture()
def open_searcher() -> Iterator[Any]:
    opened: list[Searcher] = []

    def open_(index_dir: Path) -> Searcher:
        ix, _ = open_index(index_dir)
        opened.append(ix.searcher())
        return opened[-1]

    yield open_
    for searcher in opened:
        searcher.close()


# --- the fast path is taken -----------------------------------------------------------------


def test_fast_path_answers_keyword_and_phrase_queries(seed_searcher: Searcher):
    words = tuple(F.word_tokenizer(seed_searcher.schema).words)
    found = fastsearch.search(seed_searcher, [[("乡村振兴", False)]], [], {}, words, 10)
    assert found is not None and found.total > 0
    assert found.top == sorted(found.top, key=lambda t: -t[1])[: len(found.top)]
    assert fastsearch.search(seed_searcher, [], ["疫情"], {}, words, 10) is None


def test_switch_off_means_whoosh(seed_searcher: Searcher, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(fastsearch, "ENABLED", False)
    words = tuple(F.word_tokenizer(seed_searcher.schema).words)
    assert fastsearch.search(seed_searcher, [[("乡村振兴", False)]], [], {}, words, 10) is None


# --- same pages as Whoosh -------------------------------------------------------------------


def test_random_substrings_give_whoosh_pages(seed_searcher: Searcher):
    texts = [f[F.TEXT_FIELD] for f in paragraphs(seed_searcher)]

    @PROPERTY
    @given(
        substrings(texts),
        st.sampled_from(["keyword", "phrase"]),
        st.integers(min_value=1, max_value=3),
        st.integers(min_value=1, max_value=7),
    )
    def check(text: str, mode: str, page: int, page_size: int) -> None:
        assert_same(seed_searcher, q=text, mode=mode, page=page, page_size=page_size)

    check()


def test_mixed_queries_give_whoosh_pages(seed_searcher: Searcher):
    fields = paragraphs(seed_searcher)
    texts = [f[F.TEXT_FIELD] for f in fields]

    @PROPERTY
    @given(queries(texts, fields), st.integers(1, 3), st.integers(1, 10), st.booleans())
    def check(q: str, page: int, page_size: int, everything: bool) -> None:
        assert_same(seed_searcher, q=q, page=page, page_size=page_size, all=everything)

    check()


@pytest.mark.parametrize(
    "q",
    [
        "乡村振兴",
        "发展",
        "三清两建 乡贤",
        "三清两建 OR 三变改革 -疫情",
        '"二十大精神" 发展',
        '乡村振兴 数字政府 OR "集体经济" 发展',
        '"三清两建" 乡村治理 OR 三变改革 -疫情',
        "乡村治理 乡村振兴 town:横沥镇",
        "坚持以习近平新时代中国特色社会主义思想为指导",
        "的",
        "数字政府 year:2023",
        "town:不存在的镇 发展",
    ],
)
def test_known_queries_give_whoosh_pages(seed_searcher: Searcher, q: str):
    for page in (1, 2):
        assert_same(seed_searcher, q=q, page=page, page_size=5)
    assert_same(seed_searcher, q=q, all=True)
    assert_same(seed_searcher, q=q, mode="phrase")


def test_request_filters_give_whoosh_pages(seed_searcher: Searcher):
    fields = paragraphs(seed_searcher)
    town, year = fields[0][F.TOWN], fields[-1][F.YEAR]
    assert_same(seed_searcher, q="发展", town=[town], year=[year, "1999"])
    assert_same(seed_searcher, q="发展", doc_type=["", fields[3][F.DOC_TYPE]])


def test_multi_segment_index(multi_segment_index: Path, open_searcher: Any):
    searcher = open_searcher(multi_segment_index)
    assert len(searcher.reader().leaf_readers()) > 1
    check_index(searcher)


def test_index_with_deleted_documents(deleted_docs_index: Path, open_searcher: Any):
    searcher = open_searcher(deleted_docs_index)
    assert any(leaf.has_deletions() for leaf, _ in searcher.reader().leaf_readers())
    check_index(searcher)
    page = assert_same(searcher, q="三清两建 数字政府", all=True)
    assert page["total"] >= 1


@pytest.mark.parametrize("which", ["multi", "deleted"])
def test_columns_read_in_bulk_equal_whooshs(
    which: str, multi_segment_index: Path, deleted_docs_index: Path, open_searcher: Any
):
    searcher = open_searcher(multi_segment_index if which == "multi" else deleted_docs_index)
    reader = searcher.reader()
    for name in (F.SORT_KEY, F.TOWN, F.YEAR, F.DOC_TYPE):
        assert fastsearch.column_values(reader, name) == list(reader.column_reader(name))
    gen = fastsearch.get_generation(searcher)
    assert gen is not None
    for leaf in gen.leaves:
        lengths = fastsearch.word_lengths(leaf)
        assert len(lengths) == leaf.reader.doc_count_all()
        for doc in range(leaf.reader.doc_count_all()):
            field_length = leaf.reader.doc_field_length(doc, F.WORDS, 0)
            assert fastsearch.LENGTH_OF_BYTE[lengths[doc]] == field_length


def check_index(searcher: Searcher) -> None:
    fields = paragraphs(searcher)
    texts = [f[F.TEXT_FIELD] for f in fields]

    @PROPERTY
    @given(
        st.one_of(substrings(texts), queries(texts, fields)),
        st.integers(1, 3),
        st.booleans(),
    )
    def check(q: str, page: int, everything: bool) -> None:
        assert_same(searcher, q=q, page=page, page_size=4, all=everything)

    check()


def test_every_query_plan_is_reproducible(seed_searcher: Searcher):
    """query.build_query's one AndMaybe sits at the top, so no query goes to Whoosh."""
    words = tuple(F.word_tokenizer(seed_searcher.schema).words)
    atoms = [("乡村振兴", False), ("二十大精神", True), ("发展", False), ("清两", False)]
    plan = fastsearch.query_plan(
        [[fastsearch.atom_plan(text, quoted, words) for text, quoted in atoms[:2]]]
        + [[fastsearch.atom_plan(text, quoted, words)] for text, quoted in atoms[2:]],
        fastsearch.scoring_plan((text for text, _ in atoms), words),
    )
    assert isinstance(plan, fastsearch.Node) and plan.op == "maybe"
    assert fastsearch.reproducible(plan)


def test_and_maybe_where_whoosh_skips_is_not_reproducible():
    exact = fastsearch.Exact("二十大精神", "二十大精神")
    word, other = fastsearch.Word("二十大"), fastsearch.Word("发展")
    maybe = fastsearch.Node("maybe", (exact, word))
    assert fastsearch.reproducible(maybe)
    assert fastsearch.reproducible(fastsearch.Node("or", (maybe, other)))
    assert not fastsearch.reproducible(fastsearch.Node("and", (maybe, other)))
    assert not fastsearch.reproducible(fastsearch.Node("maybe", (other, maybe)))


# --- sharing --------------------------------------------------------------------------------


def test_threads_share_the_caches(seed_config: Any):
    ix, _ = open_index(seed_config.index_dir)
    qs = ["发展", "乡村振兴 治理", "三清两建 OR 三变改革", '"二十大精神"', "集体经济 -疫情"]
    with ix.searcher() as searcher:
        expected = {q: page_json(searcher, SearchRequest(q=q), fast=False) for q in qs}
    fastsearch.clear_caches()
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            with ix.searcher() as searcher:
                for i in range(20):
                    q = qs[(i + offset) % len(qs)]
                    assert page_json(searcher, SearchRequest(q=q), fast=True) == expected[q]
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_term_cache_stays_within_its_budget():
    cache = fastsearch.LruCache(budget=100)
    for i in range(10):
        cache.put(i, str(i), cost=30)
    assert cache.used <= 100
    assert cache.get(0) is None and cache.get(9) == "9"
    assert cache.put(9, "other", cost=30) == "9"


def test_generations_are_cached_once_and_bounded(seed_searcher: Searcher):
    fastsearch.clear_caches()
    first = fastsearch.get_generation(seed_searcher)
    assert fastsearch.get_generation(seed_searcher) is first
    assert len(fastsearch._generations) <= fastsearch.MAX_GENERATIONS


# --- helpers --------------------------------------------------------------------------------


def test_weighted_tree_pairs_like_whoosh():
    def shape(a: Any, b: Any) -> tuple[Any, Any]:
        return (a, b)

    for weights in ([3, 1, 2], [5, 5, 5, 5], [1, 9, 1, 9, 2], [0, -4, -4, 7]):
        items = [(w, f"m{i}") for i, w in enumerate(weights)]
        ours = fastsearch.weighted_tree(shape, list(items))  # type: ignore[arg-type]
        wrapped = [(w, Opaque(name)) for w, name in items]
        theirs = make_weighted_tree(lambda a, b: Opaque((a.name, b.name)), wrapped)
        assert ours == theirs.name


class Opaque:
    """Compares like a Whoosh matcher: never less than another, equal only to its class."""

    def __init__(self, name: Any) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque)

    def __lt__(self, other: object) -> bool:
        return type(other) is Opaque

    __hash__ = None  # type: ignore[assignment]


def test_bitsets_round_trip():
    ids = [0, 7, 8, 63, 64, 1000]
    assert grams.ids_from_bits(grams.bits_from_ids(ids, 126)) == ids
    assert grams.ids_from_bits(0) == []
