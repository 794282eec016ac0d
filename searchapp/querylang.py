"""The query language: a user's query text → a `ParsedQuery` (terms, groups, filters).

Keyword mode:

    三清两建 乡贤         both terms (a paragraph must contain every term)
    三清两建 OR 三变改革  either
    -疫情  /  NOT 疫情    without
    "二十大精神"          an exact phrase (also “…”)
    town:潭头镇 year:2022 type:政府工作报告   filters

Phrase and fuzzy modes take the whole query (filters apart) as one text. Malformed
input gets a sensible reading and a notice, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .analysis import exact_key
from .fields import FILTER_NAMES

MAX_TERMS = 16  # terms per query; more only slow a search down


@dataclass(frozen=True)
class Atom:
    """One term or quoted phrase of a query."""

    text: str
    quoted: bool = False


@dataclass
class ParsedQuery:
    """A query as understood: an AND of OR-groups, exclusions, filters, and notices."""

    groups: list[list[Atom]] = field(default_factory=list)
    excluded: list[Atom] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

    @property
    def positive(self) -> list[Atom]:
        return [atom for group in self.groups for atom in group]

    @property
    def empty(self) -> bool:
        return not self.groups and not self.excluded and not self.filters


QUOTES = {'"': '"', "“": "”", "”": "“", "「": "」", "『": "』", "＂": "＂"}
LEXEME = re.compile(r'\s+|["“”「『＂]|[^\s"“”「『＂]+')


def parse_query(text: str, mode: str = "keyword") -> ParsedQuery:
    """Parse a query; malformed input gets a sensible reading and a notice, never an error."""
    parsed = ParsedQuery()
    text = text.strip()
    if mode == "phrase" or mode == "fuzzy":
        body, filters, notices = extract_filters(text)
        parsed.filters, parsed.notices = filters, notices
        body = strip_outer_quotes(body)
        if exact_key(body):
            parsed.groups = [[Atom(body.strip(), quoted=True)]]
        return parsed
    tokens = tokenize_query(text, parsed)
    negate_next = False
    or_next = False
    for kind, value in tokens:
        if kind == "OR":
            if not parsed.groups or or_next:
                parsed.notices.append("“OR” 两侧需要检索词，已忽略")
            or_next = True
            continue
        if kind == "NOT":
            negate_next = True
            continue
        if kind == "filter":
            name, val = value.split(":", 1)
            parsed.filters.setdefault(FILTER_NAMES[name.lower()], []).append(val)
            continue
        atom = Atom(value, quoted=(kind == "phrase"))
        if negate_next:
            parsed.excluded.append(atom)
        elif or_next and parsed.groups:
            parsed.groups[-1].append(atom)
        else:
            parsed.groups.append([atom])
        negate_next = or_next = False
    if or_next:
        parsed.notices.append("查询末尾的 “OR” 没有检索词，已忽略")
    if negate_next:
        parsed.notices.append("查询末尾的 “NOT” 没有检索词，已忽略")
    return limit_terms(parsed)


def limit_terms(parsed: ParsedQuery) -> ParsedQuery:
    """Drop repeated terms (they change nothing) and keep at most MAX_TERMS of them."""
    groups = [list(dict.fromkeys(group)) for group in parsed.groups]
    parsed.groups = [g for i, g in enumerate(groups) if g not in groups[:i]]
    parsed.excluded = list(dict.fromkeys(parsed.excluded))
    count = 0
    kept: list[list[Atom]] = []
    for group in parsed.groups:
        if count + len(group) > MAX_TERMS:
            parsed.notices.append(f"检索词太多，只用了前 {MAX_TERMS} 个")
            break
        kept.append(group)
        count += len(group)
    parsed.groups = kept
    if len(parsed.excluded) > MAX_TERMS:
        parsed.notices.append(f"排除词太多，只用了前 {MAX_TERMS} 个")
        parsed.excluded = parsed.excluded[:MAX_TERMS]
    return parsed


def tokenize_query(text: str, parsed: ParsedQuery) -> list[tuple[str, str]]:
    """Split a keyword query into (kind, value) tokens: term, phrase, OR, NOT, filter."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in QUOTES:
            close = QUOTES[ch]
            end = find_close(text, i + 1, close)
            if end < 0:
                parsed.notices.append("引号没有配对，已把引号后的全部内容当作短语")
                end = len(text)
            phrase = text[i + 1 : end]
            if exact_key(phrase):
                tokens.append(("phrase", phrase.strip()))
            i = end + 1
            continue
        end = i
        while end < len(text) and not text[end].isspace() and text[end] not in QUOTES:
            end += 1
        word = text[i:end]
        i = end
        tokens.extend(classify_word(word, parsed))
    return tokens


def find_close(text: str, start: int, close: str) -> int:
    """Index of the closing quote; straight and curly closers both count."""
    candidates = [text.find(c, start) for c in {close, '"', "”", "＂"}]
    found = [c for c in candidates if c >= 0]
    return min(found) if found else -1


def classify_word(word: str, parsed: ParsedQuery) -> list[tuple[str, str]]:
    """One space-free word of a query as an operator, a filter or a term."""
    if word in {"OR", "|", "||", "或"}:
        return [("OR", word)]
    if word in {"NOT", "AND", "&&"}:
        return [("NOT", word)] if word == "NOT" else []
    if word.startswith("-") and len(word) > 1:
        return [("NOT", "-"), *classify_word(word[1:], parsed)]
    if word == "-":
        return []
    name, sep, value = word.partition(":")
    if not sep:
        name, sep, value = word.partition("：")
    if sep and name.lower() in FILTER_NAMES:
        if value:
            return [("filter", f"{name}:{value}")]
        parsed.notices.append(f"筛选条件 “{name}:” 缺少取值，已忽略")
        return []
    stripped = word.strip("()（）[]【】")
    if stripped != word:  # grouping brackets are not part of the language
        parsed.notices.append(f"已忽略多余的括号 “{word}”")
    if not exact_key(stripped):
        return []
    return [("term", stripped)]


def extract_filters(text: str) -> tuple[str, dict[str, list[str]], list[str]]:
    """Filters (town:… year:… type:…) out of a phrase or fuzzy query; the rest is the text."""
    filters: dict[str, list[str]] = {}
    notices: list[str] = []
    kept = []
    for word in re.split(r"(\s+)", text):
        name, sep, value = word.partition(":")
        if sep and name.lower() in FILTER_NAMES:
            if value:
                filters.setdefault(FILTER_NAMES[name.lower()], []).append(value)
            else:
                notices.append(f"筛选条件 “{name}:” 缺少取值，已忽略")
            continue
        kept.append(word)
    return "".join(kept).strip(), filters, notices


def strip_outer_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] in QUOTES and text[-1] in {QUOTES[text[0]], '"', "”"}:
        return text[1:-1]
    return text
