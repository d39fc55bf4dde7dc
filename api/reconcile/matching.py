"""Matching: from one reconciliation query to scored, ranked candidates, and whether the first
is certain enough to be matched automatically.

This is plain Python over the in-process :mod:`~api.reconcile.index`; the protocol layer
(:mod:`~api.reconcile.views`) turns requests into :class:`Query` objects and
:class:`Candidate` lists into JSON.

How a query is answered
-----------------------
1. **Identifiers short-circuit.** A GSS code (any case, padded, or inside a URI), an entity
   type code, a council's three-letter code, a legacy ONS code (``00CN``), an ISO 3166-2 code
   (``GB-BIR``) or any other identifier finds its entry exactly (tier 0, score 100).
2. **Names** are compared by their normalised forms (:mod:`geography.names`): the same
   ``full`` or ``plain`` form is tier 1, the same ``core`` (authority-kind words stripped) is
   tier 2, and anything else found through shared or similar words is tier 3, scored by
   string similarity (RapidFuzz) and never matched automatically. When the query's type asks
   for areas, a council found by name or code brings in the areas it governs, so
   "Buckinghamshire County Council" finds the county and ``HPL`` finds Hartlepool.
3. **Type, date and properties** then filter, confirm or veto: the query's ``type``
   restricts candidates; the ``date`` property says which day the data describes (default
   today); ``parent`` (name or code of any ancestor), ``type``, ``code``, ``status`` and
   ``country`` properties add a confirmation or a veto each, and so does ``point``: an area
   whose boundary on the date covers it, or does not (:mod:`~api.reconcile.properties`).
   A property can never create a candidate, so it can never create a match on its own.
4. **Match** only the first candidate, and only when nothing else could be meant: no other
   candidate in as good a tier, as well confirmed, that could be the same name at the same
   time. Without a date, another authority, region or constituency that bore the name at
   another time always counts (the county and the unitary called "Somerset", the 2010 and
   2024 "Bath" constituencies: data of unknown date could mean either), unless a chain of
   one-to-one successions links it to the first (a recode), or it lived only in the first
   quarter of 2009, before the April 2009 reorganisation. A code live for a week at most (a
   correction: issued and withdrawn within days) never counts. A ward rival does not count if
   the two were never live at the same time and share a district, and the first is live on
   the date (wards have no recorded successions: a ward re-coded at a boundary review keeps
   its name). Two live wards called "Castle" always count, so they are only ever matched
   with a parent property.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from rapidfuzz.process import cdist

from geography import spatial
from geography.entity_types import HINT_TYPES, NAMED_KINDS, NATIONALLY_UNIQUE
from geography.gss import GSS_REORGANISATION, is_gss
from geography.names import SPECIFIC_HINTS, Forms, forms
from geography.registers import ENTITY_TYPE_PATTERN
from registry import uris
from registry.models import LANGUAGE, NAME_KIND

from . import properties, types
from .index import Index, IndexName, Record
from .properties import DATE_PIDS, Property, parse_date

IDENTIFIER, NAME, CORE, FUZZY = 0, 1, 2, 3
TIER_NAMES = {IDENTIFIER: "identifier", NAME: "name", CORE: "core name", FUZZY: "similar name"}

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# How many entries found through shared words (the rarest words' first) are scored for
# similarity, at least twice the candidates asked for: scoring 600 cost most of a query's
# time, and past the first hundred or so by word weight none came near the first candidate
# (the same automatic matches on the evaluation sets; benchmarks/README.md).
MAX_FUZZY_SCORED = 120
# A query's words looked up, and of those the ones also looked up by spelling (a pass over the
# whole vocabulary each): no name has more than 20 words, and without a bound a 500-character
# query of short made-up words held a worker for 90 s a batch.
MAX_QUERY_WORDS = 24
MAX_SPELLING_WORDS = 6
# Words too common to find candidates by on their own.
_STOPWORDS = frozenset(["and", "of", "the", "upon", "on", "in", "a", "with", "under", "le"])

_ENTITY_CODE = re.compile(ENTITY_TYPE_PATTERN)
# --------------------------------------------------------------------------- queries


@dataclass
class Query:
    text: str
    types: types.TypeFilter | None = None
    limit: int = DEFAULT_LIMIT
    properties: list[Property] = field(default_factory=list)


@dataclass
class Feature:
    id: str
    name: str
    value: bool | float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "value": self.value}


@dataclass(slots=True)
class Candidate:
    record: Record
    tier: int
    similarity: float
    matched: str
    via: str = "name"
    strong: bool = True
    confirmations: int = 0
    vetoes: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    valid: bool = True
    hint_fit: bool | None = None
    former_name: bool = False
    type_differs: bool = False
    slips: int | None = None  # typing slips from its nearest name (similar names only)
    priority: int = 0
    score: float = 0.0
    match: bool = False

    @property
    def pk(self) -> int:
        return self.record.pk


@dataclass
class Result:
    candidates: list[Candidate]
    date: dt.date
    explicit_date: bool


# --------------------------------------------------------------------------- pure parts


def code_in(text: str) -> tuple[str, bool]:
    """The code a query may be, upper-cased, and whether its form alone makes it one (a URI,
    a GSS code or an entity type code) rather than a word that could be a name."""
    value = text.strip()
    if "://" in value or value.startswith("/"):
        parsed = uris.parse(value)
        if parsed is not None and parsed.key:
            return parsed.key.upper(), True
    code = value.upper()
    compact = code.replace(" ", "")
    if is_gss(compact):
        return compact, True
    if _ENTITY_CODE.match(code):
        return code, True
    return code, any(c.isdigit() for c in code) or "-" in code


def similarity(query: Forms, name: Forms) -> float:
    """How alike two names are, 0–100, on their normalised forms: the best of plain edit
    similarity, similarity ignoring word order, and (discounted) one name's words being a
    subset of the other's (:func:`similarities`, for one name)."""
    return similarities(query, [name])[0]


