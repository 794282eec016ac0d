"""A `QueryPlan` as Solr request parameters (building only; engine.py runs them).

Every user-supplied string travels as its own request parameter, referenced from local
params (`{!field f=grams v=$p3}`), so nothing needs escaping. The channels (tokens made by
tokens.py, on our side):

* verbatim: a string of two or more characters is a phrase over its consecutive character
  pairs in `grams` (pairs at consecutive positions: a true substring test), a single
  character a term in `chars`;
* words: each jieba word a term in `words`; an unquoted term also matches when all of its
  words are there;
* filters: exact values as terms of the string fields, year ranges on `year_int`, section
  substrings as phrases over `section_grams`/`section_chars`.

Ranking is Lucene's own, in the one request that also counts and facets (`scored`): the
matching is a non-scoring filter clause; each positive term held verbatim adds a constant
EXACT_BOOST (the verbatim tier, plan.py's rule), and each of the plan's words adds Solr's
BM25 similarity on `words` (k1 1.2, b 0.75; idf and average length collection-wide through
the configset's statsCache). Ties go to `sort_key` (document order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import fields as F
from ..plan import EXACT_BOOST, QueryPlan, Term
from .tokens import BLOCK, KIND, PARA, pairs

PARAGRAPHS = f"{{!term f={KIND}}}{PARA}"  # the filter every search carries
# in paragraph scope: the author paragraphs, a cut one as its block document (plan.py)
UNITS = f"{KIND}:{BLOCK} OR ({KIND}:{PARA} AND -{F.PIECES}:[2 TO *])"
TERM_FIELDS = frozenset(F.COLUMNS)  # fields an exact-value filter may name
NOTHING = "{!term f=kind}-none-"  # matches no document


@dataclass
class Request:
    """Request parameters under construction; every literal becomes its own parameter."""

    params: list[tuple[str, str]] = field(default_factory=list)

    def ref(self, value: str) -> str:
        """Store a value as a parameter; its reference ($pN)."""
        name = f"p{len(self.params)}"
        self.params.append((name, value))
        return f"${name}"

    def with_params(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """`pairs` followed by every stored parameter (call it once the pairs are built)."""
        return [*pairs, *self.params]

    # --- leaves -----------------------------------------------------------------------------

    def term(self, name: str, value: str) -> str:
        return f"{{!term f={name} v={self.ref(value)}}}"

    def exact(self, units: str, grams: str = "grams", chars: str = "chars") -> str:
        """Paragraphs whose exact-match form contains `units` (non-empty)."""
        if len(units) == 1:
            return self.term(chars, units)
        return f"{{!field f={grams} v={self.ref(pairs(units))}}}"

    def words(self, words: tuple[str, ...]) -> str:
        return self.all_of([self.term(F.WORDS, w) for w in words])

    # --- combinations ---------------------------------------------------------------------------

    def bool(
        self, must: Sequence[str] = (), should: Sequence[str] = (), must_not: Sequence[str] = ()
    ) -> str:
        parts = [f"must={self.ref(q)}" for q in must]
        parts += [f"should={self.ref(q)}" for q in should]
        parts += [f"must_not={self.ref(q)}" for q in must_not]
        if not must and not should:
            parts.insert(0, f"must={self.ref('*:*')}")
        return "{!bool " + " ".join(parts) + "}"

    def all_of(self, queries: list[str]) -> str:
        return queries[0] if len(queries) == 1 else self.bool(must=queries)

    def any_of(self, queries: list[str]) -> str:
        if not queries:
            return NOTHING
        return queries[0] if len(queries) == 1 else self.bool(should=queries)

    # --- a plan -------------------------------------------------------------------------------

    def term_query(self, term: Term) -> str:
        """A term: verbatim, or (unquoted) every one of its words."""
        verbatim = self.exact(term.units)
        if term.quoted or not term.words:
            return verbatim
        return self.any_of([verbatim, self.words(term.words)])

    def group_query(self, group: tuple[Term, ...]) -> str:
        return self.any_of([self.term_query(t) for t in group])

    def matching(self, plan: QueryPlan, any_group: bool = False) -> str:
        """The plan's matches (paragraph scope): every group (or any, for document scope),
        none of the exclusions. Filters are separate (`filters`)."""
        groups = [self.group_query(g) for g in plan.groups]
        if any_group and groups:
            groups = [self.any_of(groups)]
        excluded = [self.exact(u) for u in plan.excluded]
        return self.bool(must=groups, must_not=excluded)

    def filters(self, plan: QueryPlan | None, whole: bool = False) -> list[str]:
        """fq values: the paragraphs (`whole`: the author paragraphs, as paragraph scope
        matches them), then per field an OR over its values, ranges and substrings
        (fields AND-ed)."""
        out = [UNITS if whole else PARAGRAPHS]
        if plan is None:
            return out
        per_field: dict[str, list[str]] = {}
        for name, values in plan.filters:
            found = per_field.setdefault(name, [])
            if name in TERM_FIELDS:
                found.extend(self.term(name, v) for v in values)
        for name, lo, hi in plan.ranges:
            found = per_field.setdefault(name, [])
            if name == F.YEAR:
                found.append(f"year_int:[{int(lo)} TO {int(hi)}]")
        for name, needles in plan.contains:
            found = per_field.setdefault(name, [])
            if name == F.SECTION_KEY:
                found.extend(self.exact(n, "section_grams", "section_chars") for n in needles)
        out.extend(self.any_of(queries) for queries in per_field.values())
        return out

    def verbatim_any(self, plan: QueryPlan) -> str:
        """Paragraphs holding at least one positive term verbatim."""
        return self.any_of([self.exact(t.units) for t in plan.positive])

    # --- ranking --------------------------------------------------------------------------------

    def scored(self, plan: QueryPlan, any_group: bool = False) -> str:
        """The plan's matches as a non-scoring filter, ranked by Lucene's own scoring: a
        constant EXACT_BOOST for each positive term held verbatim (the tier) plus the
        collection's BM25 similarity on `words` for each scoring word held."""
        tiers = [f"{{!lucene}}({self.exact(t.units)})^={EXACT_BOOST!r}" for t in plan.positive]
        words = [self.term(F.WORDS, w) for w in plan.scoring_words]
        parts = [f"filter={self.ref(self.matching(plan, any_group))}"]
        parts += [f"should={self.ref(q)}" for q in [*tiers, *words]]
        return "{!bool " + " ".join(parts) + "}"

    def sort(self, plan: QueryPlan) -> str:
        """The plan's order: tier, BM25, document order (or by date); the key last (cursors)."""
        if plan.sort == "newest":
            return f"{F.SORT_DATE} desc,{F.SORT_KEY} asc,{F.KEY} asc"
        if plan.sort == "oldest":
            return f"{F.SORT_DATE} asc,{F.SORT_KEY} asc,{F.KEY} asc"
        return f"score desc,{F.SORT_KEY} asc,{F.KEY} asc"

    def shared_grams(self, grams: list[str]) -> str:
        """How many of these pairs/characters a paragraph holds (a function)."""
        return function_sum([f"if(exists(query({self.ref(self.gram(g))})),1,0)" for g in grams])

    def gram(self, gram: str) -> str:
        """One pair (in `grams`) or character (in `chars`)."""
        return self.term("chars" if len(gram) == 1 else "grams", gram)


def function_sum(parts: list[str]) -> str:
    if not parts:
        return "0"
    return parts[0] if len(parts) == 1 else f"sum({','.join(parts)})"
