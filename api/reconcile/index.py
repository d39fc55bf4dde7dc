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
import gc
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection

from geography.names import Forms, forms
from registry import facts, replicas, uris, validtime
from registry.models import LANGUAGE, RELATION_KIND, ChangeLink, Version
from registry.validtime import IdentifierRow, RelationRow, StateRow

from . import types


class IndexName(NamedTuple):
    """A name with its normalised forms (:func:`geography.names.forms`)."""

    language: str
    kind: str
    text: str
    start: dt.date | None
    end: dt.date | None
    forms: Forms

    def covers(self, day: dt.date) -> bool:
        return validtime.covers(self.start, self.end, day)


_KINDS: dict[frozenset[str], frozenset[str]] = {}


@dataclass(slots=True)
class Record:
    """What the matcher knows of one entry: its rows in valid time (``registry.facts``),
    with other entries referred to by primary key and entity types by key, and every
    question about a date answered by ``registry.validtime``."""

    pk: int
    register: str
    key: str
    names: tuple[IndexName, ...]
    states: tuple[StateRow, ...]  # entity_type: the type's key
    parents: tuple[RelationRow, ...]  # target: the parent's pk
    governs: tuple[RelationRow, ...]  # target: the area's pk (councils)
    governed_by: tuple[RelationRow, ...]  # target: the council's pk (areas)
    identifiers: tuple[IdentifierRow, ...]
    successors: tuple[int, ...]
    predecessors: tuple[int, ...]
    # Computed once from ``states``: every query asks them of hundreds of records.
    lifetime: validtime.Lifetime = field(init=False)
    entity_types: frozenset[str] = field(init=False)
    # The entity type on every date, when every state has the same one (nearly every entry).
    sole_type: str | None = field(init=False)

    def __post_init__(self) -> None:
        self.lifetime = validtime.lifetime(self.states)
        kinds = validtime.entity_types(self.states)
        # Interned: a few hundred distinct sets shared by 232,000 records.
        self.entity_types = _KINDS.setdefault(kinds, kinds)
        every = len(kinds) == 1 and all(s.entity_type is not None for s in self.states)
        self.sole_type = next(iter(kinds)) if every else None

    @property
    def operative(self) -> dt.date | None:
        return self.lifetime.operative

    @property
    def terminated(self) -> dt.date | None:
        return self.lifetime.terminated

    def live_on(self, date: dt.date) -> bool:
        return self.lifetime.contains(date)

    def overlaps(self, other: Record) -> bool:
        """Whether the two entries were ever live on the same day."""
        return validtime.live_together(self.states, other.states)

    def entity_type_on(self, date: dt.date) -> str | None:
        if self.sole_type is not None:
            return self.sole_type
        return validtime.entity_type_on(self.states, date)

    def seen_on(self, date: dt.date) -> dt.date:
        return validtime.seen_on(self.lifetime, date)

    def name_on(self, date: dt.date, language: str = LANGUAGE.ENGLISH) -> str | None:
        if language == LANGUAGE.ENGLISH:
            return validtime.label(self.names, self.lifetime, date)
        return validtime.preferred(validtime.names_on(self.names, self.seen_on(date)), language)

    def label(self, date: dt.date) -> str:
        return self.name_on(date) or self.key

    def parents_on(self, date: dt.date) -> list[RelationRow]:
        return validtime.in_force(self.parents, self.seen_on(date))