def similarities(query: Forms, names: list[Forms]) -> list[float]:
    """:func:`similarity` of the query to each of ``names``, in one pass per score:
    RapidFuzz's ``cdist`` compares the query with every name in C (prepared once for the
    query), where a call per pair cost more in the calls than in the comparing."""
    if not names:
        return []
    cores = [name.core for name in names]
    best = numpy.maximum(
        cdist([query.core], cores, scorer=fuzz.ratio, dtype=numpy.float64)[0],
        cdist(
            [query.full],
            [name.full for name in names],
            scorer=fuzz.token_sort_ratio,
            dtype=numpy.float64,
        )[0],
    )
    # The subset score, discounted, counts only where it beats the best so far, and never
    # beats 90: taken as ``token_set_ratio(..., score_cutoff=best / 0.9)`` would, which
    # answers 0 below the cutoff. Two one-word cores are the same (a ratio of 100) or share
    # no word, and then the subset score is their plain ratio, which cannot beat the best:
    # so it is asked only where either core has several words.
    if " " in query.core:
        subset = cdist([query.core], cores, scorer=fuzz.token_set_ratio, dtype=numpy.float64)[0]
    else:
        several = [i for i, core in enumerate(cores) if " " in core]
        subset = numpy.zeros(len(cores))
        if several:
            subset[several] = cdist(
                [query.core],
                [cores[i] for i in several],
                scorer=fuzz.token_set_ratio,
                dtype=numpy.float64,
            )[0]
    beats = (best < 90) & (subset >= best / 0.9)
    return numpy.where(beats, numpy.maximum(best, 0.9 * subset), best).tolist()


