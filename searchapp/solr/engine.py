"""The Solr engine: the `Engine` interface answered by a SolrCloud collection.

The collection holds pre-analysed paragraphs (tokens.py) and a meta document with the
build report and the jieba dictionary, which `segment` uses, so a query is cut as the
paragraphs were. The plan's rules (plan.py) map onto Solr as follows (queries.py):

* matching: verbatim = phrase over character pairs in `grams` (single characters: `chars`),
  an unquoted term also by all its words in `words`; groups AND-ed, OR within; exclusions
  NOT; filters as `fq`. Exactly the embedded engine's sets.
* ranking: Lucene's own scoring in the same request as the total and the facets
  (queries.py `scored`): EXACT_BOOST per positive term held verbatim (the tier), plus Solr's
  BM25 on `words`, collection-wide through the statsCache; ties in document order
  (`sort_key`). The rule — tier, then word relevance, then document order — is plan.py's,
  but the BM25 is Lucene's (idf ln(1 + (N − df + 0.5)/(df + 0.5)), lengths in one lossy
  byte, N and df over every document with words, pieces and cut paragraphs' block documents
  alike), so within a tier the order can differ from the embedded engine's.
* facets: the columns (`fields.COLUMNS`) are the report's, so the hits are counted by report
  (searchapp.ReportHits on `/counted`, in the page's request) and summed into every column
  from the table of reports (`ReportColumns`); where the nodes lack that plugin, the JSON
  Facet API, a terms facet a column. Counts desc, then value; the headings as query facets;
  every hit: `cursorMark` over the same sort (the key last).
* sentence and document scopes are applied in Python over every paragraph-scope hit.

Completeness: every search is sent with `shards.tolerant=true`. When a shard has no live
replica, `match` answers with a notice (`SolrMatches.notices`) and every other method
raises `IncompleteResults` — a short count is never presented as complete.

Refs are the paragraphs' keys ("<doc_id>/<para_id>"). In paragraph scope a cut paragraph
matches and ranks as its block document (tokens.block_documents); the hit it gives is the
piece that represents it (plan.py's rule, `representatives`), found for the hits asked for.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import fields as F
from ..analysis import ANALYSIS_VERSION, SEGMENTER, exact_key, words_among
from ..cluster import collection_state, redact_url
from ..errors import IndexIncompatible, IndexMissing, NotFound
from ..headings import recurring_headings
from ..plan import QueryPlan, in_one_sentence, representative
from ..results import Matches, Record, TownTable, TownUsage, Trend, YearCount
from .client import PARTIAL_NOTICE, SolrClient, check_complete, is_partial
from .queries import PARAGRAPHS, Request, function_sum
from .tokens import BLOCK_SUFFIX, META_JSON, META_KEY, file_reports, word_tokens

log = logging.getLogger(__name__)

RECORD_FIELDS = ",".join(
    [
        F.KEY, F.DOC_ID, F.PARA_ID, F.TEXT, F.TITLE, F.TOWN, F.PLACE, F.YEAR, F.DOC_TYPE,
        F.DATE, F.SOURCE, F.ORDINAL, F.SECTION, F.HEADING, F.ISSUER, F.LEVEL, F.PROVINCE,
        F.CITY, F.COUNTY, F.BLOCK, F.PIECE, F.PIECES, F.OCR,
    ]
)  # fmt: skip
KEY_BATCH = 500  # records fetched by key per request
RARE_GRAMS = 12  # fuzzy candidates: the query's rarest pairs that the collection holds
CURSOR_PAGE = 25_000  # every hit in ranking order: hits read a page at a time
TEXT_PAGE = 5_000  # texts read a page at a time to count occurrences
BEST_BATCH = 500  # hits read a page at a time while looking for the towns' best
META_TTL = 30.0  # seconds before the meta document (and dictionary) is read again


@dataclass
class SolrMatches(Matches):
    """Matches with the notices of an incomplete answer (a shard without a live replica)."""

    notices: list[str] = field(default_factory=list)


@dataclass
class Cell:
    """A report's hits counted (paragraph scope)."""

    paragraphs: int
    occurrences: int
    best: float = 0.0  # the best score among them (when asked for)


@dataclass
class Row:
    """One hit as the every-hit paths see it: key, score and the fields asked for."""

    key: str
    score: float
    fields: dict[str, Any]


