"""Reading the rows that valid time is worked out from, for one entry or for every entry.

``registry.validtime`` answers "as at a date" from plain rows; this module is the one place
that reads those rows out of the database. :func:`read` returns, for a batch of entries, their
states, names, relations, the governing links that name them and their identifiers, in one
query per kind of row whatever the size of the batch (so a page, a bulk lookup of a thousand
codes, a dump of sixty thousand entries and the reconciler's index pay the same per entry).
:func:`events_of` reads the change events an entry took part in, :func:`labels` the name to
show for linked entries, and :class:`Successors` the successor links that
:func:`registry.validtime.current` follows, a level at a time.

Other entries are referred to by :class:`Ref` (primary key, register slug and key), one shared
object per entry within a read, so that a register's worth of rows stays compact in memory.
The rows are read straight from the database cursor: a plain ``values_list`` spends more time
in Django's per-value converters than the database spends on the query.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import F, Q

from . import replicas, validtime
from .models import (
    RELATION_KIND,
    STATUS,
    ChangeEvent,
    ChangeLink,
    Entry,
    Identifier,
    Name,
    Relation,
    State,
)
from .validtime import Hop, IdentifierRow, Lifetime, NameRow, RelationRow, StateRow

# Primary keys per query: well below SQLite's limit on parameters in one statement.
CHUNK = 2000


class Ref(NamedTuple):
    """Another entry, as rows refer to it."""

    pk: int
    register: str
    key: str

    @property
    def ref(self) -> str:
        """``register/key``, as snapshots write it."""
        return f"{self.register}/{self.key}"

    @classmethod
    def of(cls, entry: Entry) -> Ref:
        """The Ref of an entry loaded with its register."""
        return cls(entry.pk, entry.register.slug, entry.key)


@dataclass(slots=True)
class Rows:
    """Everything the registry holds about one entry in valid time.

    ``states`` are in date order, their ``entity_type`` the entity type's :class:`Ref`;
    ``relations`` are the entry's own parent and governing links (target: the other entry);
    ``governed_by`` the governing links that name it (target: the council)."""

    ref: Ref
    version: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    states: list[StateRow] = field(default_factory=list)
    names: list[NameRow] = field(default_factory=list)
    relations: list[RelationRow] = field(default_factory=list)
    governed_by: list[RelationRow] = field(default_factory=list)
    identifiers: list[IdentifierRow] = field(default_factory=list)

    @property
    def lifetime(self) -> Lifetime:
        return validtime.lifetime(self.states)

    def as_at(self, on: dt.date) -> validtime.AsAt:
        return validtime.as_at(
            on, self.states, self.names, self.relations, self.governed_by, self.identifiers
        )

    def label(self, on: dt.date) -> str:
        return validtime.label(self.names, self.lifetime, on) or self.ref.key


ALL_PARTS = frozenset({"names", "relations", "governed_by", "identifiers"})


class _Reader:
    """One read: shared Ref and date objects, so equal values are stored once."""

    def __init__(self) -> None:
        self.refs: dict[int, Ref] = {}
        self.dates: dict[Any, dt.date] = {}
        self.words: dict[str, str] = {}

    def ref(self, pk: int, register: str, key: str) -> Ref:
        found = self.refs.get(pk)
        if found is None:
            found = self.refs[pk] = Ref(pk, sys.intern(register), key)
        return found

    def date(self, value: Any) -> dt.date | None:
        if value is None:
            return None
        shared = self.dates.get(value)
        if shared is None:
            shared = self.dates[value] = validtime.day(value)
        return shared

    def word(self, value: str) -> str:
        return sys.intern(value) if value else value


def fetch(queryset, *fields: str) -> Iterator[tuple]:
    """Rows of ``fields`` straight from the cursor, without Django's value converters (dates
    come back as text on SQLite; :class:`_Reader` turns them into shared dates)."""
    try:
        sql, params = queryset.values_list(*fields).query.sql_with_params()
    except EmptyResultSet:  # a filter such as pk__in=[] that can match nothing
        return
    # The queryset's own database: a replica's for a public read (registry/replicas.py).
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(10000):
            yield from rows


def _scoped(pks: list[int] | None) -> Iterator[list[int] | None]:
    if pks is None:
        yield None
        return
    for start in range(0, len(pks), CHUNK):
        yield pks[start : start + CHUNK]


def read(
    entries: Iterable[int | Entry | Ref] | None = None, parts: frozenset[str] = ALL_PARTS
) -> dict[int, Rows]:
    """The rows of the given entries (primary keys, entries loaded with their register, or
    Refs; every entry when None), keyed by primary key. ``parts`` leaves out kinds of row
    nobody needs (states are always read). The entry row of a Ref is not read: its Rows have
    no version or attributes (0 and none), which only reads such as summaries do without."""
    reader = _Reader()
    result: dict[int, Rows] = {}
    ids = None
    if entries is not None:
        items = list(entries)
        for item in items:  # no need to read again what the caller has
            if isinstance(item, Entry):
                ref = reader.ref(item.pk, item.register.slug, item.key)
                result[item.pk] = Rows(ref, item.version, item.attributes or {})
            elif isinstance(item, Ref):
                result[item.pk] = Rows(reader.refs.setdefault(item.pk, item))
        ids = sorted({e if isinstance(e, int) else e.pk for e in items})
    for chunk in _scoped(ids):
        _read_chunk(chunk, parts, reader, result)
    for rows in result.values():  # (a list of one is in order already)
        if len(rows.states) > 1:
            rows.states.sort(key=lambda s: s.start)
        if len(rows.names) > 1:
            rows.names.sort(key=lambda n: (n.language, n.kind, n.start or dt.date.min))
        if len(rows.relations) > 1:
            rows.relations.sort(key=lambda r: (r.kind, r.hierarchy, r.start))
        if len(rows.governed_by) > 1:
            rows.governed_by.sort(key=lambda r: (r.target.key, r.start))
        if len(rows.identifiers) > 1:
            rows.identifiers.sort(key=lambda i: (i.scheme, i.start))
    return result


def within(field_name: str, ids: list[int]) -> Q:
    """A filter for rows whose ``field_name`` is one of ``ids`` (sorted). Where the ids are
    dense (a batch of a load, written in key order) it is a range, which is much cheaper for
    Django to build than an IN of thousands; rows of other entries in the range are skipped
    by the caller."""
    if ids and ids[-1] - ids[0] < 2 * len(ids):
        return Q(**{f"{field_name}__gte": ids[0], f"{field_name}__lte": ids[-1]})
    return Q(**{f"{field_name}__in": ids})


def among(queryset, field_name: str, values: Iterable[int] | Iterable[str]):
    """``queryset`` narrowed to rows whose ``field_name`` (a column of its own table) is one
    of ``values``: primary keys (where they are dense, the range of :func:`within`) or text,
    written into an ``IN`` as they are. Django's ``__in`` prepares and checks each of a
    thousand values one by one, which costs more CPU than the database spends answering."""
    values = sorted(set(values))
    if not values:
        return queryset.none()
    numbers = isinstance(values[0], int)
    if numbers and values[-1] - values[0] < 2 * len(values):
        return queryset.filter(within(field_name, values))
    model = queryset.model
    column = model._meta.get_field(field_name).column
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(values))
    return queryset.extra(  # noqa: S610 (the values are parameters; the names are the model's)
        where=[f"{quote(model._meta.db_table)}.{quote(column)} IN ({marks})"],
        params=[int(v) for v in values] if numbers else [str(v) for v in values],
    )


def refs_by_key(register: str, keys: Iterable[str]) -> dict[str, Ref]:
    """The entries of ``register`` (its slug) with the given keys, as Refs by key: a query per
    :data:`CHUNK` keys, written as they are (as :func:`among` writes ids)."""
    wanted = sorted(set(keys))
    register = sys.intern(register)
    found: dict[str, Ref] = {}
    for start in range(0, len(wanted), CHUNK):
        queryset = Entry.objects.order_by().filter(register__slug=register)
        for pk, key in fetch(among(queryset, "key", wanted[start : start + CHUNK]), "id", "key"):
            found[key] = Ref(pk, register, key)
    return found


def _read_chunk(ids, parts, reader: _Reader, result: dict[int, Rows]) -> None:
    def only(queryset, field_name: str = "entry_id"):
        return queryset if ids is None else among(queryset, field_name, ids)

    missing = None if ids is None else [pk for pk in ids if pk not in result]
    entries = Entry.objects.order_by()
    if missing is not None:
        entries = among(entries, "id", missing)
        wanted = set(missing)
    for pk, register, key, version, attributes in (
        fetch(entries, "id", "register__slug", "key", "version", "attributes")
        if missing is None or missing
        else ()
    ):
        if missing is not None and pk not in wanted:
            continue
        if isinstance(attributes, str):  # SQLite's JSON is text
            attributes = json.loads(attributes) if attributes else {}
        result[pk] = Rows(reader.ref(pk, register, key), version, attributes or {})

    date, word = reader.date, reader.word
    for entry_id, start, end, status, type_pk, type_register, type_key in fetch(
        only(State.objects.order_by()),
        "entry_id",
        "valid_from",
        "valid_to",
        "status",
        "entity_type_id",
        "entity_type__register__slug",
        "entity_type__key",
    ):
        rows = result.get(entry_id)
        if rows is None:
            continue  # outside the batch
        entity_type = reader.ref(type_pk, type_register, type_key) if type_pk else None
        rows.states.append(StateRow(date(start), date(end), word(status), entity_type))
    if "names" in parts:
        for entry_id, language, kind, text, start, end in fetch(
            only(Name.objects.order_by()),
            "entry_id",
            "language",
            "kind",
            "text",
            "valid_from",
            "valid_to",
        ):
            rows = result.get(entry_id)
            if rows is not None:
                rows.names.append(NameRow(word(language), word(kind), text, date(start), date(end)))
    if "relations" in parts:
        for subject, kind, hierarchy, pk, register, key, start, end in fetch(
            only(Relation.objects.order_by(), "subject_id"),
            "subject_id",
            "kind",
            "hierarchy",
            "object_id",
            "object__register__slug",
            "object__key",
            "valid_from",
            "valid_to",
        ):
            rows = result.get(subject)
            if rows is None:
                continue
            rows.relations.append(
                RelationRow(
                    word(kind),
                    word(hierarchy),
                    reader.ref(pk, register, key),
                    date(start),
                    date(end),
                )
            )
    if "governed_by" in parts:
        governing = Relation.objects.order_by().filter(kind=RELATION_KIND.GOVERNS)
        for obj, pk, register, key, start, end in fetch(
            only(governing, "object_id"),
            "object_id",
            "subject_id",
            "subject__register__slug",
            "subject__key",
            "valid_from",
            "valid_to",
        ):
            rows = result.get(obj)
            if rows is None:
                continue
            rows.governed_by.append(
                RelationRow(
                    RELATION_KIND.GOVERNS,
                    "",
                    reader.ref(pk, register, key),
                    date(start),
                    date(end),
                )
            )
    if "identifiers" in parts:
        for entry_id, scheme, value, start, end in fetch(
            only(Identifier.objects.order_by()),
            "entry_id",
            "scheme",
            "value",
            "valid_from",
            "valid_to",
        ):
            rows = result.get(entry_id)
            if rows is not None:
                rows.identifiers.append(IdentifierRow(word(scheme), value, date(start), date(end)))


def read_one(entry: Entry | int) -> Rows:
    pk = entry if isinstance(entry, int) else entry.pk
    return read([entry])[pk]


# ---------------------------------------------------------------------------------------
# Labels for linked entries


def labels(
    refs: Iterable[Ref | int], on: dt.date, language: str = validtime.ENGLISH
) -> dict[int, str]:
    """The name to show for each entry when linking to it as at ``on``
    (:func:`registry.validtime.label`), keyed by primary key; two queries. With
    ``language="cy"``, the Welsh names (only of the entries that have one)."""
    return labels_on({on: refs}, language)[on]


def labels_on(
    wanted: Mapping[dt.date, Iterable[Ref | int]], language: str = validtime.ENGLISH
) -> dict[dt.date, dict[int, str]]:
    """:func:`labels` for several dates at once (entity types are named as today, the
    entries they type as at the date asked), reading each entry's rows once."""
    asked = {
        on: {ref.pk if isinstance(ref, Ref) else ref for ref in refs} for on, refs in wanted.items()
    }
    names, lives = label_rows(set().union(*asked.values()) if asked else (), language)
    return {
        on: named_as(wanted_pks, names, lives, on, language) for on, wanted_pks in asked.items()
    }


