"""The code checker's point option: a CSV with latitude/longitude or easting/northing columns
gets the codes of the areas containing each row's point, as at the date (``geography.spatial``
over the real boundaries)."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.asserts import assertInHTML

pytestmark = pytest.mark.django_db

URL = "/api/v1/check/"


def check(client, query, text):
    response = client.post(f"{URL}{query}", text.encode(), content_type="text/csv")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_points_alone_get_their_district_and_ward_and_a_note_when_there_is_none(client):
    rows = check(
        client,
        "?points=yes&date=2025-06-01",
        "place,Latitude,Longitude\n"
        "Cardiff castle,51.4816,-3.1791\n"
        "Irish Sea,53.9,-4.0\n"
        "typo,abc,-3.1\n"
        "too far north,95,-3.1\n"
        "empty,,\n",
    )
    assert rows == [
        ["place", "Latitude", "Longitude", "registry_lad", "registry_ward", "registry_point_note"],
        ["Cardiff castle", "51.4816", "-3.1791", "W06000015", "W05001274", ""],
        [
            "Irish Sea",
            "53.9",
            "-4.0",
            "",
            "",
            "no local authority district contains the point on 2025-06-01; "
            "no ward or electoral division contains the point on 2025-06-01",
        ],
        ["typo", "abc", "-3.1", "", "", "bad-point: latitude 'abc' is not a number"],
        [
            "too far north",
            "95",
            "-3.1",
            "",
            "",
            "bad-point: latitude must be between -90 and 90; got 95.",
        ],
        ["empty", "", "", "", "", "bad-point: no latitude"],
    ]


def test_codes_and_points_together_each_row_as_at_its_date(client):
    rows = check(
        client,
        "?column=code&date_column=when&point_types=lad,ward",
        "code,when,lat,lng\n"
        "E07000190,2018-06-01,51.0152,-3.1035\n"
        "E06000066,2024-06-01,51.0152,-3.1035\n"
        "E06000066,someday,51.0152,-3.1035\n",
    )
    header, taunton_2018, taunton_2024, bad_date = rows
    assert header[4:] == [
        "registry_code",
        "registry_name",
        "registry_entity_type",
        "registry_status",
        "registry_current_codes",
        "registry_uri",
        "registry_note",
        "registry_lad",
        "registry_ward",
        "registry_point_note",
    ]
    assert taunton_2018[4:8] == ["E07000190", "Taunton Deane", "E07", "live"]
    assert taunton_2018[-3:] == [
        "E07000190",
        "",
        "no ward or electoral division boundaries for 2018-06-01",
    ]
    # The ward is the one the point API gives for the same point and day.
    api = client.get("/api/v1/point/-3.1035,51.0152?date=2024-06-01&type=ward").json()
    assert taunton_2024[4] == "E06000066"
    assert taunton_2024[-3:] == ["E06000066", api["areas"][0]["code"], ""]
    note = "bad-date: 'someday' is not a date (YYYY-MM-DD or DD/MM/YYYY)"
    assert bad_date[-4:] == [note, "", "", note]


def test_named_coordinate_columns_and_british_national_grid(client):
    rows = check(
        client,
        "?easting_column=E&northing_column=N&point_types=lad&date=2020-06-01",
        "site,E,N\nTaunton,322688,124560\nOff the grid,322688,9999999\n",
    )
    assert rows == [
        ["site", "E", "N", "registry_lad", "registry_point_note"],
        ["Taunton", "322688", "124560", "E07000246", ""],  # Somerset West and Taunton
        [
            "Off the grid",
            "322688",
            "9999999",
            "",
            "bad-point: northing must be between -100000 and 1400000 metres; got 1e+07.",
        ],
    ]
    rows = check(
        client,
        "?lat_column=y&lon_column=x&point_types=lad&date=2018-06-01",
        "x,y\n-3.1035,51.0152\n",
    )
    assert rows[1] == ["-3.1035", "51.0152", "E07000190", ""]  # Taunton Deane


@pytest.mark.parametrize(
    ("query", "text", "parameter", "reason"),
    [
        (
            "?points=yes",
            "name,x,y\nTaunton,1,2\n",
            "lat_column",
            "the file has no latitude and longitude columns (lat or latitude, and lon, lng or "
            "longitude) nor easting and northing columns; its columns are 'name', 'x', 'y' (or "
            "name them with lat_column and lon_column, or easting_column and northing_column).",
        ),
        (
            "?lat_column=y",
            "x,y\n1,2\n",
            "lon_column",
            "name the lon column too (with lat_column and lon_column).",
        ),
        (
            "?point_types=lad,parish",
            "lat,lon\n51,-3\n",
            "point_types",
            "must be one or more of country, region, combined-authority, county, "
            "metropolitan-county, lad, ward, westminster-constituency; got 'parish'.",
        ),
        ("?points=maybe", "lat,lon\n51,-3\n", "points", "must be yes or no; got 'maybe'."),
        (
            "",
            "lat,lon\n51,-3\n",
            "column",
            "name the column that holds the codes or names (or ask for the areas containing "
            "each row's point with points=yes).",
        ),
    ],
)
def test_bad_point_options_are_problems_naming_the_parameter(
    client, query, text, parameter, reason
):
    response = client.post(f"{URL}{query}", text, content_type="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["invalid-params"] == [{"name": parameter, "reason": reason}]


def test_the_form_looks_up_points_and_says_what_it_found(client):
    page = client.get(URL).content.decode()
    assertInHTML(
        '<input type="checkbox" id="point-type-ward" name="point_types" value="ward" checked>',
        page,
    )
    assertInHTML('<input type="checkbox" id="points" name="points" value="yes">', page)
    upload = SimpleUploadedFile(
        "sites.csv", b"site,lat,lon\nCardiff,51.4816,-3.1791\nSea,53.9,-4.0\n", "text/csv"
    )
    response = client.post(
        URL,
        {
            "file": upload,
            "points": "yes",
            "point_types": ["lad"],
            "date": "2025-06-01",
            "via": "form",
        },
    )
    assert response.status_code == 200, response.content[:2000]
    html = response.content.decode()
    assertInHTML(
        """<div><dt>Points</dt><dd>1 in an area of every kind asked for, 1 not, 0 with a bad
        or missing coordinate or date<ul><li>no local authority district contains the point on
        2025-06-01 (first in the row <q>Sea, 53.9, -4.0</q>)</li></ul></dd></div>""",
        html,
    )
    assertInHTML(
        "<tr><td>Cardiff</td><td>51.4816</td><td>-3.1791</td><td>W06000015</td><td></td></tr>",
        html,
    )
    assert "matched an area" not in html


def test_the_forms_ticked_layers_alone_ask_for_no_points(client):
    # A browser sends the layer checkboxes as they are ticked by default, points or not.
    upload = SimpleUploadedFile("areas.csv", b"code\nE07000004\n", "text/csv")
    response = client.post(
        URL,
        {
            "file": upload,
            "column": "code",
            "point_types": ["lad", "ward"],
            "date": "2024-01-01",
            "via": "form",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "registry_point_note" not in html.split("<thead>")[1].split("</thead>")[0]
    assert "<dt>Points</dt>" not in html
