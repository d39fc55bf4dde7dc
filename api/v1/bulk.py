"""Resolving many codes, identifiers and names at once, for the bulk lookup and the checker.

A batch of values is resolved in a fixed number of queries (a few per batch, whatever its
size): codes by key, identifiers by value, names by their folded form (``registry.text.fold``:
case, accents and punctuation do not matter), then one summary and one current-code search for
everything matched. Each value gets a :class:`Resolution`: the entry it matched and how, or an
error (``empty``, ``malformed``, ``unknown``, ``ambiguous``, ``bad-scheme``).

How a value is read, when its kind is ``auto`` (the default):

1. a GSS code (a letter and eight digits, any case, spaces ignored) is looked up in
   ``statistical-geography``; a well-formed code the registry never issued is ``unknown``;
2. an entity code (``E06``) is looked up in ``statistical-entity``;
3. a value of any identifier scheme (``00CN``, ``GB-BIR``, ``local-authority-eng:BIR``), or
   ``scheme:value``;
4. a council code written in capitals (``BIR``) in ``local-authority``;
5. anything that looks like a code but is none of these (``E0700004``: a letter and digits) is
   ``malformed``;
6. anything else is a name. Names are matched exactly after folding, in one register
   (``statistical-geography`` unless asked otherwise) and, if given, among some entity types.
   Several entries with the name are narrowed to those whose name was in use on the date and
   that were live then; without entity types, entries of the main kinds of area (those
   reconciliation ranks) come before the other families that share their names (a district
   before the community safety partnership or registration district that bears its name). If
   more than one remains the value is ``ambiguous`` and the candidates are listed: never a
   silent pick. When one remains but other entries of those kinds bore the name at other
   dates (``Shepway``: a Maidstone ward since 2024, and until 2018 the district E07000112),
   the match is the one named so on the date and the others are listed as ``also_named``,
   with when each bore the name, so that the choice the date made is visible.

An identifier value is resolved to the entry it identified on the date, or, if it was no
longer (or not yet) in use then, to the entry it identified last: a legacy code translated
today still finds its entry, which then leads to its current code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from geography.entity_types import LOWEST_PRIORITY, priority
from geography.gss import GSS_PATTERN
from geography.registers import (
    AREAS,
    COUNCIL_PATTERN,
    COUNCILS,
    ENTITY_TYPE_PATTERN,
    ENTITY_TYPES,
)
from registry import facts, validtime
from registry import recorded as as_recorded
from registry.documents import summarise_current
from registry.facts import Ref
from registry.models import STATUS, Entry, Identifier, Name, State
from registry.text import fold

from .. import reference

KINDS = ("auto", "code", "identifier", "name")
GEOGRAPHY, ENTITY, COUNCIL = AREAS, ENTITY_TYPES, COUNCILS

_GSS = re.compile(GSS_PATTERN)
_ENTITY = re.compile(ENTITY_TYPE_PATTERN)
_COUNCIL = re.compile(COUNCIL_PATTERN)
# A letter and two or more digits, perhaps with more letters or digits: meant as a code.
_CODE_LIKE = re.compile(r"^[A-Z]{1,2}\d{2,}[A-Z0-9]*$")
# Spaces people paste by accident: no-break, zero-width and the byte-order mark.
_INVISIBLE = str.maketrans(
    {"\u00a0": " ", "\u200b": "", "\ufeff": "", "\u2007": " ", "\u202f": " "}
)
_MAX_CANDIDATES = 10


def clean(value: str) -> str:
    """A value as typed, with stray invisible and control characters (which no code or name
    holds, and PostgreSQL cannot compare) removed and spaces collapsed."""
    value = value.translate(_INVISIBLE)
    if not value.isprintable():
        value = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(value.split())


@dataclass
class Item:
    """One value to resolve, as the client sent it."""

    value: str
    kind: str = "auto"
    scheme: str | None = None
    register: str | None = None
    date: dt.date | None = None


@dataclass
class Resolution:
    item: Item
    date: dt.date
    matched_by: str | None = None
    entry: Ref | None = None
    candidates: list[Ref] = field(default_factory=list)
    # For a name match: the other entries that bore the name at other dates, each with the
    # first and last day it did (None: open-ended).
    also_named: list[tuple[Ref, dt.date | None, dt.date | None]] = field(default_factory=list)
    error: tuple[str, str] | None = None

    def fail(self, code: str, detail: str) -> None:
        self.error = (code, detail)


@dataclass
class _Pending:
    """What a value could be, collected so that each kind is looked up once per batch."""

    codes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    identifiers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


def _plan(resolution: Resolution, pending: _Pending) -> dict[str, Any]:
    """Decide how to look ``resolution.item`` up; record what must be fetched."""
    item = resolution.item
    text = clean(item.value)
    compact = "".join(text.split()).upper()
    plan: dict[str, Any] = {"text": text}
    if not text:
        resolution.fail("empty", "The value is empty.")
        return plan
    if item.kind == "code":
        register = item.register or (
            GEOGRAPHY if _GSS.match(compact) else ENTITY if _ENTITY.match(compact) else None
        )
        if register is None and _COUNCIL.match(compact) and not _CODE_LIKE.match(compact):
            register = COUNCIL
        pattern = {GEOGRAPHY: _GSS, ENTITY: _ENTITY, COUNCIL: _COUNCIL}.get(register or "")
        if register is None or (pattern and not pattern.match(compact)):
            resolution.fail("malformed", _malformed(text, register))
            return plan
        plan["code"] = (register, compact)
        pending.codes[register].add(compact)
        return plan
    if item.kind == "identifier":
        if item.scheme and item.scheme not in reference.identifier_schemes():
            resolution.fail("bad-scheme", f"There is no identifier scheme {item.scheme!r}.")
            return plan
        plan["identifier"] = (item.scheme, text)
        pending.identifiers |= {text, text.upper()}
        return plan
    if item.kind == "name":
        plan["name"] = fold(text)
        pending.names.add(plan["name"])
        return plan
    # auto
    if _GSS.match(compact):
        plan["code"] = (GEOGRAPHY, compact)
        pending.codes[GEOGRAPHY].add(compact)
        return plan
    if _ENTITY.match(compact):
        plan["code"] = (ENTITY, compact)
        pending.codes[ENTITY].add(compact)
        return plan
    scheme, _, rest = text.partition(":")
    if rest and scheme in reference.identifier_schemes():
        plan["identifier"] = (scheme, rest.strip())
        pending.identifiers |= {rest.strip(), rest.strip().upper()}
        return plan
    plan["identifier"] = (None, text)
    pending.identifiers |= {text, text.upper()}
    if text == text.upper() and _COUNCIL.match(compact):
        plan["council"] = compact
        pending.codes[COUNCIL].add(compact)
    if _CODE_LIKE.match(compact):
        plan["malformed"] = _malformed(text, None)
    else:
        plan["name"] = fold(text)
        pending.names.add(plan["name"])
    return plan


def _malformed(text: str, register: str | None) -> str:
    shown = text[:40]
    if register == ENTITY:
        return f"{shown!r} is not an entity code (a letter and two digits, such as E06)."
    if register == COUNCIL:
        return f"{shown!r} is not a council code (three to ten capital letters or digits)."
    return (
        f"{shown!r} is not a well-formed code: a GSS code is a letter (E, W, S, N, K, L, M or J) "
        "and eight digits, such as E06000060."
    )


def resolve(
    items: list[Item],
    date: dt.date,
    *,
    name_register: str = GEOGRAPHY,
    entity_types: list[str] | None = None,
) -> list[Resolution]:
    """Resolve ``items`` (each as at its own date, or ``date``), in order."""
    resolutions = [Resolution(item, item.date or date) for item in items]
    pending = _Pending()
    plans = [_plan(resolution, pending) for resolution in resolutions]

    # Entries are read as Refs (id, register, key), all a batch needs of them: a thousand
    # model instances cost more CPU than the rest of the look-up.
    by_code: dict[tuple[str, str], Ref] = {}
    for register, keys in pending.codes.items():
        for key, ref in facts.refs_by_key(register, keys).items():
            by_code[(register, key)] = ref

    identifier_rows: dict[str, list[tuple[str, int, dt.date, dt.date | None]]] = defaultdict(list)
    if pending.identifiers:
        for scheme, value, entry_id, start, end in facts.among(
            Identifier.objects.all(), "value", pending.identifiers
        ).values_list("scheme", "value", "entry_id", "valid_from", "valid_to"):
            identifier_rows[value].append((scheme, entry_id, start, end))

    name_rows: dict[str, list[tuple[int, dt.date | None, dt.date | None]]] = defaultdict(list)
    if pending.names:
        # Only the folded-name index is used here; the register and entity types are checked
        # on the entries afterwards (a join in this query makes SQLite scan every name).
        for folded, entry_id, start, end in facts.among(
            Name.objects.all(), "folded", pending.names
        ).values_list("folded", "entry_id", "valid_from", "valid_to"):
            name_rows[folded].append((entry_id, start, end))

    # Entries found by identifier or name are fetched (with their lifetimes) in one go.
    wanted = {row[1] for rows in identifier_rows.values() for row in rows}
    wanted |= {row[0] for rows in name_rows.values() for row in rows}
    fetched = {
        pk: Ref(pk, register, key)
        for pk, register, key in facts.among(Entry.objects.all(), "id", wanted).values_list(
            "id", "register__slug", "key"
        )
        if pk in wanted  # (a dense set of ids is read as a range)
    }
    for folded, rows in name_rows.items():
        name_rows[folded] = [row for row in rows if fetched[row[0]].register == name_register]
    live_ranges = _live_ranges(wanted)
    allowed_types = _entries_of_types(wanted, entity_types) if entity_types else None

    for resolution, plan in zip(resolutions, plans, strict=True):
        if resolution.error:
            continue
        day = resolution.date
        if "code" in plan:
            register, key = plan["code"]
            entry = by_code.get((register, key))
            if entry is None:
                resolution.fail("unknown", f"No entry in {register} has the code {key!r}.")
            else:
                resolution.entry, resolution.matched_by = entry, "code"
            continue
        scheme, value = plan.get("identifier", (None, None))
        if value is not None:
            rows = identifier_rows.get(value, []) + (
                identifier_rows.get(value.upper(), []) if value.upper() != value else []
            )
            rows = [row for row in rows if scheme is None or row[0] == scheme]
            if allowed_types is not None:
                rows = [row for row in rows if row[1] in allowed_types]
            ids = sorted(_identified(rows, day), key=lambda i: fetched[i].key)
            if len(ids) == 1:
                resolution.entry, resolution.matched_by = fetched[ids[0]], "identifier"
                continue
            if len(ids) > 1:
                resolution.candidates = [fetched[i] for i in ids[:_MAX_CANDIDATES]]
                resolution.fail(
                    "ambiguous",
                    f"{value!r} identifies {len(ids)} entries in different schemes; "
                    "give the scheme as scheme:value.",
                )
                continue
            if scheme is not None or resolution.item.kind == "identifier":
                named = f" in {scheme}" if scheme else ""
                resolution.fail("unknown", f"No entry has the identifier {value!r}{named}.")
                continue
        if "council" in plan and (COUNCIL, plan["council"]) in by_code:
            resolution.entry = by_code[(COUNCIL, plan["council"])]
            resolution.matched_by = "code"
            continue
        if "malformed" in plan:
            resolution.fail("malformed", plan["malformed"])
            continue
        folded = plan.get("name")
        if folded is not None:
            rows = name_rows.get(folded, [])
            if allowed_types is not None:
                rows = [row for row in rows if row[0] in allowed_types]
            else:
                rows = _main_kinds(rows, fetched)
            ids = _named(rows, live_ranges, day)
            ids.sort(key=lambda i: fetched[i].key)
            if len(ids) == 1:
                resolution.entry, resolution.matched_by = fetched[ids[0]], "name"
                resolution.also_named = _also_named(rows, ids[0], fetched)
            elif ids:
                resolution.candidates = [fetched[i] for i in ids[:_MAX_CANDIDATES]]
                keys = ", ".join(fetched[i].key for i in ids[:_MAX_CANDIDATES])
                resolution.fail(
                    "ambiguous",
                    f"{len(ids)} entries are named {plan['text']!r} on {day.isoformat()}: {keys}.",
                )
            else:
                resolution.fail("unknown", f"No entry is named {plan['text']!r}.")
            continue
        resolution.fail("unknown", f"Nothing in the registry matches {plan['text']!r}.")
    return resolutions


def _main_kinds(
    rows: list[tuple[int, dt.date | None, dt.date | None]], fetched: dict[int, Ref]
) -> list[tuple[int, dt.date | None, dt.date | None]]:
    """Of the entries that bear a name, those of the main kinds of area (the ones
    reconciliation ranks: districts, counties, wards, small areas…) if there are any, before
    the other families that share their names (the community safety partnership or 1961
    parish named like a district): what a bare name most likely means, as site search ranks
    them too."""

    def main(pk: int) -> bool:
        entry = fetched[pk]
        slug = entry.register
        return priority(slug, entry.key[:3] if slug == GEOGRAPHY else None) != LOWEST_PRIORITY

    chosen = [row for row in rows if main(row[0])]
    return chosen or rows


def _also_named(
    rows: list[tuple[int, dt.date | None, dt.date | None]], matched: int, fetched: dict[int, Ref]
) -> list[tuple[Ref, dt.date | None, dt.date | None]]:
    """The entries other than ``matched`` among ``rows`` (those bearing a name), each with
    the span of its names of that form (earliest start, latest end), in code order."""
    spans: dict[int, tuple[dt.date | None, dt.date | None]] = {}
    for entry_id, start, end in rows:
        if entry_id == matched:
            continue
        if entry_id not in spans:
            spans[entry_id] = (start, end)
            continue
        first, last = spans[entry_id]
        spans[entry_id] = (
            None if first is None or start is None else min(first, start),
            None if last is None or end is None else max(last, end),
        )
    ordered = sorted(spans, key=lambda i: fetched[i].key)[:_MAX_CANDIDATES]
    return [(fetched[i], *spans[i]) for i in ordered]


def _identified(rows: list[tuple[str, int, dt.date, dt.date | None]], day: dt.date) -> list[int]:
    """The entries some identifier rows point to on ``day``; failing that, the latest each
    scheme pointed to."""
    on_day = sorted(
        {entry_id for _, entry_id, start, end in rows if validtime.covers(start, end, day)}
    )
    if on_day:
        return on_day
    latest: dict[str, tuple[dt.date, int]] = {}
    for scheme, entry_id, start, _ in rows:
        if scheme not in latest or start > latest[scheme][0]:
            latest[scheme] = (start, entry_id)
    return sorted({entry_id for _, entry_id in latest.values()})


def _named(
    rows: list[tuple[int, dt.date | None, dt.date | None]],
    live_ranges: dict[int, list[tuple[dt.date, dt.date | None]]],
    day: dt.date,
) -> list[int]:
    """Narrow the entries with a name: first to those whose name was in use on ``day`` and
    that were live then, then to those whose name was in use; otherwise all of them."""
    everyone = sorted({entry_id for entry_id, _, _ in rows})
    named_then = sorted(
        {entry_id for entry_id, start, end in rows if validtime.covers(start, end, day)}
    )
    live_then = [
        entry_id
        for entry_id in named_then
        if any(validtime.covers(start, end, day) for start, end in live_ranges.get(entry_id, []))
    ]
    return live_then or named_then or everyone


def _live_ranges(ids: set[int]) -> dict[int, list[tuple[dt.date, dt.date | None]]]:
    result: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    if ids:
        # The status is compared here rather than in SQL: given "status = 'live'", SQLite
        # (without ANALYZE statistics) walks the status index over every live state instead
        # of looking the few entries up by entry_id.
        for entry_id, status, start, end in facts.among(
            State.objects.all(), "entry_id", ids
        ).values_list("entry_id", "status", "valid_from", "valid_to"):
            if status == STATUS.LIVE and entry_id in ids:
                result[entry_id].append((start, end))
    return result


def _entries_of_types(ids: set[int], entity_types: list[str]) -> set[int]:
    found = facts.among(State.objects.filter(entity_type__key__in=entity_types), "entry_id", ids)
    return set(found.values_list("entry_id", flat=True)) & ids


def _as_recorded(at: dt.datetime):
    """:func:`summarise` and :func:`current_links` as recorded at ``at``."""

    def summarise_then(batch, day, *, parents=True):
        return as_recorded.summarise(batch, day, at, parents=parents)

    def current_then(entries, day):
        return as_recorded.current_links(entries, day, at)

    return summarise_then, current_then


def describe_all(
    resolutions: list[Resolution], recorded: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The JSON answer for each resolution, in order: the matched entry's summary, its status
    and current code(s) as at the resolution's date, candidates, the other entries that bore
    a matched name at other dates, and any error.

    With ``recorded``, each entry is described as recorded at that instant (its versions
    then, ``registry.recorded``); the items are still matched to entries by the current
    record, and a match not yet recorded then is the error ``not-recorded``."""
    if recorded is not None:
        summarise_on, current_on = _as_recorded(recorded)
    by_date: dict[dt.date, set[int]] = defaultdict(set)
    entries: dict[int, Ref] = {}
    for resolution in resolutions:
        others = [entry for entry, _, _ in resolution.also_named]
        for entry in [
            *([resolution.entry] if resolution.entry else []),
            *resolution.candidates,
            *others,
        ]:
            by_date[resolution.date].add(entry.pk)
            entries[entry.pk] = entry
    summaries: dict[dt.date, dict[int, dict[str, Any]]] = {}
    current: dict[dt.date, dict[int, list[dict[str, Any]]]] = {}
    matched: dict[dt.date, dict[int, Ref]] = defaultdict(dict)
    for resolution in resolutions:
        if resolution.entry is not None:
            matched[resolution.date].setdefault(resolution.entry.pk, resolution.entry)
    for day, ids in by_date.items():
        batch = [entries[i] for i in sorted(ids)]
        unique = list(matched[day].values())
        if recorded is None:
            # One read of the entries for both: the summaries' rows give the walk to the
            # current codes its lifetimes, and the current codes among them their names.
            summaries[day], current[day] = summarise_current(batch, day, unique)
        else:
            summaries[day] = summarise_on(batch, day, parents=False)
            current[day] = current_on(unique, day)
    result = []
    for resolution in resolutions:
        day = resolution.date
        if recorded is not None:
            # Entries the registry had not recorded then are left out of the answer.
            resolution.candidates = [c for c in resolution.candidates if c.pk in summaries[day]]
            resolution.also_named = [
                other for other in resolution.also_named if other[0].pk in summaries[day]
            ]
            if resolution.entry is not None and resolution.entry.pk not in summaries[day]:
                resolution.fail(
                    "not-recorded",
                    f"{resolution.entry.key} was not yet recorded at {recorded.isoformat()}.",
                )
                resolution.entry = None
        entry = resolution.entry
        summary = summaries[day][entry.pk] if entry else None
        result.append(
            {
                "input": resolution.item.value,
                "date": day.isoformat(),
                "matched_by": resolution.matched_by,
                "match": summary,
                "status": summary["status"] if summary else None,
                "current": current[day].get(entry.pk, []) if entry else [],
                "candidates": [summaries[day][c.pk] for c in resolution.candidates],
                "also_named": [
                    {
                        **summaries[day][other.pk],
                        "named_from": validtime.iso(start),
                        "named_to": validtime.iso(end),
                    }
                    for other, start, end in resolution.also_named
                ],
                "error": (
                    {"code": resolution.error[0], "detail": resolution.error[1]}
                    if resolution.error
                    else None
                ),
            }
        )
    return result
