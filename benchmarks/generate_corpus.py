"""Generate a large, deterministic synthetic corpus of Chinese township government reports.

Usage::

    python benchmarks/generate_corpus.py --size-mb 20 --out /tmp/corpus20 [--seed 1]

Method
------
1. Read the seed reports (UTF-8 ``*.txt`` in sorted order, default: the repository's
   ``seeds/``). Convert ASCII punctuation to full width (one seed uses ``,;:()``), drop
   web-page junk lines, and classify each line as a level-1 heading (``一、…``), a level-2
   heading (``（一）…``) or a body paragraph. Other short lines (titles, tables of
   contents, dates, signatures, salutations) are ignored.
2. Split every paragraph into sentences after 。！？； and compile each sentence and heading
   into a template: literal text with slots for the seed towns' names (潭头镇, 潭头 …),
   镇-specific words (全镇, 镇党委 …), years and numbers. Compiling once keeps writing fast.
3. Plan towns and reports from a seeded RNG. Town names are two characters from a fixed
   pool of place-name characters (never a pair that occurs anywhere in the seeds, so a
   town's name finds exactly its own reports) plus 镇, 乡 or 街道. Each town gets 1–3
   reports in distinct years 2019–2024, each a 政府工作报告 or a 乡村振兴工作报告.
4. Write each report: title, ``各位代表：``, the opening sentence, then 2–4 numbered sections
   with （一）… subsections and body paragraphs, and a closing paragraph. A body paragraph
   starts from a seed paragraph picked with probability proportional to its sentence count;
   each of its sentences is kept, dropped, or swapped for a sentence drawn uniformly from
   all seed sentences. Every seed sentence is therefore used in proportion to its frequency
   in the seeds: the vocabulary keeps the seeds' Zipfian shape and rare terms (三清两建) stay
   rare. Slots are filled with the report's town, years shifted to the report's year
   (2018–2024 only; plan years such as 2025 or 2035 stay) and numbers scaled by a
   per-report factor with per-number jitter (percentages at most 100 stay at most 100).
5. Stop as soon as the total size reaches ``--size-mb`` MiB (2**20 bytes); the overshoot is
   at most one report. Write ``manifest.json`` with counts and per-file metadata.

Determinism: every random choice comes from ``random.Random`` seeded with strings derived
from ``--seed`` (one stream for the plan, one per report), the seeds are read in sorted
order, nothing depends on set or hash order, the clock or the platform, and only basic
floating-point arithmetic is used. The same arguments and seed files give byte-identical
output on any machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEEDS_DIR = REPO_ROOT / "seeds"
MIB = 1024 * 1024
MANIFEST_NAME = "manifest.json"
GENERATOR_VERSION = 1

# --- Seed cleaning -----------------------------------------------------------------------

JUNK_WORDS = ("VIP", "客服", "下载", "会员", "桌面", "删除", "顶部")
JUNK_MAX_CHARS = 40  # a junk word only marks a line as junk when the line is this short
SITE_MARKERS = ("本站", "公寻网", "付费", "违规举报", "客服微信", "您可能关注")
BOILERPLATE_MARKERS = ("向大会", "请予审")  # opening lines and cover letters: we write our own
MIN_PARAGRAPH_CHARS = 15
MAX_HEADING_CHARS = 40  # longer "headings" are a heading plus the start of a paragraph

ASCII_TO_FULL = {";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}
COMMA_COLON_RE = re.compile(r"(?<!\d)[,:]|[,:](?!\d)")  # keep 1,000 and 10:30
NUMERALS = "一二三四五六七八九十"
LEVEL1_RE = re.compile(rf"^[{NUMERALS}]+[、.．]\s*")
LEVEL2_RE = re.compile(rf"^（[{NUMERALS}]+）\s*")
SENTENCE_RE = re.compile(r"[^。！？；]+(?:[。！？；]+[”’」』）]*|$)")
SENTENCE_ENDS = "。！？；"

# --- Slots: what changes from one generated report to the next ---------------------------

SEED_TOWNS = ("潭头", "杨集", "涌山", "横沥", "六镇", "泥溪", "平湖", "濮院")
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
SMALL_INT = 10  # integers below this (3个, 1+1+X+N) are kept as they are


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


SLOT_RE = re.compile(
    rf"(?P<full>{_alternation([t + '镇' for t in SEED_TOWNS])})"
    rf"|(?P<short>{_alternation(SEED_TOWNS)})"
    rf"|(?<![乡城集])(?P<compound>{_alternation(list(COMPOUNDS))})(?!员会)"
    r"|(?<![\d.])(?P<year>(?:19|20)\d\d)(?=年|—|-|－|至|～)"
    r"|(?<![\d.A-Za-z·第])(?P<number>\d+(?:\.\d+)?)(?![\d.A-Za-z·月日号时届])"
)


class Slot(NamedTuple):
    """One variable piece of a template."""

    kind: str  # "full", "short", "compound", "year", "number", "percent"
    text: str  # the seed's text: the compound's key, or the number as written
    value: float = 0.0
    decimals: int = 0


@dataclass(frozen=True, slots=True)
class Template:
    """Seed text compiled into literals interleaved with slots (len(literals) == slots + 1)."""

    literals: tuple[str, ...]
    slots: tuple[Slot, ...]


@dataclass
class SeedCorpus:
    """Everything the generator samples from."""

    sentences: list[Template] = field(default_factory=list)
    paragraphs: list[tuple[int, ...]] = field(default_factory=list)  # sentence indexes
    closings: list[tuple[int, ...]] = field(default_factory=list)  # "让我们…" paragraphs
    level1: list[Template] = field(default_factory=list)
    level2: list[Template] = field(default_factory=list)
    sentence_owner: list[int] = field(default_factory=list)  # paragraph of each sentence
    text: str = ""  # all cleaned seed text, to keep invented names out of it


def normalize_punctuation(line: str) -> str:
    """Full-width punctuation as in the other seeds; ASCII digits and letters stay."""
    line = COMMA_COLON_RE.sub(lambda m: "，" if m.group() == "," else "：", line)
    return line.translate(str.maketrans(ASCII_TO_FULL))


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


def split_heading(line: str, prefix: re.Pattern[str]) -> tuple[str, str] | None:
    """(heading text without its ordinal, rest of the line) or None when not a heading."""
    match = prefix.match(line)
    if not match:
        return None
    text = line[match.end() :].strip()
    head, sep, rest = text.partition("。")
    if len(text) > MAX_HEADING_CHARS and sep:
        return head, rest.strip()
    return text.rstrip("。"), ""


def split_sentences(paragraph: str) -> list[str]:
    """Sentences ending in 。！？； (a closing quote stays with its sentence)."""
    return [s for s in (m.strip() for m in SENTENCE_RE.findall(paragraph)) if s]


def compile_slot(match: re.Match[str], text: str) -> Slot | None:
    """The slot for one SLOT_RE match, or None to keep the text literally."""
    kind = match.lastgroup
    value = match.group()
    if kind in ("full", "short", "compound"):
        return Slot(kind, value)
    if kind == "year":
        year = int(value)
        return Slot("year", value, year) if year in SHIFTED_YEARS else None
    number = float(value)
    decimals = len(value.partition(".")[2])
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


def clean_lines(path: Path) -> Iterator[str]:
    """Non-empty, non-junk, punctuation-normalised lines of one seed file."""
    for raw in path.read_text(encoding="utf-8-sig").splitlines():
        line = normalize_punctuation(raw.strip().replace("\u3000", " ").strip())
        if line and not is_junk(line):
            yield line


def add_paragraph(corpus: SeedCorpus, text: str) -> None:
    """Compile a body paragraph's sentences and register it (closings separately)."""
    first = len(corpus.sentences)
    sentences = split_sentences(text)
    corpus.sentences.extend(compile_template(s) for s in sentences)
    indexes = tuple(range(first, len(corpus.sentences)))
    if "让我们" in text:
        corpus.closings.append(indexes)
        return
    owner = len(corpus.paragraphs)
    corpus.paragraphs.append(indexes)
    corpus.sentence_owner.extend([owner] * len(indexes))


