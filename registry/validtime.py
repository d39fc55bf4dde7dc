"""Valid time: what was true on a given day, worked out from rows with valid ranges.

Every fact the registry holds about an entry (a state, a name, a parent or governing link, an
identifier) is a row that holds over an inclusive range of days, ``start`` to ``end``. ``end``
is None while the fact still holds; a name's ``start`` may be None ("since before the registry
knew"). This module answers every "as at a date" question from such rows, and nothing else
does: the entry page, the RDF, the dumps, the lookup API, the bulk lookup and checker, and the
reconciler's in-memory index all call it, so none of them can answer the same question
differently.

The rules, each written once here:

- A row *covers* a day when ``start <= day <= end`` (a missing bound is open).
- An entry's *lifetime* is its live states: operative on the first one's ``start`` and, once it
  has ended, terminated on the last one's ``end``.
- A terminated entry is *described as on* its last day, and one not yet operative as on its
  first (:func:`seen_on`): a code that ended in 2020 still says what it was called and where it
  lay, whatever date is asked for.
- The *state* on a day is the state row covering it; its entity type, or before any state
  covers the day, the first state's.
- The *name* in a language is the official name covering the day, else the display name.
- *Current codes*: a live entry leads to itself; a terminated one is followed through its
  successor links to the live entries they reach (a split gives several), each with the hops
  that led there (:func:`current`). A *recode* is a chain of one-to-one links
  (:func:`recode_lineage`).

Everything here is pure (but for :func:`today`, which reads the clock): rows in, answers out. ``registry.facts`` reads the rows from the
database; the reconciler's index holds them in memory.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

LIVE = "live"
TERMINATED = "terminated"
ENGLISH = "en"
WELSH = "cy"
OFFICIAL = "official"
DISPLAY = "display"

Day = dt.date


def today() -> dt.date:
    """Today in the registry's time zone (Europe/London): the date every question is asked
    as at when none is given."""
    from django.utils import timezone

    return timezone.localdate()


def iso(value: dt.date | None) -> str | None:
    """A date as ``YYYY-MM-DD`` (None stays None): the one form dates take in JSON, CSV,
    snapshots and messages."""
    return value.isoformat() if value else None


def day(value: dt.date | str | None) -> dt.date | None:
    """A date from a date or its ISO text (SQLite hands dates back as text); None for no
    value."""
    if not value:
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


# ---------------------------------------------------------------------------------------
# Ranges


def covers(start: Any, end: Any, on: Any) -> bool:
    """Whether the inclusive range ``start``..``end`` (None: open) contains ``on``. Works on
    dates, and on ISO date strings, which sort the same way."""
    return (start is None or start <= on) and (end is None or on <= end)


def overlaps(a_start: Any, a_end: Any, b_start: Any, b_end: Any) -> bool:
    """Whether two inclusive ranges (None: open) share at least one day."""
    return (a_end is None or b_start is None or b_start <= a_end) and (
        b_end is None or a_start is None or a_start <= b_end
    )


class Dated(Protocol):
    start: Any
    end: Any


R = TypeVar("R", bound=Dated)


def in_force(rows: Iterable[R], on: dt.date) -> list[R]:
    """The rows covering ``on``, in their order."""
    return [row for row in rows if covers(row.start, row.end, on)]


# ---------------------------------------------------------------------------------------
# Rows


class StateRow(NamedTuple):
    """An entry's status and entity type over a range (``entity_type`` is whatever the reader
    identifies entity types by: a key, or a primary key)."""

    start: dt.date
    end: dt.date | None
    status: str
    entity_type: Any = None

    def covers(self, on: Any) -> bool:
        return covers(self.start, self.end, on)


class NameRow(NamedTuple):
    language: str
    kind: str
    text: str
    start: dt.date | None
    end: dt.date | None

    def covers(self, on: Any) -> bool:
        return covers(self.start, self.end, on)


class RelationRow(NamedTuple):
    """``kind`` (parent, governs) ``hierarchy`` ``target`` over a range; ``target`` is the
    other entry as the reader identifies it."""

    kind: str
    hierarchy: str
    target: Any
    start: dt.date
    end: dt.date | None

    def covers(self, on: Any) -> bool:
        return covers(self.start, self.end, on)


class IdentifierRow(NamedTuple):
    scheme: str
    value: str
    start: dt.date
    end: dt.date | None

    def covers(self, on: Any) -> bool:
        return covers(self.start, self.end, on)


# ---------------------------------------------------------------------------------------
# Lifetime and the day an entry is described on


class Lifetime(NamedTuple):
    operative: dt.date | None
    terminated: dt.date | None

    def contains(self, on: dt.date) -> bool:
        """Whether the entry was live on ``on``."""
        return self.operative is not None and covers(self.operative, self.terminated, on)


NEVER = Lifetime(None, None)


def lifetime(states: Iterable[StateRow]) -> Lifetime:
    """Operative on the first live state's start; terminated on the last one's end (None
    while a live state is open)."""
    live = sorted((s for s in states if s.status == LIVE), key=lambda s: s.start)
    if not live:
        return NEVER
    return Lifetime(live[0].start, live[-1].end)


def seen_on(life: Lifetime, on: dt.date) -> dt.date:
    """The day an entry is described on when asked about ``on``: ``on`` itself, its last day
    if it had ended by then, or its first if it had not yet begun."""
    if life.terminated is not None and on > life.terminated:
        return life.terminated
    if life.operative is not None and on < life.operative:
        return life.operative
    return on


def state_on(states: Sequence[StateRow], on: dt.date) -> StateRow | None:
    """The state covering ``on`` (None before the entry's first state)."""
    return next((s for s in states if covers(s.start, s.end, on)), None)


def status_on(states: Sequence[StateRow], on: dt.date) -> str | None:
    """``live`` or ``terminated`` on ``on``; None before the entry existed."""
    state = state_on(states, on)
    return state.status if state else None


def entity_type_on(states: Sequence[StateRow], on: dt.date) -> Any:
    """The entity type of the state covering ``on``; before (or outside) every state, the
    type of the first one, so a code not yet operative says what it will be."""
    state = state_on(states, on)
    if state is not None and state.entity_type is not None:
        return state.entity_type
    first = min(states, key=lambda s: s.start, default=None)
    return first.entity_type if first else None


def entity_types(states: Iterable[StateRow]) -> frozenset:
    """Every entity type the entry has had."""
    return frozenset(s.entity_type for s in states if s.entity_type is not None)


def live_together(a: Iterable[StateRow], b: Iterable[StateRow]) -> bool:
    """Whether two entries were ever live on the same day."""
    b_live = [s for s in b if s.status == LIVE]
    return any(
        overlaps(x.start, x.end, y.start, y.end) for x in a if x.status == LIVE for y in b_live
    )


# ---------------------------------------------------------------------------------------
# Names


def names_on(names: Iterable[NameRow], on: dt.date) -> dict[tuple[str, str], str]:
    """The text of each (language, kind) of name covering ``on``: the first in the given
    order where several do (alternative names can)."""
    found: dict[tuple[str, str], str] = {}
    for name in names:
        if covers(name.start, name.end, on):
            found.setdefault((name.language, name.kind), name.text)
    return found


def preferred(found: Mapping[tuple[str, str], str], language: str = ENGLISH) -> str | None:
    """The name in ``language`` from :func:`names_on`: official, else display."""
    return found.get((language, OFFICIAL)) or found.get((language, DISPLAY))


def label(
    names: Sequence[NameRow], life: Lifetime, on: dt.date, language: str = ENGLISH
) -> str | None:
    """What to call an entry when linking to it as at ``on``: its name in ``language``
    (English unless asked) as described on that day (:func:`seen_on`), else the latest
    official name in that language it ever had."""
    name = preferred(names_on(names, seen_on(life, on)), language)
    if name:
        return name
    official = [n for n in names if n.language == language and n.kind == OFFICIAL]
    if not official:
        return None
    return max(official, key=lambda n: (n.end is None, n.end or dt.date.min)).text


# ---------------------------------------------------------------------------------------
# What an entry is as at a date


class AsAt(NamedTuple):
    """An entry's own facts as at ``date``, described as on ``seen_on``.

    ``status`` is None before the entry was operative; ``parents`` maps each hierarchy to
    its target; ``governs`` and ``governed_by`` list targets in the given order."""

    date: dt.date
    seen_on: dt.date
    lifetime: Lifetime
    status: str | None
    entity_type: Any
    names: dict[tuple[str, str], str]
    parents: dict[str, Any]
    governs: list[Any]
    governed_by: list[Any]
    identifiers: list[IdentifierRow]

    @property
    def name(self) -> str | None:
        return preferred(self.names, ENGLISH)

    @property
    def name_cy(self) -> str | None:
        return preferred(self.names, WELSH)

    @property
    def display_name(self) -> str | None:
        return self.names.get((ENGLISH, DISPLAY))


PARENT = "parent"
GOVERNS = "governs"


def as_at(
    on: dt.date,
    states: Sequence[StateRow],
    names: Sequence[NameRow] = (),
    relations: Sequence[RelationRow] = (),
    governed_by: Sequence[RelationRow] = (),
    identifiers: Sequence[IdentifierRow] = (),
) -> AsAt:
    """Everything about one entry as at ``on``, from its rows. ``relations`` are the entry's
    own (it is within, or governs, their targets); ``governed_by`` the governing links that
    name it (their ``target`` being the council)."""
    life = lifetime(states)
    day_seen = seen_on(life, on)
    parents: dict[str, Any] = {}
    governs: list[Any] = []
    for relation in relations:
        if covers(relation.start, relation.end, day_seen):
            if relation.kind == PARENT:
                parents[relation.hierarchy] = relation.target
            elif relation.kind == GOVERNS:
                governs.append(relation.target)
    return AsAt(
        date=on,
        seen_on=day_seen,
        lifetime=life,
        status=status_on(states, on),
        entity_type=entity_type_on(states, on),
        names=names_on(names, day_seen),
        parents=parents,
        governs=governs,
        governed_by=[r.target for r in governed_by if covers(r.start, r.end, day_seen)],
        identifiers=in_force(identifiers, day_seen),
    )


def identifiers_for(rows: Sequence[IdentifierRow], life: Lifetime, on: dt.date, scheme: str):
    """The values of ``scheme`` an entry carried as described on ``on``; if none was in use
    then, the latest it ever had (a legacy code is still worth showing)."""
    mine = [row for row in rows if row.scheme == scheme]
    valid = in_force(mine, seen_on(life, on))
    if valid:
        return [row.value for row in valid]
    return [max(mine, key=lambda r: r.start).value] if mine else []


# ---------------------------------------------------------------------------------------
# Walking the hierarchy


N = TypeVar("N", bound=Hashable)


def ancestors(
    start: N,
    parents_of: Callable[[list[N]], Mapping[N, Iterable[tuple[str, N]]]],
) -> list[tuple[str, N]]:
    """Every node ``start`` lies within, nearest first, each once, with the hierarchy of the
    link that reached it. ``parents_of(nodes)`` gives each node's (hierarchy, parent) pairs
    in force on the day in question, a level at a time (so a database reader can answer each
    level in one query)."""
    result: list[tuple[str, N]] = []
    seen = {start}
    frontier = [start]
    while frontier:
        found = parents_of(frontier)
        level = []
        for node in frontier:
            for hierarchy, parent in found.get(node, ()):
                if parent not in seen:
                    seen.add(parent)
                    result.append((hierarchy, parent))
                    level.append(parent)
        frontier = level
    return result


def chain(start: N, parents_of: Callable[[N], Mapping[str, N]], order: Sequence[str]) -> list[N]:
    """The single chain of parents from ``start`` to the top, following at each step the
    first hierarchy in ``order`` that the node has (then any other, alphabetically), each
    node once: the breadcrumb of a page, nearest first."""
    rank = {hierarchy: i for i, hierarchy in enumerate(order)}
    result: list[N] = []
    seen = {start}
    node = start
    while True:
        parents = {h: p for h, p in parents_of(node).items() if p not in seen}
        if not parents:
            return result
        node = parents[min(parents, key=lambda h: (rank.get(h, len(rank)), h))]
        seen.add(node)
        result.append(node)


# ---------------------------------------------------------------------------------------
# Following successors


class Hop(NamedTuple):
    """One successor link followed: the change event (key, kind, date) and the two codes."""

    event: str
    kind: str
    date: dt.date
    predecessor: str
    successor: str

    def as_dict(self, event_uri: Callable[[str], str]) -> dict[str, Any]:
        return {
            "event": self.event,
            "uri": event_uri(self.event),
            "kind": self.kind,
            "date": self.date.isoformat(),
            "predecessor": self.predecessor,
            "successor": self.successor,
        }


def current(
    starts: Iterable[N],
    on: dt.date,
    live_on: Callable[[N, dt.date], bool],
    steps_of: Callable[[set[N]], Mapping[N, Iterable[tuple[Hop, N]]]],
) -> dict[N, list[tuple[N, list[Hop]]]]:
    """For each start, the nodes live on ``on`` that it leads to, with the hops that led to
    each, in the order found (breadth first, so the shortest path wins).

    A live node leads to itself with no hops. A node that is not live is followed through
    its successor links: ``steps_of(nodes)`` gives each node's (hop, successor) pairs for
    changes on or before ``on``, and is asked once per level for every search at that level,
    so a batch of any size costs one look-up per step of its longest chain. A node with no
    successor that is not live leads nowhere.
    """
    searches: dict[N, tuple[deque, set, dict]] = {
        start: (deque([(start, [])]), {start}, {}) for start in starts
    }
    active = set(searches)
    while active:
        needed = {
            node for start in active for node, _ in searches[start][0] if not live_on(node, on)
        }
        steps = steps_of(needed) if needed else {}
        still = set()
        for start in active:
            queue, visited, found = searches[start]
            following: deque = deque()
            for node, path in queue:
                if live_on(node, on):
                    found.setdefault(node, path)
                    continue
                for hop, successor in steps.get(node, ()):
                    if successor not in visited:
                        visited.add(successor)
                        following.append((successor, [*path, hop]))
            searches[start] = (following, visited, found)
            if following:
                still.add(start)
        active = still
    return {start: list(found.items()) for start, (_, _, found) in searches.items()}


def recode_lineage(
    start: N,
    successors: Callable[[N], Sequence[N]],
    predecessors: Callable[[N], Sequence[N]],
) -> frozenset[N]:
    """``start`` and every node joined to it, either way, by a chain of one-to-one links:
    links where A's only successor is B and B's only predecessor is A (a recode, or a
    district becoming a unitary authority), never a merge or a split."""
    seen = {start}
    frontier = [start]
    while frontier:
        node = frontier.pop()
        ahead, behind = successors(node), predecessors(node)
        for other, mine, theirs in (
            *((s, ahead, predecessors) for s in ahead),
            *((p, behind, successors) for p in behind),
        ):
            if other in seen or len(mine) != 1 or len(theirs(other)) != 1:
                continue
            seen.add(other)
            frontier.append(other)
    return frozenset(seen)


def lineage(
    start: N,
    successors: Callable[[N], Sequence[N]],
    predecessors: Callable[[N], Sequence[N]],
) -> frozenset[N]:
    """``start`` and every node linked to it through successor links, either way, at any
    distance."""
    seen = {start}
    frontier = [start]
    while frontier:
        node = frontier.pop()
        for other in (*successors(node), *predecessors(node)):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return frozenset(seen)
