"""Point lookups on the real boundaries: which areas contained a point on a date
(``/api/v1/point/…``, ``geography.spatial``). Every test runs on each engine: shapely, and
PostGIS where the test database has it (``spatial_engine`` in ``tests/conftest.py``)."""

import json

import pytest

from geography.models import Boundary
from tests.conftest import d

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("spatial_engine")]

TAUNTON = (-3.1035, 51.0152)  # the town centre
TAUNTON_BNG = (322688, 124560)
CARDIFF = (-3.1791, 51.4816)  # the city centre, by the castle
DALKEITH = (-3.0704, 55.8937)  # in Midlothian (S14000045) in both constituency sets
STORNOWAY = (-6.3880, 58.2090)  # Na h-Eileanan an Iar (S14000027), both sets
IRISH_SEA = (-4.0, 53.9)  # between Anglesey and the Isle of Man


def get(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.content[:500]
    return response


def areas(client, lon, lat, date, types=None):
    query = f"?date={date}" + (f"&type={types}" if types else "")
    body = get(client, f"/api/v1/point/{lon},{lat}{query}").json()
    return {(a["type"], a["code"], a["boundary"]["vintage"]) for a in body["areas"]}, body


def codes_of(found, layer):
    return sorted(code for kind, code, _ in found if kind == layer)


def test_a_point_in_taunton_is_in_three_districts_over_time(client):
    found, _ = areas(client, *TAUNTON, "2018-06-01", "lad")
    assert found == {("lad", "E07000190", "2014-as-at")}  # Taunton Deane
    found, _ = areas(client, *TAUNTON, "2020-06-01", "lad")
    assert found == {("lad", "E07000246", "2020")}  # Somerset West and Taunton
    found, body = areas(client, *TAUNTON, "2024-06-01", "lad")
    assert found == {("lad", "E06000066", "2024")}  # Somerset
    (area,) = body["areas"]
    assert area["name"] == "Somerset"
    assert area["type_name"] == "Local authority district"
    assert area["entity_type"] == "E06"
    assert area["uri"].endswith("/id/statistical-geography/E06000066")
    assert area["boundary"] == {
        "vintage": "2024",
        "generalisation": "BGC",
        "valid_from": "2024-04-01",
        "valid_to": "2025-03-31",
    }
    assert body["date"] == "2024-06-01"
    assert body["not_covered"] == []
    assert "Contains OS data © Crown copyright and database right 2025" in body["attribution"]


def test_every_layer_at_once_widest_first(client):
    _, body = areas(client, *TAUNTON, "2024-08-01")
    assert [(a["type"], a["code"]) for a in body["areas"]][:3] == [
        ("country", "E92000001"),
        ("region", "E12000009"),
        ("lad", "E06000066"),
    ]
    kinds = [a["type"] for a in body["areas"]]
    assert kinds == ["country", "region", "lad", "ward", "westminster-constituency"]
    # Taunton and Wellington, of the 2024 set (from the election of 4 July 2024).
    assert body["areas"][-1]["code"] == "E14001540"
    assert body["areas"][-1]["boundary"]["vintage"] == "2024-set"


def test_british_national_grid_gives_the_same_answer(client):
    body = get(
        client, f"/api/v1/point/27700/{TAUNTON_BNG[0]},{TAUNTON_BNG[1]}?date=2020-06-01&type=lad"
    ).json()
    assert [a["code"] for a in body["areas"]] == ["E07000246"]
    assert body["point"]["easting"] == TAUNTON_BNG[0]
    assert body["point"]["lon"] == pytest.approx(TAUNTON[0], abs=1e-4)
    assert body["point"]["lat"] == pytest.approx(TAUNTON[1], abs=1e-4)
    same = get(client, f"/api/v1/point/4326/{TAUNTON[0]},{TAUNTON[1]}?date=2020-06-01&type=lad")
    assert [a["code"] for a in same.json()["areas"]] == ["E07000246"]


def test_central_cardiff_is_in_cardiff_and_its_2025_ward(client):
    found, body = areas(client, *CARDIFF, "2025-06-01", "lad,ward")
    assert found == {("lad", "W06000015", "2025"), ("ward", "W05001274", "2025")}
    names = {a["code"]: a["name"] for a in body["areas"]}
    assert names == {"W06000015": "Cardiff", "W05001274": "Cathays"}


def test_a_point_at_sea_is_in_no_district(client):
    found, body = areas(client, *IRISH_SEA, "2025-06-01", "lad")
    assert found == set()
    assert body["count"] == 0
    assert body["areas"] == []
    assert body["not_covered"] == []  # there are districts that day, just none here
    assert body["detail"] == ("No area of the types asked for contains this point on 2025-06-01.")


@pytest.mark.parametrize("point, code", [(DALKEITH, "S14000045"), (STORNOWAY, "S14000027")])
def test_a_scottish_constituency_code_in_both_sets_gives_each_sets_boundary(client, point, code):
    found, _ = areas(client, *point, "2019-12-12", "westminster-constituency")
    assert found == {("westminster-constituency", code, "2010-set")}
    found, _ = areas(client, *point, "2024-07-04", "westminster-constituency")
    assert found == {("westminster-constituency", code, "2024-set")}
    rows = dict(Boundary.objects.filter(entry__key=code).values_list("vintage", "valid_to"))
    assert rows == {"2010-set": d("2024-07-03"), "2024-set": None}


def test_says_when_no_boundary_of_a_type_covers_the_date(client):
    found, body = areas(client, *CARDIFF, "2012-06-01", "ward,lad")
    assert found == set()
    assert [n["type"] for n in body["not_covered"]] == ["ward", "lad"]
    assert body["not_covered"][0]["detail"] == (
        "The registry holds no ward or electoral division boundaries for 2012-06-01."
    )


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/v1/point/abc,51", "coordinates"),
        ("/api/v1/point/-3.1", "coordinates"),
        ("/api/v1/point/-3.1,51.4,7", "coordinates"),
        ("/api/v1/point/nan,51", "coordinates"),
        ("/api/v1/point/1e999,51", "coordinates"),
        ("/api/v1/point/200,51", "coordinates"),
        ("/api/v1/point/-3.1,95", "coordinates"),
        ("/api/v1/point/27700/5000000,100", "coordinates"),
        ("/api/v1/point/-3.1,51.4?type=parish", "type"),
        ("/api/v1/point/-3.1,51.4?date=2018-02-31", "date"),
    ],
)
def test_a_malformed_request_is_a_400_naming_the_parameter(client, path, name):
    response = get(client, path, 400)
    assert response["Content-Type"] == "application/problem+json"
    assert [p["name"] for p in response.json()["invalid-params"]] == [name]


