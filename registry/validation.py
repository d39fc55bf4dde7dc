"""The rules every change to an entry must keep, with messages a curator understands.

Every writer (a curator in the admin, the write API, the loader, the ONS change import) has
its snapshots checked here, by the same rules, before ``registry.services`` writes them:
:func:`validate_entry` for one entry, :func:`validate_batch` for many at once with shared
look-ups (a whole load is a batch of sixty thousand entries; the entries of a batch may name
each other, and are checked against what the batch will make them, not what the registry held
before). The rules here are generic; a domain adds its own through :func:`register_rule`
(``geography`` adds the GSS code format and the entity types a parent may have in each
hierarchy).

A broken rule is a :class:`Problem`: the message, which is what a curator reads, plus the name
of the rule and, where one row broke it, that row, so a loader can say which line of which
source file it came from.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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
from .snapshots import LIST_FIELDS, Snapshot, canonical, entry_snapshots, split_ref
from .validtime import Lifetime, iso


class Problem(str):
    """A broken rule: its message (the string itself), the rule's name and, where a single
    row broke it, the list it is in (``names``…) and the row."""

    rule: str
    field: str | None
    row: Any

    def __new__(cls, message: str, rule: str = "", field: str | None = None, row: Any = None):
        problem = super().__new__(cls, message)
        problem.rule, problem.field, problem.row = rule, field, row
        return problem


@dataclass(frozen=True)
class Item:
    """One entry to validate: the snapshot to be written (canonical), the entry's id if it
    exists already, and its current snapshot (rules about single rows check only the rows a
    change adds)."""

    register: Register
    key: str
    snapshot: Snapshot
    entry_id: int | None = None
    before: Snapshot | None = None

    @property
    def ref(self) -> str:
        return f"{self.register.slug}/{self.key}"


@dataclass(frozen=True)
class Known:
    """What a writer of several batches already knows of an entry another batch will write:
    its lifetime and the entries it will lie within (see :func:`validate_batch`)."""

    lifetime: Lifetime
    parents: frozenset[str] = frozenset()


Oracle = Callable[[str], "Known | None"]


class Lookups:
    """What rules need to know of other entries, fetched once for a batch: whether an entry
    exists, its lifetime and parents, and who else claims an identifier. An entry in the
    batch is known by the snapshot it is about to get; one that a later batch of the same run
    will write by what ``known`` says of it; any other by what the registry holds.
    """

    def __init__(
        self, pending: Mapping[str, Snapshot] | None = None, known: Oracle | None = None
    ) -> None:
        self.pending: Mapping[str, Snapshot] = pending or {}
        self.known: Oracle = known or (lambda ref: None)
        self.entries: dict[str, Entry | None] = {}
        self.lifetimes: dict[int, Lifetime] = {}
        self._pending_lifetimes: dict[str, Lifetime] = {}
        self._parents: dict[str, set[str]] = {}
        self._claims: dict[tuple[str, str], list[tuple[str, str | None, str | None]]] | None = None
        self._claimed: set[str] = set()

    # -- entries and lifetimes ------------------------------------------------------------

    def prefetch(self, refs: Iterable[str]) -> None:
        """Read the entries (and their lifetimes) of these refs, in a query per register."""
        missing = {
            ref
            for ref in refs
            if ref not in self.entries and ref not in self.pending and self.known(ref) is None
        }
        if not missing:
            return
        by_register: dict[str, set[str]] = defaultdict(set)
        for ref in missing:
            slug, key = split_ref(ref)
            by_register[slug].add(key)
            self.entries[ref] = None
        found = []
        for slug, keys in by_register.items():
            for entry in Entry.objects.filter(register__slug=slug, key__in=keys).select_related(
                "register"
            ):
                self.entries[f"{slug}/{entry.key}"] = entry
                found.append(entry.pk)
        self.lifetimes.update(facts.lifetimes(found))

    def exists(self, ref: str) -> bool:
        if ref in self.pending or self.known(ref) is not None:
            return True
        self.prefetch([ref])
        return self.entries[ref] is not None

    def lifetime(self, ref: str) -> Lifetime:
        pending = self.pending.get(ref)
        if pending is not None:
            found = self._pending_lifetimes.get(ref)
            if found is None:
                found = self._pending_lifetimes[ref] = lifetime_of(pending)
            return found
        known = self.known(ref)
        if known is not None:
            return known.lifetime
        self.prefetch([ref])
        entry = self.entries[ref]
        return self.lifetimes.get(entry.pk, validtime.NEVER) if entry else validtime.NEVER

    # -- parents ---------------------------------------------------------------------------

    def parents(self, refs: Iterable[str]) -> dict[str, set[str]]:
        """The refs each entry lies (or lay) within at any time, a level at a time."""
        wanted = [ref for ref in refs if ref not in self._parents]
        stored = []
        for ref in wanted:
            pending = self.pending.get(ref)
            known = self.known(ref) if pending is None else None
            if pending is not None:
                self._parents[ref] = {
                    row.target for row in pending["relations"] if row.kind == RELATION_KIND.PARENT
                }
            elif known is not None:
                self._parents[ref] = set(known.parents)
            else:
                stored.append(ref)
        if stored:
            self.prefetch(stored)
            by_pk = {self.entries[ref].pk: ref for ref in stored if self.entries.get(ref)}
            for ref in stored:
                self._parents[ref] = set()
            rows = facts.fetch(
                Relation.objects.filter(subject_id__in=list(by_pk), kind=RELATION_KIND.PARENT),
                "subject_id",
                "object__register__slug",
                "object__key",
            )
            for subject, register, key in rows:
                self._parents[by_pk[subject]].add(f"{register}/{key}")
        return {ref: self._parents[ref] for ref in refs}

    # -- identifiers -----------------------------------------------------------------------

    def claims(self, scheme: str, value: str) -> list[tuple[str, str | None, str | None]]:
        """Who else holds this identifier: (ref, valid_from, valid_to) for every claim in the
        batch and in the registry (an entry of the batch by its new snapshot only)."""
        if self._claims is None:
            self._claims = defaultdict(list)
            for ref, snapshot in self.pending.items():
                for row in snapshot["identifiers"]:
                    if not _text(getattr(row, "scheme", None), getattr(row, "value", None)):
                        continue  # a row of the wrong shape or kind: its own check refuses it
                    self._claims[(row.scheme, row.value)].append(
                        (ref, row.valid_from, row.valid_to)
                    )
        if value not in self._claimed:
            self._load_claims({value})
        return self._claims[(scheme, value)]

    def prefetch_claims(self, values: Iterable[str]) -> None:
        self.claims("", "")  # build the batch's own claims
        self._load_claims(set(values) - self._claimed)

    def _load_claims(self, values: set[str]) -> None:
        assert self._claims is not None  # noqa: S101 - built by claims() first
        self._claimed |= values
        if not values:
            return
        chunk = sorted(values)
        for start in range(0, len(chunk), facts.CHUNK):
            rows = facts.fetch(
                Identifier.objects.filter(value__in=chunk[start : start + facts.CHUNK]),
                "scheme",
                "value",
                "entry__register__slug",
                "entry__key",
                "valid_from",
                "valid_to",
            )
            for scheme, value, register, key, start_day, end_day in rows:
                ref = f"{register}/{key}"
                if ref not in self.pending:
                    day_from, day_to = validtime.day(start_day), validtime.day(end_day)
                    self._claims[(scheme, value)].append((ref, iso(day_from), iso(day_to)))


def lifetime_of(snapshot: Snapshot) -> Lifetime:
    """The lifetime a snapshot's states give."""
    return validtime.lifetime(
        validtime.StateRow(_d(row.valid_from), _d(row.valid_to), row.status)
        for row in snapshot["states"]
        if isinstance(row, tuple) and len(row) == 4 and row.valid_from
    )


