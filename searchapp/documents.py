"""From source files to reports: cleaning, splitting compilations, metadata, paragraphs.

A source file may hold one report or a compilation of several (a web page that
bundles many towns' reports behind a table of contents and the site's own header
and footer). Each report becomes a `Document` of `Paragraph`s with a section path,
deterministic ids and metadata that a sidecar file (`metadata.toml` in the corpus
folder) can override.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .analysis import without_space
from .errors import UnreadableFile
from .metadata import Placement, classify_doc_type, detect_year, place_document
from .ocr import Ocr
from .readers import Block, SourceText, is_supported, read_source

log = logging.getLogger(__name__)

SIDECAR_NAME = "metadata.toml"
UNKNOWN = "未知"

# --- data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Paragraph:
    """One paragraph (or heading) of a report, the unit that search returns."""

    para_id: str
    ordinal: int  # 0-based position in the report, for ordering only (not an id)
    text: str
    section: tuple[str, ...] = ()
    is_heading: bool = False
    # an author's paragraph over MAX_PARAGRAPH is cut into pieces (`split_long_paragraph`):
    # this one's 0-based place among them, and how many there are (1: not cut)
    piece: int = 0
    pieces: int = 1


@dataclass
class Document:
    """One report with its metadata."""

    doc_id: str
    source: str  # path of the source file, relative to the corpus folder, POSIX form
    title: str
    town: str = UNKNOWN  # the issuing place at its own level (town, county, city …)
    place: str = ""  # the chain above it (内蒙古自治区呼伦贝尔市); for a town its county
    year: int | None = None
    doc_type: str = "其他"
    date: str | None = None  # ISO date where the text gives one
    part: int = 0  # 1-based position within a compilation, 0 for a single report
    paragraphs: list[Paragraph] = field(default_factory=list)
    level: str = ""  # national, province, city, county, town (metadata.Placement)
    province: str = ""  # full official names of the hierarchy above and at the issuer
    city: str = ""
    county: str = ""
    issuer: str = ""  # the issuing body: 海拉尔区人民政府, 遵义市发展和改革委员会
    adcode: str = ""  # division code of the issuing place, where known
    ocr: bool = False  # its text was read by OCR, wholly or in part


@dataclass
class FileReport:
    """What happened to one file of the corpus."""

    path: str
    status: str  # "indexed", "skipped"
    reason: str = ""  # skipped: unsupported, empty, undecodable, corrupt, no-text …
    message: str = ""
    documents: int = 0
    paragraphs: int = 0
    warnings: list[str] = field(default_factory=list)
    content_hash: str = ""
    ocr_pages: int = 0  # pages read by OCR (scanned PDF pages, page images)
    ocr_confidence: float = 0.0  # Tesseract's mean confidence over them, 0–100


# --- the corpus -----------------------------------------------------------------------


def iter_corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file below corpus_dir in a stable order, hidden files and the sidecar left out."""
    files = []
    for path in sorted(corpus_dir.rglob("*")):
        rel = path.relative_to(corpus_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if rel.as_posix() == SIDECAR_NAME:
            continue
        files.append(path)
    return files


def load_sidecar(corpus_dir: Path) -> dict[str, dict[str, object]]:
    """Read metadata overrides: `["file.txt"]` or `["file.txt#title"]` tables of fields."""
    path = corpus_dir / SIDECAR_NAME
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        log.warning("ignoring %s: %s", path, exc)
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def load_file(
    path: Path, corpus_dir: Path, sidecar: dict[str, dict[str, object]], ocr: Ocr | None = None
) -> tuple[FileReport, list[Document]]:
    """Read one file into documents; never raises for a bad file, reports it instead.

    Only what the readers raise as UnreadableFile (every library failure on a hostile
    file included) and I/O errors make a skipped file; an error in the project's own
    parsing propagates, so it fails tests instead of passing for a corrupt file.
    """
    rel = path.relative_to(corpus_dir).as_posix()
    try:
        data_hash = file_hash(path)
    except OSError as exc:  # vanished since the listing, or not readable by us
        return FileReport(rel, "skipped", "unreadable", f"{type(exc).__name__}: {exc}"), []
    if not is_supported(path):
        return FileReport(rel, "skipped", "unsupported", "unsupported file type"), []
    try:
        source = read_source(path, ocr)
    except UnreadableFile as exc:  # the readers turn every library failure into this
        return FileReport(rel, "skipped", exc.reason, exc.message, content_hash=data_hash), []
    except OSError as exc:
        message = f"{type(exc).__name__}: {exc}"
        return FileReport(rel, "skipped", "unreadable", message, content_hash=data_hash), []
    docs = parse_source(source, rel, sidecar, data_hash)  # our own code: a bug here raises
    if not docs:
        raise RuntimeError(f"{rel}: a file with text gave no paragraphs (a bug in searchapp)")
    report = FileReport(
        rel,
        "indexed",
        documents=len(docs),
        paragraphs=sum(len(d.paragraphs) for d in docs),
        warnings=list(source.warnings),
        content_hash=data_hash,
        ocr_pages=source.ocr_pages,
        ocr_confidence=source.ocr_confidence,
    )
    return report, docs


def load_corpus(corpus_dir: Path) -> Iterator[tuple[FileReport, list[Document]]]:
    """Read every file of a corpus folder, one (report, documents) pair a file."""
    sidecar = load_sidecar(corpus_dir)
    for path in iter_corpus_files(corpus_dir):
        yield load_file(path, corpus_dir, sidecar)


def file_hash(path: Path) -> str:
    """SHA-1 of a file's bytes."""
    digest = hashlib.sha1()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- one source file → reports -----------------------------------------------------------


def parse_source(
    source: SourceText,
    rel: str,
    sidecar: dict[str, dict[str, object]] | None = None,
    content_hash: str = "",
) -> list[Document]:
    """Split a source into reports and build each report's paragraphs and metadata."""
    sidecar = sidecar or {}
    blocks = [Block(b.text.strip(), b.heading_level) for b in source.blocks]
    blocks = [b for b in blocks if b.text]
    blocks = strip_site_junk(blocks)
    parts = split_compilation(blocks)
    docs = []
    for number, (title, part_blocks) in enumerate(parts, start=1):
        part = number if len(parts) > 1 else 0
        doc = build_document(part_blocks, rel, part, title, source)
        doc.ocr = source.ocr_pages > 0
        apply_overrides(doc, sidecar, content_hash)
        if doc.paragraphs:
            docs.append(doc)
    return docs


def build_document(
    blocks: list[Block], rel: str, part: int, part_title: str | None, source: SourceText
) -> Document:
    """One report from its blocks: title, metadata and paragraphs."""
    front = front_matter(blocks, source.structured)
    title = part_title or detect_title(blocks[:front]) or source.title_hint or Path(rel).stem
    text = "\n".join(b.text for b in blocks)
    head = text[:HEAD_CHARS]
    date = detect_date(blocks[: max(front, 8)] + blocks[-4:])
    placement = place_document(title, head, text, rel)
    doc_type = classify_doc_type(title, text)
    doc = Document(
        doc_id=make_doc_id(rel, part_title if part else None),
        source=rel,
        title=title,
        town=placement.name or UNKNOWN,
        place=place_above(placement),
        year=detect_year(title, date, head, text, doc_type),
        doc_type=doc_type,
        date=date,
        part=part,
        level=placement.level,
        province=placement.province,
        city=placement.city,
        county=placement.county,
        issuer=placement.issuer,
        adcode=placement.adcode,
    )
    doc.paragraphs = build_paragraphs(blocks, front, source.structured, title)
    return doc


def apply_overrides(
    doc: Document, sidecar: dict[str, dict[str, object]], content_hash: str = ""
) -> None:
    """Apply sidecar fields for the whole file, then for this report (`file#title`), then
    the corrections made in the browser (`sha1:HASH#PART`: keyed by content, so they
    follow a renamed or moved file)."""
    keys = [doc.source, f"{doc.source}#{doc.title}"]
    if content_hash:
        keys.append(correction_key(content_hash, doc.part))
    for key in keys:
        for name, value in sidecar.get(key, {}).items():
            if name == "year":
                doc.year = parse_year(value, key) or doc.year
            elif name in OVERRIDABLE:
                setattr(doc, name, str(value))
            else:
                log.warning("%s: unknown metadata field %r in %s", key, name, SIDECAR_NAME)


def correction_key(content_hash: str, part: int) -> str:
    """The metadata key of one report of a file's content (part 0: a single report)."""
    return f"{CONTENT_KEY}{content_hash}#{part}"


Entries = dict[str, dict[str, object]]  # metadata key → fields (sidecar and corrections)


def entries_by_file(sidecar: Entries) -> dict[str, Entries]:
    """The entries grouped by what they name: a path, or a content hash (`sha1:HASH`)."""
    grouped: dict[str, Entries] = {}
    for key, value in sidecar.items():
        grouped.setdefault(key.split("#", 1)[0], {})[key] = value
    return grouped


def file_entries(grouped: dict[str, Entries], rel: str, content_hash: str) -> Entries:
    """The entries that apply to one file: an incremental build re-reads a file when
    these change, and keeps every other file."""
    return grouped.get(rel, {}) | grouped.get(f"{CONTENT_KEY}{content_hash}", {})


def parse_year(value: object, key: str) -> int | None:
    """A sidecar year as a number; a value that is not one is ignored with a warning."""
    try:
        return int(str(value).strip())
    except ValueError:
        log.warning("%s: year %r in %s is not a number; ignored", key, value, SIDECAR_NAME)
        return None


# --- identifiers --------------------------------------------------------------------------


def make_doc_id(rel: str, part_title: str | None) -> str:
    """A short id that depends only on the file's path and, in a compilation, the title."""
    key = rel if part_title is None else f"{rel}#{without_space(part_title)}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def make_para_ids(texts: list[str]) -> list[str]:
    """Ids from each paragraph's own text, so edits elsewhere in the report keep them."""
    seen: Counter[str] = Counter()
    ids = []
    for text in texts:
        base = "p" + hashlib.sha1(without_space(text).encode("utf-8")).hexdigest()[:10]
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


# --- site junk and compilations -----------------------------------------------------------

# Words of a download site's own lines. SITE_MARKS never occur in a report's text; the
# other words do (a report may 推进文档下载服务 or 打击侵权), so they mark a line only
# together with a mark elsewhere in the same header or footer run.
SITE_MARKS = (
    "vip",
    "会员",
    "客服",
    "付费",
    "回到顶部",
    "您可能",
    "本站",
    "搜索资料",
    "我的下载",
)
JUNK_WORDS = (
    *SITE_MARKS,
    "下载",
    "支付",
    "桌面",
    "版权",
    "著作权",
    "侵权",
    "举报",
    "删除",
    "登录",
    "注册",
    "收藏",
    "上传",
    "文档",
)
JUNK_MAX_CHARS = 120  # a site's line is short; a longer line is report text, whatever its words
REPEAT_MIN_CHARS = 6  # a footer line repeating a header line is junk when at least this long
# A news site's toolbar and breadcrumb lines, each a line of its own (下载 / 打印 / 全屏 /
# 【字号： / 加大 / 还原 / 减小 / 】, 您的位置： / 首页 / >): no report has such a line.
SITE_LINE = re.compile(
    r"^(?:下载|打印|全屏|收藏|分享|分享到[：:]?|关闭|关闭窗口|返回顶部|【|】|>|＞|首页"
    r"|[【\[]?字号[：:]?(?:大中小|加大还原减小)?[】\]]?|加大|还原|减小"
    r"|(?:您的|当前)位置[：:]?(?:首页)?)$"
)


def junk_score(line: str) -> int:
    """How many download-site words a line holds."""
    lowered = line.lower()
    return sum(1 for word in JUNK_WORDS if word in lowered)


def is_junk_line(line: str) -> bool:
    """A web site's header/footer line: short, with a site word (or several), or a toolbar line."""
    if len(line) > JUNK_MAX_CHARS:
        return False
    score = junk_score(line)
    return score >= 2 or (score == 1 and len(line) <= 30) or is_toolbar_line(line)


def is_toolbar_line(line: str) -> bool:
    """A line that is nothing but a site's button or breadcrumb (打印, 【字号：, 首页 …)."""
    return bool(SITE_LINE.match(without_space(line)))


def has_site_mark(line: str) -> bool:
    """True when a line holds a word no report uses (VIP, 客服, 本站 …) or is a toolbar line."""
    lowered = line.lower()
    return any(mark in lowered for mark in SITE_MARKS) or is_toolbar_line(line)


def strip_site_junk(blocks: list[Block]) -> list[Block]:
    """Drop the web page's header and footer runs around the report text.

    A run is made of short junk lines (`is_junk_line`) at the very start or end of
    the file, and reaches from the file's edge only as far as its last line with a
    site mark (`SITE_MARKS`): a report that mentions 下载, 注册 or 举报 in its own
    sentences keeps them, even in its first and last lines, and a report saved as one
    long line is never junk. In the footer, a line that repeats a dropped header
    line (the compilation's name, for example) counts as a site line too. Nothing is
    dropped when the runs would swallow the whole file.
    """
    texts = [b.text for b in blocks]
    start = 0
    for i, text in enumerate(texts):
        if not is_junk_line(text):
            break
        if has_site_mark(text):
            start = i + 1
    header = [without_space(t) for t in texts[:start]]
    end = len(texts)
    for i in range(len(texts) - 1, start - 1, -1):
        text = texts[i]
        repeated = repeats_header(text, header)
        if not (is_junk_line(text) or repeated):
            break
        if has_site_mark(text) or repeated:
            end = i
    if start >= end:
        return blocks
    return blocks[start:end]


def repeats_header(line: str, header: list[str]) -> bool:
    """A short footer line that repeats (part of) a line of the dropped header."""
    key = without_space(line)
    if not REPEAT_MIN_CHARS <= len(key) <= JUNK_MAX_CHARS:
        return False
    return any(key in h or (len(h) >= REPEAT_MIN_CHARS and h in key) for h in header)


TOC_HEADING = re.compile(r"^目\s*录$")
TOC_NUMBER = re.compile(r"^\d{1,3}\s*[.、．]?$")
TOC_ENTRY = re.compile(r"^(?:\d{1,3}\s*[.、．]\s*)?(?P<title>\S.*?)[\s.·…]+(?P<page>\d{1,4})$")
REPORT_TITLE = re.compile(r"^.{2,40}(?:工作报告|报告|讲话)$")
SALUTATION = re.compile(r"^(?:各位代表|各位委员|同志们|各位代表、同志们)[：:，,！!]?$")


def split_compilation(blocks: list[Block]) -> list[tuple[str | None, list[Block]]]:
    """Split a compilation into its reports; a single report comes back whole.

    A compilation is recognised by a table of contents (目录 followed by entries
    ending in page numbers) whose titles recur as lines of the body, or by several
    report-title lines each followed by a salutation (各位代表：). The text before the
    first report (the compilation's title page and table of contents) is dropped.
    """
    starts = toc_title_positions(blocks) or salutation_title_positions(blocks)
    if len(starts) < 2 and not (starts and has_toc(blocks)):
        return [(None, blocks)]
    parts = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(blocks)
        parts.append((blocks[start].text, blocks[start:end]))
    return parts


def has_toc(blocks: list[Block]) -> bool:
    """True when a 目录 line opens a table of contents."""
    return any(TOC_HEADING.match(without_space(b.text)) for b in blocks[:200])


def toc_titles(blocks: list[Block]) -> tuple[list[str], int]:
    """The titles listed in a table of contents, and the index of the block after it."""
    for i, block in enumerate(blocks[:200]):
        if TOC_HEADING.match(without_space(block.text)):
            titles = []
            j = i + 1
            while j < len(blocks):
                text = blocks[j].text.strip()
                entry = TOC_ENTRY.match(text)
                if TOC_NUMBER.match(text):
                    j += 1
                elif entry:
                    titles.append(without_space(entry.group("title")))
                    j += 1
                else:
                    break
            return titles, j
    return [], 0


def toc_title_positions(blocks: list[Block]) -> list[int]:
    """Where the table of contents' titles stand as lines of the body."""
    titles, after = toc_titles(blocks)
    wanted = set(titles)
    return [i for i in range(after, len(blocks)) if without_space(blocks[i].text) in wanted]


def salutation_title_positions(blocks: list[Block]) -> list[int]:
    """Report-title lines that are followed within three lines by a salutation."""
    positions = []
    for i, block in enumerate(blocks):
        if REPORT_TITLE.match(without_space(block.text)) and any(
            SALUTATION.match(without_space(b.text)) for b in blocks[i + 1 : i + 4]
        ):
            positions.append(i)
    return positions


# --- paragraphs and sections ---------------------------------------------------------------

CN_NUM = "一二三四五六七八九十百零〇"
HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^[{CN_NUM}]+\s*[、.．]")),
    (2, re.compile(rf"^[（(]\s*[{CN_NUM}]+\s*[)）]")),
    (3, re.compile(r"^\d{1,2}\s*[、．.](?!\d)")),
    (4, re.compile(r"^[（(]\s*\d{1,2}\s*[)）]")),
)
DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
CLAUSE_PUNCT = re.compile(r"[。！？；：，,;:!?]")
SENTENCE_END = re.compile(r"[。！？；!?;]")


