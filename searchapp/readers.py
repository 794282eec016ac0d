"""Reading source files into text blocks: encodings and file formats.

`read_source(path)` is the only entry point. Plain-text formats come back as
unstructured lines (documents.py classifies headings itself); structured formats
(.docx, .md, .html) come back with their headings marked. PDF text comes back as
unstructured paragraphs: its lines are joined again and its running headers,
footers and page numbers are dropped.

Each format is read by a well-kept library, imported only when a file of its kind
turns up: python-docx (.docx), pdfminer.six (.pdf), trafilatura (.html) and
markdown-it-py (.md). Whatever a library raises on a hostile file becomes an
`UnreadableFile` with the reason "corrupt", so one bad file never stops the indexer.

Scanned pages (a PDF's pages without a usable text layer, and page images) are read
by OCR (ocr.py) and joined into paragraphs by the PDF rules below.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from .errors import UnreadableFile
from .ocr import IMAGE_SUFFIXES, Ocr, ScanLine, compact_ranges

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
DOCX_SUFFIXES = {".docx"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = (
    TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | DOCX_SUFFIXES | PDF_SUFFIXES
) | IMAGE_SUFFIXES


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
    ocr_pages: int = 0  # pages read by OCR
    ocr_confidence: float = 0.0  # their mean confidence (0–100)


def is_supported(path: Path) -> bool:
    """True when a reader exists for the file's type."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def read_source(path: Path, ocr: Ocr | None = None) -> SourceText:
    """Read one file; raise UnreadableFile with a reason code when it has no usable text.

    Scanned pages are read by `ocr` (by default: uncached OCR).
    """
    suffix = path.suffix.lower()
    if suffix in SCAN_READERS:
        source = SCAN_READERS[suffix](path, ocr or Ocr())
    elif suffix in READERS:
        source = READERS[suffix](path)
    else:
        raise UnreadableFile(
            f"{path.name}: unsupported file type {suffix or '(none)'}", "unsupported"
        )
    if not any(b.text.strip() for b in source.blocks):
        raise UnreadableFile(f"{path.name}: the file holds no text", "empty")
    return source


@contextmanager
def library_errors(path: Path, kind: str) -> Iterator[None]:
    """Turn whatever a reader library raises on a hostile file into UnreadableFile."""
    try:
        yield
    except UnreadableFile:
        raise
    except Exception as exc:  # libraries raise anything from KeyError to XMLSyntaxError
        log.debug("%s: %s reader failed", path, kind, exc_info=True)
        raise UnreadableFile(
            f"{path.name}: not a readable {kind} file ({type(exc).__name__}: {exc})",
            "corrupt",
            hint=f"open it in an office program and save it again as {kind}",
        ) from exc


# --- plain text and encodings ------------------------------------------------------------


def read_plain_text(path: Path) -> SourceText:
    """Decode a text file and split it into lines."""
    text, encoding, warnings = decode_text(path.read_bytes(), path.name)
    blocks = [Block(line) for line in split_lines(text)]
    return SourceText(blocks=blocks, encoding=encoding, warnings=warnings)


