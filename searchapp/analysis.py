"""Normalisation and tokenisation: the jieba word channel and the exact character channel.

Two channels are indexed for every paragraph:

* words: jieba words of the normalised text, numbered in token order, with exact
  character offsets. Ranking (BM25F) and "all the words of a term" matching use it.
* exact: every character and every pair of adjacent characters of the normalised
  text with white space removed (`exact_key`), with the text itself, in files beside
  the Whoosh segments (embedded/sidecar.py). Exact matching is a substring test that never
  depends on how jieba cut the text.

Normalisation folds traditional characters to simplified ones (OpenCC's character
table), full-width forms, Latin case, quote styles and years in Chinese numerals
(二〇二二年 = 2022年), for matching only.
It maps one character to one character, so offsets found in normalised text are
offsets in the original text too, and snippets show the document's own characters.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import multiprocessing
import multiprocessing.util
import os
import re
import signal
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import jieba
import numpy as np
import rjieba
from jieba import finalseg

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)  # jieba reports its dictionary loading at INFO

# Bump when normalisation, tokenisation or the index layout changes: indexes built
# otherwise are refused (5: the exact channel moved from a Whoosh field to grams files;
# 6: folding follows chains in OpenCC's table, so it is idempotent; 7: the Whoosh
# tokenizer moved to searchapp.embedded.schema, which changes the pickled schema; 8:
# facet and sort fields are columns only, no postings; 9: texts and both channels in
# one file per segment, exact BM25 lengths; 10: routes through the dictionary found
# by jieba-rs; 11: para_id, ordinal and heading in the segment files, not Whoosh;
# 12: the paragraphs holding a pair more than once, in the segment files; 13: each
# paragraph's place among the pieces of its author paragraph; 14: an undated report's
# year is the one its headings plan for; 15: the report's `ocr` mark, and scanned PDFs
# that were skipped are read).
ANALYSIS_VERSION = 15
SEGMENTER = f"jieba {jieba.__version__} HMM, routes by rjieba {metadata.version('rjieba')}"


def traditional_to_simplified() -> dict[int, str]:
    """One-to-one traditional → simplified character pairs from OpenCC's character table.

    A character whose candidates include itself (乾 → 干 乾, 於 → 于 於) is left
    alone: folding it would merge words that differ in simplified text too.
    """
    table: dict[int, str] = {}
    data = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    for line in data.splitlines():
        source, _, targets = line.partition("\t")
        candidates = targets.split()
        if len(source) == 1 and candidates and source not in candidates and len(candidates[0]) == 1:
            table[ord(source)] = candidates[0]
    return table


def _build_fold_table() -> dict[int, str]:
    table: dict[int, str] = traditional_to_simplified()
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII → ASCII
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "  # ideographic space
    for ch in "“”„‟〝〞〟「」『』＂":
        table[ord(ch)] = '"'
    for ch in "‘’‚‛′＇":
        table[ord(ch)] = "'"
    for ch in "—―‒–":  # dashes of every width
        table[ord(ch)] = "-"
    table[ord("・")] = "·"
    table[ord("･")] = "·"
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    for code in range(0xFF21, 0xFF3B):  # full-width A-Z → a-z
        table[code] = chr(code - 0xFEE0 + 32)
    for code, target in table.items():  # follow chains (薴 → 苧 → 苎): folding is idempotent
        seen = {code}
        while ord(target) in table and ord(target) not in seen:
            seen.add(ord(target))
            target = table[ord(target)]
        table[code] = target
    return table


FOLD_TABLE = _build_fold_table()
SPACE = re.compile(r"\s")


def _build_fold_codes() -> np.ndarray:
    """FOLD_TABLE as an array indexed by code point (each target is one character)."""
    codes = np.arange(0x110000, dtype=np.uint32)
    for code, target in FOLD_TABLE.items():
        codes[code] = ord(target)
    return codes


FOLD_CODES = _build_fold_codes()  # str.translate with a dict costs ~250 ns a character


CHINESE_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
CHINESE_YEAR = re.compile(r"[〇○零一二三四五六七八九]{4}(?=\s*年)")


def normalize(text: str) -> str:
    """Fold a text for matching; the result has exactly the input's length.

    Years written in Chinese numerals fold to digits (二〇二二年 = 2022年), one
    character for one; other numerals stay as they are (一是, 一把手 are not 1).
    """
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    folded = FOLD_CODES[codes].tobytes().decode("utf-32-le", "surrogatepass")
    if "年" in folded:
        folded = CHINESE_YEAR.sub(lambda m: m.group().translate(CHINESE_DIGITS), folded)
    return folded


def exact_units(text: str) -> tuple[str, Sequence[int]]:
    """The normalised text without white space, and each kept character's original offset."""
    folded = normalize(text)
    if not SPACE.search(folded):  # most paragraphs: every character is kept
        return folded, range(len(folded))
    offsets = [i for i, ch in enumerate(folded) if not ch.isspace()]
    return "".join(folded[i] for i in offsets), offsets


