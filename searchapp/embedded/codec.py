"""Posting lists in memory and on disk: bitsets and delta + varint id lists, with numpy.

In memory a set of paragraphs is a Python int used as a bitset (bit i = document i):
intersections, unions and counts over every hit are a few big-int operations.

On disk an ascending id list is stored as the gaps between its ids (the first id as
itself), seven bits a byte, the high bit set on every byte but a value's last
(LEB128). Gaps of a common term fit one byte, so a list costs little more than a
byte a posting against four for raw ids. Many lists are encoded and decoded at once
with numpy, never a Python loop per posting.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np

SMALL_LIST = 1024  # fewer ids than this: set bits in Python (numpy's set-up costs more)
MAX_VARINT_BYTES = 5  # a uint32 gap takes at most five 7-bit groups


SPARSE_BYTES = 16  # a bitset with set bits in under 1/16 of its bytes: unpack those alone


def bits_from_ids(ids: Iterable[int], nbytes: int) -> int:
    """A bitset (bit i = document i) with the given bits set."""
    if not isinstance(ids, (list, array, np.ndarray)):
        ids = list(ids)
    if len(ids) < SMALL_LIST:
        buf = bytearray(nbytes)
        for i in ids:
            buf[i >> 3] |= 1 << (i & 7)
        return int.from_bytes(buf, "little")
    if isinstance(ids, array) and ids.itemsize == 4:
        ids = np.frombuffer(ids, dtype=np.uint32)
    flags = np.zeros(nbytes << 3, dtype=np.uint8)
    flags[np.asarray(ids, dtype=np.int64)] = 1
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def id_array(bits: int) -> np.ndarray:
    """The set bits of a bitset, ascending, as an int64 array (for a sparse one, only
    its non-zero bytes are unpacked)."""
    raw = np.frombuffer(bits.to_bytes((bits.bit_length() + 7) >> 3, "little"), dtype=np.uint8)
    held = np.flatnonzero(raw)
    # (numpy finds the set entries of a bool array ~4x faster than of a uint8 one)
    if len(held) * SPARSE_BYTES > len(raw):
        return np.nonzero(np.unpackbits(raw, bitorder="little").view(bool))[0]
    flags = np.unpackbits(raw[held, None], axis=1, bitorder="little").view(bool)
    rows, columns = np.nonzero(flags)
    return held[rows] * 8 + columns


def bit_flags(bits: int, nbytes: int) -> np.ndarray:
    """A bitset as one 0/1 byte a bit (`nbytes` × 8 of them)."""
    raw = bits.to_bytes(nbytes, "little")
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")


def bits_at(bits: int, nbytes: int, docs: np.ndarray) -> np.ndarray:
    """Bit `doc` of a bitset for each of `docs`, as 0/1 bytes (few docs: cheaper than
    `bit_flags` of all)."""
    raw = np.frombuffer(bits.to_bytes(nbytes, "little"), dtype=np.uint8)
    return (raw[docs >> 3] >> (docs & 7).astype(np.uint8)) & 1


def ids_from_bits(bits: int) -> list[int]:
    """The set bits of a bitset, ascending."""
    return id_array(bits).tolist()


def bitmap_bytes(ids: np.ndarray, nbytes: int) -> bytes:
    """Ascending ids as a little-endian bitmap of `nbytes` bytes."""
    flags = np.zeros(nbytes << 3, dtype=np.uint8)
    flags[ids.astype(np.int64)] = 1
    return np.packbits(flags, bitorder="little").tobytes()


def encode_lists(ids: np.ndarray, counts: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Encode consecutive ascending id lists (`counts[i]` ids each, concatenated in `ids`).

    Returns the bytes and each list's start in them (one more entry than lists: the
    last is the total length).
    """
    values = ids.astype(np.int64)
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    gaps = np.diff(values, prepend=0)
    firsts = starts[:-1][counts > 0]
    gaps[firsts] = values[firsts]  # every list starts afresh
    if len(gaps) and gaps.min() < 0:
        raise ValueError("id lists must be ascending")
    sizes = np.ones(len(gaps), dtype=np.int64)
    for k in range(1, MAX_VARINT_BYTES):
        sizes += gaps >= (1 << (7 * k))
    ends = np.cumsum(sizes)
    out = np.zeros(int(ends[-1]) if len(ends) else 0, dtype=np.uint8)
    begins = ends - sizes
    for k in range(MAX_VARINT_BYTES):
        has = sizes > k
        if not has.any():
            break
        group = (gaps[has] >> (7 * k)) & 0x7F
        more = (sizes[has] > k + 1).astype(np.int64) << 7
        out[begins[has] + k] = (group | more).astype(np.uint8)
    return out.tobytes(), np.concatenate(([0], ends))[starts]


def decode_list(data: bytes | memoryview, count: int) -> np.ndarray:
    """One list written by `encode_lists`: its `count` ascending ids (int64).

    `data` starts at the list and may run past its end (up to `MAX_VARINT_BYTES`
    a posting is always enough): the list ends at its `count`-th value.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    head = raw[:count]
    if len(head) == count and not (head & 0x80).any():  # every gap fits one byte
        return np.cumsum(head, dtype=np.int64)
    last = np.flatnonzero(raw < 0x80)[:count]  # each value's last byte
    if len(last) != count:
        raise ValueError("damaged id list")
    raw = raw[: int(last[-1]) + 1] if count else raw[:0]
    firsts = np.empty(count, dtype=np.int64)
    firsts[:1] = 0
    firsts[1:] = last[:-1] + 1
    owner = np.repeat(np.arange(count), last - firsts + 1)
    shift = np.arange(len(raw)) - firsts[owner]
    weights = (raw & 0x7F).astype(np.float64) * np.power(128.0, shift)  # exact below 2**53
    gaps = np.bincount(owner, weights=weights, minlength=count).astype(np.int64)
    return np.cumsum(gaps)