LINE_BREAK = re.compile("\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """Split on CRLF, CR, LF and the other line breaks (form feed, U+2028, U+2029 …)."""
    return LINE_BREAK.split(text)


# Legacy Chinese encodings tried after UTF-8. GB18030 is a superset of GBK and GB2312.
LEGACY_ENCODINGS = ("gb18030", "big5")
MAX_LOSS = 0.001  # share of characters that may be replaced when no encoding decodes cleanly
MIN_PLAUSIBILITY = 0.6  # share of "good" characters below which a decoding is gibberish
SAMPLE_CHARS = 20_000  # characters scored for plausibility


def decode_text(data: bytes, name: str = "") -> tuple[str, str, list[str]]:
    """Decode bytes: UTF-8 first, else the most plausible legacy Chinese encoding.

    GB18030 and Big5 can both decode some byte strings without error; the decoding
    whose characters are more often common characters of its own script wins
    (`plausibility`). When no encoding decodes the bytes cleanly, the one with the
    fewest replacement characters is used if the losses are tiny (≤ 0.1 %), with a
    warning; otherwise the file is undecodable.
    """
    if not data.strip():
        raise UnreadableFile(f"{name}: the file is empty", "empty")
    for bom, encoding in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return decode_strict(data, encoding, name), encoding, []
    if b"\x00" in data[:65536]:
        raise UnreadableFile(f"{name}: holds NUL bytes, so it is a binary file, not text", "binary")
    try:
        return data.decode("utf-8-sig"), "utf-8", []
    except UnicodeDecodeError:
        pass
    clean = [(enc, text) for enc in LEGACY_ENCODINGS if (text := try_decode(data, enc))]
    if clean:
        encoding, text = max(clean, key=lambda c: plausibility(c[1], c[0]))
        if plausibility(text, encoding) >= MIN_PLAUSIBILITY:
            return text, encoding, []
        raise undecodable(name, f"decodes as {encoding} only into gibberish")
    return decode_lossy(data, name)


def try_decode(data: bytes, encoding: str) -> str | None:
    """The decoded text, or None when the bytes are not valid in that encoding."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def decode_strict(data: bytes, encoding: str, name: str) -> str:
    """Decode with one encoding (declared by a BOM), undecodable when it fails."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise undecodable(name, f"has a {encoding} byte-order mark but is not {encoding}") from exc


def decode_lossy(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """Decode with replacement when the losses are tiny and the rest reads as text."""
    candidates = []
    for encoding in ("utf-8", *LEGACY_ENCODINGS):
        text = data.decode(encoding, errors="replace").removeprefix("\ufeff")
        candidates.append((text.count("\ufffd"), encoding, text))
    bad, encoding, text = min(candidates, key=lambda c: c[0])  # first wins a tie
    share = bad / max(len(text), 1)
    if share <= MAX_LOSS and plausibility(text, encoding) >= MIN_PLAUSIBILITY:
        log.warning("%s: %d undecodable characters replaced (%s)", name, bad, encoding)
        return text, encoding, [f"{bad} 个字符无法解码，已替换为 �（{encoding}）"]
    raise undecodable(
        name,
        f"no known encoding decodes it; even {encoding} loses {bad} of {len(text)} characters",
    )


def undecodable(name: str, detail: str) -> UnreadableFile:
    """The error for a file that is not text in any encoding we know."""
    return UnreadableFile(
        f"{name}: {detail}",
        "undecodable",
        hint="save the file as UTF-8 (or GB18030) and index again",
    )


def plausibility(text: str, encoding: str) -> float:
    """Share of a decoding's non-space characters that are likely in real text.

    Good characters are printable ASCII, CJK and full-width punctuation, and Han
    characters common in the encoding's own script: those of GB2312 for GB18030 (the
    6,763 simplified characters in use) and of Big5 level 1 for Big5 (its 5,401
    frequent traditional characters). Big5 bytes read as GB18030 give kana,
    Cyrillic, private-use and rare characters; GBK bytes read as Big5 give many
    level-2 characters. Letters of other scripts count as good for UTF-8 only.
    """
    common = COMMON_HAN.get(encoding, is_letter)
    chars = [c for c in text[:SAMPLE_CHARS] if not c.isspace()]
    if not chars:
        return 1.0
    good = sum(1 for c in chars if is_neutral(c) or common(c))
    return good / len(chars)


@lru_cache(maxsize=65536)
def is_neutral(char: str) -> bool:
    """Printable ASCII and punctuation shared by every encoding."""
    if char.isascii():
        return char.isprintable()
    code = ord(char)
    return 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E or 0x2010 <= code <= 0x2027


@lru_cache(maxsize=65536)
def in_gb2312(char: str) -> bool:
    """True when GB2312 (the common simplified characters) holds the character."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@lru_cache(maxsize=65536)
def in_big5_level1(char: str) -> bool:
    """True for Big5's symbols and level-1 (frequent) traditional characters."""
    try:
        code = int.from_bytes(char.encode("big5"), "big")
    except UnicodeEncodeError:
        return False
    return 0xA140 <= code <= 0xC67E


def is_letter(char: str) -> bool:
    """Any letter or number: UTF-8 decodes only real text, whatever its script."""
    return char.isalnum()


COMMON_HAN: dict[str, Callable[[str], bool]] = {"gb18030": in_gb2312, "big5": in_big5_level1}