def exact_key(text: str) -> str:
    """The form in which exact matching compares texts (normalised, white space removed)."""
    return without_space(normalize(text))


def without_space(text: str) -> str:
    """The text with every white-space character removed (str.split's white space is
    re's \\s)."""
    return "".join(text.split())


# --- jieba ------------------------------------------------------------------------------

WORD = re.compile(r"[\w\u3400-\u9fff\uf900-\ufaff]", re.UNICODE)
_segmenters: dict[str, Segmenter] = {}
_segmenter_lock = threading.Lock()


def dictionary_hash(words: Iterable[str]) -> str:
    """A short hash that identifies a domain dictionary."""
    return hashlib.sha1("\n".join(sorted(set(words))).encode("utf-8")).hexdigest()[:16]


def get_segmenter(
    words: tuple[str, ...], key: str | None = None, base: Dictionary | None = None
) -> Segmenter:
    """jieba with the domain words added, one per dictionary per process (`key`: the
    words' `dictionary_hash`, when the caller knows it; `base`: one from
    `load_dictionary` for the segmenter to take over, when it is not made yet)."""
    key = key or dictionary_hash(words)
    with _segmenter_lock:
        segmenter = _segmenters.get(key)
        if segmenter is None:
            segmenter = _segmenters[key] = Segmenter(words, base)
    return segmenter


def segmenter_loaded() -> bool:
    """Whether this process has made a segmenter (jieba's dictionary is in memory)."""
    return bool(_segmenters)


@dataclass
class Dictionary:
    """jieba's dictionary loaded twice: in a jieba tokenizer, and in jieba-rs (the
    router) with the very same words, frequencies and total."""

    jieba: jieba.Tokenizer
    router: rjieba.Jieba

    def add_words(self, words: Iterable[str]) -> None:
        """Add domain words as jieba adds them (its own frequency), in both."""
        added = [normalize(word) for word in words]
        for word in added:
            self.jieba.add_word(word)
        for word in dict.fromkeys(added):
            if self.jieba.FREQ.get(word):
                self.router.add_word(word, self.jieba.FREQ[word], None)  # replaces its own
        self.balance()

    def balance(self) -> None:
        """jieba's total also counts a word's frequency each time it is listed or added
        again; a word no block can hold makes up the difference in jieba-rs's total."""
        missing = self.jieba.total - sum(self.jieba.FREQ.values())
        if missing > 0:
            self.router.add_word(UNSEEN_WORD, missing, None)


def load_dictionary() -> Dictionary:
    """jieba's own dictionary in a tokenizer and in jieba-rs (~2.5 s), for `get_segmenter`:
    a build loads it while its files are read, before it knows the domain words."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    router = rjieba.Jieba.empty()
    for word, freq in tokenizer.FREQ.items():
        if freq:
            router.add_word(word, freq, None)
    dictionary = Dictionary(tokenizer, router)
    dictionary.balance()
    return dictionary


UNSEEN_WORD = "\x00"  # never inside a block of Hanzi
HMM_MEMO_SIZE = 1 << 16  # runs of single characters remembered per segmenter


def hmm_cut(run: str) -> tuple[str, ...]:
    """jieba's HMM cut of a run of single characters (jieba.finalseg)."""
    return tuple(finalseg.cut(run))


ASCII_ALNUM = re.compile(r"[a-zA-Z0-9]+")