def heading_level(text: str) -> int | None:
    """The level of a numbered heading (一、 / （一） / 1. / （1）), or None.

    A numbered line counts as a heading when it is short and at most one sentence;
    a long numbered line is a paragraph that opens with its own heading.
    """
    for level, pattern in HEADING_PATTERNS:
        if pattern.match(text):
            body = text.rstrip("。.;；")
            if len(text) <= 45 and not SENTENCE_END.search(body):
                return level
            return None
    return None


def is_plain_heading(text: str) -> bool:
    """An unnumbered heading line: short, no punctuation, not a date or a signature."""
    return (
        len(text) <= 24
        and not CLAUSE_PUNCT.search(text)
        and not DATE.search(text)
        and not re.search(r"\s{2,}", text)
        and len(re.findall(r"[\u4e00-\u9fff]", text)) >= 2
    )


def front_matter(blocks: list[Block], structured: bool) -> int:
    """How many leading blocks are the title page (title, subtitle, speaker, date)."""
    for i, block in enumerate(blocks[:12]):
        text = block.text
        if (
            SALUTATION.match(without_space(text))
            or (len(text) <= 14 and text.endswith(("：", ":")))
            or (block.heading_level is not None and i > 0)
            or (not structured and heading_level(text) is not None)
            or len(text) > 60
        ):
            return i
    return min(len(blocks), 1)


