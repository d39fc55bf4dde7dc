"""The boundaries load (``geography.boundaries``): keyed by (code, vintage), each with the
valid-time range it stands for, repaired, measured, attributed and idempotent."""

import datetime as dt

import pytest
import shapely
from django.db import connection
from django.db.models import Count

from geography import boundaries, postgis, spatial
from geography.models import Boundary
from registry import validtime
from registry.models import ImportRun
from tests.conftest import d

pytestmark = pytest.mark.django_db


def test_a_vintage_holds_from_its_date_until_the_next_or_the_entrys_end():
    life = validtime.Lifetime(d("2009-01-01"), None)
    found = boundaries.ranges(
        [
            ("2014-as-at", d("2014-04-01"), True),
            ("2019", d("2019-04-01"), False),
            ("2021", d("2021-04-01"), False),
        ],
        life,
    )
    assert found == {
        "2014-as-at": boundaries.Range(d("2014-04-01"), d("2019-03-31")),
        "2019": boundaries.Range(d("2019-04-01"), d("2021-03-31")),
        "2021": boundaries.Range(d("2021-04-01"), None),
    }
    # Never before the entry's start, never after its end; an as-at shape the yearly files
    # supersede is not used; a vintage after the entry ended holds on no day.
    ended = validtime.Lifetime(d("2019-04-01"), d("2023-03-31"))
    found = boundaries.ranges(
        [
            ("2019-as-at", d("2019-04-01"), True),
            ("2019", d("2019-04-01"), False),
            ("2023", d("2023-04-01"), False),
        ],
        ended,
    )
    assert found == {
        "2019-as-at": None,
        "2019": boundaries.Range(d("2019-04-01"), d("2023-03-31")),
        "2023": None,
    }


def test_the_load_holds_each_layer_and_vintage(reference_load):
    counts = dict(
        Boundary.objects.filter(vintage="2025")
        .values_list("layer")
        .annotate(n=Count("id"))
        .values_list("layer", "n")
    )
    assert counts == {"lad": 361, "ward": 8405}
    assert "boundaries (layer)" in reference_load
    assert set(Boundary.objects.values_list("layer", flat=True).distinct()) == {
        "country",
        "region",
        "county",
        "metropolitan-county",
        "combined-authority",
        "lad",
        "ward",
        "westminster-constituency",
    }


def test_taunton_deanes_shape_holds_until_it_ended():
    rows = list(
        Boundary.objects.filter(entry__key="E07000190").values_list(
            "vintage", "valid_from", "valid_to", "generalisation"
        )
    )
    assert rows == [("2014-as-at", d("2014-04-01"), d("2019-03-31"), "BSC")]
    rows = list(
        Boundary.objects.filter(entry__key="E06000066")
        .order_by("valid_from")
        .values_list("vintage", "valid_from", "valid_to")
    )
    assert rows == [
        ("2023", d("2023-04-01"), d("2024-03-31")),
        ("2024", d("2024-04-01"), d("2025-03-31")),
        ("2025", d("2025-04-01"), None),
    ]


def test_the_invalid_ward_shapes_are_repaired_and_every_shape_is_valid():
    assert Boundary.objects.filter(layer="ward", vintage="2025", repaired=True).count() == 186
    shapes = shapely.from_wkb(
        [bytes(g) for g in Boundary.objects.values_list("geometry", flat=True)]
    )
    assert shapely.is_valid(shapes).all()
    assert set(shapely.get_type_id(shapes).tolist()) <= {3, 6}  # polygons, multipolygons


