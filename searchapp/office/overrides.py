"""Corrections of a report's metadata made in the browser.

A correction is keyed by the file's content hash and the report's place in it (part 0
for a single report), not by its path: it follows a renamed or moved file, and every
build applies it (incremental and full, both backends), after the sidecar file's
entries (documents.apply_overrides). Each change is kept in the audit trail with who,
when and old → new; an admin can revert one.
"""

from __future__ import annotations

import datetime
import re
import sqlite3

from ..documents import Entries, correction_key
from ..errors import SearchAppError
from .db import log_change, transaction

# field → label; "doc_type" is also accepted as "type" (the and the form's name)
FIELDS = {
    "town": "地名",
    "place": "上级",
    "year": "年份",
    "date": "日期",
    "doc_type": "类型",
    "title": "标题",
    "issuer": "发文机关",
}
ALIASES = {"type": "doc_type"}
MAX_VALUE = 200
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadCorrection(SearchAppError):
    """A correction with an unknown field or a value that cannot be used."""


def check_changes(changes: object) -> dict[str, str]:
    """The changes as field → text, checked; raises BadCorrection with what is wrong."""
    if not isinstance(changes, dict) or not changes:
        raise BadCorrection(
            "请给出要更正的字段", hint='例如 {"town": "某某镇"}；可改：' + "、".join(FIELDS)
        )
    checked: dict[str, str] = {}
    for raw_name, raw_value in changes.items():
        name = ALIASES.get(str(raw_name), str(raw_name))
        if name not in FIELDS:
            raise BadCorrection(f"不能更正字段 “{raw_name}”", hint="可改：" + "、".join(FIELDS))
        if raw_value is None:
            raw_value = ""
        if isinstance(raw_value, bool) or not isinstance(raw_value, (str, int)):
            raise BadCorrection(f"{FIELDS[name]}应是文字")
        value = " ".join(str(raw_value).split())
        if len(value) > MAX_VALUE:
            raise BadCorrection(f"{FIELDS[name]}太长（最多 {MAX_VALUE} 个字符）")
        checked[name] = check_value(name, value)
    return checked


def check_value(name: str, value: str) -> str:
    if name == "year" and value and not (value.isdigit() and 1900 <= int(value) <= 2100):
        raise BadCorrection(f"年份 “{value}” 不是 1900–2100 之间的数字")
    if name == "date" and value and not is_iso_date(value):
        raise BadCorrection("日期应写作 年-月-日，如 2024-01-15")
    if name in {"town", "title"} and not value:
        raise BadCorrection(f"{FIELDS[name]}不能为空")
    return value


def is_iso_date(value: str) -> bool:
    if not DATE.match(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def correct(
    conn: sqlite3.Connection,
    user: str,
    doc_id: str,
    content_hash: str,
    part: int,
    current: dict[str, str],
    changes: dict[str, str],
) -> list[str]:
    """Store the changes that differ from the report's current values; the fields changed."""
    changed = []
    with transaction(conn):
        for name, value in changes.items():
            # a correction not yet indexed is what the field holds now, not the index's value
            stored = stored_value(conn, content_hash, part, name)
            prior = stored is not None
            old = stored if stored is not None else current.get(name, "")
            if value == old:
                continue
            conn.execute(
                "INSERT INTO overrides (content_hash, part, field, value) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (content_hash, part, field) DO UPDATE SET value = excluded.value",
                (content_hash, part, name, value),
            )
            log_change(
                conn,
                user,
                "correct",
                doc_id,
                field=name,
                old=old,
                new=value,
                content_hash=content_hash,
                part=part,
                prior=int(prior),
            )
            changed.append(name)
    return changed


def stored_value(conn: sqlite3.Connection, content_hash: str, part: int, name: str) -> str | None:
    row = conn.execute(
        "SELECT value FROM overrides WHERE content_hash = ? AND part = ? AND field = ?",
        (content_hash, part, name),
    ).fetchone()
    return None if row is None else str(row["value"])


def revert(conn: sqlite3.Connection, user: str, audit_id: int) -> dict[str, object]:
    """Undo one correction: its field goes back to what it was before it."""
    with transaction(conn):
        row = conn.execute(
            "SELECT * FROM audit WHERE id = ? AND action = 'correct'", (audit_id,)
        ).fetchone()
        if row is None:
            raise BadCorrection(f"审计记录 {audit_id} 不是一次更正", hint="见 /manage/audit")
        key = (row["content_hash"], row["part"], row["field"])
        now_value = stored_value(conn, *key)
        if row["prior"]:
            conn.execute(
                "UPDATE overrides SET value = ? WHERE content_hash = ? AND part = ? AND field = ?",
                (row["old"], *key),
            )
        else:  # before it the detected value stood: drop the correction altogether
            conn.execute(
                "DELETE FROM overrides WHERE content_hash = ? AND part = ? AND field = ?", key
            )
        log_change(
            conn,
            user,
            "revert",
            row["target"],
            field=row["field"],
            old=now_value,
            new=row["old"],
            content_hash=row["content_hash"],
            part=row["part"],
        )
    return dict(row)


def entries(conn: sqlite3.Connection) -> Entries:
    """Every correction as metadata entries for the indexers (`sha1:HASH#PART` keys)."""
    found: Entries = {}
    for row in conn.execute("SELECT * FROM overrides ORDER BY content_hash, part, field"):
        key = correction_key(row["content_hash"], row["part"])
        found.setdefault(key, {})[row["field"]] = row["value"]
    return found


def corrections_of(conn: sqlite3.Connection, content_hash: str, part: int) -> dict[str, str]:
    rows = conn.execute(
        "SELECT field, value FROM overrides WHERE content_hash = ? AND part = ?",
        (content_hash, part),
    )
    return {row["field"]: row["value"] for row in rows}
