"""What every importer shares: reading a fixture file row by row with line numbers, refusing
malformed values with the file, line and problem, and the :class:`Dataset` that the importers
fill with what each entry and change event should be."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from registry.models import EVENT_KIND, NAME_KIND, RELATION_KIND, STATUS
from registry.services import lifetime_states
from registry.text import fold, repair
from registry.validation import Known
from registry.validtime import Lifetime, iso

from ..gss import is_gss
from ..hierarchies import ALLOWED_PARENTS
from ..registers import AREAS

if TYPE_CHECKING:
    from .chd import Chd

# What snapshot building counts where the sources disagree (the load summary lists them).
DIFFERENT_NAMES = "official names other sources give differently (kept as alternative names)"

DAY = dt.timedelta(days=1)


class LoadError(Exception):
    """A source row the loader refuses; the message names the file, line and problem."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}, line {line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


def clean_name(text: str) -> str:
    """A name as it should read, whatever the file did to it: mojibake repaired ("GÅµyr" is
    Gŵyr, "Twyn Bryn-hÃ®r" Twyn Bryn-hîr), runs of spaces single ("North Somerset  Council")."""
    return " ".join(repair(text).split()) if text else ""


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
        text = clean_name(text)
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
    # The Code History Database, once read: the authority for the codes it holds (see
    # ``importers/chd.py``), and what building snapshots found where the sources disagree.
    chd: Chd | None = None
    notes: Counter = field(default_factory=Counter)
    _successors: dict[str, list[tuple[dt.date, str]]] | None = None

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
        if self._successors is None:
            result: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
            for date, predecessor, successor in self.changes:
                if predecessor != successor:
                    result[predecessor].append((date, successor))
            self._successors = result
        return self._successors

    def in_chd(self, ref: str) -> bool:
        return self._chd_code(ref) is not None

    def _chd_code(self, ref: str) -> str | None:
        if self.chd is None:
            return None
        register, _, key = ref.partition("/")
        return key if register == AREAS and key in self.chd else None

    def refs(self) -> list[str]:
        """Every entry the sources describe: the drafts', then the CHD codes no other source
        names, in code order."""
        result = list(self.entries)
        if self.chd is not None:
            result += [
                f"{AREAS}/{code}"
                for code in self.chd.codes()
                if f"{AREAS}/{code}" not in self.entries
            ]
        return result

    def lifetime(self, ref: str) -> tuple[dt.date | None, dt.date | None]:
        """When the entry is live: the CHD's dates for a code it holds (a later source may end
        a code the CHD shows live, after the CHD's last date), else the draft's."""
        draft = self.entries.get(ref)
        code = self._chd_code(ref)
        if code is None:
            return (draft.operative, draft.terminated) if draft else (None, None)
        operative, terminated = self.chd.lifetime(code)  # type: ignore[union-attr]
        if (
            terminated is None
            and draft is not None
            and draft.terminated is not None
            and draft.terminated >= self.chd.as_at  # type: ignore[union-attr]
        ):
            terminated = draft.terminated
        return operative, terminated

    def known(self, ref: str) -> Known | None:
        """What the load will write of ``ref`` (its lifetime and parents), for validating one
        batch of the load against the others (``registry.validation.validate_batch``)."""
        if ref not in self.entries and self._chd_code(ref) is None:
            return None
        operative, terminated = self.lifetime(ref)
        parents = set()
        code = self._chd_code(ref)
        if code is not None:
            parents |= {f"{AREAS}/{p}" for _h, p, _s, _e in self.chd.parents(code)}  # type: ignore[union-attr]
        draft = self.entries.get(ref)
        if draft is not None:
            parents |= {r[2] for r in draft.relations if r[0] == RELATION_KIND.PARENT}
        return Known(Lifetime(operative, terminated), frozenset(parents))

    def follow_relation(
        self, target: str, start: dt.date, end: dt.date | None, successors, hierarchy: str = ""
    ) -> list[tuple[str, dt.date, dt.date | None]]:
        """Split a relation whose object is terminated part-way: after the object's end it
        continues to the object's single successor (a merge or recode) if that is of a kind
        the hierarchy allows (a county's unitary successor is no county), and ends where the
        object split. Where the object starts later than the relation, it starts with it."""
        allowed = ALLOWED_PARENTS.get(hierarchy)
        result = []
        seen = set()
        while target not in seen:
            seen.add(target)
            operative, terminated = self.lifetime(target)
            if operative is None:
                result.append((target, start, end))
                break
            clipped = clip(start, end, operative, terminated)
            if clipped:
                result.append((target, *clipped))
            if terminated is None or (end is not None and end <= terminated):
                break
            nexts = {succ for _date, succ in successors.get(target, []) if succ != target}
            if len(nexts) != 1:
                break
            if allowed is not None and next(iter(nexts)).rpartition("/")[2][:3] not in allowed:
                break
            start = max(start, terminated + DAY)
            target = nexts.pop()
        return result

    def origin(self, ref: str, field_name: str | None, row: Any) -> str | None:
        """Where a row of ``ref``'s snapshot came from (see :meth:`Draft.origin`)."""
        draft = self.entries.get(ref)
        code = self._chd_code(ref)
        if code is not None and (draft is None or field_name in {"states", None}):
            return self.chd.where(code)  # type: ignore[union-attr]
        return draft.origin(field_name, row) if draft else None

    def snapshots(self) -> dict[str, dict[str, Any]]:
        """The snapshot of every entry (see :meth:`snapshot`)."""
        return {ref: self.snapshot(ref) for ref in self.refs()}

    def snapshot(self, ref: str) -> dict[str, Any]:
        """What one entry should be: states from its lifetime, and names, identifiers and
        relations clipped to it (relations following their objects' successors). For a code
        the CHD holds, its names and the parents of the hierarchies it gives are the CHD's;
        the other sources add what the CHD does not say (``importers/chd.py``)."""
        draft = self.entries.get(ref) or Draft(*ref.split("/", 1))
        code = self._chd_code(ref)
        if code is not None and code in self.chd.withdrawn:  # type: ignore[union-attr]
            return self._withdrawn(code, draft)
        lo, hi = self.lifetime(ref)
        if lo is None:
            raise LoadError(sorted(draft.sources)[0], 0, f"{ref} has no operative date")
        names = set(draft.names)
        relations = set(draft.relations)
        entity_type = draft.entity_type
        if code is not None:
            names, relations = self._with_chd(code, draft, names, relations)
            entity_type = self.chd.entity_type(code)  # type: ignore[union-attr]
        result_names = []
        for language, kind, text, start, end in names:
            span = clip(start, end, lo, hi)
            if span:
                result_names.append([language, kind, text, iso(span[0]), iso(span[1])])
        identifiers = []
        for scheme, value, start, end in draft.identifiers:
            span = clip(start, end, lo, hi)
            if span:
                identifiers.append([scheme, value, iso(span[0]), iso(span[1])])
        result_relations = set()
        successors = self.successors()
        for kind, hierarchy, target, start, end in relations:
            span = clip(start, end, lo, hi)
            if not span:
                continue
            for obj, s, e in self.follow_relation(target, span[0], span[1], successors, hierarchy):
                result_relations.add((kind, hierarchy, obj, iso(s), iso(e)))
        return {
            "names": result_names,
            "identifiers": identifiers,
            "states": lifetime_states(lo, hi, entity_type),
            "relations": [list(r) for r in merge_adjacent(result_relations)],
            "attributes": draft.attributes,
        }

    def _withdrawn(self, code: str, draft: Draft) -> dict[str, Any]:
        """A code issued and withdrawn before it came into use: terminated from the day it
        was issued for, never live, named as the CHD names it, within nothing."""
        issued = iso(self.chd.withdrawn[code])  # type: ignore[union-attr]
        names = [
            [language, kind, text, issued, None]
            for language, kind, text, *_ in self.chd.names(code)
        ]  # type: ignore[union-attr]
        return {
            "names": names,
            "identifiers": [],
            "states": [[issued, None, STATUS.TERMINATED, code[:3]]],
            "relations": [],
            "attributes": draft.attributes,
        }

    def _with_chd(self, code: str, draft: Draft, names: set, relations: set) -> tuple[set, set]:
        """The CHD's names and parents for ``code``, with what the draft adds and what it
        disagrees with counted in :attr:`notes` (the trust rules in ``importers/chd.py``)."""
        chd = self.chd
        assert chd is not None  # noqa: S101 - only called for CHD codes
        if draft.operative is not None and draft.operative != chd.lifetime(code)[0]:
            self.notes["operative dates other sources give differently (the CHD's kept)"] += 1
        chd_end = chd.lifetime(code)[1]
        extends = chd_end is None and draft.terminated and draft.terminated >= chd.as_at
        if draft.operative is not None and draft.terminated != chd_end and not extends:
            self.notes["terminated dates other sources give differently (the CHD's kept)"] += 1
        official = chd.names(code)
        languages = {language for language, *_ in official}
        exact = {(language, text) for language, _k, text, _s, _e in official}
        folded = None
        merged = set(official)
        alternatives = []
        for language, kind, text, start, end in names:
            if kind == NAME_KIND.OFFICIAL and language in languages:
                if (language, text) in exact:
                    continue  # the CHD says so too
                if folded is None:
                    folded = {(lang, fold(t)) for lang, _k, t, _s, _e in official}
                if (language, fold(text)) in folded:
                    continue  # the CHD says so too, written differently
                self.notes[DIFFERENT_NAMES] += 1
                kind = NAME_KIND.ALTERNATIVE
            if kind == NAME_KIND.ALTERNATIVE:
                alternatives.append((language, kind, text, start, end))
            else:
                merged.add((language, kind, text, start, end))
        # An alternative name the entry has anyway, in any language, is no alternative (the
        # CHD's Equivalents table mixes in untagged Welsh names that other sources tag).
        if alternatives:
            known = {fold(text) for _l, _k, text, _s, _e in merged}
            merged.update(name for name in alternatives if fold(name[2]) not in known)
        parents = chd.parents(code)
        hierarchies = {hierarchy for hierarchy, *_ in parents}
        targets = {(hierarchy, parent) for hierarchy, parent, _s, _e in parents}
        kept = set()
        for relation in relations:
            kind, hierarchy, target, *_ = relation
            if kind == RELATION_KIND.PARENT and hierarchy in hierarchies:
                if (hierarchy, target.partition("/")[2]) not in targets:
                    self.notes["parents other sources give differently (the CHD's kept)"] += 1
                continue
            kept.add(relation)
        for hierarchy, parent, start, end in parents:
            ref = f"{AREAS}/{parent}"
            if self.lifetime(ref)[0] is None:
                self.notes["CHD parents the registry does not hold (not linked)"] += 1
                continue
            kept.add((RELATION_KIND.PARENT, hierarchy, ref, start, end))
        return merged, kept

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
