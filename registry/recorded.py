"""Record time: what the registry said at a past instant, read from the versions alone.

Every change to an entry or a change event writes a :class:`~registry.models.Version` holding
the complete snapshot afterwards (``registry.snapshots``), so the registry *as recorded at*
an instant ``at`` is, for each entry and event, the snapshot of its newest version recorded
at or before ``at``; an entry with no such version had not been recorded yet. Valid time is
then answered from those snapshots by the same rules as always (``registry.validtime``), so
"valid on D, as recorded at R" is ``validtime`` over the rows of the versions of R.

:class:`Recorded` is one such reading. It finds the newest version of a batch of entries
with one query (a correlated ``MAX(number)`` over the ``(entry, number)`` unique index, so
each entry costs an index range of its own few versions), turns snapshots into the same
:class:`~registry.facts.Rows` that ``registry.facts`` reads from the present tables, and
answers the questions a document asks of other entries (their names, lifetimes, the change
events that name an entry, the links that point at it) from versions too.

Links pointing *at* an entry (a council's ``governs``, a ward's parent) and the events that
name it are held in other entries' and events' snapshots. Rather than read every snapshot,
the candidates are those that point at it now and those with a version recorded after the
instant whose recorded change mentions it (a link that existed then and not now was removed
by a later version, whose ``changes`` name the entry); each candidate's snapshot at the
instant then decides.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from django.db.models import Max, Min, OuterRef, Q, Subquery, TextField
from django.db.models.functions import Cast

from . import documents, profiles, validtime
from .facts import CHUNK, EventRow, LinkRow, Ref, Rows
from .models import RELATION_KIND, ChangeEvent, ChangeLink, Entry, Relation, Version
from .snapshots import canonical, split_ref
from .uris import entry_uri, event_uri
from .validtime import Hop, IdentifierRow, Lifetime, NameRow, RelationRow, StateRow

# How far a version's recorded time may lag behind versions written before it (see
# Recorded._first_after): far more than the seconds between a write's clock reading and its
# insert, even for a whole load written in one statement.
CLOCK_MARGIN = dt.timedelta(minutes=15)


class VersionAt(NamedTuple):
    """The version of an entry (or event) in force at an instant."""

    number: int
    recorded_at: dt.datetime
    snapshot: dict[str, Any]


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def newest_versions(field: str, pks: Iterable[int], at: dt.datetime) -> dict[int, VersionAt]:
    """For each entry (``field="entry"``) or event (``"event"``) of ``pks``, its newest
    version recorded at or before ``at``; one query per chunk of pks, each pk an index range
    of its own versions (the ``(entry, number)`` and ``(event, number)`` unique indexes)."""
    column = f"{field}_id"
    found: dict[int, VersionAt] = {}
    for chunk in _chunks(sorted(set(pks))):
        newest = (
            Version.objects.filter(**{column: OuterRef(column)}, recorded_at__lte=at)
            .order_by("-number")
            .values("number")[:1]
        )
        rows = (
            Version.objects.filter(**{f"{column}__in": chunk}, number=Subquery(newest))
            .order_by()
            .values_list(column, "number", "recorded_at", "snapshot")
        )
        for pk, number, recorded_at, snapshot in rows:
            found[pk] = VersionAt(number, recorded_at, snapshot)
    return found


def first_recorded(entry: Entry | int) -> dt.datetime | None:
    """When an entry's first version was recorded (None: never)."""
    pk = entry if isinstance(entry, int) else entry.pk
    return (
        Version.objects.filter(entry_id=pk)
        .order_by("number")
        .values_list("recorded_at", flat=True)
        .first()
    )


def _day(value: str | None) -> dt.date | None:
    return validtime.day(value)