ISSUER = re.compile(r"^(?:中共.{1,15}委员会|.{1,15}人民政府|.{1,15}办公室)$")
TITLE_END = re.compile(r"(?:报告|讲话|计划|总结|汇报|意见|方案|规划|通知)$")


def detect_title(front: list[Block]) -> str | None:
    """The report's title from its title page: lines joined up to the one ending 报告 etc."""
    lines = [without_space(b.text) for b in front if not ISSUER.match(without_space(b.text))]
    lines = [line for line in lines if not DATE.search(line) and not line.startswith("——")]
    for n in range(len(lines)):
        if TITLE_END.search(lines[n]):
            return "".join(lines[: n + 1])[:80]
    return lines[0][:80] if lines else None


def build_paragraphs(
    blocks: list[Block], front: int, structured: bool, title: str = ""
) -> list[Paragraph]:
    """Paragraphs with section paths; wrapped plain headings are joined back together.

    A plain heading that repeats the report's title (after a cover letter, say) is
    not a section.
    """
    merged: list[tuple[str, int | None]] = []
    for i, block in enumerate(blocks):
        level = block_level(block, i < front, structured)
        if level == 0 and merged and merged[-1][1] == 0 and i - 1 >= front:
            joined = merged[-1][0] + block.text
            if len(joined) <= WRAPPED_HEADING_MAX:
                merged[-1] = (joined, 0)  # a heading wrapped over two lines
                continue
        merged.append((block.text, level))
    cut = split_long_paragraphs(merged)
    ids = make_para_ids([text for text, *_ in cut])
    paragraphs = []
    stack: list[tuple[int, str]] = []
    for ordinal, ((text, level, piece, pieces), para_id) in enumerate(zip(cut, ids, strict=True)):
        if repeats_title(text, level, title):
            level = None
        if level is not None:
            stack = [(lv, t) for lv, t in stack if lv < level]
            stack.append((level, section_label(text)))
        section = tuple(t for _, t in stack)
        paragraphs.append(
            Paragraph(para_id, ordinal, text, section, level is not None, piece, pieces)
        )
    return paragraphs