# --- Markdown -------------------------------------------------------------------------------


def read_markdown(path: Path) -> SourceText:
    """Headings, paragraphs, list items and table rows of a Markdown file."""
    from markdown_it import MarkdownIt

    text, encoding, warnings = decode_text(path.read_bytes(), path.name)
    with library_errors(path, "Markdown"):
        tokens = MarkdownIt("commonmark").enable("table").parse(text)
        blocks = list(markdown_blocks(tokens))
    title = next((b.text for b in blocks if b.heading_level == 1), None)
    return SourceText(
        blocks, structured=True, title_hint=title, encoding=encoding, warnings=warnings
    )


def markdown_blocks(tokens: list[Any]) -> Iterator[Block]:
    """One block per heading, paragraph, list item or table row, in order."""
    level: int | None = None
    row: list[str] | None = None
    for token in tokens:
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "heading_close":
            level = None
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            yield Block(" | ".join(cell for cell in row if cell))
            row = None
        elif token.type == "inline":
            text = inline_text(token.children or [])
            if row is not None:
                row.append(text)
            elif text:
                yield Block(text, level)
        elif token.type in ("fence", "code_block") and token.content.strip():
            yield Block(token.content.strip())


def inline_text(children: list[Any]) -> str:
    """The plain text of an inline token: emphasis, links and images left out."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return join_lines("".join(parts).split("\n"))


# --- joining wrapped lines -------------------------------------------------------------------

CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
CJK_EDGE = re.compile(rf"[{CJK}]")
NUMBER_END = re.compile(r"\d\.?$")  # a line ending inside a number: 207 or 207.
NUMBER_GOES_ON = re.compile(r"[\d.%]")


def join_lines(lines: Iterable[str]) -> str:
    """Join wrapped lines: no space next to a Chinese character or inside a number (Chinese
    text wraps in the middle of 207.45), one between Latin words."""
    text = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        in_number = NUMBER_END.search(text) and NUMBER_GOES_ON.match(line)
        if text and not (CJK_EDGE.match(text[-1]) or CJK_EDGE.match(line[0]) or in_number):
            text += " "
        text += line
    return text


# --- .docx -----------------------------------------------------------------------------------

HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
TITLE_STYLES = {"title", "标题"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A .docx is a zip: a few MB of zeros compress a thousandfold, and python-docx would
# inflate them whole in memory. Real reports stay far below both limits.
MAX_DOCX_INFLATED = 256 << 20  # bytes, all members together
MAX_DOCX_RATIO = 200  # inflated / compressed, above 1 MB inflated
DOCX_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCX_OUTLINE = f"{DOCX_NS}outlineLvl"
DOCX_VAL = f"{DOCX_NS}val"


def read_docx(path: Path) -> SourceText:
    """Paragraphs and table rows of a Word document in order, headings from their styles."""
    with path.open("rb") as fh:
        if fh.read(8) == OLE_MAGIC:
            raise UnreadableFile(
                f"{path.name}: an old Word 97–2003 .doc file named .docx",
                "unsupported",
                hint="open it in Word or LibreOffice and save it as .docx",
            )
    import docx
    from docx.table import Table

    with library_errors(path, ".docx"):
        check_zip_size(path)
        document = docx.Document(str(path))
        title = (document.core_properties.title or "").strip() or None
        blocks: list[Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                blocks.extend(Block(row) for row in table_rows(item))
                continue
            style = docx_style_level(item)
            if style == "title":
                text = join_lines(split_lines(item.text))
                title = title or text
                blocks.append(Block(text))
            elif style is None:  # a body paragraph's line breaks (Shift+Enter) part it too
                blocks.extend(Block(line) for line in split_lines(item.text))
            else:
                blocks.append(Block(join_lines(split_lines(item.text)), style))
    return SourceText(blocks, structured=True, title_hint=title)


def check_zip_size(path: Path) -> None:
    """Refuse a zip that would inflate to far more than any report (a zip bomb)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
    inflated = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    if inflated > MAX_DOCX_INFLATED or (inflated > 1 << 20 and inflated / packed > MAX_DOCX_RATIO):
        raise UnreadableFile(
            f"{path.name}: would inflate to {inflated >> 20} MB from {packed >> 10} KB "
            "(a zip bomb, or not a real report)",
            "corrupt",
            hint="open it in Word or LibreOffice and save it again as .docx",
        )


