"""Whole registers as plain facts, read in bulk, for the downloads and the RDF dumps.

:func:`registry.documents.describe` answers everything about one entry in a dozen queries;
a register of sixty thousand entries needs the same facts in a few queries per thousand
entries instead. :func:`register_facts` reads a register in key order, a chunk at a time
(``.iterator()``), and yields one :class:`EntryFacts` per entry, so memory stays flat however
large the register. :meth:`EntryFacts.from_document` gives the same facts from a document, so
an entry's page and the dump say the same thing about it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Q

from .documents import EntryDocument, EventSummary, Link
from .models import (
    LANGUAGE,
    NAME_KIND,
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
from .queries import today
from .uris import entry_uri

CHUNK = 2000

Ref = tuple[str, str]  # (register slug, key)


@dataclass
class EntryFacts:
    """What the registry says about one entry as at ``date``, without labels for the
    entries it refers to. ``seen_on`` is the day the names and parents are taken from: the
    date itself, or the last (first) day of an entry that had ended (not yet begun)."""

    register: str
    key: str
    date: dt.date
    name: str | None = None
    name_cy: str | None = None
    display_name: str | None = None
    status: str | None = None
    entity_type: str | None = None
    operative: dt.date | None = None
    terminated: dt.date | None = None
    parents: dict[str, Ref] = field(default_factory=dict)
    governed_by: list[Ref] = field(default_factory=list)
    governs: list[Ref] = field(default_factory=list)
    replaces: list[Ref] = field(default_factory=list)
    replaced_by: list[Ref] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    @classmethod
    def from_document(cls, doc: EntryDocument) -> EntryFacts:
        state = doc.state

        def refs(links: list[Link]) -> list[Ref]:
            return [(link.register, link.key) for link in links]

        return cls(
            register=doc.register,
            key=doc.key,
            date=doc.date,
            name=state.names.get((LANGUAGE.ENGLISH, NAME_KIND.OFFICIAL))
            or state.names.get((LANGUAGE.ENGLISH, NAME_KIND.DISPLAY)),
            name_cy=state.name_cy,
            display_name=state.display_name,
            status=state.status,
            entity_type=state.entity_type.key if state.entity_type else None,
            operative=state.lifetime.operative,
            terminated=state.lifetime.terminated,
            parents={h: (link.register, link.key) for h, link in doc.parents.items()},
            governed_by=refs(doc.governed_by),
            governs=refs(doc.governs),
            replaces=refs(doc.predecessors),
            replaced_by=refs(doc.successors),
            identifiers=sorted({(i["scheme"], i["value"]) for i in doc.identifiers}),
            events=[event.key for event in doc.events],
        )


CSV_HEADER = [
    "register",
    "key",
    "uri",
    "name",
    "name_cy",
    "status",
    "entity_type",
    "operative",
    "terminated",
    "parents",
    "governed_by",
    "replaces",
    "replaced_by",
    "identifiers",
    "date",
]


def csv_row(facts: EntryFacts) -> list[str]:
    """One CSV row (columns :data:`CSV_HEADER`); several values in a cell are separated by
    spaces, each written ``hierarchy:key`` or ``scheme:value`` where it needs a label."""
    return [
        facts.register,
        facts.key,
        entry_uri(facts.register, facts.key),
        facts.name or "",
        facts.name_cy or "",
        facts.status or "",
        facts.entity_type or "",
        facts.operative.isoformat() if facts.operative else "",
        facts.terminated.isoformat() if facts.terminated else "",
        " ".join(f"{h}:{key}" for h, (_reg, key) in sorted(facts.parents.items())),
        " ".join(key for _reg, key in facts.governed_by),
        " ".join(key for _reg, key in facts.replaces),
        " ".join(key for _reg, key in facts.replaced_by),
        " ".join(f"{scheme}:{value}" for scheme, value in facts.identifiers),
        facts.date.isoformat(),
    ]


def _covers(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    return (start is None or start <= day) and (end is None or end >= day)


def _chunks(register: str) -> Iterator[list[tuple[int, str]]]:
    rows = (
        Entry.objects.filter(register__slug=register)
        .order_by("key")
        .values_list("id", "key")
        .iterator(chunk_size=CHUNK)
    )
    chunk: list[tuple[int, str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def register_facts(register: str, date: dt.date | None = None) -> Iterator[EntryFacts]:
    """Every entry of ``register`` as at ``date`` (default today), in key order, read a
    chunk of entries at a time."""
    date = date or today()
    for chunk in _chunks(register):
        yield from _facts_for_chunk(register, chunk, date)


def _facts_for_chunk(
    register: str, chunk: list[tuple[int, str]], date: dt.date
) -> Iterator[EntryFacts]:
    ids = [entry_id for entry_id, _ in chunk]
    states = defaultdict(list)
    for entry_id, *row in (
        State.objects.filter(entry_id__in=ids)
        .order_by("entry_id", "valid_from")
        .values_list("entry_id", "valid_from", "valid_to", "status", "entity_type__key")
    ):
        states[entry_id].append(row)
    names = defaultdict(list)
    for entry_id, *row in (
        Name.objects.filter(entry_id__in=ids)
        .order_by("entry_id", "language", "kind", "valid_from")
        .values_list("entry_id", "language", "kind", "text", "valid_from", "valid_to")
    ):
        names[entry_id].append(row)
    relations = defaultdict(list)
    governed_by = defaultdict(list)
    for subject_id, kind, hierarchy, other_reg, other_key, start, end in (
        Relation.objects.filter(subject_id__in=ids)
        .order_by("subject_id", "kind", "hierarchy", "valid_from")
        .values_list(
            "subject_id",
            "kind",
            "hierarchy",
            "object__register__slug",
            "object__key",
            "valid_from",
            "valid_to",
        )
    ):
        relations[subject_id].append((kind, hierarchy, (other_reg, other_key), start, end))
    for object_id, subject_reg, subject_key, start, end in (
        Relation.objects.filter(object_id__in=ids, kind=RELATION_KIND.GOVERNS)
        .order_by("subject__key")
        .values_list(
            "object_id", "subject__register__slug", "subject__key", "valid_from", "valid_to"
        )
    ):
        governed_by[object_id].append(((subject_reg, subject_key), start, end))
    identifiers = defaultdict(set)
    for entry_id, scheme, value in Identifier.objects.filter(entry_id__in=ids).values_list(
        "entry_id", "scheme", "value"
    ):
        identifiers[entry_id].add((scheme, value))
    # As in an entry's document, an entry is replaced by every successor of the events it
    # was a predecessor in (and replaces every predecessor of those it was a successor in);
    # a rename links an entry to itself, which is an event but no replacement.
    as_predecessor, as_successor = defaultdict(set), defaultdict(set)
    event_ids: set[int] = set()
    for event_id, predecessor_id, successor_id in ChangeLink.objects.filter(
        Q(predecessor_id__in=ids) | Q(successor_id__in=ids)
    ).values_list("event_id", "predecessor_id", "successor_id"):
        event_ids.add(event_id)
        as_predecessor[predecessor_id].add(event_id)
        as_successor[successor_id].add(event_id)
    sides: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    event_keys: dict[int, tuple[dt.date, str]] = {}
    for (
        event_id,
        event_key,
        event_date,
        p_id,
        p_reg,
        p_key,
        s_id,
        s_reg,
        s_key,
    ) in ChangeLink.objects.filter(event_id__in=event_ids).values_list(
        "event_id",
        "event__key",
        "event__date",
        "predecessor_id",
        "predecessor__register__slug",
        "predecessor__key",
        "successor_id",
        "successor__register__slug",
        "successor__key",
    ):
        event_keys[event_id] = (event_date, event_key)
        if p_id is not None:
            sides[event_id][0].add((p_id, (p_reg, p_key)))
        if s_id is not None:
            sides[event_id][1].add((s_id, (s_reg, s_key)))

    for entry_id, key in chunk:
        facts = EntryFacts(register=register, key=key, date=date)
        entry_states = states[entry_id]
        live = [row for row in entry_states if row[2] == STATUS.LIVE]
        if live:
            facts.operative, facts.terminated = live[0][0], live[-1][1]
        seen_on = date
        if facts.terminated and date > facts.terminated:
            seen_on = facts.terminated
        elif facts.operative and date < facts.operative:
            seen_on = facts.operative
        current = next((row for row in entry_states if _covers(row[0], row[1], date)), None)
        if current:
            facts.status, facts.entity_type = current[2], current[3]
        elif entry_states:
            # Not yet operative on the date: the type it will have.
            facts.entity_type = entry_states[0][3]
        found: dict[tuple[str, str], str] = {}
        for language, kind, text, start, end in names[entry_id]:
            if _covers(start, end, seen_on):
                found.setdefault((language, kind), text)
        facts.name = found.get((LANGUAGE.ENGLISH, NAME_KIND.OFFICIAL)) or found.get(
            (LANGUAGE.ENGLISH, NAME_KIND.DISPLAY)
        )
        facts.name_cy = found.get((LANGUAGE.WELSH, NAME_KIND.OFFICIAL)) or found.get(
            (LANGUAGE.WELSH, NAME_KIND.DISPLAY)
        )
        facts.display_name = found.get((LANGUAGE.ENGLISH, NAME_KIND.DISPLAY))
        for kind, hierarchy, ref, start, end in relations[entry_id]:
            if not _covers(start, end, seen_on):
                continue
            if kind == RELATION_KIND.PARENT:
                facts.parents[hierarchy] = ref
            elif kind == RELATION_KIND.GOVERNS:
                facts.governs.append(ref)
        facts.governs.sort(key=lambda ref: ref[1])
        facts.governed_by = [
            ref for ref, start, end in governed_by[entry_id] if _covers(start, end, seen_on)
        ]
        replaces = {
            ref
            for event_id in as_successor[entry_id]
            for other_id, ref in sides[event_id][0]
            if other_id != entry_id
        }
        replaced_by = {
            ref
            for event_id in as_predecessor[entry_id]
            for other_id, ref in sides[event_id][1]
            if other_id != entry_id
        }
        facts.replaces = sorted(replaces, key=lambda ref: ref[1])
        facts.replaced_by = sorted(replaced_by, key=lambda ref: ref[1])
        facts.identifiers = sorted(identifiers[entry_id])
        own_events = as_predecessor[entry_id] | as_successor[entry_id]
        facts.events = [
            event_keys[event_id][1] for event_id in sorted(own_events, key=event_keys.get)
        ]
        yield facts


def all_events() -> Iterator[EventSummary]:
    """Every change event with its predecessor and successor codes (names left empty),
    in date order, read a chunk at a time."""
    events = ChangeEvent.objects.order_by("date", "key").values_list(
        "id", "key", "date", "kind", "instrument_id", "instrument_title"
    )
    batch: list[tuple] = []
    for row in events.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            yield from _event_batch(batch)
            batch = []
    yield from _event_batch(batch)


def _event_batch(batch: list[tuple]) -> Iterator[EventSummary]:
    summaries = {
        event_id: EventSummary(key, date, kind, instrument_id, instrument_title, [], [])
        for event_id, key, date, kind, instrument_id, instrument_title in batch
    }
    for event_id, p_reg, p_key, s_reg, s_key in ChangeLink.objects.filter(
        event_id__in=list(summaries)
    ).values_list(
        "event_id",
        "predecessor__register__slug",
        "predecessor__key",
        "successor__register__slug",
        "successor__key",
    ):
        summary = summaries[event_id]
        if p_key and p_key not in {link.key for link in summary.predecessors}:
            summary.predecessors.append(Link(p_reg, p_key, p_key))
        if s_key and s_key not in {link.key for link in summary.successors}:
            summary.successors.append(Link(s_reg, s_key, s_key))
    for summary in summaries.values():
        summary.predecessors.sort(key=lambda link: link.key)
        summary.successors.sort(key=lambda link: link.key)
        yield summary
