"""Build the SPARQL endpoint's Oxigraph store from the database (``registry.sparql``).

``bin/serve`` runs it with ``--if-needed`` after the load: it builds only when there is no
store yet, or an import has made it stale, or it was built for another ``REGISTRY_URI_BASE``.
Curators' edits update the store as they are saved, so it is not needed after those.
"""

from django.core.management.base import BaseCommand

from registry import sparql


class Command(BaseCommand):
    help = "Build the SPARQL store (var/oxigraph/) from the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-needed",
            action="store_true",
            help="Build only if there is no store, or it is stale (an import since).",
        )

    def handle(self, *args, if_needed: bool, verbosity: int, **options):
        if if_needed and sparql.exists() and not sparql.stale():
            if verbosity:
                self.stdout.write(f"The SPARQL store is up to date ({sparql.store_path()}).")
            return

        def progress(message: str) -> None:
            if verbosity:
                self.stdout.write(f"  … {message}")
                self.stdout.flush()

        built = sparql.build(progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"SPARQL store built: {built['triples']:,} triples, "
                f"{built['bytes'] / 1e6:,.0f} MB, {built['seconds']:.1f} s."
            )
        )
