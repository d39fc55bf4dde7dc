"""The only functions that change the registry.

Importers, the admin and the write API all call these, so every change runs in one
transaction, is validated the same way and leaves a :class:`~registry.models.Version` saying
who, when, why and what changed. Entries are written as whole snapshots (see
``registry.snapshots``): the caller says what an entry should be, the service works out what
differs, rewrites only what differs and records the difference.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .models import (
    STATUS,
    ChangeEvent,
    ChangeLink,
    Entry,
    Identifier,
    ImportRun,
    Name,
    Register,
    Relation,
    State,
    Version,
)
from .snapshots import Snapshot, canonical, diff, entry_snapshots, event_snapshots, split_ref

BATCH = 2000
# SQLite limits the number of parameters in one statement; delete in chunks well below it.
DELETE_CHUNK = 500


class ServiceError(Exception):
    """A change that would break the registry's rules; the message is for a curator."""


@dataclass
class Actor:
    """Who makes a change: a user, or an import run reading a source file."""

    user: AbstractBaseUser | None = None
    import_run: ImportRun | None = None
    reason: str = ""


@dataclass
class SyncResult:
    created: Counter = field(default_factory=Counter)
    changed: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def sync_entries(
    drafts: Mapping[str, Snapshot],
    actor: Actor,
    *,
    source_of: Callable[[str], str] = lambda ref: "",
    group_of: Callable[[str, Snapshot], str] = lambda ref, snap: ref.partition("/")[0],
    progress: Callable[[str], None] = lambda message: None,
) -> SyncResult:
    """Make the entries named by ``drafts`` (``"register/key"`` → snapshot) hold exactly
    those snapshots, creating missing entries and writing a version for each one that differs.

    Entries not in ``drafts`` are left alone: nothing is ever deleted. Counts are reported per
    group (``group_of``, by default the register). Runs in one transaction.
    """
    result = SyncResult()
    with transaction.atomic():
        registers = {r.slug: r for r in Register.objects.all()}
        wanted = {ref: canonical(snap) for ref, snap in drafts.items()}
        ids = _ensure_entries(wanted, registers, progress)
        progress(f"comparing {len(wanted):,} entries with the database")
        current = entry_snapshots()
        versions_now = dict(Entry.objects.values_list("id", "version"))

        to_write: list[tuple[str, int, Snapshot, Snapshot | None]] = []
        for ref, snap in wanted.items():
            entry_id = ids[ref]
            before = current.get(entry_id) if versions_now[entry_id] else None
            group = group_of(ref, snap)
            if before == snap:
                result.unchanged[group] += 1
                continue
            (result.created if before is None else result.changed)[group] += 1
            to_write.append((ref, entry_id, snap, before))

        if to_write:
            progress(f"writing {len(to_write):,} new or changed entries")
            _write_entries(to_write, ids, versions_now, actor, source_of)
    return result


def _ensure_entries(
    wanted: Mapping[str, Snapshot], registers: Mapping[str, Register], progress
) -> dict[str, int]:
    """Create the entries that do not exist yet (without content) and return every ref's id,
    including the entries that snapshots refer to."""
    refs = set(wanted)
    for snap in wanted.values():
        refs.update(row[2] for row in snap["relations"])
        refs.update(f"statistical-entity/{row[3]}" for row in snap["states"] if row[3])
    existing = {
        f"{slug}/{key}": pk
        for pk, slug, key in Entry.objects.values_list("id", "register__slug", "key")
    }
    missing = sorted(refs - set(existing))
    unknown = [ref for ref in missing if ref not in wanted]
    if unknown:
        raise ServiceError(
            f"{len(unknown)} referenced entries do not exist, for example {unknown[:5]}"
        )
    if missing:
        progress(f"creating {len(missing):,} entries")
        new = []
        for ref in missing:
            slug, key = split_ref(ref)
            if slug not in registers:
                raise ServiceError(f"There is no register called {slug!r}.")
            new.append(Entry(register=registers[slug], key=key, version=0))
        Entry.objects.bulk_create(new, batch_size=BATCH)
        existing.update(
            {
                f"{slug}/{key}": pk
                for pk, slug, key in Entry.objects.filter(version=0).values_list(
                    "id", "register__slug", "key"
                )
            }
        )
    return existing