def name_tier(query: Forms, name: Forms) -> tuple[int, float] | None:
    """The tier and similarity of a name to a query when their forms agree exactly."""
    if query.full == name.full:
        return NAME, 100.0
    if query.plain == name.plain:
        return NAME, 98.0
    if query.core == name.core or query.core == name.plain or query.plain == name.core:
        return CORE, 90.0
    return None


def base_score(tier: int, similarity_: float) -> float:
    """The score a candidate starts from: 100 for an identifier, the similarity for a name
    (98–100 for the same name, 90 for the same core), 85% of it for a merely similar one."""
    if tier == IDENTIFIER:
        return 100.0
    if tier == FUZZY:
        return round(0.85 * similarity_, 1)
    return similarity_


def adjusted_score(candidate: Candidate, typed: bool, explicit_date: bool) -> float:
    """The final score: the base, plus 3 per confirming property and 1 for a query's
    authority-kind word that fits, less 40 per veto, 5 (12 with a date given) for an entry not
    live on the date, 2 for a former name, and half a point per place in the no-type
    priority order when no type was given."""
    score = base_score(candidate.tier, candidate.similarity)
    score += 3 * candidate.confirmations
    score -= 40 * len(candidate.vetoes)
    if candidate.hint_fit:
        score += 1
    if not candidate.valid:
        score -= 12 if explicit_date else 5
    if candidate.former_name:
        score -= 2
    if not typed:
        score -= 0.5 * candidate.priority
    return round(max(0.0, min(100.0, score)), 1)


# --------------------------------------------------------------------------- search