def load_seeds(seeds_dir: Path) -> SeedCorpus:
    """Read and compile every *.txt seed of seeds_dir, in sorted order."""
    paths = sorted(seeds_dir.glob("*.txt"))
    if not paths:
        raise SystemExit(f"no *.txt seed files in {seeds_dir}")
    corpus = SeedCorpus()
    kept: list[str] = []
    for path in paths:
        for line in clean_lines(path):
            kept.append(line)
            level1 = split_heading(line, LEVEL1_RE)
            level2 = None if level1 else split_heading(line, LEVEL2_RE)
            if level1 or level2:
                head, rest = level1 or level2  # type: ignore[misc]
                target = corpus.level1 if level1 else corpus.level2
                target.append(compile_template(head))
                if is_paragraph(rest):
                    add_paragraph(corpus, rest)
            elif is_paragraph(line):
                add_paragraph(corpus, line)
    if not corpus.paragraphs or not corpus.closings or not corpus.level1 or not corpus.level2:
        raise SystemExit(f"the seeds in {seeds_dir} lack paragraphs, closings or headings")
    corpus.text = "\n".join(kept)
    return corpus


# --- Towns and the report plan -----------------------------------------------------------

PLACE_CHARS = "".join(
    dict.fromkeys(
        "东西南北中上下前后新古大小青白黄金石山河江湖溪泉水林桥塘坪岭峰岗口沟湾洲滩浦港泽坝"
        "堰庄集店铺营寨堡屯关亭阳安平宁康丰兴隆昌盛富华龙凤鹤马牛柳桃杏梅松竹花云霞永长太和"
        "顺德仁义文武双五七八九嘉仙灵玉银铜合泰福源清明秀乐广宝庆溧沙塔埠坊陂圩"
    )
)
SUFFIXES = ("镇", "乡", "街道")
SUFFIX_WEIGHTS = (70, 20, 10)
YEARS = tuple(range(2019, 2025))
DOC_TYPES = ("政府工作报告", "乡村振兴工作报告")
DOC_TYPE_WEIGHTS = (75, 25)
REPORTS_PER_TOWN = (1, 2, 3)
REPORTS_PER_TOWN_WEIGHTS = (40, 35, 25)
MAX_NAME_TRIES = 50  # then fall back to three-character names