MAX_PARAGRAPH = 1000  # no paragraph longer than this (in characters) reaches the index
TARGET_PARAGRAPH = 450  # a longer one is cut into pieces of about this length, or shorter
MIN_PIECE = 100  # no piece is cut shorter than this
WRAPPED_HEADING_MAX = 48  # plain heading lines are joined up to this length
CLOSERS = "”’」』）)】》〉\"'"
SENTENCE_CUT = re.compile(rf"[。！？；!?;]+[{CLOSERS}]*")
FALLBACK_CUT = re.compile(r"[，、,]+|\s+")


def split_long_paragraphs(
    paragraphs: list[tuple[str, int | None]],
) -> list[tuple[str, int | None, int, int]]:
    """(text, heading level) pairs with every long text cut into pieces of body text, as
    (text, level, piece, pieces): the piece's place among its paragraph's pieces, and
    how many there are."""
    result: list[tuple[str, int | None, int, int]] = []
    for text, level in paragraphs:
        pieces = split_long_paragraph(text)
        if len(pieces) == 1:
            result.append((pieces[0], level, 0, 1))
        else:
            result.extend((piece, None, n, len(pieces)) for n, piece in enumerate(pieces))
    return result


def split_long_paragraph(text: str) -> list[str]:
    """A paragraph as readable pieces: whole up to MAX_PARAGRAPH, else cut at sentence ends.

    A longer paragraph is cut into pieces of about TARGET_PARAGRAPH characters, each
    at most MAX_PARAGRAPH long. A cut falls after a sentence end (。！？； with the
    closing quotes or brackets after it), else after a comma, an enumeration comma
    or white space, else at MAX_PARAGRAPH (or short of it, so that the last piece
    holds at least MIN_PIECE characters). Only the white space at the cuts is lost,
    and the cuts depend on the text alone, so paragraph ids stay stable across rebuilds.
    """
    rest = text.strip()
    if len(rest) <= MAX_PARAGRAPH:
        return [rest]
    pieces = []
    while len(rest) > TARGET_PARAGRAPH:
        cut = choose_cut(rest)
        if cut >= len(rest):
            break
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    pieces.append(rest)
    return pieces