class Recorded:
    """The registry as recorded at ``at``: rows, names, lifetimes, events and successor links
    of entries, each from the snapshot of its newest version at or before ``at``. Readings
    are kept for the life of the object (one request)."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at
        self._versions: dict[int, VersionAt | None] = {}
        self._rows: dict[int, Rows | None] = {}
        self._refs: dict[str, Ref | None] = {}
        self._events: dict[int, tuple[EventRow, list[LinkRow]] | None] = {}
        self._boundary: int | None = None

    # -- entries ----------------------------------------------------------------------

    def versions(self, pks: Iterable[int]) -> dict[int, VersionAt]:
        """The version in force at the instant of each entry recorded by then."""
        pks = set(pks)
        missing = [pk for pk in pks if pk not in self._versions]
        if missing:
            found = newest_versions("entry", missing, self.at)
            for pk in missing:
                self._versions[pk] = found.get(pk)
        return {pk: v for pk in pks if (v := self._versions[pk]) is not None}

    def refs(self, names: Iterable[str]) -> dict[str, Ref]:
        """``register/key`` refs as :class:`Ref` (those naming an existing entry)."""
        wanted = {name for name in names if name not in self._refs}
        by_register: dict[str, set[str]] = defaultdict(set)
        for name in wanted:
            register, key = split_ref(name)
            by_register[register].add(key)
        for register, keys in by_register.items():
            for chunk in _chunks(sorted(keys)):
                for pk, key in Entry.objects.filter(
                    register__slug=register, key__in=chunk
                ).values_list("pk", "key"):
                    self._refs[f"{register}/{key}"] = Ref(pk, register, key)
        for name in wanted:
            self._refs.setdefault(name, None)
        return {name: ref for name in names if (ref := self._refs.get(name)) is not None}

    def rows(self, pks: Iterable[int | Ref]) -> dict[int, Rows]:
        """The rows of each entry recorded at the instant, from its snapshot, with
        ``governed_by`` left empty (see :meth:`governed_by`); others are left out."""
        pks = {p.pk if isinstance(p, Ref) else p for p in pks}
        missing = [pk for pk in pks if pk not in self._rows]
        if missing:
            versions = self.versions(missing)
            names = {
                pk: Ref(pk, register, key)
                for pk, register, key in Entry.objects.filter(pk__in=list(versions)).values_list(
                    "pk", "register__slug", "key"
                )
            }
            snaps = {pk: canonical(v.snapshot) for pk, v in versions.items()}
            targets = {r.target for s in snaps.values() for r in s["relations"]}
            types = {profiles.entity_type_ref(r.entity_type) for s in snaps.values()
                     for r in s["states"] if r.entity_type}  # fmt: skip
            refs = self.refs(targets | types)
            for pk in missing:
                snap = snaps.get(pk)
                if snap is None:
                    self._rows[pk] = None
                    continue
                self._rows[pk] = self._rows_of(names[pk], versions[pk].number, snap, refs)
        return {pk: r for pk in pks if (r := self._rows.get(pk)) is not None}

    @staticmethod
    def _rows_of(ref: Ref, number: int, snap: dict[str, Any], refs: Mapping[str, Ref]) -> Rows:
        def entity_type(key: str | None) -> Ref | None:
            return refs.get(profiles.entity_type_ref(key)) if key else None

        attributes = snap["attributes"] if isinstance(snap["attributes"], dict) else {}
        rows = Rows(ref, number, attributes)
        rows.states = sorted(
            (StateRow(_day(s.valid_from), _day(s.valid_to), s.status, entity_type(s.entity_type))
             for s in snap["states"]),
            key=lambda s: s.start,
        )  # fmt: skip
        rows.names = sorted(
            (NameRow(n.language, n.kind, n.text, _day(n.valid_from), _day(n.valid_to))
             for n in snap["names"]),
            key=lambda n: (n.language, n.kind, n.start or dt.date.min),
        )  # fmt: skip
        rows.relations = sorted(
            (RelationRow(r.kind, r.hierarchy, refs[r.target], _day(r.valid_from), _day(r.valid_to))
             for r in snap["relations"] if r.target in refs),
            key=lambda r: (r.kind, r.hierarchy, r.start),
        )  # fmt: skip
        rows.identifiers = sorted(
            (IdentifierRow(i.scheme, i.value, _day(i.valid_from), _day(i.valid_to))
             for i in snap["identifiers"]),
            key=lambda i: (i.scheme, i.start),
        )  # fmt: skip
        return rows

    def read_one(self, entry: Entry | Ref) -> Rows | None:
        """An entry's rows as recorded at the instant, ``governed_by`` included; None if
        it had not been recorded yet."""
        ref = entry if isinstance(entry, Ref) else Ref.of(entry)
        rows = self.rows([ref.pk]).get(ref.pk)
        if rows is not None:
            rows.governed_by = self.governed_by(ref)
        return rows

    # -- links that point at an entry -------------------------------------------------

    def _first_after(self) -> int:
        """A version id at or below that of every version recorded after the instant.

        ``recorded_at`` has no index (and one would need a migration), but versions are
        numbered in the order they are written and stamped as they are written, so their
        times rise with their ids, give or take the few seconds between a write's clock
        reading and its insert, with concurrent writes interleaved. So a binary search on the
        primary key finds the first id stamped after ``at`` less :data:`CLOCK_MARGIN`, and
        the versions after the instant are a primary-key range from there: a few rows for a
        recent instant, instead of a scan of every version's snapshot."""
        if self._boundary is None:
            since = self.at - CLOCK_MARGIN
            ids = Version.objects.order_by()
            low = ids.aggregate(low=Min("id"))["low"]
            high = ids.aggregate(high=Max("id"))["high"]
            if low is None:
                self._boundary = 0
                return 0
            # The first id whose version is stamped after ``since`` (high + 1 if none).
            lo, hi = low, high + 1
            while lo < hi:
                middle = (lo + hi) // 2
                row = ids.filter(id__gte=middle).order_by("id").values_list("id", "recorded_at")[:1]
                found = list(row)
                if not found:
                    hi = middle
                    continue
                at_id, stamped = found[0]
                if stamped > since:
                    hi = middle
                else:
                    lo = at_id + 1
            self._boundary = lo
        return self._boundary

    def _changed_since(self, field: str, refs: Iterable[Ref]) -> set[int]:
        """Entries (or events) with a version recorded after the instant whose recorded
        change mentions one of ``refs``."""
        refs = list(refs)
        if not refs:
            return set()
        mentions = Q()
        for ref in refs:
            mentions |= Q(text__contains=f'"{ref.ref}"')
        column = f"{field}_id"
        return set(
            Version.objects.filter(
                id__gte=self._first_after(),
                recorded_at__gt=self.at,
                **{f"{field}__isnull": False},
            )
            .annotate(text=Cast("changes", TextField()))
            .filter(mentions)
            .order_by()
            .values_list(column, flat=True)
        )

    def pointing_at(self, ref: Ref, kind: str) -> list[tuple[Rows, RelationRow]]:
        """The entries whose ``kind`` relations pointed at ``ref`` at the instant, each with
        that relation (one per relation)."""
        now = set(
            Relation.objects.filter(object_id=ref.pk, kind=kind).values_list(
                "subject_id", flat=True
            )
        )
        candidates = now | self._changed_since("entry", [ref])
        result = []
        for rows in self.rows(candidates).values():
            for relation in rows.relations:
                if relation.kind == kind and relation.target.pk == ref.pk:
                    result.append((rows, relation))
        return sorted(result, key=lambda item: (item[0].ref.key, item[1].start))

    def governed_by(self, ref: Ref) -> list[RelationRow]:
        """The governing links that named ``ref`` at the instant (target: the council)."""
        return [
            RelationRow(RELATION_KIND.GOVERNS, "", council.ref, relation.start, relation.end)
            for council, relation in self.pointing_at(ref, RELATION_KIND.GOVERNS)
        ]

    # -- names and lifetimes ----------------------------------------------------------

    def labels(self, refs: Iterable[Ref | int], on: dt.date) -> dict[int, str]:
        """:func:`registry.facts.labels` as recorded at the instant: an entry not recorded
        by then has no label (links show its key)."""
        found = self.rows(refs)
        return {pk: label for pk, rows in found.items() if (label := rows.label(on))}

    def lifetimes(self, pks: Iterable[int]) -> dict[int, Lifetime]:
        return {pk: rows.lifetime for pk, rows in self.rows(pks).items()}

    # -- change events ----------------------------------------------------------------

    def _event_rows(self, pks: Iterable[int]) -> dict[int, tuple[EventRow, list[LinkRow]]]:
        pks = set(pks)
        missing = [pk for pk in pks if pk not in self._events]
        if missing:
            versions = newest_versions("event", missing, self.at)
            keys = dict(ChangeEvent.objects.filter(pk__in=list(versions)).values_list("pk", "key"))
            sides = {
                side
                for v in versions.values()
                for pair in v.snapshot.get("links") or []
                for side in pair
                if side
            }
            refs = self.refs(sides)
            for pk in missing:
                version = versions.get(pk)
                if version is None:
                    self._events[pk] = None
                    continue
                snap = version.snapshot
                row = EventRow(
                    pk,
                    keys[pk],
                    _day(snap["date"]),
                    snap.get("kind", ""),
                    snap.get("instrument_id", ""),
                    snap.get("instrument_title", ""),
                    snap.get("note", ""),
                )
                links = [
                    LinkRow(pk, refs.get(before) if before else None,
                            refs.get(after) if after else None)
                    for before, after in snap.get("links") or []
                ]  # fmt: skip
                self._events[pk] = (row, links)
        return {pk: found for pk in pks if (found := self._events[pk]) is not None}

    def events_of(self, refs: Iterable[Ref]) -> tuple[dict[int, EventRow], list[LinkRow]]:
        """:func:`registry.facts.events_of` as recorded: the events whose snapshot at the
        instant links one of ``refs``, and every link of those events."""
        refs = list(refs)
        pks = {ref.pk for ref in refs}
        candidates = set(
            ChangeLink.objects.filter(Q(predecessor_id__in=pks) | Q(successor_id__in=pks))
            .order_by()
            .values_list("event_id", flat=True)
        )
        candidates |= self._changed_since("event", refs)
        events: dict[int, EventRow] = {}
        links: list[LinkRow] = []
        for pk, (row, event_links) in self._event_rows(candidates).items():
            if any(
                side is not None and side.pk in pks
                for link in event_links
                for side in (link.predecessor, link.successor)
            ):
                events[pk] = row
                links.extend(event_links)
        return events, links

    def events_with_keys(self, keys: Iterable[str]) -> tuple[dict[int, EventRow], list[LinkRow]]:
        pks = ChangeEvent.objects.filter(key__in=sorted(set(keys))).values_list("pk", flat=True)
        found = self._event_rows(pks)
        return (
            {pk: row for pk, (row, _) in found.items()},
            [link for _, links in found.values() for link in links],
        )

    # -- following successors ---------------------------------------------------------

    def current(self, starts: Iterable[Ref], on: dt.date) -> dict[Ref, list[tuple[Ref, list[Hop]]]]:
        """:func:`registry.facts.current` as recorded: the live entries on ``on`` each start
        led to by the successor links of the events recorded at the instant."""
        lifetimes: dict[int, Lifetime] = {}

        def live_on(node: Ref, day: dt.date) -> bool:
            if node.pk not in lifetimes:
                lifetimes.update(self.lifetimes([node.pk]))
            return lifetimes.get(node.pk, validtime.NEVER).contains(day)

        def steps_of(nodes: set[Ref]) -> dict[Ref, list[tuple[Hop, Ref]]]:
            events, links = self.events_of(nodes)
            by_pk = {node.pk: node for node in nodes}
            found: dict[Ref, list[tuple[Hop, Ref]]] = defaultdict(list)
            steps = []
            for link in links:
                event = events[link.event]
                if (
                    link.predecessor is not None
                    and link.predecessor.pk in by_pk
                    and link.successor is not None
                    and link.successor.pk != link.predecessor.pk
                    and event.date <= on
                ):
                    steps.append((event, link))
            lifetimes.update(self.lifetimes({link.successor.pk for _, link in steps}))
            for event, link in sorted(steps, key=lambda s: (s[0].date, s[1].successor.key)):
                node = by_pk[link.predecessor.pk]
                hop = Hop(event.key, event.kind, event.date, node.key, link.successor.key)
                found[node].append((hop, link.successor))
            return found

        starts = list(starts)
        found = validtime.current(starts, on, live_on, steps_of)
        return {
            start: sorted(paths, key=lambda item: item[0].key) for start, paths in found.items()
        }


