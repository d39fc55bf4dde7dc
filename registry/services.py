"""The only functions that change the registry.

Importers, the admin and the write API all call these, so every change runs in one
transaction, is validated the same way and leaves a :class:`~registry.models.Version` saying
who, when, why and what changed. Entries are written as whole snapshots (see
``registry.snapshots``): the caller says what an entry should be, the service works out what
differs, rewrites only what differs and records the difference.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from . import bulk, facts, feed, profiles, sparql
from .models import (
    STATUS,
    ChangeEvent,
    ChangeLink,
    Entry,
    Identifier,
    ImportRun,
    Name,
    NameWord,
    Register,
    Relation,
    State,
    Version,
)
from .snapshots import (
    Snapshot,
    canonical,
    diff,
    digest,
    entry_snapshots,
    event_snapshots,
    split_ref,
)
from .text import fold
from .validtime import day, iso

BATCH = 2000
# Looking up more keys of one register than this reads the whole register's keys instead.
WHOLE_REGISTER = 20000
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
    known: Callable[[str], Any] | None = None,
    ids: Mapping[str, int] | None = None,
) -> SyncResult:
    """Make the entries named by ``drafts`` (``"register/key"`` → snapshot) hold exactly
    those snapshots, creating missing entries and writing a version for each one that differs.

    Every entry that would change is first checked by the rules in ``registry.validation``,
    all of them together (so the entries of one batch may name each other; ``known`` says
    what later batches of the same run will write, see ``validation.validate_batch``); if any
    breaks a rule, :class:`ValidationFailed` lists every problem and nothing is written.
    Entries not in ``drafts`` are left alone: nothing is ever deleted. Counts are reported per
    group (``group_of``, by default the register). Runs in one transaction; the cost is in
    proportion to the batch, whatever the size of the registry. ``ids`` are the ids of
    entries the caller knows exist (a run that reserved them), read from nowhere else."""
    from .validation import Item, validate_batch

    result = SyncResult()
    with transaction.atomic():
        registers = {r.slug: r for r in Register.objects.all()}
        wanted = {ref: canonical(snap) for ref, snap in drafts.items()}
        unknown = sorted({split_ref(ref)[0] for ref in wanted} - set(registers))
        if unknown:
            raise ServiceError(f"There is no register called {unknown[0]!r}.")
        existing = _existing(wanted, ids or {})
        progress(f"comparing {len(wanted):,} entries with the database")
        scope = [existing[r] for r in wanted if r in existing]
        versions_now, recorded = _versions(scope)
        # Every write records the entry's whole snapshot in its newest version and that
        # snapshot's digest on the entry, so an entry with the wanted snapshot's digest is
        # unchanged: read with its version number, instead of rebuilding each snapshot from
        # its rows. Any other is compared with the snapshot its rows make (a change, or an
        # entry whose digest is not known).
        digests = {ref: digest(snap) for ref, snap in wanted.items()}
        candidates = {}
        for ref, snap in wanted.items():
            entry_id = existing.get(ref)
            if entry_id and versions_now[entry_id] and recorded.get(entry_id) == digests[ref]:
                result.unchanged[group_of(ref, snap)] += 1
            else:
                candidates[ref] = entry_id
        looked_at = [i for i in candidates.values() if i and versions_now[i]]
        current = entry_snapshots(looked_at) if looked_at else {}

        to_write: list[tuple[str, int | None, Snapshot, Snapshot | None]] = []
        for ref, entry_id in candidates.items():
            snap = wanted[ref]
            before = current.get(entry_id) if entry_id and versions_now[entry_id] else None
            group = group_of(ref, snap)
            if before == snap:
                result.unchanged[group] += 1
                continue
            (result.created if before is None else result.changed)[group] += 1
            to_write.append((ref, entry_id, snap, before))

        if to_write:
            progress(f"checking {len(to_write):,} new or changed entries against the rules")
            items = []
            for ref, entry_id, snap, before in to_write:
                slug, key = split_ref(ref)
                items.append(Item(registers[slug], key, snap, entry_id, before))
            problems = validate_batch(items, known)
            if problems:
                raise ValidationFailed.of(problems)
            ids = _ensure_entries(wanted, digests, registers, existing, progress)
            progress(f"writing {len(to_write):,} new or changed entries")
            _write_entries(to_write, digests, ids, versions_now, actor, source_of)
    return result


def _referenced(wanted: Mapping[str, Snapshot]) -> set[str]:
    """Every ref ``wanted`` names or refers to (relation targets, entity types)."""
    refs = set(wanted)
    for snap in wanted.values():
        # A row of the wrong shape is a plain tuple (snapshots.record), and validation, which
        # runs later, refuses it; here only the well-formed rows' references count.
        refs.update(
            row.target
            for row in snap["relations"]
            if hasattr(row, "target") and isinstance(row.target, str)
        )
        refs.update(
            profiles.entity_type_ref(row.entity_type)
            for row in snap["states"]
            if isinstance(getattr(row, "entity_type", None), str) and row.entity_type
        )
    return refs


def entry_ids(refs: Iterable[str]) -> dict[str, int]:
    """The ids of the entries that exist among ``refs`` (``register/key``), read by key a
    chunk at a time."""
    by_register: dict[str, set[str]] = defaultdict(set)
    for ref in refs:
        slug, key = split_ref(ref)
        by_register[slug].add(key)
    found: dict[str, int] = {}
    for slug, keys in by_register.items():
        if len(keys) > WHOLE_REGISTER:
            # A load asks for most of a register: one pass over it beats hundreds of IN lists.
            rows = facts.fetch(Entry.objects.filter(register__slug=slug).order_by(), "id", "key")
            found.update({f"{slug}/{key}": pk for pk, key in rows if key in keys})
            continue
        for chunk in _chunks(sorted(keys), BATCH):
            rows = Entry.objects.filter(register__slug=slug, key__in=chunk).values_list("id", "key")
            found.update({f"{slug}/{key}": pk for pk, key in rows})
    return found


def _existing(wanted: Mapping[str, Snapshot], ids: Mapping[str, int]) -> dict[str, int]:
    """The ids of the entries that ``wanted`` names or refers to and that already exist."""
    refs = _referenced(wanted)
    found = {ref: ids[ref] for ref in refs if ref in ids}
    found.update(entry_ids(refs - set(found)))
    return found


def _versions(ids: list[int]) -> tuple[dict[int, int], dict[int, str]]:
    """Each entry's version number and the digest of that version's snapshot."""
    numbers: dict[int, int] = {}
    digests: dict[int, str] = {}
    for chunk in _chunks(sorted(ids), BATCH):
        wanted = set(chunk)
        rows = facts.fetch(
            Entry.objects.filter(facts.within("id", chunk)).order_by(), "id", "version", "digest"
        )
        for pk, number, known in rows:
            if pk in wanted:
                numbers[pk], digests[pk] = number, known
    return numbers, digests


def reserve_entries(refs: Iterable[str], progress=lambda message: None) -> dict[str, int]:
    """Create, without content, the entries among ``refs`` that do not exist yet, so that a
    run writing in several batches can link an entry to one a later batch writes. Each is
    created at version 0 and gets its first version, with its content, from its batch (in the
    same transaction, so nobody sees an entry without content). Returns the id of every ref."""
    refs = set(refs)
    found = entry_ids(refs)
    missing = sorted(refs - set(found))
    if not missing:
        return found
    registers = {r.slug: r.pk for r in Register.objects.all()}
    unknown = sorted({split_ref(ref)[0] for ref in missing} - set(registers))
    if unknown:
        raise ServiceError(f"There is no register called {unknown[0]!r}.")
    progress(f"creating {len(missing):,} entries")
    empty = bulk.prepare(Entry, "attributes", {})
    bulk.insert(
        Entry,
        ["register", "key", "version", "digest", "attributes"],
        ((registers[split_ref(ref)[0]], split_ref(ref)[1], 0, "", empty) for ref in missing),
    )
    found.update(entry_ids(missing))
    return found


def _ensure_entries(
    wanted: Mapping[str, Snapshot],
    digests: Mapping[str, str],
    registers: Mapping[str, Register],
    existing: dict[str, int],
    progress,
) -> dict[str, int]:
    """Create the entries that do not exist yet and return every ref's id, including the
    entries that snapshots refer to. A new entry is created as its first version will leave
    it (version 1, with its attributes), since nothing else can have written it."""
    refs = _referenced(wanted)
    missing = sorted(refs - set(existing))
    unknown = [ref for ref in missing if ref not in wanted]
    if unknown:
        raise ServiceError(
            f"{len(unknown)} referenced entries do not exist, for example {unknown[:5]}"
        )
    ids = dict(existing)
    if missing:
        progress(f"creating {len(missing):,} entries")
        rows = []
        for ref in missing:
            slug, key = split_ref(ref)
            attributes = bulk.prepare(Entry, "attributes", wanted[ref]["attributes"])
            rows.append((registers[slug].pk, key, 1, digests[ref], attributes))
        bulk.insert(Entry, ["register", "key", "version", "digest", "attributes"], rows)
        ids.update(entry_ids(missing))
    return ids


def _replace_rows(written: list[tuple[int, Snapshot]], changed_ids, ids) -> None:
    """Make each entry of ``written`` (id, canonical snapshot) hold exactly its snapshot's
    names, identifiers, states and relations: the rows of ``changed_ids`` (entries that had
    some) are deleted first. ``ids`` gives the id of every ref the snapshots name."""
    for chunk in _chunks(changed_ids, DELETE_CHUNK):
        Name.objects.filter(entry_id__in=chunk).delete()
        NameWord.objects.filter(entry_id__in=chunk).delete()
        Identifier.objects.filter(entry_id__in=chunk).delete()
        State.objects.filter(entry_id__in=chunk).delete()
        Relation.objects.filter(subject_id__in=chunk).delete()

    def types(snap):
        return [ids[profiles.entity_type_ref(r.entity_type)] if r.entity_type else None
                for r in snap["states"]]  # fmt: skip

    names = [(entry_id, r.language, r.kind, r.text, fold(r.text), r.valid_from, r.valid_to)
             for entry_id, snap in written for r in snap["names"]]  # fmt: skip
    bulk.insert(
        Name, ["entry", "language", "kind", "text", "folded", "valid_from", "valid_to"], names
    )
    words = {row for name in names for row in NameWord.rows(name[0], [name[4]])}
    bulk.insert(NameWord, ["entry", "tail"], sorted(words))
    bulk.insert(
        Identifier,
        ["entry", "scheme", "value", "valid_from", "valid_to"],
        ((entry_id, r.scheme, r.value, r.valid_from, r.valid_to)
         for entry_id, snap in written for r in snap["identifiers"]),
    )  # fmt: skip
    bulk.insert(
        State,
        ["entry", "valid_from", "valid_to", "status", "entity_type"],
        ((entry_id, r.valid_from, r.valid_to, r.status, type_id)
         for entry_id, snap in written for r, type_id in zip(snap["states"], types(snap), strict=True)),
    )  # fmt: skip
    bulk.insert(
        Relation,
        ["subject", "kind", "hierarchy", "object", "valid_from", "valid_to"],
        ((entry_id, r.kind, r.hierarchy, ids[r.target], r.valid_from, r.valid_to)
         for entry_id, snap in written for r in snap["relations"]),
    )  # fmt: skip


def _write_entries(to_write, digests, ids, versions_now, actor: Actor, source_of) -> None:
    """Replace the rows of each entry in ``to_write`` by its snapshot's, and write its
    version; the entries themselves exist (:func:`_ensure_entries`)."""
    to_write = [(ref, ids[ref], snap, before) for ref, _, snap, before in to_write]
    changed_ids = [entry_id for _, entry_id, _, _ in to_write if entry_id in versions_now]
    _replace_rows([(entry_id, snap) for _, entry_id, snap, _ in to_write], changed_ids, ids)
    moment = timezone.now()
    now = bulk.prepare(Version, "recorded_at", moment)
    user = actor.user.pk if actor.user else None
    author = actor.user.get_username() if actor.user else ""
    run = actor.import_run.pk if actor.import_run else None
    chain = feed.extend()

    def rows():
        # Each version takes the next place in the feed as it is written (streamed, so a
        # first load hashes its 230,000 items without holding them all).
        for ref, entry_id, snap, before in to_write:
            number, changes = versions_now.get(entry_id, 0) + 1, diff(before, snap)
            sequence, link = chain.next(
                recorded_at=moment,
                user=author or None,
                import_run=run,
                source=source_of(ref),
                reason=actor.reason,
                entry=ref,
                event=None,
                number=number,
                snapshot=snap,
                changes=changes,
            )
            yield (
                entry_id,
                number,
                now,
                user,
                author,
                run,
                source_of(ref),
                actor.reason,
                bulk.prepare(Version, "snapshot", snap),
                digests[ref],
                bulk.prepare(Version, "changes", changes),
                sequence,
                link,
            )

    bulk.insert(
        Version,
        ["entry", "number", "recorded_at", "user", "author", "import_run", "source", "reason",
         "snapshot", "digest", "changes", "sequence", "chain"],
        rows(),
    )  # fmt: skip
    chain.save()
    # The SPARQL store follows every committed write (registry.sparql).
    written_ids = [entry_id for _, entry_id, _, _ in to_write]
    transaction.on_commit(lambda: sparql.entries_changed(written_ids))
    # New entries were created at their first version; the others move on by one.
    bulk.update(
        Entry,
        ["version", "digest", "attributes"],
        ((versions_now[entry_id] + 1, digests[ref],
          bulk.prepare(Entry, "attributes", snap["attributes"]), entry_id)
         for ref, entry_id, snap, _ in to_write if entry_id in versions_now),
    )  # fmt: skip


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
                "date": day(snap["date"]),
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
            moment = timezone.now()
            chain = feed.extend()
            rows = []
            for key, number, snap, before in versions:
                changes = diff(before, snap)
                sequence, link = chain.next(
                    recorded_at=moment,
                    user=actor.user.get_username() if actor.user else None,
                    import_run=actor.import_run.pk if actor.import_run else None,
                    source=source_of(key),
                    reason=actor.reason,
                    entry=None,
                    event=key,
                    number=number,
                    snapshot=snap,
                    changes=changes,
                )
                rows.append(
                    Version(
                        event_id=event_ids[key],
                        number=number,
                        recorded_at=moment,
                        user=actor.user,
                        author=actor.user.get_username() if actor.user else "",
                        import_run=actor.import_run,
                        source=source_of(key),
                        reason=actor.reason,
                        snapshot=snap,
                        changes=changes,
                        sequence=sequence,
                        chain=link,
                    )
                )
            Version.objects.bulk_create(rows, batch_size=BATCH)
            chain.save()
    return result


def lifetime_states(
    operative: dt.date, terminated: dt.date | None, entity_type: str | None
) -> list[list[Any]]:
    """The states of an entry with one lifetime: live from ``operative`` to ``terminated``
    and, once terminated, an open-ended terminated state from the next day."""
    states: list[list[Any]] = [
        [
            operative.isoformat(),
            iso(terminated),
            STATUS.LIVE,
            entity_type,
        ]
    ]
    if terminated:
        after = (terminated + dt.timedelta(days=1)).isoformat()
        states.append([after, None, STATUS.TERMINATED, entity_type])
    return states


# -- Curation: one entry at a time ---------------------------------------------------------


class ValidationFailed(ServiceError):
    """The change breaks one or more rules; ``messages`` lists each, for the curator, and
    ``problems`` holds them by ``register/key`` (:class:`registry.validation.Problem`, with
    the rule and row that broke it) when several entries were checked together."""

    def __init__(self, messages: list[str], problems: Mapping[str, list] | None = None) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages
        self.problems = dict(problems or {})

    @classmethod
    def of(cls, problems: Mapping[str, list]) -> ValidationFailed:
        """The problems of one entry as they are; of several, each after its key."""
        if len(problems) == 1:
            [found] = problems.values()
            return cls(list(found), problems)
        messages = [
            f"{split_ref(ref)[1]}: {message}"
            for ref, found in sorted(problems.items())
            for message in found
        ]
        return cls(messages, problems)


class ConcurrentEdit(ServiceError):
    """The entry changed since the curator opened it."""


def _ref(entry: Entry) -> str:
    return f"{entry.register.slug}/{entry.key}"


def save_entry(
    register: Register,
    key: str,
    snapshot: Snapshot,
    actor: Actor,
    *,
    expected_version: int | None = None,
) -> Entry:
    """Create or change one entry so that it holds ``snapshot``, after checking every rule in
    ``registry.validation``. ``expected_version`` is the version the curator started from: if
    someone else saved in between, nothing is written and :class:`ConcurrentEdit` says so.
    Writes one version (none if nothing changed). The key of an existing entry never changes:
    a different key is a different entry."""
    if not actor.reason.strip() and actor.import_run is None:
        raise ValidationFailed(["Say why you are making this change (a change note)."])
    snapshot = canonical(snapshot)
    with transaction.atomic():
        entry = Entry.objects.select_for_update().filter(register=register, key=key).first()
        if entry is not None and expected_version is not None and entry.version != expected_version:
            last = entry.versions.order_by("-number").select_related("user").first()
            who = (
                (last.user.get_username() if last and last.user else "an import")
                if last
                else "someone"
            )
            raise ConcurrentEdit(
                f"{key} was changed by {who} (version {entry.version}) after you opened it "
                f"(version {expected_version}). Reload the entry to see that change, then make "
                "yours again."
            )
        # Checked by every rule on the way (sync_entries), or refused whole.
        sync_entries({f"{register.slug}/{key}": snapshot}, actor)
        return Entry.objects.select_related("register").get(register=register, key=key)


def current_snapshot(entry: Entry) -> Snapshot:
    return entry_snapshots([entry.pk]).get(entry.pk) or canonical({})


def restore_version(entry: Entry, number: int, actor: Actor) -> Entry:
    """Make ``entry`` hold what it held at version ``number`` again, recorded as a new version."""
    version = entry.versions.filter(number=number).first()
    if version is None:
        raise ServiceError(f"{entry.key} has no version {number}.")
    states = canonical(version.snapshot)["states"]
    revived = any(row.status == STATUS.LIVE and row.valid_to is None for row in states)
    replaced = ChangeLink.objects.filter(predecessor=entry, successor__isnull=False).exclude(
        successor=entry
    )
    if revived and replaced.exists():
        raise ValidationFailed(
            [
                f"Version {number} of {entry.key} is from before it was terminated and "
                "replaced; restoring it would make a replaced code live again. Record a change "
                "instead."
            ]
        )
    reason = actor.reason or f"Restored version {number}"
    return save_entry(
        entry.register,
        entry.key,
        version.snapshot,
        Actor(user=actor.user, import_run=actor.import_run, reason=reason),
        expected_version=entry.version,
    )


def end_open_rows(snapshot: Snapshot, last_day: str) -> Snapshot:
    """Close every open-ended name, identifier and relation on ``last_day``."""
    result = canonical(snapshot)
    for field_name in ("names", "identifiers", "relations"):
        rows = []
        for row in result[field_name]:
            if row.valid_from and row.valid_from > last_day:
                continue  # began after the end: no longer true
            if row.valid_to is None or row.valid_to > last_day:
                row = row._replace(valid_to=last_day)
            rows.append(row)
        result[field_name] = rows
    return result


def terminate_with_successors(
    entry: Entry,
    date: dt.date,
    kind: str,
    successors: list[Entry],
    actor: Actor,
    *,
    new_successors: list[tuple[str, Snapshot]] = (),
    instrument_id: str = "",
    instrument_title: str = "",
    expected_version: int | None = None,
) -> ChangeEvent:
    """End ``entry`` on the day before ``date`` and record the change event linking it to its
    successors: existing entries (which must be live on ``date``) and new ones (``key``,
    snapshot), created here. Everything happens in one transaction, with a version for each
    entry written and for the event."""
    from .models import EVENT_KIND
    from .queries import lifetime

    if kind not in EVENT_KIND.values:
        raise ValidationFailed([f"“{kind}” is not a kind of change."])
    if not successors and not new_successors and kind != EVENT_KIND.TERMINATION:
        raise ValidationFailed(["Choose at least one successor, or record a termination."])
    last_day = (date - dt.timedelta(days=1)).isoformat()
    with transaction.atomic():
        # Lock the entry, so a concurrent edit cannot be overwritten by the ended snapshot.
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        if expected_version is None:
            expected_version = locked.version
        life = lifetime(entry)
        messages = []
        if life.operative is None or not life.contains(date - dt.timedelta(days=1)):
            messages.append(f"{entry.key} is not live on {last_day}, so it cannot end then.")
        for successor in successors:
            if successor.pk == entry.pk:
                messages.append(f"{entry.key} cannot succeed itself.")
            elif not lifetime(successor).contains(date):
                messages.append(
                    f"The successor {successor.key} is not live on {date.isoformat()}, the date "
                    "of the change."
                )
            elif _leads_to(successor, entry):
                messages.append(
                    f"{successor.key} already leads to {entry.key}: making it a successor "
                    "would create a cycle of succession."
                )
        for key, snapshot in new_successors:
            if Entry.objects.filter(register=entry.register, key=key).exists():
                messages.append(
                    f"{key} already exists: choose it as an existing successor instead."
                )
            states = canonical(snapshot)["states"]
            starts = [row.valid_from for row in states if row.status == STATUS.LIVE]
            if starts and min(starts) < date.isoformat():
                messages.append(
                    f"The new successor {key} cannot start ({min(starts)}) before the change "
                    f"it comes from ({date.isoformat()})."
                )
        if messages:
            raise ValidationFailed(messages)

        before = current_snapshot(entry)
        entity_type = next((row.entity_type for row in before["states"] if row.entity_type), None)
        ended = end_open_rows(before, last_day)
        ended["states"] = lifetime_states(life.operative, date - dt.timedelta(days=1), entity_type)
        save_entry(entry.register, entry.key, ended, actor, expected_version=expected_version)
        created = [
            save_entry(entry.register, key, snapshot, actor) for key, snapshot in new_successors
        ]
        refs = [_ref(s) for s in [*successors, *created]]
        _move_children(entry, date, refs[0] if len(refs) == 1 else None, actor)
        codes = sorted([entry.key, *(split_ref(r)[1] for r in refs)])
        event_key = f"{date.isoformat()}-{codes[0]}"
        if ChangeEvent.objects.filter(key=event_key).exists():
            event_key = f"{event_key}-{len(codes)}-{ChangeEvent.objects.filter(key__startswith=event_key).count() + 1}"
        sync_events(
            {
                event_key: {
                    "date": date.isoformat(),
                    "kind": kind,
                    "instrument_id": instrument_id,
                    "instrument_title": instrument_title,
                    "note": actor.reason,
                    "links": [[_ref(entry), ref] for ref in refs] or [[_ref(entry), None]],
                }
            },
            actor,
        )
        return ChangeEvent.objects.get(key=event_key)


def _move_children(entry: Entry, date: dt.date, successor: str | None, actor: Actor) -> None:
    """Entries within ``entry`` after it ends move to its single successor (a merge or recode),
    as the loader does; after a split they end there, for a curator to place."""
    last_day = (date - dt.timedelta(days=1)).isoformat()
    ref = _ref(entry)
    children = (
        Relation.objects.filter(object=entry)
        .exclude(valid_to__lt=date)
        .values_list("subject_id", flat=True)
    )
    drafts = {}
    for child_id, snapshot in entry_snapshots(set(children)).items():
        relations = []
        for row in snapshot["relations"]:
            if row.target == ref and (row.valid_to is None or row.valid_to >= date.isoformat()):
                if row.valid_from < date.isoformat():
                    relations.append(row._replace(valid_to=last_day))
                # Children move to a single successor; a council's governing of the ended
                # area simply ends with it.
                if successor and row.kind == "parent":
                    relations.append(
                        row._replace(
                            target=successor, valid_from=max(row.valid_from, date.isoformat())
                        )
                    )
            else:
                relations.append(row)
        snapshot["relations"] = relations
        child = Entry.objects.select_related("register").get(pk=child_id)
        drafts[_ref(child)] = snapshot
    if drafts:
        sync_entries(drafts, actor)


def _leads_to(start: Entry, target: Entry) -> bool:
    """Whether following successor links from ``start`` reaches ``target``."""
    frontier, seen = {start.pk}, {start.pk}
    while frontier:
        if target.pk in frontier:
            return True
        frontier = {
            pk
            for pk in ChangeLink.objects.filter(
                predecessor_id__in=frontier, successor__isnull=False
            ).values_list("successor_id", flat=True)
            if pk not in seen
        }
        seen |= frontier
    return False


# -- Mirrors: replaying another registry's change feed -------------------------------------


@dataclass
class ReplayResult:
    items: int = 0
    entries: int = 0
    events: int = 0
    sequence: int = 0
    digest: str = ""


class FeedRefused(ServiceError):
    """A feed item that does not follow this registry's chain, or cannot be applied; the
    message names its sequence number."""


def replay_feed(
    items: Iterable[Mapping[str, Any]],
    *,
    registers: Iterable[Mapping[str, Any]] = (),
    source: str = "",
    progress: Callable[[str], None] = lambda message: None,
) -> ReplayResult:
    """Apply another registry's published feed items (``registry.feed``), in order, so that
    this registry becomes its mirror: one transaction, so a refused item or a failure leaves
    it as it was.

    Each item must follow this registry's own chain (the next sequence number, naming the
    head's digest, its content matching its digest: ``feed.check``), be the next version of
    its entry or event, and is then written as the source wrote it: the version verbatim
    (time, author, import run, source, reason, number, snapshot, changes, sequence, digest,
    so this registry's ``verify_feed`` recomputes the same chain) and the entry or event made
    to hold its snapshot. The registry's rules are not checked again: the source checked
    them when it wrote the versions, and the chain shows nothing was altered since. Items at
    or before this registry's head are skipped, so a whole feed can be replayed again.
    ``registers`` (slug, name, description, key_pattern, licence, attribution) are created
    or updated first: registers are not versioned, so the feed's summary carries them.
    Import runs the items name are recorded as placeholders with the same ids."""
    result = ReplayResult()
    with transaction.atomic(durable=True):
        for fields in registers:
            slug = fields["slug"]
            keep = ("name", "description", "key_pattern", "licence", "attribution")
            Register.objects.update_or_create(
                slug=slug, defaults={k: fields.get(k) or "" for k in keep}
            )
        chain = feed.extend()
        after, previous = chain.head.sequence, chain.head.digest
        reserved: set[int] = set()
        batch: list[Mapping[str, Any]] = []

        def flush() -> None:
            nonlocal after, previous
            broken = feed.check(batch, previous=previous, after=after)
            if broken is not None:
                raise FeedRefused(f"Feed item {broken.sequence} is refused: {broken.reason}.")
            reserved.update(_replay_batch(batch, source, result))
            after, previous = batch[-1]["sequence"], batch[-1]["digest"]
            progress(f"applied feed items up to {after:,}")
            batch.clear()

        for item in items:
            if isinstance(item.get("sequence"), int) and item["sequence"] <= after:
                continue
            batch.append(item)
            if len(batch) == BATCH:
                flush()
        if batch:
            flush()
        empty = list(
            Entry.objects.filter(pk__in=reserved, version=0).values_list("key", flat=True)[:5]
        )
        if empty:
            raise FeedRefused(
                f"The feed ends in the middle of a change: entries it refers to have no "
                f"version yet (such as {', '.join(empty)}). Replay it up to a later item."
            )
        chain.head.sequence, chain.head.digest = after, previous
        chain.save()
        _reset_import_run_ids()
    result.sequence, result.digest = after, previous
    return result


def _reset_import_run_ids() -> None:
    # Placeholder runs were given their source's ids; on PostgreSQL the id sequence must move
    # past them, or this registry's own next run would collide.
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), [ImportRun])
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)


def _replay_batch(batch: list[Mapping[str, Any]], source: str, result: ReplayResult) -> set[int]:
    """Write one batch of checked feed items; the ids of the entries it had to create empty
    (referred to before their first version)."""
    from .snapshots import canonical as canonical_snapshot

    entry_items = [i for i in batch if i["entry"] is not None]
    event_items = [i for i in batch if i["entry"] is None]
    latest: dict[str, Mapping[str, Any]] = {}
    refs: set[str] = set()
    for item in entry_items:
        snap = canonical_snapshot(item["snapshot"])
        latest[item["entry"]] = {**item, "snapshot": snap}
        refs.add(item["entry"])
        refs.update(_referenced({item["entry"]: snap}))
    for item in event_items:
        refs.update(side for pair in item["snapshot"].get("links", []) for side in pair if side)
    known = entry_ids(refs)
    before = set(known.values())
    try:
        ids = reserve_entries(refs)
    except ServiceError as error:
        raise FeedRefused(f"Feed item {batch[0]['sequence']} onwards: {error}") from None
    created = set(ids.values()) - before

    # Each item must be the next version of its entry or event.
    numbers = dict(
        Entry.objects.filter(pk__in=[ids[i["entry"]] for i in entry_items]).values_list(
            "id", "version"
        )
    )
    event_numbers = dict(
        ChangeEvent.objects.filter(key__in=[i["event"] for i in event_items]).values_list(
            "key", "version"
        )
    )
    for item in batch:
        if item["entry"] is not None:
            now = numbers.get(ids[item["entry"]], 0)
            numbers[ids[item["entry"]]] = item["number"]
        else:
            now = event_numbers.get(item["event"], 0)
            event_numbers[item["event"]] = item["number"]
        if item["number"] != now + 1:
            what = item["entry"] or f"change event {item['event']}"
            raise FeedRefused(
                f"Feed item {item['sequence']} is refused: it is version {item['number']} of "
                f"{what}, which this registry holds at version {now}."
            )

    written = [(ids[ref], item["snapshot"]) for ref, item in latest.items()]
    _replace_rows(written, [entry_id for entry_id, _ in written], ids)
    bulk.update(
        Entry,
        ["version", "digest", "attributes"],
        ((item["number"], digest(item["snapshot"]),
          bulk.prepare(Entry, "attributes", item["snapshot"]["attributes"]), ids[ref])
         for ref, item in latest.items()),
    )  # fmt: skip

    event_ids = _replay_events(event_items)
    runs = {i["who"]["import_run"] for i in batch if i["who"].get("import_run") is not None}
    missing = runs - set(ImportRun.objects.filter(pk__in=runs).values_list("pk", flat=True))
    ImportRun.objects.bulk_create(
        [ImportRun(pk=run, command=f"import run {run} of {source or 'a replayed feed'}",
                   sources=[source] if source else []) for run in sorted(missing)]
    )  # fmt: skip
    bulk.insert(
        Version,
        ["entry", "event", "number", "recorded_at", "user", "author", "import_run", "source",
         "reason", "snapshot", "digest", "changes", "sequence", "chain"],
        ((ids[i["entry"]] if i["entry"] else None,
          event_ids[i["event"]] if i["entry"] is None else None,
          i["number"],
          bulk.prepare(Version, "recorded_at", feed.parse_stamp(i["recorded_at"])),
          None,
          i["who"].get("user") or "",
          i["who"].get("import_run"),
          i["who"].get("source") or "",
          i["why"],
          bulk.prepare(Version, "snapshot", i["snapshot"]),
          digest(canonical_snapshot(i["snapshot"])) if i["entry"] else "",
          bulk.prepare(Version, "changes", i["changes"]),
          i["sequence"],
          i["digest"])
         for i in batch),
    )  # fmt: skip
    written_ids = [entry_id for entry_id, _ in written]
    transaction.on_commit(lambda: sparql.entries_changed(written_ids))
    result.items += len(batch)
    result.entries += len(entry_items)
    result.events += len(event_items)
    return created


def _replay_events(event_items: list[Mapping[str, Any]]) -> dict[str, int]:
    """Make each change event of ``event_items`` hold its last snapshot; the ids of all."""
    latest = {item["event"]: item for item in event_items}
    if not latest:
        return {}
    existing = dict(ChangeEvent.objects.filter(key__in=list(latest)).values_list("key", "id"))
    new_events, updates = [], []
    for key, item in latest.items():
        snap = item["snapshot"]
        fields = {
            "date": day(snap["date"]),
            "kind": snap["kind"],
            "instrument_id": snap.get("instrument_id") or "",
            "instrument_title": snap.get("instrument_title") or "",
            "note": snap.get("note") or "",
            "version": item["number"],
        }
        if key in existing:
            updates.append(ChangeEvent(id=existing[key], key=key, **fields))
        else:
            new_events.append(ChangeEvent(key=key, **fields))
    ChangeEvent.objects.bulk_create(new_events, batch_size=BATCH)
    ChangeEvent.objects.bulk_update(
        updates,
        ["date", "kind", "instrument_id", "instrument_title", "note", "version"],
        batch_size=BATCH,
    )
    event_ids = dict(ChangeEvent.objects.filter(key__in=list(latest)).values_list("key", "id"))
    for chunk in _chunks(list(event_ids.values()), DELETE_CHUNK):
        ChangeLink.objects.filter(event_id__in=chunk).delete()
    refs = {side for i in latest.values() for pair in i["snapshot"]["links"] for side in pair}
    ids = entry_ids(side for side in refs if side)
    ChangeLink.objects.bulk_create(
        [
            ChangeLink(
                event_id=event_ids[key],
                predecessor_id=ids[predecessor] if predecessor else None,
                successor_id=ids[successor] if successor else None,
            )
            for key, item in latest.items()
            for predecessor, successor in item["snapshot"]["links"]
        ],
        batch_size=BATCH,
    )
    return event_ids
