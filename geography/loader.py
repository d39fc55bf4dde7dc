"""Build the registry from the curated files in ``fixtures/``.

``run()`` reads every source through the importers into one :class:`Dataset`, turns it into
snapshots and hands them to ``registry.services``, all inside one transaction: a failure
part-way leaves the database as it was, and a dry run goes through exactly the same code and
rolls back at the end, so it reports exactly what a real run would do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from registry.models import ImportRun, Register
from registry.services import Actor, SyncResult, sync_entries, sync_events

from .importers.base import Dataset, LoadError
from .importers.councils import load_councils
from .importers.districts import load_districts
from .importers.higher import (
    add_combined_authority_membership,
    finish_counties,
    load_combined_authorities,
    load_constituencies,
    load_counties,
    load_countries_and_regions,
    load_entity_types,
)
from .importers.small_areas import load_small_areas
from .importers.wards import load_wards
from .registers import REGISTERS

__all__ = ["LoadError", "Report", "run", "REGISTERS"]

STEPS: list[tuple[str, Callable[[Dataset, Path], None]]] = [
    ("entity types", load_entity_types),
    ("countries and regions", load_countries_and_regions),
    ("counties", load_counties),
    ("combined authorities", load_combined_authorities),
    ("local authority districts", load_districts),
    ("constituencies", load_constituencies),
    ("wards", load_wards),
    ("LSOAs and MSOAs", load_small_areas),
    ("councils", load_councils),
]


@dataclass
class Report:
    entries: SyncResult
    events: SyncResult
    registers_created: int
    seconds: float
    sources: list[str] = field(default_factory=list)


class _DryRun(Exception):
    pass


def build(root: Path, progress: Callable[[str], None] = lambda m: None) -> Dataset:
    """Read every fixture file into a :class:`Dataset` (no database access)."""
    data = Dataset()
    for label, step in STEPS:
        started = time.monotonic()
        step(data, root)
        if label == "local authority districts":
            finish_counties(data)
            add_combined_authority_membership(data)
        progress(
            f"read {label} ({time.monotonic() - started:.1f}s, {len(data.entries):,} entries so far)"
        )
    return data


def group_of(ref: str, snapshot: dict) -> str:
    register = ref.partition("/")[0]
    states = snapshot.get("states") or []
    entity_type = states[0][3] if states and states[0][3] else ""
    return f"{register} {entity_type}".strip()


def run(
    root: Path,
    *,
    dry_run: bool = False,
    command: str = "load_reference_data",
    progress: Callable[[str], None] = lambda m: None,
) -> Report:
    """Load the fixtures under ``root``; with ``dry_run`` change nothing but report the same."""
    started = time.monotonic()
    data = build(root, progress)
    snapshots = data.snapshots()
    events = data.events()
    sources = sorted({s for d in data.entries.values() for s in d.sources})
    source_of_entry = {ref: ", ".join(sorted(d.sources)) for ref, d in data.entries.items()}
    report: Report | None = None
    try:
        with transaction.atomic():
            created = 0
            for slug, fields in REGISTERS.items():
                _, was_created = Register.objects.update_or_create(slug=slug, defaults=fields)
                created += was_created
            import_run = ImportRun.objects.create(command=command, sources=sources, dry_run=dry_run)
            actor = Actor(import_run=import_run, reason="Load of the curated reference data")
            entries = sync_entries(
                snapshots,
                actor,
                source_of=source_of_entry.__getitem__,
                group_of=group_of,
                progress=progress,
            )
            progress(f"syncing {len(events):,} change events")
            event_drafts = {
                k: {f: v for f, v in e.items() if f != "sources"} for k, e in events.items()
            }
            event_results = sync_events(
                event_drafts, actor, source_of=lambda key: ", ".join(events[key]["sources"])
            )
            report = Report(entries, event_results, created, time.monotonic() - started, sources)
            import_run.counts = {
                "created": dict(entries.created),
                "changed": dict(entries.changed),
                "unchanged": dict(entries.unchanged),
                "events_created": dict(event_results.created),
                "events_changed": dict(event_results.changed),
            }
            import_run.finished_at = timezone.now()
            import_run.save(update_fields=["counts", "finished_at"])
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    assert report is not None  # noqa: S101 - set on every path that reaches here
    if not dry_run and (report.entries.total_created or report.entries.total_changed):
        # Fresh planner statistics: without them SQLite picks the wrong index for lifetime
        # look-ups after a first load (about 3 times slower per request).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return report
