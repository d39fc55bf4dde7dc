"""The registry's query vocabulary over valid time.

Set-valued questions are :class:`~registry.models.EntryQuerySet` methods (``valid_on``,
``children_of``, ``with_identifier``, ``of_type``); this module answers the questions about
one entry: what it was as at a date, its ancestors then, where its code leads today (following
successor links through several steps), and what it replaced.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from .models import (
    LANGUAGE,
    NAME_KIND,
    RELATION_KIND,
    STATUS,
    ChangeEvent,
    ChangeLink,
    Entry,
    Identifier,
    Relation,
    State,
    covering,
)


def today() -> dt.date:
    """Today in the registry's time zone (Europe/London), the default "as at" date."""
    return timezone.localdate()


@dataclass
class Lifetime:
    operative: dt.date | None
    terminated: dt.date | None

    def contains(self, date: dt.date) -> bool:
        return (
            self.operative is not None
            and self.operative <= date
            and (self.terminated is None or date <= self.terminated)
        )


@dataclass
class AsAt:
    """An entry as it was on ``date``.

    ``status`` is ``live``, ``terminated``, or None before the entry was operative. After
    termination the names and parents are those of its last day, so a terminated code still
    says what it was.
    """

    entry: Entry
    date: dt.date
    status: str | None
    lifetime: Lifetime
    entity_type: Entry | None
    names: dict[tuple[str, str], str]
    parents: dict[str, Entry] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return (
            self.names.get((LANGUAGE.ENGLISH, NAME_KIND.OFFICIAL))
            or self.names.get((LANGUAGE.ENGLISH, NAME_KIND.DISPLAY))
            or self.entry.key
        )

    @property
    def name_cy(self) -> str | None:
        return self.names.get((LANGUAGE.WELSH, NAME_KIND.OFFICIAL)) or self.names.get(
            (LANGUAGE.WELSH, NAME_KIND.DISPLAY)
        )

    @property
    def display_name(self) -> str | None:
        return self.names.get((LANGUAGE.ENGLISH, NAME_KIND.DISPLAY))


def lifetime(entry: Entry) -> Lifetime:
    live = list(
        State.objects.filter(entry=entry, status=STATUS.LIVE)
        .order_by("valid_from")
        .values_list("valid_from", "valid_to")
    )
    if not live:
        return Lifetime(None, None)
    return Lifetime(live[0][0], live[-1][1])


def as_at(entry: Entry, date: dt.date | None = None) -> AsAt:
    """``entry`` as at ``date`` (default today): status, entity type, names and parents."""
    date = date or today()
    life = lifetime(entry)
    state = State.objects.filter(covering(date), entry=entry).select_related("entity_type").first()
    status = state.status if state else None
    entity_type = state.entity_type if state else None
    # Describe a terminated entry as it was on its last day, and one not yet operative as it
    # was on its first.
    seen_on = date
    if life.terminated and date > life.terminated:
        seen_on = life.terminated
    elif life.operative and date < life.operative:
        seen_on = life.operative
        entity_type = (
            State.objects.filter(entry=entry).select_related("entity_type").first() or state
        ).entity_type
    names = {}
    for language, kind, text in entry.names.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=seen_on),
        Q(valid_to__isnull=True) | Q(valid_to__gte=seen_on),
    ).values_list("language", "kind", "text"):
        names.setdefault((language, kind), text)
    parents = {
        relation.hierarchy: relation.object
        for relation in Relation.objects.filter(
            covering(seen_on), subject=entry, kind=RELATION_KIND.PARENT
        ).select_related("object__register")
    }
    return AsAt(entry, date, status, life, entity_type, names, parents)


def ancestors(entry: Entry, date: dt.date | None = None) -> list[tuple[str, Entry]]:
    """Every entry ``entry`` lies within on ``date``, nearest first, with the hierarchy of
    the link that reached it. Each ancestor appears once."""
    date = date or today()
    result: list[tuple[str, Entry]] = []
    seen = {entry.pk}
    frontier = [entry.pk]
    while frontier:
        relations = (
            Relation.objects.filter(
                covering(date), subject_id__in=frontier, kind=RELATION_KIND.PARENT
            )
            .select_related("object__register")
            .order_by("subject_id", "hierarchy")
        )
        frontier = []
        for relation in relations:
            if relation.object_id not in seen:
                seen.add(relation.object_id)
                result.append((relation.hierarchy, relation.object))
                frontier.append(relation.object_id)
    return result


def children(entry: Entry, date: dt.date | None = None, hierarchy: str | None = None):
    """The entries directly within ``entry`` on ``date``."""
    return Entry.objects.children_of(entry, date or today(), hierarchy)


@dataclass(frozen=True)
class Step:
    """One successor link followed: the event, and the codes it led from and to."""

    event: ChangeEvent
    predecessor: Entry
    successor: Entry


@dataclass
class Successor:
    entry: Entry
    path: list[Step]

    @property
    def kinds(self) -> list[str]:
        return [step.event.kind for step in self.path]


def _successor_steps(entries: list[Entry], until: dt.date | None) -> list[Step]:
    links = ChangeLink.objects.filter(predecessor__in=entries, successor__isnull=False).exclude(
        successor_id__in=[e.pk for e in entries]
    )
    if until is not None:
        links = links.filter(event__date__lte=until)
    return [
        Step(link.event, link.predecessor, link.successor)
        for link in links.select_related("event", "predecessor__register", "successor__register")
        if link.successor_id != link.predecessor_id
    ]


def current_codes(entry: Entry, date: dt.date | None = None) -> list[Successor]:
    """The entries live on ``date`` (default today) that ``entry``'s code leads to.

    A live entry leads to itself (with an empty path). A terminated one is followed through
    its successor links, step by step, to the live entries they reach; a split gives several,
    each labelled with the path of events that led there. A code with no successor and no
    longer live leads nowhere (an empty list).
    """
    date = date or today()
    result: dict[int, Successor] = {}
    queue: deque[tuple[Entry, list[Step]]] = deque([(entry, [])])
    visited = {entry.pk}
    while queue:
        current, path = queue.popleft()
        if lifetime(current).contains(date):
            result.setdefault(current.pk, Successor(current, path))
            continue
        for step in _successor_steps([current], date):
            if step.successor.pk not in visited:
                visited.add(step.successor.pk)
                queue.append((step.successor, [*path, step]))
    return sorted(result.values(), key=lambda s: s.entry.key)


def successors(entry: Entry) -> list[Step]:
    """The links from ``entry`` to the codes that directly replaced it."""
    return sorted(_successor_steps([entry], None), key=lambda s: (s.event.date, s.successor.key))


def predecessors(entry: Entry) -> list[Step]:
    """The links to ``entry`` from the codes it directly replaced."""
    links = (
        ChangeLink.objects.filter(successor=entry, predecessor__isnull=False)
        .exclude(predecessor=entry)
        .select_related("event", "predecessor__register", "successor__register")
    )
    steps = [Step(link.event, link.predecessor, link.successor) for link in links]
    return sorted(steps, key=lambda s: (s.event.date, s.predecessor.key))


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
