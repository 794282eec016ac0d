"""The exact channel's files: what is written is what is read, and exact() is a substring scan."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp.analysis import exact_key
from searchapp.embedded import grams

TEXTS = [
    "三清两建工作扎实推进。",
    "",
    "推进“三清两建”，清两项。",
    "ＡＢＣ　全角 与 abc",
    "鄉村振興",  # traditional: folded to 乡村振兴
    "清",
    "\ud800 孤立代理项",  # a lone surrogate must not break writing or reading
] + [f"第{i}段：发展乡村产业" for i in range(60)]


@pytest.fixture(scope="module")
def segment(tmp_path_factory: pytest.TempPathFactory) -> grams.SegmentGrams:
    path = tmp_path_factory.mktemp("grams") / grams.file_name("MAIN_test")
    grams.write_segment(path, TEXTS)
    return grams.SegmentGrams(path)


def scan(needle: str) -> list[int]:
    units = exact_key(needle)
    return [d for d, text in enumerate(TEXTS) if units and units in exact_key(text)]


def test_header_and_texts(segment: grams.SegmentGrams):
    assert segment.ndocs == len(TEXTS)
    assert segment.text(0) == "三清两建工作扎实推进。"
    assert segment.text(1) == ""
    assert segment.text(3) == "abc全角与abc"
    assert segment.text(4) == "乡村振兴"


@pytest.mark.parametrize(
    "needle",
    ["清", "清两", "三清两建", "“三清两建”", "abc", "ABC", "鄉村", "发展", "第5", "孤立", "无"],
)
def test_exact_equals_scan(segment: grams.SegmentGrams, needle: str):
    assert segment.exact_ids(exact_key(needle)) == scan(needle)


def test_dense_lists_are_bitmaps_and_read_alike(segment: grams.SegmentGrams):
    assert grams.as_bitmap(segment.ndocs, segment.df("发展"))
    assert not grams.as_bitmap(segment.ndocs, segment.df("清两"))
    assert segment.ids("发展") == scan("发展")
    assert segment.ids("清两") == scan("清两")
    assert segment.df("发展") == 60
    assert segment.ids("无有") == [] and segment.bits("无有") == 0 and segment.df("无") == 0


def test_estimate_bounds_the_matches(segment: grams.SegmentGrams):
    for needle in ["三清两建", "发展乡村", "第1段", "清"]:
        assert segment.estimate(exact_key(needle)) >= len(scan(needle))


def test_codes_sort_characters_before_their_pairs():
    assert grams.gram_code("清") < grams.gram_code("清\x00") < grams.gram_code("清两")
    assert grams.gram_code("清两") < grams.gram_code("渊")


def test_empty_segment(tmp_path: Path):
    path = tmp_path / "empty.grams"
    grams.write_segment(path, [])
    segment = grams.SegmentGrams(path)
    assert segment.ndocs == 0 and segment.exact("发展") == 0


def test_not_a_grams_file(tmp_path: Path):
    path = tmp_path / "bad.grams"
    path.write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(ValueError, match="not a searchapp grams file"):
        grams.SegmentGrams(path)


def test_write_is_atomic(tmp_path: Path):
    path = tmp_path / "x.grams"

    def texts():
        yield "第一段"
        raise RuntimeError("crash while writing")

    with pytest.raises(RuntimeError):
        grams.write_segment(path, texts())
    assert not path.exists()


PARAGRAPHS = st.lists(
    st.text(alphabet="三清两建乡村振兴发展，。 Ａa", min_size=0, max_size=30),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=PARAGRAPHS, data=st.data())
def test_exact_is_a_substring_scan(tmp_path_factory: pytest.TempPathFactory, texts, data):
    path = tmp_path_factory.mktemp("prop") / "p.grams"
    grams.write_segment(path, texts)
    segment = grams.SegmentGrams(path)
    source = data.draw(st.sampled_from(texts))
    start = data.draw(st.integers(0, len(source)))
    needle = data.draw(
        st.sampled_from([source[start : start + n] for n in range(1, 8)] + ["清两建"])
    )
    units = exact_key(needle)
    expected = [d for d, t in enumerate(texts) if units and units in exact_key(t)]
    assert segment.exact_ids(units) == expected


@pytest.mark.parametrize("count", [0, 5, grams.SMALL_LIST + 7])
def test_bitsets_round_trip_small_and_large(count: int):
    from array import array

    ids = list(range(3, 3 + 7 * count, 7))
    nbytes = (ids[-1] + 9) >> 3 if ids else 1
    for form in (ids, array("I", ids), (i for i in ids)):
        assert grams.ids_from_bits(grams.bits_from_ids(form, nbytes)) == ids
