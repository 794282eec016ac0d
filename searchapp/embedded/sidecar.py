"""A segment's own file: its texts, the exact channel and the word channel.

Whoosh keeps what is small per paragraph (ids, stored metadata, facet columns); every
Whoosh segment gets a file beside it, `<segment id>.sadata`, written from arrays and
read through mmap, holding:

* **texts, once**: each paragraph's exact-match form (normalised, white space removed:
  `analysis.exact_key`), UTF-8, one after another, plus a *patch* that turns it back
  into the paragraph as written (the white space and the characters that folding
  changed, with the gaps between them). Exact matching searches the first, pages
  show the second.
* **the exact channel**: for every character and every adjacent pair of characters of
  the exact-match forms, the paragraphs (segment docnums) holding it. A string of one
  or two characters is one list; a longer one is the intersection of its pairs'
  lists, verified by a substring search in each candidate's text, so the answer is
  exactly the substring test (tests compare it with a brute-force scan). Beside them,
  the paragraphs holding a pair more than once and how often, so the occurrences of
  a two-character string are read, not counted in the texts.
* **the word channel**: for every jieba word, the paragraphs holding it and how
  often (one byte, capped at 255); each paragraph's length in words; the words
  themselves, sorted (the vocabulary).
* **the reports**: the fields every paragraph of a report shares (title, town, year,
  place …), once a report, and each paragraph's report.
* **the paragraphs' own fields**: para_id, ordinal in the report, whether it is a
  heading, and its place among the pieces of its author paragraph with their number
  (`fields.PIECE`, `fields.PIECES`; Whoosh stores nothing a page reads).

Id lists are delta + varint coded (codec.py); a list that would take more bytes
than a bitmap of the segment is a bitmap. Layout (little-endian): MAGIC, `COUNTS`
(documents, grams, words, word postings), then (offset, length) of each section in
`SECTIONS` order, then the sections.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..analysis import folded_words, normalize, without_space
from ..errors import IndexIncompatible
from .codec import (
    bit_flags,
    bitmap_bytes,
    bits_from_ids,
    decode_list,
    encode_lists,
    ids_from_bits,
)

MAGIC = b"SASEG005"
COUNTS = struct.Struct("<4Q")
SECTIONS = (
    "gram_codes",  # uint64, sorted
    "gram_dfs",  # uint32
    "gram_starts",  # uint64: where each list starts (in gram_lists, or gram_maps for bitmaps)
    "gram_lists",
    "gram_maps",
    "repeat_codes",  # uint64, sorted: the pairs that some paragraph holds more than once
    "repeat_counts",  # uint32: how many paragraphs hold each of them more than once
    "repeat_starts",  # uint64: where each one's list starts in repeat_lists
    "repeat_lists",  # those paragraphs
    "repeat_tfs",  # uint8: how often each holds it (capped at MAX_TF), in list order
    "vocabulary",  # UTF-8 words joined by "\n", sorted
    "word_dfs",  # uint32
    "word_starts",  # uint64, in word_lists
    "word_lists",
    "word_tfs",  # uint8, one per posting, in the order of the lists
    "lengths",  # uint32, words per paragraph
    "text_offsets",  # uint64, documents + 1
    "texts",  # exact-match forms, each followed by SEPARATOR
    "patch_offsets",  # uint64, documents + 1
    "patches",
    "reports",  # JSON: the fields of every report with paragraphs here (fields.REPORT_FIELDS)
    "report_of",  # uint32: each paragraph's report, an index into reports
    "para_id_offsets",  # uint32, documents + 1
    "para_ids",  # ASCII, one after another
    "ordinals",  # uint32: the paragraph's place in its report
    "headings",  # uint8: 1 for a heading
    "piece",  # uint32: the paragraph's place among the pieces of its author paragraph
    "pieces",  # uint32: how many pieces its author paragraph has (1: not cut)
)
PLACES = struct.Struct(f"<{2 * len(SECTIONS)}Q")
SUFFIX = ".sadata"
SEPARATOR = b"\n"  # between texts; never inside one (white space is removed)
ENCODING = ("utf-8", "surrogatepass")
MAX_TF = 255


def file_name(segment_id: str) -> str:
    return segment_id + SUFFIX


# --- grams ----------------------------------------------------------------------------------


PAIR_BITS = np.uint64((1 << 21) - 1)  # a gram code's second character (0: a character alone)


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


def as_bitmap(ndocs: int, df: int) -> bool:
    """Whether a posting list is a bitmap: when the bitmap is no larger than a byte a posting."""
    return df > 0 and (ndocs + 7) >> 3 <= df


# --- patches: the text as written from its exact-match form ---------------------------------

SPACES = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)  # all of them
IS_SPACE = np.zeros(0x3002, dtype=bool)  # by code point, up to U+3000 (beyond: never a space)
IS_SPACE[SPACES] = True


def spaces(chars: np.ndarray) -> np.ndarray:
    """Which code points are white space."""
    return IS_SPACE[np.minimum(chars, 0x3001)]


def codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def make_patches(texts: list[str], folded: list[str]) -> list[bytes]:
    """What turns each `exact_key(text)` back into its text (UTF-8): pairs of (gap, character).

    The gap (as a character code) counts the exact-match characters kept since the
    previous entry; there a white-space character is inserted, any other character
    replaces the next exact-match character (the one folding made of it). Computed
    for many texts at once (`folded[i]` is `normalize(texts[i])`, of the same length).
    """
    if not texts:
        return []
    written, normal = codepoints("".join(texts)), codepoints("".join(folded))
    ends = np.cumsum([len(t) for t in texts])
    starts = ends - [len(t) for t in texts]
    space = spaces(normal)
    marks = np.flatnonzero(space | (written != normal))
    spaces_before = np.cumsum(space) - space
    doc = np.searchsorted(ends, marks, side="right")
    kept = marks - starts[doc] - (spaces_before[marks] - spaces_before[starts[doc]])
    consumed = kept + ~space[marks]
    previous = np.concatenate(([0], consumed[:-1]))
    first = np.concatenate(([True], doc[1:] != doc[:-1])) if len(doc) else np.zeros(0, bool)
    previous[first] = 0
    gaps = kept - previous
    if len(gaps) and gaps.max() > 0x10FFFF:
        raise ValueError("a paragraph is too long to patch")
    pairs = np.empty(2 * len(marks), dtype="<u4")
    pairs[0::2] = gaps
    pairs[1::2] = written[marks]
    cuts = np.searchsorted(doc, np.arange(len(texts) + 1)) * 2
    raw = pairs.tobytes()
    return [
        raw[4 * a : 4 * b].decode("utf-32-le", "surrogatepass").encode(*ENCODING)
        for a, b in pairwise(cuts.tolist())
    ]


def apply_patch(units: str, patch: str) -> str:
    """The text as written, from its exact-match form and its patch."""
    if not patch:
        return units
    out: list[str] = []
    add = out.append
    at = 0
    for gap, original in zip(patch[0::2], patch[1::2], strict=True):
        end = at + ord(gap)
        add(units[at:end])
        add(original)
        at = end if original.isspace() else end + 1
    add(units[at:])
    return "".join(out)


def apply_patches(units: list[str], patches: list[str]) -> list[str]:
    """`apply_patch` of many paragraphs in a few numpy passes: an every-hit export restores
    100,000s, and the loop costs about one microsecond a punctuation mark.

    Entry k of a paragraph lands at end_k = (gaps up to k) + (replacing entries before k):
    a replacement overwrites that exact-match character, a white-space entry is inserted
    before it (np.insert keeps equal positions in their order).
    """
    if not any(patches):
        return list(units)
    lengths = np.fromiter(map(len, units), dtype=np.int64, count=len(units))
    starts = np.cumsum(lengths) - lengths
    entries = np.fromiter((len(p) // 2 for p in patches), dtype=np.int64, count=len(patches))
    pairs = codepoints("".join(patches)).astype(np.int64)
    gaps, chars = pairs[0::2], pairs[1::2]
    space = spaces(chars)
    first = np.cumsum(entries) - entries  # each paragraph's first entry
    gap_sum = np.concatenate(([0], np.cumsum(gaps)))
    replaced = np.concatenate(([0], np.cumsum(~space)))
    doc = np.repeat(np.arange(len(units)), entries)
    base = np.repeat(gap_sum[first] + replaced[first], entries)
    at = starts[doc] + gap_sum[1:] + replaced[:-1] - base
    out = codepoints("".join(units)).copy()
    out[at[~space]] = chars[~space]
    out = np.insert(out, at[space], chars[space].astype(out.dtype))
    ends = np.cumsum(lengths + np.bincount(doc[space], minlength=len(units)))
    whole = out.tobytes().decode("utf-32-le", "surrogatepass")
    begins = np.concatenate(([0], ends[:-1])).tolist()
    return [whole[a:b] for a, b in zip(begins, ends.tolist(), strict=True)]


# --- writing --------------------------------------------------------------------------------

CHUNK = 4096  # paragraphs whose grams and words are gathered together
CHUNK_BITS = 12  # a paragraph's place in its chunk
ENCODE_BLOCK = 1 << 22  # postings encoded at a time (bounds the encoder's memory)
DENSE_SCAN = 8  # occurrences asked for 1/8 of a segment's paragraphs or more: scan them all


class SegmentWriter:
    """Gathers a segment's paragraphs chunk by chunk, with numpy, then writes its file."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words
        self.ndocs = 0
        self.gram_parts: list[tuple[np.ndarray, np.ndarray]] = []  # (codes, docs) a chunk
        self.repeat_parts: list[tuple[np.ndarray, ...]] = []  # (codes, docs, tfs), tf > 1
        self.word_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (ids, docs, tfs)
        self.vocabulary: dict[str, int] = {}
        self.lengths: list[int] = []
        self.texts = bytearray()
        self.text_offsets = array("Q", [0])
        self.patches = bytearray()
        self.patch_offsets = array("Q", [0])
        self.reports: dict[str, int] = {}  # JSON of a report's fields → its index
        self.report_of = array("I")
        self.para_ids = bytearray()
        self.para_id_offsets = array("I", [0])
        self.ordinals = array("I")
        self.headings = array("B")
        self.piece = array("I")
        self.pieces = array("I")

    def add_chunk(self, paragraphs: list[Paragraph]) -> None:
        texts = [p.text for p in paragraphs]
        for p in paragraphs:
            key = json.dumps(p.report, ensure_ascii=False, sort_keys=True)
            self.report_of.append(self.reports.setdefault(key, len(self.reports)))
            self.para_ids += p.para_id.encode("ascii")
            self.para_id_offsets.append(len(self.para_ids))
            self.ordinals.append(p.ordinal)
            self.headings.append(1 if p.heading else 0)
            self.piece.append(p.piece)
            self.pieces.append(p.pieces)
        folded = [normalize(t) for t in texts]
        units = [without_space(f) for f in folded]
        for unit in units:
            self.texts += unit.encode(*ENCODING) + SEPARATOR
            self.text_offsets.append(len(self.texts))
        for patch in make_patches(texts, folded):
            self.patches += patch
            self.patch_offsets.append(len(self.patches))
        self.add_grams(units)
        self.add_words(folded)
        self.ndocs += len(texts)

    def add_grams(self, units: list[str]) -> None:
        chars = codepoints("".join(units)).astype(np.uint64)
        local = np.repeat(np.arange(len(units), dtype=np.uint64), [len(u) for u in units])
        same = local[1:] == local[:-1]  # pairs never span two paragraphs
        codes = np.concatenate([chars << 21, ((chars[:-1] << 21) | (chars[1:] + 1))[same]])
        docs = np.concatenate([local, local[:-1][same]])
        keys, tfs = distinct((codes << CHUNK_BITS) | docs)
        codes, docs = keys >> CHUNK_BITS, (keys & (CHUNK - 1)).astype(np.uint32) + self.ndocs
        self.gram_parts.append((codes, docs))
        again = (tfs > 1) & (codes & PAIR_BITS != 0)  # pairs only: characters repeat a lot
        self.repeat_parts.append(
            (codes[again], docs[again], np.minimum(tfs[again], MAX_TF).astype(np.uint8))
        )

    def add_words(self, folded: list[str]) -> None:
        tokens: list[str] = []
        counts = []
        for text in folded:
            found = folded_words(text, self.words)
            tokens += found
            counts.append(len(found))
        vocabulary = self.vocabulary
        for token in dict.fromkeys(tokens):  # distinct, in order of appearance
            if token not in vocabulary:
                vocabulary[token] = len(vocabulary)
        ids = list(map(vocabulary.__getitem__, tokens))
        self.lengths.extend(counts)
        local = np.repeat(np.arange(len(folded), dtype=np.uint64), counts)
        keys, tfs = distinct((np.array(ids, dtype=np.uint64) << CHUNK_BITS) | local)
        self.word_parts.append(
            (
                keys >> CHUNK_BITS,
                (keys & (CHUNK - 1)).astype(np.uint32) + self.ndocs,
                np.minimum(tfs, MAX_TF).astype(np.uint8),
            )
        )

    def sections(self) -> tuple[bytes, list[bytes]]:
        grams = gram_sections(*merged(self.gram_parts), self.ndocs)
        repeats = repeat_sections(*merged(self.repeat_parts, width=3))
        words = word_sections(self.vocabulary, self.word_parts)
        sections = {
            **grams,
            **repeats,
            **words,
            "lengths": np.array(self.lengths, dtype="<u4").tobytes(),
            "text_offsets": self.text_offsets.tobytes(),
            "texts": bytes(self.texts),
            "patch_offsets": self.patch_offsets.tobytes(),
            "patches": bytes(self.patches),
            "reports": ("[" + ",".join(self.reports) + "]").encode(*ENCODING),
            "report_of": np.asarray(self.report_of, dtype="<u4").tobytes(),
            "para_id_offsets": np.asarray(self.para_id_offsets, dtype="<u4").tobytes(),
            "para_ids": bytes(self.para_ids),
            "ordinals": np.asarray(self.ordinals, dtype="<u4").tobytes(),
            "headings": bytes(self.headings),
            "piece": np.asarray(self.piece, dtype="<u4").tobytes(),
            "pieces": np.asarray(self.pieces, dtype="<u4").tobytes(),
        }
        ngrams = len(grams["gram_dfs"]) // 4
        head = COUNTS.pack(self.ndocs, ngrams, len(self.vocabulary), len(words["word_tfs"]))
        return head, [sections[name] for name in SECTIONS]


