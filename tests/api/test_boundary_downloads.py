"""Boundary downloads (``api.documents.downloads``): each vintage of each layer as one GeoJSON
FeatureCollection, streamed, simplified on request, attributed, listed on the downloads page,
with validators like every other download."""

import gzip
import json

import pytest
import shapely

from geography.models import Boundary

pytestmark = pytest.mark.django_db

OS = "Contains OS data © Crown copyright and database right 2025"
OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
LADS_2025 = "/downloads/boundaries/lad/2025.geojson"


def body(response) -> bytes:
    assert response.status_code == 200, response.content[:300]
    assert response.streaming
    return b"".join(response.streaming_content)


def test_a_vintage_of_districts_as_one_attributed_feature_collection(client):
    response = client.get(LADS_2025)
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"] == 'attachment; filename="boundaries-lad-2025.geojson"'
    assert response["Link"] == f'<{OGL}>; rel="license"'
    assert (
        "Contains OS data (c) Crown copyright and database right 2025"
        in (response["X-Attribution"])
    )
    assert response["Access-Control-Allow-Origin"] == "*"
    collection = json.loads(body(response))
    features = collection.pop("features")
    assert collection == {
        "type": "FeatureCollection",
        "name": "lad-2025",
        "layer": "lad",
        "vintage": "2025",
        "generalisation": "BGC",
        "simplify_tolerance": 0.0,
        "attribution": (
            "Source: Office for National Statistics licensed under the Open Government Licence "
            f"v.3.0. {OS}."
        ),
        "licence": OGL,
    }
    codes = [f["id"] for f in features]
    assert len(codes) == 361 == Boundary.objects.filter(layer="lad", vintage="2025").count()
    assert codes == sorted(codes)
    cardiff = features[codes.index("W06000015")]
    assert cardiff["properties"] | {"area_generalised_m2": 0} == {
        "code": "W06000015",
        "name": "Cardiff",
        "name_cy": "Caerdydd",
        "type": "lad",
        "uri": "http://127.0.0.1:8000/id/statistical-geography/W06000015",
        "document": "http://127.0.0.1:8000/doc/statistical-geography/W06000015",
        "vintage": "2025",
        "valid_from": "2025-04-01",
        "valid_to": None,
        "generalisation": "BGC",
        "area_generalised_m2": 0,
        "centroid": cardiff["properties"]["centroid"],
        "label_point": cardiff["properties"]["label_point"],
    }
    assert 138e6 < cardiff["properties"]["area_generalised_m2"] < 143e6
    shape = shapely.geometry.shape(cardiff["geometry"])
    assert shape.covers(shapely.Point(-3.1791, 51.4816))  # central Cardiff
    assert shape.covers(shapely.Point(*cardiff["properties"]["label_point"]))
    # The same boundary as the entry's own GeoJSON gives.
    own = client.get("/doc/statistical-geography/W06000015.geojson?date=2025-06-01").json()
    assert own["geometry"] == cardiff["geometry"]
    somerset = features[codes.index("E06000066")]["properties"]
    assert (somerset["name"], somerset["name_cy"]) == ("Somerset", None)


def test_an_older_vintage_names_areas_as_they_were_then(client):
    collection = json.loads(body(client.get("/downloads/boundaries/lad/2019.geojson")))
    by_code = {f["id"]: f["properties"] for f in collection["features"]}
    assert by_code["E07000004"]["name"] == "Aylesbury Vale"
    assert (by_code["E07000004"]["valid_from"], by_code["E07000004"]["valid_to"]) == (
        "2019-04-01",
        "2020-03-31",
    )
    assert "E06000060" not in by_code  # Buckinghamshire's unitary began in 2020
    assert collection["generalisation"] == "BUC"


def test_the_largest_layer_streams_in_pieces(client):
    """The 2025 wards (8,405 shapes, 28 MB of GeoJSON) come a chunk of boundaries at a
    time, never as one string."""
    response = client.get("/downloads/boundaries/ward/2025.geojson")
    assert response.status_code == 200
    sizes = [len(chunk) for chunk in response.streaming_content]
    assert sum(sizes) > 25_000_000
    assert len(sizes) > 40
    # Each piece is 200 boundaries: the largest (Scotland's wide rural wards) 2.5 MB.
    assert max(sizes) < 4_000_000


def test_gzip_holds_the_same_collection(client):
    plain = body(client.get("/downloads/boundaries/westminster-constituency/2024-set.geojson"))
    packed = client.get("/downloads/boundaries/westminster-constituency/2024-set.geojson.gz")
    assert packed["Content-Type"] == "application/gzip"
    assert packed["Content-Disposition"] == (
        'attachment; filename="boundaries-westminster-constituency-2024-set.geojson.gz"'
    )
    assert gzip.decompress(body(packed)) == plain
    assert len(json.loads(plain)["features"]) == 650


