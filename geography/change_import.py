"""The twice-yearly ONS change release, applied as one attributed change set.

A curator uploads a file in one of the Code History Database layouts:

- *ChangeHistory* (``GEOGCD, GEOGNM[, GEOGNMW, SI_ID, SI_TITLE], OPER_DATE, TERM_DATE[,
  PARENTCD, ENTITYCD, STATUS]``): one row per name a code has had, with its dates;
- *Changes* (``GEOGCD, GEOGCD_P, OPER_DATE[, GEOGNM, GEOGNM_P, SI_ID, SI_TITLE]``): one row per
  predecessor → successor link;

or the same two in the column names of ``fixtures/code_history/chd_dec2023_*.csv``.
:func:`plan` reads it and works out, against the registry as it is, what would be created,
changed and terminated; :func:`preview` runs it as a dry import run (``registry.imports``),
so every entry is checked by the registry's rules and nothing is kept, and :func:`apply`
writes it as one import run, in one transaction, every version attributed to the curator.
A malformed row refuses the whole file with its line number, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from registry.imports import Import
from registry.models import STATUS, ChangeLink, Entry, Register
from registry.services import ValidationFailed, end_open_rows, lifetime_states
from registry.snapshots import Snapshot, canonical, entry_snapshots, event_snapshots

from .importers.base import Dataset, LoadError, Row, merge_adjacent, read_rows
from .importers.districts import chd_history, kind_from_title
from .registers import AREAS

HISTORY = ("GEOGCD", "GEOGNM", "OPER_DATE", "TERM_DATE")
CHANGES = ("GEOGCD", "GEOGCD_P", "OPER_DATE")
DERIVED_HISTORY = {"gss_code": "GEOGCD", "gss_name": "GEOGNM", "desc": "SI_TITLE",
                   "entity_type": "ENTITYCD", "start_date": "OPER_DATE", "end_date": "TERM_DATE"}  # fmt: skip
DERIVED_CHANGES = {"changed_to_code": "GEOGCD", "changed_to_name": "GEOGNM",
                   "changed_from_code": "GEOGCD_P", "changed_from_name": "GEOGNM_P",
                   "desc": "SI_TITLE", "date": "OPER_DATE"}  # fmt: skip


@dataclass
class Plan:
    """What applying a change file would do."""

    name: str
    rows: int = 0
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    unchanged: int = 0
    events_created: list[str] = field(default_factory=list)
    events_changed: list[str] = field(default_factory=list)
    drafts: dict[str, Snapshot] = field(default_factory=dict)
    events: dict[str, dict] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A digest of everything applying would write and of what it would count as
        created, changed and terminated: equal for two plans only if they do the same."""
        content = {
            "created": sorted(self.created),
            "changed": sorted(self.changed),
            "terminated": sorted(self.terminated),
            "events_created": sorted(self.events_created),
            "events_changed": sorted(self.events_changed),
            # Rows in a fixed order, each row whole: a preview and an apply may run in
            # processes that iterate sets differently, and row order changes nothing written.
            "drafts": {ref: canonical(snapshot) for ref, snapshot in self.drafts.items()},
            "events": {
                key: {**event, "links": _in_order(event.get("links", []))}
                for key, event in self.events.items()
            },
        }
        encoded = json.dumps(content, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


def _in_order(links) -> list[list]:
    """Change links (predecessor register and key, successor register and key) as sorted
    lists, so two collections of the same links compare and hash alike."""
    return sorted((list(link) for link in links), key=lambda link: [str(x) for x in link])


def _rows(text: str, name: str) -> tuple[str, list[Row]]:
    """The layout (``history`` or ``changes``) and the rows, in the CHD column names."""
    header = next(iter(io.StringIO(text)), "").strip().lstrip("\ufeff")
    columns = [c.strip() for c in header.split(",")]
    if "changed_to_code" in columns:
        rename, layout = DERIVED_CHANGES, "changes"
    elif "gss_code" in columns:
        rename, layout = DERIVED_HISTORY, "history"
    elif set(CHANGES) <= set(columns):
        rename, layout = {}, "changes"
    elif set(HISTORY) <= set(columns):
        rename, layout = {}, "history"
    else:
        raise LoadError(
            name, 1,
            "the header matches neither the ChangeHistory layout (GEOGCD, GEOGNM, OPER_DATE, "
            "TERM_DATE, …) nor the Changes layout (GEOGCD, GEOGCD_P, OPER_DATE, …)",
        )  # fmt: skip
    rows = []
    for row in read_rows(io.StringIO(text.lstrip("\ufeff")), name, []):
        values = {rename.get(k.strip(), k.strip()): v for k, v in row.values.items()}
        rows.append(Row(name, row.line, values))
    return layout, rows


def plan(text: str, name: str) -> Plan:
    """Read a change file and work out what it would do. Raises :class:`LoadError` for a
    malformed row and :class:`ValidationFailed` for a change that breaks a rule."""
    layout, rows = _rows(text, name)
    result = Plan(name=name, rows=len(rows))
    data = Dataset()
    if layout == "history":
        for row in rows:
            row.gss("GEOGCD")
            if row.text("TERM_DATE", False) and row.date("TERM_DATE") < row.date("OPER_DATE", True):  # type: ignore[operator]
                raise row.error(
                    f"TERM_DATE {row.text('TERM_DATE')} is before OPER_DATE {row.text('OPER_DATE')}"
                )
        chd_history(data, rows, name, [])
    else:
        for row in rows:
            new, old = row.gss("GEOGCD"), row.gss("GEOGCD_P")
            data.change(row.date("OPER_DATE", required=True), f"{AREAS}/{old}", f"{AREAS}/{new}",  # type: ignore[arg-type]
                        name, instrument_id=row.text("SI_ID", False), instrument_title=row.text("SI_TITLE", False), kind=kind_from_title(row.text("SI_TITLE", False)))  # fmt: skip
    _merge(data, result)
    return result


def _merge(data: Dataset, result: Plan) -> None:
    register = Register.objects.get(slug=AREAS)
    codes = {draft.key for draft in data.entries.values()}
    for _date, predecessor, successor in data.changes:
        codes |= {predecessor.partition("/")[2], successor.partition("/")[2]}
    existing = {e.key: e for e in Entry.objects.filter(register=register, key__in=codes)}
    current = entry_snapshots([e.pk for e in existing.values()])
    new_snapshots = data.snapshots() if data.entries else {}
    for ref, snapshot in new_snapshots.items():
        snapshot = canonical(snapshot)
        key = ref.partition("/")[2]
        entry = existing.get(key)
        if entry is None:
            result.drafts[ref] = snapshot
            continue
        before = current.get(entry.pk) or canonical({})
        after = canonical(before)
        after["names"] = _overlay(after["names"], snapshot["names"], lambda r: (r.language, r.kind))
        overlaid = _overlay(
            after["relations"], snapshot["relations"], lambda r: (r.kind, r.hierarchy)
        )
        after["relations"] = merge_adjacent({tuple(r) for r in overlaid})
        after["states"] = _lifetime_from(before, snapshot)
        after = canonical(after)
        terminated = next((r.valid_to for r in after["states"] if r.status == STATUS.LIVE), None)
        if terminated:
            after = {**end_open_rows(after, terminated), "states": after["states"]}
        result.drafts[ref] = canonical(after)
    # Codes that only the Changes rows name: predecessors end the day before their change.
    for date, predecessor, successor in sorted(data.changes):
        for ref in (predecessor, successor):
            key = ref.partition("/")[2]
            if ref not in result.drafts and key not in existing:
                raise LoadError(
                    result.name,
                    0,
                    f"{key} is not in the registry, and the file has no history row for it",
                )
        key = predecessor.partition("/")[2]
        if predecessor != successor and predecessor not in result.drafts:
            before = current.get(existing[key].pk) or canonical({})
            live = [row for row in before["states"] if row.status == STATUS.LIVE]
            last_day = (date - dt.timedelta(days=1)).isoformat()
            if live and live[-1].valid_to is None:
                after = end_open_rows(before, last_day)
                after["states"] = lifetime_states(
                    dt.date.fromisoformat(live[0].valid_from),
                    date - dt.timedelta(days=1),
                    live[0].entity_type,
                )
                result.drafts[predecessor] = canonical(after)
    for ref, snapshot in result.drafts.items():
        key = ref.partition("/")[2]
        entry = existing.get(key)
        before = current.get(entry.pk) if entry else None
        if entry is not None and before == canonical(snapshot):
            result.unchanged += 1
        elif entry is None:
            result.created.append(key)
        elif _ended(snapshot) and not _ended(before):
            result.terminated.append(key)
        else:
            result.changed.append(key)
    result.drafts = {
        ref: s
        for ref, s in result.drafts.items()
        if ref.partition("/")[2] in {*result.created, *result.changed, *result.terminated}
    }
    events = _as_recorded(
        {k: {f: v for f, v in e.items() if f != "sources"} for k, e in data.events().items()}
    )
    before_events = event_snapshots(events)
    for key, event in events.items():
        # A file that leaves a field empty or names fewer links keeps what the registry has.
        before = before_events.get(key)
        if before:
            for name in ("instrument_id", "instrument_title", "note"):
                event[name] = event[name] or before[name]
            known = {tuple(link) for link in before["links"]}
            if {tuple(link) for link in event["links"]} <= known:
                event["kind"] = before["kind"]  # part of a change the registry knows whole
            event["links"] = _in_order(known | {tuple(link) for link in event["links"]})
    for key, event in events.items():
        if key not in before_events:
            result.events_created.append(key)
        elif before_events[key] != {**event, "links": sorted(event["links"])}:
            result.events_changed.append(key)
    result.events = {
        k: v for k, v in events.items() if k in {*result.events_created, *result.events_changed}
    }
    for bucket in (result.created, result.changed, result.terminated):
        bucket.sort()


def _as_recorded(events: dict[str, dict]) -> dict[str, dict]:
    """The file's change events under the keys the registry records them by: an event whose
    links the registry already holds in one event of the same day is that event (a file of
    district changes names only part of a change the registry knows whole, such as a county
    split and its districts' merger in one reorganisation, keyed by another code)."""
    result: dict[str, dict] = {}
    for key, event in events.items():
        pairs = [(p.partition("/")[2], s.partition("/")[2]) for p, s in event["links"] if p and s]
        keys = set()
        if pairs:
            found = ChangeLink.objects.filter(
                event__date=event["date"],
                predecessor__key__in={p for p, _ in pairs},
                successor__key__in={s for _, s in pairs},
            ).values_list("event__key", "predecessor__key", "successor__key")
            keys = {k for k, p, s in found if (p, s) in set(pairs)}
        recorded = keys.pop() if len(keys) == 1 else key
        if recorded in result:
            result[recorded]["links"] = _in_order(
                {tuple(link) for link in [*result[recorded]["links"], *event["links"]]}
            )
        else:
            result[recorded] = event
    return result


def _lifetime_from(before: Snapshot, snapshot: Snapshot) -> list[list]:
    """States for an entry the registry has: a file often carries only a code's latest rows,
    so the entry keeps its earlier operative date; and a terminated code never comes back, so
    an older file that shows it live does not undo its end."""
    live = [row for row in snapshot["states"] if row.status == STATUS.LIVE]
    known = [row for row in before["states"] if row.status == STATUS.LIVE]
    operative = min([live[0].valid_from, *(row.valid_from for row in known)])
    terminated = live[0].valid_to or (known[-1].valid_to if known else None)
    return lifetime_states(
        dt.date.fromisoformat(operative),
        dt.date.fromisoformat(terminated) if terminated else None,
        live[0].entity_type,
    )


def _overlay(old: list, new: list, group) -> list:
    """``new`` rows laid over ``old`` ones: in each group (a name's language and kind, a
    relation's kind and hierarchy) the file describes time from its earliest row on, so older
    rows end the day before it and rows from then on are replaced."""
    firsts: dict = {}
    for row in new:
        key = group(row)
        if row.valid_from and (key not in firsts or row.valid_from < firsts[key]):
            firsts[key] = row.valid_from
    result = []
    for row in old:
        first = firsts.get(group(row))
        if first is None:
            result.append(row)
        elif row.valid_from and row.valid_from < first:
            last_day = (dt.date.fromisoformat(first) - dt.timedelta(days=1)).isoformat()
            if row.valid_to is None or row.valid_to > last_day:
                row = row._replace(valid_to=last_day)
            result.append(row)
    return result + list(new)


def _ended(snapshot: Snapshot | None) -> bool:
    return bool(snapshot) and any(row.status == STATUS.TERMINATED for row in snapshot["states"])


def preview(text: str, name: str, user: AbstractBaseUser) -> Plan:
    """What applying the file would do, checked by every rule of the registry: the plan,
    run as a dry import run (written, then rolled back). Raises :class:`LoadError` for a
    malformed row and :class:`ValidationFailed` for a change that breaks a rule."""
    with Import(_command(user), [name], reason="Preview", user=user, dry_run=True) as run:
        result = _write(plan(text, name), run)
    return result


def apply(
    text: str, name: str, user: AbstractBaseUser, note: str, previewed: str | None = None
) -> Plan:
    """Apply a change file as one change set: all of it in one import run, or none of it.
    ``previewed`` is the :meth:`Plan.fingerprint` the curator saw: if the registry changed
    since, so that the file would now do something else, nothing is applied."""
    if not note.strip():
        raise ValidationFailed(["Say why you are importing this file (a change note)."])
    with Import(_command(user), [name], reason=note, user=user) as run:
        # Planned inside the run's transaction, so what is compared is what is written.
        result = plan(text, name)
        if previewed is not None and result.fingerprint() != previewed:
            raise ValidationFailed(
                [
                    "The registry has changed since the preview, so this file would now do "
                    "something else: upload it again to see what."
                ]
            )
        _write(result, run)
    return result


def _command(user: AbstractBaseUser) -> str:
    return f"change import by {user.get_username()}"


def _write(result: Plan, run: Import) -> Plan:
    run.entries(result.drafts, source_of=lambda ref: result.name)
    run.events(result.events, source_of=lambda key: result.name)
    run.counts = {
        "created": len(result.created), "changed": len(result.changed),
        "terminated": len(result.terminated), "events_created": len(result.events_created),
        "events_changed": len(result.events_changed),
    }  # fmt: skip
    return result