# ---------------------------------------------------------------------------------------
# Documents and summaries as recorded


class NotRecorded(LookupError):
    """An entry that had no version yet at the instant asked about; ``first`` is when it was
    first recorded (None: never)."""

    def __init__(self, entry: Entry, at: dt.datetime, first: dt.datetime | None):
        super().__init__(entry.key)
        self.entry, self.at, self.first = entry, at, first


def describe(entry: Entry, date: dt.date, at: dt.datetime) -> documents.EntryDocument:
    """:func:`registry.documents.describe` as recorded at ``at``: the same document, built by
    the same pure builders from the versions in force at that instant (the entry's own, those
    of the entries it links to and the events that name it). :class:`NotRecorded` if the
    entry had no version yet."""
    reading = Recorded(at)
    rows = reading.read_one(entry)
    if rows is None:
        raise NotRecorded(entry, at, first_recorded(entry))
    state = rows.as_at(date)
    event_rows, link_rows = reading.events_of([rows.ref])
    own = documents.entry_facts(rows, state, event_rows, link_rows)
    found = reading.current([rows.ref], date)[rows.ref] if state.status != validtime.LIVE else []
    hop_keys = {hop.event for _, path in found for hop in path}
    extra, extra_links = reading.events_with_keys(hop_keys - {e.key for e in event_rows.values()})
    others = [*state.parents.values(), *state.governed_by, *state.governs]
    others += [
        r for row in (*link_rows, *extra_links) for r in (row.predecessor, row.successor) if r
    ]
    others += [node for node, _ in found]
    link = documents.labeller(reading.labels(others, date))
    type_name = (
        reading.labels([state.entity_type], validtime.today()).get(state.entity_type.pk)
        if state.entity_type
        else None
    )
    return documents.assemble(
        entry, date, rows, state, own, (event_rows, link_rows), (extra, extra_links), found,
        link, type_name,
    )  # fmt: skip


