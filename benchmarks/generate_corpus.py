"""Generate a large, deterministic synthetic corpus of Chinese township government reports.

Usage::

    python benchmarks/generate_corpus.py --size-mb 20 --out /tmp/corpus20 [--seed 1]

Method
------
1. Read the seed reports (UTF-8 ``*.txt`` in sorted order; default: the repository's
   ``seeds/``), splitting the scraped compilation at its report titles. Convert ASCII
   punctuation to full width (one seed uses ``,;:()``), drop web-page junk, and classify
   each line as a level-1 heading (``一、…``), a level-2 heading (``（一）…``) or a body
   paragraph; other short lines (titles, tables of contents, dates, signatures) are ignored.
2. Split paragraphs into sentences after 。！？； and compile every sentence and heading
   into a template: literal text with slots for the seed towns' names (潭头镇, 潭头 …),
   their counties and prefectures (栾川县, 东莞 …), 镇-specific words (全镇, 镇党委 …),
   years and numbers. Compiling once keeps writing fast.
3. Find the *local slogans*: quoted terms (“三清两建”) whose text occurs in the reports of
   one seed town only. National slogans (“两个维护”) occur in several and are ordinary text.
4. Plan towns and reports from a seeded RNG. Names are two characters from a fixed pool of
   place-name characters (never a pair found in the seeds, so a town's full name finds
   exactly its own reports) plus 镇, 乡 or 街道; towns are grouped into invented counties and
   prefectures. Each town gets 1–3 reports in distinct years 2019–2024, each a
   政府工作报告 or a 乡村振兴工作报告, and adopts each local slogan with probability
   ``ADOPTION`` (10 %).
5. Write each report: title, ``各位代表：``, the opening sentence, 2–4 numbered sections with
   （一）… subsections and body paragraphs, and a closing paragraph. A body paragraph
   starts from a seed paragraph picked with probability proportional to its sentences'
   weights; each sentence is kept, dropped, or swapped for a sentence drawn by weight from
   all seed sentences, and no sentence is used twice in a report. A sentence's weight is
   1; 0 if it holds a local slogan the town did not adopt; ``1 / ADOPTION`` if all its
   slogans were adopted. So every seed sentence is used in proportion to its frequency in
   the seeds (the Zipfian vocabulary of the real reports survives), while local slogans
   cluster in the few towns that adopted them, as in real data: 三清两建 shows up in a
   small fraction of reports instead of in every report that happens to sample it.
   Slots are filled with the report's places, years shifted to the report's year
   (2018–2024 only; plan years such as 2025 or 2035 stay) and numbers scaled by a
   per-report factor with per-number jitter (percentages up to 100 stay up to 100).
6. Stop as soon as the total size reaches ``--size-mb`` MiB (2**20 bytes); the overshoot is
   at most one report (< 40 KB). Write ``manifest.json`` with counts and per-file metadata.

Determinism: every random choice comes from ``random.Random`` seeded with strings derived
from ``--seed`` (one stream for the plan, one for names, one per town and one per report),
seeds are read in sorted order, nothing depends on set or hash order, the clock or the
platform, and only integer and basic floating-point arithmetic is used. The same arguments
and seed files give byte-identical output on any machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, count
from pathlib import Path
from random import Random
from typing import NamedTuple, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS_DIR = REPO_ROOT / "seeds"
MIB = 1024 * 1024
MANIFEST_NAME = "manifest.json"
GENERATOR_VERSION = 1

# --- Reading and cleaning the seeds ------------------------------------------------------

JUNK_WORDS = ("VIP", "客服", "下载", "会员", "桌面", "删除", "顶部")
JUNK_MAX_CHARS = 40  # a junk word only marks a line as junk when the line is this short
SITE_MARKERS = ("本站", "公寻网", "付费", "违规举报", "客服微信", "您可能关注")
BOILERPLATE_MARKERS = ("向大会", "请予审")  # opening lines and cover letters: we write our own
MIN_PARAGRAPH_CHARS = 15
MAX_HEADING_CHARS = 40  # longer "headings" are a heading plus the start of a paragraph

ASCII_TO_FULL = str.maketrans({";": "；", "!": "！", "?": "？", "(": "（", ")": "）"})
COMMA_COLON_RE = re.compile(r"(?<!\d)[,:]|[,:](?!\d)")  # keep 1,000 and 10:30
NUMERALS = "一二三四五六七八九十"
LEVEL1_RE = re.compile(rf"^[{NUMERALS}]+[、.．]\s*")
LEVEL2_RE = re.compile(rf"^（[{NUMERALS}]+）\s*")
REPORT_TITLE_RE = re.compile(r"^\S+?(?:镇|乡|街道)(?:人民政府)?\d{4}年\S*报告$")
SENTENCE_RE = re.compile(r"[^。！？；]+(?:[。！？；]+[”’」』）]*|$)")
SENTENCE_ENDS = "。！？；"
QUOTED_RE = re.compile(r"“([^“”。！？；，\n]{2,16})”")
REVIEW_WORDS = ("回顾", "开展情况")
PLAN_WORDS = ("安排", "目标", "思路", "打算", "计划")

# --- Slots: what changes from one generated report to the next ---------------------------

SEED_TOWNS = ("潭头", "杨集", "涌山", "横沥", "六镇", "泥溪", "平湖", "濮院")
SEED_COUNTIES = ("栾川县", "乐平市", "古田县", "桐乡市")
SEED_CITIES = ("洛阳市", "景德镇市", "宁德市", "嘉兴市", "东莞市")
# 镇-specific words and what a 乡 or a 街道 says instead (a 镇 keeps the word).
COMPOUNDS: dict[str, dict[str, str]] = {
    "镇人民政府": {"乡": "乡人民政府", "街道": "街道办事处"},
    "镇政府": {"乡": "乡政府", "街道": "街道办事处"},
    "镇党委": {"乡": "乡党委", "街道": "街道党工委"},
    "镇委": {"乡": "乡党委", "街道": "街道党工委"},
    "镇人大": {"乡": "乡人大", "街道": "街道人大工委"},
    "全镇": {"乡": "全乡", "街道": "全街道"},
    "我镇": {"乡": "我乡", "街道": "我街道"},
    "本镇": {"乡": "本乡", "街道": "本街道"},
    "镇域": {"乡": "乡域", "街道": "辖区"},
    "镇情": {"乡": "乡情", "街道": "街情"},
    "镇区": {"乡": "集镇", "街道": "辖区"},
    "镇村": {"乡": "乡村", "街道": "街村"},
    "镇级": {"乡": "乡级", "街道": "街道级"},
}
SHIFTED_YEARS = range(2018, 2025)
YEAR_LIKE = range(1949, 2051)  # four-digit numbers in this range are years, never scaled
SMALL_INT = 10  # integers below this (3个, 1+1+X+N) are kept as they are


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


SLOT_RE = re.compile(
    rf"(?P<town>{_alternation(t + '镇' for t in SEED_TOWNS)})"
    rf"|(?P<town_short>{_alternation(SEED_TOWNS)})"
    rf"|(?P<county>{_alternation(SEED_COUNTIES)})"
    rf"|(?P<county_short>{_alternation(c[:-1] for c in SEED_COUNTIES)})"
    rf"|(?P<city>{_alternation(SEED_CITIES)})"
    rf"|(?P<city_short>{_alternation(c[:-1] for c in SEED_CITIES)})"
    rf"|(?<![乡城集])(?P<compound>{_alternation(COMPOUNDS)})(?!员会)"
    r"|(?<![\d.A-Za-z·第])(?P<number>\d+(?:\.\d+)?)(?![\d.A-Za-z·月日号时届强])"
)
NAME_SLOTS = ("town", "town_short", "county", "county_short", "city", "city_short")


class Slot(NamedTuple):
    """One variable piece of a template."""

    kind: str  # one of NAME_SLOTS, "compound", "year", "number" or "percent"
    text: str  # the seed's text: the compound's key, or the number as written
    value: float = 0.0
    decimals: int = 0


@dataclass(frozen=True, slots=True)
class Template:
    """Seed text compiled into literals interleaved with slots (one more literal than slots)."""

    literals: tuple[str, ...]
    slots: tuple[Slot, ...]


@dataclass(frozen=True, slots=True)
class Piece:
    """A compiled sentence or heading and the local slogans it contains."""

    template: Template
    markers: tuple[int, ...]
    text: str  # the seed text, for classifying headings


@dataclass
class SeedReport:
    """One report of the seeds: its town (for slogan spread) and cleaned lines."""

    town: str
    lines: list[str] = field(default_factory=list)


@dataclass
class SeedCorpus:
    """Everything the generator samples from."""

    sentences: list[Piece] = field(default_factory=list)
    paragraphs: list[tuple[int, ...]] = field(default_factory=list)  # sentence indexes
    closings: list[tuple[int, ...]] = field(default_factory=list)  # "让我们…" paragraphs
    body: list[int] = field(default_factory=list)  # sentences of paragraphs, in order
    owner: list[int] = field(default_factory=list)  # the paragraph of each body entry
    level1: list[Piece] = field(default_factory=list)
    level2: list[Piece] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)  # local slogans, sorted
    text: str = ""  # all cleaned seed text, to keep invented names out of it


def normalize_punctuation(line: str) -> str:
    """Full-width punctuation as in most seeds; ASCII digits and letters stay."""
    line = COMMA_COLON_RE.sub(lambda m: "，" if m.group() == "," else "：", line)
    return line.translate(ASCII_TO_FULL)


def is_junk(line: str) -> bool:
    """Web-page furniture of the scraped compilation."""
    if any(marker in line for marker in SITE_MARKERS):
        return True
    return len(line) <= JUNK_MAX_CHARS and any(word in line for word in JUNK_WORDS)


def is_paragraph(line: str) -> bool:
    """Body text: long enough and made of sentences (titles and TOC lines are not)."""
    if len(line) < MIN_PARAGRAPH_CHARS or any(m in line for m in BOILERPLATE_MARKERS):
        return False
    return any(c in line for c in SENTENCE_ENDS) or (len(line) >= 40 and "，" in line)


def split_heading(line: str) -> tuple[int, str, str] | None:
    """(level, heading without its ordinal, rest of the line), or None for other lines."""
    for level, prefix in ((1, LEVEL1_RE), (2, LEVEL2_RE)):
        match = prefix.match(line)
        if match:
            text = line[match.end() :].strip()
            head, sep, rest = text.partition("。")
            if len(text) > MAX_HEADING_CHARS and sep:
                return level, head, rest.strip()
            return level, text.rstrip("。"), ""
    return None


def split_sentences(paragraph: str) -> list[str]:
    """Sentences ending in 。！？； (a closing quote stays with its sentence)."""
    return [s for s in (m.strip() for m in SENTENCE_RE.findall(paragraph)) if s]


def clean_lines(path: Path) -> Iterator[str]:
    """Non-empty, non-junk, punctuation-normalised lines of one seed file."""
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        line = normalize_punctuation(raw.replace("\u3000", " ").strip())
        if line and not is_junk(line):
            yield line


def seed_town(lines: Sequence[str], fallback: str) -> str:
    """The seed town a report is about: the one it names most often."""
    text = "".join(lines)
    counts = [(text.count(town), town) for town in SEED_TOWNS]
    count, town = max(counts, key=lambda item: item[0])  # first town wins a tie
    return town if count else fallback


def read_seed_reports(paths: Sequence[Path]) -> list[SeedReport]:
    """Cleaned lines per report: a file per report, a compilation split at its titles."""
    reports: list[SeedReport] = []
    for path in paths:
        current = SeedReport(path.name)
        reports.append(current)
        for line in clean_lines(path):
            if REPORT_TITLE_RE.match(line):
                current = SeedReport(f"{path.name}#{line}")
                reports.append(current)
            current.lines.append(line)
    for report in reports:
        report.town = seed_town(report.lines, report.town)
    return reports


def local_slogans(reports: Sequence[SeedReport]) -> list[str]:
    """Quoted terms whose text occurs in the reports of exactly one seed town."""
    town_text: dict[str, str] = {}
    for report in reports:
        town_text[report.town] = town_text.get(report.town, "") + "\n".join(report.lines)
    quoted = {q for text in town_text.values() for q in QUOTED_RE.findall(text)}
    return sorted(q for q in quoted if sum(q in text for text in town_text.values()) == 1)


# --- Compiling seed text into templates --------------------------------------------------


def compile_slot(match: re.Match[str], text: str) -> Slot | None:
    """The slot for one SLOT_RE match, or None to keep the text literally."""
    kind = match.lastgroup or ""
    value = match.group()
    if kind != "number":
        return Slot(kind, value)
    number = float(value)
    decimals = len(value.partition(".")[2])
    if decimals == 0 and len(value) == 4 and int(value) in YEAR_LIKE:
        return Slot("year", value, number) if int(value) in SHIFTED_YEARS else None
    if text.startswith(("%", "％"), match.end()):
        return Slot("percent", value, number, decimals)
    if decimals == 0 and number < SMALL_INT:
        return None
    return Slot("number", value, number, decimals)


def compile_template(text: str) -> Template:
    """Split text into literals and slots."""
    literals: list[str] = []
    slots: list[Slot] = []
    start = 0
    for match in SLOT_RE.finditer(text):
        slot = compile_slot(match, text)
        if slot is None:
            continue
        literals.append(text[start : match.start()])
        slots.append(slot)
        start = match.end()
    literals.append(text[start:])
    return Template(tuple(literals), tuple(slots))


class Compiler:
    """Turns cleaned seed lines into the pieces of a SeedCorpus."""

    def __init__(self, markers: list[str]) -> None:
        self.corpus = SeedCorpus(markers=markers)

    def piece(self, text: str) -> Piece:
        markers = tuple(i for i, m in enumerate(self.corpus.markers) if m in text)
        return Piece(compile_template(text), markers, text)

    def add_line(self, line: str) -> None:
        heading = split_heading(line)
        if heading:
            level, head, rest = heading
            (self.corpus.level1 if level == 1 else self.corpus.level2).append(self.piece(head))
            if is_paragraph(rest):
                self.add_paragraph(rest)
        elif is_paragraph(line):
            self.add_paragraph(line)

    def add_paragraph(self, text: str) -> None:
        corpus = self.corpus
        first = len(corpus.sentences)
        corpus.sentences.extend(self.piece(s) for s in split_sentences(text))
        indexes = tuple(range(first, len(corpus.sentences)))
        if "让我们" in text:
            corpus.closings.append(indexes)
            return
        corpus.body.extend(indexes)
        corpus.owner.extend([len(corpus.paragraphs)] * len(indexes))
        corpus.paragraphs.append(indexes)


def load_seeds(seeds_dir: Path) -> SeedCorpus:
    """Read and compile every *.txt seed of seeds_dir, in sorted order."""
    paths = sorted(seeds_dir.glob("*.txt"))
    if not paths:
        raise SystemExit(f"no *.txt seed files in {seeds_dir}")
    reports = read_seed_reports(paths)
    compiler = Compiler(local_slogans(reports))
    for report in reports:
        for line in report.lines:
            compiler.add_line(line)
    corpus = compiler.corpus
    if not (corpus.paragraphs and corpus.closings and corpus.level1 and corpus.level2):
        raise SystemExit(f"the seeds in {seeds_dir} lack paragraphs, closings or headings")
    corpus.text = "\n".join(line for report in reports for line in report.lines)
    return corpus


# --- Towns and the report plan -----------------------------------------------------------

PLACE_CHARS = "".join(
    dict.fromkeys(
        "东西南北中上下前后新古大小青白黄金石山河江湖溪泉水林桥塘坪岭峰岗口沟湾洲滩浦港泽坝"
        "堰庄店铺营寨堡屯关亭阳安平宁康丰兴隆昌盛富华龙凤鹤马牛柳桃杏梅松竹花云霞永长太和"
        "顺德仁义文武双五七八九嘉仙灵玉银铜合泰福源清明秀乐广宝庆溧沙塔埠坊陂圩"
    )
)
TOWN_SUFFIXES = (("镇", 70), ("乡", 20), ("街道", 10))
COUNTY_SUFFIXES = (("县", 70), ("市", 30))
TOWNS_PER_COUNTY = 12  # on average
COUNTIES_PER_CITY = 6
YEARS = tuple(range(2019, 2025))
DOC_TYPES = (("政府工作报告", 75), ("乡村振兴工作报告", 25))
REPORTS_PER_TOWN = ((1, 40), (2, 35), (3, 25))
ADOPTION = 0.1  # probability that a town uses a given local slogan
MAX_NAME_TRIES = 50  # then fall back to longer names


T = TypeVar("T")


def weighted_choice(rng: Random, options: Sequence[tuple[T, int]]) -> T:
    """An option drawn with its integer weight."""
    values = [value for value, _ in options]
    return rng.choices(values, cum_weights=list(accumulate(w for _, w in options)))[0]


@dataclass(frozen=True, slots=True)
class Place:
    """An invented place name: 东坪 + 镇."""

    short: str
    suffix: str

    @property
    def name(self) -> str:
        return self.short + self.suffix


@dataclass(frozen=True, slots=True)
class Town:
    """An invented town, where it lies, and the local slogans it uses."""

    index: int
    place: Place
    county: Place
    city: Place
    adopted: bytes  # one byte per local slogan: 1 when the town uses it

    @property
    def name(self) -> str:
        return self.place.name

    @property
    def government(self) -> str:
        return self.name + ("办事处" if self.place.suffix == "街道" else "人民政府")


@dataclass(frozen=True, slots=True)
class ReportPlan:
    """One report to write."""

    index: int
    town: Town
    year: int
    doc_type: str


class Namer:
    """Distinct two-character names that never occur in the seed text."""

    def __init__(self, rng: Random, forbidden_text: str) -> None:
        self.rng = rng
        self.forbidden_text = forbidden_text
        self.used: dict[str, None] = {}

    def new_place(self, suffixes: Sequence[tuple[str, int]]) -> Place:
        length = 2
        tries = 0
        while True:
            short = "".join(self.rng.choice(PLACE_CHARS) for _ in range(length))
            if short not in self.used and short not in self.forbidden_text:
                break
            tries += 1
            if tries % MAX_NAME_TRIES == 0:
                length += 1
        self.used[short] = None
        return Place(short, weighted_choice(self.rng, suffixes))


class Planner:
    """An endless, deterministic stream of towns and their reports."""

    def __init__(self, seed: int, corpus: SeedCorpus) -> None:
        self.seed = seed
        self.rng = Random(f"{seed}/plan")
        self.namer = Namer(Random(f"{seed}/names"), corpus.text)
        self.slogans = len(corpus.markers)
        self.county: Place | None = None
        self.city: Place | None = None

    def new_town(self, index: int) -> Town:
        if self.city is None or self.rng.random() * COUNTIES_PER_CITY * TOWNS_PER_COUNTY < 1:
            self.city = self.namer.new_place((("市", 1),))
            self.county = None
        if self.county is None or self.rng.random() * TOWNS_PER_COUNTY < 1:
            self.county = self.namer.new_place(COUNTY_SUFFIXES)
        place = self.namer.new_place(TOWN_SUFFIXES)
        rng = Random(f"{self.seed}/town/{index}")
        adopted = bytes(rng.random() < ADOPTION for _ in range(self.slogans))
        return Town(index, place, self.county, self.city, adopted)

    def reports(self) -> Iterator[ReportPlan]:
        index = 0
        for town_index in count():
            town = self.new_town(town_index)
            reports = weighted_choice(self.rng, REPORTS_PER_TOWN)
            for year in sorted(self.rng.sample(YEARS, reports)):
                yield ReportPlan(index, town, year, weighted_choice(self.rng, DOC_TYPES))
                index += 1


# --- Writing one report ------------------------------------------------------------------

MIN_REPORT_BYTES = 4_000
REPORT_BYTES_SPREAD = 26_000  # target = MIN + SPREAD * u * u: median ~10 KB, mean ~12.7 KB
KEEP_PROBABILITY = 0.65
SWAP_PROBABILITY = 0.25  # the rest (0.10) of a paragraph's sentences are dropped
SWAP_TRIES = 5
SUBSECTION_PROBABILITY = 0.8
THANKS_PROBABILITY = 0.3
BOOST = round(1 / ADOPTION)  # weight of a sentence whose local slogans the town adopted


class TownProfile:
    """What a town may say: the weights of every seed piece for this town."""

    def __init__(self, corpus: SeedCorpus, town: Town) -> None:
        self.town_index = town.index
        self.adopted = town.adopted
        self.body_cum = list(accumulate(self.weight(corpus.sentences[i]) for i in corpus.body))
        self.level1 = [p for p in corpus.level1 if self.weight(p)] or corpus.level1
        self.level2 = [p for p in corpus.level2 if self.weight(p)] or corpus.level2
        allowed = [c for c in corpus.closings if all(self.weight(corpus.sentences[i]) for i in c)]
        self.closings = allowed or corpus.closings

    def weight(self, piece: Piece) -> int:
        if not piece.markers:
            return 1
        return BOOST if all(self.adopted[m] for m in piece.markers) else 0

    def body_position(self, rng: Random) -> int:
        """A position in SeedCorpus.body, drawn by weight."""
        return bisect_right(self.body_cum, int(rng.random() * self.body_cum[-1]))


class Renderer:
    """Fills templates for one report: its places, its years, its numbers."""

    def __init__(self, plan: ReportPlan, rng: Random) -> None:
        town = plan.town
        names = (town.place, town.county, town.city)
        values = [text for place in names for text in (place.name, place.short)]
        self.names = dict(zip(NAME_SLOTS, values, strict=True))  # town, town_short, county …
        self.suffix = town.place.suffix
        self.rng = rng
        # Seed 政府工作报告 are 2023 reports reviewing 2022; the 乡村振兴 seed covers 2022.
        base_year = 2023 if plan.doc_type == "政府工作报告" else 2022
        self.year_shift = plan.year - base_year
        self.scale = 0.4 + 1.6 * rng.random() * rng.random()  # the town's economic size

    def render(self, template: Template) -> str:
        parts = [template.literals[0]]
        for slot, literal in zip(template.slots, template.literals[1:], strict=True):
            parts.append(self.fill(slot))
            parts.append(literal)
        return "".join(parts)

    def fill(self, slot: Slot) -> str:
        kind = slot.kind
        if kind in self.names:
            return self.names[kind]
        if kind == "compound":
            return COMPOUNDS[slot.text].get(self.suffix, slot.text)
        if kind == "year":
            return str(int(slot.value) + self.year_shift)
        if kind == "percent":
            return self.percent(slot)
        value = slot.value * self.scale * (0.75 + 0.5 * self.rng.random())
        return format_number(value, slot.decimals)

    def percent(self, slot: Slot) -> str:
        if slot.value == 100:
            return slot.text
        value = slot.value * (0.6 + 0.8 * self.rng.random())
        if slot.value <= 100:
            value = min(value, 99.9 if slot.decimals else 99)
        return format_number(value, slot.decimals)


def format_number(value: float, decimals: int) -> str:
    """Same number of decimals as the seed; never zero."""
    if decimals:
        return f"{max(value, 10**-decimals):.{decimals}f}"
    return str(max(1, round(value)))


def chinese_ordinal(n: int) -> str:
    """1..99 as 一 … 九十九."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens - 1] + "十")
    return head + (NUMERALS[ones - 1] if ones else "")


