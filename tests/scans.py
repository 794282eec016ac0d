"""Text rendered as scanned pages: what the OCR tests and benchmarks/ocr.py read.

A page is A4 at `dpi`, grey, its paragraphs set in Noto Sans CJK (Debian's
fonts-noto-cjk, installed by `make browser`) with a two-character indent, turned by
`angle` degrees and sprinkled with speckles, as a flatbed scan of a printed report.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FONT_GLOB = "NotoSansCJK-Regular.ttc"
A4_INCHES = (8.27, 11.69)


@dataclass
class Page:
    image: Any  # a PIL image, mode L
    paragraphs: list[str]  # the paragraphs set on it, whole


def font_path() -> Path:
    for folder in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")):
        found = sorted(folder.rglob(FONT_GLOB)) if folder.exists() else []
        if found:
            return found[0]
    raise FileNotFoundError(f"{FONT_GLOB} not found: make browser installs fonts-noto-cjk")


def render_pages(
    paragraphs: list[str],
    *,
    dpi: int = 200,
    angle: float = 0.8,
    speckles: float = 1.0,
    points: float = 12.0,
    seed: int = 0,
) -> list[Page]:
    """Set paragraphs on as many pages as they need (a paragraph is never split across
    pages; one longer than a page is left out)."""
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(seed)
    size = round(points / 72 * dpi)
    font = ImageFont.truetype(str(font_path()), size)
    width, height = (round(inches * dpi) for inches in A4_INCHES)
    margin = dpi  # an inch
    line_height = round(size * 1.6)
    measure = width - 2 * margin
    pages: list[Page] = []
    lines_left = 0
    for text in paragraphs:
        lines = wrap(text, lambda line: font.getlength(line) <= measure)
        if len(lines) * line_height > height - 2 * margin:
            continue
        if len(lines) > lines_left:
            pages.append(Page(Image.new("L", (width, height), 255), []))
            draw = ImageDraw.Draw(pages[-1].image)
            y = margin
            lines_left = (height - 2 * margin) // line_height
        for n, line in enumerate(lines):
            draw.text((margin + (2 * size if n == 0 else 0), y), line, font=font, fill=20)
            y += line_height
        lines_left -= len(lines) + 1
        y += line_height
        pages[-1].paragraphs.append(text)
    for page in pages:
        page.image = scanned(page.image, angle, speckles, rng)
    return pages


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """A paragraph's lines, as many characters on each as fit (the first line after an
    indent of two ideographic spaces)."""
    lines = [""]
    for char in text:
        room = fits(("\u3000\u3000" if len(lines) == 1 else "") + lines[-1] + char)
        if lines[-1] and not room:
            lines.append("")
        lines[-1] += char
    return lines


def scanned(image: Any, angle: float, speckles: float, rng: random.Random) -> Any:
    """A clean page as a scanner gives it back: turned a little, with dust."""
    from PIL import Image

    turned = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = turned.load()
    for _ in range(int(turned.width * turned.height / 2000 * speckles)):
        x, y = rng.randrange(turned.width), rng.randrange(turned.height)
        pixels[x, y] = rng.randrange(0, 120)
    return turned


def save_pdf(pages: list[Page], path: Path, dpi: int = 200) -> Path:
    """The pages as an image-only PDF (no text layer), as a scanner writes it."""
    images = [page.image for page in pages]
    images[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return path