def docx_style_level(paragraph: Any) -> int | str | None:
    """A paragraph's heading level from its style (or the style it is based on), or "title"."""
    style = paragraph.style
    for _ in range(10):  # style chains are short; a loop guards against cycles
        if style is None:
            break
        name = (style.name or "").strip()
        if name.lower() in TITLE_STYLES:
            return "title"
        match = HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        style = style.base_style
    return outline_level(paragraph)


def outline_level(paragraph: Any) -> int | None:
    """The heading level set directly on a paragraph as its outline level, if any."""
    ppr = paragraph._p.pPr
    node = None if ppr is None else ppr.find(DOCX_OUTLINE)
    if node is None:
        return None
    value = node.get(DOCX_VAL, "")
    return int(value) + 1 if value.isdigit() and int(value) < 9 else None


def table_rows(table: Any) -> Iterator[str]:
    """Each row of a table as one line of cells joined by " | " (merged cells once)."""
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = join_lines(cell.text.split("\n"))
            if text:
                cells.append(text)
        if cells:
            yield " | ".join(cells)


# --- .pdf ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfLine:
    """One line of text on a PDF page, with its position (PDF points, y upwards)."""

    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def height(self) -> float:
        """The line's height, roughly its font size."""
        return self.top - self.bottom


PAGE_NUMBER = re.compile(
    r"^(?:[-–—－]\s*\d{1,4}\s*[-–—－]|第\s*\d{1,4}\s*页(?:\s*[，,/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|(?:page\s*)?\d{1,4}(?:\s*of\s*\d{1,4})?)$",
    re.IGNORECASE,
)
PARAGRAPH_END = re.compile(r"[。！？：；!?;:][”’」』）)]*$")
MARGIN_LINES = 2  # lines at the top and at the bottom of a page checked for running text


MIN_PAGE_TEXT = 5  # characters of a page's text layer below which the page is scanned
GARBAGE_SHARE = 0.3  # share of (cid:N) glyphs above which a page's text layer is garbage


def read_pdf(path: Path, ocr: Ocr) -> SourceText:
    """A PDF's text as paragraphs, without running headers, footers or page numbers: its
    text layer, and OCR for the pages that have none (or only garbage)."""
    with library_errors(path, "PDF"):
        lines, pages, title = pdf_lines(path)
    lines = drop_running_lines(lines, pages)
    scanned = pages_without_text(lines, pages)
    source = SourceText([], structured=False, title_hint=title)
    if scanned:
        try:
            scan = ocr.pdf_pages(path, scanned)
        except UnreadableFile as exc:
            if len(scanned) < pages:  # the text pages are still worth having
                source.warnings.append(f"pages {compact_ranges(scanned)} not read: {exc}")
            else:
                raise no_text_layer(path, lines, exc) from exc
        else:
            kept = [line for line in lines if line.page not in set(scanned)]
            read = [pdf_line(line) for line in scan.lines]
            lines = drop_running_lines(sorted(kept + read, key=lambda ln: ln.page), pages)
            source.ocr_pages, source.ocr_confidence = scan.pages, scan.confidence
    if sum(len(line.text) for line in lines) < MIN_PAGE_TEXT:
        raise no_text_layer(path, lines, None)
    source.blocks = [Block(text) for text in pdf_paragraphs(lines, ragged=source.ocr_pages > 0)]
    return source


def pages_without_text(lines: list[PdfLine], pages: int) -> list[int]:
    """The 1-based pages whose text layer is missing (at most page numbers) or garbage."""
    by_page = {page[0].page: page for page in group_pages(lines)}
    return [
        n
        for n in range(1, pages + 1)
        if sum(len(line.text) for line in by_page.get(n, [])) < MIN_PAGE_TEXT
        or cid_share(by_page[n]) > GARBAGE_SHARE
    ]