class SolrEngine:
    """A SolrCloud collection built by `index_solr`, ready to search; thread-safe."""

    backend = "solr"

    def __init__(self, solr_url: str, collection: str, *, timeout: float = 30.0) -> None:
        self.solr_url = solr_url
        self.collection = collection
        self.client = SolrClient(solr_url, collection, timeout)
        self.client.connect()
        self._lock = threading.Lock()
        self._loaded = 0.0
        self._meta: dict[str, Any] = {}
        self.words: tuple[str, ...] = ()
        self._vocabulary: tuple[str, list[str]] | None = None  # (build id, words)
        self._headings: tuple[str, list[str]] | None = None  # (build id, labels)
        self._reports: tuple[str, dict[str, dict[str, Any]]] | None = None  # (build id, …)
        self._files: tuple[str, list[dict[str, Any]]] | None = None  # (build id, reports)
        self._absent: tuple[str, set[str]] = ("", set())  # (build id, reports not found)
        self._columns: ReportColumns | None = None
        self._counted: dict[str, bool] = {}  # build id → the collection has /counted
        self.load_meta()

    # --- lifecycle ------------------------------------------------------------------------

    def load_meta(self) -> None:
        """Read the meta document: the build report and the dictionary `segment` uses."""
        found = self.client.get([("id", META_KEY), ("fl", META_JSON)]).get("doc")
        if not found:
            raise IndexMissing(
                f"Solr 集合 {self.collection} 中还没有 searchapp 的索引",
                hint=f"先建立索引：searchapp index --backend solr --collection {self.collection}",
            )
        data = json.loads(found[META_JSON])
        meta = data["meta"]
        if meta.get("analysis_version") != ANALYSIS_VERSION or meta.get("segmenter") != SEGMENTER:
            raise IndexIncompatible(
                f"Solr 集合 {self.collection} 由另一版本的 searchapp 建立"
                f"（分析版本 {meta.get('analysis_version')}，{meta.get('segmenter')}）",
                hint="请重建：searchapp index --backend solr --rebuild",
            )
        with self._lock:
            self._meta = meta
            self.words = tuple(data["words"])
            self._loaded = time.monotonic()

    @property
    def meta(self) -> dict[str, Any]:
        """The collection's build report (counts, built_at, corpus_dir)."""
        if time.monotonic() - self._loaded > META_TTL:
            self.load_meta()
        return self._meta

    def build_id(self) -> str:
        """What tells one build (or incremental run) of the collection from the next: what
        the caches of data that changes only with the index are keyed on."""
        meta = self.meta
        return str(meta.get("build_id") or meta.get("built_at", ""))

    def file_reports(self) -> list[dict[str, Any]]:
        """Each source file's report, read once a build (tokens.file_document)."""
        built = self.build_id()
        cached = self._files
        if cached is None or cached[0] != built:
            cached = self._files = (built, file_reports(self.client, self.meta))
        return list(cached[1])

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""

    def release_pages(self) -> None:
        """Nothing mapped here: the texts live in Solr."""

    def segment(self, text: str) -> list[str]:
        """Words of a text as the collection's word channel cuts them."""
        return word_tokens(text, self.words)

    def words_among(self, text: str, wanted: set[str]) -> set[str]:
        """The wanted words that a text's word channel holds."""
        return words_among(text, wanted, self.words)

    def status(self) -> dict[str, Any]:
        """Backend, collection, paragraphs, and each shard's replicas and their states."""
        found = self.client.select([("q", PARAGRAPHS), ("rows", "0")])
        check_complete(found)
        status = self.client.admin(
            "/admin/collections", [("action", "CLUSTERSTATUS"), ("collection", self.collection)]
        )
        state = collection_state(status, self.collection)
        shards = state["shards"]
        live = set(status["cluster"].get("live_nodes", []))
        return {
            "backend": self.backend,
            "collection": self.collection,
            "build": status["cluster"].get("aliases", {}).get(self.collection, self.collection),
            "solr_url": redact_url(self.solr_url),
            "paragraphs": found["response"]["numFound"],
            "built_at": self.meta.get("built_at"),
            "live_nodes": sorted(live),
            "shards": {
                name: [
                    {"node": r["node_name"], "state": r["state"], "live": r["node_name"] in live}
                    for r in shard["replicas"].values()
                ]
                for name, shard in sorted(shards.items())
            },
        }

    # --- plumbing -------------------------------------------------------------------------

    def ranked_request(
        self, plan: QueryPlan, any_group: bool = False
    ) -> tuple[Request, list[tuple[str, str]]]:
        """The parameters of the plan's ranked hits (paragraph scope): q, fq, sort, fl."""
        request = Request()
        q = request.scored(plan, any_group)
        fqs = request.filters(plan, whole=plan.scope == "paragraph")
        params = [("q", q), *(("fq", f) for f in fqs)]
        params += [("sort", request.sort(plan)), ("fl", f"{F.KEY},score")]
        return request, params

    def facet_spec(self, request: Request, columns: bool = True) -> str:
        """Terms facets over the columns (unless `columns` is False: counted by report), and a
        query facet per recurring heading."""
        spec: dict[str, Any] = {
            name: {"type": "terms", "field": name, "limit": -1, "mincount": 1, "sort": "count desc"}
            for name in (F.COLUMNS if columns else ())
        }
        for i, label in enumerate(self.headings()):
            units = exact_key(label)
            query = request.exact(units, "section_grams", "section_chars")
            spec[f"heading{i}"] = {"type": "query", "q": query}
        return json.dumps(spec)

    def headings(self) -> list[str]:
        """headings.py's `section` facet values: reports per distinct heading (once per build)."""
        built = self.build_id()
        cached = self._headings
        if cached is not None and cached[0] == built:
            return cached[1]
        facet = {
            "h": {
                "type": "terms",
                "field": F.SECTION,
                "limit": -1,
                "facet": {"r": {"type": "terms", "field": F.DOC_ID, "limit": -1}},
            }
        }
        found = self.client.select(
            [("q", PARAGRAPHS), ("rows", "0"), ("json.facet", json.dumps(facet))]
        )
        check_complete(found)
        buckets = found.get("facets", {}).get("h", {}).get("buckets", [])
        labels = recurring_headings(
            (str(b["val"]), len(b.get("r", {}).get("buckets", []))) for b in buckets
        )
        self._headings = (built, labels)
        return labels

    def section_counts(self, facets: dict[str, Any]) -> dict[str, int]:
        """The heading query facets' counts, as the embedded engine orders them."""
        counts = [(h, int(facets.get(f"heading{i}", {}).get("count", 0))) for i, h in
                  enumerate(self.headings())]  # fmt: skip
        return dict(sorted(((h, n) for h, n in counts if n), key=lambda kv: -kv[1]))

    def stream(self, params: list[tuple[str, str]], batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every document of a sorted request (the sort ends with the key), via cursorMark."""
        return self.client.stream(params, batch)

    # --- search ---------------------------------------------------------------------------

    def match(self, plan: QueryPlan, start: int = 0, stop: int | None = 10) -> Matches:
        """The plan's total, facet counts over every hit, and its ranked hits [start:stop]."""
        if plan.scope != "paragraph":
            rows = self.scoped_rows(plan, [*F.COLUMNS, F.SECTION])
            counts: dict[str, Counter[str]] = {name: Counter() for name in F.COLUMNS}
            for row in rows:
                for name in F.COLUMNS:
                    counts[name][str(row.fields.get(name, ""))] += 1
            facets = {name: ordered(c) for name, c in counts.items()}
            paths = [exact_key("".join(row.fields.get(F.SECTION) or ())) for row in rows]
            sections = [(h, sum(exact_key(h) in p for p in paths)) for h in self.headings()]
            facets[F.SECTION] = dict(
                sorted(((h, n) for h, n in sections if n), key=lambda kv: -kv[1])
            )
            ranked = [(r.key, r.score) for r in rows[start:stop]]
            return SolrMatches(len(rows), facets, ranked)
        request, params = self.ranked_request(plan)
        rows_wanted = 0 if stop is None or stop <= start else stop - start
        # one request: the page with its records, the total and the facets
        params = [(k, f"{v},{RECORD_FIELDS}" if k == "fl" else v) for k, v in params]
        params += [("start", str(start)), ("rows", str(rows_wanted))]
        found, facets = self.page_with_facets(request, params)
        total = int(found["response"]["numFound"])
        notices = [PARTIAL_NOTICE] if is_partial(found) else []
        facets[F.SECTION] = self.section_counts(found.get("facets", {}))
        docs = found["response"]["docs"]
        ranked = [(d[F.KEY], score_of(d)) for d in docs]
        if stop is None and total:
            ranked = [(r.key, r.score) for r in self.rows(plan)][start:]
        known = {d[F.KEY]: Record.from_fields(d) for d in docs if int(d.get(F.PIECES) or 1) == 1}
        ranked, chosen = self.chosen_pieces(plan, ranked, RECORD_FIELDS)
        known.update({key: with_pieces(piece, pieces) for key, (piece, pieces) in chosen.items()})
        return SolrMatches(total, facets, ranked, notices, records=known)

    def page_with_facets(
        self, request: Request, params: list[tuple[str, str]]
    ) -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
        """The answer to a page request with the column facets: from the hits counted by
        report where the collection has `/counted` (every column summed from the reports'
        table), else one terms facet a column."""
        found = self.select_counted(
            request.with_params([*params, ("reportHits", "true"),
             ("json.facet", self.facet_spec(request, columns=False))])
        )  # fmt: skip
        if found is not None:
            hits = found.get("reportHits") or {}
            return found, self.report_facets(hits.get("values", []), hits.get("counts", []))
        found = self.client.select(
            request.with_params([*params, ("json.facet", self.facet_spec(request))])
        )
        return found, parse_facets(found.get("facets", {}))

    def select_counted(self, params: list[tuple[str, str]]) -> dict[str, Any] | None:
        """The answer of the `/counted` handler (searchapp.ReportHits counts the hits by
        report), or None where the collection has no such handler (its nodes lack the
        plugin: remembered for the build)."""
        built = self.build_id()
        if not self._counted.get(built, True):
            return None
        try:
            found = self.client.select(params, handler="/counted")
        except IndexMissing:  # Solr's 404: no such handler (or no such collection)
            log.info("collection %s has no /counted handler: facets by column", self.collection)
            self._counted[built] = False
            return None
        self._counted[built] = True
        return found

    def report_facets(self, reports: list[str], counts: list[int]) -> dict[str, dict[str, int]]:
        """The column facets of hits counted by report: each report's count to its values."""
        table = self.report_columns()
        at = [table.index.get(r, -1) for r in reports]
        if -1 in at:  # a report indexed since the table was read
            table = self.report_columns([r for r, i in zip(reports, at, strict=True) if i < 0])
            at = [table.index.get(r, -1) for r in reports]
        rows = np.array(at, np.int64)
        weights = np.array(counts, np.int64)[rows >= 0]
        rows = rows[rows >= 0]
        return {name: column.counted(rows, weights) for name, column in table.columns.items()}

    def report_columns(self, wanted: Sequence[str] = ()) -> ReportColumns:
        """The reports' column values as codes (see `reports`), made once a build."""
        reports = self.reports(wanted)
        cached = self._columns
        if cached is None or cached.reports is not reports:
            cached = self._columns = ReportColumns.make(reports)
        return cached

    def iter_matches(self, plan: QueryPlan, batch: int = 1000) -> Iterator[tuple[str, float]]:
        """Every hit as (key, score), best first, fetched `batch` at a time."""
        if plan.scope != "paragraph":
            for row in self.scoped_rows(plan, ()):
                yield row.key, row.score
            return
        page: list[tuple[str, float]] = []
        size = max(batch, CURSOR_PAGE)  # each page ranks every hit; its cut ones in one go
        for row in self.rows(plan, (), size):
            page.append((row.key, row.score))
            if len(page) >= size:
                yield from self.representatives(plan, page)
                page = []
        yield from self.representatives(plan, page)

    def representatives(
        self, plan: QueryPlan, ranked: list[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """Ranked refs with each cut paragraph's block document replaced by the piece that
        represents it: the one holding the most positive terms (an occurrence across a cut
        counting for the piece it starts in), then the most scoring words, then the
        earliest (plan.py)."""
        return self.chosen_pieces(plan, ranked, F.KEY)[0]  # no records: the fewest fields

    def chosen_pieces(
        self, plan: QueryPlan, ranked: list[tuple[str, float]], fl: str
    ) -> tuple[list[tuple[str, float]], dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]]:
        """`representatives`, with each chosen piece and all the pieces of its paragraph
        (read on the way, with the fields `fl` and the key, block and text), by key."""
        blocks = [key[: -len(BLOCK_SUFFIX)] for key, _ in ranked if key.endswith(BLOCK_SUFFIX)]
        if not blocks:
            return ranked, {}
        # the words the rule may ask about, counted in each piece by Solr (its `words` are
        # the word channel's tokens): no jieba here, for every cut hit of an export
        asked = sorted({w for t in plan.positive if not t.quoted for w in t.words}
                       | set(plan.scoring_words))  # fmt: skip
        known = set(asked)
        fl = f"{fl},{F.KEY},{F.BLOCK},{F.TEXT}"
        counted: dict[str, set[str]] = {}

        def held_words(text: str, wanted: set[str]) -> set[str]:
            held = counted.get(text)
            if held is None or not wanted <= known:
                return self.words_among(text, wanted)
            return held & wanted

        chosen, found = {}, {}
        for block, pieces in self.pieces_of(blocks, fl, asked).items():
            for piece in pieces:
                counted[piece[F.TEXT]] = {w for i, w in enumerate(asked) if piece.pop(f"tf{i}")}
            piece = pieces[representative(plan, pieces, held_words)]
            chosen[block + BLOCK_SUFFIX] = piece[F.KEY]
            found[piece[F.KEY]] = (piece, pieces)
        return [(chosen.get(key, key), score) for key, score in ranked], found

    def pieces_of(
        self, blocks: Sequence[str], fl: str, words: Sequence[str] = ()
    ) -> dict[str, list[dict[str, Any]]]:
        """The pieces of these cut paragraphs, in order, by block name; with the term
        frequency in `words` of each of `words` as the field tf0, tf1, …"""
        out: dict[str, list[dict[str, Any]]] = {}
        blocks = list(dict.fromkeys(blocks))
        for i in range(0, len(blocks), KEY_BATCH):
            request = Request()
            q = f"{{!terms f={F.BLOCK} v={request.ref(','.join(blocks[i : i + KEY_BATCH]))}}}"
            tfs = [f"tf{j}:termfreq({F.WORDS},{request.ref(w)})" for j, w in enumerate(words)]
            params = request.with_params([("q", q), ("fq", PARAGRAPHS)])
            params += [("sort", f"{F.KEY} asc"), ("fl", ",".join([fl, F.PIECE, *tfs]))]
            for doc in self.stream(params):
                out.setdefault(doc[F.BLOCK], []).append(doc)
        for pieces in out.values():
            pieces.sort(key=lambda d: int(d.get(F.PIECE) or 0))
        return out

    def rows(
        self,
        plan: QueryPlan,
        names: Sequence[str] = (),
        batch: int = 1000,
        any_group: bool = False,
        extra_fq: Sequence[str] = (),
    ) -> Iterator[Row]:
        """Every paragraph-scope hit in ranking order with the named stored fields."""
        request, params = self.ranked_request(plan, any_group)
        extra = [("fq", request_ref) for request_ref in extra_fq]
        params = [(k, f"{v},{','.join(names)}" if k == "fl" and names else v) for k, v in params]
        for doc in self.stream(request.with_params([*params, *extra]), batch):
            yield Row(doc[F.KEY], score_of(doc), doc)

    def scoped_rows(self, plan: QueryPlan, names: Sequence[str]) -> list[Row]:
        """Every hit of a sentence- or document-scope plan, in ranking order (in Python)."""
        if plan.scope == "sentence" and plan.groups:
            kept = []
            for row in self.rows(plan, [*names, F.TEXT]):  # record by record, as indexed
                if in_one_sentence(plan, exact_key(row.fields[F.TEXT]), self.segment):
                    kept.append(row)
            return kept
        if plan.scope == "document" and plan.groups:
            return self.document_rows(plan, names)
        return list(self.rows(plan, names))

    def document_rows(self, plan: QueryPlan, names: Sequence[str]) -> list[Row]:
        """Paragraphs meeting at least one group, in reports where every group is met,
        grouped by report (reports in the order of their best paragraph)."""
        reports: set[str] | None = None
        for group in plan.groups:
            request = Request()
            q = request.bool(
                must=[request.group_query(group)],
                must_not=[request.exact(u) for u in plan.excluded],
            )
            facet = {"r": {"type": "terms", "field": F.DOC_ID, "limit": -1}}
            found = self.client.select(
                request.with_params([("q", q), *(("fq", f) for f in request.filters(plan)),
                 ("rows", "0"), ("json.facet", json.dumps(facet))])
            )  # fmt: skip
            check_complete(found)
            ids = {b["val"] for b in found.get("facets", {}).get("r", {}).get("buckets", [])}
            reports = ids if reports is None else reports & ids
        if not reports:
            return []
        groups: dict[str, list[Row]] = {}
        for row in self.rows(plan, [*names, F.DOC_ID], any_group=True):
            if row.fields[F.DOC_ID] in reports:
                groups.setdefault(row.fields[F.DOC_ID], []).append(row)
        return [row for group in groups.values() for row in group]

    # --- across years and towns --------------------------------------------------------------

    def occurrence_function(self, plan: QueryPlan, request: Request) -> str | None:
        """A paragraph's verbatim occurrences of the plan's terms (at least 1) as a function
        of the index's counts: a term of one character or of two different characters is a
        token whose frequency is its count; None when a term is longer (or "AA", whose pairs
        overlap): those are counted in the texts (`verbatim_counts`)."""
        parts = []
        for term in plan.positive:
            units = term.units
            if len(units) == 2 and units[0] != units[1]:
                parts.append(f"termfreq(grams,{request.ref(units)})")
            elif len(units) == 1:
                parts.append(f"termfreq(chars,{request.ref(units)})")
            else:
                return None
        return f"max(1,{function_sum(parts)})" if parts else None

    def verbatim_counts(
        self, plan: QueryPlan, whole: bool, names: Sequence[str] = ()
    ) -> Iterator[tuple[dict[str, Any], int]]:
        """Each hit holding a positive term verbatim (`whole`: the author paragraphs, as
        paragraph scope matches them; else the pieces), with the fields `names`, and its
        verbatim occurrences of the plan's terms (at least 1), counted in its text."""
        units = [t.units for t in plan.positive]
        if not units:
            return
        request = Request()
        q = request.bool(must=[request.matching(plan), request.verbatim_any(plan)])
        fqs = request.filters(plan, whole=whole)
        params = request.with_params([("q", q), *(("fq", f) for f in fqs)])
        params += [("sort", f"{F.KEY} asc"), ("fl", ",".join([F.KEY, F.TEXT, *names]))]
        for doc in self.stream(params, TEXT_PAGE):
            text = exact_key(doc.get(F.TEXT, ""))
            yield doc, max(1, sum(text.count(u) for u in units))

    def counted(self, plan: QueryPlan, best: bool = False) -> dict[str, Cell]:
        """Paragraph-scope hits counted by report (one terms facet), with (`best`) the best
        score among each report's hits. The occurrences come from the index where it can
        count them (a term of one character or two different ones: term frequencies; a
        longer term that cannot overlap itself: phrase frequencies, by searchapp.ReportHits),
        else from the texts; the scores are the query's own."""
        request = Request()
        occurrence = self.occurrence_function(plan, request)
        stats = {"o": f"sum({occurrence})"} if occurrence else {}
        if best:
            stats["m"] = f"max(query({request.ref(request.scored(plan))}))"
        spec = {"r": {"type": "terms", "field": F.DOC_ID, "limit": -1, "facet": stats}}
        params = request.with_params([("q", request.matching(plan)),
             *(("fq", f) for f in request.filters(plan, whole=True)), ("rows", "0"),
             ("json.facet", json.dumps(spec))])  # fmt: skip
        phrases = [] if occurrence else [t.units for t in plan.positive]
        found = None
        if phrases and not any(overlaps_itself(u) for u in phrases):
            found = self.select_counted(
                [*params, ("reportHits", "true"), *(("reportHits.phrase", u) for u in phrases)]
            )
        if found is None:
            found = self.client.select(params)
        check_complete(found)
        out = {}
        for bucket in found.get("facets", {}).get("r", {}).get("buckets", []):
            n = int(bucket["count"])
            out[str(bucket["val"])] = Cell(n, int(bucket.get("o", n)), float(bucket.get("m", 0)))
        if occurrence:
            return out
        hits = found.get("reportHits") or {}
        if "occurrences" in hits:
            for doc_id, n in zip(hits["values"], hits["occurrences"], strict=True):
                if doc_id in out:
                    out[doc_id].occurrences = int(n)
            return out
        for doc, n in self.verbatim_counts(plan, whole=True, names=[F.DOC_ID]):
            if doc[F.DOC_ID] in out:  # else indexed between the two requests
                out[doc[F.DOC_ID]].occurrences += n - 1
        return out

    def reports(self, wanted: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
        """Each report's title and columns (its first paragraph's), read once a build (again
        when a report in `wanted` is not known yet, once: a report still missing then was
        deleted since it was counted)."""
        built = self.build_id()
        cached = self._reports
        known = cached[1] if cached is not None and cached[0] == built else None
        absent = self._absent[1] if self._absent[0] == built else set()
        if known is not None and all(d in known or d in absent for d in wanted):
            return known
        fl = ",".join([F.DOC_ID, F.TITLE, *F.COLUMNS])
        params = [("q", PARAGRAPHS), ("fq", f"{F.ORDINAL}:0"), ("sort", f"{F.KEY} asc"),
                  ("fl", fl)]  # fmt: skip
        found = {str(d[F.DOC_ID]): d for d in self.stream(params, CURSOR_PAGE)}
        self._reports = (built, found)
        self._absent = (built, {d for d in wanted if d not in found})
        return found

    def trend(self, plan: QueryPlan) -> Trend:
        """Per-year reports, towns, paragraphs and occurrences, and a town × year table:
        counted by the JSON Facet API in paragraph scope (texts read only for occurrences
        the index cannot count), from every hit in the other scopes."""
        cells: Counter[tuple[str, str, str]] = Counter()  # (year, town, doc_id) → paragraphs
        extra: Counter[str] = Counter()  # year → occurrences beyond one a paragraph
        if plan.scope == "paragraph":
            counts = self.counted(plan)
            reports = self.reports(list(counts))
            for doc_id, cell in counts.items():
                fields = reports.get(doc_id, {})
                year = str(fields.get(F.YEAR, ""))
                cells[(year, str(fields.get(F.TOWN, "")), doc_id)] += cell.paragraphs
                extra[year] += cell.occurrences - cell.paragraphs
        else:
            occurrences = self.occurrences(plan)
            for row in self.scoped_rows(plan, [F.YEAR, F.TOWN, F.DOC_ID]):
                year = str(row.fields.get(F.YEAR, ""))
                cells[(year, row.fields.get(F.TOWN, ""), row.fields[F.DOC_ID])] += 1
                extra[year] += occurrences.get(row.key, 1) - 1
        return make_trend(plan, cells, extra)

    def occurrences(self, plan: QueryPlan) -> dict[str, int]:
        """Verbatim occurrences of the plan's terms in each piece that holds one (what the
        sentence and document scopes count, hit by hit); hits missing count 1."""
        return {doc[F.KEY]: n for doc, n in self.verbatim_counts(plan, whole=False)}

    def town_table(self, plan: QueryPlan, best: int | None = None) -> TownTable:
        """Every hit counted by town and report, most paragraphs first; a town's reports in
        the order of their best hit, and the best hit of the first `best` towns (every town
        when None). In paragraph scope by facets whatever the number of hits (the counts,
        each report's best score; texts read only for occurrences the index cannot count),
        then the hits of the towns shown, best first, until each has its best; in the other
        scopes hit by hit. A facet's score may use shard-local statistics: reports whose
        best hits share a tier may then be ordered a little differently from the ranking."""
        if plan.scope != "paragraph":
            return self.scoped_town_table(plan)
        counts = self.counted(plan, best=True)
        reports = self.reports(list(counts))
        towns: dict[str, list[tuple[str, Cell]]] = {}
        for doc_id, cell in sorted(counts.items(), key=lambda kv: -kv[1].best):
            town = str(reports.get(doc_id, {}).get(F.TOWN, ""))
            towns.setdefault(town, []).append((doc_id, cell))
        out = [
            TownUsage(
                town=town,
                paragraphs=sum(c.paragraphs for _, c in held),
                occurrences=sum(c.occurrences for _, c in held),
                reports=[report_entry(d, c, reports.get(d, {})) for d, c in held],
            )
            for town, held in towns.items()
        ]
        out.sort(key=lambda u: (-u.paragraphs, -u.occurrences, u.town))
        shown = [u.town for u in out[:best]]
        firsts = self.best_hits(plan, shown)
        refs = []
        for town in shown:
            if town not in firsts:  # its hits went between the requests (an update)
                break
            refs.append(firsts[town])
        return TownTable.from_usages(out, self.representatives(plan, refs))

    def best_hits(self, plan: QueryPlan, towns: Sequence[str]) -> dict[str, tuple[str, float]]:
        """The first hit in ranking order of each of these towns: their hits, best first,
        read until each has shown up."""
        if not towns:
            return {}
        request, params = self.ranked_request(plan)
        fq = request.any_of([request.term(F.TOWN, town) for town in towns])
        params = [(k, f"{v},{F.TOWN}" if k == "fl" else v) for k, v in [*params, ("fq", fq)]]
        out: dict[str, tuple[str, float]] = {}
        for doc in self.stream(request.with_params(params), BEST_BATCH):
            out.setdefault(str(doc.get(F.TOWN, "")), (doc[F.KEY], score_of(doc)))
            if len(out) == len(set(towns)):
                break
        return out

    def scoped_town_table(self, plan: QueryPlan) -> TownTable:
        """`town_table` of a sentence- or document-scope plan, hit by hit."""
        names = [F.TOWN, F.DOC_ID, F.TITLE, F.YEAR, F.DOC_TYPE]
        rows = self.scoped_rows(plan, names)
        occurrences = self.occurrences(plan)
        towns: dict[str, dict[str, dict[str, Any]]] = {}
        best: dict[str, tuple[str, float]] = {}
        for row in rows:
            f = row.fields
            town = f.get(F.TOWN, "")
            best.setdefault(town, (row.key, row.score))
            entry = towns.setdefault(town, {}).get(f[F.DOC_ID])
            if entry is None:
                entry = towns[town][f[F.DOC_ID]] = report_entry(f[F.DOC_ID], Cell(0, 0), f)
            entry["paragraphs"] += 1
            entry["occurrences"] += occurrences.get(row.key, 1)
        out = []
        for town, reports in towns.items():
            out.append(
                TownUsage(
                    town=town,
                    paragraphs=sum(r["paragraphs"] for r in reports.values()),
                    occurrences=sum(r["occurrences"] for r in reports.values()),
                    reports=list(reports.values()),
                )
            )
        out.sort(key=lambda u: (-u.paragraphs, -u.occurrences, u.town))
        best_refs = self.representatives(plan, [best[u.town] for u in out])
        return TownTable.from_usages(out, best_refs)

    # --- records --------------------------------------------------------------------------

    def by_keys(
        self, keys: Sequence[str], fl: str = RECORD_FIELDS, fq: str = PARAGRAPHS
    ) -> list[dict[str, Any]]:
        request = Request()
        q = f"{{!terms f={F.KEY} v={request.ref(','.join(keys))}}}"
        found = self.client.select(
            request.with_params([("q", q), ("fq", fq), ("rows", str(len(keys))), ("fl", fl)])
        )
        check_complete(found)
        return found["response"]["docs"]

    def records(self, refs: Sequence[str]) -> list[Record]:
        """The stored paragraphs of these keys, in the same order."""
        docs: dict[str, dict[str, Any]] = {}
        refs = list(refs)
        for i in range(0, len(refs), KEY_BATCH):
            for doc in self.by_keys(refs[i : i + KEY_BATCH]):
                docs[doc[F.KEY]] = doc
        missing = [r for r in refs if r not in docs]
        if missing:
            raise NotFound(
                f"段落 {missing[0]} 已不在 Solr 集合 {self.collection} 中",
                hint="索引刚刚更新，请重新检索",
            )
        cut = [d[F.BLOCK] for d in docs.values() if int(d.get(F.PIECES) or 1) > 1]
        pieces = self.pieces_of(cut, f"{F.PARA_ID},{F.BLOCK},{F.TEXT}") if cut else {}
        found = {key: with_pieces(doc, pieces.get(doc.get(F.BLOCK, ""), [])) for key, doc in
                 docs.items()}  # fmt: skip
        return [found[r] for r in refs]

    def document(self, doc_id: str) -> list[Record]:
        """Every paragraph of one report ([] when there is none)."""
        request = Request()
        params = request.with_params([("q", request.term(F.DOC_ID, doc_id)), ("fq", PARAGRAPHS)])
        params += [("sort", f"{F.KEY} asc"), ("fl", RECORD_FIELDS)]
        return [Record.from_fields(doc) for doc in self.stream(params)]

    def count_exact(self, text: str) -> int:
        """How many paragraphs hold `text` verbatim."""
        units = exact_key(text)
        if not units:
            return 0
        request = Request()
        found = self.client.select(
            request.with_params([("q", request.exact(units)), ("fq", PARAGRAPHS), ("rows", "0")])
        )
        check_complete(found)
        return int(found["response"]["numFound"])

    # --- fuzzy and similar wording ------------------------------------------------------------

    def candidates(self, key: str, limit: int, plan: QueryPlan | None = None) -> list[str]:
        """Paragraphs sharing the most of the query's rarest character pairs, best first
        (ties in document order), within the plan's filters."""
        grams = self.candidate_grams(key)
        if not grams:
            return []
        request = Request()
        shared = request.shared_grams(grams)
        params = request.with_params([("q", request.any_of([request.gram(g) for g in grams]))])
        params += [("fq", f) for f in request.filters(plan)]
        params += [("sort", f"{shared} desc,{F.SORT_KEY} asc,{F.KEY} asc"), ("fl", F.KEY)]
        found = self.client.select([*params, ("rows", str(limit))])
        check_complete(found)
        return [doc[F.KEY] for doc in found["response"]["docs"]]

    def candidate_grams(self, key: str) -> list[str]:
        """The query's rarest character pairs present in the collection (single characters
        join in when fewer than two pairs are known), as the embedded engine picks them."""
        if not key:
            return []
        pairs = sorted({key[i : i + 2] for i in range(len(key) - 1)}) if len(key) > 1 else [key]
        df = self.gram_df(pairs)
        found = [g for n, g in sorted((df[g], g) for g in pairs) if n > 0]
        if len(found) < 2 and len(key) > 1:
            singles = sorted(set(key))
            single_df = self.gram_df(singles)
            found += [g for n, g in sorted((single_df[g], g) for g in singles) if n > 0]
        return found[:RARE_GRAMS]

    def gram_df(self, grams: list[str]) -> dict[str, int]:
        """How many paragraphs hold each pair or character."""
        request = Request()
        facet = {f"g{i}": {"type": "query", "q": request.gram(g)} for i, g in enumerate(grams)}
        found = self.client.select(
            request.with_params(
                [("q", PARAGRAPHS), ("rows", "0"), ("json.facet", json.dumps(facet))]
            )
        )
        check_complete(found)
        facets = found.get("facets", {})
        return {g: int(facets.get(f"g{i}", {}).get("count", 0)) for i, g in enumerate(grams)}

    def vocabulary(self) -> list[str]:
        """The collection's words of two or more characters (for "did you mean")."""
        built = self.build_id()
        cached = self._vocabulary
        if cached is not None and cached[0] == built:
            return cached[1]
        found = self.client.select(
            [("terms.fl", F.WORDS), ("terms.limit", "-1"), ("terms.mincount", "1"),
             ("terms.sort", "index"), ("json.nl", "flat")],
            handler="/terms",
        )  # fmt: skip
        check_complete(found)
        flat = found.get("terms", {}).get(F.WORDS, [])
        words = sorted({w for w in flat[::2] if len(w) >= 2 and not w.isdigit()})
        self._vocabulary = (built, words)
        return words


def score_of(doc: dict[str, Any]) -> float:
    """Lucene's score: EXACT_BOOST × the tier + BM25 (under EXACT_BOOST)."""
    return float(doc.get("score") or 0.0)


def report_entry(doc_id: str, cell: Cell, fields: dict[str, Any]) -> dict[str, Any]:
    """A town's report row: its fields and its hits' counts."""
    year = str(fields.get(F.YEAR, ""))
    return {
        "doc_id": doc_id,
        "title": fields.get(F.TITLE, ""),
        "year": int(year) if year.isdigit() else None,
        "doc_type": fields.get(F.DOC_TYPE, ""),
        "paragraphs": cell.paragraphs,
        "occurrences": cell.occurrences,
    }


def with_pieces(doc: dict[str, Any], pieces: list[dict[str, Any]]) -> Record:
    """A paragraph's record; a cut one's with its pieces' ids and texts, in order."""
    record = Record.from_fields(doc)
    if not pieces:
        return record
    return replace(
        record,
        piece_ids=tuple(d[F.PARA_ID] for d in pieces),
        piece_texts=tuple(d[F.TEXT] for d in pieces),
    )


@dataclass
class Column:
    """One column's value of each report, as a code into `values` (-1: the report has none)."""

    codes: np.ndarray
    values: list[str]
    rank: np.ndarray  # each value's place in sorted order (ties of a facet's counts)

    @classmethod
    def make(cls, values: Sequence[Any]) -> Column:
        known: dict[str, int] = {}
        codes = [-1 if v is None else known.setdefault(str(v), len(known)) for v in values]
        names = list(known)
        rank = np.empty(len(names), np.int64)
        rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        return cls(np.array(codes, np.int64), names, rank)

    def counted(self, rows: np.ndarray, weights: np.ndarray) -> dict[str, int]:
        """The facet of reports `rows` with `weights` hits each: most first, then by value
        (as `ordered`)."""
        codes = self.codes[rows]
        held = codes >= 0
        summed = np.bincount(codes[held], weights[held], len(self.values)).astype(np.int64)
        hit = np.flatnonzero(summed)
        order = hit[np.lexsort((self.rank[hit], -summed[hit]))]
        values = self.values
        return {values[v]: n for v, n in zip(order.tolist(), summed[order].tolist(), strict=True)}


@dataclass
class ReportColumns:
    """Each report's value of each column, so hits counted by report sum to the column
    facets in numpy (`Column.counted`)."""

    reports: dict[str, dict[str, Any]]
    index: dict[str, int]
    columns: dict[str, Column]

    @classmethod
    def make(cls, reports: dict[str, dict[str, Any]]) -> ReportColumns:
        docs = list(reports.values())
        columns = {name: Column.make([doc.get(name) for doc in docs]) for name in F.COLUMNS}
        return cls(reports, {r: i for i, r in enumerate(reports)}, columns)


def overlaps_itself(units: str) -> bool:
    """Whether two occurrences of `units` can overlap (a proper prefix is also a suffix, as
    in 工作工作 or 啊啊): then the index's count of starts exceeds str.count's."""
    return any(units[:k] == units[-k:] for k in range(1, len(units)))


def ordered(counts: Counter[str]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def parse_facets(facets: dict[str, Any]) -> dict[str, dict[str, int]]:
    """JSON Facet API buckets as {field: {value: count}}, most first, then by value."""
    out = {}
    for name in F.COLUMNS:
        buckets = facets.get(name, {}).get("buckets", [])
        out[name] = ordered(Counter({str(b["val"]): int(b["count"]) for b in buckets}))
    return out


def make_trend(plan: QueryPlan, cells: Counter[tuple[str, str, str]], extra: Counter[str]) -> Trend:
    """A Trend from paragraph counts per (year, town, report) and extra occurrences a year."""
    trend = Trend(" ".join(t.text for t in plan.positive), sum(cells.values()))
    per_year: dict[int, YearCount] = {}
    reports: dict[int, set[str]] = {}
    towns: dict[int, set[str]] = {}
    for (year, town, doc_id), n in cells.items():
        if not year.isdigit():
            trend.undated += n
            continue
        y = int(year)
        count = per_year.setdefault(y, YearCount(y))
        count.paragraphs += n
        reports.setdefault(y, set()).add(doc_id)
        towns.setdefault(y, set()).add(town)
        row = trend.table.setdefault(town, {})
        row[y] = row.get(y, 0) + n
    for y, count in per_year.items():
        count.reports = len(reports[y])
        count.towns = len(towns[y])
        count.occurrences = count.paragraphs + extra.get(str(y), 0)
    trend.years = [per_year[y] for y in sorted(per_year)]
    trend.table = dict(sorted(trend.table.items(), key=lambda kv: (min(kv[1]), kv[0])))
    trend.first_year = {town: min(row) for town, row in trend.table.items()}
    return trend
