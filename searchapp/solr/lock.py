"""One indexing run at a time on a collection name, across processes and machines.

The lock is a document (key `_lock`, kind "lock") in the live collection, created with
Solr's optimistic concurrency (`_version_` -1: only if it does not exist), which the
shard leader checks atomically, committed or not. It names its holder (host, pid, start).
A run that finds it refuses with who holds it; a holder on this machine whose process
has ended (killed outright) is taken over, by a delete conditional on the lock's version.
A holder on another machine cannot be checked from here: `searchapp index --break-lock`
removes its lock once the operator knows that run is gone.

The first build of a name has no live collection and takes no lock. Every search filters
on kind, so the lock is never a hit.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..cluster import process_running
from ..errors import IndexLocked, IndexMissing, SearchAppError
from .client import RequestRefused, SolrClient
from .tokens import META_JSON, json_document

log = logging.getLogger(__name__)

LOCK = "lock"
LOCK_KEY = "_lock"


def holder() -> dict[str, Any]:
    """Who this process is, as the lock records it."""
    since = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return {"host": socket.gethostname(), "pid": os.getpid(), "since": since}


def lock_document(who: dict[str, Any]) -> dict[str, Any]:
    return json_document(LOCK_KEY, LOCK, who) | {"_version_": -1}  # only if none exists


def current_holder(client: SolrClient) -> tuple[dict[str, Any], int] | None:
    """The lock's holder and version (real-time get: committed or not), None when free."""
    doc = client.get([("id", LOCK_KEY), ("fl", f"{META_JSON},_version_")]).get("doc")
    if not doc:
        return None
    return json.loads(doc[META_JSON]), int(doc["_version_"])


def acquire(client: SolrClient) -> None:
    """Take the lock of the collection `client` writes to, or raise IndexLocked."""
    for _ in range(2):
        try:
            client.update(json.dumps([lock_document(holder())]).encode("utf-8"), tries=1)
            return
        except RequestRefused:  # 409: the lock exists
            held = current_holder(client)
            if held is None:
                continue  # released meanwhile
            who, version = held
            if who.get("host") != socket.gethostname() or process_running(int(who["pid"])):
                raise IndexLocked(
                    f"集合 {client.collection} 正由另一个索引任务写入"
                    f"（{who.get('host')} 上的进程 {who.get('pid')}，{who.get('since')} 开始）",
                    hint="等它结束后再运行；若确知它已不在运行（在另一台机器上被强行结束），"
                    "加 --break-lock 运行一次",
                ) from None
            log.warning("taking over the lock of ended process %s", who.get("pid"))
            drop(client, version)
    raise IndexLocked(f"集合 {client.collection} 的索引锁无法取得", hint="稍后重试")


def drop(client: SolrClient, version: int | None = None) -> None:
    """Delete the lock (only that version of it, when given)."""
    command: dict[str, Any] = {"id": LOCK_KEY}
    if version is not None:
        command["_version_"] = version
    with contextlib.suppress(RequestRefused):  # someone else took it over first
        client.update(json.dumps({"delete": command}).encode("utf-8"), tries=1)


@contextmanager
def index_lock(client: SolrClient | None, *, break_lock: bool = False) -> Iterator[None]:
    """The run's lock on `client`'s collection for the duration (None: no live collection)."""
    if client is None:
        yield
        return
    if break_lock:
        drop(client)
    acquire(client)
    try:
        yield
    finally:
        try:
            drop(client)
        except SearchAppError as exc:  # a full build's old collection is deleted with it
            if not isinstance(exc, IndexMissing):
                log.warning("the lock of %s was not released: %s", client.collection, exc)
