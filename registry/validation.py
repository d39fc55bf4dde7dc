"""The rules every change to an entry must keep, with messages a curator understands.

``validate_entry`` checks a whole snapshot before ``registry.services`` writes it. The rules
here are generic; a domain adds its own through :func:`register_rule` (``geography`` adds the
GSS code format and the entity types a parent may have in each hierarchy).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from . import facts, validtime
from .models import (
    LANGUAGE,
    NAME_KIND,
    RELATION_KIND,
    STATUS,
    Entry,
    Identifier,
    Register,
    Relation,
)
from .snapshots import Snapshot, split_ref
from .validtime import iso


@dataclass
class Context:
    """What a rule sees: the register, the key, the snapshot to be written, the id of the
    entry if it exists already, the rows that are new in this change (rules about a row need
    not re-check rows the registry already holds), and lookups shared across a batch."""

    register: Register
    key: str
    snapshot: Snapshot
    entry_id: int | None
    new: Snapshot
    lookups: Lookups

    def new_rows(self, field: str) -> list[list]:
        return self.new[field]


class Lookups:
    """Entries and lifetimes fetched once for a batch of validations."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry | None] = {}
        self.spans: dict[int, tuple[dt.date | None, dt.date | None]] = {}
        # Entries being created in the same batch (ref → lifetime), which a relation may name.
        self.pending: dict[str, tuple[dt.date | None, dt.date | None]] = {}

    def prefetch(self, refs: set[str]) -> None:
        missing = {ref for ref in refs if ref not in self.entries}
        if not missing:
            return
        by_register: dict[str, set[str]] = {}
        for ref in missing:
            slug, key = split_ref(ref)
            by_register.setdefault(slug, set()).add(key)
            self.entries[ref] = None
        found = []
        for slug, keys in by_register.items():
            for entry in Entry.objects.filter(register__slug=slug, key__in=keys).select_related(
                "register"
            ):
                self.entries[f"{slug}/{entry.key}"] = entry
                found.append(entry.pk)
        self.spans.update(facts.lifetimes(found))

    def entry(self, ref: str) -> Entry | None:
        self.prefetch({ref})
        return self.entries[ref]

    def span(self, entry: Entry) -> tuple[dt.date | None, dt.date | None]:
        return self.spans.get(entry.pk, (None, None))


Rule = Callable[[Context], list[str]]
_RULES: list[Rule] = []


def register_rule(rule: Rule) -> Rule:
    """Add a domain rule (usable as a decorator). Rules return a list of messages."""
    if rule not in _RULES:
        _RULES.append(rule)
    return rule


def _d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _period(start: str | None, end: str | None) -> str:
    if start and end:
        return f"from {start} to {end}"
    if start:
        return f"from {start}"
    return f"until {end}" if end else "at any time"