def named_as(
    pks: Iterable[int],
    names: Mapping[int, list[NameRow]],
    lives: Mapping[int, Lifetime],
    on: dt.date,
    language: str = validtime.ENGLISH,
) -> dict[int, str]:
    """:func:`labels` from the rows :func:`label_rows` read."""
    found = {}
    for pk in pks:
        text = validtime.label(names.get(pk, ()), lives.get(pk, validtime.NEVER), on, language)
        if text:
            found[pk] = text
    return found


def lifetimes(pks: Iterable[int]) -> dict[int, Lifetime]:
    """Each entry's lifetime, from its live states, in one query per chunk."""
    reader = _Reader()
    states: dict[int, list[StateRow]] = defaultdict(list)
    wanted = set(pks)
    for chunk in _scoped(sorted(wanted)):
        for entry_id, start, end in fetch(
            among(State.objects.order_by().filter(status=STATUS.LIVE), "entry_id", chunk),
            "entry_id",
            "valid_from",
            "valid_to",
        ):
            if entry_id not in wanted:
                continue  # in the range of a dense chunk, but not asked for
            states[entry_id].append(StateRow(reader.date(start), reader.date(end), STATUS.LIVE))
    return {pk: validtime.lifetime(rows) for pk, rows in states.items()}


# ---------------------------------------------------------------------------------------
# Change events


