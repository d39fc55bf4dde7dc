"""Choosing the point-lookup engine (``REGISTRY_SPATIAL_ENGINE``, ``geography.spatial.engine``)
and PostGIS's answers beside the shapely index's (``geography.postgis``)."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from geography import postgis, spatial
from geography.models import Boundary
from tests.conftest import d

pytestmark = pytest.mark.django_db

IRISH_SEA = (-4.0, 53.9)


def needs_postgis():
    if not postgis.installed(connection):
        pytest.skip(f"no PostGIS on this {connection.vendor} test database")


def start(tmp_path, **env) -> subprocess.CompletedProcess:
    """Django set up in a fresh interpreter on a scratch SQLite file, with ``env``."""
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup()"
    environ = {**os.environ, "SECRET_KEY": "x" * 50, **env}
    environ.pop("DATABASE_URL", None)
    environ["REGISTRY_SQLITE_PATH"] = str(tmp_path / "scratch.sqlite3")
    # The interpreter running the tests, on a fixed snippet: nothing untrusted.
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=False
    )


def test_postgis_configured_on_sqlite_stops_the_start(tmp_path):
    done = start(tmp_path, REGISTRY_SPATIAL_ENGINE="postgis")
    assert done.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: REGISTRY_SPATIAL_ENGINE=postgis needs a "
        in (done.stderr)
    )
    done = start(tmp_path, REGISTRY_SPATIAL_ENGINE="gdal")
    assert done.returncode == 1
    assert "REGISTRY_SPATIAL_ENGINE must be auto, shapely or postgis; got 'gdal'" in done.stderr
    assert start(tmp_path, REGISTRY_SPATIAL_ENGINE="shapely").returncode == 0


def test_auto_chooses_postgis_wherever_the_migration_could_create_it(settings):
    """The migration added the column wherever the server has PostGIS (the test servers run
    it as a superuser), and ``auto`` then chooses PostGIS; on SQLite, shapely."""
    settings.REGISTRY_SPATIAL_ENGINE = "auto"
    expected = "postgis" if postgis.can_create_extension(connection) else "shapely"
    assert postgis.installed(connection) == (expected == "postgis")
    assert spatial.engine_name() == expected
    assert spatial.engine().name == expected
    settings.REGISTRY_SPATIAL_ENGINE = "shapely"
    assert spatial.engine() is spatial.current()


def test_postgis_configured_without_its_column_is_improperly_configured(settings):
    if connection.vendor == "postgresql":
        postgis.uninstall(connection)  # in the test's transaction, rolled back after it
    settings.REGISTRY_SPATIAL_ENGINE = "postgis"
    spatial._resolved.clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="run manage.py install_postgis"):
            spatial.engine()
    finally:
        spatial._resolved.clear()  # the column comes back with the rollback


def test_install_postgis_adds_the_column_to_a_database_migrated_without_it():
    out = StringIO()
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostGIS needs PostgreSQL; the 'default' database"):
            call_command("install_postgis", stdout=out)
        return
    needs_postgis()
    postgis.uninstall(connection)
    assert not postgis.installed(connection)
    try:
        call_command("install_postgis", stdout=out)
        assert out.getvalue().splitlines() == [
            "Added the boundaries' PostGIS shape column and GiST index.",
            "Point lookups use the postgis engine.",
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), count({postgis.COLUMN}) FROM {Boundary._meta.db_table}"  # noqa: S608 - names
            )
            total, shaped = cursor.fetchone()
        assert total == shaped == Boundary.objects.count()
        out = StringIO()
        call_command("install_postgis", stdout=out)
        assert out.getvalue().startswith("The boundaries already have their PostGIS column")
    finally:
        spatial._resolved.clear()


def test_postgis_gives_the_shapely_index_s_answers():
    """The same hits, in the same order, for 1,500 points on five dates over every layer and
    over two: label points and centroids of boundaries of every layer and vintage (so points
    in several areas, and points whose boundaries hold on none of the days), and one at sea."""
    needs_postgis()
    rows = list(
        Boundary.objects.order_by("id").values_list(
            "label_lon", "label_lat", "centroid_lon", "centroid_lat"
        )
    )
    step = len(rows) // 750
    points = [p for r in rows[::step] for p in ((r[0], r[1]), (r[2], r[3]))] + [IRISH_SEA]
    shapes, database = spatial.current(), postgis.Engine()
    some = ["ward", "westminster-constituency"]
    for on in (d("2012-06-01"), d("2016-01-01"), d("2019-12-12"), d("2023-05-04"), d("2025-06-01")):
        expected = shapes.containing_many(points, on)
        assert database.containing_many(points, on) == expected
        assert database.containing_many(points, on, some) == shapes.containing_many(
            points, on, some
        )
        assert database.covered_layers(on) == shapes.covered_layers(on)
        assert expected[-1] == []  # at sea
    assert sum(len(hits) for hits in expected) > 3 * len(points)  # most in several layers
    assert database.containing(-3.1791, 51.4816, d("2025-06-01"), ["lad"]) == [
        spatial.Hit(*hit)
        for hit in Boundary.objects.filter(entry__key="W06000015", vintage="2025").values_list(
            "id",
            "entry_id",
            "entry__key",
            "layer",
            "vintage",
            "generalisation",
            "valid_from",
            "valid_to",
        )
    ]
