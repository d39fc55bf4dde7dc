"""Point lookups in PostGIS: the question :mod:`geography.spatial`'s shapely index answers,
asked of PostgreSQL instead, from the same :class:`~geography.models.Boundary` rows.

The shape is kept where it is for every engine: ``geography_boundary.geometry``, WKB in EPSG:4326.
Where the ``postgis`` extension can be created (Debian's ``postgresql-15-postgis-3``), migration
``0002_postgis_shape`` adds beside it a *stored generated column*, ``shape geometry(Geometry,
4326) GENERATED ALWAYS AS (ST_GeomFromWKB(geometry, 4326))``, and a GiST index on it. Being
generated, it is fed by every write to the row in the same statement — the loader's
``bulk_create`` and ``bulk_update``, a curator's save, a test's factory — and goes with the row
on a delete or a truncate: there is no second copy to keep in step, and a dry run's rollback
takes it back with everything else. The Django model does not declare it (declaring a geometry
field needs ``django.contrib.gis``, which needs GDAL), so the ORM never reads or writes it;
only the raw SQL here does.

A lookup is one statement for any number of points: the points as two arrays unnested into rows,
joined to the boundaries by ``ST_Covers`` (a point on the edge is inside, as shapely's
``covers`` has it; the GiST index finds the candidates by bounding box), with the same
valid-time test (``valid_from <= day <= valid_to``, an open end holding for ever) and layer
filter as the shapely index, and the answer in the same :class:`~geography.spatial.Hit` rows in
the same order.

On SQLite, or on a PostgreSQL without PostGIS, the migration adds nothing and the shapely engine
answers (``REGISTRY_SPATIAL_ENGINE``, :func:`geography.spatial.engine`). PostGIS installed
after the migrations ran is taken up by ``manage.py install_postgis``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import connections, router, transaction

from . import spatial

COLUMN = "shape"
INDEX = "boundary_shape_gist"


def _table() -> str:
    from .models import Boundary

    return Boundary._meta.db_table


def can_create_extension(connection) -> bool:
    """Whether the server has the postgis extension's files (installed or installable)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        return cursor.fetchone() is not None


def installed(connection) -> bool:
    """Whether the boundaries table has its PostGIS shape column on this database."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
            [_table(), COLUMN],
        )
        return cursor.fetchone() is not None


def install(connection) -> bool:
    """Create the extension (if it is not there yet), the generated shape column and its GiST
    index; idempotent. Returns whether the column is there afterwards: False on SQLite, on a
    server without PostGIS's files, or when the role may not create the extension."""
    if not can_create_extension(connection):
        return False
    table = connection.ops.quote_name(_table())
    try:
        # A savepoint: a refused CREATE EXTENSION (a role without the privilege) must not
        # abort the migration's transaction, only this step of it.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except Exception:  # noqa: BLE001 - whatever the server's reason, the shapely engine answers
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {COLUMN} geometry(Geometry, 4326) "
            f"GENERATED ALWAYS AS (ST_GeomFromWKB(geometry, 4326)) STORED"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} USING gist ({COLUMN})")
        cursor.execute(f"ANALYZE {table}")
    return True


def uninstall(connection) -> None:
    """Drop the shape column and its index (the extension stays: other things may use it)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")
        cursor.execute(
            f"ALTER TABLE {connection.ops.quote_name(_table())} DROP COLUMN IF EXISTS {COLUMN}"
        )


def _connection():
    from .models import Boundary

    # The database reads of boundaries go to (a replica, under registry.replicas' router):
    # a streaming replica has the column and index too.
    return connections[router.db_for_read(Boundary)]


class Engine(spatial.Engine):
    """Point lookups by SQL, with the shapely index's methods and answers."""

    name = "postgis"

    def containing_many(
        self,
        points: Sequence[tuple[float, float]],
        on: dt.date,
        layers: Iterable[str] | None = None,
    ) -> list[list]:
        """:meth:`containing` for many points at once, in one statement."""
        from registry.models import Entry

        from .spatial import LAYERS, Hit

        layers = list(layers) if layers is not None else None
        found: list[list[Hit]] = [[] for _ in points]
        if not points:
            return found
        connection = _connection()
        quote = connection.ops.quote_name
        params: list = [[float(p[0]) for p in points], [float(p[1]) for p in points], on, on]
        layer_test = ""
        if layers is not None:
            layer_test = "AND b.layer = ANY(%s)"
            params.append(layers)
        # Written by hand because the model has no geometry field to build it from.
        sql = (
            "SELECT p.n, b.id, b.entry_id, e.key, b.layer, b.vintage, b.generalisation, "  # noqa: S608 - table and column names; values are parameters
            "b.valid_from, b.valid_to "
            "FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lon, lat, n) "
            f"JOIN {quote(_table())} b "
            f"ON ST_Covers(b.{COLUMN}, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) "
            f"JOIN {quote(Entry._meta.db_table)} e ON e.id = b.entry_id "
            "WHERE b.valid_from <= %s AND (b.valid_to IS NULL OR b.valid_to >= %s) "
            f"{layer_test}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for n, *hit in cursor.fetchall():
                found[n - 1].append(Hit(*hit))
        for hits in found:
            hits.sort(key=lambda h: (LAYERS.index(h.layer), h.code))
        return found

    def covered_layers(self, on: dt.date) -> set[str]:
        """The layers some boundary of which holds on ``on``."""
        from .spatial import LAYERS

        connection = _connection()
        # One probe of the (layer, valid_from) index per layer, rather than a scan of the
        # table for its distinct layers.
        sql = (
            "SELECT l FROM unnest(%s::text[]) AS l WHERE EXISTS (SELECT 1 FROM "  # noqa: S608 - a table name; values are parameters
            f"{connection.ops.quote_name(_table())} b WHERE b.layer = l "
            "AND b.valid_from <= %s AND (b.valid_to IS NULL OR b.valid_to >= %s))"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(LAYERS), on, on])
            return {row[0] for row in cursor.fetchall()}