def distinct(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of an array, ascending, and how often each occurs."""
    return term_runs(np.sort(keys))


def merged(parts: list[tuple[np.ndarray, ...]], width: int = 2) -> tuple[np.ndarray, ...]:
    """Chunks' (term, doc, ...) arrays as one, by term then doc (chunks come in doc order).

    Empties `parts` as it goes: a 100 MB segment has ~50 million (gram, paragraph)
    pairs, so each copy that is not dropped at once costs hundreds of MB.
    """
    if not parts:
        return tuple(np.zeros(0, dtype=np.uint64) for _ in range(width))
    width = len(parts[0])
    columns = []
    for i in range(width):
        columns.append(np.concatenate([part[i] for part in parts]))
    parts.clear()
    order = np.argsort(columns[0], kind="stable")  # merges the chunks' sorted runs
    for i in range(width):
        columns[i] = columns[i][order]  # the unsorted column goes as soon as it is copied
    return tuple(columns)


def term_runs(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct terms of a sorted array and how many times each occurs."""
    if not len(terms):
        return terms, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
    counts = np.diff(np.append(starts, len(terms)))
    return terms[starts], counts


def overlaps_itself(text: str) -> bool:
    """Whether two occurrences of a text can overlap (it starts with one of its ends)."""
    return any(text[:n] == text[-n:] for n in range(1, len(text)))


class Paragraph(NamedTuple):
    """What a segment's file holds of one paragraph."""

    text: str
    report: dict[str, str]  # the report's fields (fields.REPORT_FIELDS)
    para_id: str
    ordinal: int
    heading: bool
    piece: int = 0  # its place among the pieces of its author paragraph
    pieces: int = 1  # how many pieces its author paragraph has


def write_segment(path: Path, paragraphs: Iterable[Paragraph], words: tuple[str, ...]) -> None:
    """Write one segment's file from its paragraphs in docnum order, cutting words with
    the index's dictionary `words`. Atomic: the file appears whole or not at all."""
    writer = SegmentWriter(words)
    chunk: list[Paragraph] = []
    for paragraph in paragraphs:
        chunk.append(paragraph)
        if len(chunk) == CHUNK:
            writer.add_chunk(chunk)
            chunk = []
    if chunk:
        writer.add_chunk(chunk)
    write_file(path, *writer.sections())


def encode_blocks(ids: np.ndarray, counts: np.ndarray) -> tuple[bytes, np.ndarray]:
    """`codec.encode_lists` a block of lists at a time: each list's start, and the bytes."""
    out, starts = [], [np.zeros(1, dtype=np.int64)]
    size, first = 0, 0
    bounds = np.concatenate(([0], np.cumsum(counts)))
    while first < len(counts):
        last = max(first + 1, int(np.searchsorted(bounds, bounds[first] + ENCODE_BLOCK)))
        last = min(last, len(counts))
        data, block_starts = encode_lists(ids[bounds[first] : bounds[last]], counts[first:last])
        out.append(data)
        starts.append(block_starts[1:] + size)
        size += len(data)
        first = last
    return b"".join(out), np.concatenate(starts)


def gram_sections(codes: np.ndarray, docs: np.ndarray, ndocs: int) -> dict[str, bytes]:
    terms, dfs = term_runs(codes)
    nbytes = (ndocs + 7) >> 3
    dense = dfs >= max(nbytes, 1)  # as_bitmap
    where = np.concatenate(([0], np.cumsum(dfs)))
    sparse = np.repeat(~dense, dfs)
    lists, list_starts = encode_blocks(docs[sparse], dfs[~dense])
    maps = [
        bitmap_bytes(docs[where[i] : where[i + 1]], nbytes) for i in np.flatnonzero(dense).tolist()
    ]
    starts = np.zeros(len(terms), dtype="<u8")
    starts[~dense] = list_starts[:-1]
    starts[dense] = np.arange(len(maps), dtype=np.uint64) * nbytes
    return {
        "gram_codes": terms.astype("<u8").tobytes(),
        "gram_dfs": dfs.astype("<u4").tobytes(),
        "gram_starts": starts.tobytes(),
        "gram_lists": lists,
        "gram_maps": b"".join(maps),
    }


def repeat_sections(codes: np.ndarray, docs: np.ndarray, tfs: np.ndarray) -> dict[str, bytes]:
    """The pairs some paragraph holds more than once: which paragraphs, how often."""
    terms, counts = term_runs(codes)
    lists, starts = encode_blocks(docs, counts)
    return {
        "repeat_codes": terms.astype("<u8").tobytes(),
        "repeat_counts": counts.astype("<u4").tobytes(),
        "repeat_starts": starts[:-1].astype("<u8").tobytes(),
        "repeat_lists": lists,
        "repeat_tfs": np.asarray(tfs, dtype=np.uint8).tobytes(),
    }


def word_sections(
    vocabulary: dict[str, int], parts: list[tuple[np.ndarray, ...]]
) -> dict[str, bytes]:
    words = sorted(vocabulary)
    if any("\n" in w for w in words):
        raise ValueError("a word holds a line break")
    rank = np.zeros(len(words), dtype=np.uint64)
    rank[[vocabulary[w] for w in words]] = np.arange(len(words), dtype=np.uint64)
    ranked = [(rank[ids.astype(np.int64)], docs, tfs) for ids, docs, tfs in parts]
    parts.clear()
    ids, docs, tfs = merged(ranked) if ranked else (np.zeros(0, np.uint64),) * 3
    _, dfs = term_runs(ids)
    lists, starts = encode_blocks(docs, dfs)
    return {
        "vocabulary": "\n".join(words).encode(*ENCODING),
        "word_dfs": dfs.astype("<u4").tobytes(),
        "word_starts": starts[:-1].astype("<u8").tobytes(),
        "word_lists": lists,
        "word_tfs": np.asarray(tfs, dtype=np.uint8).tobytes(),
    }


def write_file(path: Path, counts: bytes, sections: list[bytes]) -> None:
    places = []
    position = len(MAGIC) + len(counts) + PLACES.size
    for section in sections:
        places += (position, len(section))
        position += len(section)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb") as fh:
        fh.write(MAGIC + counts + PLACES.pack(*places))
        for section in sections:
            fh.write(section)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# --- reading --------------------------------------------------------------------------------


class SegmentFile:
    """One segment's texts and channels, read through mmap; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        head = len(MAGIC) + COUNTS.size + PLACES.size
        with path.open("rb") as fh:
            if os.fstat(fh.fileno()).st_size < head or fh.read(len(MAGIC)) != MAGIC:
                raise ValueError(f"{path} is not a searchapp segment file")
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        self.ndocs, ngrams, nwords, npostings = COUNTS.unpack(
            self._map[len(MAGIC) : len(MAGIC) + COUNTS.size]
        )
        places = PLACES.unpack(self._map[len(MAGIC) + COUNTS.size : head])
        self._places = {name: (places[2 * i], places[2 * i + 1]) for i, name in enumerate(SECTIONS)}
        if any(at + size > len(self._map) for at, size in self._places.values()):
            raise ValueError(f"{path} is truncated or damaged")
        self.codes = self._array("gram_codes", np.uint64, ngrams)
        self.gram_dfs = self._array("gram_dfs", np.uint32, ngrams)
        self.gram_starts = self._array("gram_starts", np.uint64, ngrams)
        nrepeated = self._places["repeat_codes"][1] // 8
        self.repeat_codes = self._array("repeat_codes", np.uint64, nrepeated)
        self.repeat_counts = self._array("repeat_counts", np.uint32, nrepeated)
        self.repeat_starts = self._array("repeat_starts", np.uint64, nrepeated)
        self.repeat_at = np.concatenate(([0], np.cumsum(self.repeat_counts, dtype=np.int64)))
        self.repeat_tfs = self._array("repeat_tfs", np.uint8, int(self.repeat_at[-1]))
        self.vocabulary = self._text("vocabulary").split("\n") if nwords else []
        self.word_dfs = self._array("word_dfs", np.uint32, nwords)
        self.word_starts = self._array("word_starts", np.uint64, nwords)
        self.tf_starts = np.concatenate(([0], np.cumsum(self.word_dfs, dtype=np.int64)))
        self.lengths = self._array("lengths", np.uint32, self.ndocs)
        self.text_offsets = self._array("text_offsets", np.uint64, self.ndocs + 1)
        self.patch_offsets = self._array("patch_offsets", np.uint64, self.ndocs + 1)
        self.nbytes = (self.ndocs + 7) >> 3
        self._texts_at = self._places["texts"][0]
        self._patches_at = self._places["patches"][0]
        self.reports: list[dict[str, str]] = json.loads(self._text("reports"))
        self.report_of = self._array("report_of", np.uint32, self.ndocs)
        self._byte_counts: np.ndarray | None = None
        self.text_bytes = self._array("texts", np.uint8, self._places["texts"][1])
        self.para_id_offsets = self._array("para_id_offsets", np.uint32, self.ndocs + 1)
        self.ordinals = self._array("ordinals", np.uint32, self.ndocs)
        self.headings = self._array("headings", np.uint8, self.ndocs)
        self.piece = self._array("piece", np.uint32, self.ndocs)
        self.pieces = self._array("pieces", np.uint32, self.ndocs)
        self._para_ids_at = self._places["para_ids"][0]
        complete = (
            len(self.vocabulary) == nwords
            and int(self.tf_starts[-1]) == npostings == self._places["word_tfs"][1]
            and int(self.text_offsets[-1]) == self._places["texts"][1]
            and int(self.patch_offsets[-1]) == self._places["patches"][1]
            and (not self.ndocs or int(self.report_of.max()) < len(self.reports))
            and int(self.para_id_offsets[-1]) == self._places["para_ids"][1]
        )
        if not complete:
            raise ValueError(f"{path} is truncated or damaged")

    def release_texts(self) -> None:
        """Unmap the texts' pages from this process (they stay in the kernel's page
        cache, and come back on the next read as a minor fault): an every-hit answer
        reads all of them once, and mapped they would count in the server's RSS for good
        (1 GB: ~1 GB of it)."""
        for name in ("texts", "patches"):
            at, size = self._places[name]
            start = at - at % mmap.PAGESIZE
            if size:
                try:
                    self._map.madvise(mmap.MADV_DONTNEED, start, at + size - start)
                except ValueError:  # closed with its engine meanwhile
                    return

    def _section(self, name: str) -> memoryview | bytes:
        at, size = self._places[name]
        return memoryview(self._map)[at : at + size] if size else b""

    def _array(self, name: str, dtype: type, count: int) -> np.ndarray:
        data = self._section(name)
        little = np.dtype(dtype).newbyteorder("<")
        out = np.frombuffer(data, dtype=little) if len(data) else np.zeros(0, dtype=little)
        if len(out) != count:
            raise ValueError(f"{self.path} is truncated or damaged ({name})")
        return out

    def _text(self, name: str) -> str:
        return bytes(self._section(name)).decode(*ENCODING)

    # --- the exact channel ----------------------------------------------------------------

    def find(self, gram: str) -> int:
        """The gram's index in the term table, or -1."""
        code = gram_code(gram)
        i = int(np.searchsorted(self.codes, np.uint64(code)))
        return i if i < len(self.codes) and int(self.codes[i]) == code else -1

    def df(self, gram: str) -> int:
        i = self.find(gram)
        return int(self.gram_dfs[i]) if i >= 0 else 0

    def bits(self, gram: str) -> int:
        """The paragraphs holding a character or a pair, as a bitset of segment docnums."""
        i = self.find(gram)
        if i < 0:
            return 0
        df = int(self.gram_dfs[i])
        start = int(self.gram_starts[i])
        if as_bitmap(self.ndocs, df):
            return int.from_bytes(self._slice("gram_maps", start, self.nbytes), "little")
        return bits_from_ids(self._list("gram_lists", start, df), self.nbytes)

    def ids(self, gram: str) -> list[int]:
        """The paragraphs holding a character or a pair, as ascending segment docnums."""
        return ids_from_bits(self.bits(gram))

    def _slice(self, name: str, start: int, size: int) -> memoryview | bytes:
        length = self._places[name][1]
        return self._section(name)[start : min(start + size, length)] if length else b""

    def _list(self, name: str, start: int, count: int) -> np.ndarray:
        return decode_list(self._slice(name, start, 5 * count), count)

    def estimate(self, units: str) -> int:
        """An upper bound on the matches of `units`: its rarest gram's frequency."""
        return min((self.df(g) for g in query_grams(units)), default=0)

    def exact(self, units: str) -> int:
        """The paragraphs whose exact-match form contains `units`, as a bitset."""
        grams = query_grams(units)
        if not grams:
            return 0
        if len(grams) == 1 and len(units) <= 2:
            return self.bits(grams[0])
        candidates = -1
        for gram in sorted(grams, key=self.df):
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
            if find(needle, base + int(offsets[doc]), base + int(offsets[doc + 1]) - 1) >= 0
        ]
        return bits_from_ids(kept, self.nbytes)

    # --- texts ----------------------------------------------------------------------------

    def units_bytes(self, doc: int) -> bytes:
        """A paragraph's exact-match form, UTF-8 encoded."""
        start = self._texts_at + int(self.text_offsets[doc])
        end = self._texts_at + int(self.text_offsets[doc + 1]) - 1
        return self._map[start:end]

    def units(self, doc: int) -> str:
        """A paragraph's exact-match form."""
        return self.units_bytes(doc).decode(*ENCODING)

    def occurrences(self, units: str, docs: np.ndarray) -> np.ndarray:
        """Occurrences of an exact-match string in each of these paragraphs, as
        `str.count` counts them (not overlapping), in the UTF-8 encoded form (UTF-8 never
        matches inside a character).

        Where most paragraphs are asked for, one numpy pass over the segment's texts
        finds them all; a string that can overlap itself (哈哈 in 哈哈哈) is counted
        paragraph by paragraph.
        """
        needle = units.encode(*ENCODING)
        if not needle or not len(docs):
            return np.zeros(len(docs), dtype=np.uint32)
        if len(units) == 2 and not overlaps_itself(units):
            return self.gram_occurrences(units, docs)
        if len(docs) * DENSE_SCAN < self.ndocs or overlaps_itself(units):
            counts = (self.units_bytes(doc).count(needle) for doc in docs.tolist())
            return np.fromiter(counts, dtype=np.uint32, count=len(docs))
        return self.scan(needle)[docs]

    def gram_occurrences(self, gram: str, docs: np.ndarray) -> np.ndarray:
        """`occurrences` of a pair of characters that cannot overlap itself, read from
        the pair's lists: once where it is held, more where the repeats say so (a count
        at the cap is counted in the text)."""
        counts = bit_flags(self.bits(gram), self.nbytes)[docs].astype(np.uint32)
        again, tfs = self.repeats(gram)
        at = np.minimum(np.searchsorted(docs, again), len(docs) - 1)  # docs: never empty here
        asked = docs[at] == again
        counts[at[asked]] = tfs[asked]
        needle = gram.encode(*ENCODING)
        for i in at[asked & (tfs >= MAX_TF)].tolist():
            counts[i] = self.units_bytes(int(docs[i])).count(needle)
        return counts

    def repeats(self, gram: str) -> tuple[np.ndarray, np.ndarray]:
        """The paragraphs holding a pair more than once, and how often (capped at MAX_TF)."""
        code = gram_code(gram)
        i = int(np.searchsorted(self.repeat_codes, np.uint64(code)))
        if i == len(self.repeat_codes) or int(self.repeat_codes[i]) != code:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
        count = int(self.repeat_counts[i])
        docs = self._list("repeat_lists", int(self.repeat_starts[i]), count)
        first = int(self.repeat_at[i])
        return docs, self.repeat_tfs[first : first + count]

    def scan(self, needle: bytes) -> np.ndarray:
        """Every paragraph's occurrences of a needle that cannot overlap itself."""
        data, size = self.text_bytes, len(self.text_bytes)
        rarity = self.byte_counts()
        j = min(range(len(needle)), key=lambda i: rarity[needle[i]])
        found = np.flatnonzero(data == needle[j]) - j
        found = found[(found >= 0) & (found <= size - len(needle))]
        for i, byte in enumerate(needle):
            if i != j:
                found = found[data[found + i] == byte]
        docs = np.searchsorted(self.text_offsets, found.astype(np.uint64), side="right") - 1
        return np.bincount(docs, minlength=self.ndocs).astype(np.uint32)

    def byte_counts(self) -> np.ndarray:
        """How often each byte value occurs in (a sample of) the texts, to scan for the
        needle's rarest byte."""
        if self._byte_counts is None:
            self._byte_counts = np.bincount(self.text_bytes[: 1 << 20], minlength=256)
        return self._byte_counts

    def para_id(self, doc: int) -> str:
        start = self._para_ids_at + int(self.para_id_offsets[doc])
        end = self._para_ids_at + int(self.para_id_offsets[doc + 1])
        return self._map[start:end].decode("ascii")

    def paragraph(self, doc: int) -> Paragraph:
        """All the file holds of one paragraph."""
        return Paragraph(
            self.text(doc),
            self.reports[self.report_of[doc]],
            self.para_id(doc),
            int(self.ordinals[doc]),
            bool(self.headings[doc]),
            int(self.piece[doc]),
            int(self.pieces[doc]),
        )

    def text(self, doc: int) -> str:
        """A paragraph as written."""
        return self.text_and_units(doc)[0]

    def text_and_units(self, doc: int) -> tuple[str, str]:
        """A paragraph as written, and its exact-match form."""
        start = self._patches_at + int(self.patch_offsets[doc])
        end = self._patches_at + int(self.patch_offsets[doc + 1])
        units = self.units(doc)
        return apply_patch(units, self._map[start:end].decode(*ENCODING)), units

    def stored(self, docs: np.ndarray) -> Iterator[tuple[str, str, str, int, bool, int]]:
        """(text, exact-match form, para_id, ordinal, heading, piece) of each paragraph, in
        order: what `text_and_units`, `para_id` and the columns give one by one, read with
        one numpy gather a column (an every-hit export reads 100,000s)."""
        data, encoding = self._map, ENCODING
        texts, patches, ids = self._texts_at, self._patches_at, self._para_ids_at
        following = docs + 1
        columns = (
            self.text_offsets[docs].tolist(),
            self.text_offsets[following].tolist(),
            self.patch_offsets[docs].tolist(),
            self.patch_offsets[following].tolist(),
            self.para_id_offsets[docs].tolist(),
            self.para_id_offsets[following].tolist(),
            self.ordinals[docs].tolist(),
            self.headings[docs].tolist(),
            self.piece[docs].tolist(),
        )
        t0s, t1s, p0s, p1s, i0s, i1s, ordinals, headings, pieces = columns
        units = [
            data[texts + a : texts + b - 1].decode(*encoding) for a, b in zip(t0s, t1s, strict=True)
        ]
        patched = [
            data[patches + a : patches + b].decode(*encoding) for a, b in zip(p0s, p1s, strict=True)
        ]
        para_ids = [data[ids + a : ids + b].decode("ascii") for a, b in zip(i0s, i1s, strict=True)]
        texts_written = apply_patches(units, patched)
        for i, heading in enumerate(headings):
            yield texts_written[i], units[i], para_ids[i], ordinals[i], bool(heading), pieces[i]

    # --- the word channel -----------------------------------------------------------------

    def word_index(self, word: str) -> int:
        i = bisect_left(self.vocabulary, word)
        return i if i < len(self.vocabulary) and self.vocabulary[i] == word else -1

    def word_postings(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """The paragraphs holding a word (ascending segment docnums) and how often."""
        i = self.word_index(word)
        if i < 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8)
        df = int(self.word_dfs[i])
        ids = self._list("word_lists", int(self.word_starts[i]), df)
        tf_at = int(self.tf_starts[i])
        tfs = np.frombuffer(self._slice("word_tfs", tf_at, df), dtype=np.uint8)
        return ids, tfs


def open_segment(folder: str | Path, segment_id: str) -> SegmentFile:
    """A segment's file; IndexIncompatible when it is missing or damaged."""
    path = Path(folder) / file_name(segment_id)
    try:
        return SegmentFile(path)
    except FileNotFoundError as exc:
        raise damaged(path, "缺失") from exc
    except (OSError, ValueError) as exc:
        raise damaged(path, "已损坏") from exc


def damaged(path: Path, what: str) -> IndexIncompatible:
    return IndexIncompatible(
        f"索引文件 {path.name} {what}（{path.parent}）",
        hint=f"请重建索引：searchapp index --rebuild --index {path.parent.parent}",
    )
