"""What every importer shares: reading a fixture file row by row with line numbers, refusing
malformed values with the file, line and problem, and the :class:`Dataset` that the importers
fill with what each entry and change event should be."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.models import EVENT_KIND, NAME_KIND, RELATION_KIND
from registry.services import lifetime_states
from registry.validtime import iso

from ..gss import is_gss
from ..registers import AREAS

DAY = dt.timedelta(days=1)


class LoadError(Exception):
    """A source row the loader refuses; the message names the file, line and problem."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}, line {line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


def parse_date(value: str) -> dt.date:
    """ISO dates (2020-04-01) and the ONS day-first form (01/04/2020, with or without a
    time of 00:00)."""
    value = value.strip()
    if "/" in value:
        day, month, year = value.split(" ")[0].split("/")
        return dt.date(int(year), int(month), int(day))
    return dt.date.fromisoformat(value[:10])


@dataclass
class Row:
    path: str
    line: int
    values: dict[str, str]

    def error(self, problem: str) -> LoadError:
        return LoadError(self.path, self.line, problem)

    @property
    def where(self) -> str:
        """ "path, line N", for messages about what this row said."""
        return f"{self.path}, line {self.line}"

    def text(self, column: str, required: bool = True) -> str:
        value = (self.values.get(column) or "").strip()
        if required and not value:
            raise self.error(f"column {column!r} is empty")
        return value

    def gss(self, column: str, required: bool = True, prefixes: Iterable[str] = ()) -> str:
        value = self.text(column, required)
        if not value:
            return ""
        if not is_gss(value):
            raise self.error(f"{column} {value!r} is not a GSS code (a letter and eight digits)")
        prefixes = tuple(sorted(prefixes))
        if prefixes and not value.startswith(prefixes):
            raise self.error(
                f"{column} {value!r} is not of the expected type ({', '.join(prefixes)})"
            )
        return value

    def date(self, column: str, required: bool = False) -> dt.date | None:
        value = self.text(column, required)
        if not value:
            return None
        try:
            return parse_date(value)
        except (ValueError, IndexError, OverflowError):
            raise self.error(f"{column} {value!r} is not a date") from None


def read_csv(root: Path, relpath: str, columns: Iterable[str]) -> Iterator[Row]:
    """The rows of ``root/relpath``, after checking that the header has ``columns``."""
    path = root / relpath
    if not path.exists():
        raise LoadError(relpath, 0, "the file is missing")
    with path.open(newline="", encoding="utf-8") as handle:
        yield from read_rows(handle, relpath, columns)


def read_rows(handle: Iterable[str], name: str, columns: Iterable[str]) -> Iterator[Row]:
    """The rows of an open CSV text stream called ``name`` (for messages), after checking
    that its header has ``columns``."""
    reader = csv.DictReader(handle)
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise LoadError(name, 1, f"the header lacks the column(s) {', '.join(missing)}")
    for values in reader:
        if None in values:
            raise LoadError(name, reader.line_num, "the row has more fields than the header")
        yield Row(name, reader.line_num, values)


def spans(
    observations: Iterable[tuple[dt.date, Any]],
) -> list[tuple[Any, dt.date, dt.date | None]]:
    """Turn dated observations of a value into ``(value, from, to)`` spans: each value holds
    from the first date it is seen until the day before a different value is seen. The last
    span is open (``to`` None); callers clip spans to the entry's lifetime."""
    result: list[list[Any]] = []
    for date, value in sorted(observations, key=lambda o: o[0]):
        if result and result[-1][0] == value:
            continue
        if result:
            result[-1][2] = date - DAY
        result.append([value, date, None])
    return [tuple(span) for span in result]  # type: ignore[misc]


def clip(
    start: dt.date | None, end: dt.date | None, lo: dt.date, hi: dt.date | None
) -> tuple[dt.date, dt.date | None] | None:
    """The intersection of [start, end] with [lo, hi] (None meaning unbounded), or None."""
    start = max(start or lo, lo)
    if hi is not None:
        end = hi if end is None else min(end, hi)
    if end is not None and end < start:
        return None
    return start, end