class EventRow(NamedTuple):
    pk: int
    key: str
    date: dt.date
    kind: str
    instrument_id: str
    instrument_title: str
    note: str


class LinkRow(NamedTuple):
    """One predecessor → successor link of an event (either side may be missing)."""

    event: int
    predecessor: Ref | None
    successor: Ref | None


EVENT_FIELDS = ("id", "key", "date", "kind", "instrument_id", "instrument_title", "note")
LINK_FIELDS = (
    "event_id",
    "predecessor_id",
    "predecessor__register__slug",
    "predecessor__key",
    "successor_id",
    "successor__register__slug",
    "successor__key",
)


def events(queryset=None, pks: Iterable[int] | None = None) -> dict[int, EventRow]:
    """Change events (of ``queryset``, or with these primary keys), keyed by primary key."""
    reader = _Reader()
    if queryset is None:
        queryset = ChangeEvent.objects.filter(pk__in=list(pks or ()))
    return {
        row[0]: EventRow(row[0], row[1], reader.date(row[2]), *row[3:])
        for row in fetch(queryset.order_by(), *EVENT_FIELDS)
    }


def links(event_pks: Iterable[int]) -> list[LinkRow]:
    """Every link of the given events."""
    reader = _Reader()
    result = []
    for chunk in _scoped(sorted(set(event_pks))):
        for event, p_pk, p_reg, p_key, s_pk, s_reg, s_key in fetch(
            ChangeLink.objects.order_by().filter(event_id__in=chunk), *LINK_FIELDS
        ):
            result.append(
                LinkRow(
                    event,
                    reader.ref(p_pk, p_reg, p_key) if p_pk else None,
                    reader.ref(s_pk, s_reg, s_key) if s_pk else None,
                )
            )
    return result