def no_text_layer(
    path: Path, lines: list[PdfLine], failed: UnreadableFile | None
) -> UnreadableFile:
    """The error for a PDF that neither its text layer nor OCR could read (`failed`: why
    OCR did not run or failed; None when it found no text either). Without Tesseract
    the reason is "no-ocr", so that a later build reads the file once it can."""
    why = failed.message if failed else "OCR found no text on its pages either"
    if failed and failed.reason == "no-ocr":
        return UnreadableFile(
            f"{path.name}: the PDF has no text layer (it looks scanned); {why}",
            "no-ocr",
            hint=failed.hint,
        )
    if lines and cid_share(lines) > GARBAGE_SHARE:
        detail = "the PDF's fonts have no character map (text shows as cid:N)"
        return undecodable(path.name, f"{detail}; {why}")
    return UnreadableFile(
        f"{path.name}: the PDF has no text layer (at most page numbers); it looks scanned, "
        f"and OCR could not read it: {why}",
        "no-text",
        hint="scan it again at 300 dpi, or run OCR on it (for example ocrmypdf)",
    )


def pdf_line(line: ScanLine) -> PdfLine:
    """A line read by OCR, as a line of a PDF's text layer."""
    return PdfLine(
        cjk_punctuation(join_lines(line.words)),
        line.page, line.x0, line.x1, line.top, line.bottom,
    )  # fmt: skip


HALF_PUNCTUATION = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}
NEXT_TO_HAN = re.compile(rf"(?<=[{CJK}])[,;:?!)]|[,;:?!(](?=[{CJK}])")


def cjk_punctuation(text: str) -> str:
    """OCR's half-width punctuation beside Chinese text in the full-width form it has."""
    return NEXT_TO_HAN.sub(lambda m: HALF_PUNCTUATION[m.group()], text)


STRAIGHT_QUOTE = re.compile(rf'"(?=[{CJK}])|(?<=[{CJK}])"')


def curly_quotes(paragraph: str) -> str:
    """OCR reads Chinese quotation marks as " more often than not: beside Chinese text,
    each " becomes “ or ”, opposite to the curly quote before it in the paragraph."""
    out = []
    last = 0
    opened = False
    for match in STRAIGHT_QUOTE.finditer(paragraph):
        before = paragraph[last : match.start()]
        for char in before:
            if char in "“”":
                opened = char == "“"
        out += [before, "”" if opened else "“"]
        opened = not opened
        last = match.end()
    out.append(paragraph[last:])
    return "".join(out)


# --- page images -------------------------------------------------------------------------------


def read_image(path: Path, ocr: Ocr) -> SourceText:
    """A scanned or photographed page (or a multi-page TIFF) read by OCR."""
    scan = ocr.image(path)
    lines = drop_running_lines([pdf_line(line) for line in scan.lines], scan.pages)
    if not lines:
        raise UnreadableFile(f"{path.name}: OCR found no text in the image", "empty")
    blocks = [Block(text) for text in pdf_paragraphs(lines, ragged=True)]
    return SourceText(blocks, ocr_pages=scan.pages, ocr_confidence=scan.confidence)


def pdf_lines(path: Path) -> tuple[list[PdfLine], int, str | None]:
    """Every text line of every page in reading order, the page count and the title."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LAParams, LTTextBox, LTTextLine

    lines: list[PdfLine] = []
    pages = 0
    for number, page in enumerate(extract_pages(str(path), laparams=LAParams()), start=1):
        pages = number
        for box in page:
            if not isinstance(box, LTTextBox):
                continue
            for line in box:
                text = line.get_text().strip() if isinstance(line, LTTextLine) else ""
                if text:
                    lines.append(PdfLine(text, number, line.x0, line.x1, line.y1, line.y0))
    return lines, pages, pdf_title(path)


def pdf_title(path: Path) -> str | None:
    """The document title from the PDF's info dictionary, unless it is a program's default."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1
    from pdfminer.utils import decode_text as pdf_decode

    with path.open("rb") as fh:
        document = PDFDocument(PDFParser(fh))
        for info in document.info:
            raw = resolve1(info.get("Title"))
            if isinstance(raw, bytes):
                title = pdf_decode(raw).strip()
                if title and not re.match(r"(?i)^(?:microsoft word|untitled|无标题)", title):
                    return title[:120]
    return None


def cid_share(lines: list[PdfLine]) -> float:
    """Share of the text that pdfminer could only show as (cid:N) glyph numbers."""
    text = "".join(line.text for line in lines)
    return sum(len(m) for m in re.findall(r"\(cid:\d+\)", text)) / max(len(text), 1)