def choose_cut(text: str) -> int:
    """Where to cut the first piece off a long text; len(text) when it should stay whole.

    The text is to become ceil(len / TARGET_PARAGRAPH) pieces of even length; of the
    cuts that leave both sides at least MIN_PIECE long and the first at most
    MAX_PARAGRAPH, the one nearest that length wins (the earlier one on a tie).
    """
    goal = len(text) / math.ceil(len(text) / TARGET_PARAGRAPH)
    last = min(MAX_PARAGRAPH, len(text) - MIN_PIECE)
    for pattern in (SENTENCE_CUT, FALLBACK_CUT):
        ends = [m.end() for m in pattern.finditer(text, 0, last) if m.end() >= MIN_PIECE]
        if ends:
            return min(ends, key=lambda end: (abs(end - goal), end))
    return last if len(text) > MAX_PARAGRAPH else len(text)


def repeats_title(text: str, level: int | None, title: str) -> bool:
    """An unnumbered heading that is (most of) the report's title."""
    key = without_space(text)
    return level == 0 and len(key) >= 6 and key in without_space(title)


def block_level(block: Block, in_front: bool, structured: bool) -> int | None:
    """A block's heading level (0 for unnumbered headings), None for body text."""
    if in_front:
        return None
    if structured:
        return block.heading_level
    level = heading_level(block.text)
    if level is None and is_plain_heading(block.text):
        return 0
    return level