@dataclass(frozen=True, slots=True)
class Town:
    """An invented town."""

    short: str  # 东坪
    suffix: str  # 镇, 乡 or 街道

    @property
    def name(self) -> str:
        return self.short + self.suffix

    @property
    def government(self) -> str:
        return self.name + ("办事处" if self.suffix == "街道" else "人民政府")


@dataclass(frozen=True, slots=True)
class ReportPlan:
    """One report to write."""

    index: int
    town: Town
    year: int
    doc_type: str


class TownNamer:
    """Distinct town names that never occur in the seed text."""

    def __init__(self, rng: Random, forbidden_text: str) -> None:
        self.rng = rng
        self.forbidden_text = forbidden_text
        self.used: dict[str, None] = {}

    def new_town(self) -> Town:
        short = self._new_short_name()
        self.used[short] = None
        suffix = self.rng.choices(SUFFIXES, SUFFIX_WEIGHTS)[0]
        return Town(short, suffix)

    def _new_short_name(self) -> str:
        length = 2
        tries = 0
        while True:
            short = "".join(self.rng.choice(PLACE_CHARS) for _ in range(length))
            if short not in self.used and short not in self.forbidden_text:
                return short
            tries += 1
            if tries % MAX_NAME_TRIES == 0:
                length += 1


def plan_reports(rng: Random, namer: TownNamer) -> Iterator[ReportPlan]:
    """An endless deterministic stream of reports, town after town."""
    index = 0
    while True:
        town = namer.new_town()
        count = rng.choices(REPORTS_PER_TOWN, REPORTS_PER_TOWN_WEIGHTS)[0]
        for year in sorted(rng.sample(YEARS, count)):
            doc_type = rng.choices(DOC_TYPES, DOC_TYPE_WEIGHTS)[0]
            yield ReportPlan(index, town, year, doc_type)
            index += 1


# --- Writing one report ------------------------------------------------------------------

MIN_REPORT_BYTES = 4_000
REPORT_BYTES_SPREAD = 26_000  # target = MIN + SPREAD * u * u: median ~10 KB, mean ~12.7 KB
KEEP_PROBABILITY = 0.65
SWAP_PROBABILITY = 0.25  # the rest (0.10) of a paragraph's sentences are dropped
SUBSECTION_PROBABILITY = 0.8
REVIEW_WORDS = ("回顾", "开展情况")
PLAN_WORDS = ("安排", "目标", "思路", "打算", "计划")


class Renderer:
    """Fills templates for one report: its town, its years, its numbers."""

    def __init__(self, plan: ReportPlan, rng: Random) -> None:
        self.town = plan.town
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
        if kind == "full":
            return self.town.name
        if kind == "short":
            return self.town.short
        if kind == "compound":
            return COMPOUNDS[slot.text].get(self.town.suffix, slot.text)
        if kind == "year":
            return str(int(slot.value) + self.year_shift)
        if kind == "percent":
            return self.percent(slot)
        value = slot.value * self.scale * (0.75 + 0.5 * self.rng.random())
        return self.format_number(value, slot.decimals)

    def percent(self, slot: Slot) -> str:
        if slot.value == 100:
            return slot.text
        value = slot.value * (0.6 + 0.8 * self.rng.random())
        if slot.value <= 100:
            value = min(value, 99.9 if slot.decimals else 99)
        return self.format_number(value, slot.decimals)

    @staticmethod
    def format_number(value: float, decimals: int) -> str:
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