class Matcher:
    """Answers queries against one index snapshot; cheap to create per request."""

    def __init__(self, index: Index, today: dt.date) -> None:
        self.index = index
        self.today = today

    @functools.cached_property
    def shapes(self) -> spatial.Index:
        """The boundaries' index, for the point property: read once per batch, and only by
        one that has a point."""
        return spatial.current()

    # -- candidates -----------------------------------------------------------------

    def by_code(self, text: str, date: dt.date | None) -> list[Candidate]:
        code, strong_form = code_in(text)
        if not code or len(code) > 64:
            return []
        found: dict[int, Candidate] = {}
        typed_upper = text.strip().isupper() or strong_form
        for record in self.index.by_key(code):
            found[record.pk] = Candidate(
                record, IDENTIFIER, 100.0, record.key, "code", strong=typed_upper
            )
        for record, span in self.index.by_identifier(code):
            if date is not None and not span.covers(date):
                continue
            if record.pk not in found:
                found[record.pk] = Candidate(
                    record, IDENTIFIER, 100.0, str(span.value), span.scheme, strong=typed_upper
                )
        return list(found.values())

    def by_name(self, query: Forms) -> dict[int, Candidate]:
        found: dict[int, Candidate] = {}
        pks = set(self.index.get("form", query.full))
        pks.update(self.index.get("form", query.plain))
        pks.update(self.index.get("form", query.core))
        for pk in pks:
            record = self.index.records[pk]
            best = None
            for name in record.names:
                tier = name_tier(query, name.forms)
                if tier and (best is None or (tier[0], -tier[1]) < (best[0][0], -best[0][1])):
                    best = (tier, name)
            if best:
                (tier, sim), name = best
                found[pk] = Candidate(record, tier, sim, name.text, _via(name))
        return found

    def _by_words(
        self,
        query: Forms,
        exclude: set[int],
        admit,
        spelling: bool,
        admits: types.TypeFilter | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> dict[int, Candidate]:
        """Entries sharing a word with the query (or, with ``spelling``, a word close in
        spelling), scored by similarity."""
        words = list(dict.fromkeys(query.full.split() + query.core.split()))
        words = ([w for w in words if w not in _STOPWORDS] or words)[:MAX_QUERY_WORDS]
        weights: dict[int, float] = {}
        n = max(1, len(self.index.records))
        spelled = 0
        vocabulary = None

        if admits is not None and types.AREAS in admits.registers:
            admits = None  # nearly every entry: the registry-wide look-ups, then ``admit``

        def postings_of(word: str) -> tuple[tuple[int, ...], int]:
            # (the entries the type admits with the word, how many entries have it at all)
            every = self.index.get("token", word)
            if admits is None or not every:
                return every, len(every)
            return self.index.tokens_of(admits, word), len(every)

        for word in words:
            postings, count = postings_of(word)
            alone = True  # ``postings`` is one word's: no entry twice
            if (spelling or not count) and len(word) >= 4 and spelled < MAX_SPELLING_WORDS:
                spelled += 1
                if vocabulary is None:
                    vocabulary = self.index.vocabulary_of(admits)
                close = process.extract(
                    word, vocabulary, scorer=fuzz.ratio, score_cutoff=80, limit=3
                )
                for other, _, _ in close:
                    if other != word:
                        more, more_count = postings_of(other)
                        postings, count = postings + more, count + more_count
                        alone = False
            if not count or count > n // 4:
                continue
            # Weighed by how rare the word is in the whole registry.
            weight = 1.0 / count
            if alone:
                # The same sums, in the same order, as the loop below, by the dictionaries'
                # own (C) operations over the thousands of entries a common word finds: the
                # entries found before gain the weight, the others join in postings order.
                fresh = dict.fromkeys(postings, weight)
                for pk in weights.keys() & fresh.keys():
                    weights[pk] += weight
                    del fresh[pk]
                weights.update(fresh)
            else:
                get = weights.get
                for pk in postings:
                    weights[pk] = get(pk, 0.0) + weight
        for pk in exclude:
            weights.pop(pk, None)
        budget = max(MAX_FUZZY_SCORED, 2 * limit)
        # As ``heapq.nlargest`` (documented as this), faster: the sort is in C.
        ranked = sorted(weights, key=weights.__getitem__, reverse=True)[:budget]
        # Bounded by the entries scored, not found: a long query like no name scored every
        # entry sharing a word with it (thousands, 80 ms a query).
        records = self.index.records
        chosen = [record for record in map(records.__getitem__, ranked) if admit(record)]
        sims = similarities(query, [name.forms for record in chosen for name in record.names])
        found: dict[int, Candidate] = {}
        at = 0
        for record in chosen:
            best_sim, best_name = 0.0, None
            for name in record.names:
                sim = sims[at]
                at += 1
                if sim > best_sim:
                    best_sim, best_name = sim, name
            if best_name is not None and best_sim >= 50:
                found[record.pk] = Candidate(
                    record, FUZZY, best_sim, best_name.text, _via(best_name)
                )
        return found

    def _governed(self, council: Candidate, date: dt.date | None) -> list[Candidate]:
        result = []
        for span in council.record.governs:
            if date is not None and not span.covers(date):
                continue
            area = self.index.records.get(span.target)
            if area is not None:
                result.append(
                    Candidate(
                        area,
                        council.tier,
                        council.similarity,
                        council.matched,
                        "council " + council.via,
                        strong=council.strong,
                    )
                )
        return result

    # -- the query --------------------------------------------------------------------

    def reconcile(self, query: Query) -> Result:
        """Candidates for ``query``, best first, at most ``query.limit``; the first carries
        ``match`` when it is certain."""
        explicit = _query_date(query.properties)
        date = explicit or self.today
        unreadable_date = explicit is None and any(
            p.pid.strip().lower() in DATE_PIDS and p.values for p in query.properties
        )
        text = " ".join(query.text.split())
        if not text:
            return Result([], date, explicit is not None)

        typed = query.types is not None

        if not typed:

            def admit(record: Record) -> bool:
                return True

        elif types.AREAS in query.types.registers:

            def admit(record: Record) -> bool:
                return query.types.admits(record.register, record.entity_types)

        else:
            # A narrower type: the set of what it admits is computed once per index (and
            # before the fork for OpenRefine's types).
            admitted_pks = self.index.admitted(query.types)

            def admit(record: Record) -> bool:
                return record.pk in admitted_pks

        found: dict[int, Candidate] = {}

        def add(candidate: Candidate) -> None:
            old = found.get(candidate.pk)
            if old is None or _goodness(candidate) < _goodness(old):
                found[candidate.pk] = candidate

        by_code = self.by_code(text, explicit)
        q = forms(text)
        by_name = self.by_name(q)
        # A word-like code ("RYE") that is also a name is only as good as a name.
        for candidate in by_code:
            if by_name and not candidate.strong:
                candidate.tier = NAME
            candidate.strong = True
        # A council stands for the areas it governs when the query's type wants areas only.
        expand = typed and not query.types.admits(types.COUNCILS, frozenset())
        for candidate in [*by_code, *by_name.values()]:
            add(candidate)
            if expand and candidate.record.register == types.COUNCILS:
                for area in self._governed(candidate, explicit):
                    add(area)
        admitted = sum(1 for c in found.values() if admit(c.record))
        if admitted < query.limit:
            for candidate in self._by_words(
                q, set(found), admit, not admitted, query.types, query.limit
            ).values():
                add(candidate)

        # An identifier names one entry whatever the type chosen: OpenRefine pre-selects the
        # type of a column's first rows, and a county's or a ward's code in a column of
        # district codes is still that county or ward (said by the feature ``type_differs``).
        candidates = [c for c in found.values() if admit(c.record)]
        if not any(c.tier == IDENTIFIER for c in candidates):
            for candidate in found.values():
                if (
                    candidate.tier == IDENTIFIER
                    and candidate.strong
                    and not admit(candidate.record)
                ):
                    candidate.type_differs = True
                    candidates.append(candidate)
        for candidate in candidates:
            record = candidate.record
            candidate.valid = record.lifetime.contains(date)
            candidate.priority = _priority(record.register, record.entity_type_on(date))
            day = record.seen_on(date)
            candidate.former_name = candidate.tier != IDENTIFIER and not any(
                name.text == candidate.matched and name.covers(day) for name in record.names
            )
            if q.hints and candidate.tier >= CORE:
                fits = {record.register} | set(record.entity_types)
                hints = (q.hints & SPECIFIC_HINTS) or q.hints
                allowed = set().union(*(HINT_TYPES[h] for h in hints)) | {types.COUNCILS}
                candidate.hint_fit = bool(fits & allowed)
                if not candidate.hint_fit and candidate.tier == CORE:
                    candidate.tier, candidate.similarity = FUZZY, 85.0
            if unreadable_date:
                candidate.unverified.append("date")
        properties.apply(candidates, query.properties, date, self)
        for candidate in candidates:
            candidate.score = adjusted_score(candidate, typed, explicit is not None)
        candidates.sort(key=_rank)
        if candidates and self._certain(candidates, explicit is not None, q, query):
            top = candidates[0]
            top.match = True
            for other in candidates[1:]:
                other.score = min(other.score, round(top.score - 1, 1))
        return Result(candidates[: query.limit], date, explicit is not None)

    def _certain(
        self, candidates: list[Candidate], explicit_date: bool, q: Forms, query: Query
    ) -> bool:
        top = candidates[0]
        hints = q.hints
        if top.vetoes or top.unverified:
            return False
        if top.tier == IDENTIFIER:
            if not top.strong:
                return False
            if top.type_differs:
                return not any(c.tier == IDENTIFIER for c in candidates[1:])
        elif query.types is None and (
            top.record.register == types.COUNCILS
            or self._council_or_area(top, candidates)
            or self._other_kind(top, candidates)
        ):
            # Without a type, a name is matched only when no other kind of entry bears it: a
            # council's name always names its area as well, linked or not ("Hull City
            # Council", "Armagh City").
            return False
        if top.tier == FUZZY:
            return self._confirmed_fuzzy(top, candidates, q, query)
        if top.tier > CORE:
            return False
        if self._longer_name_rival(top, candidates, q):
            return False
        lineage = None
        if not top.valid and not explicit_date:
            # Terminated, and no date given: the user may mean the code that replaced it, when
            # that bears the name too ("Buckinghamshire", county then unitary). A successor
            # of another name is no rival: "Aylesbury Vale" is E07000004, which ended in 2020
            # (and whose "current" extension leads to Buckinghamshire).
            lineage = self.index.lineage(top.pk)
            # Unless the query names the kind of area the top is and its successor is not:
            # "Buckinghamshire County Council" is the county, not the unitary after it.
            named = frozenset().union(*(NAMED_KINDS.get(h, frozenset()) for h in hints))
            if any(
                c.valid
                and c.tier <= top.tier
                and c.pk in lineage
                and not (top.record.entity_types & named and not c.record.entity_types & named)
                for c in candidates[1:]
            ):
                return False
        for rival in candidates[1:]:
            if rival.tier > top.tier or rival.vetoes:
                continue
            if not rival.valid and _fleeting(rival.record):
                continue
            if rival.confirmations < top.confirmations:
                continue
            if explicit_date and top.valid and not rival.valid:
                continue
            if not explicit_date and self._other_meaning(top.record, rival.record):
                return False
            if lineage is None:
                lineage = self.index.lineage(top.pk)
            if rival.pk in lineage:
                continue
            if top.valid and not rival.valid and self._succeeds(top, rival):
                continue
            return False
        return True

    def _council_or_area(self, top: Candidate, candidates: list[Candidate]) -> bool:
        """Whether, without a type, the candidates hold the council that governs (or
        governed) the area ``top``: "Hackney" names the council and the area alike, and only
        a type (or an identifier) can say which is meant. (A council on top is never
        matched without a type: :meth:`_certain`.)"""
        counterparts = {span.target for span in top.record.governed_by}
        return any(c.pk in counterparts for c in candidates[1:] if not c.vetoes)

    def _other_kind(self, top: Candidate, candidates: list[Candidate]) -> bool:
        """Whether an entry of another kind (register, or rank in the no-type order) bears
        the query's name or core name too: untyped, "City of Leicester" is the unitary
        authority as much as the major town, so neither is certain."""
        lineage = None
        for rival in candidates[1:]:
            if rival.tier > CORE or rival.vetoes:
                continue
            if rival.record.register == top.record.register and rival.priority == top.priority:
                continue
            if not rival.valid and _fleeting(rival.record):
                continue
            if lineage is None:
                lineage = self.index.lineage(top.pk)
            if rival.pk not in lineage:
                return True
        return False

    def _longer_name_rival(self, top: Candidate, candidates: list[Candidate], q: Forms) -> bool:
        """Whether a rival as well confirmed as ``top`` is called by the query's words and
        more: "Newcastle" is one ward's whole name, but written in a column it is as likely to
        be Newcastle upon Tyne or Newcastle-under-Lyme. Not a rival: another name of
        ``top``'s own lineage (a recode), an entry never live with it and not live on the
        day, or one a property vetoes."""
        words = q.full
        if not words:
            return False
        lineage = None
        for rival in candidates[1:]:
            if rival.vetoes or rival.confirmations < top.confirmations:
                continue
            # Plausible: an authority or a larger area beside a ward, a constituency or a
            # small area (a district beside a ward, not a district beside its county), or any
            # when ``top`` itself is found only by a shortened name.
            minor_top = top.priority >= types.MINOR_PRIORITY > rival.priority
            if top.tier == NAME and not minor_top:
                continue
            if not rival.valid and _fleeting(rival.record):
                continue
            longer = any(
                (n.forms.full.startswith(words + " ") or n.forms.plain.startswith(words + " "))
                and n.forms.core != q.core
                for n in rival.record.names
            )
            if not longer:
                continue
            if top.valid and not rival.valid and not top.record.overlaps(rival.record):
                continue
            if lineage is None:
                lineage = self.index.lineage(top.pk)
            if rival.pk in lineage:
                continue
            return True
        return False

    def _confirmed_fuzzy(
        self, top: Candidate, candidates: list[Candidate], q: Forms, query: Query
    ) -> bool:
        """Whether a candidate found by similar spelling is confirmed well enough to be
        matched automatically: a slip or two of typing away from one of its names
        (:func:`typo_distance`), live on the date, confirmed by a parent property or inside
        a type narrower than a whole register, and alone there: no other candidate as well
        confirmed within a clear margin of similarity or itself a slip or two away."""
        if not top.valid or top.via.startswith("council"):
            return False
        narrow_type = query.types is not None and bool(query.types.entity_types)
        if not (top.confirmations or narrow_type):
            return False
        top.slips = typo_distance(q, top.record.names)
        slip = top.slips is not None
        if not slip and not _words_within(q, top.record.names):
            return False
        recodes = self.index.lineage(top.pk, one_to_one=True)
        for rival in candidates[1:]:
            if rival.vetoes or rival.confirmations < top.confirmations:
                continue
            if not rival.valid and (_fleeting(rival.record) or self._succeeds(top, rival)):
                continue
            if rival.pk in recodes:
                continue
            if slip:
                if rival.similarity >= top.similarity - FUZZY_MARGIN:
                    return False
                if typo_distance(q, rival.record.names) is not None:
                    return False
            elif rival.score >= top.score - WORDS_MARGIN or _words_within(q, rival.record.names):
                return False
        return True

    def _other_meaning(self, top: Record, rival: Record) -> bool:
        """Whether ``rival`` is another area that bore the name at another time, not just
        ``top`` under another code: a county and the unitary that took its name (Somerset),
        an abolished combined authority and a new one (North East), a 2010 constituency and
        the 2024 one of the same name but other bounds. Data of unknown date could mean
        either; a date settles it. Only for the kinds whose names are unique at any moment
        (authorities, regions, constituencies, countries). Not a rival: a recode, a chain of
        one-to-one successions (Gateshead E08000020 to E08000037, Bedford district to
        unitary); nor a code that lived only in the first quarter of 2009, between the GSS
        codes' introduction and the April 2009 reorganisation (the 2009 county codes of
        Wiltshire or Northumberland), which no one's data is likely to mean."""
        if not (top.entity_types & NATIONALLY_UNIQUE and rival.entity_types & NATIONALLY_UNIQUE):
            return False
        if rival.terminated is not None and rival.terminated < GSS_REORGANISATION:
            return False
        return rival.pk not in self.index.lineage(top.pk, one_to_one=True)

    def _succeeds(self, top: Candidate, rival: Candidate) -> bool:
        """Whether live ``top`` took over ``rival``'s name: never live together, and of a kind
        whose names are unique at any moment, or within a common district, or both within
        the parent the query named."""
        if top.record.overlaps(rival.record) and not _handed_over(top.record, rival.record):
            return False
        if (
            top.confirmations
            and rival.confirmations
            and top.record.register == rival.record.register
        ):
            return True
        return self._same_place(top.record, rival.record)

    def _same_place(self, a: Record, b: Record) -> bool:
        if a.register != b.register:
            return False
        kinds_a, kinds_b = a.entity_types, b.entity_types
        if kinds_a & NATIONALLY_UNIQUE and kinds_b & NATIONALLY_UNIQUE:
            return True
        if not (kinds_a & kinds_b or _same_group(kinds_a, kinds_b)):
            return False
        common = self.index.ancestors(a.pk) & self.index.ancestors(b.pk)
        lad = types.GROUPS[types.LAD].entity_types
        return any(self.index.records[pk].entity_types & lad for pk in common)


# A few dozen (register, entity type) pairs, ranked for every candidate of every query.
_priority = functools.cache(types.priority)

FLEETING = dt.timedelta(days=7)
# How far below a confirmed similar name another candidate must score for it to stand alone.
FUZZY_MARGIN = 8.0
# How far below a name holding every word of the query another candidate must score.
WORDS_MARGIN = 15.0


def _words_within(query: Forms, names) -> bool:
    """Whether every word of the query's core, beyond the commonest, is a word of one of
    ``names``, and one of them is a word of four letters or more: "armagh" within "Armagh
    City, Banbridge and Craigavon", "rhondda" within "Rhondda Cynon Taf". A shortened name,
    not a typo; matched only when nothing else comes close."""
    words = [w for w in query.core.split() if w not in _STOPWORDS]
    if not words or max(len(w) for w in words) < 4:
        return False
    for name in names:
        own = set(name.forms.full.split())
        if all(w in own for w in words):
            return True
    return False


def typo_distance(query: Forms, names) -> int | None:
    """The fewest typing slips (a letter dropped, added, changed, or two swapped: optimal
    string alignment distance) between the query and one of ``names``, compared on their
    full and core forms; None when more than one slip in a name of under eight letters or
    more than two in a longer one (beyond that, it is another name, not a typo)."""
    best = None
    for name in names:
        for a, b in ((query.full, name.forms.full), (query.core, name.forms.core)):
            if not a or not b:
                continue
            allowed = 1 if len(b.replace(" ", "")) < 8 else 2
            distance = OSA.distance(a, b, score_cutoff=allowed)
            if distance <= allowed and (best is None or distance < best):
                best = distance
    return best


def _fleeting(record: Record) -> bool:
    """Whether an entry was live for a week at most: a code the CHD records as issued and
    withdrawn within days (159 of them, 93 wards, such as Leeds's E05011548 "Kippax &
    Methley", live on 3 May 2018 alone, beside E05011401 of the same name), a correction
    that no one's data means, so never a rival to the code that stands."""
    life = record.lifetime
    if life.operative is None or life.terminated is None:
        return False
    return life.terminated - life.operative <= FLEETING


# How long a new code may be live beside the one it took over from: the CHD dates some new
# wards from when their codes were issued, ahead of the election that brought them in
# (Bridgend's 2022 wards are operative from 5 May 2021, the wards they replaced until 4 May
# 2022).
HANDOVER = dt.timedelta(days=550)


def _handed_over(new: Record, old: Record) -> bool:
    """Whether ``old`` ended within :data:`HANDOVER` of ``new`` starting, ``new`` having
    started later: a handover, not two areas live together."""
    new_life, old_life = new.lifetime, old.lifetime
    if new_life.operative is None or old_life.terminated is None or old_life.operative is None:
        return False
    if new_life.operative <= old_life.operative:
        return False
    return old_life.terminated - new_life.operative <= HANDOVER


def _goodness(candidate: Candidate) -> tuple:
    # Better tier, then higher similarity, then the entry's own name over its council's.
    return (candidate.tier, -candidate.similarity, candidate.via.startswith("council"))


def _same_group(a: frozenset[str], b: frozenset[str]) -> bool:
    return any(g.entity_types & a and g.entity_types & b for g in types.GROUPS.values())


def _rank(candidate: Candidate) -> tuple:
    operative = candidate.record.operative
    return (
        -candidate.score,
        candidate.tier,
        candidate.priority,
        -(operative.toordinal() if operative else 0),
        candidate.record.key,
    )


def _via(name: IndexName) -> str:
    if name.language == LANGUAGE.WELSH:
        return "Welsh name"
    if name.kind == NAME_KIND.ALTERNATIVE:
        return "alternative name"
    return "name"


def _query_date(properties: list[Property]) -> dt.date | None:
    for prop in properties:
        if prop.pid.strip().lower() in DATE_PIDS:
            for value in prop.values:
                date = parse_date(value)
                if date is not None:
                    return date
    return None
