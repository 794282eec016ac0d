"""Reading scanned pages: page images → words with their boxes, by Tesseract.

`Ocr` reads the pages of a PDF that have no usable text layer (rendered by PDFium
through pypdfium2) and page images (.png, .jpg, .tif, read by Pillow). Each page is
made grey, cleaned of speckles, deskewed (±3°, by the sharpest row profile) and
scaled to RENDER_DPI, the resolution Tesseract's models are trained for; Tesseract's
simplified-Chinese model reads it. readers.py joins the lines into paragraphs by the
same rules as a PDF's text layer.

Tesseract is run as a process of its own (its `tsv` output: words, boxes and
confidences), not through pytesseract: that binding only wraps the same command with
temporary files, and gives no way to set its environment. OMP_THREAD_LIMIT=1 matters:
on this 2-core machine Tesseract's OpenMP threads make a page 7× slower (18 s against
2.4 s), and the indexer already runs one worker process a core. ocrmypdf was not
chosen: it writes a new PDF (Ghostscript, qpdf) where only the text is wanted.

Results are cached as JSON by the file's content hash and the OCR settings, in a
folder beside the index that rebuilds leave alone, so no file is read twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import UnreadableFile

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
OCR_VERSION = 3  # part of the cache key: raise it when rendering or reading changes
LANGUAGE = "chi_sim"
RENDER_DPI = 300
# Tesseract's page segmentation: one uniform block of text. Reports are set in one
# column; on the benchmark's pages (benchmarks/ocr.py) it reads 1.5 % of characters
# wrong where the automatic layout (3) reads 2.0 % wrong, at the same speed.
PSM = "6"
MAX_PIXELS = 60_000_000  # a page is scaled down below this many pixels (a poster, a bomb)
ASSUMED_PAGE_INCHES = 8.27  # an image without a resolution is taken as an A4 page's width
MAX_SKEW = 3.0  # degrees tried either way when deskewing
SKEW_STEP = 0.2
PAGE_TIMEOUT = 180.0  # seconds Tesseract may spend on one page
NOISE_CONFIDENCE = 40  # a line of at most NOISE_CHARS below this confidence is a speckle
NOISE_CHARS = 3
INSTALL_HINT = "install Tesseract: make ocr (apt-get install tesseract-ocr tesseract-ocr-chi-sim)"


@dataclass(frozen=True)
class ScanLine:
    """One line read from a page: its words and box in PDF points (y upwards, page top 0)."""

    words: tuple[str, ...]
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    confidence: float  # Tesseract's, 0–100


@dataclass
class Scan:
    """What OCR made of the pages of one file."""

    lines: list[ScanLine]
    pages: int  # pages read by OCR
    confidence: float  # mean over the characters read, 0–100 (0 when nothing was read)
    seconds: float = 0.0
    cached: bool = False


@dataclass(frozen=True)
class Ocr:
    """How to OCR: where results are cached (None: not cached) and at what resolution."""

    cache_dir: Path | None = None
    dpi: int = RENDER_DPI
    language: str = LANGUAGE

    def pdf_pages(self, path: Path, pages: list[int]) -> Scan:
        """OCR the given 1-based pages of a PDF."""
        key = f"p{compact_ranges(pages)}"
        return self.cached(path, key, lambda: self.read_pages(path, pdf_images(path, pages)))

    def image(self, path: Path) -> Scan:
        """OCR every frame of a page image (a multi-page TIFF has several)."""
        return self.cached(path, "image", lambda: self.read_pages(path, image_frames(path)))

    def cached(self, path: Path, what: str, read: Callable[[], Scan]) -> Scan:
        reason = unavailable()
        if reason:
            raise UnreadableFile(f"{path.name}: {reason}", "no-ocr", hint=INSTALL_HINT)
        entry = self.cache_entry(path, what)
        if entry and entry.exists():
            try:
                return scan_from_json(json.loads(entry.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError):
                log.warning("%s: unreadable OCR cache entry, reading the file again", entry)
        scan: Scan = read()
        if entry:
            entry.parent.mkdir(parents=True, exist_ok=True)
            partial = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps(asdict(scan), ensure_ascii=False), encoding="utf-8")
            os.replace(partial, entry)  # two workers with the same file: either one wins whole
        return scan

    def cache_entry(self, path: Path, what: str) -> Path | None:
        if self.cache_dir is None:
            return None
        # The file is hashed again here (documents.load_file has its hash too) so that the
        # readers keep taking a path alone; a read is milliseconds against seconds a page.
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha1").hexdigest()
        settings = f"{OCR_VERSION}|{self.dpi}|{self.language}|{tesseract_version()}|{what}"
        tag = hashlib.sha1(settings.encode()).hexdigest()[:12]
        return self.cache_dir / digest[:2] / f"{digest}-{tag}.json"

    def read_pages(self, path: Path, images: Iterator[tuple[Any, float]]) -> Scan:
        """Tesseract over (image, dots per inch) pages; a damaged page is UnreadableFile."""
        started = time.perf_counter()
        lines: list[ScanLine] = []
        pages = 0
        try:
            for number, (image, dpi) in enumerate(images, start=1):
                pages = number
                prepared, scale = prepare(image, dpi, self.dpi)
                page_lines = self.read_page(prepared, number, 72.0 / (dpi * scale))
                lines += page_lines
                log.info("%s: OCR page %d, %d lines", path.name, number, len(page_lines))
        except UnreadableFile:
            raise
        except Exception as exc:  # Pillow and PDFium raise anything on a damaged file
            log.debug("%s: OCR failed", path, exc_info=True)
            raise UnreadableFile(
                f"{path.name}: the page image cannot be read ({type(exc).__name__}: {exc})",
                "corrupt",
                hint="scan the page again or save it as PNG",
            ) from exc
        chars = [(len("".join(line.words)), line.confidence) for line in lines]
        total = sum(n for n, _ in chars)
        confidence = sum(n * c for n, c in chars) / total if total else 0.0
        return Scan(lines, pages, round(confidence, 1), time.perf_counter() - started)

    def read_page(self, image: Any, page: int, points: float) -> list[ScanLine]:
        """One prepared page's lines; `points` converts its pixels to PDF points."""
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        command = ["tesseract", "stdin", "stdout", "-l", self.language, "--psm", PSM, "tsv"]
        try:
            done = subprocess.run(
                command,
                input=buffer.getvalue(),
                capture_output=True,
                env=env,
                timeout=PAGE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise UnreadableFile(
                f"page {page}: Tesseract took over {PAGE_TIMEOUT:.0f} s", "ocr-failed"
            ) from exc
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise UnreadableFile(
                f"page {page}: Tesseract failed ({'; '.join(detail) or done.returncode})",
                "ocr-failed",
            )
        return tsv_lines(done.stdout.decode("utf-8", "replace"), page, points)


def tsv_lines(tsv: str, page: int, points: float) -> list[ScanLine]:
    """Tesseract's word rows grouped into lines, speckles read as letters left out."""
    grouped: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") == "5" and (row.get("text") or "").strip():
            grouped.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(row)
    lines = []
    for words in grouped.values():
        texts = tuple(w["text"].strip() for w in words)
        sizes = [len(t) for t in texts]
        confidence = sum(float(w["conf"]) * n for w, n in zip(words, sizes, strict=True))
        confidence /= sum(sizes)
        if is_noise("".join(texts), confidence):
            continue
        left = min(int(w["left"]) for w in words)
        right = max(int(w["left"]) + int(w["width"]) for w in words)
        top = min(int(w["top"]) for w in words)
        bottom = max(int(w["top"]) + int(w["height"]) for w in words)
        lines.append(
            ScanLine(
                texts, page, left * points, right * points, -top * points, -bottom * points,
                round(confidence, 1),
            )
        )  # fmt: skip
    return lines


def is_noise(text: str, confidence: float) -> bool:
    """A speckle or a stain read as a letter or two: a line of at most NOISE_CHARS with
    no Han character or digit, or read with little confidence."""
    if len(text) > NOISE_CHARS:
        return False
    return confidence < NOISE_CONFIDENCE or not any(
        c.isdigit() or "\u4e00" <= c <= "\u9fff" for c in text
    )


def scan_from_json(data: dict[str, Any]) -> Scan:
    lines = [ScanLine(**{**line, "words": tuple(line["words"])}) for line in data["lines"]]
    return Scan(lines, data["pages"], data["confidence"], data["seconds"], cached=True)


# --- pages as images -----------------------------------------------------------------------------


def pdf_images(path: Path, pages: list[int]) -> Iterator[tuple[Any, float]]:
    """The given 1-based pages of a PDF rendered in grey at RENDER_DPI (or less, for huge
    pages), with the resolution they were rendered at."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        for number in pages:
            page = pdf[number - 1]
            width, height = page.get_size()
            dpi = min(RENDER_DPI, 72.0 * (MAX_PIXELS / max(width * height, 1.0)) ** 0.5)
            yield page.render(scale=dpi / 72.0, grayscale=True).to_pil(), dpi
            page.close()
    finally:
        pdf.close()


def image_frames(path: Path) -> Iterator[tuple[Any, float]]:
    """Every frame of an image file with its resolution (guessed from an A4 page's width
    when the file does not say)."""
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        for frame in ImageSequence.Iterator(image):
            stated = frame.info.get("dpi", (0, 0))[0]
            guessed = frame.width / ASSUMED_PAGE_INCHES
            dpi = float(stated) if 100 <= float(stated or 0) <= 1200 else guessed
            yield frame.copy(), max(dpi, 50.0)


def prepare(image: Any, dpi: float, target_dpi: int) -> tuple[Any, float]:
    """A page made grey, cleaned of speckles, deskewed and scaled towards target_dpi
    (never past MAX_PIXELS); the image and the scale applied."""
    from PIL import Image, ImageFilter, ImageOps

    grey = ImageOps.exif_transpose(image).convert("L")
    grey = grey.filter(ImageFilter.MedianFilter(3))
    angle = skew_angle(grey)
    if abs(angle) >= SKEW_STEP / 2:
        grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    scale = min(target_dpi / dpi, (MAX_PIXELS / max(grey.width * grey.height, 1)) ** 0.5)
    if abs(scale - 1.0) > 0.05:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    else:
        scale = 1.0
    return grey, scale


def skew_angle(grey: Any) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text's rows level: the
    one whose row profile changes most sharply between lines and gaps."""
    import numpy as np
    from PIL import Image

    small = grey.copy()
    small.thumbnail((1000, 1000))
    ink = small.point(lambda v: 255 if v < 128 else 0)
    best, best_angle = -1.0, 0.0
    steps = round(MAX_SKEW / SKEW_STEP)
    for step in range(-steps, steps + 1):
        angle = step * SKEW_STEP
        rows = np.asarray(ink.rotate(angle, resample=Image.Resampling.NEAREST), dtype=np.float64)
        profile = rows.sum(axis=1)
        sharpness = float(np.square(np.diff(profile)).sum())
        if sharpness > best:
            best, best_angle = sharpness, angle
    return best_angle


# --- what the machine has ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why OCR cannot run here (no Tesseract, no Chinese model), None when it can."""
    if shutil.which("tesseract") is None:
        return "Tesseract is not installed, so scanned pages cannot be read"
    try:
        listed = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Tesseract does not run ({exc})"
    languages = listed.stdout.decode("utf-8", "replace").split()
    if LANGUAGE not in languages:
        return f"Tesseract has no {LANGUAGE} (simplified Chinese) model"
    return None


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    done = subprocess.run(["tesseract", "--version"], capture_output=True, timeout=30, check=False)
    text = (done.stdout or done.stderr).decode("utf-8", "replace").split()
    return text[1] if len(text) > 1 else "unknown"


def compact_ranges(numbers: list[int]) -> str:
    """1,2,3,7 → "1-3,7": a page list short enough for a file name."""
    parts: list[str] = []
    for n in sorted(numbers):
        if parts and parts[-1].split("-")[-1] == str(n - 1):
            parts[-1] = f"{parts[-1].split('-')[0]}-{n}"
        else:
            parts.append(str(n))
    return ",".join(parts)
