"""Everything the registry says about entries and change events, as at a date, as plain data.

Every public representation is built from here, so they all say the same thing: an entry's
web page, JSON and RDF documents and the lookup API from :func:`describe`; listings, bulk
lookups and checked files from :func:`summarise` and :func:`current_links`; the CSV and RDF
dumps from :class:`EntryFacts`, which a document also carries. The facts themselves come from
``registry.validtime`` over rows that ``registry.facts`` reads, and change events are summed
up by the one builder, :func:`event_summaries`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation

from . import facts, validtime
from .facts import EventRow, LinkRow, Ref, Rows
from .models import EVENT_KIND, STATUS, Entry
from .uris import document_uri, entry_uri, event_uri
from .validtime import WELSH, Hop, iso, today


@dataclass
class Link:
    """A reference to another entry, with its name, for labelling."""

    register: str
    key: str
    name: str
    # Its Welsh name, where it has one, when the active language is Welsh: the pages show it
    # first. Not part of as_dict: JSON and RDF are the same in either language.
    name_cy: str | None = None

    @property
    def uri(self) -> str:
        return entry_uri(self.register, self.key)

    def as_dict(self) -> dict[str, Any]:
        return {"register": self.register, "key": self.key, "name": self.name, "uri": self.uri}


Labeller = Callable[[Ref], Link]


def labeller(labels: Mapping[int, str], welsh: Mapping[int, str] | None = None) -> Labeller:
    """Links named from ``labels`` (primary key → name), falling back to the key, with the
    Welsh names of ``welsh`` where given."""
    welsh = welsh or {}
    return lambda ref: Link(ref.register, ref.key, labels.get(ref.pk, ref.key), welsh.get(ref.pk))


def welsh_labels(refs: Iterable[Ref | int], on: dt.date) -> dict[int, str] | None:
    """The Welsh names of ``refs`` as at ``on`` when the active language is Welsh (a page
    in Welsh names linked entries in Welsh first), else None and no query."""
    if translation.get_language() != WELSH:
        return None
    return facts.labels(refs, on, WELSH)


def link_dict(ref: Ref, labels: Mapping[int, str]) -> dict[str, Any]:
    return labeller(labels)(ref).as_dict()


# ---------------------------------------------------------------------------------------
# Change events


@dataclass
class EventSummary:
    key: str
    date: dt.date
    kind: str
    instrument_id: str
    instrument_title: str
    predecessors: list[Link]
    successors: list[Link]
    note: str = ""

    @property
    def kind_label(self) -> str:
        """The kind of change as a reader sees it ("Boundary change"), in the active language."""
        return str(EVENT_KIND(self.kind).label)

    @property
    def uri(self) -> str:
        return event_uri(self.key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "uri": self.uri,
            "date": self.date.isoformat(),
            "kind": self.kind,
            "instrument_id": self.instrument_id,
            "instrument_title": self.instrument_title,
            "predecessors": [link.as_dict() for link in self.predecessors],
            "successors": [link.as_dict() for link in self.successors],
        }


def event_summaries(
    events: Mapping[int, EventRow], links: Iterable[LinkRow], link: Labeller
) -> dict[int, EventSummary]:
    """Each event with its predecessors and successors (each once, in key order), named by
    ``link``, keyed by primary key and in the order of ``events``."""
    summaries = {
        pk: EventSummary(
            e.key, e.date, e.kind, e.instrument_id, e.instrument_title, [], [], e.note or ""
        )
        for pk, e in events.items()
    }
    sides: dict[int, tuple[dict[int, Ref], dict[int, Ref]]] = {pk: ({}, {}) for pk in summaries}
    for row in links:
        if row.event not in sides:
            continue
        before, after = sides[row.event]
        if row.predecessor is not None:
            before.setdefault(row.predecessor.pk, row.predecessor)
        if row.successor is not None:
            after.setdefault(row.successor.pk, row.successor)
    for pk, summary in summaries.items():
        before, after = sides[pk]
        summary.predecessors = [link(r) for r in sorted(before.values(), key=lambda r: r.key)]
        summary.successors = [link(r) for r in sorted(after.values(), key=lambda r: r.key)]
    return summaries


def describe_events(queryset, date: dt.date | None = None) -> dict[int, EventSummary]:
    """The events of ``queryset`` by primary key, in date order, with their entries named as
    at ``date`` or, without one, as on each event's own date; a few queries whatever their
    number."""
    rows = dict(sorted(facts.events(queryset).items(), key=lambda kv: (kv[1].date, kv[1].key)))
    link_rows = facts.links(rows)
    wanted: dict[dt.date, set[Ref]] = {}
    for row in link_rows:
        day = date or rows[row.event].date
        wanted.setdefault(day, set()).update(r for r in (row.predecessor, row.successor) if r)
    summaries: dict[int, EventSummary] = {}
    for day, refs in wanted.items():
        group = {pk: e for pk, e in rows.items() if (date or e.date) == day}
        link = labeller(facts.labels(refs, day), welsh_labels(refs, day))
        summaries.update(event_summaries(group, link_rows, link))
    no_links = {pk: e for pk, e in rows.items() if pk not in summaries}
    summaries.update(event_summaries(no_links, [], labeller({})))
    return {pk: summaries[pk] for pk in rows}


# ---------------------------------------------------------------------------------------
# An entry's own facts: what the documents and the dumps say about it


@dataclass
class EntryFacts:
    """What the registry says about one entry as at ``date``, without names for the entries
    it refers to: the facts an entry's RDF and its CSV row are made of, whether they come from
    its document or from a bulk read of a whole register."""

    register: str
    key: str
    date: dt.date
    name: str | None = None
    name_cy: str | None = None
    display_name: str | None = None
    status: str | None = None
    entity_type: Ref | None = None
    operative: dt.date | None = None
    terminated: dt.date | None = None
    parents: dict[str, Ref] = field(default_factory=dict)
    governed_by: list[Ref] = field(default_factory=list)
    governs: list[Ref] = field(default_factory=list)
    replaces: list[Ref] = field(default_factory=list)
    replaced_by: list[Ref] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def entry_facts(
    rows: Rows, state: validtime.AsAt, events: Mapping[int, EventRow], links: Iterable[LinkRow]
) -> EntryFacts:
    """The facts of one entry from its rows, its state as at the date and the events it took
    part in. An entry replaces the predecessor of every link that names it as successor, and
    is replaced by the successor of every link that names it as predecessor (in a complex
    change, such as Cumbria's in 2023, each unitary replaces only its own districts); a
    rename links an entry to itself, which is an event but no replacement."""
    pk = rows.ref.pk
    replaces: dict[int, Ref] = {}
    replaced_by: dict[int, Ref] = {}
    links = list(links)
    as_successor = {row.event for row in links if row.successor and row.successor.pk == pk}
    as_predecessor = {row.event for row in links if row.predecessor and row.predecessor.pk == pk}
    for row in links:
        if (
            row.successor
            and row.successor.pk == pk
            and row.predecessor
            and row.predecessor.pk != pk
        ):
            replaces.setdefault(row.predecessor.pk, row.predecessor)
        if (
            row.predecessor
            and row.predecessor.pk == pk
            and row.successor
            and row.successor.pk != pk
        ):
            replaced_by.setdefault(row.successor.pk, row.successor)
    own = sorted(
        (events[e] for e in as_successor | as_predecessor if e in events),
        key=lambda e: (e.date, e.key),
    )
    return EntryFacts(
        register=rows.ref.register,
        key=rows.ref.key,
        date=state.date,
        name=state.name,
        name_cy=state.name_cy,
        display_name=state.display_name,
        status=state.status,
        entity_type=state.entity_type,
        operative=state.lifetime.operative,
        terminated=state.lifetime.terminated,
        parents=dict(state.parents),
        governed_by=sorted(state.governed_by, key=lambda r: r.key),
        governs=sorted(state.governs, key=lambda r: r.key),
        replaces=sorted(replaces.values(), key=lambda r: r.key),
        replaced_by=sorted(replaced_by.values(), key=lambda r: r.key),
        identifiers=sorted({(i.scheme, i.value) for i in rows.identifiers}),
        events=[e.key for e in own],
    )


# ---------------------------------------------------------------------------------------
# One entry, in full


@dataclass
class EntryDocument:
    entry: Entry
    date: dt.date
    rows: Rows
    state: validtime.AsAt
    facts: EntryFacts
    parents: dict[str, Link]
    governed_by: list[Link]
    governs: list[Link]
    current: list[tuple[Link, list[EventSummary]]]
    events: list[EventSummary]
    predecessors: list[Link]
    successors: list[Link]
    entity_type_name: str | None = None

    @property
    def register(self) -> str:
        return self.rows.ref.register

    @property
    def key(self) -> str:
        return self.rows.ref.key

    @property
    def uri(self) -> str:
        return entry_uri(self.register, self.key)

    @property
    def document(self) -> str:
        return document_uri(self.register, self.key)

    def as_dict(self) -> dict[str, Any]:
        state, rows = self.state, self.rows
        return {
            "register": self.register,
            "key": self.key,
            "uri": self.uri,
            "document": self.document,
            "date": self.date.isoformat(),
            **_own(rows, state, self.entity_type_name),
            "parents": {h: link.as_dict() for h, link in sorted(self.parents.items())},
            "governed_by": [link.as_dict() for link in self.governed_by],
            "governs": [link.as_dict() for link in self.governs],
            "successors": [link.as_dict() for link in self.successors],
            "predecessors": [link.as_dict() for link in self.predecessors],
            "current": [
                {**link.as_dict(), "via": [event.as_dict() for event in path]}
                for link, path in self.current
            ],
            "names": [
                {
                    "text": n.text,
                    "language": n.language,
                    "kind": n.kind,
                    "valid_from": iso(n.start),
                    "valid_to": iso(n.end),
                }
                for n in rows.names
            ],
            "identifiers": [
                {
                    "scheme": i.scheme,
                    "value": i.value,
                    "valid_from": iso(i.start),
                    "valid_to": iso(i.end),
                }
                for i in rows.identifiers
            ],  # fmt: skip
            "states": [
                {
                    "status": s.status,
                    "entity_type": s.entity_type.key if s.entity_type else None,
                    "valid_from": iso(s.start),
                    "valid_to": iso(s.end),
                }
                for s in rows.states
            ],
            "events": [event.as_dict() for event in self.events],
            "version": rows.version,
        }


def _own(rows: Rows, state: validtime.AsAt, entity_type_name: str | None) -> dict[str, Any]:
    """The fields that describe an entry itself, shared by documents and summaries."""
    life = state.lifetime
    entity_type = state.entity_type
    return {
        "name": state.name or rows.ref.key,
        "name_cy": state.name_cy,
        "display_name": state.display_name,
        "status": state.status,
        "entity_type": (
            {"key": entity_type.key, "name": entity_type_name or entity_type.key}
            if entity_type
            else None
        ),
        "operative": iso(life.operative),
        "terminated": iso(life.terminated),
    }


def describe(entry: Entry | int, date: dt.date | None = None) -> EntryDocument:
    """Everything about ``entry`` (an entry, or its primary key) as at ``date`` (default
    today), in three queries whatever the entry: its rows (:func:`registry.facts.read_entry`),
    the events around it (:func:`registry.facts.walk`), and the names and lifetimes of every
    entry those name (:func:`registry.facts.label_rows`)."""
    date = date or today()
    pk = entry if isinstance(entry, int) else entry.pk
    rows = facts.read_entry(pk)
    if rows is None:
        raise Entry.DoesNotExist(f"No entry {pk}.")
    if isinstance(entry, int):
        entry = _entry_of(rows)
    state = rows.as_at(date)
    around = facts.walk(rows.ref, date)
    event_rows, link_rows = around.events, around.links
    own = entry_facts(rows, state, event_rows, link_rows)

    others = [*state.parents.values(), *state.governed_by, *state.governs]
    others += [r for row in around.all_links for r in (row.predecessor, row.successor) if r]
    if state.entity_type:
        others.append(state.entity_type)
    names, lives = facts.label_rows(ref.pk for ref in others)
    lives[rows.ref.pk] = state.lifetime
    found: list[tuple[Ref, list[Hop]]] = []
    if state.status != STATUS.LIVE:

        def live_on(node: Ref, on: dt.date) -> bool:
            return lives.get(node.pk, validtime.NEVER).contains(on)

        paths = validtime.current([rows.ref], date, live_on, around.steps_of)[rows.ref]
        found = sorted(paths, key=lambda item: item[0].key)
    # Events on the way to the current codes that this entry took no part in.
    hop_keys = {hop.event for _, path in found for hop in path}
    known_keys = {e.key for e in event_rows.values()}
    extra = {
        pk: e
        for pk, e in around.all_events.items()
        if e.key in hop_keys and e.key not in known_keys
    }
    extra_links = [row for row in around.all_links if row.event in extra]

    labels = facts.named_as({ref.pk for ref in others}, names, lives, date)
    link = labeller(labels, welsh_labels(others, date))
    type_name = (
        facts.named_as([state.entity_type.pk], names, lives, today()).get(state.entity_type.pk)
        if state.entity_type
        else None
    )
    return assemble(
        entry, date, rows, state, own, (event_rows, link_rows), (extra, extra_links), found,
        link, type_name,
    )  # fmt: skip


def assemble(
    entry: Entry,
    date: dt.date,
    rows: Rows,
    state: validtime.AsAt,
    own: EntryFacts,
    around: tuple[Mapping[int, EventRow], list[LinkRow]],
    extra: tuple[Mapping[int, EventRow], list[LinkRow]],
    found: list[tuple[Ref, list[Hop]]],
    link: Labeller,
    type_name: str | None,
) -> EntryDocument:
    """The document from what was read, however it was read (the registry now, or as
    recorded at an instant: ``registry.recorded.describe``): ``around``, the events the entry
    took part in and their links; ``extra``, the other events on the way to its ``found``
    current codes; ``link`` names an entry as at the date."""
    event_rows, link_rows = around
    in_order = dict(sorted(event_rows.items(), key=lambda kv: (kv[1].date, kv[1].key)))
    summaries = event_summaries(in_order, link_rows, link)
    by_key = {s.key: s for s in summaries.values()}
    by_key.update({s.key: s for s in event_summaries(*extra, link).values()})
    return EntryDocument(
        entry=entry,
        date=date,
        rows=rows,
        state=state,
        facts=own,
        parents={h: link(parent) for h, parent in state.parents.items()},
        governed_by=[link(r) for r in own.governed_by],
        governs=[link(r) for r in own.governs],
        current=[(link(node), [by_key[hop.event] for hop in path]) for node, path in found],
        events=list(summaries.values()),
        predecessors=[link(r) for r in own.replaces],
        successors=[link(r) for r in own.replaced_by],
        entity_type_name=type_name,
    )


def _entry_of(rows: Rows) -> Entry:
    """The entry the rows are of, as a model instance built from them (not read again)."""
    from .statistics import registers

    register = registers()[rows.ref.register]
    return Entry(
        id=rows.ref.pk,
        register=register,
        key=rows.ref.key,
        version=rows.version,
        attributes=rows.attributes,
    )


# ---------------------------------------------------------------------------------------
# Many entries, briefly


def summarise(
    entries: Iterable[Entry | Ref | int], date: dt.date, *, parents: bool = True
) -> dict[int, dict[str, Any]]:
    """A summary of each entry as at ``date``, keyed by primary key: the fields of
    ``describe(entry, date).as_dict()`` that describe the entry itself (register, key, uri,
    name, name_cy, display_name, status, entity_type, operative, terminated and, unless
    ``parents=False``, parents), for a batch in a fixed number of queries."""
    return _summaries(*_read_brief(entries, date, parents), date, parents)


def summarise_current(
    entries: Iterable[Entry | Ref | int], date: dt.date, leading: Iterable[Ref]
) -> tuple[dict[int, dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """:func:`summarise` of ``entries`` (without parents) and :func:`current_links` of
    ``leading`` (some of them) together, as the bulk lookup and the checker want them: the
    rows read for the summaries give the lifetimes the walk to the current codes starts from
    and the names of the current codes among the entries, so neither is read again."""
    pks, found, states = _read_brief(entries, date, False)
    summaries = _summaries(pks, found, states, date, False)
    lives = {pk: state.lifetime for pk, state in states.items()}
    paths = facts.current(leading, date, lives)
    nodes = {node.pk for found_paths in paths.values() for node, _ in found_paths}
    labels = facts.labels(nodes - found.keys(), date) if nodes - found.keys() else {}
    for pk in nodes & found.keys():
        text = validtime.label(found[pk].names, lives[pk], date)
        if text:
            labels[pk] = text
    return summaries, _current_dicts(paths, labels)


def _read_brief(
    entries: Iterable[Entry | Ref | int], date: dt.date, parents: bool
) -> tuple[list[int], dict[int, Rows], dict[int, validtime.AsAt]]:
    """The entries' primary keys, in order, the rows a summary is made of, and each entry's
    facts as at ``date``."""
    items = list(entries)
    if not items:
        return [], {}, {}
    pks = [e if isinstance(e, int) else e.pk for e in items]
    parts = frozenset({"names", "relations"} if parents else {"names"})
    # Refs are read without their entry rows: a summary needs no version or attributes.
    found = facts.read(items, parts=parts)
    return pks, found, {pk: rows.as_at(date) for pk, rows in found.items()}


def _summaries(
    pks: list[int],
    found: Mapping[int, Rows],
    states: Mapping[int, validtime.AsAt],
    date: dt.date,
    parents: bool,
) -> dict[int, dict[str, Any]]:
    if not pks:
        return {}
    types = {s.entity_type for s in states.values() if s.entity_type}
    wanted = [p for s in states.values() for p in s.parents.values()] if parents else []
    named = facts.labels_on(
        {today(): types, date: wanted} if date != today() else {date: [*types, *wanted]}
    )
    type_names, labels = named[today()], named[date]
    result = {}
    for pk in pks:
        rows, state = found[pk], states[pk]
        entity_type = state.entity_type
        summary = {
            "register": rows.ref.register,
            "key": rows.ref.key,
            "uri": entry_uri(rows.ref.register, rows.ref.key),
            **_own(rows, state, type_names.get(entity_type.pk) if entity_type else None),
        }
        if parents:
            summary["parents"] = {
                h: link_dict(parent, labels) for h, parent in sorted(state.parents.items())
            }
        result[pk] = summary
    return result


def current_links(
    entries: Iterable[Entry | Ref],
    date: dt.date,
    known: Mapping[int, validtime.Lifetime] | None = None,
) -> dict[int, list[dict[str, Any]]]:
    """For each entry (by primary key), the live codes on ``date`` it leads to (itself, if
    live), as links named as at the date, each with ``via``: the hops that led there.
    ``known`` lifetimes need not be read again."""
    refs = [e if isinstance(e, Ref) else Ref.of(e) for e in entries]
    found = facts.current(refs, date, known)
    labels = facts.labels({node for paths in found.values() for node, _ in paths}, date)
    return _current_dicts(found, labels)


def _current_dicts(
    found: Mapping[Ref, list[tuple[Ref, list[Hop]]]], labels: Mapping[int, str]
) -> dict[int, list[dict[str, Any]]]:
    return {
        start.pk: [
            {**link_dict(node, labels), "via": [hop.as_dict(event_uri) for hop in path]}
            for node, path in paths
        ]
        for start, paths in found.items()
    }


__all__ = [
    "EntryDocument",
    "EntryFacts",
    "EventSummary",
    "Hop",
    "Link",
    "assemble",
    "current_links",
    "describe",
    "describe_events",
    "entry_facts",
    "event_summaries",
    "labeller",
    "summarise",
    "summarise_current",
]