def drop_running_lines(lines: list[PdfLine], pages: int) -> list[PdfLine]:
    """Drop page numbers, and headers/footers: lines at the same place on most pages' edges."""
    margins = [line for page in group_pages(lines) for line in margin_lines(page)]
    places: dict[str, list[PdfLine]] = {}
    for line in margins:
        places.setdefault(running_key(line.text), []).append(line)
    threshold = max(2, (pages * 3 + 4) // 5)  # on at least 60 % of the pages
    running = {
        id(line)
        for same in places.values()
        if len({line.page for line in same}) >= threshold and same_place(same)
        for line in same
    }
    running |= {id(line) for line in margins if PAGE_NUMBER.match(line.text)}
    return [line for line in lines if id(line) not in running]


def group_pages(lines: list[PdfLine]) -> list[list[PdfLine]]:
    """The lines of each page."""
    by_page: dict[int, list[PdfLine]] = {}
    for line in lines:
        by_page.setdefault(line.page, []).append(line)
    return list(by_page.values())


def same_place(lines: list[PdfLine]) -> bool:
    """True when lines stand at the same height of their pages (within a line's height)."""
    tops = [line.top for line in lines]
    return max(tops) - min(tops) <= max(line.height for line in lines)


def margin_lines(page: list[PdfLine]) -> list[PdfLine]:
    """The few highest and lowest lines of a page, where headers and footers stand."""
    ordered = sorted(page, key=lambda line: -line.top)
    return ordered[:MARGIN_LINES] + ordered[-MARGIN_LINES:]


def running_key(text: str) -> str:
    """A header/footer line with its digits blurred, so 第 3 页 matches 第 4 页."""
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


RAGGED_SHORT = 0.2  # OCR: a line ends a paragraph if it stops short by this share of the width


@dataclass(frozen=True)
class Layout:
    """What decides paragraph breaks on a file's pages."""

    left: float  # the text's left and right edge
    right: float
    spacing: float  # the usual gap between the lines of a paragraph
    ragged: bool  # lines read by OCR (see pdf_paragraphs)


def pdf_paragraphs(lines: list[PdfLine], ragged: bool = False) -> list[str]:
    """Join lines into paragraphs: a break after a sentence end, an indent or a wider gap.

    `ragged` (lines read by OCR, whose boxes are uneven): a line ending mid-sentence a
    little short of the right edge goes on in the next line, and so does one that ends
    a sentence at the right edge (of a page set flush, only a new paragraph's indent
    or a short last line tells where it ends; OCR cannot tell a full-width 。 at the
    edge from one a character before it).
    """
    layout = Layout(
        min(line.x0 for line in lines), max(line.x1 for line in lines), typical_gap(lines), ragged
    )
    paragraphs: list[list[str]] = []
    previous: PdfLine | None = None
    for line in lines:
        if previous is None or starts_paragraph(previous, line, layout):
            paragraphs.append([])
        paragraphs[-1].append(line.text)
        previous = line
    texts = [join_lines(p) for p in paragraphs]
    return [curly_quotes(text) for text in texts] if ragged else texts


def typical_gap(lines: list[PdfLine]) -> float:
    """The usual white space between two lines of a paragraph (the median gap)."""
    gaps = sorted(a.bottom - b.top for a, b in pairwise(lines) if a.page == b.page)
    gaps = [g for g in gaps if g >= 0]
    return gaps[len(gaps) // 2] if gaps else 0.0


def starts_paragraph(previous: PdfLine, line: PdfLine, layout: Layout) -> bool:
    """True when a line opens a new paragraph rather than continuing the previous one."""
    size = max(line.height, 1.0)
    if line.x0 > layout.left + size * 1.2:
        return True  # an indented first line
    full = previous.x1 >= layout.right - size * 1.5
    if PARAGRAPH_END.search(previous.text) and not (layout.ragged and full):
        return True  # after a sentence end
    if line.page != previous.page:
        return False  # a sentence carried over to the next page
    gap = previous.bottom - line.top
    short = (layout.right - layout.left) * RAGGED_SHORT if layout.ragged else 0.0
    return (
        previous.x1 < layout.right - max(size * 2.5, short)  # the previous line stopped short
        or gap > layout.spacing + size * 0.5  # a wider gap than between wrapped lines
        or gap < -size  # not below the previous line: another column or box
    )


# --- .html -----------------------------------------------------------------------------------

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.IGNORECASE)
CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5"}
TITLE_SEPARATOR = re.compile(r"\s*(?:_|\||｜|--|—|–| - )\s*")


def read_html(path: Path) -> SourceText:
    """The article of a saved web page, without navigation, breadcrumbs, footer or scripts."""
    import lxml.html
    import trafilatura

    data = path.read_bytes()
    text, encoding, warnings = decode_html(data, path.name)
    with library_errors(path, "HTML"):
        tree = lxml.html.fromstring(text)
        title = html_title(tree)
        xml = trafilatura.extract(
            tree,
            output_format="xml",
            include_formatting=True,
            include_tables=True,
            include_comments=False,
            favor_recall=True,
        )
        if xml:
            blocks = list(trafilatura_blocks(xml))
        else:  # too little text for an article: keep every visible line
            blocks = [Block(line) for line in split_lines(trafilatura.html2txt(text) or "")]
    if title and not any(b.text.strip() == title for b in blocks[:3]):
        blocks.insert(0, Block(title))
    return SourceText(
        blocks, structured=bool(xml), title_hint=title, encoding=encoding, warnings=warnings
    )


def decode_html(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """Decode a page by the charset its <meta> tag declares, else like a text file."""
    if data.startswith(b"\xef\xbb\xbf"):
        return decode_text(data, name)
    match = META_CHARSET.search(data[:4096])
    if match:
        declared = match.group(1).decode("ascii").lower()
        encoding = CHARSET_ALIASES.get(declared, declared)
        try:
            return data.decode(encoding), encoding, []
        except (LookupError, UnicodeDecodeError):
            log.info("%s: not %s as declared; guessing the encoding", name, declared)
    return decode_text(data, name)


def html_title(tree: Any) -> str | None:
    """The page's only <h1>, else the longest part of its <title> (site names split off)."""
    headings = [join_lines(h.text_content().split("\n")) for h in tree.iter("h1")]
    headings = [h for h in headings if h]
    if len(headings) == 1:
        return headings[0]
    titles = [t.text_content().strip() for t in tree.iter("title")]
    if titles and titles[0]:
        return max(TITLE_SEPARATOR.split(titles[0]), key=len).strip() or None
    return headings[0] if headings else None


def trafilatura_blocks(xml: str) -> Iterator[Block]:
    """Blocks from trafilatura's XML: <head rend="hN"> headings, paragraphs, items, rows."""
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    for element in (main if main is not None else root).iter("head", "p", "item", "row", "quote"):
        if element.tag in ("p", "item") and has_ancestor(element, {"row", "quote", "item"}):
            continue
        if element.tag == "row":
            cells = [join_lines(c.itertext()) for c in element.iter("cell")]
            text = " | ".join(c for c in cells if c)
        else:
            text = join_lines("".join(element.itertext()).split("\n"))
        if text:
            yield Block(text, html_heading_level(element))


def has_ancestor(element: Any, tags: set[str]) -> bool:
    """True when an element lies inside one of the given elements."""
    parent = element.getparent()
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.getparent()
    return False


def html_heading_level(element: Any) -> int | None:
    """The level of a trafilatura <head rend="h2">, None for other elements."""
    if element.tag != "head":
        return None
    match = re.match(r"h(\d)$", element.get("rend", ""))
    return int(match.group(1)) if match else 2


READERS: dict[str, Callable[[Path], SourceText]] = {
    **dict.fromkeys(TEXT_SUFFIXES, read_plain_text),
    **dict.fromkeys(MARKDOWN_SUFFIXES, read_markdown),
    **dict.fromkeys(HTML_SUFFIXES, read_html),
    **dict.fromkeys(DOCX_SUFFIXES, read_docx),
}
SCAN_READERS: dict[str, Callable[[Path, Ocr], SourceText]] = {
    **dict.fromkeys(PDF_SUFFIXES, read_pdf),
    **dict.fromkeys(IMAGE_SUFFIXES, read_image),
}