def events_of(pks: Iterable[int]) -> tuple[dict[int, EventRow], list[LinkRow]]:
    """The change events the given entries took part in (as predecessor or successor), and
    every link of those events; three queries."""
    ids = sorted(set(pks))
    event_pks: set[int] = set()
    for chunk in _scoped(ids):
        event_pks.update(
            row[0]
            for row in fetch(
                ChangeLink.objects.order_by().filter(
                    Q(predecessor_id__in=chunk) | Q(successor_id__in=chunk)
                ),
                "event_id",
            )
        )
    if not event_pks:
        return {}, []
    return events(pks=event_pks), links(event_pks)


# ---------------------------------------------------------------------------------------
# Successor links, for validtime.current


class Successors:
    """The successor steps and lifetimes :func:`registry.validtime.current` asks for, read
    from the database a level at a time (one query for the links of every node at a level,
    one for the lifetimes of the successors they reach) and kept for the walk."""

    def __init__(self, on: dt.date, known: Mapping[int, Lifetime] | None = None) -> None:
        self.on = on
        self.lifetimes: dict[int, Lifetime] = dict(known or {})
        self.reader = _Reader()

    def reached(self) -> list[Ref]:
        """Every successor the walk has reached so far."""
        return list(self.reader.refs.values())

    def prefetch(self, nodes: Iterable[Ref]) -> None:
        """Read the lifetimes of the nodes the walk starts from, in one query."""
        missing = {node.pk for node in nodes if node.pk not in self.lifetimes}
        if missing:
            fresh = lifetimes(missing)
            self.lifetimes.update({pk: fresh.get(pk, validtime.NEVER) for pk in missing})

    def live_on(self, node: Ref, on: dt.date) -> bool:
        if node.pk not in self.lifetimes:
            self.prefetch([node])
        return self.lifetimes.get(node.pk, validtime.NEVER).contains(on)

    def steps_of(self, nodes: set[Ref]) -> dict[Ref, list[tuple[Hop, Ref]]]:
        by_pk = {node.pk: node for node in nodes}
        found: dict[Ref, list[tuple[Hop, Ref]]] = defaultdict(list)
        reached: set[int] = set()
        for chunk in _scoped(sorted(by_pk)):
            rows = fetch(
                ChangeLink.objects.filter(
                    predecessor_id__in=chunk, successor__isnull=False, event__date__lte=self.on
                )
                .exclude(successor_id=F("predecessor_id"))
                .order_by("event__date", "successor__key"),
                "predecessor_id",
                "successor_id",
                "successor__register__slug",
                "successor__key",
                "event__key",
                "event__kind",
                "event__date",
            )
            for pred, succ, succ_register, succ_key, event, kind, date in rows:
                node = by_pk[pred]
                successor = self.reader.ref(succ, succ_register, succ_key)
                hop = Hop(event, kind, self.reader.date(date), node.key, succ_key)
                found[node].append((hop, successor))
                if succ not in self.lifetimes:
                    reached.add(succ)
        if reached:
            fresh = lifetimes(reached)
            self.lifetimes.update({pk: fresh.get(pk, validtime.NEVER) for pk in reached})
        return found


