"""The in-process name and identifier index that reconciliation searches.

Searching the names table row by row for every query would be slow on any database, and
fuzzy similarity cannot use a B-tree index on SQLite. So each server process builds, once and
lazily, a compact picture of every entry: its names with their normalised forms
(:func:`geography.names.forms`), states, parents, identifiers and successor links, plus
dictionaries from each normalised form, word, key and identifier to the entries that carry
it. A query then costs a few dictionary look-ups and a similarity score over a handful of
candidates, with no database query at all, the same on SQLite and PostgreSQL.

Freshness: every change to an entry writes a :class:`~registry.models.Version`, so the
newest version row (its id and time) is a cheap fingerprint of the data. :func:`current`
reads it on each request; when it has moved on, the entries named by the new versions are
reloaded and only their postings replaced (a few milliseconds for a curator's edit), so an
edit shows in the next answer. If the newest version seen before has gone (a rolled-back
transaction), the index is rebuilt whole.

An :class:`Index` is never changed once published: an update builds a new one that shares
the unchanged parts, and swaps it in under a lock, so concurrent readers always see one
consistent snapshot.
"""

from __future__ import annotations

import bisect
import datetime as dt
import sys
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from geography.names import Forms, forms
from registry import uris
from registry.models import (
    LANGUAGE,
    NAME_KIND,
    RELATION_KIND,
    STATUS,
    ChangeLink,
    Entry,
    Identifier,
    Name,
    Relation,
    State,
    Version,
)

from . import types


@dataclass(frozen=True, slots=True)
class NameRow:
    text: str
    language: str
    kind: str
    start: dt.date | None
    end: dt.date | None
    forms: Forms

    def covers(self, date: dt.date) -> bool:
        return (self.start is None or self.start <= date) and (self.end is None or date <= self.end)


@dataclass(frozen=True, slots=True)
class Span:
    """A fact with an inclusive valid range (``end`` None while it still holds)."""

    value: object
    start: dt.date | None
    end: dt.date | None
    hierarchy: str = ""

    def covers(self, date: dt.date) -> bool:
        return (self.start is None or self.start <= date) and (self.end is None or date <= self.end)


@dataclass(slots=True)
class Record:
    """What the matcher knows of one entry."""

    pk: int
    register: str
    key: str
    names: tuple[NameRow, ...]
    states: tuple[Span, ...]  # value: (status, entity type key)
    parents: tuple[Span, ...]  # value: parent pk; hierarchy set
    governs: tuple[Span, ...]  # value: area pk (councils)
    governed_by: tuple[Span, ...]  # value: council pk (areas)
    identifiers: tuple[Span, ...]  # value: (scheme, value)
    successors: tuple[int, ...]
    predecessors: tuple[int, ...]

    @property
    def operative(self) -> dt.date | None:
        live = [s.start for s in self.states if s.value[0] == STATUS.LIVE]
        return min(live) if live else None

    @property
    def terminated(self) -> dt.date | None:
        live = [s for s in self.states if s.value[0] == STATUS.LIVE]
        if not live or any(s.end is None for s in live):
            return None
        return max(s.end for s in live)

    def live_on(self, date: dt.date) -> bool:
        return any(s.value[0] == STATUS.LIVE and s.covers(date) for s in self.states)

    def overlaps(self, other: Record) -> bool:
        """Whether the two entries were ever live on the same day."""
        for a in self.states:
            if a.value[0] != STATUS.LIVE:
                continue
            for b in other.states:
                if b.value[0] != STATUS.LIVE:
                    continue
                if (a.end is None or b.start <= a.end) and (b.end is None or a.start <= b.end):
                    return True
        return False

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(s.value[1] for s in self.states if s.value[1])

    def entity_type_on(self, date: dt.date) -> str | None:
        chosen = None
        for state in self.states:
            if state.value[1] and (chosen is None or state.covers(date)):
                chosen = state.value[1]
        return chosen

    def seen_on(self, date: dt.date) -> dt.date:
        """The day to describe the entry on: ``date``, or its last day if it had ended by
        then, or its first if it had not begun (as :func:`registry.queries.as_at` does)."""
        operative, terminated = self.operative, self.terminated
        if terminated and date > terminated:
            return terminated
        if operative and date < operative:
            return operative
        return date

    def name_on(self, date: dt.date, language: str = LANGUAGE.ENGLISH) -> str | None:
        day = self.seen_on(date)
        for kind in (NAME_KIND.OFFICIAL, NAME_KIND.DISPLAY):
            fallback = None
            for name in self.names:
                if name.language == language and name.kind == kind:
                    if name.covers(day):
                        return name.text
                    fallback = name.text
            if fallback and language == LANGUAGE.ENGLISH and kind == NAME_KIND.OFFICIAL:
                return fallback
        return None

    def label(self, date: dt.date) -> str:
        return self.name_on(date) or self.key

    def parents_on(self, date: dt.date) -> list[Span]:
        day = self.seen_on(date)
        return [p for p in self.parents if p.covers(day)]


