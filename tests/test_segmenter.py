"""The segmenter gives jieba's tokens, token for token, although jieba-rs finds the routes.

The reference is a plain `jieba.Tokenizer` with the same domain words added, cutting the
whole text with `cut(text, HMM=True)`; it is compared on text made to tie (few distinct
characters, repeated words), on hostile mixes of Hanzi, letters, digits and punctuation,
and on every distinct block of the seeds, the real-world documents and a generated corpus.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
from pathlib import Path

import jieba
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp.analysis import HAN_BLOCK, Segmenter, cut, normalize, words_among
from searchapp.solr.tokens import word_tokens

jieba.setLogLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("三清两建", "一是一是", "集体经济", "经济发展建设", "乡贤返乡")


@functools.cache
def reference(words: tuple[str, ...]) -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in words:
        tokenizer.add_word(normalize(word))
    return tokenizer


@functools.cache
def segmenter(words: tuple[str, ...]) -> Segmenter:
    return Segmenter(words)


def ours(text: str, words: tuple[str, ...]) -> list[str]:
    """Block by block, as the index cuts (no memo: every block goes through the segmenter)."""
    return [t for block in HAN_BLOCK.split(text) if block for t in segmenter(words).cut(block)]


TIES = st.sampled_from(["一是", "一是二", "经济发展建设设济", "三清两建", "的了是在", "龘靐齉爩"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alphabet=TIES, data=st.data())
@pytest.mark.parametrize("words", [(), WORDS])
def test_tie_prone_hanzi_cut_as_jieba_cuts(
    words: tuple[str, ...], alphabet: str, data: st.DataObject
):
    text = data.draw(st.text(alphabet=alphabet, min_size=1, max_size=24))
    assert ours(text, words) == list(reference(words).cut(text, HMM=True))


MIXED = st.text(
    alphabet="三清两建集体经济发展一是乡贤返龘abcAZ0123.%-+#&_，。、 \n\t“”（）", max_size=60
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MIXED)
def test_mixed_text_cut_as_jieba_cuts(text: str):
    assert ours(text, WORDS) == list(reference(WORDS).cut(text, HMM=True))
    assert list(cut(text, WORDS)) == list(reference(WORDS).cut(text, HMM=True))


def distinct_blocks(texts: list[str]) -> list[str]:
    return sorted({b for t in texts for b in HAN_BLOCK.split(normalize(t)) if b})


def check_blocks(blocks: list[str], words: tuple[str, ...]) -> None:
    assert blocks
    differ = [b for b in blocks if ours(b, words) != list(reference(words).cut(b, HMM=True))]
    assert differ == []


def corpus_texts(folder: Path) -> list[str]:
    texts = []
    for path in sorted(folder.rglob("*")):
        if path.suffix in {".txt", ".md"}:
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                texts.append(path.read_bytes().decode("gb18030", "replace"))
    return texts


@pytest.mark.parametrize(
    "folder", [ROOT / "seeds", ROOT / "tests" / "data" / "realworld", ROOT.parent / "shared"]
)
def test_every_block_of_the_corpora_cut_as_jieba_cuts(folder: Path):
    if not folder.exists():
        pytest.skip(f"{folder} is not here")
    check_blocks(distinct_blocks(corpus_texts(folder)), WORDS)


def test_every_block_of_a_generated_benchmark_corpus_cut_as_jieba_cuts(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "generate_corpus.py"),
            "--size-mb",
            "2",
            "--out",
            str(tmp_path / "corpus"),
        ],
        check=True,
        capture_output=True,
    )
    check_blocks(distinct_blocks(corpus_texts(tmp_path / "corpus")), WORDS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(
        alphabet=st.sampled_from(list("一是二经济发展建设三清两建乡贤返乡，。 aB1·")), max_size=40
    ),
    data=st.data(),
)
def test_words_among_is_the_wanted_part_of_the_segmentation(text: str, data: st.DataObject):
    """jieba only where a wanted word is written gives the same words as jieba on it all."""
    tokens = set(word_tokens(text, WORDS))
    extra = ["经济", "发展", "三清两建", "一是", "乡贤", "aB1", "是二"]
    wanted = set(data.draw(st.lists(st.sampled_from(sorted(tokens) + extra), max_size=5)))
    assert words_among(text, wanted, WORDS) == tokens & wanted