def summarise(
    entries: Iterable[Entry | Ref | int], date: dt.date, at: dt.datetime, *, parents: bool = True
) -> dict[int, dict[str, Any]]:
    """:func:`registry.documents.summarise` as recorded at ``at``: entries not recorded by
    then are left out."""
    reading = Recorded(at)
    pks = [e if isinstance(e, int) else e.pk for e in entries]
    found = reading.rows(pks)
    states = {pk: rows.as_at(date) for pk, rows in found.items()}
    types = {s.entity_type for s in states.values() if s.entity_type}
    type_names = reading.labels(types, validtime.today())
    wanted = [p for s in states.values() for p in s.parents.values()] if parents else []
    labels = reading.labels(wanted, date)
    result = {}
    for pk in pks:
        if pk not in found:
            continue
        rows, state = found[pk], states[pk]
        entity_type = state.entity_type
        summary = {
            "register": rows.ref.register,
            "key": rows.ref.key,
            "uri": entry_uri(rows.ref.register, rows.ref.key),
            # The one shaping of an entry's own fields (documents.summarise uses it too).
            **documents._own(rows, state, type_names.get(entity_type.pk) if entity_type else None),
        }
        if parents:
            summary["parents"] = {
                h: documents.link_dict(parent, labels)
                for h, parent in sorted(state.parents.items())
            }
        result[pk] = summary
    return result


def current_links(
    entries: Iterable[Entry | Ref], date: dt.date, at: dt.datetime
) -> dict[int, list[dict[str, Any]]]:
    """:func:`registry.documents.current_links` as recorded at ``at``."""
    reading = Recorded(at)
    refs = [e if isinstance(e, Ref) else Ref.of(e) for e in entries]
    recorded = reading.rows(refs)
    found = reading.current([r for r in refs if r.pk in recorded], date)
    labels = reading.labels({node for paths in found.values() for node, _ in paths}, date)
    return {
        start.pk: [
            {
                **documents.link_dict(node, labels),
                "via": [hop.as_dict(event_uri) for hop in path],
            }
            for node, path in paths
        ]
        for start, paths in found.items()
    }


__all__ = [
    "NotRecorded",
    "Recorded",
    "VersionAt",
    "current_links",
    "describe",
    "first_recorded",
    "newest_versions",
    "summarise",
]