def _load(entry_ids: Iterable[int] | None) -> dict[int, Record]:
    """Records for the given entries (all entries when None), in a handful of queries."""
    found = facts.read(entry_ids)
    links = ChangeLink.objects.filter(predecessor__isnull=False, successor__isnull=False)
    links = links.order_by()
    ahead, behind = links, links
    if entry_ids is not None:
        ids = list(found)
        ahead = links.filter(predecessor_id__in=ids)
        behind = links.filter(successor_id__in=ids)
    successors: dict[int, set[int]] = defaultdict(set)
    predecessors: dict[int, set[int]] = defaultdict(set)
    for predecessor, successor in facts.fetch(ahead, "predecessor_id", "successor_id"):
        if predecessor != successor:
            successors[predecessor].add(successor)
    for predecessor, successor in facts.fetch(behind, "predecessor_id", "successor_id"):
        if predecessor != successor:
            predecessors[successor].add(predecessor)

    form_cache: dict[str, Forms] = {}

    def named(name: validtime.NameRow) -> IndexName:
        f = form_cache.get(name.text)
        if f is None:
            f = form_cache[name.text] = forms(name.text)
        return IndexName(*name, f)

    def by_pk(rows) -> tuple[RelationRow, ...]:
        return tuple(r._replace(target=r.target.pk) for r in rows)

    records = {}
    for pk, rows in found.items():
        records[pk] = Record(
            pk=pk,
            register=rows.ref.register,
            key=rows.ref.key,
            names=tuple(named(name) for name in rows.names),
            states=tuple(
                s._replace(entity_type=s.entity_type.key if s.entity_type else None)
                for s in rows.states
            ),
            parents=by_pk(r for r in rows.relations if r.kind == RELATION_KIND.PARENT),
            governs=by_pk(r for r in rows.relations if r.kind == RELATION_KIND.GOVERNS),
            governed_by=by_pk(rows.governed_by),
            identifiers=tuple(rows.identifiers),
            successors=tuple(sorted(successors.get(pk, ()))),
            predecessors=tuple(sorted(predecessors.get(pk, ()))),
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
    out["identifier"] = {str(row.value).upper() for row in record.identifiers}
    return out


_DICTS = ("form", "token", "key", "identifier")
# The most types not offered (each a combination a query named) whose look-ups one index keeps:
# each is a set of entry ids and word postings, up to some MB for the widest.
MAX_TYPED = 32


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
        self._vocabularies: dict[tuple, tuple[dict[str, tuple[int, ...]], tuple[str, ...]]] = {}
        self._admitted: dict[tuple, frozenset[int]] = {}
        self._filters: dict[tuple, types.TypeFilter] = {}
        # The types whose look-ups :meth:`prepare` computed (the offered ones): always kept.
        # Any other type a query names is kept too, but only the newest MAX_TYPED of them,
        # since a client can name any combination of the 187 entity types.
        self._pinned: set[tuple] = set()
        # How each entry is shown on a date (:func:`.present.shown`), computed on first use.
        self.shown: dict[tuple[int, dt.date], tuple] = {}
        # The entries a parent property's value names (:func:`.properties.resolve_places`),
        # computed on first use: a column's rows name the same few districts again and again.
        self.places: dict[tuple[str, ...], frozenset[int]] = {}
        self._lock = threading.Lock()
        self.entity_type_keys = {
            r.key for r in records.values() if r.register == types.ENTITY_TYPES
        }

    # -- look-ups -----------------------------------------------------------------------

    def get(self, dictionary: str, key: str) -> tuple[int, ...]:
        return self.postings[dictionary].get(key, ())

    def by_key(self, key: str) -> list[Record]:
        return [self.records[pk] for pk in self.get("key", key.strip().upper())]

    def by_identifier(self, value: str) -> list[tuple[Record, IdentifierRow]]:
        """(record, identifier row) for every identifier row with this value, any scheme."""
        value = value.strip().upper()
        result = []
        for pk in self.get("identifier", value):
            record = self.records[pk]
            for row in record.identifiers:
                if str(row.value).upper() == value:
                    result.append((record, row))
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

    def vocabulary_of(self, admits: types.TypeFilter | None) -> tuple[str, ...]:
        """The words of the names of the entries a type admits (every word without one),
        sorted: what a misspelt word is compared with. Built on first use per type: a
        district's typo is looked for among some 2,000 words, not the 150,000 of every
        name in the registry, where closer words of parishes and zones would crowd it out."""
        if admits is None:
            return self.vocabulary
        return self._typed(admits)[1]

    def tokens_of(self, admits: types.TypeFilter, word: str) -> tuple[int, ...]:
        """The entries a type admits that have ``word`` in a name (the ``token`` postings
        restricted to the type)."""
        return self._typed(admits)[0].get(word, ())

    def _typed(
        self, admits: types.TypeFilter
    ) -> tuple[dict[str, tuple[int, ...]], tuple[str, ...]]:
        key = (admits.registers, admits.entity_types)
        found = self._vocabularies.get(key)
        if found is None:
            postings: dict[str, list[int]] = defaultdict(list)
            for pk in sorted(self.admitted(admits)):
                for word in _words(self.records[pk]):
                    postings[word].append(pk)
            found = self._vocabularies[key] = (
                {word: tuple(pks) for word, pks in postings.items()},
                tuple(sorted(postings)),
            )
        return found

    def admitted(self, admits: types.TypeFilter) -> frozenset[int]:
        """The entries a type admits, computed once per type: a query's words are weighed
        over these alone, not over the thousands of entries of other types sharing them."""
        key = (admits.registers, admits.entity_types)
        found = self._admitted.get(key)
        if found is None:
            self._make_room(key)
            self._filters[key] = admits
            found = self._admitted[key] = frozenset(
                pk
                for pk, record in self.records.items()
                if admits.admits(record.register, record.entity_types)
            )
        return found

    def ancestors(self, pk: int) -> frozenset[int]:
        """Every entry ``pk`` has lain within at any time, at any level."""
        cached = self._ancestors.get(pk)
        if cached is not None:
            return cached
        result = frozenset(node for _, node in validtime.ancestors(pk, self._all_parents))
        self._ancestors[pk] = result
        return result

    def _all_parents(self, nodes: list[int]) -> dict[int, list[tuple[str, int]]]:
        return {
            node: [(p.hierarchy, p.target) for p in self.records[node].parents]
            for node in nodes
            if node in self.records
        }

    def ancestors_on(self, pk: int, date: dt.date) -> list[tuple[str, Record]]:
        """(hierarchy, entry) within which ``pk`` lay as described on ``date``
        (:func:`registry.validtime.seen_on`), nearest first, each once."""
        day = self.records[pk].seen_on(date)

        def parents_of(nodes: list[int]) -> dict[int, list[tuple[str, int]]]:
            return {
                node: [
                    (p.hierarchy, p.target)
                    for p in validtime.in_force(self.records[node].parents, day)
                    if p.target in self.records
                ]
                for node in nodes
            }

        return [(h, self.records[node]) for h, node in validtime.ancestors(pk, parents_of)]

    def lineage(self, pk: int, *, one_to_one: bool = False) -> frozenset[int]:
        """Entries linked to ``pk`` through successor links, either way, at any distance.
        With ``one_to_one``, only through recodes (:func:`registry.validtime.recode_lineage`)."""
        walk = validtime.recode_lineage if one_to_one else validtime.lineage
        return walk(pk, self._successors, self._predecessors)

    def _successors(self, pk: int) -> tuple[int, ...]:
        record = self.records.get(pk)
        return record.successors if record else ()

    def _predecessors(self, pk: int) -> tuple[int, ...]:
        record = self.records.get(pk)
        return record.predecessors if record else ()

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
        index = Index(records, fingerprint, postings)
        self._carry_typed(index, changed)
        return index

    def _make_room(self, key: tuple) -> None:
        """Before a type's look-ups are kept: forget the oldest type not offered once
        MAX_TYPED of them are kept."""
        with self._lock:
            unpinned = [k for k in self._filters if k not in self._pinned and k != key]
            for old in unpinned[: max(0, len(unpinned) - MAX_TYPED + 1)]:
                self._filters.pop(old, None)
                self._admitted.pop(old, None)
                self._vocabularies.pop(old, None)

    def _carry_typed(self, index: Index, changed: dict[int, Record]) -> None:
        """Give ``index`` this one's per-type entry sets and word postings, patched for the
        ``changed`` records, so no query after an edit waits for them to be rebuilt."""
        index._pinned = set(self._pinned)
        for key, admits in list(self._filters.items()):
            before = self._admitted.get(key)
            if before is None:
                continue  # forgotten by _make_room meanwhile
            admitted = set(before)
            for pk, record in changed.items():
                if admits.admits(record.register, record.entity_types):
                    admitted.add(pk)
                else:
                    admitted.discard(pk)
            index._filters[key] = admits
            index._admitted[key] = frozenset(admitted)
            typed = self._vocabularies.get(key)
            if typed is None:
                continue
            postings = dict(typed[0])
            for pk, record in changed.items():
                old = self.records.get(pk)
                if old is not None and pk in before:
                    for word in _words(old):
                        rest = tuple(p for p in postings.get(word, ()) if p != pk)
                        if rest:
                            postings[word] = rest
                        else:
                            postings.pop(word, None)
                if pk in admitted:
                    for word in _words(record):
                        postings[word] = (*postings.get(word, ()), pk)
            index._vocabularies[key] = (postings, tuple(sorted(postings)))

    def prepare(self) -> None:
        """Compute the per-type look-ups of every type OpenRefine is offered (the groups and
        the registers), as the server does before its workers fork, so that they share them
        and no query waits for one."""
        # Not ``statistical-geography``: a query of that type uses the registry-wide ones.
        for type_id in (*types.GROUPS, types.COUNCILS, types.ENTITY_TYPES):
            admits = types.type_filter([type_id], self.entity_type_keys)
            if admits is not None:
                self._pinned.add((admits.registers, admits.entity_types))
                self.vocabulary_of(admits)


def _words(record: Record) -> set[str]:
    return {word for name in record.names for word in name.forms.full.split()}


def _version_sql(where: str) -> str:
    table = connection.ops.quote_name(Version._meta.db_table)
    return f"SELECT id, recorded_at FROM {table} {where}"  # noqa: S608 - no user input


def fingerprint() -> tuple:
    """The newest version's id and time: changes whenever any entry changes. Read on every
    request, so by one SQL statement on the primary key's index (the last row of its B-tree)
    without the ORM, whose building of the query cost ten times the query itself; the time
    is the database's own value (text on SQLite), compared only with itself."""
    with replicas.reading().cursor() as cursor:
        cursor.execute(_version_sql("ORDER BY id DESC LIMIT 1"))
        row = cursor.fetchone()
    return tuple(row) if row else (0, None)


def _still_there(mark: tuple) -> bool:
    """Whether the version a fingerprint names is still the one stored under its id."""
    with replicas.reading().cursor() as cursor:
        cursor.execute(_version_sql("WHERE id = %s"), [mark[0]])
        row = cursor.fetchone()
    return row is not None and tuple(row) == tuple(mark)


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
        last_id = index.fingerprint[0] if index is not None else 0
        still_there = index is not None and last_id and _still_there(index.fingerprint)
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
                    neighbours.update(s.target for s in record.governs)
                    neighbours.update(record.successors)
                    neighbours.update(record.predecessors)
            fresh = _load(changed_ids)
            for record in fresh.values():
                neighbours.update(s.target for s in record.governs)
                neighbours.update(record.successors)
                neighbours.update(record.predecessors)
            neighbours -= changed_ids
            if neighbours:
                fresh.update(_load(neighbours))
            index = index.updated(fresh, mark)
        else:
            index = Index(_load(None), mark)
            # A whole index is a few million long-lived objects: moved out of the cyclic
            # garbage collector's generations, later collections need not walk them again
            # (each full collection would otherwise traverse the whole index). Reference
            # counting still frees them when a rebuild replaces the index.
            gc.collect()
            gc.freeze()
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
            current().prepare()
        finally:
            connection.close()

    threading.Thread(target=build, name="reconcile-index", daemon=True).start()


def reset() -> None:
    """Forget the index (tests that swap the database use this)."""
    global _current
    with _lock:
        _current = None
