"""Reading source files into text blocks: encodings and file formats.

`read_source(path)` is the only entry point. Plain-text formats come back as
unstructured lines (documents.py classifies headings itself); structured formats
(.docx, .md, .html, .pdf) come back with their headings marked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UnreadableFile

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES


@dataclass(frozen=True)
class Block:
    """One paragraph-sized piece of a source file."""

    text: str
    heading_level: int | None = None  # None: body text (or unknown when not structured)


@dataclass
class SourceText:
    """What a reader made of one file."""

    blocks: list[Block]
    structured: bool = False  # True when headings come from the format, not guessed
    title_hint: str | None = None
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)


def is_supported(path: Path) -> bool:
    """True when a reader exists for the file's type."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def read_source(path: Path) -> SourceText:
    """Read one file; raise UnreadableFile with a reason code when it has no usable text."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_plain_text(path)
    raise UnreadableFile(f"{path.name}: unsupported file type {suffix or '(none)'}", "unsupported")


def read_plain_text(path: Path) -> SourceText:
    """Decode a text file and split it into lines."""
    data = path.read_bytes()
    text, encoding, warnings = decode_text(data, path.name)
    blocks = [Block(line) for line in split_lines(text)]
    if not any(b.text.strip() for b in blocks):
        raise UnreadableFile(f"{path.name}: the file holds no text", "empty")
    return SourceText(blocks=blocks, encoding=encoding, warnings=warnings)


def split_lines(text: str) -> list[str]:
    """Split on CRLF, CR or LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def decode_text(data: bytes, name: str = "") -> tuple[str, str, list[str]]:
    """Decode bytes with the first encoding that decodes them cleanly."""
    if not data.strip():
        raise UnreadableFile(f"{name}: the file is empty", "empty")
    for encoding in ("utf-8-sig", "gb18030", "big5"):
        try:
            return data.decode(encoding), encoding, []
        except UnicodeDecodeError:
            continue
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    raise UnreadableFile(
        f"{name}: no known encoding decodes it cleanly ({bad} undecodable characters as UTF-8)",
        "undecodable",
        hint="save the file as UTF-8 or GB18030 and index again",
    )