def post(client, body, status=200):
    response = client.post("/api/v1/point/", json.dumps(body), content_type="application/json")
    assert response.status_code == status, response.content[:500]
    return response.json()


def test_bulk_points_are_answered_in_order(client):
    body = post(
        client,
        {
            "date": "2020-06-01",
            "type": ["lad"],
            "points": [
                {"lon": TAUNTON[0], "lat": TAUNTON[1]},
                {"lon": IRISH_SEA[0], "lat": IRISH_SEA[1]},
                {"easting": TAUNTON_BNG[0], "northing": TAUNTON_BNG[1]},
                {"lon": CARDIFF[0], "lat": CARDIFF[1]},
            ],
        },
    )
    assert [[a["code"] for a in r["areas"]] for r in body["results"]] == [
        ["E07000246"],
        [],
        ["E07000246"],
        ["W06000015"],
    ]
    assert body["count"] == 4


def test_bulk_takes_at_most_1000_points_and_names_a_bad_one(client):
    problem = post(client, {"points": [{"lon": 0, "lat": 51}] * 1001}, 400)
    assert problem["invalid-params"][0]["name"] == "points"
    problem = post(client, {"points": [{"lon": 0, "lat": 51}, {"lon": 0, "lat": "x"}]}, 400)
    assert problem["invalid-params"][0]["name"] == "points[1].lat"
    problem = post(client, {"points": [{"x": 1}]}, 400)
    assert problem["invalid-params"][0]["name"] == "points[0]"
    assert len(post(client, {"points": [{"lon": -3.1, "lat": 51.0}] * 1000})["results"]) == 1000


@pytest.mark.parametrize("layer, count", [("lad", 361), ("ward", 8405)])
def test_every_2025_area_contains_its_own_label_point(layer, count, spatial_engine):
    """Over all of them: each label point, asked on the first day its 2025 boundary holds,
    is answered with the area itself, by the engine under test."""
    rows = list(
        Boundary.objects.filter(layer=layer, vintage="2025").values_list(
            "entry__key", "label_lon", "label_lat", "valid_from"
        )
    )
    assert len(rows) == count
    index = spatial_engine
    missing = []
    for on in sorted({r[3] for r in rows}):
        day = [r for r in rows if r[3] == on]
        found = index.containing_many([(r[1], r[2]) for r in day], on, [layer])
        missing += [
            r[0] for r, hits in zip(day, found, strict=True) if r[0] not in {h.code for h in hits}
        ]
    assert missing == []


@pytest.mark.parametrize(
    "path, name, post",
    [
        ("/api/v1/point/?date=2000-01-01", "Bulk Point", None),  # parses its own body
        ("/api/v1/lookup/", "Bulk Lookup", "items"),  # described by its serializer
    ],
)
def test_options_describes_a_bulk_endpoint_with_or_without_a_serializer(client, path, name, post):
    response = client.options(path, data="{}", content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    body = response.json()
    assert body["name"] == name
    assert (list(body.get("actions", {}).get("POST", {})) or [None])[0] == post
