"""Short descriptions of many entries at once, in a fixed number of queries.

A listing page, a bulk lookup or a chunk of a checked CSV file describes hundreds of entries;
:func:`registry.documents.describe` answers for one entry in a dozen queries, which would be
an N+1 here. These functions compute the same facts (they follow the rules of
``registry.queries.as_at``, ``lifetime`` and ``current_codes`` exactly, and the tests check
them against those functions) for a whole batch: a summary costs four queries per batch
whatever its size, and the current codes two queries per step of the successor chains.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F

from registry.documents import names_on
from registry.models import (
    LANGUAGE,
    NAME_KIND,
    RELATION_KIND,
    STATUS,
    ChangeLink,
    Entry,
    Name,
    Relation,
    State,
)
from registry.queries import today
from registry.uris import entry_uri, event_uri


def _covers(start: dt.date | None, end: dt.date | None, date: dt.date) -> bool:
    return (start is None or start <= date) and (end is None or end >= date)


@dataclass
class _States:
    rows: list[tuple[dt.date, dt.date | None, str, int | None]] = field(default_factory=list)

    @property
    def operative(self) -> dt.date | None:
        live = [row for row in self.rows if row[2] == STATUS.LIVE]
        return live[0][0] if live else None

    @property
    def terminated(self) -> dt.date | None:
        live = [row for row in self.rows if row[2] == STATUS.LIVE]
        return live[-1][1] if live else None

    def contains(self, date: dt.date) -> bool:
        operative, terminated = self.operative, self.terminated
        return (
            operative is not None
            and operative <= date
            and (terminated is None or date <= terminated)
        )


def _states_of(ids: list[int]) -> dict[int, _States]:
    result: dict[int, _States] = defaultdict(_States)
    rows = (
        State.objects.filter(entry_id__in=ids)
        .order_by("entry_id", "valid_from")
        .values_list("entry_id", "valid_from", "valid_to", "status", "entity_type_id")
    )
    for entry_id, start, end, status, entity_type_id in rows:
        result[entry_id].rows.append((start, end, status, entity_type_id))
    return result


def link(register: str, key: str, name: str) -> dict[str, Any]:
    """A reference to another entry, shaped as ``registry.documents.Link.as_dict()``."""
    return {"register": register, "key": key, "name": name, "uri": entry_uri(register, key)}


def summarise(
    entries: list[Entry], date: dt.date, *, parents: bool = True
) -> dict[int, dict[str, Any]]:
    """A summary of each entry as at ``date``, keyed by primary key.

    The summary holds the fields of ``describe(entry, date).as_dict()`` that describe the
    entry itself: register, key, uri, name, name_cy, display_name, status, entity_type,
    operative, terminated and (unless ``parents=False``) parents. ``entries`` must have their
    register loaded (``select_related("register")``).
    """
    if not entries:
        return {}
    ids = [entry.pk for entry in entries]
    states = _states_of(ids)
    names: dict[int, list[tuple[str, str, str, dt.date | None, dt.date | None]]] = defaultdict(list)
    for entry_id, language, kind, text, start, end in (
        Name.objects.filter(entry_id__in=ids)
        .order_by("entry_id", "language", "kind", "valid_from")
        .values_list("entry_id", "language", "kind", "text", "valid_from", "valid_to")
    ):
        names[entry_id].append((language, kind, text, start, end))
    relations: dict[int, list[tuple[str, int, str, str, dt.date, dt.date | None]]] = defaultdict(
        list
    )
    if parents:
        for subject_id, hierarchy, object_id, key, register, start, end in (
            Relation.objects.filter(subject_id__in=ids, kind=RELATION_KIND.PARENT)
            .order_by("subject_id", "hierarchy", "valid_from")
            .values_list(
                "subject_id",
                "hierarchy",
                "object_id",
                "object__key",
                "object__register__slug",
                "valid_from",
                "valid_to",
            )
        ):
            relations[subject_id].append((hierarchy, object_id, key, register, start, end))

    summaries: dict[int, dict[str, Any]] = {}
    wanted_types: set[int] = set()
    wanted_parents: set[int] = set()
    chosen_parents: dict[int, dict[str, tuple[int, str, str]]] = {}
    for entry in entries:
        history = states[entry.pk]
        operative, terminated = history.operative, history.terminated
        current = next((row for row in history.rows if _covers(row[0], row[1], date)), None)
        status = current[2] if current else None
        entity_type_id = current[3] if current else None
        # As registry.queries.as_at: a terminated entry is described as on its last day, one
        # not yet operative as on its first (with the entity type of its first state).
        seen_on = date
        if terminated and date > terminated:
            seen_on = terminated
        elif operative and date < operative:
            seen_on = operative
            entity_type_id = history.rows[0][3] if history.rows else entity_type_id
        found: dict[tuple[str, str], str] = {}
        for language, kind, text, start, end in names[entry.pk]:
            if _covers(start, end, seen_on):
                found.setdefault((language, kind), text)
        chosen: dict[str, tuple[int, str, str]] = {}
        for hierarchy, object_id, key, register, start, end in relations[entry.pk]:
            if _covers(start, end, seen_on):
                chosen[hierarchy] = (object_id, register, key)
                wanted_parents.add(object_id)
        chosen_parents[entry.pk] = chosen
        if entity_type_id:
            wanted_types.add(entity_type_id)
        summaries[entry.pk] = {
            "register": entry.register.slug,
            "key": entry.key,
            "uri": entry_uri(entry.register.slug, entry.key),
            "name": (
                found.get((LANGUAGE.ENGLISH, NAME_KIND.OFFICIAL))
                or found.get((LANGUAGE.ENGLISH, NAME_KIND.DISPLAY))
                or entry.key
            ),
            "name_cy": found.get((LANGUAGE.WELSH, NAME_KIND.OFFICIAL))
            or found.get((LANGUAGE.WELSH, NAME_KIND.DISPLAY)),
            "display_name": found.get((LANGUAGE.ENGLISH, NAME_KIND.DISPLAY)),
            "status": status,
            "entity_type": entity_type_id,
            "operative": operative.isoformat() if operative else None,
            "terminated": terminated.isoformat() if terminated else None,
        }
    labels = (
        names_on(list(wanted_types | wanted_parents), date)
        if wanted_types or wanted_parents
        else {}
    )
    type_keys = dict(Entry.objects.filter(pk__in=wanted_types).values_list("pk", "key"))
    # Entity types are labelled with today's name, as registry.documents does.
    type_names = names_on(list(wanted_types), today()) if wanted_types else {}
    for entry_id, summary in summaries.items():
        type_id = summary["entity_type"]
        summary["entity_type"] = (
            {"key": type_keys[type_id], "name": type_names.get(type_id, type_keys[type_id])}
            if type_id
            else None
        )
        if parents:
            summary["parents"] = {
                hierarchy: link(register, key, labels.get(object_id, key))
                for hierarchy, (object_id, register, key) in sorted(
                    chosen_parents[entry_id].items()
                )
            }
    return summaries


@dataclass(frozen=True)
class Hop:
    """One successor link followed, as plain values."""

    event_key: str
    kind: str
    date: dt.date
    predecessor: str
    successor: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event_key,
            "uri": event_uri(self.event_key),
            "kind": self.kind,
            "date": self.date.isoformat(),
            "predecessor": self.predecessor,
            "successor": self.successor,
        }


@dataclass(frozen=True)
class Node:
    id: int
    register: str
    key: str


def current_codes_many(
    entries: list[Entry], date: dt.date
) -> dict[int, list[tuple[Node, list[Hop]]]]:
    """For each entry, the entries live on ``date`` that its code leads to, with the path of
    change events that led there, sorted by key: ``registry.queries.current_codes`` for a
    whole batch, following all chains one step at a time together."""
    if not entries:
        return {}
    nodes = {entry.pk: Node(entry.pk, entry.register.slug, entry.key) for entry in entries}
    lifetimes = _states_of(list(nodes))
    steps: dict[int, list[tuple[Hop, int]]] = {}

    def load_steps(ids: set[int]) -> None:
        missing = [i for i in ids if i not in steps]
        if not missing:
            return
        for i in missing:
            steps[i] = []
        rows = (
            ChangeLink.objects.filter(
                predecessor_id__in=missing, successor__isnull=False, event__date__lte=date
            )
            .exclude(successor_id=F("predecessor_id"))
            .order_by("event__date", "successor__key")
            .values_list(
                "predecessor_id",
                "predecessor__key",
                "successor_id",
                "successor__key",
                "successor__register__slug",
                "event__key",
                "event__kind",
                "event__date",
            )
        )
        new = set()
        for pred_id, pred_key, succ_id, succ_key, succ_register, event_key, kind, day in rows:
            steps[pred_id].append((Hop(event_key, kind, day, pred_key, succ_key), succ_id))
            if succ_id not in nodes:
                nodes[succ_id] = Node(succ_id, succ_register, succ_key)
                new.add(succ_id)
        if new:
            lifetimes.update(_states_of(list(new)))

    # One breadth-first search per entry, run level by level so each level is one query.
    searches = {
        entry.pk: (deque([(entry.pk, [])]), {entry.pk}, {}) for entry in entries
    }  # id -> (queue, visited, found)
    active = set(searches)
    while active:
        needed = set()
        for start in active:
            queue, _, _ = searches[start]
            needed |= {node_id for node_id, _ in queue if not lifetimes[node_id].contains(date)}
        load_steps(needed)
        still = set()
        for start in active:
            queue, visited, found = searches[start]
            level, queue_next = list(queue), deque()
            for node_id, path in level:
                if lifetimes[node_id].contains(date):
                    found.setdefault(node_id, path)
                    continue
                for hop, succ_id in steps[node_id]:
                    if succ_id not in visited:
                        visited.add(succ_id)
                        queue_next.append((succ_id, [*path, hop]))
            searches[start] = (queue_next, visited, found)
            if queue_next:
                still.add(start)
        active = still
    return {
        start: sorted(
            ((nodes[node_id], path) for node_id, path in found.items()),
            key=lambda item: item[0].key,
        )
        for start, (_, _, found) in searches.items()
    }


def current_as_dicts(
    found: dict[int, list[tuple[Node, list[Hop]]]], date: dt.date
) -> dict[int, list[dict[str, Any]]]:
    """The current codes as JSON-ready links (named as at ``date``), each with its ``via``."""
    ids = {node.id for results in found.values() for node, _ in results}
    labels = names_on(list(ids), date) if ids else {}
    return {
        start: [
            {
                **link(node.register, node.key, labels.get(node.id, node.key)),
                "via": [hop.as_dict() for hop in path],
            }
            for node, path in results
        ]
        for start, results in found.items()
    }
