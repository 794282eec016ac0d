"""The `section` facet: the headings a corpus uses again and again (工作回顾, 下一步工作,
存在问题 …), the same rule for every backend.

A heading's label drops its numbering and years (一、2022年工作回顾 → 工作回顾). A label's
weight is, summed over the distinct headings that carry it, the number of reports that
have that heading; labels of weight 2 or more are the facet's values, heaviest first
(ties by label), at most MAX_HEADINGS. A value counts the hits under a heading path that
contains it, as the `section:` filter does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

HEADING_NUMBER = re.compile(
    r"^\s*(?:[（(](?:[一二三四五六七八九十百]+|\d+)[）)]|(?:[一二三四五六七八九十百]+|\d+)[、.．:：]"
    r"|第[一二三四五六七八九十]+(?:部分|章|节|条)?[、:：\s]?)\s*"
)
HEADING_YEAR = re.compile(r"(?:19|20)\d{2}\s*年(?:度)?")
MAX_HEADINGS = 12
MIN_WEIGHT = 2


def heading_label(heading: str) -> str:
    """A heading without its numbering and years: 一、2022年工作回顾 → 工作回顾."""
    label = HEADING_YEAR.sub("", heading.strip())
    label = HEADING_NUMBER.sub("", label).strip("，,。:：、 \u3000")
    return label if 2 <= len(label) <= 12 else ""


def recurring_headings(reports_per_heading: Iterable[tuple[str, int]]) -> list[str]:
    """The facet's labels from (heading, reports that have it) of every distinct heading."""
    weights: Counter[str] = Counter()
    for heading, reports in reports_per_heading:
        label = heading_label(heading)
        if label:
            weights[label] += reports
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return [label for label, weight in ranked[:MAX_HEADINGS] if weight >= MIN_WEIGHT]
