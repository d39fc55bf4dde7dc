"""Reconciliation's ``point`` property (alias ``location``) on the real boundaries: a candidate
whose boundary on the query's date covers the point is confirmed, one whose boundary does not
is vetoed, one with no boundary that day is left as it is; a malformed point fails its query.
"""

import json
from urllib.parse import urlencode

import pytest

from api.reconcile import index, properties

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
# Latitude first, as the property reads a pair.
TAUNTON = "51.0152,-3.1035"  # the town centre
CARDIFF = "51.4816,-3.1791"  # by the castle
NEWCASTLE_UNDER_LYME = "53.0109,-2.2278"  # the town centre
LAD = "local-authority-district"


@pytest.fixture(autouse=True)
def no_background_build(monkeypatch):
    monkeypatch.setattr(index, "warm", lambda: None)


def reconcile(client, query, type_=None, **props):
    body = {"query": query, "properties": [{"pid": k, "v": v} for k, v in props.items()]}
    if type_:
        body["type"] = type_
    response = client.post(
        "/reconcile", urlencode({"queries": json.dumps({"q0": body})}), content_type=FORM
    )
    assert response.status_code == 200, response.content[:300]
    return response.json()["q0"]


def feature(candidate, name):
    return next((f["value"] for f in candidate["features"] if f["id"] == name), None)


@pytest.mark.parametrize(
    ("value", "point"),
    [
        ("51.0152,-3.1035", (-3.1035, 51.0152)),
        (" 51.0152 , -3.1035 ", (-3.1035, 51.0152)),
        ("51.0152;-3.1035", (-3.1035, 51.0152)),
        ("POINT(-3.1035 51.0152)", (-3.1035, 51.0152)),
        ("point ( -3.1035   51.0152 )", (-3.1035, 51.0152)),
        ("SRID=4326;POINT(-3.1035 51.0152)", (-3.1035, 51.0152)),
        ({"lat": 51.0152, "lon": -3.1035}, (-3.1035, 51.0152)),
        ({"lat": "51.0152", "lng": "-3.1035"}, (-3.1035, 51.0152)),
        ("-33.8688,151.2093", (151.2093, -33.8688)),  # Sydney: valid, far from any area
    ],
)
def test_parse_point_reads_latitude_first_or_wkt(value, point):
    assert properties.parse_point(value) == point


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "somewhere",
            "point 'somewhere' is not 'latitude,longitude' (such as '51.4816,-3.1791') "
            "nor 'POINT(longitude latitude)'",
        ),
        (
            "POINT(-3.1)",
            "point 'POINT(-3.1)' is not 'latitude,longitude' (such as '51.4816,-3.1791') "
            "nor 'POINT(longitude latitude)'",
        ),
        (
            "-3.1791,51.4816",
            "point '-3.1791,51.4816' reads as latitude -3.1791, longitude 51.4816, outside the "
            "UK: write latitude first ('51.4816,-3.1791') or 'POINT(-3.1791 51.4816)'",
        ),
        ("95,-3.1", "point '95,-3.1': latitude must be between -90 and 90; got 95."),
        ("1e999,0", "point '1e999,0': must be finite numbers"),
        (12, "a point must be text such as '51.4816,-3.1791'; got '12'"),
    ],
)
def test_parse_point_refuses_what_it_cannot_read(value, message):
    with pytest.raises(properties.BadValue) as raised:
        properties.parse_point(value)
    assert str(raised.value) == message


def test_a_point_in_taunton_confirms_taunton_deane_as_at_2018(client):
    result = reconcile(client, "Taunton Deane", LAD, date="2018-06-01", point=TAUNTON)["result"]
    top = result[0]
    assert (top["id"], top["match"]) == ("E07000190", True)
    assert feature(top, "properties_confirmed") == 1
    assert feature(top, "properties_vetoed") == 0


def test_the_wkt_form_and_the_location_alias_do_the_same(client):
    top = reconcile(
        client, "Taunton Deane", LAD, date="2018-06-01", location="POINT(-3.1035 51.0152)"
    )["result"][0]
    assert (top["id"], top["match"], feature(top, "properties_confirmed")) == (
        "E07000190",
        True,
        1,
    )


def test_newcastle_with_a_point_in_newcastle_under_lyme_is_that_district(client):
    plain = reconcile(client, "Newcastle", "local-authority-district")["result"]
    assert plain[0]["match"] is False
    result = reconcile(client, "Newcastle", "local-authority-district", point=NEWCASTLE_UNDER_LYME)[
        "result"
    ]
    top = result[0]
    assert (top["id"], top["match"]) == ("E07000195", True)
    tyne = next(c for c in result if c["id"] == "E08000021")  # Newcastle upon Tyne
    assert feature(tyne, "properties_vetoed") == 1
    assert tyne["score"] < top["score"]