@dataclass
class Draft:
    """What one entry should be, as the importers learn it."""

    register: str
    key: str
    entity_type: str | None = None
    operative: dt.date | None = None
    terminated: dt.date | None = None
    names: set[tuple] = field(default_factory=set)
    identifiers: set[tuple] = field(default_factory=set)
    relations: set[tuple] = field(default_factory=set)
    attributes: dict[str, Any] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    # Where the entry, and each name or relation, was first read ("path, line N"), so a row
    # that breaks a rule can be traced to its source: keyed by (list, what the row says,
    # whatever its dates): ("names", (language, kind, text)), ("relations", (kind,
    # hierarchy, target)).
    first_seen: str = ""
    origins: dict[tuple[str, tuple], str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.register}/{self.key}"

    def name(
        self,
        text: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        language: str = "en",
        kind: str = NAME_KIND.OFFICIAL,
        origin: Row | None = None,
    ) -> None:
        if text:
            self.names.add((language, kind, text, start, end))
            if origin is not None:
                self.origins.setdefault(("names", (language, kind, text)), origin.where)

    def parent(
        self,
        target: str,
        hierarchy: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        origin: Row | None = None,
    ) -> None:
        self.relations.add((RELATION_KIND.PARENT, hierarchy, target, start, end))
        if origin is not None:
            self.origins.setdefault(
                ("relations", (RELATION_KIND.PARENT, hierarchy, target)), origin.where
            )

    def origin(self, field_name: str | None, row: Any) -> str:
        """Where a snapshot row of this entry came from, as well as the sources say: the
        line that stated it, else the line that first named the entry, else the file."""
        heads = {"names": 3, "identifiers": 2, "relations": 3}
        if field_name in heads and isinstance(row, tuple):
            found = self.origins.get((field_name, tuple(row[: heads[field_name]])))
            if found:
                return found
        return self.first_seen or ", ".join(sorted(self.sources))

    def live_on(self, date: dt.date) -> bool:
        return (
            self.operative is not None
            and self.operative <= date
            and (self.terminated is None or date <= self.terminated)
        )


@dataclass
class Dataset:
    """Entries and change events as the sources describe them, keyed by ``register/key``."""

    entries: dict[str, Draft] = field(default_factory=dict)
    # (date, predecessor ref, successor ref) → (instrument id, instrument title, kind hint, source)
    changes: dict[tuple[dt.date, str, str], tuple[str, str, str, str]] = field(default_factory=dict)
    # What one importer leaves for a later one (``loader.py`` runs them in order): the counties
    # the latest county vintage lists, each district's combined authority over time, and the
    # 2021 LSOA names (for the small areas' second pass).
    counties_in_latest_vintage: set[str] = field(default_factory=set)
    combined_authority_membership: dict[str, list[tuple[dt.date, str | None]]] = field(
        default_factory=dict
    )
    lsoa21_names: dict[str, str] = field(default_factory=dict)

    def entry(self, register: str, key: str, source: str, row: Row | None = None) -> Draft:
        ref = f"{register}/{key}"
        draft = self.entries.get(ref)
        if draft is None:
            draft = self.entries[ref] = Draft(register, key)
        draft.sources.add(source)
        if row is not None and not draft.first_seen:
            draft.first_seen = row.where
        return draft

    def area(self, code: str, source: str, row: Row | None = None) -> Draft:
        draft = self.entry(AREAS, code, source, row)
        draft.entity_type = draft.entity_type or code[:3]
        return draft

    def get(self, ref: str) -> Draft | None:
        return self.entries.get(ref)

    def change(
        self,
        date: dt.date,
        predecessor: str,
        successor: str,
        source: str,
        instrument_id: str = "",
        instrument_title: str = "",
        kind: str = "",
    ) -> None:
        # Several sources may state the same link; keep whatever each adds.
        before = self.changes.get((date, predecessor, successor), ("", "", "", source))
        self.changes[(date, predecessor, successor)] = (
            before[0] or instrument_id,
            before[1] or instrument_title,
            before[2] or kind,
            before[3],
        )

    # -- turning drafts into snapshots ------------------------------------------------------

    def successors(self) -> dict[str, list[tuple[dt.date, str]]]:
        result: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
        for date, predecessor, successor in self.changes:
            if predecessor != successor:
                result[predecessor].append((date, successor))
        return result

    def follow_relation(
        self, target: str, start: dt.date, end: dt.date | None, successors
    ) -> list[tuple[str, dt.date, dt.date | None]]:
        """Split a relation whose object is terminated part-way: after the object's end it
        continues to the object's single successor (a merge or recode), and ends where the
        object split. Where the object starts later than the relation, it starts with it."""
        result = []
        seen = set()
        while target not in seen:
            seen.add(target)
            obj = self.entries.get(target)
            if obj is None or obj.operative is None:
                result.append((target, start, end))
                break
            clipped = clip(start, end, obj.operative, obj.terminated)
            if clipped:
                result.append((target, *clipped))
            if obj.terminated is None or (end is not None and end <= obj.terminated):
                break
            nexts = {succ for _date, succ in successors.get(target, []) if succ != target}
            if len(nexts) != 1:
                break
            start = max(start, obj.terminated + DAY)
            target = nexts.pop()
        return result

    def origin(self, ref: str, field_name: str | None, row: Any) -> str | None:
        """Where a row of ``ref``'s snapshot came from (see :meth:`Draft.origin`)."""
        draft = self.entries.get(ref)
        return draft.origin(field_name, row) if draft else None

    def snapshots(self) -> dict[str, dict[str, Any]]:
        """The snapshot of every entry: states from its lifetime, and names, identifiers and
        relations clipped to it (relations following their objects' successors)."""
        successors = self.successors()
        result = {}
        for ref, draft in self.entries.items():
            if draft.operative is None:
                raise LoadError(sorted(draft.sources)[0], 0, f"{ref} has no operative date")
            lo, hi = draft.operative, draft.terminated
            names = []
            for language, kind, text, start, end in draft.names:
                span = clip(start, end, lo, hi)
                if span:
                    names.append([language, kind, text, iso(span[0]), iso(span[1])])
            identifiers = []
            for scheme, value, start, end in draft.identifiers:
                span = clip(start, end, lo, hi)
                if span:
                    identifiers.append([scheme, value, iso(span[0]), iso(span[1])])
            relations = set()
            for kind, hierarchy, target, start, end in draft.relations:
                span = clip(start, end, lo, hi)
                if not span:
                    continue
                for obj, s, e in self.follow_relation(target, span[0], span[1], successors):
                    relations.add((kind, hierarchy, obj, iso(s), iso(e)))
            result[ref] = {
                "names": names,
                "identifiers": identifiers,
                "states": lifetime_states(lo, hi, draft.entity_type),
                "relations": [list(r) for r in merge_adjacent(relations)],
                "attributes": draft.attributes,
            }
        return result

    def events(self) -> dict[str, dict[str, Any]]:
        """Change events: the links of one date grouped into connected components, each
        named by its date and lowest code, and its kind read from its shape."""
        by_date: dict[dt.date, list[tuple[str, str]]] = defaultdict(list)
        for date, predecessor, successor in self.changes:
            by_date[date].append((predecessor, successor))
        events = {}
        for date, pairs in by_date.items():
            parent: dict[str, str] = {}
            for predecessor, successor in pairs:
                parent[_find(parent, predecessor)] = _find(parent, successor)
            groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
            for pair in pairs:
                groups[_find(parent, pair[0])].append(pair)
            for links in groups.values():
                details = [self.changes[(date, p, s)] for p, s in links]
                codes = sorted({r.partition("/")[2] for pair in links for r in pair})
                key = f"{date.isoformat()}-{codes[0]}"
                instrument_id = next((d[0] for d in details if d[0]), "")
                title = next((d[1] for d in details if d[1]), "")
                hint = next((d[2] for d in details if d[2]), "")
                events[key] = {
                    "date": date.isoformat(),
                    "kind": _event_kind(links, hint),
                    "instrument_id": instrument_id,
                    "instrument_title": title,
                    "note": "",
                    "links": sorted([list(pair) for pair in links]),
                    "sources": sorted({d[3] for d in details}),
                }
        return events