class Segmenter:
    """jieba's `cut(block, HMM=True)` with domain words, its dynamic programming run by
    jieba-rs.

    jieba cuts a block (a run of Hanzi, letters, digits and +#&._%-) in two steps: the
    most probable route through its dictionary (a DAG of the dictionary words in the
    block), then jieba's HMM for each run of single characters that is not itself a
    word. The first step is handed to jieba-rs (`rjieba`, the same algorithm in Rust,
    ~20x faster) fed the very same words, frequencies and total; the second stays
    jieba's own. jieba-rs reports single letters and digits on the route joined
    (2023), which is undone unless a dictionary word could be meant, where jieba cuts
    the block itself. Pieces between blocks (punctuation, space) go to jieba too.
    tests/test_segmenter.py checks the tokens against jieba's on tie-prone random
    text, mixed text and every block of the corpora.
    """

    def __init__(self, words: tuple[str, ...], base: Dictionary | None = None) -> None:
        dictionary = base or load_dictionary()  # the words are added to it
        dictionary.add_words(words)
        self.jieba = dictionary.jieba
        self.router = dictionary.router
        # jieba's HMM is a pure function of the run (no word is force-split here), and
        # the same runs come back in many blocks: ~45% of them in the benchmark corpus
        self.hmm = functools.lru_cache(maxsize=HMM_MEMO_SIZE)(hmm_cut)

    def cut(self, block: str) -> list[str]:
        """jieba's tokens of one block of `re_han_default` (or one piece between two)."""
        if not HAN_BLOCK.fullmatch(block):
            return list(self.jieba.cut(block, HMM=True))
        tokens: list[str] = []
        run = ""  # single characters on the route, for the HMM
        for word in self.router.cut(block, hmm=False):
            if len(word) > 1 and not ASCII_ALNUM.fullmatch(word):
                if run:
                    self.add_run(run, tokens)
                    run = ""
                tokens.append(word)
            elif len(word) == 1 or not self.jieba.FREQ.get(word):
                run += word  # jieba-rs joins single letters and digits on the route
            else:  # a dictionary word of letters and digits, or single ones joined?
                return list(self.jieba.cut(block, HMM=True))
        if run:
            self.add_run(run, tokens)
        return tokens

    def add_run(self, run: str, tokens: list[str]) -> None:
        """jieba's handling of a run of single characters (jieba.Tokenizer.__cut_DAG)."""
        if len(run) == 1:
            tokens.append(run)
        elif not self.jieba.FREQ.get(run):
            tokens.extend(self.hmm(run))
        else:
            tokens.extend(run)


_watched_pid: int | None = None
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class _Forker:
    """The pid of the process whose forked workers must die with it (weak-referenceable,
    as multiprocessing's after-fork registry requires)."""

    pid = os.getpid()


_FORKER = _Forker()


def die_with_parent() -> None:
    """In a worker forked by multiprocessing: be killed by the kernel when the process
    that forked it dies, from the first instant (before any job arrives)."""
    parent = _FORKER.pid
    _FORKER.pid = os.getpid()  # this worker's own workers die with it
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watcher thread of exit_with_parent
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


multiprocessing.util.register_after_fork(_FORKER, lambda _: die_with_parent())


def exit_with_parent() -> None:
    """In a worker process (Whoosh's multiprocessing writer), exit when the parent dies.

    A killed indexer must not leave orphaned workers behind, writing into a folder
    that the next run will clean up.
    """
    global _watched_pid
    if _watched_pid == os.getpid():
        return
    _watched_pid = os.getpid()
    if multiprocessing.parent_process() is None:
        return
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def iter_words(text: str, words: tuple[str, ...]) -> Iterator[tuple[str, int, int]]:
    """jieba words of the normalised text as (word, start, end); punctuation and space dropped."""
    exit_with_parent()
    folded = normalize(text)
    start = 0
    for piece in cut(folded, words):
        end = start + len(piece)
        if is_word(piece):
            yield piece.strip(), start, end
        start = end


HAN_BLOCK = jieba.re_han_default  # jieba cuts each run of these characters on its own
CUT_MEMO_SIZE = 200_000  # blocks remembered per dictionary
Cut = tuple[tuple[str, ...], tuple[str, ...]]  # a block's jieba tokens, and its words
_cut_memos: dict[str, dict[str, Cut]] = {}
_last_memo: tuple[tuple[str, ...] | None, str, dict[str, Cut]] = (None, "", {})


def cut_blocks(folded: str, words: tuple[str, ...]) -> list[Cut]:
    """jieba's `cut(folded, HMM=True)` block by block, remembering each block's cut.

    jieba splits a text into runs of Hanzi/letters/digits (`re_han_default`) and the
    pieces between them, and cuts every piece on its own, so a piece's tokens do not
    depend on the text around it. Policy reports repeat whole clauses
    (坚持以习近平新时代中国特色社会主义思想为指导) and punctuation, and a remembered
    piece costs a dict lookup instead of jieba's dynamic programming and HMM.
    """
    key, memo = cut_memo(words)
    cuts = []
    for block in HAN_BLOCK.split(folded):
        if block:
            found = memo.get(block)
            cuts.append(found if found is not None else remember_cut(block, words, key, memo))
    return cuts