def test_a_typo_is_matched_when_a_point_confirms_it(client):
    # A whole register as the type: a similar name is matched only when a property confirms
    # it. ("Tauntn Deane" would not do: the constituency Taunton Deane covers the point too.)
    plain = reconcile(client, "Cathyas", "statistical-geography", date="2025-06-01")["result"]
    assert (plain[0]["id"], plain[0]["match"]) == ("W05001274", False)  # Cathays, Cardiff
    top = reconcile(client, "Cathyas", "statistical-geography", date="2025-06-01", point=CARDIFF)[
        "result"
    ][0]
    assert (top["id"], top["match"]) == ("W05001274", True)
    assert feature(top, "typing_slips") == 1
    assert feature(top, "properties_confirmed") == 1


def test_a_point_outside_the_boundary_vetoes_the_candidate(client):
    plain = reconcile(client, "Taunton Deane", LAD, date="2018-06-01")["result"][0]
    assert (plain["id"], plain["match"]) == ("E07000190", True)
    top = reconcile(client, "Taunton Deane", LAD, date="2018-06-01", point=CARDIFF)["result"]
    deane = next(c for c in top if c["id"] == "E07000190")
    assert deane["match"] is False
    assert feature(deane, "properties_vetoed") == 1
    assert deane["score"] == pytest.approx(plain["score"] - 40, abs=1.5)


def test_a_candidate_with_no_boundary_on_the_date_is_left_as_it_is(client):
    # No district boundaries before 2014: the point in Cardiff neither confirms nor vetoes.
    with_point = reconcile(client, "Hartlepool", "E06", date="2012-06-01", point=CARDIFF)
    without = reconcile(client, "Hartlepool", "E06", date="2012-06-01")
    top = with_point["result"][0]
    assert (top["id"], top["match"]) == ("E06000001", True)
    assert top == without["result"][0]


def test_cardiff_today_is_confirmed_by_its_current_boundary(client):
    top = reconcile(client, "Cardiff", "W06", point=CARDIFF)["result"][0]
    assert (top["id"], top["match"], feature(top, "properties_confirmed")) == (
        "W06000015",
        True,
        1,
    )


def test_a_malformed_point_fails_its_query_only(client):
    batch = {
        "bad": {"query": "Taunton Deane", "properties": [{"pid": "point", "v": "nowhere"}]},
        "swapped": {"query": "Cardiff", "properties": [{"pid": "location", "v": "-3.18,51.48"}]},
        "good": {"query": "Cardiff", "type": "W06", "properties": [{"pid": "point", "v": CARDIFF}]},
    }
    response = client.post(
        "/reconcile", urlencode({"queries": json.dumps(batch)}), content_type=FORM
    )
    assert response.status_code == 200
    body = response.json()
    assert body["bad"] == {
        "result": [],
        "error": "point 'nowhere' is not 'latitude,longitude' (such as '51.4816,-3.1791') "
        "nor 'POINT(longitude latitude)'",
    }
    assert body["swapped"] == {
        "result": [],
        "error": "point '-3.18,51.48' reads as latitude -3.18, longitude 51.48, outside the "
        "UK: write latitude first ('51.4816,-3.1791') or 'POINT(-3.1791 51.4816)'",
    }
    assert body["good"]["result"][0]["id"] == "W06000015"


def test_the_1_0_draft_takes_the_point_as_a_property_condition(client):
    queries = [
        {
            "conditions": [
                {"matchType": "name", "propertyValue": "Newcastle"},
                {
                    "matchType": "property",
                    "propertyId": "location",
                    "propertyValue": NEWCASTLE_UNDER_LYME,
                },
            ],
            "type": "local-authority-district",
        },
        {
            "conditions": [
                {"matchType": "name", "propertyValue": "Newcastle"},
                {"matchType": "property", "propertyId": "point", "propertyValue": "91,0"},
            ]
        },
    ]
    response = client.post(
        "/reconcile/v1/match", json.dumps({"queries": queries}), content_type="application/json"
    )
    assert response.status_code == 200
    results = response.json()["results"]
    top = results[0]["candidates"][0]
    assert (top["id"], top["match"]) == ("E07000195", True)
    assert results[1] == {
        "candidates": [],
        "error": "point '91,0': latitude must be between -90 and 90; got 91.",
    }


def test_suggest_property_offers_the_point(client):
    body = client.get("/reconcile/suggest/property", {"prefix": "poi"}).json()
    assert body["result"][0]["id"] == "point"
    assert body["result"][0]["name"] == "Point (latitude,longitude)"
    body = client.get("/reconcile/v1/suggest/property", {"prefix": "point"}).json()
    assert [p["id"] for p in body["result"]][:1] == ["point"]
