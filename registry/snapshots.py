"""Snapshots: the complete, canonical content of an entry or change event as plain JSON.

A snapshot is what a :class:`~registry.models.Version` stores, what the loader compares to
decide whether anything changed, and what a restore writes back. Entries are referred to by
``"register/key"`` and dates by ISO strings, so a snapshot never depends on primary keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from . import facts
from .models import ChangeEvent, ChangeLink
from .validtime import iso

Snapshot = dict[str, Any]


class NameRecord(NamedTuple):
    language: str
    kind: str
    text: str
    valid_from: str | None
    valid_to: str | None


class IdentifierRecord(NamedTuple):
    scheme: str
    value: str
    valid_from: str
    valid_to: str | None


class StateRecord(NamedTuple):
    valid_from: str
    valid_to: str | None
    status: str
    entity_type: str | None


class RelationRecord(NamedTuple):
    """``kind`` ``hierarchy`` ``target`` (``"register/key"``) over a range."""

    kind: str
    hierarchy: str
    target: str
    valid_from: str
    valid_to: str | None


# The rows of each list in a snapshot, with their fields named. In JSON (a Version's
# snapshot) a row is an array of these fields in this order.
RECORDS: dict[str, type] = {
    "names": NameRecord,
    "identifiers": IdentifierRecord,
    "states": StateRecord,
    "relations": RelationRecord,
}
LIST_FIELDS = tuple(RECORDS)


def ref(register: str, key: str) -> str:
    return f"{register}/{key}"


def split_ref(value: str) -> tuple[str, str]:
    register, _, key = value.partition("/")
    return register, key


def record(field: str, row: Any) -> Any:
    """A row as its named record; a row of the wrong shape is kept as it is, for validation
    to report (``registry.validation``)."""
    kind = RECORDS[field]
    if isinstance(row, list | tuple) and len(row) == len(kind._fields):
        return kind(*row)
    return tuple(row) if isinstance(row, list) else row


def _order(row: Any) -> list[str]:
    return [str(x) for x in row] if isinstance(row, list | tuple) else [str(row)]


def _fast_order(row: tuple) -> tuple:
    # Rows hold text and missing values; comparing them as they are is several times cheaper
    # than turning every value into text, and gives the same order.
    return tuple("" if value is None else value for value in row)


def _sorted(rows: list) -> list:
    if len(rows) < 2:
        return rows  # most lists of a snapshot hold one row: nothing to compare
    try:
        return sorted(rows, key=_fast_order)
    except TypeError:  # a row of the wrong shape or kind, for validation to report
        return sorted(rows, key=_order)


def canonical(snapshot: Snapshot) -> Snapshot:
    """Every row as its named record and every list sorted, so two snapshots of the same
    content compare equal."""
    result: Snapshot = {
        field: _sorted([record(field, row) for row in snapshot.get(field) or []])
        for field in LIST_FIELDS
    }
    attributes = snapshot.get("attributes") or {}
    # Anything but an object is left as it is, for validation to refuse.
    result["attributes"] = (
        dict(sorted(attributes.items())) if isinstance(attributes, dict) else attributes
    )
    return result


def digest(snapshot: Snapshot) -> str:
    """A fingerprint of a snapshot's content (SHA-1 of its JSON, as ``Version.digest``
    holds it); equal for equal content when ``snapshot`` is :func:`canonical`."""
    return hashlib.sha1(json.dumps(snapshot).encode(), usedforsecurity=False).hexdigest()


def entry_snapshots(entries: Iterable[int] | None = None) -> dict[int, Snapshot]:
    """Snapshots of the given entry ids (or of every entry), built from the rows
    ``registry.facts`` reads: a few queries per thousands of entries, so the loader can
    compare the whole registry in seconds."""
    return {pk: snapshot_of(rows) for pk, rows in facts.read(entries).items()}


def snapshot_of(rows: facts.Rows) -> Snapshot:
    """The snapshot of an entry's rows in valid time."""
    return canonical(
        {
            "names": [
                NameRecord(n.language, n.kind, n.text, iso(n.start), iso(n.end)) for n in rows.names
            ],
            "identifiers": [
                IdentifierRecord(i.scheme, i.value, iso(i.start), iso(i.end))
                for i in rows.identifiers
            ],
            "states": [
                StateRecord(
                    iso(s.start), iso(s.end), s.status, s.entity_type.key if s.entity_type else None
                )
                for s in rows.states
            ],
            "relations": [
                RelationRecord(r.kind, r.hierarchy, r.target.ref, iso(r.start), iso(r.end))
                for r in rows.relations
            ],
            "attributes": rows.attributes,
        }
    )


def event_snapshots(keys: Iterable[str] | None = None) -> dict[str, Snapshot]:
    """Snapshots of change events by key (all of them if ``keys`` is None)."""
    events = ChangeEvent.objects.all()
    if keys is not None:
        events = events.filter(key__in=list(keys))
    snaps: dict[str, Snapshot] = {}
    for key, date, kind, instrument_id, instrument_title, note in events.values_list(
        "key", "date", "kind", "instrument_id", "instrument_title", "note"
    ):
        snaps[key] = {
            "date": iso(date),
            "kind": kind,
            "instrument_id": instrument_id,
            "instrument_title": instrument_title,
            "note": note,
            "links": [],
        }
    links = ChangeLink.objects.filter(event__key__in=list(snaps)) if keys is not None else None
    if links is None:
        links = ChangeLink.objects.all()
    for key, p_reg, p_key, s_reg, s_key in links.values_list(
        "event__key",
        "predecessor__register__slug",
        "predecessor__key",
        "successor__register__slug",
        "successor__key",
    ):
        snaps[key]["links"].append(
            [ref(p_reg, p_key) if p_key else None, ref(s_reg, s_key) if s_key else None]
        )
    for snap in snaps.values():
        snap["links"].sort(key=lambda pair: [str(x) for x in pair])
    return snaps


def diff(before: Snapshot | None, after: Snapshot) -> dict[str, Any]:
    """What changed from ``before`` to ``after``: rows added and removed per list field, and
    attributes whose values changed. ``before`` is None for a new entry or event."""
    if before is None:
        return {"created": True}
    changes: dict[str, Any] = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if isinstance(old, list) or isinstance(new, list):
            old_rows = [tuple(r) if isinstance(r, list) else r for r in old or []]
            new_rows = [tuple(r) if isinstance(r, list) else r for r in new or []]
            added = [list(r) if isinstance(r, tuple) else r for r in new_rows if r not in old_rows]
            removed = [
                list(r) if isinstance(r, tuple) else r for r in old_rows if r not in new_rows
            ]
            changes[field] = {"added": added, "removed": removed}
        elif isinstance(old, dict) or isinstance(new, dict):
            old, new = old or {}, new or {}
            changes[field] = {
                k: [old.get(k), new.get(k)]
                for k in sorted(set(old) | set(new))
                if old.get(k) != new.get(k)
            }
        else:
            changes[field] = [old, new]
    return changes
