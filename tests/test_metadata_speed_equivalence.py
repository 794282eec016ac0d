"""The fast scans of searchapp.metadata against the plain scans they stand for (brute force).

`county_mentions` must match what `COUNTY_MENTION.finditer` matches, `county_in_text` what
the loop over those matches chose, `context_divisions` what one `iter_long` over each whole
text finds: on random texts made to hit the edges (runs longer than the pattern reaches,
anchors back to back, characters outside CJK and outside every name) and on the texts of
the seeds and the real-world test files.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from searchapp.analysis import normalize
from searchapp.metadata import (
    COUNTY_MENTION,
    MIN_CONTEXT_NAME,
    Context,
    Division,
    candidates,
    context_divisions,
    county_in_text,
    county_mentions,
    load_gazetteer,
    name_scanner,
    settle,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEXT_FOLDERS = (PROJECT_ROOT / "seeds", PROJECT_ROOT / "tests" / "data" / "realworld")
PIECES = (  # level words and anchors, place names (成县 is a county, 完成县委 no mention)
    *"县市区旗州盟委人民政府中共",
    *("栾川县", "朝阳区", "成县", "完成", "呼伦贝尔市", "海拉尔区", "黔东南州", "遵义市"),
    *("贵州省", "吉林省", "北京市", "辽宁省", "和县", "城区", "鼓楼区", "新区"),
    *"的是在了和与，。、 a1\n（）",
    "发展和改革委员会",
    *("吉林市中区", "中山市中区", "北京市辖区"),  # names that overlap: iter_long takes one
)
ANCHORS = ("县委", "市委", "区政府", "旗人民政府", "州委", "盟政府", "委", "政府", "人民政府")


def corpus_texts() -> list[str]:
    """The normalised texts of the seeds and the real-world test files."""
    paths = [p for folder in TEXT_FOLDERS for p in sorted(folder.rglob("*.txt"))]
    return [normalize(p.read_text(encoding="utf-8", errors="replace")) for p in paths]


def random_texts(count: int, seed: int) -> list[str]:
    """Texts glued from PIECES, ANCHORS, any names and runs of one character (longer than a
    mention)."""
    rng = random.Random(seed)
    names = sorted(load_gazetteer().names)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(0, 30)):
            draw = rng.random()
            if draw < 0.1:
                parts.append(rng.choice("栾县的x") * rng.randint(1, 16))
            elif draw < 0.3:
                parts.append(rng.choice(ANCHORS))
            elif draw < 0.4:
                parts.append(rng.choice(names))
            else:
                parts.append(rng.choice(PIECES))
        texts.append("".join(parts))
    return texts


def plain_county_in_text(context: Context) -> Division | None:
    """county_in_text as a loop over every COUNTY_MENTION match (what it was)."""
    gazetteer = load_gazetteer()
    found: list[Division] = []
    for match in COUNTY_MENTION.finditer(context.text):
        run = match.group()
        for start in range(len(run) - MIN_CONTEXT_NAME + 1):
            options = [d for d in candidates(run[start:], context) if d.level != "province"]
            if run[start:] in gazetteer.names and options:
                chosen = settle(options, context)
                if chosen is not None:
                    found.append(chosen)
                break
    counties = [d for d in found if d.level == "county"]
    return (counties or found or [None])[0]


def plain_context_divisions(*texts: str) -> list[Division]:
    """context_divisions as one iter_long over each whole text (what it was)."""
    gazetteer = load_gazetteer()
    automaton = name_scanner().automaton
    return [
        d
        for text in texts
        for _, name in automaton.iter_long(text)
        for d in gazetteer.names[name]
        if d.level != "county"
    ]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Random texts and the test corpora's texts."""
    found = corpus_texts()
    assert len(found) > 20
    return random_texts(3000, seed=7) + found


def test_county_mentions_are_the_patterns_matches(texts: list[str]) -> None:
    mentions = 0
    for text in texts:
        expected = [match.group() for match in COUNTY_MENTION.finditer(text)]
        assert list(county_mentions(text)) == expected, text
        mentions += len(expected)
    assert mentions > 1000  # the texts do hit the pattern


@pytest.mark.parametrize("year", [None, 1990, 2024])
def test_county_in_text_chooses_as_the_plain_loop(texts: list[str], year: int | None) -> None:
    gazetteer = load_gazetteer()
    chosen: list[Division] = []
    for index, text in enumerate(texts):
        named = ("北京市", "吉林省", "贵州省", "辽宁省")[
            index % 4
        ]  # settles 朝阳区 some of the time
        divisions = list(gazetteer.names[named]) if index % 3 else []
        context = Context(divisions=divisions, text=text, year=year)
        expected = plain_county_in_text(context)
        assert county_in_text(context) == expected, text
        chosen.extend([expected] if expected else [])
    assert len(chosen) > 250
    assert {d.level for d in chosen} == {"city", "county"}
    assert len({d.province for d in chosen if d.name == "朝阳区"}) == 2  # settled both ways


def test_context_divisions_are_the_plain_scans(texts: list[str]) -> None:
    found = 0
    for index, text in enumerate(texts):
        parts = (text[: index % 40], text, text[index % 40 :])  # several texts at once
        expected = plain_context_divisions(*parts)
        assert context_divisions(*parts) == expected, text
        found += len(expected)
    assert found > 1000