@dataclass
class Context:
    """What a rule sees: the register, the key, the snapshot to be written (canonical: every
    row a named record), the id of the entry if it exists already, the rows that are new in
    this change (rules about a row need not re-check rows the registry already holds), and
    look-ups shared across a batch."""

    register: Register
    key: str
    snapshot: Snapshot
    entry_id: int | None
    new: Snapshot
    lookups: Lookups
    rule: str = ""
    found: list[Problem] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.register.slug}/{self.key}"

    def new_rows(self, field_name: str) -> list:
        return self.new[field_name]

    def problem(self, message: str, field_name: str | None = None, row: Any = None) -> Problem:
        """A problem found by the rule now running (rules may also return plain strings)."""
        return Problem(message, self.rule, field_name, row)


Rule = Callable[[Context], list[str]]
_RULES: list[Rule] = []


def register_rule(rule: Rule) -> Rule:
    """Add a domain rule (usable as a decorator). Rules return a list of messages: plain
    strings, or :meth:`Context.problem` to name the row that broke the rule."""
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
) -> list[Problem]:
    """Every broken rule of one entry; an empty list when the snapshot may be written.
    ``before`` is the entry's current snapshot (read here if not given)."""
    snapshot = canonical(snapshot)
    if before is None and entry_id is not None:
        before = entry_snapshots([entry_id]).get(entry_id)
    item = Item(register, key, snapshot, entry_id, before)
    return validate_batch([item]).get(item.ref, [])