def end_paragraph(text: str) -> str:
    """Make a recombined paragraph end like a paragraph."""
    if text.endswith(("。", "！", "？", "。”", "！”")):
        return text
    if text and text[-1] in "；，、：":
        return text[:-1] + "。"
    return text + "。"


def has_word(piece: Piece, words: Sequence[str]) -> bool:
    return any(word in piece.text for word in words)


class ReportWriter:
    """Composes one report from the seed corpus."""

    def __init__(
        self, corpus: SeedCorpus, profile: TownProfile, plan: ReportPlan, rng: Random
    ) -> None:
        self.corpus = corpus
        self.profile = profile
        self.plan = plan
        self.rng = rng
        self.renderer = Renderer(plan, self.rng)
        self.lines: list[str] = []
        self.size = 0  # UTF-8 bytes so far, newlines included
        self.used: set[int] = set()  # membership only: never iterated

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.size += len(line.encode("utf-8")) + 1

    def write(self) -> str:
        rng = self.rng
        target = MIN_REPORT_BYTES + int(REPORT_BYTES_SPREAD * rng.random() * rng.random())
        town = self.plan.town
        self.add(f"{town.name}{self.plan.year}年{self.plan.doc_type}")
        self.add("各位代表：")
        self.add(f"现在，我代表{town.government}，向大会报告工作，请予审议。")
        headings = self.section_headings()
        weights = [0.5 + rng.random() for _ in headings]
        for number, (heading, weight) in enumerate(zip(headings, weights, strict=True), 1):
            budget = self.size + int(target * weight / sum(weights))
            self.add(f"{chinese_ordinal(number)}、{self.renderer.render(heading.template)}")
            self.write_section(budget)
        self.add(self.closing())
        if rng.random() < THANKS_PROBABILITY:
            self.add("谢谢大家！")
        return "\n".join(self.lines) + "\n"

    def section_headings(self) -> list[Piece]:
        """A review section, a plan section, then 0–2 other sections (no repeats)."""
        level1 = self.profile.level1
        review = [p for p in level1 if has_word(p, REVIEW_WORDS)] or level1
        plans = [p for p in level1 if has_word(p, PLAN_WORDS)] or level1
        others = [p for p in level1 if not has_word(p, REVIEW_WORDS + PLAN_WORDS)]
        chosen = [self.rng.choice(review), self.rng.choice(plans)]
        extra = min(self.rng.randint(0, 2), len(others))
        return chosen + self.rng.sample(others, extra)

    def write_section(self, budget: int) -> None:
        """Subsections (（一）… + 1–3 paragraphs) or plain paragraphs until budget bytes."""
        use_subsections = self.rng.random() < SUBSECTION_PROBABILITY
        number = 0
        while self.size < budget:
            if use_subsections:
                number += 1
                heading = self.rng.choice(self.profile.level2)
                self.add(f"（{chinese_ordinal(number)}）{self.renderer.render(heading.template)}")
                for _ in range(self.rng.randint(1, 3)):
                    self.add(self.paragraph())
            else:
                self.add(self.paragraph())

    def paragraph(self) -> str:
        """A seed paragraph with sentences kept, swapped for others, or dropped."""
        corpus = self.corpus
        owner = corpus.owner[self.profile.body_position(self.rng)]
        chosen: list[int] = []
        for index in corpus.paragraphs[owner]:
            draw = self.rng.random()
            if draw >= KEEP_PROBABILITY + SWAP_PROBABILITY:
                continue
            keep = draw < KEEP_PROBABILITY and index not in self.used
            if not keep or not self.profile.weight(corpus.sentences[index]):
                index = self.swap()
            if index >= 0:
                chosen.append(index)
                self.used.add(index)
        if not chosen:
            chosen.append(corpus.body[self.profile.body_position(self.rng)])
        return end_paragraph("".join(self.render_sentence(i) for i in chosen))

    def swap(self) -> int:
        """A sentence drawn by weight and not yet used in this report, or -1."""
        for _ in range(SWAP_TRIES):
            index = self.corpus.body[self.profile.body_position(self.rng)]
            if index not in self.used:
                return index
        return -1

    def render_sentence(self, index: int) -> str:
        return self.renderer.render(self.corpus.sentences[index].template)

    def closing(self) -> str:
        indexes = self.rng.choice(self.profile.closings)
        return end_paragraph("".join(self.render_sentence(i) for i in indexes))