def cut_memo(words: tuple[str, ...]) -> tuple[str, dict[str, Cut]]:
    """A dictionary's hash and its remembered cuts; the dictionary asked for last is
    found without hashing its words again (it is asked for once a paragraph)."""
    global _last_memo
    last = _last_memo
    if last[0] is not words:
        key = dictionary_hash(words)
        last = _last_memo = (words, key, _cut_memos.setdefault(key, {}))
    return last[1], last[2]


def remember_cut(block: str, words: tuple[str, ...], key: str, memo: dict[str, Cut]) -> Cut:
    tokens = tuple(get_segmenter(words, key).cut(block))
    found = (tokens, tuple(w for w in map(word_form, tokens) if w))
    if len(memo) >= CUT_MEMO_SIZE:
        memo.clear()
    memo[block] = found
    return found


@functools.lru_cache(maxsize=1 << 16)
def word_form(token: str) -> str:
    """A jieba token as the word channel holds it, "" for none (the same tokens come
    back in every text: remembered, this is ~2.5x faster than testing each again)."""
    return token.strip() if is_word(token) else ""


def is_word(token: str) -> bool:
    """Whether a jieba token belongs to the word channel (punctuation and space do not)."""
    return bool(WORD.search(token)) and not token.isspace()


def cut(folded: str, words: tuple[str, ...]) -> Iterator[str]:
    """jieba's `cut(folded, HMM=True)`, token for token (see `cut_blocks`)."""
    for tokens, _ in cut_blocks(folded, words):
        yield from tokens


def folded_words(folded: str, words: tuple[str, ...]) -> list[str]:
    """The word channel's tokens of an already normalised text (`segment` without folding)."""
    return [w for _, block_words in cut_blocks(folded, words) for w in block_words]


def segment(text: str, words: tuple[str, ...]) -> list[str]:
    """The word channel's tokens of a text, in order."""
    return [w for w, _, _ in iter_words(text, words)]


def words_among(text: str, wanted: set[str], words: tuple[str, ...]) -> set[str]:
    """Which of the `wanted` words (word-channel tokens) the text's word channel holds,
    `set(segment(text, words)) & wanted` with jieba run only on the blocks that contain
    one of them: jieba cuts every block on its own (`cut_blocks`), so a token lies
    within one block."""
    found: set[str] = set()
    key, memo = cut_memo(words)
    for block in HAN_BLOCK.split(normalize(text)):
        if block and any(w in block for w in wanted):
            cut_block = memo.get(block) or remember_cut(block, words, key, memo)
            found.update(part for w in cut_block[1] for part in w.split() if part in wanted)
    return found


# --- the domain dictionary ------------------------------------------------------------------

QUOTED = re.compile(r"[“\"「『]([^”\"」』\n]{2,60})[”\"」』]")
SLOGAN = re.compile(r"^[\u4e00-\u9fff]{3,6}$")
NUMERAL_START = re.compile(r"^[一二三四五六七八九十两百千万]")


def shipped_terms() -> list[str]:
    """The policy terms shipped with searchapp (searchapp/data/policy_terms.txt)."""
    text = resources.files("searchapp").joinpath("data/policy_terms.txt").read_text("utf-8")
    return read_term_lines(text)


def read_term_lines(text: str) -> list[str]:
    """Terms from a word list: one a line, `#` comments, anything after white space ignored."""
    terms = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            terms.append(line.split()[0])
    return terms


def read_user_dict(path: Path | None) -> list[str]:
    """A user's word list (one term a line), or nothing when there is none."""
    if path is None or not path.exists():
        return []
    return read_term_lines(path.read_text(encoding="utf-8-sig"))


def mine_slogans(texts: Iterable[str]) -> list[str]:
    """Quoted policy slogans of a corpus: 3-6 Hanzi pieces of quotations.

    A piece counts when it opens with a numeral (三清两建, 两个确立, 一把手招商) or is
    quoted at least twice; 、-separated lists inside one quotation count piece by piece.
    """
    counts: dict[str, int] = {}
    for text in texts:
        for quote in QUOTED.findall(text):
            for piece in re.split(r"[、，,；;]", quote):
                piece = piece.strip()
                if SLOGAN.match(piece):
                    counts[piece] = counts.get(piece, 0) + 1
    return sorted(t for t, n in counts.items() if NUMERAL_START.match(t) or n >= 2)