def section_label(text: str) -> str:
    """A heading as shown in a section path: without its final full stop."""
    return text.rstrip("。.")[:60]


# --- metadata -----------------------------------------------------------------------------

HEAD_CHARS = 1500  # the title page: where the meeting line and the signature stand
CONTENT_KEY = "sha1:"  # a metadata key by content hash (corrections), not by path
OVERRIDABLE = {  # sidecar fields taken as text ("year" is parsed)
    *("title", "town", "place", "doc_type", "date"),
    *("level", "province", "city", "county", "issuer", "adcode"),
}


def place_above(placement: Placement) -> str:
    """The chain above the issuing place, joined (内蒙古自治区呼伦贝尔市); a town's county."""
    if placement.level == "town":
        return placement.county or placement.city or placement.province
    above = {"county": ("province", "city"), "city": ("province",)}.get(placement.level, ())
    return "".join(getattr(placement, name) for name in above)


def detect_date(blocks: list[Block]) -> str | None:
    """An ISO date from the title page or the signature, where given."""
    for block in blocks:
        if len(without_space(block.text)) > 80:
            continue
        match = DATE.search(block.text)
        if match:
            y, m, d = int(match["y"]), int(match["m"]), int(match["d"])
            if 1 <= m <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{m:02d}-{d:02d}"
    return None
