"""A segment's own file: what is written is read back, exact() is a substring scan, the
word channel is jieba's tokens, and texts come back as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp.analysis import exact_key, normalize, segment, shipped_terms
from searchapp.embedded import codec
from searchapp.embedded import sidecar as grams

WORDS = tuple(sorted(set(shipped_terms())))
REPORT = {"doc_id": "d1", "title": "报告\ud800"}  # a lone surrogate survives, as in texts


def write(path: Path, texts: list[str]) -> grams.SegmentFile:
    paragraphs = [grams.Paragraph(t, REPORT, f"p{i}", i, i % 3 == 0) for i, t in enumerate(texts)]
    grams.write_segment(path, paragraphs, WORDS)
    return grams.SegmentFile(path)


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
def segment_file(tmp_path_factory: pytest.TempPathFactory) -> grams.SegmentFile:
    return write(tmp_path_factory.mktemp("grams") / grams.file_name("MAIN_test"), TEXTS)


def scan(needle: str) -> list[int]:
    units = exact_key(needle)
    return [d for d, text in enumerate(TEXTS) if units and units in exact_key(text)]


def test_header_and_texts(segment_file: grams.SegmentFile):
    assert segment_file.ndocs == len(TEXTS)
    assert segment_file.units(0) == "三清两建工作扎实推进。"
    assert segment_file.units(1) == ""
    assert segment_file.units(3) == "abc全角与abc"
    assert segment_file.units(4) == "乡村振兴"
    assert [segment_file.text(d) for d in range(len(TEXTS))] == TEXTS  # as written
    assert segment_file.reports == [REPORT] and set(segment_file.report_of.tolist()) == {0}


@pytest.mark.parametrize(
    "needle",
    ["清", "清两", "三清两建", "“三清两建”", "abc", "ABC", "鄉村", "发展", "第5", "孤立", "无"],
)
def test_exact_equals_scan(segment_file: grams.SegmentFile, needle: str):
    assert segment_file.exact_ids(exact_key(needle)) == scan(needle)


def test_dense_lists_are_bitmaps_and_read_alike(segment_file: grams.SegmentFile):
    assert grams.as_bitmap(segment_file.ndocs, segment_file.df("发展"))
    assert not grams.as_bitmap(segment_file.ndocs, segment_file.df("清两"))
    assert segment_file.ids("发展") == scan("发展")
    assert segment_file.ids("清两") == scan("清两")
    assert segment_file.df("发展") == 60
    assert (
        segment_file.ids("无有") == []
        and segment_file.bits("无有") == 0
        and segment_file.df("无") == 0
    )


def test_estimate_bounds_the_matches(segment_file: grams.SegmentFile):
    for needle in ["三清两建", "发展乡村", "第1段", "清"]:
        assert segment_file.estimate(exact_key(needle)) >= len(scan(needle))


def test_codes_sort_characters_before_their_pairs():
    assert grams.gram_code("清") < grams.gram_code("清\x00") < grams.gram_code("清两")
    assert grams.gram_code("清两") < grams.gram_code("渊")


def test_pieces_are_read_back(tmp_path: Path):
    paragraphs = [
        grams.Paragraph("整段。", REPORT, "p0", 0, False),
        grams.Paragraph("第一片，", REPORT, "p1", 1, False, 0, 2),
        grams.Paragraph("第二片。", REPORT, "p2", 2, False, 1, 2),
    ]
    path = tmp_path / "pieces.sadata"
    grams.write_segment(path, paragraphs, WORDS)
    segment_file = grams.SegmentFile(path)
    assert [segment_file.paragraph(d) for d in range(3)] == paragraphs
    assert segment_file.piece.tolist() == [0, 0, 1] and segment_file.pieces.tolist() == [1, 2, 2]


def test_empty_segment(tmp_path: Path):
    path = tmp_path / "empty.sadata"
    segment_file = write(path, [])
    assert segment_file.ndocs == 0 and segment_file.exact("发展") == 0


def test_not_a_segment_file(tmp_path: Path):
    path = tmp_path / "bad.sadata"
    path.write_bytes(b"PK\x03\x04 not ours")
    with pytest.raises(ValueError, match="not a searchapp segment file"):
        grams.SegmentFile(path)


def test_write_is_atomic(tmp_path: Path):
    path = tmp_path / "x.sadata"

    def paragraphs():
        yield grams.Paragraph("第一段", REPORT, "p1", 0, False)
        raise RuntimeError("crash while writing")

    with pytest.raises(RuntimeError):
        grams.write_segment(path, paragraphs(), WORDS)
    assert not path.exists()


PARAGRAPHS = st.lists(
    st.text(alphabet="三清两建乡村振兴发展，。 Ａa", min_size=0, max_size=30),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=PARAGRAPHS, data=st.data())
def test_exact_is_a_substring_scan(tmp_path_factory: pytest.TempPathFactory, texts, data):
    path = tmp_path_factory.mktemp("prop") / "p.sadata"
    segment_file = write(path, texts)
    source = data.draw(st.sampled_from(texts))
    start = data.draw(st.integers(0, len(source)))
    needle = data.draw(
        st.sampled_from([source[start : start + n] for n in range(1, 8)] + ["清两建"])
    )
    units = exact_key(needle)
    expected = [d for d, t in enumerate(texts) if units and units in exact_key(t)]
    assert segment_file.exact_ids(units) == expected


@pytest.mark.parametrize("count", [0, 5, codec.SMALL_LIST + 7])
def test_bitsets_round_trip_small_and_large(count: int):
    from array import array

    ids = list(range(3, 3 + 7 * count, 7))
    nbytes = (ids[-1] + 9) >> 3 if ids else 1
    for form in (ids, array("I", ids), (i for i in ids)):
        assert codec.ids_from_bits(codec.bits_from_ids(form, nbytes)) == ids


@settings(max_examples=200, deadline=None)
@given(
    ids=st.one_of(
        st.sets(st.integers(min_value=0, max_value=5000), max_size=40),  # sparse
        st.sets(st.integers(min_value=0, max_value=300), max_size=300),  # dense
    )
)
def test_id_array_is_every_set_bit(ids: set[int]):
    """Sparse bitsets unpack only their non-zero bytes, dense ones all: both give every
    set bit in order."""
    bits = sum(1 << i for i in ids)
    assert codec.id_array(bits).tolist() == sorted(ids)


WRITTEN = st.text(
    alphabet="三清两建乡村振兴发展，。、 \u3000\t\nＡa“”鄉二〇一年\ud800x", max_size=40
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(WRITTEN, min_size=1, max_size=12))
def test_texts_come_back_as_written_and_words_as_jieba_cuts_them(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
):
    segment_file = write(tmp_path_factory.mktemp("texts") / "t.sadata", texts)
    assert [segment_file.text(d) for d in range(len(texts))] == texts
    assert [segment_file.units(d) for d in range(len(texts))] == [exact_key(t) for t in texts]
    tokens = [segment(t, WORDS) for t in texts]
    assert segment_file.lengths.tolist() == [len(t) for t in tokens]
    vocabulary = sorted({w for t in tokens for w in t})
    assert segment_file.vocabulary == vocabulary
    for word in vocabulary:
        ids, tfs = segment_file.word_postings(word)
        expected = [(d, t.count(word)) for d, t in enumerate(tokens) if word in t]
        assert list(zip(ids.tolist(), tfs.tolist(), strict=True)) == expected


def test_patches_are_small_for_chinese_prose():
    text = "一是扎实推进“三清两建”，村容村貌明显改善；二是发展集体经济。" * 5
    (patch,) = grams.make_patches([text], [normalize(text)])
    assert grams.apply_patch(exact_key(text), patch.decode("utf-8")) == text
    assert len(patch) < len(text.encode("utf-8")) / 4


@settings(max_examples=100, deadline=None)
@given(
    texts=st.lists(
        st.text(alphabet="三清两建ＡＢａ１1 \u3000\t\n，,。：:（）()發展\u00a0\ud800", max_size=40),
        max_size=12,
    )
)
def test_patches_applied_together_give_each_text(texts: list[str]):
    """The batched restore (an every-hit export's) gives what the loop gives, and the text:
    full-width forms, every kind of white space, traditional characters, a lone surrogate."""
    patches = [
        p.decode("utf-8", "surrogatepass")
        for p in grams.make_patches(texts, [normalize(t) for t in texts])
    ]
    units = [exact_key(t) for t in texts]
    assert grams.apply_patches(units, patches) == texts
    assert [grams.apply_patch(u, p) for u, p in zip(units, patches, strict=True)] == texts


@settings(max_examples=60, deadline=None)
@given(
    lists=st.lists(
        st.lists(st.integers(0, 2**32 - 1), unique=True, max_size=50).map(sorted), max_size=20
    )
)
def test_id_lists_round_trip(lists: list[list[int]]):
    import numpy as np

    ids = np.array([i for one in lists for i in one], dtype=np.int64)
    data, starts = codec.encode_lists(ids, np.array([len(one) for one in lists], dtype=np.int64))
    assert starts[-1] == len(data)
    for one, start in zip(lists, starts[:-1].tolist(), strict=True):
        if one:  # a list may be read with the bytes after it
            assert codec.decode_list(data[start:], len(one)).tolist() == one


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(st.text(alphabet="哈三清两建a1，", max_size=30), min_size=1, max_size=40),
    needle=st.sampled_from(["哈", "哈哈", "三清两建", "清两", "a1", "建哈", "两"]),
    data=st.data(),
)
def test_occurrences_are_str_count_in_each_exact_form(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str], needle: str, data: st.DataObject
):
    """Every way of counting (read from a pair's lists for two characters, one
    scan of every text, or paragraph by paragraph) gives str.count, overlapping needles
    (哈哈 in 哈哈哈) included."""
    segment_file = write(tmp_path_factory.mktemp("occ") / "t.sadata", texts)
    every = list(range(len(texts)))
    some = sorted(data.draw(st.sets(st.sampled_from(every), max_size=2)))
    for docs in (every, some):
        got = segment_file.occurrences(needle, np.array(docs, dtype=np.int64))
        assert got.tolist() == [exact_key(texts[d]).count(needle) for d in docs]


def test_overlapping_occurrences_count_as_str_count_does(tmp_path: Path):
    texts = ["哈哈哈哈哈", "哈哈哈", "三清两建三清两建", "哈"]
    segment_file = write(tmp_path / "t.sadata", texts)
    for needle in ("哈哈", "哈哈哈", "三清两建", "哈"):
        got = segment_file.occurrences(needle, np.arange(len(texts)))
        assert got.tolist() == [t.count(needle) for t in texts]


def test_gram_occurrences_past_the_stored_cap(tmp_path: Path):
    """A paragraph holding a pair more often than the stored count can say (255) is
    counted in its text; the others are read from the repeats, across chunks."""
    texts = ["清两" * 300, "清两清两，两", "无", "两" * 256 + "清两"] * (grams.CHUNK // 2 + 1)
    segment_file = write(tmp_path / "t.sadata", texts)
    every = np.arange(len(texts))
    for needle in ("清两", "两", "清", "两两", "无", "有"):
        got = segment_file.occurrences(needle, every)
        assert got.tolist() == [t.count(needle) for t in texts]
    docs, tfs = segment_file.repeats("两两")
    assert tfs.max() == grams.MAX_TF and len(docs) == grams.CHUNK // 2 + 1
    docs, tfs = segment_file.repeats("清两")
    assert tfs.max() == grams.MAX_TF and len(docs) == 2 * (grams.CHUNK // 2 + 1)


def mapped_kb(path: Path) -> int:
    """This process's resident pages of a mapped file, from /proc/self/smaps."""
    total, inside = 0, False
    with open("/proc/self/smaps", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            first = line.split(maxsplit=1)[0]
            if "-" in first and not first.endswith(":"):
                inside = line.rstrip().endswith(str(path))
            elif inside and first == "Rss:":
                total += int(line.split()[1])
    return total


def test_released_texts_leave_the_process_and_read_back_the_same(tmp_path: Path):
    texts = [f"第{i}段：" + "发展乡村产业，推进三清两建。" * 40 for i in range(3000)]  # ~3.5 MB
    segment = write(tmp_path / grams.file_name("MAIN_big"), texts)
    assert [segment.text(d) for d in range(len(texts))] == texts  # every text read: mapped
    assert segment.occurrences("三清两建", np.arange(len(texts))).tolist() == [40] * len(texts)
    resident = mapped_kb(segment.path)
    segment.release_texts()
    assert mapped_kb(segment.path) < resident - 2000  # the texts' pages unmapped
    assert [segment.text(d) for d in range(len(texts))] == texts  # and read again alike
    assert segment.exact_ids(exact_key("三清两建乡村")) == []
    assert segment.exact_ids(exact_key("产业，推进三清")) == list(range(len(texts)))