# Every successor link a walk from the starts may follow on or before the date (every
# successor reached, transitively: a superset of what validtime.current visits, which stops at
# live entries), and the states of every entry reached. Columns: tag, three integers, three
# texts, two dates.
_SUCCESSION = """
WITH RECURSIVE walk(node) AS (
  SELECT CAST(e.id AS BIGINT) FROM {entry} e WHERE e.id IN ({marks})
  UNION
  SELECT CAST(l.successor_id AS BIGINT) FROM {link} l
    JOIN {event} ev ON ev.id = l.event_id
    JOIN walk w ON l.predecessor_id = w.node
    WHERE l.successor_id IS NOT NULL AND ev.date <= %s
)
SELECT 'l', l.predecessor_id, l.successor_id, s.register_id, s.key, ev.key, ev.kind,
       ev.date, NULL
  FROM {link} l
  JOIN {event} ev ON ev.id = l.event_id
  JOIN {entry} s ON s.id = l.successor_id
  WHERE l.predecessor_id IN (SELECT node FROM walk) AND ev.date <= %s
    AND l.successor_id <> l.predecessor_id
UNION ALL
SELECT 's', st.entry_id, NULL, NULL, st.status, NULL, NULL, st.valid_from, st.valid_to
  FROM {state} st WHERE st.entry_id IN (SELECT node FROM walk)
"""


class Succession:
    """What :func:`registry.validtime.current` asks for, for a whole batch of starts: every
    successor link their walks may follow and the lifetime of every entry reached, read in one
    recursive query per :data:`CHUNK` starts before the walk (where :class:`Successors` reads
    a level at a time, two queries a level)."""

    def __init__(self, on: dt.date, known: Mapping[int, Lifetime] | None = None) -> None:
        self.on = on
        self.lifetimes: dict[int, Lifetime] = dict(known or {})
        # Each predecessor's steps: (date, successor key, event key, kind, successor).
        self.steps: dict[int, list[tuple[dt.date, str, str, str, Ref]]] = {}

    def read(self, starts: Iterable[Ref]) -> None:
        """Read the lifetimes of the starts not known yet, then the links and lifetimes the
        walks from those not live on the date need."""
        starts = list(starts)
        missing = {node.pk for node in starts if node.pk not in self.lifetimes}
        if missing:
            fresh = lifetimes(missing)
            self.lifetimes.update({pk: fresh.get(pk, validtime.NEVER) for pk in missing})
        walking = sorted({n.pk for n in starts if not self.lifetimes[n.pk].contains(self.on)})
        reader, slugs, tables = _Reader(), _register_slugs(), _tables()
        on = connection.ops.adapt_datefield_value(self.on)
        for chunk in _scoped(walking):
            if not chunk:
                continue
            marks = ", ".join(["%s"] * len(chunk))
            steps: dict[int, list[tuple[dt.date, str, str, str, Ref]]] = defaultdict(list)
            states: dict[int, list[StateRow]] = defaultdict(list)
            with replicas.reading().cursor() as cursor:
                cursor.execute(_SUCCESSION.format(marks=marks, **tables), [*chunk, on, on])
                found = cursor.fetchall()
            for tag, a, b, c, d, e, f, start, end in found:
                if tag == "l":
                    successor = reader.ref(b, slugs[c], d)
                    steps[a].append((reader.date(start), d, e, f, successor))
                else:
                    states[a].append(StateRow(reader.date(start), reader.date(end), d))
            for pk, rows in steps.items():
                # A walk of an earlier chunk may have read the same entry's steps already.
                if pk not in self.steps:
                    rows.sort(key=lambda step: (step[0], step[1]))
                    self.steps[pk] = rows
            for pk, rows in states.items():
                if pk not in self.lifetimes:
                    self.lifetimes[pk] = validtime.lifetime(rows)

    def live_on(self, node: Ref, on: dt.date) -> bool:
        return self.lifetimes.get(node.pk, validtime.NEVER).contains(on)

    def steps_of(self, nodes: set[Ref]) -> dict[Ref, list[tuple[Hop, Ref]]]:
        """Each node's successor steps on or before the date, in the order of the event's
        date and the successor's key (as :meth:`Successors.steps_of` gives them)."""
        found: dict[Ref, list[tuple[Hop, Ref]]] = {}
        for node in nodes:
            rows = self.steps.get(node.pk)
            if rows:
                found[node] = [
                    (Hop(event, kind, date, node.key, key), successor)
                    for date, key, event, kind, successor in rows
                ]
        return found