# --- The whole corpus --------------------------------------------------------------------


@dataclass
class Summary:
    """What was written, for manifest.json."""

    documents: list[dict[str, object]] = field(default_factory=list)
    total_bytes: int = 0
    towns: dict[str, None] = field(default_factory=dict)  # insertion-ordered set


def prepare_output(out: Path, force: bool) -> None:
    """Create out; refuse to mix with an earlier corpus unless force (then delete it)."""
    out.mkdir(parents=True, exist_ok=True)
    old = sorted(out.glob("*.txt")) + sorted(out.glob(MANIFEST_NAME))
    if old and not force:
        raise SystemExit(f"{out} already holds a corpus ({len(old)} files); use --force")
    for path in old:
        path.unlink()


def generate(corpus: SeedCorpus, out: Path, target_bytes: int, seed: int) -> Summary:
    """Write reports into out until target_bytes is reached."""
    summary = Summary()
    profile: TownProfile | None = None
    for plan in Planner(seed, corpus).reports():
        if summary.total_bytes >= target_bytes:
            break
        if profile is None or profile.town_index != plan.town.index:
            profile = TownProfile(corpus, plan.town)
        rng = Random(f"{seed}/report/{plan.index}")
        raw = ReportWriter(corpus, profile, plan, rng).write().encode("utf-8")
        name = f"{plan.index:06d}_{hashlib.sha1(raw).hexdigest()[:16]}.txt"
        (out / name).write_bytes(raw)
        summary.total_bytes += len(raw)
        summary.towns[plan.town.name] = None
        summary.documents.append(
            {
                "file": name,
                "town": plan.town.name,
                "county": plan.town.county.name,
                "city": plan.town.city.name,
                "year": plan.year,
                "doc_type": plan.doc_type,
                "bytes": len(raw),
            }
        )
    return summary


