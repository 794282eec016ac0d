"""OCR figures (issue 21): seed text rendered as scanned pages, read back, searched.

    python benchmarks/ocr.py [--pages 12] [--procs 2] [--dpi 200] [--out DIR]

The seeds' body paragraphs are set on A4 pages (tests/scans.py: Noto Sans CJK 12 pt,
grey, each page turned by a random angle within ±1.5° and speckled), saved as PNG page
images at `--dpi`, and indexed by `searchapp index` (its worker processes, OCR cache
in the index folder). Prints:

- the character error rate: edit distance between the text set on the pages and the
  text the index holds for them, over the length of the text set (NFKC forms, white
  space left out, so 。 and , differences of width count only when the character differs);
- exact-phrase recall: the share of 12-character sentences of those pages (the first
  12 characters of every sentence at least that long) that phrase mode finds on the
  right page; fuzzy recall: the share that fuzzy mode finds on the right page among
  its first 10 hits;
- seconds a page for the OCR build, and for a rebuild that reads the cache.

Figures, not tests: it always exits 0.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from searchapp.documents import load_corpus, make_doc_id
from searchapp.embedded import build_index
from searchapp.engine import open_engine
from searchapp.results import SearchRequest
from searchapp.search import run_search

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
sys.path.insert(0, str(PROJECT_ROOT / "tests"))
from scans import render_pages  # noqa: E402  (tests/scans.py, shared with the tests)

SEEDS = PROJECT_ROOT / "seeds"
SENTENCE = re.compile(r"[^。！？；]+[。！？；]")
PHRASE = 12


def seed_paragraphs() -> list[str]:
    """The seeds' body paragraphs, in corpus order."""
    return [
        p.text
        for _, docs in load_corpus(SEEDS)
        for doc in docs
        for p in doc.paragraphs
        if not p.is_heading and p.pieces == 1 and len(p.text) >= 20
    ]


def plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def phrases(paragraphs: list[str]) -> list[str]:
    return [
        s.group()[:PHRASE]
        for text in paragraphs
        for s in SENTENCE.finditer(text)
        if len(s.group().strip()) >= PHRASE
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--out", type=Path, help="keep the pages and the index here")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="ocr-bench-"))
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir(parents=True, exist_ok=True)
    rng = random.Random(21)
    pages = []
    for page in render_pages(seed_paragraphs(), dpi=args.dpi, angle=0.0, seed=21):
        if len(pages) == args.pages:
            break
        angle = rng.uniform(-1.5, 1.5)
        (page,) = render_pages(page.paragraphs, dpi=args.dpi, angle=angle, seed=len(pages))
        name = f"page-{len(pages) + 1:03d}.png"
        page.image.save(corpus / name, dpi=(args.dpi, args.dpi))
        pages.append((name, page.paragraphs, angle))

    started = time.perf_counter()
    report = build_index(corpus, index, procs=args.procs, rebuild=True)
    ocr_seconds = time.perf_counter() - started
    started = time.perf_counter()
    build_index(corpus, index, procs=args.procs, rebuild=True)
    cached_seconds = time.perf_counter() - started

    engine = open_engine(index)
    errors = chars = 0
    exact = fuzzy = total = 0
    for name, paragraphs, _ in pages:
        records = sorted(engine.document(make_doc_id(name, None)), key=lambda r: r.ordinal)
        read = "".join(r.text for r in records)
        truth = plain("".join(paragraphs))
        errors += Levenshtein.distance(truth, plain(read))
        chars += len(truth)
        for phrase in phrases(paragraphs):
            total += 1
            page = run_search(engine, SearchRequest(q=f'"{phrase}"', mode="phrase", page_size=50))
            exact += any(h.source == name for h in page.hits)
            page = run_search(engine, SearchRequest(q=phrase, mode="fuzzy", page_size=10))
            fuzzy += any(h.source == name for h in page.hits)
    engine.close()
    confidence = [f.ocr_confidence for f in report.files if f.ocr_pages]
    print(f"pages: {len(pages)} at {args.dpi} dpi (angles ±1.5°, speckled), procs {args.procs}")
    print(f"mean Tesseract confidence: {sum(confidence) / max(len(confidence), 1):.1f}")
    print(f"character error rate: {errors / max(chars, 1):.2%} ({errors} of {chars} characters)")
    print(f"12-character sentences: {total}")
    print(f"  exact phrase recall: {exact / max(total, 1):.1%} ({exact})")
    print(f"  fuzzy recall (top 10): {fuzzy / max(total, 1):.1%} ({fuzzy})")
    print(f"OCR build: {ocr_seconds:.1f} s, {ocr_seconds / len(pages):.2f} s a page")
    print(f"rebuild from the OCR cache: {cached_seconds:.1f} s")
    print(f"pages and index: {root}")


if __name__ == "__main__":
    main()