def _overlap(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    return validtime.overlaps(_d(a[0]), _d(a[1]), _d(b[0]), _d(b[1]))


def validate_entry(
    register: Register,
    key: str,
    snapshot: Snapshot,
    entry_id: int | None = None,
    *,
    before: Snapshot | None = None,
    lookups: Lookups | None = None,
) -> list[str]:
    """Every broken rule's message; an empty list when the snapshot may be written.

    ``before`` is the entry's current snapshot (read here if not given): rules about single
    rows check only the rows this change adds. ``lookups`` shares fetched entries across a
    batch (see :func:`validate_many`)."""
    shape_problems = _shapes(snapshot)
    if shape_problems:
        return shape_problems  # the other rules read rows of the right shape
    if before is None and entry_id is not None:
        from .snapshots import entry_snapshots

        before = entry_snapshots([entry_id]).get(entry_id)
    old = before or {}
    new = {
        field: [row for row in snapshot.get(field, []) if row not in old.get(field, [])]
        for field in ("names", "identifiers", "states", "relations")
    }
    lookups = lookups or Lookups()
    lookups.prefetch({row[2] for row in new["relations"]})
    context = Context(register, key, snapshot, entry_id, new, lookups)
    messages: list[str] = []
    for rule in (
        _key_format,
        _coherent_dates,
        _states,
        _parents,
        _no_cycles,
        _identifiers,
        *_RULES,
    ):
        messages.extend(rule(context))
    return messages


def validate_many(
    register: Register, items: list[tuple[str, Snapshot, int | None, Snapshot | None]]
) -> dict[str, list[str]]:
    """Validate many entries (key, snapshot, entry id, current snapshot) with shared lookups,
    fetching every entry their new relations name in a few queries. Returns the messages of
    each key that breaks a rule."""
    lookups = Lookups()
    for key, snapshot, entry_id, _before in items:
        if entry_id is None:  # created in this batch: others may name it as their parent
            live = [row for row in snapshot["states"] if row[2] == STATUS.LIVE]
            if live:
                lookups.pending[f"{register.slug}/{key}"] = (_d(live[0][0]), _d(live[-1][1]))
    refs = set()
    for _key, snapshot, _entry_id, before in items:
        old = (before or {}).get("relations", [])
        refs |= {row[2] for row in snapshot["relations"] if row not in old}
    lookups.prefetch(refs)
    result = {}
    for key, snapshot, entry_id, before in items:
        messages = validate_entry(
            register, key, snapshot, entry_id, before=before or {}, lookups=lookups
        )
        if messages:
            result[key] = messages
    return result


# Each row's fields: (name, allowed values or a type check, required).
_ROWS = {
    "names": [("language", LANGUAGE.values, True), ("kind", NAME_KIND.values, True),
              ("text", str, True), ("valid_from", "date", False), ("valid_to", "date", False)],
    "identifiers": [("scheme", str, True), ("value", str, True), ("valid_from", "date", True),
                    ("valid_to", "date", False)],
    "states": [("valid_from", "date", True), ("valid_to", "date", False),
               ("status", STATUS.values, True), ("entity_type", str, False)],
    "relations": [("kind", RELATION_KIND.values, True), ("hierarchy", str, False),
                  ("target", "ref", True), ("valid_from", "date", True), ("valid_to", "date", False)],
}  # fmt: skip


def _shapes(snapshot: Snapshot) -> list[str]:
    """Every row has its fields, of the right kind: dates as YYYY-MM-DD, choices from their
    lists, no row twice."""
    messages = []
    for field, spec in _ROWS.items():
        rows = snapshot.get(field, [])
        if not isinstance(rows, list):
            messages.append(f"{field} must be a list of rows.")
            continue
        seen = set()
        for number, row in enumerate(rows, start=1):
            where = f"{field} row {number}"
            if not isinstance(row, list | tuple) or len(row) != len(spec):
                names = ", ".join(name for name, _, _ in spec)
                messages.append(f"{where} must have {len(spec)} values: {names}.")
                continue
            for value, (name, check, required) in zip(row, spec, strict=True):
                if value is None or value == "":
                    if required:
                        messages.append(f"{where}: {name} is required.")
                    continue
                if not isinstance(value, str):
                    messages.append(f"{where}: {name} must be text.")
                elif check == "date":
                    try:
                        dt.date.fromisoformat(value)
                    except ValueError:
                        messages.append(f"{where}: {name} {value!r} is not a date (YYYY-MM-DD).")
                elif check == "ref" and "/" not in value:
                    messages.append(f"{where}: {name} {value!r} is not register/key.")
                elif isinstance(check, list) and value not in check:
                    messages.append(f"{where}: {name} {value!r} is not one of {', '.join(check)}.")
            key = tuple(str(v) for v in row)
            if key in seen:
                messages.append(f"{where} repeats an earlier row.")
            seen.add(key)
    return messages


def _key_format(c: Context) -> list[str]:
    if not re.fullmatch(c.register.key_pattern, c.key):
        return [f"“{c.key}” is not a valid key for the {c.register.name} register."]
    return []


def _coherent_dates(c: Context) -> list[str]:
    messages = []
    rows = [("name", f"“{r[2]}”", r[3], r[4]) for r in c.new["names"]]
    rows += [("identifier", f"{r[0]} {r[1]}", r[2], r[3]) for r in c.new["identifiers"]]
    rows += [("state", r[2], r[0], r[1]) for r in c.new["states"]]
    rows += [("parent link", r[2], r[3], r[4]) for r in c.new["relations"]]
    for what, label, start, end in rows:
        if start and end and end < start:
            messages.append(f"The {what} {label} cannot end ({end}) before it starts ({start}).")
    return messages


def _states(c: Context) -> list[str]:
    states = sorted(c.snapshot["states"], key=lambda r: r[0] or "")
    if not states:
        return ["An entry needs at least one state (when it became live)."]
    messages = []
    for before, after in zip(states, states[1:], strict=False):
        if _overlap((before[0], before[1]), (after[0], after[1])):
            messages.append(
                f"Two states overlap: {before[2]} {_period(before[0], before[1])} and "
                f"{after[2]} {_period(after[0], after[1])}."
            )
    if states[0][2] != STATUS.LIVE:
        messages.append("An entry's first state must be live.")
    return messages


def _parents(c: Context) -> list[str]:
    messages = []
    for kind, hierarchy, ref, start, end in c.new["relations"]:
        target = c.lookups.entry(ref)
        if target is None and ref not in c.lookups.pending:
            messages.append(f"There is no entry {ref} to link to.")
            continue
        if kind != RELATION_KIND.PARENT:
            continue
        key = target.key if target else split_ref(ref)[1]
        operative, terminated = c.lookups.span(target) if target else c.lookups.pending[ref]
        if operative is None:
            messages.append(f"The parent {key} has no live period.")
            continue
        s, e = _d(start) or dt.date.min, _d(end) or dt.date.max
        if s < operative or (terminated is not None and e > terminated):
            messages.append(
                f"The parent {key} ({hierarchy}) was not live for the whole period "
                f"{_period(start, end)}: it was live {_period(iso(operative), iso(terminated))}."
            )
    return messages


def _no_cycles(c: Context) -> list[str]:
    """An entry cannot be within itself, directly or through its parents. Only a new parent
    link can make a cycle."""
    if c.entry_id is None:
        return []
    frontier = [
        target.pk
        for kind, _h, ref, _s, _e in c.new["relations"]
        if kind == RELATION_KIND.PARENT and (target := c.lookups.entry(ref)) is not None
    ]
    seen = set(frontier)
    while frontier:
        if c.entry_id in frontier:
            return [f"{c.key} cannot be within itself (through its parents)."]
        frontier = [
            pk
            for pk in Relation.objects.filter(
                subject_id__in=frontier, kind=RELATION_KIND.PARENT
            ).values_list("object_id", flat=True)
            if pk not in seen
        ]
        seen.update(frontier)
    return []


def _identifiers(c: Context) -> list[str]:
    messages = []
    for scheme, value, start, end in c.new["identifiers"]:
        others = Identifier.objects.filter(scheme=scheme, value=value).select_related(
            "entry__register"
        )
        if c.entry_id is not None:
            others = others.exclude(entry_id=c.entry_id)
        for other in others:
            if _overlap((start, end), (iso(other.valid_from), iso(other.valid_to))):
                messages.append(
                    f"The identifier {scheme} {value} is already used by "
                    f"{other.entry.register.slug}/{other.entry.key} "
                    f"{_period(iso(other.valid_from), iso(other.valid_to))}."
                )
    return messages