def test_simplify_tolerance_makes_a_smaller_file_and_bad_values_are_400_problems(client):
    full = body(client.get(LADS_2025))
    simple_response = client.get(f"{LADS_2025}?simplify_tolerance=0.01")
    assert simple_response["Content-Disposition"] == (
        'attachment; filename="boundaries-lad-2025-simplified-0.01.geojson"'
    )
    simple = json.loads(body(simple_response))
    assert simple["simplify_tolerance"] == 0.01
    assert len(simple["features"]) == 361
    assert len(json.dumps(simple)) < len(full) / 5
    for bad in ("x", "-1", "nan", "inf", "5", ""):
        response = client.get(f"{LADS_2025}?simplify_tolerance={bad}")
        assert response.status_code == 400, bad
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"].startswith(
            "simplify_tolerance must be a number of degrees from 0 to 1"
        )


@pytest.mark.parametrize(
    "path",
    [
        "/downloads/boundaries/lad/2018.geojson",  # no such vintage
        "/downloads/boundaries/lsoa/2021.geojson",  # no such layer held
        "/downloads/boundaries/ward/2025.geojson.zip",
        "/downloads/boundaries/ward.geojson",
    ],
)
def test_unknown_layers_and_vintages_are_404(client, path):
    response = client.get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    if "2018" in path or "lsoa" in path:
        assert response.json()["detail"].startswith("There is no boundary download called")
    page = client.get(path, HTTP_ACCEPT="text/html")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_boundary_downloads_answer_conditional_requests(client):
    first = client.get(LADS_2025)
    body(first)
    assert first["Last-Modified"]
    again = client.get(LADS_2025, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    since = client.get(LADS_2025, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304
    # Each file has its own validator.
    simplified = client.get(f"{LADS_2025}?simplify_tolerance=0.01")
    gz = client.get(f"{LADS_2025}.gz")
    assert len({first["ETag"], simplified["ETag"], gz["ETag"]}) == 3


def test_the_downloads_page_lists_every_vintage_with_its_count(client):
    html = client.get("/downloads", HTTP_ACCEPT="text/html").content.decode()
    assert 'href="/downloads/boundaries/lad/2025.geojson"' in html
    assert 'href="/downloads/boundaries/ward/2025.geojson.gz"' in html
    assert OS in html
    listed = client.get("/downloads.json").json()["boundaries"]
    pairs = set(Boundary.objects.values_list("layer", "vintage").distinct())
    assert {(b["layer"], b["vintage"]) for b in listed} == pairs
    lads = next(b for b in listed if (b["layer"], b["vintage"]) == ("lad", "2025"))
    assert lads == {
        "layer": "lad",
        "vintage": "2025",
        "generalisation": "BGC",
        "count": 361,
        "first": "2025-04-01",
        "last": None,
        "layer_name": "Local authority district",
        "as_at": False,
        "geojson": "http://127.0.0.1:8000/downloads/boundaries/lad/2025.geojson",
        "geojson_gz": "http://127.0.0.1:8000/downloads/boundaries/lad/2025.geojson.gz",
    }
    wards_2023 = next(b for b in listed if (b["layer"], b["vintage"]) == ("ward", "2023"))
    assert (wards_2023["count"], wards_2023["last"]) == (8441, "2025-04-30")
    # Widest layer first, as the point lookups list them.
    assert listed[0]["layer"] == "country"


def test_void_describes_the_boundary_downloads(client):
    from rdflib import Graph, Literal, Namespace, URIRef

    dcat = Namespace("http://www.w3.org/ns/dcat#")
    dcterms = Namespace("http://purl.org/dc/terms/")
    graph = Graph().parse(data=client.get("/.well-known/void.ttl").content, format="turtle")
    base = "http://127.0.0.1:8000"
    shapes = URIRef(f"{base}/.well-known/void#boundaries")
    assert (URIRef(f"{base}/.well-known/void#registry"), dcat.dataset, shapes) in graph
    assert (shapes, dcterms.license, URIRef(OGL)) in graph
    assert OS in str(graph.value(shapes, dcterms.rights))
    urls = {str(graph.value(d, dcat.downloadURL)) for d in graph.objects(shapes, dcat.distribution)}
    pairs = Boundary.objects.values_list("layer", "vintage").distinct()
    assert len(urls) == 2 * len(set(pairs))
    assert f"{base}/downloads/boundaries/lad/2025.geojson" in urls
    assert f"{base}/downloads/boundaries/lad/2025.geojson.gz" in urls
    packed = URIRef(f"{base}/.well-known/void#boundaries-lad-2025-geojson_gz")
    assert graph.value(packed, dcat.compressFormat) == Literal("application/gzip")
    assert graph.value(packed, dcat.mediaType) == Literal("application/geo+json")
