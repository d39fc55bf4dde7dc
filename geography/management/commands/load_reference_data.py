"""Load (or update) the registry from the curated reference data in ``fixtures/``.

The load is idempotent: entries are matched on (register, key), only what differs is written,
and each written entry gets a version attributed to this import run and its source files; a
second run reports zero created and zero changed. It runs in one transaction, so a failure
part-way leaves the database as it was. ``--dry-run`` goes through the same code and rolls
back at the end, so it reports exactly what a real run would do and changes nothing.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from geography.loader import LoadError, run
from registry.services import ServiceError


class Command(BaseCommand):
    help = "Load the curated UK reference data in fixtures/ into the registry."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fixtures",
            type=Path,
            default=settings.REGISTRY_FIXTURES_DIR,
            help="The folder of curated source files (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what a load would create and change, and change nothing.",
        )
        parser.add_argument(
            "--chd",
            type=Path,
            metavar="DIR",
            help="A folder of ONS's own Code History Database files (ChangeHistory.csv, "
            "Changes.csv, Equivalents.csv) to load instead of the bundled July 2024 extract.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only if the registry has no entries yet (for first-run set-up).",
        )

    def handle(
        self,
        *args,
        fixtures: Path,
        dry_run: bool,
        if_empty: bool,
        verbosity: int,
        chd: Path | None = None,
        **options,
    ):
        from registry.models import Entry

        if if_empty and Entry.objects.exists():
            if verbosity:
                self.stdout.write("The registry already holds data; nothing to load.")
            return

        def progress(message: str) -> None:
            if verbosity:
                self.stdout.write(f"  … {message}")
                self.stdout.flush()

        if verbosity:
            self.stdout.write(f"{'Dry run: ' if dry_run else ''}loading from {fixtures}")
        try:
            if chd is not None and not (chd / "ChangeHistory.csv").exists():
                raise LoadError(str(chd), 0, "there is no ChangeHistory.csv in this folder")
            report = run(fixtures, dry_run=dry_run, progress=progress, chd=chd)
        except (LoadError, ServiceError) as error:
            raise CommandError(str(error)) from error

        entries = report.entries
        groups = sorted(set(entries.created) | set(entries.changed) | set(entries.unchanged))
        if verbosity:
            self.stdout.write("")
            self.stdout.write(
                f"{'register and entity type':<36}{'created':>9}{'changed':>9}{'unchanged':>11}"
            )
            for group in groups:
                self.stdout.write(
                    f"{group:<36}{entries.created[group]:>9,}{entries.changed[group]:>9,}"
                    f"{entries.unchanged[group]:>11,}"
                )
            events = report.events
            self.stdout.write(
                f"{'change events':<36}{events.total_created:>9,}{events.total_changed:>9,}"
                f"{sum(events.unchanged.values()):>11,}"
            )
            shapes = report.counts.get("boundaries") or {}
            layers = sorted(
                set().union(
                    *(shapes.get(k, {}) for k in ("created", "changed", "unchanged", "removed"))
                )
            )
            if layers:
                self.stdout.write("")
                self.stdout.write(
                    f"{'boundaries (layer)':<36}{'created':>9}{'changed':>9}{'unchanged':>11}"
                    f"{'removed':>9}{'repaired':>10}"
                )
                for layer in layers:
                    row = [
                        shapes.get(k, {}).get(layer, 0)
                        for k in ("created", "changed", "unchanged", "removed", "repaired")
                    ]
                    self.stdout.write(
                        f"{layer:<36}{row[0]:>9,}{row[1]:>9,}{row[2]:>11,}{row[3]:>9,}{row[4]:>10,}"
                    )
            notes = report.counts.get("notes") or {}
            if notes:
                self.stdout.write("")
                self.stdout.write("Where the sources disagree or could not be used:")
                for what, count in notes.items():
                    self.stdout.write(f"  {count:>9,}  {what}")
        verb = "would be" if dry_run else "were"
        summary = (
            f"{entries.total_created} entries {verb} created and {entries.total_changed} "
            f"changed; {report.events.total_created} change events {verb} created and "
            f"{report.events.total_changed} changed ({report.seconds:.1f}s)."
        )
        self.stdout.write(self.style.SUCCESS(summary))
