"""Give the boundaries their PostGIS column and index on a database migrated before PostGIS
was installed (migration ``geography.0002_postgis_shape`` does it on one that had it).

Creates the ``postgis`` extension if it is not there, adds the shape column generated from each
boundary's WKB and its GiST index (``geography/postgis.py``), and says which point-lookup engine
``REGISTRY_SPATIAL_ENGINE`` now selects. Idempotent: on a database that has them it changes
nothing. On SQLite, or where the server has no PostGIS files, it fails saying why.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from geography import postgis, spatial


class Command(BaseCommand):
    help = "Add the boundaries' PostGIS shape column and GiST index (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                f"PostGIS needs PostgreSQL; the {database!r} database is {connection.vendor}."
            )
        already = postgis.installed(connection)
        with transaction.atomic(using=database):
            done = postgis.install(connection)
        if not done:
            raise CommandError(
                "Could not create the postgis extension: install it on the server (Debian: "
                "apt-get install postgresql-15-postgis-3) and run this as a role that may "
                "create extensions."
            )
        spatial._resolved.clear()  # an "auto" resolved before now would still say shapely
        if already:
            self.stdout.write("The boundaries already have their PostGIS column and index.")
        else:
            self.stdout.write(
                self.style.SUCCESS("Added the boundaries' PostGIS shape column and GiST index.")
            )
        self.stdout.write(f"Point lookups use the {spatial.engine_name()} engine.")