def seed_fingerprint(seeds_dir: Path) -> str:
    """SHA-256 over the seed files' names and contents (the output depends on both)."""
    digest = hashlib.sha256()
    for path in sorted(seeds_dir.glob("*.txt")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def write_manifest(out: Path, summary: Summary, args: argparse.Namespace, target: int) -> None:
    """manifest.json: counts first, then one entry per file."""
    manifest = {
        "generator": "benchmarks/generate_corpus.py",
        "generator_version": GENERATOR_VERSION,
        "seed": args.seed,
        "size_mb": args.size_mb,
        "target_bytes": target,
        "file_count": len(summary.documents),
        "total_bytes": summary.total_bytes,
        "towns": len(summary.towns),
        "doc_types": dict(sorted(Counter(d["doc_type"] for d in summary.documents).items())),
        "years": dict(sorted(Counter(str(d["year"]) for d in summary.documents).items())),
        "seed_files_sha256": seed_fingerprint(args.seeds_dir),
        "documents": summary.documents,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    (out / MANIFEST_NAME).write_text(text, encoding="utf-8")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, required=True, help="total size in MiB")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--seeds-dir", type=Path, default=DEFAULT_SEEDS_DIR, help="folder of seed *.txt"
    )
    parser.add_argument("--force", action="store_true", help="replace a corpus already in --out")
    args = parser.parse_args(argv)
    if args.size_mb <= 0:
        parser.error("--size-mb must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()  # for the log line only; never affects the output
    corpus = load_seeds(args.seeds_dir)
    prepare_output(args.out, args.force)
    target = int(args.size_mb * MIB)
    summary = generate(corpus, args.out, target, args.seed)
    write_manifest(args.out, summary, args, target)
    elapsed = time.perf_counter() - started
    print(
        f"wrote {len(summary.documents)} reports of {len(summary.towns)} towns, "
        f"{summary.total_bytes:,} bytes, to {args.out} in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
