"""Handing memory freed by a large answer back to the system.

An every-hit answer (an export, the towns view, a trend) builds and drops hundreds of
megabytes of short-lived objects and arrays at 1 GB. glibc keeps most of what they
freed in its heap for later allocations, so a long-running server's RSS stays at
its highest answer's peak: measured at 1 GB, 450 MB of free heap after the benchmark
queries, all of it returned by `malloc_trim` (benchmarks/RESULTS.md). The web app
calls `release_after_answer` after such answers (web/__init__.py); elsewhere (glibc absent,
another C library) it does nothing. The same answers read every text of the segment
files through their mappings; the engine's `release_pages` unmaps those again (the
kernel keeps them cached), so that RSS shows what the server holds, not what it once
read.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # engine.py imports the backends; this module only calls one
    from .engine import Engine

log = logging.getLogger(__name__)

MIN_INTERVAL = 1.0  # seconds between two trims: many large answers at once trim once


@functools.cache
def malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


class Releaser:
    """`release_memory`'s state: when it last ran (one trim at a time)."""

    def __init__(self, interval: float = MIN_INTERVAL) -> None:
        self.interval = interval
        self.last = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        """Return the heap's free memory to the system unless that was done under
        `interval` seconds ago; True when it was done now."""
        trim = malloc_trim()
        if trim is None or not self._lock.acquire(blocking=False):
            return False
        try:
            now = time.monotonic()
            if now - self.last < self.interval:
                return False
            trim(0)  # walks the heap: ~10-100 ms at 1 GB, after the answer has gone
            self.last = time.monotonic()
            log.debug("heap trimmed in %.0f ms", (self.last - now) * 1000)
            return True
        finally:
            self._lock.release()


release_memory = Releaser()


def release_after_answer(engine: Engine | None) -> None:
    """After a large answer: unmap the texts the engine read (the embedded one maps
    them) and hand the freed heap back."""
    if engine is not None:
        engine.release_pages()
    release_memory()