def _write_entries(to_write, ids, versions_now, actor: Actor, source_of) -> None:
    changed_ids = [entry_id for _, entry_id, _, _ in to_write]
    for chunk in _chunks(changed_ids, DELETE_CHUNK):
        Name.objects.filter(entry_id__in=chunk).delete()
        Identifier.objects.filter(entry_id__in=chunk).delete()
        State.objects.filter(entry_id__in=chunk).delete()
        Relation.objects.filter(subject_id__in=chunk).delete()

    names, identifiers, states, relations, versions = [], [], [], [], []
    entries = []
    for ref, entry_id, snap, before in to_write:
        for language, kind, text, start, end in snap["names"]:
            names.append(
                Name(
                    entry_id=entry_id,
                    language=language,
                    kind=kind,
                    text=text,
                    valid_from=_date(start),
                    valid_to=_date(end),
                )
            )
        for scheme, value, start, end in snap["identifiers"]:
            identifiers.append(
                Identifier(
                    entry_id=entry_id,
                    scheme=scheme,
                    value=value,
                    valid_from=_date(start),
                    valid_to=_date(end),
                )
            )
        for start, end, status, entity_type in snap["states"]:
            states.append(
                State(
                    entry_id=entry_id,
                    valid_from=_date(start),
                    valid_to=_date(end),
                    status=status,
                    entity_type_id=ids[f"statistical-entity/{entity_type}"]
                    if entity_type
                    else None,
                )
            )
        for kind, hierarchy, target, start, end in snap["relations"]:
            relations.append(
                Relation(
                    subject_id=entry_id,
                    kind=kind,
                    hierarchy=hierarchy,
                    object_id=ids[target],
                    valid_from=_date(start),
                    valid_to=_date(end),
                )
            )
        number = versions_now[entry_id] + 1
        versions.append(
            Version(
                entry_id=entry_id,
                number=number,
                user=actor.user,
                import_run=actor.import_run,
                source=source_of(ref),
                reason=actor.reason,
                snapshot=snap,
                changes=diff(before, snap),
            )
        )
        entries.append(Entry(id=entry_id, version=number, attributes=snap["attributes"]))
    Name.objects.bulk_create(names, batch_size=BATCH)
    Identifier.objects.bulk_create(identifiers, batch_size=BATCH)
    State.objects.bulk_create(states, batch_size=BATCH)
    Relation.objects.bulk_create(relations, batch_size=BATCH)
    Version.objects.bulk_create(versions, batch_size=BATCH)
    Entry.objects.bulk_update(entries, ["version", "attributes"], batch_size=BATCH)


def sync_events(
    drafts: Mapping[str, Snapshot],
    actor: Actor,
    *,
    source_of: Callable[[str], str] = lambda key: "",
) -> SyncResult:
    """Make the change events named by ``drafts`` (key → snapshot with ``date``, ``kind``,
    ``instrument_id``, ``instrument_title``, ``note`` and ``links`` as pairs of refs) hold
    exactly those snapshots, writing a version for each one created or changed."""
    result = SyncResult()
    with transaction.atomic():
        ids = {
            f"{slug}/{key}": pk
            for pk, slug, key in Entry.objects.values_list("id", "register__slug", "key")
        }
        current = event_snapshots()
        existing = dict(ChangeEvent.objects.values_list("key", "id"))
        numbers = dict(ChangeEvent.objects.values_list("key", "version"))
        versions, links, updates, new_events = [], [], [], []
        for key, snap in drafts.items():
            snap = {**snap, "links": sorted(snap["links"], key=lambda p: [str(x) for x in p])}
            before = current.get(key)
            if before == snap:
                result.unchanged[snap["kind"]] += 1
                continue
            (result.created if before is None else result.changed)[snap["kind"]] += 1
            for pair in snap["links"]:
                for side in pair:
                    if side and side not in ids:
                        raise ServiceError(f"Change event {key} links to unknown entry {side}.")
            fields = {
                "date": _date(snap["date"]),
                "kind": snap["kind"],
                "instrument_id": snap["instrument_id"],
                "instrument_title": snap["instrument_title"],
                "note": snap["note"],
                "version": numbers.get(key, 0) + 1,
            }
            if key in existing:
                updates.append(ChangeEvent(id=existing[key], key=key, **fields))
            else:
                new_events.append(ChangeEvent(key=key, **fields))
            versions.append((key, fields["version"], snap, before))
        ChangeEvent.objects.bulk_create(new_events, batch_size=BATCH)
        ChangeEvent.objects.bulk_update(
            updates,
            ["date", "kind", "instrument_id", "instrument_title", "note", "version"],
            batch_size=BATCH,
        )
        if versions:
            event_ids = dict(ChangeEvent.objects.values_list("key", "id"))
            touched = [event_ids[key] for key, *_ in versions]
            for chunk in _chunks(touched, DELETE_CHUNK):
                ChangeLink.objects.filter(event_id__in=chunk).delete()
            for key, _number, snap, _before in versions:
                for predecessor, successor in snap["links"]:
                    links.append(
                        ChangeLink(
                            event_id=event_ids[key],
                            predecessor_id=ids[predecessor] if predecessor else None,
                            successor_id=ids[successor] if successor else None,
                        )
                    )
            ChangeLink.objects.bulk_create(links, batch_size=BATCH)
            Version.objects.bulk_create(
                [
                    Version(
                        event_id=event_ids[key],
                        number=number,
                        user=actor.user,
                        import_run=actor.import_run,
                        source=source_of(key),
                        reason=actor.reason,
                        snapshot=snap,
                        changes=diff(before, snap),
                    )
                    for key, number, snap, before in versions
                ],
                batch_size=BATCH,
            )
    return result


def lifetime_states(
    operative: dt.date, terminated: dt.date | None, entity_type: str | None
) -> list[list[Any]]:
    """The states of an entry with one lifetime: live from ``operative`` to ``terminated``
    and, once terminated, an open-ended terminated state from the next day."""
    states: list[list[Any]] = [
        [
            operative.isoformat(),
            terminated.isoformat() if terminated else None,
            STATUS.LIVE,
            entity_type,
        ]
    ]
    if terminated:
        after = (terminated + dt.timedelta(days=1)).isoformat()
        states.append([after, None, STATUS.TERMINATED, entity_type])
    return states
