"""Boundaries are not versioned: a load rewrites them without a Version, so everything that
draws or serves one (an area's page and RDF, its GeoJSON, point lookups, the boundary
downloads, the downloads page and the front page's map) has the boundaries' load state (the newest import run,
the only writer of boundaries) in its validators (``api.http.boundaries_version``), and a reload that changed only shapes gives new ETags."""

import datetime as dt

import pytest
import shapely
from django.utils import timezone

from geography import spatial
from geography.models import Boundary
from registry.models import ImportRun
from tests.api.test_early import Server

pytestmark = pytest.mark.django_db

SOMERSET = "/doc/statistical-geography/E06000066"
ANSWERS = [
    f"{SOMERSET}?date=2024-06-01",  # its page, with its map
    f"{SOMERSET}.ttl?date=2024-06-01",  # its RDF, with its shape as WKT
    f"{SOMERSET}.geojson?date=2024-06-01",
    "/api/v1/point/-3.1035,51.0152?date=2024-06-01",  # Taunton, in Somerset
    "/downloads/boundaries/lad/2024.geojson",
    "/downloads",  # it counts the boundaries
    "/?date=2024-06-01",  # its overview map draws the districts
]


@pytest.fixture(autouse=True)
def fresh_spatial_index():
    """Each test here changes the boundaries inside its transaction; the process's index
    built from them must not outlive it (a later test's run could reuse the run's number)."""
    yield
    spatial._index = None


def validators(client, path, **extra):
    response = client.get(path, **extra)
    assert response.status_code == 200, (path, response.content[:300])
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response["ETag"], response["Last-Modified"]


def reload_with_a_new_shape(code: str, vintage: str) -> ImportRun:
    """What a load does to a boundary whose shape changed in the files (``geography.
    boundaries.load``): the row is rewritten, named to the new import run, no Version."""
    run = ImportRun.objects.create(command="load_reference_data")
    # A second later than anything before, so that Last-Modified (whole seconds) can move.
    run.finished_at = timezone.now() + dt.timedelta(seconds=2)
    run.save()
    row = Boundary.objects.get(entry__key=code, vintage=vintage)
    shape = shapely.from_wkb(bytes(row.geometry))
    row.geometry = shapely.to_wkb(shapely.affinity.scale(shape, 0.5, 0.5))
    row.digest = "reloaded"
    row.import_run = run
    Boundary.objects.bulk_update([row], ["geometry", "digest", "import_run"])
    return run


def test_a_reload_that_changed_only_a_shape_changes_every_validator_that_depends_on_it(client):
    before = {path: validators(client, path) for path in ANSWERS}
    # Nothing changed: the same validators, and 304s.
    assert {path: validators(client, path) for path in ANSWERS} == before
    for path, (etag, _) in before.items():
        assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304, path
    council = validators(client, "/doc/local-authority/SMT")
    old_map = client.get(ANSWERS[0]).content

    reload_with_a_new_shape("E06000066", "2024")

    after = {path: validators(client, path) for path in ANSWERS}
    for path in ANSWERS:
        assert after[path][0] != before[path][0], path
        assert after[path][1] != before[path][1], path  # Last-Modified moved too
        response = client.get(path, HTTP_IF_NONE_MATCH=before[path][0])
        assert response.status_code == 200, path
    # The page is drawn again from the new shape, not served from the cache.
    assert client.get(ANSWERS[0]).content != old_map
    # A council's page draws no boundary: its validator stands.
    assert validators(client, "/doc/local-authority/SMT") == council


def test_the_early_304_knows_of_the_reload(db):
    """``api.early`` answers an area document's 304 before Django runs, from the one query
    that finds the entry; that query reads the boundaries' load state too."""
    server = Server()
    path = f"{SOMERSET}.json?date=2024-06-01"
    first = server.get(path)
    assert first.status_code == 200
    assert server.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    reload_with_a_new_shape("E06000066", "2024")
    again = server.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    # The view gives the same validator the early answer does.
    assert client_etag(path) == again["ETag"]


def client_etag(path):
    from django.test import Client

    return Client().get(path)["ETag"]


def test_a_load_that_only_removed_boundaries_changes_them_too(client):
    before = {path: validators(client, path)[0] for path in ANSWERS}
    # A vintage dropped from the files: the load removes its rows and writes nothing else.
    ImportRun.objects.create(command="load_reference_data", finished_at=timezone.now())
    Boundary.objects.filter(layer="ward", vintage="2019").delete()
    for path in ANSWERS:
        assert validators(client, path)[0] != before[path], path