def _sort_key(span: Span) -> dt.date:
    return span.start or dt.date.min


_DATES: dict = {}


def _date(value) -> dt.date | None:
    """One shared object per distinct date (most facts start on a few dozen days)."""
    if value is None:
        return None
    shared = _DATES.get(value)
    if shared is None:
        # SQLite may hand dates back as text, PostgreSQL as dates.
        shared = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        _DATES[value] = shared
    return shared


def _word(value: str) -> str:
    return sys.intern(value) if value else value


def _rows(queryset, *fields: str) -> Iterable[tuple]:
    """Rows of ``fields`` straight from the database cursor: a plain ``values_list`` spends
    more time in Django's per-value converters than the database spends on the query."""
    sql, params = queryset.values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(10000):
            yield from rows


def _load(entry_ids: Iterable[int] | None) -> dict[int, Record]:
    """Records for the given entries (all entries when None), in a handful of queries."""
    entries = Entry.objects.order_by()
    names = Name.objects.order_by()
    states = State.objects.order_by()
    parents = Relation.objects.filter(kind=RELATION_KIND.PARENT).order_by()
    governs = Relation.objects.filter(kind=RELATION_KIND.GOVERNS).order_by()
    governed = governs
    identifiers = Identifier.objects.order_by()
    links = ChangeLink.objects.filter(predecessor__isnull=False, successor__isnull=False).order_by()
    successors = predecessors = links
    if entry_ids is not None:
        ids = list(entry_ids)
        entries = entries.filter(pk__in=ids)
        names = names.filter(entry_id__in=ids)
        states = states.filter(entry_id__in=ids)
        parents = parents.filter(subject_id__in=ids)
        governed = governs.filter(object_id__in=ids)
        governs = governs.filter(subject_id__in=ids)
        identifiers = identifiers.filter(entry_id__in=ids)
        successors = links.filter(predecessor_id__in=ids)
        predecessors = links.filter(successor_id__in=ids)

    type_keys = dict(
        Entry.objects.filter(pk__in=State.objects.values("entity_type_id")).values_list("pk", "key")
    )
    bag: dict[int, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    form_cache: dict[str, Forms] = {}
    for entry_id, language, kind, text, start, end in _rows(
        names, "entry_id", "language", "kind", "text", "valid_from", "valid_to"
    ):
        f = form_cache.get(text)
        if f is None:
            f = form_cache[text] = forms(text)
        bag[entry_id]["names"].append(
            NameRow(text, _word(language), _word(kind), _date(start), _date(end), f)
        )
    for entry_id, start, end, status, type_id in _rows(
        states, "entry_id", "valid_from", "valid_to", "status", "entity_type_id"
    ):
        bag[entry_id]["states"].append(
            Span((_word(status), type_keys.get(type_id)), _date(start), _date(end))
        )
    for subject, hierarchy, obj, start, end in _rows(
        parents, "subject_id", "hierarchy", "object_id", "valid_from", "valid_to"
    ):
        bag[subject]["parents"].append(Span(obj, _date(start), _date(end), _word(hierarchy)))
    for subject, obj, start, end in _rows(
        governs, "subject_id", "object_id", "valid_from", "valid_to"
    ):
        bag[subject]["governs"].append(Span(obj, _date(start), _date(end)))
    for subject, obj, start, end in _rows(
        governed, "subject_id", "object_id", "valid_from", "valid_to"
    ):
        bag[obj]["governed_by"].append(Span(subject, _date(start), _date(end)))
    for entry_id, scheme, value, start, end in _rows(
        identifiers, "entry_id", "scheme", "value", "valid_from", "valid_to"
    ):
        bag[entry_id]["identifiers"].append(Span((scheme, value), _date(start), _date(end)))
    for predecessor, successor in _rows(successors, "predecessor_id", "successor_id"):
        if predecessor != successor:
            bag[predecessor]["successors"].append(successor)
    for predecessor, successor in _rows(predecessors, "predecessor_id", "successor_id"):
        if predecessor != successor:
            bag[successor]["predecessors"].append(predecessor)

    records = {}
    empty: dict[str, list] = {}
    for pk, register, key in _rows(entries, "pk", "register__slug", "key"):
        facts = bag.get(pk, empty)
        records[pk] = Record(
            pk=pk,
            register=_word(register),
            key=key,
            names=tuple(facts.get("names", ())),
            states=tuple(sorted(facts.get("states", ()), key=_sort_key)),
            parents=tuple(sorted(facts.get("parents", ()), key=_sort_key)),
            governs=tuple(facts.get("governs", ())),
            governed_by=tuple(facts.get("governed_by", ())),
            identifiers=tuple(facts.get("identifiers", ())),
            successors=tuple(sorted(set(facts.get("successors", ())))),
            predecessors=tuple(sorted(set(facts.get("predecessors", ())))),
        )
    return records


def _postings(record: Record) -> dict[str, set[str]]:
    """The keys under which ``record`` is filed, per dictionary."""
    out: dict[str, set[str]] = {"form": set(), "token": set()}
    for name in record.names:
        f = name.forms
        out["form"].update((f.full, f.plain, f.core))
        out["token"].update(f.full.split())
    out["key"] = {record.key.upper()}
    out["identifier"] = {str(span.value[1]).upper() for span in record.identifiers}
    return out


_DICTS = ("form", "token", "key", "identifier")


class Index:
    """An immutable snapshot of every entry, filed for look-up by form, word, key and
    identifier, with a sorted list of word-start suffixes of names for prefix search."""

    def __init__(
        self,
        records: dict[int, Record],
        fingerprint: tuple,
        postings: dict[str, dict[str, tuple[int, ...]]] | None = None,
    ) -> None:
        self.records = records
        self.fingerprint = fingerprint
        if postings is None:
            built: dict[str, dict[str, set[int]]] = {d: defaultdict(set) for d in _DICTS}
            for record in records.values():
                for dictionary, keys in _postings(record).items():
                    target = built[dictionary]
                    for key in keys:
                        target[key].add(record.pk)
            postings = {d: {k: tuple(v) for k, v in built[d].items()} for d in _DICTS}
        self.postings = postings
        self.vocabulary = tuple(sorted(postings["token"]))
        self._prefixes: list[tuple[str, int]] | None = None
        self._keys: list[tuple[str, int]] | None = None
        self._ancestors: dict[int, frozenset[int]] = {}
        self._lock = threading.Lock()
        self.entity_type_keys = {
            r.key for r in records.values() if r.register == types.ENTITY_TYPES
        }

    # -- look-ups -----------------------------------------------------------------------

    def get(self, dictionary: str, key: str) -> tuple[int, ...]:
        return self.postings[dictionary].get(key, ())

    def by_key(self, key: str) -> list[Record]:
        return [self.records[pk] for pk in self.get("key", key.strip().upper())]

    def by_identifier(self, value: str) -> list[tuple[Record, Span]]:
        """(record, identifier span) for every identifier row with this value, any scheme."""
        value = value.strip().upper()
        result = []
        for pk in self.get("identifier", value):
            record = self.records[pk]
            for span in record.identifiers:
                if str(span.value[1]).upper() == value:
                    result.append((record, span))
        return result

    def resolve(self, ident: str) -> Record | None:
        """The entry an id names: its key in any case, or one of the registry's URIs."""
        value = str(ident).strip()
        if "/" in value:
            parsed = uris.parse(value)
            if parsed is None or not parsed.key:
                return None
            found = [r for r in self.by_key(parsed.key) if r.register == parsed.register]
        else:
            found = self.by_key(value)
        return found[0] if found else None

    def ancestors(self, pk: int) -> frozenset[int]:
        """Every entry ``pk`` has lain within at any time, at any level."""
        cached = self._ancestors.get(pk)
        if cached is not None:
            return cached
        seen: set[int] = set()
        frontier = [pk]
        while frontier:
            nxt = []
            for current in frontier:
                record = self.records.get(current)
                if record is None:
                    continue
                for parent in record.parents:
                    if parent.value not in seen:
                        seen.add(parent.value)
                        nxt.append(parent.value)
            frontier = nxt
        result = frozenset(seen)
        self._ancestors[pk] = result
        return result

    def ancestors_on(self, pk: int, date: dt.date) -> list[tuple[str, Record]]:
        """(hierarchy, entry) within which ``pk`` lay on ``date`` (on its last day if it had
        ended), nearest first, each once."""
        record = self.records[pk]
        day = record.seen_on(date)
        result: list[tuple[str, Record]] = []
        seen = {pk}
        frontier = [record]
        while frontier:
            nxt = []
            for current in frontier:
                for parent in current.parents:
                    if parent.covers(day) and parent.value not in seen:
                        other = self.records.get(parent.value)
                        if other is not None:
                            seen.add(parent.value)
                            result.append((parent.hierarchy, other))
                            nxt.append(other)
            frontier = nxt
        return result

    def lineage(self, pk: int, *, one_to_one: bool = False) -> frozenset[int]:
        """Entries linked to ``pk`` through successor links, either way, at any distance.
        With ``one_to_one``, only through links where A's only successor is B and B's only
        predecessor is A (recodes, not merges or splits)."""
        seen = {pk}
        frontier = [pk]
        while frontier:
            record = self.records.get(frontier.pop())
            if record is None:
                continue
            for other, back in (
                *((s, "predecessors") for s in record.successors),
                *((p, "successors") for p in record.predecessors),
            ):
                if other in seen:
                    continue
                if one_to_one:
                    linked = self.records.get(other)
                    ahead = record.successors if back == "predecessors" else record.predecessors
                    if linked is None or len(ahead) != 1 or len(getattr(linked, back)) != 1:
                        continue
                seen.add(other)
                frontier.append(other)
        return frozenset(seen)

    def prefix_entries(self) -> list[tuple[str, int]]:
        """(suffix of a normalised name from one of its words on, pk), sorted, so a prefix
        finds a name by any of its words: "Hartlepool 001A" is filed as "hartlepool 001a"
        and as "001a". Built on first use (suggest only)."""
        with self._lock:
            if self._prefixes is None:
                items = set()
                for record in self.records.values():
                    for name in record.names:
                        words = name.forms.full.split()
                        for i in range(len(words)):
                            items.add((" ".join(words[i:]), record.pk))
                self._prefixes = sorted(items)
            return self._prefixes

    def key_entries(self) -> list[tuple[str, int]]:
        with self._lock:
            if self._keys is None:
                self._keys = sorted((r.key.upper(), r.pk) for r in self.records.values())
            return self._keys

    def with_prefix(self, prefix: str) -> Iterable[int]:
        """pks with a name word-start or a key beginning with ``prefix`` (normalised)."""
        entries = self.prefix_entries()
        start = bisect.bisect_left(entries, (prefix, -1))
        for text, pk in entries[start:]:
            if not text.startswith(prefix):
                break
            yield pk

    def with_key_prefix(self, prefix: str) -> Iterable[int]:
        keys = self.key_entries()
        start = bisect.bisect_left(keys, (prefix, -1))
        for key, pk in keys[start:]:
            if not key.startswith(prefix):
                break
            yield pk

    # -- updates ------------------------------------------------------------------------

    def updated(self, changed: dict[int, Record], fingerprint: tuple) -> Index:
        """A new index with ``changed`` records replacing (or adding to) this one's."""
        records = dict(self.records)
        postings = {d: dict(self.postings[d]) for d in _DICTS}
        for pk, record in changed.items():
            old = records.get(pk)
            if old is not None:
                for dictionary, keys in _postings(old).items():
                    for key in keys:
                        rest = tuple(p for p in postings[dictionary].get(key, ()) if p != pk)
                        if rest:
                            postings[dictionary][key] = rest
                        else:
                            postings[dictionary].pop(key, None)
            records[pk] = record
            for dictionary, keys in _postings(record).items():
                for key in keys:
                    if pk not in postings[dictionary].get(key, ()):
                        postings[dictionary][key] = (*postings[dictionary].get(key, ()), pk)
        return Index(records, fingerprint, postings)


def fingerprint() -> tuple:
    """The newest version's id and time: changes whenever any entry changes."""
    row = Version.objects.order_by("-id").values_list("id", "recorded_at").first()
    return row or (0, None)


_lock = threading.Lock()
_current: Index | None = None


def current() -> Index:
    """The index of the data as it is now: built on first use, brought up to date from the
    versions written since, rebuilt whole if the newest version it knew has gone."""
    global _current
    mark = fingerprint()
    index = _current
    if index is not None and index.fingerprint == mark:
        return index
    with _lock:
        index = _current
        if index is not None and index.fingerprint == mark:
            return index
        last_id, last_at = index.fingerprint if index is not None else (0, None)
        still_there = (
            index is not None
            and last_id
            and Version.objects.filter(id=last_id, recorded_at=last_at).exists()
        )
        if still_there:
            changed_ids = set(
                Version.objects.filter(id__gt=last_id, entry__isnull=False).values_list(
                    "entry_id", flat=True
                )
            )
            changed_ids |= set(
                ChangeLink.objects.filter(event__versions__id__gt=last_id).values_list(
                    "predecessor_id", flat=True
                )
            )
            changed_ids |= set(
                ChangeLink.objects.filter(event__versions__id__gt=last_id).values_list(
                    "successor_id", flat=True
                )
            )
            changed_ids.discard(None)
            # A change to a council's governs relation changes the areas' governed_by too,
            # and a change of successors changes the other end's predecessors.
            neighbours = set()
            for pk in changed_ids:
                record = index.records.get(pk)
                if record is not None:
                    neighbours.update(s.value for s in record.governs)
                    neighbours.update(record.successors)
                    neighbours.update(record.predecessors)
            fresh = _load(changed_ids)
            for record in fresh.values():
                neighbours.update(s.value for s in record.governs)
                neighbours.update(record.successors)
                neighbours.update(record.predecessors)
            neighbours -= changed_ids
            if neighbours:
                fresh.update(_load(neighbours))
            index = index.updated(fresh, mark)
        else:
            index = Index(_load(None), mark)
        _current = index
        return index


def built() -> Index | None:
    """The index as last built, without checking freshness or building it (None if not
    built yet)."""
    return _current


def warm() -> None:
    """Build the index in a background thread if it has not been built, so the first
    queries after OpenRefine reads the manifest need not wait for it."""
    if _current is not None or _lock.locked():
        return

    def build() -> None:
        try:
            current()
        finally:
            connection.close()

    threading.Thread(target=build, name="reconcile-index", daemon=True).start()


def reset() -> None:
    """Forget the index (tests that swap the database use this)."""
    global _current
    with _lock:
        _current = None
