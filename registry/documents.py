"""Everything the registry says about one entry, as at a date, as plain data.

Every public representation (the web page, JSON and RDF documents, the lookup API, the
reconciliation service's data extension) is built from :func:`describe`, so they all say the
same thing. ``EntryDocument.as_dict()`` is the plain-JSON form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .models import (
    LANGUAGE,
    NAME_KIND,
    RELATION_KIND,
    ChangeEvent,
    ChangeLink,
    Entry,
    Name,
    Relation,
    covering,
)
from .queries import AsAt, Successor, as_at, current_codes, today
from .uris import document_uri, entry_uri, event_uri


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def names_on(entries: list[Entry], date: dt.date) -> dict[int, str]:
    """The English name of each entry on ``date`` (or on its last day, if it had ended), in
    one query: for labelling links to other entries."""
    result: dict[int, tuple[Any, str]] = {}
    rows = Name.objects.filter(
        entry__in=entries, language=LANGUAGE.ENGLISH, kind=NAME_KIND.OFFICIAL
    ).values_list("entry_id", "valid_from", "valid_to", "text")
    for entry_id, start, end, text in rows:
        # Prefer the name valid on the date; otherwise the latest that ended before it.
        valid = (start is None or start <= date) and (end is None or end >= date)
        rank = (2 if valid else 1 if (end and end < date) else 0, end or dt.date.max)
        if entry_id not in result or rank > result[entry_id][0]:
            result[entry_id] = (rank, text)
    return {entry_id: text for entry_id, (_, text) in result.items()}


@dataclass
class Link:
    """A reference to another entry, with its name, for labelling."""

    register: str
    key: str
    name: str

    @property
    def uri(self) -> str:
        return entry_uri(self.register, self.key)

    def as_dict(self) -> dict[str, Any]:
        return {"register": self.register, "key": self.key, "name": self.name, "uri": self.uri}


@dataclass
class EventSummary:
    key: str
    date: dt.date
    kind: str
    instrument_id: str
    instrument_title: str
    predecessors: list[Link]
    successors: list[Link]

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


@dataclass
class EntryDocument:
    entry: Entry
    date: dt.date
    state: AsAt
    parents: dict[str, Link]
    governed_by: list[Link]
    governs: list[Link]
    current: list[tuple[Link, list[EventSummary]]]
    events: list[EventSummary]
    names: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def register(self) -> str:
        return self.entry.register.slug

    @property
    def key(self) -> str:
        return self.entry.key

    @property
    def uri(self) -> str:
        return entry_uri(self.register, self.key)

    @property
    def document(self) -> str:
        return document_uri(self.register, self.key)

    @property
    def predecessors(self) -> list[Link]:
        return _unique(
            link for event in self.events if self.key in _keys(event.successors)
            for link in event.predecessors if link.key != self.key
        )  # fmt: skip

    @property
    def successors(self) -> list[Link]:
        return _unique(
            link for event in self.events if self.key in _keys(event.predecessors)
            for link in event.successors if link.key != self.key
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        state = self.state
        return {
            "register": self.register,
            "key": self.key,
            "uri": self.uri,
            "document": self.document,
            "date": self.date.isoformat(),
            "name": state.name,
            "name_cy": state.name_cy,
            "display_name": state.display_name,
            "status": state.status,
            "entity_type": (
                {"key": state.entity_type.key, "name": _entity_type_name(state.entity_type)}
                if state.entity_type
                else None
            ),
            "operative": _iso(state.lifetime.operative),
            "terminated": _iso(state.lifetime.terminated),
            "parents": {h: link.as_dict() for h, link in sorted(self.parents.items())},
            "governed_by": [link.as_dict() for link in self.governed_by],
            "governs": [link.as_dict() for link in self.governs],
            "successors": [link.as_dict() for link in self.successors],
            "predecessors": [link.as_dict() for link in self.predecessors],
            "current": [
                {**link.as_dict(), "via": [event.as_dict() for event in path]}
                for link, path in self.current
            ],
            "names": self.names,
            "identifiers": self.identifiers,
            "states": self.states,
            "events": [event.as_dict() for event in self.events],
            "version": self.entry.version,
        }


def _keys(links: list[Link]) -> set[str]:
    return {link.key for link in links}


def _unique(links) -> list[Link]:
    seen, result = set(), []
    for link in links:
        if (link.register, link.key) not in seen:
            seen.add((link.register, link.key))
            result.append(link)
    return result


def _entity_type_name(entity_type: Entry) -> str:
    return names_on([entity_type], today()).get(entity_type.pk, entity_type.key)


def describe(entry: Entry, date: dt.date | None = None) -> EntryDocument:
    """Everything about ``entry`` as at ``date`` (default today)."""
    date = date or today()
    state = as_at(entry, date)
    seen_on = date
    life = state.lifetime
    if life.terminated and date > life.terminated:
        seen_on = life.terminated
    elif life.operative and date < life.operative:
        seen_on = life.operative

    governed_by = list(
        Relation.objects.filter(covering(seen_on), object=entry, kind=RELATION_KIND.GOVERNS)
        .select_related("subject__register")
        .order_by("subject__key")
    )
    governs = list(
        Relation.objects.filter(covering(seen_on), subject=entry, kind=RELATION_KIND.GOVERNS)
        .select_related("object__register")
        .order_by("object__key")
    )
    event_ids = (
        ChangeLink.objects.filter(predecessor=entry)
        .values("event_id")
        .union(ChangeLink.objects.filter(successor=entry).values("event_id"))
    )
    events = list(ChangeEvent.objects.filter(id__in=event_ids).order_by("date", "key"))
    links = list(
        ChangeLink.objects.filter(event__in=events).select_related(
            "predecessor__register", "successor__register"
        )
    )
    current = current_codes(entry, date) if state.status != "live" else []

    others = list(state.parents.values())
    others += [r.subject for r in governed_by] + [r.object for r in governs]
    others += [e for link in links for e in (link.predecessor, link.successor) if e]
    others += [successor.entry for successor in current]
    labels = names_on(others, date)

    def link_to(other: Entry) -> Link:
        return Link(other.register.slug, other.key, labels.get(other.pk, other.key))

    summaries = {}
    for event in events:
        summaries[event.pk] = EventSummary(
            event.key, event.date, event.kind, event.instrument_id, event.instrument_title, [], []
        )
    for link in links:
        summary = summaries[link.event_id]
        if link.predecessor and link.predecessor.key not in _keys(summary.predecessors):
            summary.predecessors.append(link_to(link.predecessor))
        if link.successor and link.successor.key not in _keys(summary.successors):
            summary.successors.append(link_to(link.successor))
    for summary in summaries.values():
        summary.predecessors.sort(key=lambda link: link.key)
        summary.successors.sort(key=lambda link: link.key)

    def path_summaries(successor: Successor) -> list[EventSummary]:
        result = []
        for step in successor.path:
            result.append(
                summaries.get(step.event.pk)
                or EventSummary(
                    step.event.key,
                    step.event.date,
                    step.event.kind,
                    step.event.instrument_id,
                    step.event.instrument_title,
                    [link_to(step.predecessor)],
                    [link_to(step.successor)],
                )  # fmt: skip
            )
        return result

    return EntryDocument(
        entry=entry,
        date=date,
        state=state,
        parents={h: link_to(parent) for h, parent in state.parents.items()},
        governed_by=[link_to(r.subject) for r in governed_by],
        governs=[link_to(r.object) for r in governs],
        current=[(link_to(s.entry), path_summaries(s)) for s in current],
        events=list(summaries.values()),
        names=[
            {
                "text": text,
                "language": language,
                "kind": kind,
                "valid_from": _iso(start),
                "valid_to": _iso(end),
            }
            for language, kind, text, start, end in entry.names.order_by(
                "language", "kind", "valid_from"
            ).values_list("language", "kind", "text", "valid_from", "valid_to")
        ],
        identifiers=[
            {"scheme": scheme, "value": value, "valid_from": _iso(start), "valid_to": _iso(end)}
            for scheme, value, start, end in entry.identifiers.order_by(
                "scheme", "valid_from"
            ).values_list("scheme", "value", "valid_from", "valid_to")
        ],
        states=[
            {
                "status": status,
                "entity_type": entity_type,
                "valid_from": _iso(start),
                "valid_to": _iso(end),
            }
            for status, entity_type, start, end in entry.states.order_by("valid_from").values_list(
                "status", "entity_type__key", "valid_from", "valid_to"
            )
        ],
    )