def current(
    starts: Iterable[Ref], on: dt.date, known: Mapping[int, Lifetime] | None = None
) -> dict[Ref, list[tuple[Ref, list[Hop]]]]:
    """:func:`registry.validtime.current` over the database: for each start, the live
    entries on ``on`` it leads to with the hops that led there, sorted by key; a query for the
    starts' lifetimes not ``known`` and one for every link and lifetime their walks need
    (:class:`Succession`)."""
    starts = list(starts)
    walk = Succession(on, known)
    walk.read(starts)
    # A start live on the date leads to itself (what validtime.current finds for it, without
    # a search of its own: most of a bulk lookup's codes are live).
    walking = [start for start in starts if not walk.live_on(start, on)]
    found = validtime.current(walking, on, walk.live_on, walk.steps_of) if walking else {}
    return {
        start: (
            sorted(found[start], key=lambda item: item[0].key) if start in found else [(start, [])]
        )
        for start in starts
    }


# ---------------------------------------------------------------------------------------
# One entry, in a fixed number of queries
#
# An entry's document needs its own rows, the change events it took part in (with every link
# of each, and of the events on the way to its current codes) and the names and lifetimes of
# the entries all those rows name. Read through the ORM that is a dozen or more queries, each
# costing more to build than the database spends answering it; here it is three hand-written
# queries whatever the entry (:func:`read_entry`, :func:`walk`, :func:`label_rows`), so an
# entry nobody has asked for costs what a cached one would. The SQL is the same on SQLite
# and PostgreSQL: every column of a UNION ALL has one type in every branch.


def _tables() -> dict[str, str]:
    return {
        "entry": Entry._meta.db_table,
        "state": State._meta.db_table,
        "name": Name._meta.db_table,
        "relation": Relation._meta.db_table,
        "identifier": Identifier._meta.db_table,
        "event": ChangeEvent._meta.db_table,
        "link": ChangeLink._meta.db_table,
    }


# Every row of one entry, each tagged with what it is: the entry itself (e), its states (s),
# names (n), parent and governing links (r), the governing links that name it (g) and its
# identifiers (i). Columns: tag, two integers, three texts, two dates.
_ENTRY_ROWS = """
SELECT 'e', e.register_id, e.version, e.key, CAST(e.attributes AS TEXT), NULL, NULL, NULL
  FROM {entry} e WHERE e.id = %(pk)s
UNION ALL
SELECT 's', s.entity_type_id, t.register_id, s.status, t.key, NULL, s.valid_from, s.valid_to
  FROM {state} s LEFT JOIN {entry} t ON t.id = s.entity_type_id WHERE s.entry_id = %(pk)s
UNION ALL
SELECT 'n', NULL, NULL, n.language, n.kind, n.text, n.valid_from, n.valid_to
  FROM {name} n WHERE n.entry_id = %(pk)s
UNION ALL
SELECT 'r', r.object_id, o.register_id, r.kind, r.hierarchy, o.key, r.valid_from, r.valid_to
  FROM {relation} r JOIN {entry} o ON o.id = r.object_id WHERE r.subject_id = %(pk)s
UNION ALL
SELECT 'g', r.subject_id, o.register_id, NULL, NULL, o.key, r.valid_from, r.valid_to
  FROM {relation} r JOIN {entry} o ON o.id = r.subject_id
  WHERE r.object_id = %(pk)s AND r.kind = %(governs)s
UNION ALL
SELECT 'i', NULL, NULL, i.scheme, i.value, NULL, i.valid_from, i.valid_to
  FROM {identifier} i WHERE i.entry_id = %(pk)s
"""


def _register_slugs() -> dict[int, str]:
    from .statistics import registers

    return {register.pk: register.slug for register in registers().values()}


