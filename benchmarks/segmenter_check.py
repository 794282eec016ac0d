"""Does the segmenter cut a whole corpus exactly as jieba does, and how much faster?

    .venv/bin/python benchmarks/segmenter_check.py --corpus /tmp/corpus20

Every paragraph of every report (as the indexer reads them) is cut by jieba 0.42.1 and
by searchapp's Segmenter (jieba_fast_dat where the two agree); prints the paragraphs
whose tokens differ (none expected) and both speeds. Figures, not a test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jieba

from searchapp.analysis import Segmenter, normalize, shipped_terms
from searchapp.documents import load_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    args = parser.parse_args()
    words = tuple(sorted(set(shipped_terms())))
    reference = jieba.Tokenizer()
    reference.initialize()
    for word in words:
        reference.add_word(normalize(word))
    segmenter = Segmenter(words)
    paragraphs = [
        normalize(p.text)
        for _, docs in load_corpus(args.corpus)
        for d in docs
        for p in d.paragraphs
    ]
    size = sum(len(p.encode("utf-8")) for p in paragraphs) / 1e6
    started = time.perf_counter()
    ours = [list(segmenter.cut(p)) for p in paragraphs]
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    theirs = [list(reference.cut(p, HMM=True)) for p in paragraphs]
    theirs_s = time.perf_counter() - started
    differing = [p for p, a, b in zip(paragraphs, ours, theirs, strict=True) if a != b]
    print(f"{len(paragraphs)} paragraphs, {size:.1f} MB of text")
    print(f"  jieba 0.42.1      {theirs_s:8.1f} s  {size / theirs_s:6.2f} MB/s")
    print(f"  searchapp         {ours_s:8.1f} s  {size / ours_s:6.2f} MB/s")
    print(f"  paragraphs cut differently: {len(differing)}")
    for text in differing[:10]:
        print(f"    {text[:80]}")


if __name__ == "__main__":
    main()
