"""The segmenter cuts exactly as jieba does (jieba_fast_dat only where it agrees)."""

from __future__ import annotations

from pathlib import Path

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchapp.analysis import Segmenter, normalize, shipped_terms

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORDS = tuple(sorted(set(shipped_terms())))


@pytest.fixture(scope="module")
def pair() -> tuple[Segmenter, jieba.Tokenizer]:
    reference = jieba.Tokenizer()
    reference.initialize()
    for word in WORDS:
        reference.add_word(normalize(word))
    segmenter = Segmenter(WORDS)
    assert segmenter.fast is not None, "jieba_fast_dat is pinned in setup.cfg"
    return segmenter, reference


def corpus_paragraphs() -> list[str]:
    """Every paragraph of the seeds and the real-world documents, normalised."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "seeds").glob("*.txt"))]
    realworld = PROJECT_ROOT / "tests" / "data" / "realworld"
    texts += [p.read_text(encoding="utf-8") for p in sorted(realworld.rglob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(realworld.rglob("*.md"))]
    hailar = PROJECT_ROOT.parent / "shared" / "realworld" / "hailar"
    texts += [p.read_bytes().decode("gb18030") for p in sorted(hailar.glob("*.txt"))]
    return [normalize(line) for text in texts for line in text.splitlines() if line.strip()]


def test_same_tokens_as_jieba_on_every_real_paragraph(pair):
    segmenter, reference = pair
    paragraphs = corpus_paragraphs()
    assert len(paragraphs) > 1000
    for text in paragraphs:
        assert list(segmenter.cut(text)) == list(reference.cut(text, HMM=True)), text


PIECES = st.sampled_from(
    ["乡村振兴", "三清两建", "工作", "的", "完成", "亿元", "同比增长", "5.1", "29%", "3.5%",
     "2022年", "GDP", "AI+", "#", "&", "-", "_", ".", "%", " ", "，", "。", "、", "（", "）",
     "一是", "二〇二二", "Ⅱ", "②", "km", "\u3000", "推进", "城乡融合发展"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(min_size=1, max_size=3)), max_size=20))
def test_same_tokens_as_jieba_on_any_mix(pair, pieces: list[str]):
    segmenter, reference = pair
    text = normalize("".join(pieces))
    assert list(segmenter.cut(text)) == list(reference.cut(text, HMM=True)), text