def _find(parent: dict[str, str], x: str) -> str:
    """Union-find: the representative of ``x``'s component (with path halving)."""
    while parent.setdefault(x, x) != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def _event_kind(links: list[tuple[str, str]], hint: str) -> str:
    predecessors = {p for p, _ in links}
    successors = {s for _, s in links}
    if predecessors == successors and len(predecessors) == 1:
        return hint or EVENT_KIND.RENAME
    if len(predecessors) == 1 and len(successors) == 1:
        return hint or EVENT_KIND.RECODE
    if len(successors) == 1:
        return EVENT_KIND.MERGE
    if len(predecessors) == 1:
        return EVENT_KIND.SPLIT
    return EVENT_KIND.COMPLEX


def merge_adjacent(relations: set[tuple]) -> list[tuple]:
    """Join spans of the same relation that meet end to start, so the snapshot does not
    depend on how the sources happened to slice time."""
    grouped: dict[tuple, list[tuple[str, str | None]]] = defaultdict(list)
    for kind, hierarchy, target, start, end in relations:
        grouped[(kind, hierarchy, target)].append((start, end))
    merged = []
    for head, periods in grouped.items():
        periods.sort()
        current = list(periods[0])
        for start, end in periods[1:]:
            if current[1] is None:
                break
            next_day = (dt.date.fromisoformat(current[1]) + DAY).isoformat()
            if start <= next_day:
                if end is None or end > current[1]:
                    current[1] = end
            else:
                merged.append((*head, *current))
                current = [start, end]
        merged.append((*head, *current))
    return sorted(merged, key=lambda r: [str(x) for x in r])