def validate_batch(items: Iterable[Item], known: Oracle | None = None) -> dict[str, list[Problem]]:
    """Validate many entries with shared look-ups: the entries their new rows name are read
    in a few queries for the whole batch, and an entry of the batch is judged by the snapshot
    it is about to get. A run that writes in several batches says, through ``known``, what it
    will write later (an entry of a later batch may be the parent of one in this). Returns
    the problems of each ``register/key`` that breaks a rule."""
    items = [
        item if _is_canonical(item.snapshot) else _with(item, canonical(item.snapshot))
        for item in items
    ]
    lookups = Lookups({item.ref: item.snapshot for item in items}, known)
    news = {item.ref: _new_rows(item) for item in items}
    # Only rows of the right shape and kind are looked up; the others are refused below.
    targets = {
        row.target
        for new in news.values()
        for row in new["relations"]
        if _has(row, 5) and _text(row.target)
    }
    lookups.prefetch(targets)
    lookups.prefetch_claims(
        row.value
        for new in news.values()
        for row in new["identifiers"]
        if _has(row, 4) and _text(row.value)
    )
    result: dict[str, list[Problem]] = {}
    for item in items:
        problems = _shapes(item.snapshot)
        if not problems:  # the other rules read rows of the right shape
            context = Context(
                item.register, item.key, item.snapshot, item.entry_id, news[item.ref], lookups
            )
            for rule in (
                _key_format,
                _coherent_dates,
                _states,
                _parents,
                _no_cycles,
                _identifiers,
                *_RULES,
            ):
                context.rule = rule.__name__.lstrip("_")
                for message in rule(context):
                    problems.append(
                        message if isinstance(message, Problem) else Problem(message, context.rule)
                    )
        if problems:
            result[item.ref] = problems
    return result


def _is_canonical(snapshot: Snapshot) -> bool:
    return all(isinstance(snapshot.get(f), list) for f in LIST_FIELDS) and all(
        not isinstance(row, list) for f in LIST_FIELDS for row in snapshot[f]
    )


def _with(item: Item, snapshot: Snapshot) -> Item:
    return Item(item.register, item.key, snapshot, item.entry_id, item.before)


def _has(row: Any, size: int) -> bool:
    return isinstance(row, tuple) and len(row) == size


def _new_rows(item: Item) -> Snapshot:
    old = canonical(item.before) if item.before else {}
    known = {name: {r for r in old.get(name, ()) if isinstance(r, tuple)} for name in LIST_FIELDS}
    return {
        name: [r for r in item.snapshot[name] if not _among(r, known[name])] for name in LIST_FIELDS
    }


def _among(row: Any, known: set) -> bool:
    """Whether ``row`` is one of the stored rows; a row holding lists or objects (unhashable)
    never is, and the row checks refuse it with a 400 rather than a 500."""
    if not isinstance(row, tuple):
        return False
    try:
        return row in known
    except TypeError:
        return False