class ReportWriter:
    """Composes one report from the seed corpus."""

    def __init__(self, corpus: SeedCorpus, plan: ReportPlan, rng: Random) -> None:
        self.corpus = corpus
        self.plan = plan
        self.rng = rng
        self.renderer = Renderer(plan, rng)
        self.lines: list[str] = []
        self.size = 0  # bytes written so far (UTF-8, with newlines)

    def add(self, line: str) -> None:
        self.lines.append(line)
        self.size += len(line.encode("utf-8")) + 1

    def write(self) -> str:
        target = MIN_REPORT_BYTES + int(REPORT_BYTES_SPREAD * self.rng.random() * self.rng.random())
        town = self.plan.town
        self.add(f"{town.name}{self.plan.year}年{self.plan.doc_type}")
        self.add("各位代表：")
        self.add(f"现在，我代表{town.government}，向大会报告工作，请予审议。")
        headings = self.section_headings()
        weights = [0.5 + self.rng.random() for _ in headings]
        for number, (heading, weight) in enumerate(zip(headings, weights, strict=True), 1):
            budget = self.size + int(target * weight / sum(weights))
            self.add(f"{chinese_ordinal(number)}、{self.renderer.render(heading)}")
            self.write_section(budget)
        self.add(self.closing())
        if self.rng.random() < 0.3:
            self.add("谢谢大家！")
        return "\n".join(self.lines) + "\n"

    def section_headings(self) -> list[Template]:
        """A review section, a plan section, then 0–2 other sections (no repeats)."""
        level1 = self.corpus.level1
        review = [h for h in level1 if any(w in "".join(h.literals) for w in REVIEW_WORDS)]
        plans = [h for h in level1 if any(w in "".join(h.literals) for w in PLAN_WORDS)]
        others = [h for h in level1 if h not in review and h not in plans]
        chosen = [self.rng.choice(review or level1), self.rng.choice(plans or level1)]
        extra = self.rng.randint(0, 2)
        chosen.extend(self.rng.sample(others, min(extra, len(others))))
        return chosen

    def write_section(self, budget: int) -> None:
        """Subsections (（一）… + 1–3 paragraphs) or plain paragraphs until budget bytes."""
        use_subsections = self.rng.random() < SUBSECTION_PROBABILITY
        number = 0
        while self.size < budget:
            if use_subsections:
                number += 1
                heading = self.renderer.render(self.rng.choice(self.corpus.level2))
                self.add(f"（{chinese_ordinal(number)}）{heading}")
                for _ in range(self.rng.randint(1, 3)):
                    self.add(self.paragraph())
            else:
                self.add(self.paragraph())

    def paragraph(self) -> str:
        """A seed paragraph with sentences kept, swapped for random ones, or dropped."""
        corpus = self.corpus
        rng = self.rng
        owner = corpus.sentence_owner[rng.randrange(len(corpus.sentence_owner))]
        chosen: list[int] = []
        for index in corpus.paragraphs[owner]:
            draw = rng.random()
            if draw < KEEP_PROBABILITY:
                chosen.append(index)
            elif draw < KEEP_PROBABILITY + SWAP_PROBABILITY:
                chosen.append(rng.randrange(len(corpus.sentences)))
        if not chosen:
            chosen.append(rng.randrange(len(corpus.sentences)))
        text = "".join(self.renderer.render(corpus.sentences[i]) for i in chosen)
        return end_paragraph(text)

    def closing(self) -> str:
        indexes = self.rng.choice(self.corpus.closings)
        text = "".join(self.renderer.render(self.corpus.sentences[i]) for i in indexes)
        return end_paragraph(text)


# --- The whole corpus --------------------------------------------------------------------


@dataclass
class Summary:
    """What was written, for manifest.json."""

    documents: list[dict[str, object]] = field(default_factory=list)
    total_bytes: int = 0
    towns: dict[str, None] = field(default_factory=dict)


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
    namer = TownNamer(Random(f"{seed}/towns"), corpus.text)
    for plan in plan_reports(Random(f"{seed}/plan"), namer):
        if summary.total_bytes >= target_bytes:
            break
        data = ReportWriter(corpus, plan, Random(f"{seed}/report/{plan.index}")).write()
        raw = data.encode("utf-8")
        name = f"{plan.index:06d}_{hashlib.sha1(raw).hexdigest()[:16]}.txt"
        (out / name).write_bytes(raw)
        summary.total_bytes += len(raw)
        summary.towns[plan.town.name] = None
        summary.documents.append(
            {
                "file": name,
                "town": plan.town.name,
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