def read_entry(pk: int) -> Rows | None:
    """The rows of one entry (as :func:`read` gives them), in one query; None if there is
    no such entry."""
    reader, slugs = _Reader(), _register_slugs()
    date, word = reader.date, reader.word
    with replicas.reading().cursor() as cursor:
        cursor.execute(
            _ENTRY_ROWS.format(**_tables()), {"pk": pk, "governs": RELATION_KIND.GOVERNS}
        )
        found = cursor.fetchall()
    head = next((row for row in found if row[0] == "e"), None)
    if head is None:
        return None
    _, register_id, version, key, attributes, *_ = head
    rows = Rows(reader.ref(pk, slugs[register_id], key), version, json.loads(attributes or "{}"))
    for tag, a, b, c, d, e, start, end in found:
        if tag == "s":
            entity_type = reader.ref(a, slugs[b], d) if a else None
            rows.states.append(StateRow(date(start), date(end), word(c), entity_type))
        elif tag == "n":
            rows.names.append(NameRow(word(c), word(d), e, date(start), date(end)))
        elif tag == "r":
            ref = reader.ref(a, slugs[b], e)
            rows.relations.append(RelationRow(word(c), word(d), ref, date(start), date(end)))
        elif tag == "g":
            ref = reader.ref(a, slugs[b], e)
            rows.governed_by.append(
                RelationRow(RELATION_KIND.GOVERNS, "", ref, date(start), date(end))
            )
        elif tag == "i":
            rows.identifiers.append(IdentifierRow(word(c), d, date(start), date(end)))
    rows.states.sort(key=lambda s: s.start)
    rows.names.sort(key=lambda n: (n.language, n.kind, n.start or dt.date.min))
    rows.relations.sort(key=lambda r: (r.kind, r.hierarchy, r.start))
    rows.governed_by.sort(key=lambda r: (r.target.key, r.start))
    rows.identifiers.sort(key=lambda i: (i.scheme, i.start))
    return rows


# The successor links a walk from the entry may follow on or before the date (every
# successor reached, transitively: a superset of what validtime.current visits, which stops at
# live entries), and every link of every event that the entry, or an entry the walk reaches,
# is a predecessor in, or the entry a successor in.
_WALK = """
WITH RECURSIVE walk(node) AS (
  SELECT CAST(%(pk)s AS BIGINT)
  UNION
  SELECT CAST(l.successor_id AS BIGINT) FROM {link} l
    JOIN {event} ev ON ev.id = l.event_id
    JOIN walk w ON l.predecessor_id = w.node
    WHERE l.successor_id IS NOT NULL AND ev.date <= %(on)s
)
SELECT ev.id, ev.key, ev.date, ev.kind, ev.instrument_id, ev.instrument_title, ev.note,
       l.predecessor_id, p.register_id, p.key, l.successor_id, s.register_id, s.key
  FROM {link} l
  JOIN {event} ev ON ev.id = l.event_id
  LEFT JOIN {entry} p ON p.id = l.predecessor_id
  LEFT JOIN {entry} s ON s.id = l.successor_id
  WHERE l.event_id IN (
    SELECT event_id FROM {link} WHERE predecessor_id IN (SELECT node FROM walk)
    UNION SELECT event_id FROM {link} WHERE successor_id = %(pk)s
  )
"""


@dataclass(slots=True)
class Walk:
    """The change events around one entry, from one query (:func:`walk`): ``events`` and
    ``links`` are those the entry took part in (what :func:`events_of` gives); ``all_events``
    and ``all_links`` add those on the way to its current codes as at ``on``."""

    ref: Ref
    on: dt.date
    all_events: dict[int, EventRow]
    all_links: list[LinkRow]

    @property
    def own(self) -> set[int]:
        pk = self.ref.pk
        return {
            row.event
            for row in self.all_links
            if (row.predecessor and row.predecessor.pk == pk)
            or (row.successor and row.successor.pk == pk)
        }

    @property
    def events(self) -> dict[int, EventRow]:
        own = self.own
        return {pk: e for pk, e in self.all_events.items() if pk in own}

    @property
    def links(self) -> list[LinkRow]:
        own = self.own
        return [row for row in self.all_links if row.event in own]

    def steps_of(self, nodes: set[Ref]) -> dict[Ref, list[tuple[Hop, Ref]]]:
        """:meth:`Successors.steps_of` over the links read: each node's successor steps on or
        before ``on``, in the order of the event's date and the successor's key."""
        by_pk = {node.pk: node for node in nodes}
        found: dict[Ref, list[tuple[Hop, Ref]]] = defaultdict(list)
        for row in self.all_links:
            if row.predecessor is None or row.successor is None:
                continue
            node = by_pk.get(row.predecessor.pk)
            event = self.all_events[row.event]
            if node is None or row.successor.pk == node.pk or event.date > self.on:
                continue
            found[node].append(
                (Hop(event.key, event.kind, event.date, node.key, row.successor.key), row.successor)
            )
        for steps in found.values():
            steps.sort(key=lambda step: (step[0].date, step[1].key))
        return found


