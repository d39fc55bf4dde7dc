"""Build the registry from the curated files in ``fixtures/``.

``run()`` reads every source through the importers into one :class:`Dataset` (no database),
turns it into snapshots and writes them as one import run (``registry.imports``): validated
by the registry's rules, in one transaction, every version attributed to the run and its
source files; a dry run goes through exactly the same code and rolls back at the end. A row
that breaks a rule is reported with the file and line it came from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from registry.imports import Import, Report, counts_of

from . import boundaries
from .importers.base import Dataset, LoadError
from .importers.chd import load_code_history
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
from .importers.postcodes_io import load_postcodes_io
from .importers.small_areas import load_small_areas
from .importers.successions import load_successions
from .importers.wards import load_wards
from .registers import AREAS, ENTITY_TYPES, REGISTERS

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
    ("successions", load_successions),
    ("the Code History Database", load_code_history),
    ("postcodes.io names", load_postcodes_io),
]
# Entries are compared, checked and written this many at a time, so memory stays flat however
# many codes the registry holds.
BATCH = 5000


def build(
    root: Path, progress: Callable[[str], None] = lambda m: None, chd: Path | None = None
) -> Dataset:
    """Read every fixture file into a :class:`Dataset` (no database access); with ``chd``,
    ONS's own Code History Database files in that folder instead of the bundled extract."""
    data = Dataset()
    for label, step in STEPS:
        started = time.monotonic()
        if step is load_code_history:
            load_code_history(data, root, chd)
        else:
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
    entity_type = (states[0].entity_type if states else None) or ""
    return f"{register} {entity_type}".strip()


def run(
    root: Path,
    *,
    dry_run: bool = False,
    command: str = "load_reference_data",
    progress: Callable[[str], None] = lambda m: None,
    chd: Path | None = None,
) -> Report:
    """Load the fixtures under ``root`` as one import run (``registry.imports``): with
    ``dry_run`` change nothing but report the same. Entries are written a batch at a time
    (entity types first, then the areas in code order, then councils), every batch checked
    against what the whole run will write."""
    started = time.monotonic()
    data = build(root, progress, chd)
    events = data.events()
    refs = sorted(data.refs(), key=_write_order)
    chd_path = data.chd.path if data.chd else None

    def source_of(ref: str) -> str:
        draft = data.get(ref)
        found = set(draft.sources) if draft else set()
        if chd_path and data.in_chd(ref):
            found.add(chd_path)
        return ", ".join(sorted(found))

    sources = {s for d in data.entries.values() for s in d.sources}
    if chd_path:
        sources.add(chd_path)
    sources.update(boundaries.source_files(root))
    with Import(
        command,
        sources,
        reason="Load of the curated reference data",
        dry_run=dry_run,
        registers=REGISTERS,
        progress=progress,
    ) as load:
        load.reserve(refs)
        batches = -(-len(refs) // BATCH)
        for number, start in enumerate(range(0, len(refs), BATCH), 1):
            batch = refs[start : start + BATCH]
            progress(
                f"comparing, checking and writing batch {number} of {batches} "
                f"({batch[0].partition('/')[2]} to {batch[-1].partition('/')[2]})"
            )
            load.entries(
                {ref: data.snapshot(ref) for ref in batch},
                source_of=source_of,
                group_of=group_of,
                origin_of=lambda ref, problem: data.origin(ref, problem.field, problem.row),
                known=data.known,
                progress=lambda message: None,  # a line per batch is enough
            )
        load.events(
            {k: {f: v for f, v in e.items() if f != "sources"} for k, e in events.items()},
            source_of=lambda key: ", ".join(events[key]["sources"]),
        )
        shapes = boundaries.load(root, load.report.run, progress)
        notes = {**data.notes, **shapes.notes}
        load.counts = {
            **counts_of(load.report),
            "notes": dict(sorted(notes.items())),
            "boundaries": {
                "created": dict(shapes.created),
                "changed": dict(shapes.changed),
                "unchanged": dict(shapes.unchanged),
                "removed": dict(shapes.removed),
                "repaired": dict(shapes.repaired),
            },
        }
    load.report.seconds = time.monotonic() - started  # reading the sources included
    return load.report


def _write_order(ref: str) -> tuple[int, str]:
    """Entity types first (states name them), then areas in code order, then councils."""
    register = ref.partition("/")[0]
    return ({ENTITY_TYPES: 0, AREAS: 1}.get(register, 2), ref)
