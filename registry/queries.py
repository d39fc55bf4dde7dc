"""The registry's query vocabulary over valid time, for Python callers.

Set-valued questions are :class:`~registry.models.EntryQuerySet` methods (``valid_on``,
``children_of``, ``with_identifier``, ``of_type``); this module answers the questions about
one entry: what it was as at a date, its ancestors then, where its code leads (following
successor links through several steps), and what it replaced. The answers come from
``registry.validtime`` over the rows ``registry.facts`` reads, like every other reader's;
other entries are referred to by :class:`~registry.facts.Ref` (``pk``, ``register``, ``key``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F

from . import facts, validtime
from .facts import EventRow, Ref
from .models import RELATION_KIND, ChangeEvent, ChangeLink, Entry, Identifier, Relation, covering
from .validtime import AsAt, Lifetime, today

__all__ = [
    "AsAt",
    "Lifetime",
    "Step",
    "Successor",
    "ancestors",
    "as_at",
    "by_identifier",
    "children",
    "current_codes",
    "lifetime",
    "predecessors",
    "renames",
    "successors",
    "today",
]


def lifetime(entry: Entry | int) -> Lifetime:
    """When ``entry`` was live: its operative and (once ended) terminated dates."""
    pk = entry if isinstance(entry, int) else entry.pk
    return facts.lifetimes([pk]).get(pk, validtime.NEVER)


def as_at(entry: Entry, date: dt.date | None = None) -> AsAt:
    """``entry`` as at ``date`` (default today): status, entity type, names and parents."""
    return facts.read_one(entry).as_at(date or today())


def ancestors(entry: Entry, date: dt.date | None = None) -> list[tuple[str, Ref]]:
    """Every entry ``entry`` lies within as described on ``date``
    (:func:`registry.validtime.seen_on`), nearest first, with the hierarchy of the link that
    reached it; one query per level."""
    day = validtime.seen_on(lifetime(entry), date or today())
    start = Ref.of(entry)

    def parents_of(nodes: list[Ref]) -> dict[Ref, list[tuple[str, Ref]]]:
        by_pk = {node.pk: node for node in nodes}
        found: dict[Ref, list[tuple[str, Ref]]] = {}
        rows = facts.fetch(
            Relation.objects.filter(
                covering(day), subject_id__in=list(by_pk), kind=RELATION_KIND.PARENT
            ).order_by("subject_id", "hierarchy"),
            "subject_id",
            "hierarchy",
            "object_id",
            "object__register__slug",
            "object__key",
        )
        for subject, hierarchy, pk, register, key in rows:
            found.setdefault(by_pk[subject], []).append((hierarchy, Ref(pk, register, key)))
        return found

    return validtime.ancestors(start, parents_of)


def children(entry: Entry, date: dt.date | None = None, hierarchy: str | None = None):
    """The entries directly within ``entry`` on ``date``."""
    return Entry.objects.children_of(entry, date or today(), hierarchy)


@dataclass(frozen=True)
class Step:
    """One successor link followed: the change event, and the codes it led from and to."""

    event: EventRow
    predecessor: Ref
    successor: Ref


@dataclass
class Successor:
    entry: Ref
    path: list[Step]

    @property
    def kinds(self) -> list[str]:
        return [step.event.kind for step in self.path]


def _events_by_key(keys: set[str]) -> dict[str, EventRow]:
    rows = facts.events(ChangeEvent.objects.filter(key__in=sorted(keys)))
    return {row.key: row for row in rows.values()}


def current_codes(entry: Entry, date: dt.date | None = None) -> list[Successor]:
    """The entries live on ``date`` (default today) that ``entry``'s code leads to
    (:func:`registry.validtime.current`): itself if live; else, through its successor links,
    step by step, the live entries they reach, each with the path of events that led there.
    A code with no successor and no longer live leads nowhere (an empty list)."""
    date = date or today()
    start = Ref.of(entry)
    walk = facts.Successors(date)
    walk.prefetch([start])
    found = validtime.current([start], date, walk.live_on, walk.steps_of)[start]
    events = _events_by_key({hop.event for _, path in found for hop in path})
    # Every code on a path is a successor the walk reached, or the start.
    refs = {ref.key: ref for ref in walk.reached()} | {start.key: start}
    return [
        Successor(
            node,
            [Step(events[h.event], refs[h.predecessor], refs[h.successor]) for h in path],
        )
        for node, path in sorted(found, key=lambda item: item[0].key)
    ]


def _steps(links) -> list[Step]:
    rows = list(facts.fetch(links, *facts.LINK_FIELDS))
    events = facts.events(pks={row[0] for row in rows})
    return [
        Step(events[event], Ref(p_pk, p_reg, p_key), Ref(s_pk, s_reg, s_key))
        for event, p_pk, p_reg, p_key, s_pk, s_reg, s_key in rows
    ]


def successors(entry: Entry) -> list[Step]:
    """The links from ``entry`` to the codes that directly replaced it."""
    links = ChangeLink.objects.filter(predecessor=entry, successor__isnull=False).exclude(
        successor_id=F("predecessor_id")
    )
    return sorted(_steps(links), key=lambda s: (s.event.date, s.successor.key))


def predecessors(entry: Entry) -> list[Step]:
    """The links to ``entry`` from the codes it directly replaced."""
    links = ChangeLink.objects.filter(successor=entry, predecessor__isnull=False).exclude(
        predecessor_id=F("successor_id")
    )
    return sorted(_steps(links), key=lambda s: (s.event.date, s.predecessor.key))


def renames(entry: Entry) -> list[ChangeEvent]:
    """Change events that renamed ``entry`` under its own code."""
    return list(
        ChangeEvent.objects.filter(links__predecessor=entry, links__successor=entry).order_by(
            "date"
        )
    )


def by_identifier(scheme: str, value: str, date: dt.date | None = None) -> Entry | None:
    """The entry that ``value`` identifies in ``scheme``; with a date, the one it identified
    then. Without a date, a value used by several entries over time gives the latest."""
    identifiers = Identifier.objects.filter(scheme=scheme, value=value)
    if date is not None:
        identifiers = identifiers.filter(covering(date))
    identifier = identifiers.select_related("entry__register").order_by("-valid_from").first()
    return identifier.entry if identifier else None
