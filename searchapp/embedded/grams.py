"""The exact channel: which paragraphs hold a string verbatim, whatever jieba does.

Every Whoosh segment of an index gets a file beside it, `<segment id>.grams`, holding

* for every character and every adjacent pair of characters of the segment's
  paragraphs (in exact-match form: normalised, white space removed), the sorted
  list of paragraphs (segment docnums) that contain it: a uint32 array, or a bitmap
  when that is smaller;
* the exact-match form of every paragraph, UTF-8, one after another.

A string of one or two characters is one posting list. A longer one is the
intersection of its pairs' lists, verified by a substring search in each
candidate's text, so the answer is exactly the substring test (tests compare it
with a brute-force scan). Whoosh's own posting writer costs ~9 µs of Python per
posting; these files are written from arrays and read with mmap, so the exact
channel, ~3 postings per character, costs little to build and nothing to open.

Layout (little-endian): MAGIC, then `HEADER` (documents, terms and the offsets of
the sections), then the sections: term codes (uint64, sorted), document
frequencies (uint32), posting offsets (uint64, terms + 1), postings, text offsets
(uint64, documents + 1), texts.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
import weakref
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import numpy as np

from ..analysis import exact_key
from ..errors import IndexIncompatible

MAGIC = b"SAGRAMS1"
HEADER = struct.Struct("<8Q")
SUFFIX = ".grams"
FORMAT = 1  # recorded in the index's meta; bump when the layout changes
SEPARATOR = b"\n"  # between texts; never inside one (white space is removed)
ENCODING = ("utf-8", "surrogatepass")


def file_name(segment_id: str) -> str:
    return segment_id + SUFFIX


def gram_code(gram: str) -> int:
    """A character or pair as one integer: characters sort just before their pairs."""
    if len(gram) == 1:
        return ord(gram) << 21
    return (ord(gram[0]) << 21) | (ord(gram[1]) + 1)


def text_grams(units: str) -> set[int]:
    """The codes of every character and adjacent pair of an exact-match text."""
    codes = {ord(ch) << 21 for ch in units}
    codes.update((ord(a) << 21) | (ord(b) + 1) for a, b in pairwise(units))
    return codes


def query_grams(units: str) -> list[str]:
    """The grams whose posting lists answer `units`: itself up to two characters, else
    its distinct pairs."""
    if len(units) <= 2:
        return [units] if units else []
    return list(dict.fromkeys(units[i : i + 2] for i in range(len(units) - 1)))


SMALL_LIST = 1024  # fewer ids than this: set bits in Python (numpy's set-up costs more)


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
    """The set bits of a bitset, ascending, as an int64 array."""
    raw = bits.to_bytes((bits.bit_length() + 7) >> 3, "little")
    return np.flatnonzero(np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little"))


def ids_from_bits(bits: int) -> list[int]:
    """The set bits of a bitset, ascending."""
    return id_array(bits).tolist()


def as_bitmap(ndocs: int, df: int) -> bool:
    """Whether a posting list is stored as a bitmap: when that is smaller than ids."""
    return (ndocs + 7) >> 3 < 4 * df


# --- writing --------------------------------------------------------------------------------


def write_segment(path: Path, texts: Iterable[str]) -> None:
    """Write the exact channel of one segment: its paragraphs' texts in docnum order
    (as displayed, or already in exact-match form: exact_key is idempotent)."""
    postings: dict[int, array] = {}
    units_blob = bytearray()
    text_offsets = array("Q", [0])
    ndocs = 0
    for doc, text in enumerate(texts):
        units = exact_key(text)
        units_blob += units.encode(*ENCODING)
        units_blob += SEPARATOR
        text_offsets.append(len(units_blob))
        for code in text_grams(units):
            found = postings.get(code)
            if found is None:
                postings[code] = array("I", (doc,))
            else:
                found.append(doc)
        ndocs = doc + 1
    codes = array("Q", sorted(postings))
    dfs = array("I", (len(postings[c]) for c in codes))
    starts = array("Q", [0])
    chunks = []
    size = 0
    for code in codes:
        ids = postings[code]
        data = (
            bits_from_ids(ids, (ndocs + 7) >> 3).to_bytes((ndocs + 7) >> 3, "little")
            if as_bitmap(ndocs, len(ids))
            else little_endian(ids)
        )
        chunks.append(data)
        size += len(data)
        starts.append(size)
    sections = [codes, dfs, starts, b"".join(chunks), text_offsets, bytes(units_blob)]
    offsets = []
    position = len(MAGIC) + HEADER.size
    for section in sections:
        offsets.append(position)
        position += len(section) * (section.itemsize if isinstance(section, array) else 1)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as fh:
        fh.write(MAGIC)
        fh.write(HEADER.pack(ndocs, len(codes), *offsets))
        for section in sections:
            fh.write(little_endian(section))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def little_endian(section: array | bytes) -> bytes:
    if isinstance(section, array) and sys.byteorder != "little":
        section = array(section.typecode, section)
        section.byteswap()
    return section.tobytes() if isinstance(section, array) else section


# --- reading --------------------------------------------------------------------------------


class SegmentGrams:
    """One segment's exact channel, read through mmap; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with path.open("rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        weakref.finalize(self, self._map.close)
        head = len(MAGIC) + HEADER.size
        if self._map[: len(MAGIC)] != MAGIC or len(self._map) < head:
            raise ValueError(f"{path} is not a searchapp grams file")
        (self.ndocs, nterms, *offsets) = HEADER.unpack(self._map[len(MAGIC) : head])
        codes_at, dfs_at, starts_at, self._postings_at, texts_at, self._texts_at = offsets
        self.codes = self._array("Q", codes_at, nterms)
        self.dfs = self._array("I", dfs_at, nterms)
        self.starts = self._array("Q", starts_at, nterms + 1)
        self.text_offsets = self._array("Q", texts_at, self.ndocs + 1)
        self.nbytes = (self.ndocs + 7) >> 3
        complete = (
            len(self.codes) == len(self.dfs) == nterms
            and len(self.starts) == nterms + 1
            and len(self.text_offsets) == self.ndocs + 1
            and self._postings_at + self.starts[-1] <= texts_at
            and self._texts_at + self.text_offsets[-1] == len(self._map)
        )
        if not complete:
            raise ValueError(f"{path} is truncated or damaged")

    def _array(self, typecode: str, at: int, count: int) -> array:
        out = array(typecode)
        out.frombytes(self._map[at : at + count * out.itemsize])
        if sys.byteorder != "little":
            out.byteswap()
        return out

    def find(self, gram: str) -> int:
        """The gram's index in the term table, or -1."""
        code = gram_code(gram)
        i = bisect_left(self.codes, code)
        return i if i < len(self.codes) and self.codes[i] == code else -1

    def df(self, gram: str) -> int:
        i = self.find(gram)
        return self.dfs[i] if i >= 0 else 0

    def bits(self, gram: str) -> int:
        """The paragraphs holding a character or a pair, as a bitset of segment docnums."""
        i = self.find(gram)
        if i < 0:
            return 0
        if as_bitmap(self.ndocs, self.dfs[i]):
            return int.from_bytes(self._postings(i), "little")
        return bits_from_ids(self._id_list(i), self.nbytes)

    def ids(self, gram: str) -> list[int]:
        """The paragraphs holding a character or a pair, as ascending segment docnums."""
        i = self.find(gram)
        if i < 0:
            return []
        if as_bitmap(self.ndocs, self.dfs[i]):
            return ids_from_bits(int.from_bytes(self._postings(i), "little"))
        return self._id_list(i).tolist()

    def _postings(self, i: int) -> bytes:
        return self._map[
            self._postings_at + self.starts[i] : self._postings_at + self.starts[i + 1]
        ]

    def _id_list(self, i: int) -> array:
        ids = array("I")
        ids.frombytes(self._postings(i))
        if sys.byteorder != "little":
            ids.byteswap()
        return ids

    def estimate(self, units: str) -> int:
        """An upper bound on the matches of `units`: its rarest gram's frequency."""
        grams = query_grams(units)
        return min((self.df(g) for g in grams), default=0)

    def exact(self, units: str) -> int:
        """The paragraphs whose exact-match form contains `units`, as a bitset."""
        grams = query_grams(units)
        if not grams:
            return 0
        if len(grams) == 1 and len(units) <= 2:
            return self.bits(grams[0])
        ranked = sorted(grams, key=self.df)
        candidates = -1
        for gram in ranked:
            candidates &= self.bits(gram)
            if not candidates:
                return 0
        return self.verify(units, candidates)

    def exact_ids(self, units: str) -> list[int]:
        return ids_from_bits(self.exact(units))

    def verify(self, units: str, candidates: int) -> int:
        """The candidates whose text contains `units`."""
        needle = units.encode(*ENCODING)
        find = self._map.find
        base = self._texts_at
        offsets = self.text_offsets
        kept = [
            doc
            for doc in ids_from_bits(candidates)
            if find(needle, base + offsets[doc], base + offsets[doc + 1] - 1) >= 0
        ]
        return bits_from_ids(kept, self.nbytes)

    def text(self, doc: int) -> str:
        """A paragraph's exact-match form."""
        start = self._texts_at + self.text_offsets[doc]
        end = self._texts_at + self.text_offsets[doc + 1] - 1
        return self._map[start:end].decode(*ENCODING)


def open_segment(folder: str | Path, segment_id: str) -> SegmentGrams:
    """A segment's exact channel; IndexIncompatible when the file is missing or damaged."""
    path = Path(folder) / file_name(segment_id)
    try:
        return SegmentGrams(path)
    except FileNotFoundError as exc:
        raise damaged(path, "缺失") from exc
    except (OSError, ValueError) as exc:
        raise damaged(path, "已损坏") from exc


def damaged(path: Path, what: str) -> IndexIncompatible:
    return IndexIncompatible(
        f"索引文件 {path.name} {what}（{path.parent}）",
        hint=f"请重建索引：searchapp index --rebuild --index {path.parent.parent}",
    )
