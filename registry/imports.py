"""Import runs: a set of entries and change events read from source files, written as one
validated, attributed and atomic change, or not at all.

Both writers of source files use it: the loader (``load_reference_data``, the bundled
fixtures) and the ONS change import a curator uploads in the admin. Each does only its own
part, reading its files into snapshots, inside an :class:`Import`::

    with Import("load_reference_data", sources, reason="…", dry_run=dry_run) as run:
        run.entries(snapshots, source_of=…, origin_of=…)
        run.events(events, source_of=…)
    run.report  # counts per group, seconds, the ImportRun

and the import run does the rest the same way for both:

- one transaction (``atomic(durable=True)``: an import is never part of something larger), so
  a failure part-way leaves the registry as it was;
- an :class:`~registry.models.ImportRun` row naming the command and its source files, with
  the counts and the time it finished; every version written is attributed to it, to its
  source file and, for an upload, to the curator;
- every new or changed entry checked by every rule in ``registry.validation`` before anything
  is written, in one batch (the entries of a run may name each other); a broken rule stops
  the run with :class:`ImportRefused`, which names each entry, the rule and, where the caller
  can say (``origin_of``), the file and line the offending row came from;
- a dry run goes through exactly the same code and is rolled back at the end, so it reports
  exactly what a real run would do;
- after a real run that wrote anything, fresh planner statistics (``ANALYZE``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from .models import ChangeEvent, ChangeLink, ImportRun, Register, Relation
from .services import (
    Actor,
    ServiceError,
    SyncResult,
    ValidationFailed,
    reserve_entries,
    sync_entries,
    sync_events,
)
from .snapshots import Snapshot, split_ref
from .validation import Oracle, Problem

# How many broken rules an ImportRefused message lists before "and N more".
SHOWN_PROBLEMS = 20


class ImportRefused(ValidationFailed):
    """The run breaks the registry's rules; nothing was written. ``messages`` lists each
    problem, its origin first where known: "wards/x.csv, line 12: E05000001: …"."""


@dataclass
class Report:
    """What a run did (or, in a dry run, would have done)."""

    command: str
    dry_run: bool
    sources: list[str] = field(default_factory=list)
    entries: SyncResult = field(default_factory=SyncResult)
    events: SyncResult = field(default_factory=SyncResult)
    registers_created: int = 0
    seconds: float = 0.0
    counts: dict[str, Any] = field(default_factory=dict)
    run: ImportRun | None = None

    @property
    def wrote_anything(self) -> bool:
        return bool(
            self.entries.total_created
            or self.entries.total_changed
            or self.events.total_created
            or self.events.total_changed
        )


class _Rollback(Exception):
    pass


Origin = Callable[[str, Problem], str | None]


class Import:
    """One import run, as a context manager (see the module's docstring)."""

    def __init__(
        self,
        command: str,
        sources: Iterable[str],
        *,
        reason: str,
        user: AbstractBaseUser | None = None,
        dry_run: bool = False,
        registers: Mapping[str, Mapping[str, Any]] | None = None,
        progress: Callable[[str], None] = lambda message: None,
    ) -> None:
        self.report = Report(command, dry_run, sorted(set(sources)))
        self.reason = reason
        self.user = user
        self.registers = registers or {}
        self.progress = progress
        self._atomic = transaction.atomic(durable=True)
        self._started = 0.0
        self.counts: dict[str, Any] | None = None
        self.ids: dict[str, int] = {}  # of the entries reserved for the run

    def __enter__(self) -> Import:
        self._started = time.monotonic()
        self._atomic.__enter__()
        try:
            for slug, fields in self.registers.items():
                _, created = Register.objects.update_or_create(slug=slug, defaults=dict(fields))
                self.report.registers_created += created
            self.report.run = ImportRun.objects.create(
                command=self.report.command,
                sources=self.report.sources,
                dry_run=self.report.dry_run,
            )
        except BaseException as raised:
            self._atomic.__exit__(type(raised), raised, raised.__traceback__)
            raise
        self.actor = Actor(user=self.user, import_run=self.report.run, reason=self.reason)
        return self

    def reserve(self, refs: Iterable[str]) -> None:
        """Create, empty, the entries of ``refs`` that do not exist yet, before writing the
        run in several batches (an entry of one batch may be linked to one of a later)."""
        self.ids.update(reserve_entries(refs, self.progress))

    def entries(
        self,
        drafts: Mapping[str, Snapshot],
        *,
        source_of: Callable[[str], str] = lambda ref: "",
        group_of: Callable[[str, Snapshot], str] = lambda ref, snap: ref.partition("/")[0],
        origin_of: Origin = lambda ref, problem: None,
        known: Oracle | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> SyncResult:
        """Validate and write entries (``register/key`` → snapshot); may be called more than
        once in a run, each call a batch. ``known`` says what later batches will write
        (``registry.validation.validate_batch``)."""
        try:
            result = sync_entries(
                drafts,
                self.actor,
                source_of=source_of,
                group_of=group_of,
                progress=self.progress if progress is None else progress,
                known=known,
                ids=self.ids,
            )
        except ValidationFailed as error:
            raise _refused(error, origin_of) from None
        _add(self.report.entries, result)
        return result

    def events(
        self, drafts: Mapping[str, Snapshot], *, source_of: Callable[[str], str] = lambda key: ""
    ) -> SyncResult:
        """Write change events (key → snapshot with date, kind, instrument and links)."""
        self.progress(f"syncing {len(drafts):,} change events")
        result = sync_events(drafts, self.actor, source_of=source_of)
        _add(self.report.events, result)
        return result

    def __exit__(self, kind, error, traceback) -> bool:
        finishing_error: BaseException | None = None
        if kind is None:
            try:
                self._finish()
                if self.report.dry_run:
                    raise _Rollback
            except BaseException as raised:  # raised again below, after the rollback
                finishing_error = raised
                kind, error, traceback = type(raised), raised, raised.__traceback__
        # Commit, or roll back on any exception (a dry run's _Rollback included).
        self._atomic.__exit__(kind, error, traceback)
        if kind is _Rollback:
            return True  # a dry run ends here, as if nothing had been written
        if finishing_error is not None:
            raise finishing_error
        if kind is None and self.report.wrote_anything:
            planner_statistics()
        return False  # an error in the body goes on up

    def _finish(self) -> None:
        report, run = self.report, self.report.run
        assert run is not None  # noqa: S101 - created on entering
        run.counts = self.counts if self.counts is not None else counts_of(report)
        report.counts = run.counts
        run.finished_at = timezone.now()
        run.save(update_fields=["counts", "finished_at"])
        report.seconds = time.monotonic() - self._started


# The tables whose rows a recursive query follows step by step (registry.facts: an entry's
# ancestors, the walk to its current codes), and the row count SQLite's planner is told
# they have at the least.
WALKED_ROWS = 16_777_216


def walked_tables() -> list[str]:
    return [model._meta.db_table for model in (Relation, ChangeLink, ChangeEvent)]


def planner_statistics() -> None:
    """Fresh planner statistics (``ANALYZE``): without them SQLite picks the wrong index for
    lifetime look-ups after a first load (about 3 times slower per request).

    Then, on SQLite, the tables of :func:`walked_tables` are recorded as holding at least
    :data:`WALKED_ROWS` rows (``sqlite_stat1``'s first number; the rows per key, which choose
    the indexes, stay as measured). SQLite (3.38 and later) guesses that a recursive query's
    queue holds about a million rows, and builds a Bloom filter, a scan of the whole table,
    at every step of the recursion for a table smaller than that: 44 ms for an entry's five
    or six ancestors and 0.35 ms for the walk to its current codes, against 0.035 and
    0.019 ms with the larger count (the same answers; ``benchmarks/README.md``, "Read path").
    Editing ``sqlite_stat1`` is SQLite's documented way to steer its planner."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    steer_recursive_plans(connection)


def steer_recursive_plans(connection) -> None:
    """On SQLite, the walked tables' row counts in ``sqlite_stat1`` raised to at least
    :data:`WALKED_ROWS` (:func:`planner_statistics`); nothing on another database, or on one
    never analysed. Also run by a migration, for a registry loaded before."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return
        tables = walked_tables()
        marks = ", ".join(["%s"] * len(tables))
        cursor.execute(
            f"SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl IN ({marks})",  # noqa: S608 (placeholders only)
            tables,
        )
        for table, index, stat in cursor.fetchall():
            count, _, rest = stat.partition(" ")
            if int(count) >= WALKED_ROWS:
                continue
            cursor.execute(
                "UPDATE sqlite_stat1 SET stat = %s WHERE tbl = %s AND idx IS %s",
                [f"{WALKED_ROWS} {rest}".strip(), table, index],
            )
        # Read again by this connection (others read it when they next open).
        cursor.execute("ANALYZE sqlite_schema")


def _add(total: SyncResult, part: SyncResult) -> None:
    total.created.update(part.created)
    total.changed.update(part.changed)
    total.unchanged.update(part.unchanged)


def counts_of(report: Report) -> dict[str, Any]:
    """The counts an ImportRun records: entries and events created, changed and unchanged,
    per group."""
    return {
        "created": dict(report.entries.created),
        "changed": dict(report.entries.changed),
        "unchanged": dict(report.entries.unchanged),
        "events_created": dict(report.events.created),
        "events_changed": dict(report.events.changed),
    }


def _refused(error: ValidationFailed, origin_of: Origin) -> ServiceError:
    """The problems of a batch, each with its origin (file and line) where known, the entry
    it is about and the rule it broke."""
    messages = []
    for ref, problems in sorted(error.problems.items()):
        key = split_ref(ref)[1]
        for problem in problems:
            where = origin_of(ref, problem) if isinstance(problem, Problem) else None
            rule = f" (rule: {problem.rule})" if getattr(problem, "rule", "") else ""
            messages.append(f"{where + ': ' if where else ''}{key}: {problem}{rule}")
    if not messages:
        messages = list(error.messages)
    shown = messages[:SHOWN_PROBLEMS]
    if len(messages) > SHOWN_PROBLEMS:
        shown.append(f"… and {len(messages) - SHOWN_PROBLEMS} more.")
    refused = ImportRefused(shown, error.problems)
    refused.messages = messages
    return refused