def walk(ref: Ref, on: dt.date) -> Walk:
    """The events :class:`Walk` describes, for ``ref`` as at ``on``, in one query."""
    reader, slugs = _Reader(), _register_slugs()
    events: dict[int, EventRow] = {}
    found: list[LinkRow] = []
    seen: set[tuple] = set()
    with replicas.reading().cursor() as cursor:
        cursor.execute(
            _WALK.format(**_tables()),
            {"pk": ref.pk, "on": connection.ops.adapt_datefield_value(on)},
        )
        rows = cursor.fetchall()
    for pk, key, date, kind, instrument_id, instrument_title, note, *sides in rows:
        if pk not in events:
            events[pk] = EventRow(
                pk, key, reader.date(date), kind, instrument_id, instrument_title, note
            )
        p_pk, p_reg, p_key, s_pk, s_reg, s_key = sides
        if (pk, p_pk, s_pk) in seen:
            continue
        seen.add((pk, p_pk, s_pk))
        found.append(
            LinkRow(
                pk,
                reader.ref(p_pk, slugs[p_reg], p_key) if p_pk else None,
                reader.ref(s_pk, slugs[s_reg], s_key) if s_pk else None,
            )
        )
    return Walk(ref, on, events, found)


# Every parent link on a day from an entry up, through its parents' parents, each link once.
_ANCESTORS = """
WITH RECURSIVE up(node) AS (
  SELECT CAST(%(pk)s AS BIGINT)
  UNION
  SELECT CAST(r.object_id AS BIGINT) FROM {relation} r
    JOIN up ON r.subject_id = up.node
    WHERE r.kind = %(kind)s AND r.valid_from <= %(on)s
      AND (r.valid_to IS NULL OR r.valid_to >= %(on)s)
)
SELECT r.subject_id, r.hierarchy, r.object_id, o.register_id, o.key
  FROM {relation} r
  JOIN up ON r.subject_id = up.node
  JOIN {entry} o ON o.id = r.object_id
  WHERE r.kind = %(kind)s AND r.valid_from <= %(on)s
    AND (r.valid_to IS NULL OR r.valid_to >= %(on)s)
"""


def ancestors(pk: int, on: dt.date) -> dict[int, dict[str, Ref]]:
    """The parents on ``on`` of the entry ``pk`` and of each of its ancestors, by hierarchy:
    ``{entry: {hierarchy: parent}}`` for every entry on the way up, in one query (a
    breadcrumb follows one chain through it, :func:`registry.validtime.chain`)."""
    reader, slugs = _Reader(), _register_slugs()
    found: dict[int, dict[str, Ref]] = {}
    with replicas.reading().cursor() as cursor:
        cursor.execute(
            _ANCESTORS.format(**_tables()),
            {
                "pk": pk,
                "kind": RELATION_KIND.PARENT,
                "on": connection.ops.adapt_datefield_value(on),
            },
        )
        rows = cursor.fetchall()
    for subject, hierarchy, parent, register, key in sorted(rows, key=lambda r: (r[0], r[1])):
        found.setdefault(subject, {})[hierarchy] = reader.ref(parent, slugs[register], key)
    return found


_LABEL_ROWS = """
SELECT n.entry_id, n.kind, n.text, n.valid_from, n.valid_to
  FROM {name} n WHERE n.language = %s AND n.entry_id IN ({marks})
UNION ALL
SELECT s.entry_id, NULL, NULL, s.valid_from, s.valid_to
  FROM {state} s WHERE s.status = %s AND s.entry_id IN ({marks})
"""


def label_rows(
    pks: Iterable[int], language: str = validtime.ENGLISH
) -> tuple[dict[int, list[NameRow]], dict[int, Lifetime]]:
    """What :func:`registry.validtime.label` works from, for each entry: its names in
    ``language`` (by kind and start) and its lifetime; one query for up to :data:`CHUNK` entries."""
    reader = _Reader()
    names: dict[int, list[NameRow]] = defaultdict(list)
    states: dict[int, list[StateRow]] = defaultdict(list)
    tables = _tables()
    for chunk in _scoped(sorted(set(pks))):
        if not chunk:
            continue
        marks = ", ".join(["%s"] * len(chunk))
        sql = _LABEL_ROWS.format(marks=marks, **tables)
        with replicas.reading().cursor() as cursor:
            cursor.execute(sql, [language, *chunk, STATUS.LIVE, *chunk])
            while found := cursor.fetchmany(10000):
                for entry_id, kind, text, start, end in found:
                    if text is None:
                        states[entry_id].append(
                            StateRow(reader.date(start), reader.date(end), STATUS.LIVE)
                        )
                    else:
                        names[entry_id].append(
                            NameRow(
                                language,
                                reader.word(kind),
                                text,
                                reader.date(start),
                                reader.date(end),
                            )
                        )
    for rows in names.values():
        rows.sort(key=lambda n: (n.kind, n.start or dt.date.min))
    return dict(names), {pk: validtime.lifetime(rows) for pk, rows in states.items()}
