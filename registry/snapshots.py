"""Snapshots: the complete, canonical content of an entry or change event as plain JSON.

A snapshot is what a :class:`~registry.models.Version` stores, what the loader compares to
decide whether anything changed, and what a restore writes back. Entries are referred to by
``"register/key"`` and dates by ISO strings, so a snapshot never depends on primary keys.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .models import ChangeEvent, ChangeLink, Entry, Identifier, Name, Relation, State
from .validtime import iso

Snapshot = dict[str, Any]
LIST_FIELDS = ("names", "identifiers", "states", "relations")


def ref(register: str, key: str) -> str:
    return f"{register}/{key}"


def split_ref(value: str) -> tuple[str, str]:
    register, _, key = value.partition("/")
    return register, key


def canonical(snapshot: Snapshot) -> Snapshot:
    """Sort every list so two snapshots of the same content compare equal."""
    result: Snapshot = {
        field: sorted(
            (list(row) for row in snapshot.get(field, [])), key=lambda r: [str(x) for x in r]
        )
        for field in LIST_FIELDS
    }
    result["attributes"] = dict(sorted((snapshot.get("attributes") or {}).items()))
    return result


def entry_snapshots(entries: Iterable[int] | None = None) -> dict[int, Snapshot]:
    """Snapshots of the given entry ids (or of every entry), built from the tables in bulk.

    Four queries whatever the number of entries, so the loader can compare the whole registry
    in seconds.
    """
    ids = None if entries is None else list(entries)
    snaps: dict[int, Snapshot] = defaultdict(
        lambda: {"names": [], "identifiers": [], "states": [], "relations": [], "attributes": {}}
    )

    def scoped(qs, field="entry_id"):
        return qs if ids is None else qs.filter(**{f"{field}__in": ids})

    for entry_id, attributes in scoped(Entry.objects.all(), "id").values_list("id", "attributes"):
        snaps[entry_id]["attributes"] = attributes or {}
    for entry_id, *row in scoped(Name.objects.all()).values_list(
        "entry_id", "language", "kind", "text", "valid_from", "valid_to"
    ):
        snaps[entry_id]["names"].append([row[0], row[1], row[2], iso(row[3]), iso(row[4])])
    for entry_id, *row in scoped(Identifier.objects.all()).values_list(
        "entry_id", "scheme", "value", "valid_from", "valid_to"
    ):
        snaps[entry_id]["identifiers"].append([row[0], row[1], iso(row[2]), iso(row[3])])
    for entry_id, *row in scoped(State.objects.all()).values_list(
        "entry_id", "valid_from", "valid_to", "status", "entity_type__key"
    ):
        snaps[entry_id]["states"].append([iso(row[0]), iso(row[1]), row[2], row[3]])
    for entry_id, *row in scoped(Relation.objects.all(), "subject_id").values_list(
        "subject_id",
        "kind",
        "hierarchy",
        "object__register__slug",
        "object__key",
        "valid_from",
        "valid_to",
    ):
        snaps[entry_id]["relations"].append(
            [row[0], row[1], ref(row[2], row[3]), iso(row[4]), iso(row[5])]
        )
    return {entry_id: canonical(snap) for entry_id, snap in snaps.items()}


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