def test_every_boundary_row_has_the_same_shape_in_postgis():
    """The generated column holds each row's own WKB, valid, in EPSG:4326, and follows a
    change to the row in the same statement."""
    if not postgis.installed(connection):
        pytest.skip(f"no PostGIS on this {connection.vendor} test database")
    table = Boundary._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count({postgis.COLUMN}), "  # noqa: S608 - names, no input
            f"count(*) FILTER (WHERE ST_AsBinary({postgis.COLUMN}) = geometry), "
            f"count(*) FILTER (WHERE ST_IsValid({postgis.COLUMN})), "
            f"count(*) FILTER (WHERE ST_SRID({postgis.COLUMN}) = 4326) FROM {table}"
        )
        counts = cursor.fetchone()
    assert counts == (Boundary.objects.count(),) * 5
    cardiff = (-3.1791, 51.4816)
    row = Boundary.objects.get(entry__key="W06000015", vintage="2025")
    hits = postgis.Engine().containing(*cardiff, d("2025-06-01"), ["lad"])
    assert [h.code for h in hits] == ["W06000015"]
    elsewhere = Boundary.objects.get(entry__key="E06000066", vintage="2025").geometry
    Boundary.objects.filter(pk=row.pk).update(geometry=elsewhere)
    assert postgis.Engine().containing(*cardiff, d("2025-06-01"), ["lad"]) == []
    Boundary.objects.filter(pk=row.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count({postgis.COLUMN}) FROM {table}")  # noqa: S608 - names
        assert cursor.fetchone()[0] == Boundary.objects.count()


def test_area_centroid_and_label_point_of_cardiff():
    row = Boundary.objects.get(entry__key="W06000015", vintage="2025")
    # Cardiff is 140 km² in law; the generalised (BGC) shape is close to it.
    assert 138e6 < row.area < 143e6
    shape = shapely.from_wkb(bytes(row.geometry))
    assert shape.covers(shapely.Point(row.label_lon, row.label_lat))
    assert shape.distance(shapely.Point(row.centroid_lon, row.centroid_lat)) < 0.01
    assert (row.min_lon, row.max_lat) == pytest.approx(shape.bounds[0::3])


def test_every_row_is_attributed_to_the_load_and_its_file():
    runs = set(Boundary.objects.values_list("import_run__command", flat=True).distinct())
    assert runs == {"load_reference_data"}
    assert Boundary.objects.get(entry__key="W06000015", vintage="2025").source == (
        "boundaries/lad_2025_bgc.geojson.gz"
    )
    run = Boundary.objects.first().import_run
    assert "boundaries/wards_2025_bgc.geojson.gz" in run.sources


def test_a_second_load_rewrites_only_what_changed(settings):
    """One load over the loaded registry (each re-read of every shape costs a minute and a
    half of CPU): the row altered here is written again, attributed to the new run; nothing
    else is created, changed or removed."""
    row = Boundary.objects.get(entry__key="W06000015", vintage="2025")
    somerset = Boundary.objects.get(entry__key="E06000066", vintage="2025").geometry
    Boundary.objects.filter(pk=row.pk).update(
        digest="stale", valid_to=dt.date(2030, 1, 1), geometry=somerset
    )
    before = Boundary.objects.count()
    run = ImportRun.objects.create(command="test")
    counts = boundaries.load(settings.REGISTRY_FIXTURES_DIR, run)
    assert dict(counts.changed) == {"lad": 1}
    assert sum(counts.created.values()) == 0
    assert sum(counts.removed.values()) == 0
    assert sum(counts.unchanged.values()) == before - 1
    row.refresh_from_db()
    assert (row.valid_to, row.import_run_id) == (None, run.pk)
    assert shapely.from_wkb(bytes(row.geometry)).covers(shapely.Point(-3.1791, 51.4816))
    if postgis.installed(connection):  # the PostGIS shape was rewritten with the row
        hits = postgis.Engine().containing(-3.1791, 51.4816, dt.date(2025, 6, 1), ["lad"])
        assert [h.code for h in hits] == ["W06000015"]
    assert list(Boundary.objects.filter(import_run=run).values_list("pk", flat=True)) == [row.pk]


def test_the_shapely_index_is_rebuilt_after_an_import_and_only_then():
    """The in-process index reads only the newest import run per lookup: boundaries change
    in loads alone, so a change without a new run is not seen, and one with a run is."""
    cardiff = (-3.1791, 51.4816)
    on = dt.date(2025, 6, 1)

    def lads() -> list[str]:
        return [h.code for h in spatial.current().containing(*cardiff, on, ["lad"])]

    assert lads() == ["W06000015"]
    before = spatial.current()
    Boundary.objects.filter(entry__key="W06000015", vintage="2025").delete()
    assert spatial.current() is before and lads() == ["W06000015"]
    ImportRun.objects.create(command="test")  # as the load that removed it would have
    assert spatial.current() is not before and lads() == []
    rebuilt = spatial.current()
    ImportRun.objects.create(command="test")  # a run that wrote no boundary: no rebuild
    assert spatial.current() is rebuilt