# Each row's fields: (name, allowed values or a type check, required, longest text). The
# lengths are the columns' (registry/models.py): a longer value could not be stored whole.
_ROWS = {
    "names": [("language", LANGUAGE.values, True, 8), ("kind", NAME_KIND.values, True, 16),
              ("text", str, True, 300), ("valid_from", "date", False, 10),
              ("valid_to", "date", False, 10)],
    "identifiers": [("scheme", str, True, 64), ("value", str, True, 200),
                    ("valid_from", "date", True, 10), ("valid_to", "date", False, 10)],
    "states": [("valid_from", "date", True, 10), ("valid_to", "date", False, 10),
               ("status", STATUS.values, True, 16), ("entity_type", str, False, 16)],
    "relations": [("kind", RELATION_KIND.values, True, 16), ("hierarchy", str, False, 64),
                  ("target", "ref", True, 129), ("valid_from", "date", True, 10),
                  ("valid_to", "date", False, 10)],
}  # fmt: skip
# The most rows of one kind an entry may hold, and the size of its attributes as JSON: far
# beyond any real entry (the most names of one is under 20), small enough that one write
# cannot fill the database.
MAX_ROWS = 1000
MAX_ATTRIBUTES_BYTES = 10_000
# Text no database column can hold: NUL (PostgreSQL refuses it), a UTF-16 half without its
# pair (UTF-8 cannot encode it), and other C0 controls, which no name or code contains.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def unstorable(value: str) -> str | None:
    """What makes ``value`` unfit to store ("a NUL character"), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "a NUL character"
    if "\ud800" <= char <= "\udfff":
        return "a lone surrogate"
    return f"a control character (U+{ord(char):04X})"


def _attributes(attributes: Any) -> list[str]:
    if not isinstance(attributes, dict):
        return ["attributes must be an object."]
    problems = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            bad = unstorable(value)
            if bad and not problems:
                problems.append(f"attributes hold text with {bad}.")
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(attributes)
    if problems:
        return problems
    try:
        size = len(json.dumps(attributes, ensure_ascii=False).encode())
    except (TypeError, ValueError, RecursionError):
        return ["attributes must be JSON text, numbers, lists and objects."]
    if size > MAX_ATTRIBUTES_BYTES:
        return [f"attributes are {size:,} bytes as JSON; at most {MAX_ATTRIBUTES_BYTES:,}."]
    return []


def _shapes(snapshot: Snapshot) -> list[Problem]:
    """Every row has its fields, of the right kind and length: dates as YYYY-MM-DD, choices
    from their lists, text a database can store, no row twice; attributes of bounded size."""
    problems = []

    def found(message: str, field_name: str, row: Any = None) -> None:
        problems.append(Problem(message, "shapes", field_name, row))

    for message in _attributes(snapshot.get("attributes", {})):
        found(message, "attributes")
    for field_name, spec in _ROWS.items():
        rows = snapshot.get(field_name, [])
        if not isinstance(rows, list):
            found(f"{field_name} must be a list of rows.", field_name)
            continue
        if len(rows) > MAX_ROWS:
            found(f"{field_name} has {len(rows):,} rows; at most {MAX_ROWS:,}.", field_name)
            continue
        seen = set()
        for number, row in enumerate(rows, start=1):
            where = f"{field_name} row {number}"
            if not isinstance(row, list | tuple) or len(row) != len(spec):
                names = ", ".join(name for name, *_ in spec)
                found(f"{where} must have {len(spec)} values: {names}.", field_name, row)
                continue
            for value, (name, check, required, longest) in zip(row, spec, strict=True):
                if value is None or value == "":
                    if required:
                        found(f"{where}: {name} is required.", field_name, row)
                    continue
                if not isinstance(value, str):
                    found(f"{where}: {name} must be text.", field_name, row)
                elif bad := unstorable(value):
                    found(f"{where}: {name} contains {bad}.", field_name, row)
                elif len(value) > longest:
                    found(
                        f"{where}: {name} is {len(value):,} characters long; at most {longest}.",
                        field_name,
                        row,
                    )
                elif check == "date":
                    try:
                        dt.date.fromisoformat(value)
                    except ValueError:
                        found(
                            f"{where}: {name} {value!r} is not a date (YYYY-MM-DD).",
                            field_name,
                            row,
                        )
                elif check == "ref" and "/" not in value:
                    found(f"{where}: {name} {value!r} is not register/key.", field_name, row)
                elif isinstance(check, list) and value not in check:
                    found(f"{where}: {name} {value!r} is not one of {', '.join(check)}.", field_name, row)  # fmt: skip
            key = tuple(str(v) for v in row)
            if key in seen:
                found(f"{where} repeats an earlier row.", field_name, row)
            seen.add(key)
    return problems


def _key_format(c: Context) -> list[str]:
    if not re.fullmatch(c.register.key_pattern, c.key):
        return [f"“{c.key}” is not a valid key for the {c.register.name} register."]
    return []


def _coherent_dates(c: Context) -> list[Problem]:
    labelled = [("names", r, "name", f"“{r.text}”") for r in c.new["names"]]
    labelled += [("identifiers", r, "identifier", f"{r.scheme} {r.value}") for r in c.new["identifiers"]]  # fmt: skip
    labelled += [("states", r, "state", r.status) for r in c.new["states"]]
    labelled += [("relations", r, "parent link", r.target) for r in c.new["relations"]]
    return [
        c.problem(
            f"The {what} {label} cannot end ({r.valid_to}) before it starts ({r.valid_from}).",
            name,
            r,
        )
        for name, r, what, label in labelled
        if r.valid_from and r.valid_to and r.valid_to < r.valid_from
    ]


def _states(c: Context) -> list[str]:
    states = sorted(c.snapshot["states"], key=lambda r: r.valid_from or "")
    if not states:
        return ["An entry needs at least one state (when it became live)."]
    messages: list[str] = []
    for before, after in zip(states, states[1:], strict=False):
        if _overlap((before.valid_from, before.valid_to), (after.valid_from, after.valid_to)):
            messages.append(
                c.problem(
                    f"Two states overlap: {before.status} "
                    f"{_period(before.valid_from, before.valid_to)} and "
                    f"{after.status} {_period(after.valid_from, after.valid_to)}.",
                    "states",
                    after,
                )
            )
    withdrawn = len(states) == 1 and states[0].valid_to is None
    if states[0].status != STATUS.LIVE and not withdrawn:
        # A code may be withdrawn before it comes into use: one open terminated state, never
        # live. Otherwise an entry starts live.
        messages.append(c.problem("An entry's first state must be live.", "states", states[0]))
    return messages


def _parents(c: Context) -> list[Problem]:
    problems = []
    for row in c.new["relations"]:
        if not c.lookups.exists(row.target):
            problems.append(
                c.problem(f"There is no entry {row.target} to link to.", "relations", row)
            )
            continue
        if row.kind != RELATION_KIND.PARENT:
            continue
        key = split_ref(row.target)[1]
        operative, terminated = c.lookups.lifetime(row.target)
        if operative is None:
            problems.append(c.problem(f"The parent {key} has no live period.", "relations", row))
            continue
        start, end = _d(row.valid_from) or dt.date.min, _d(row.valid_to) or dt.date.max
        if start < operative or (terminated is not None and end > terminated):
            problems.append(
                c.problem(
                    f"The parent {key} ({row.hierarchy}) was not live for the whole period "
                    f"{_period(row.valid_from, row.valid_to)}: it was live "
                    f"{_period(iso(operative), iso(terminated))}.",
                    "relations",
                    row,
                )
            )
    return problems


def _no_cycles(c: Context) -> list[Problem]:
    """An entry cannot be within itself, directly or through its parents. Only a new parent
    link can make a cycle."""
    new_parents = [row for row in c.new["relations"] if row.kind == RELATION_KIND.PARENT]
    for row in new_parents:
        frontier, seen = {row.target}, {row.target}
        while frontier:
            if c.ref in frontier:
                return [
                    c.problem(
                        f"{c.key} cannot be within itself (through its parents).", "relations", row
                    )
                ]
            above = c.lookups.parents(frontier)
            frontier = {p for parents in above.values() for p in parents} - seen
            seen |= frontier
    return []


def _identifiers(c: Context) -> list[Problem]:
    problems = []
    for row in c.new["identifiers"]:
        for other, start, end in c.lookups.claims(row.scheme, row.value):
            if other != c.ref and _overlap((row.valid_from, row.valid_to), (start, end)):
                problems.append(
                    c.problem(
                        f"The identifier {row.scheme} {row.value} is already used by {other} "
                        f"{_period(start, end)}.",
                        "identifiers",
                        row,
                    )
                )
    return problems


def _text(*values) -> bool:
    return all(isinstance(value, str) for value in values)
