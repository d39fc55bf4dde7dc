"""Crafted input a hostile or careless client sends: never a 500, on either database. A
body that cannot be read is a 400 saying why; one odd cell of a reconciliation batch does
not cost the others their answers."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api import http
from registry import exports
from registry.models import Register
from registry.services import Actor, current_snapshot, save_entry

DEEP = '{"items":' + "[" * 10_000 + "]" * 10_000 + "}"
SURROGATE = '{"items":["\\ud800"]}'  # JSON text: json accepts it, UTF-8 cannot encode it


@pytest.mark.parametrize(
    ("text", "neutralise", "expected"),
    [
        ('{"a": ["b", 1, null]}', False, {"a": ["b", 1, None]}),
        ('"\\u00e9"', False, "é"),
        ('"a\\u0000b"', True, "ab"),
        ('{"q\\ud800": "x\\udfffy"}', True, {"q": "xy"}),
        ("[" * 32 + "]" * 32, False, json.loads("[" * 32 + "]" * 32)),  # the deepest allowed
    ],
)
def test_loads_reads_or_neutralises(text, neutralise, expected):
    assert http.loads(text, neutralise=neutralise) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not valid JSON"),
        ('"a\\u0000b"', "NUL character"),
        ('["\\ud800"]', "lone surrogate"),
        ('{"\\udc00": 1}', "lone surrogate"),
        ("[" * 33 + "]" * 33, "nested more than 32 levels"),
        (DEEP, "nested more than 32 levels"),
    ],
)
def test_loads_refuses_with_the_reason(text, problem):
    with pytest.raises(http.BadJSON, match=problem):
        http.loads(text)


@pytest.mark.django_db
def test_one_odd_cell_does_not_fail_a_reconciliation_batch(client):
    cells = ["Leeds", "-", "'", "!!!", "\u200b", "\x00", "\ud800"]
    queries = ",".join(
        f'"q{i}":{{"query":{json.dumps(cell)}}}' for i, cell in enumerate(cells)
    )  # json.dumps writes the lone surrogate as the escape "\ud800"
    response = client.post("/reconcile", {"queries": "{" + queries + "}"})
    assert response.status_code == 200
    answer = response.json()
    assert answer["q0"]["result"][0]["id"] == "E08000035"
    assert [answer[f"q{i}"]["result"] for i in range(1, len(cells))] == [[]] * (len(cells) - 1)


@pytest.mark.django_db
def test_an_extension_of_an_unreadable_id_is_answered(client):
    extend = '{"ids":["\\ud800","E08000035"],"properties":[{"id":"name"}]}'
    response = client.post("/reconcile", {"extend": extend})
    assert response.status_code == 200
    assert response.json()["rows"]["E08000035"]["name"] == [{"str": "Leeds"}]


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "problem"), [(SURROGATE, "lone surrogate"), (DEEP, "nested")])
def test_an_unreadable_lookup_body_is_a_400_problem(client, body, problem):
    response = client.post("/api/v1/lookup/", body, content_type="application/json")
    assert (response.status_code, response["Content-Type"]) == (400, "application/problem+json")
    assert problem in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "problem"), [(SURROGATE, "lone surrogate"), (DEEP, "nested")])
def test_an_unreadable_curation_body_is_a_400_and_changes_nothing(area, body, problem):
    curator = get_user_model().objects.create_user("hostile", password="x-long-enough-pw")
    curator.groups.add(Group.objects.get(name="curator"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=curator).key}")
    before = area("E06000001").version
    response = api.put(
        "/api/v1/curation/entries/statistical-geography/E06000001/",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert problem in json.dumps(response.json())
    assert area("E06000001").version == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/search?q=%00", "/search.json?q=a%00b", "/doc/statistical-geography?type=%00",
     "/doc/statistical-geography?parent=%00", "/doc/statistical-geography.csv?parent=%00"],
)  # fmt: skip
def test_a_nul_in_a_query_parameter_is_a_400(client, path):
    assert client.get(path).status_code == 400


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=HYPERLINK(\"http://evil.example\",\"Click\")", "'=HYPERLINK(\"http://evil.example\",\"Click\")"),
        ("+44 1234", "'+44 1234"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-cmd", "'-cmd"),
        ("\t=1", "'\t=1"),
        ("-5", "-5"),
        ("+1.5e3", "+1.5e3"),
        ("Hartlepool", "Hartlepool"),
        ("", ""),
        (None, None),
        (3, 3),
    ],
)  # fmt: skip
def test_spreadsheet_safe(value, safe):
    assert exports.spreadsheet_safe(value) == safe


@pytest.mark.django_db
def test_a_formula_stored_as_a_name_reaches_every_csv_as_text(area, client):
    areas = Register.objects.get(slug="statistical-geography")
    snapshot = current_snapshot(area("E06000001"))
    evil = '=HYPERLINK("http://evil.example","Click")'
    snapshot["names"].append(["cy", "official", evil, "2009-01-01", None])  # name_cy
    curator = get_user_model().objects.create_user("mallory", password="x-long-enough-pw")
    save_entry(areas, "E06000001", snapshot, Actor(user=curator, reason="Testing CSV cells"))
    document = client.get("/doc/statistical-geography/E06000001.csv").content.decode()
    assert "'=HYPERLINK" in document and ",=HYPERLINK" not in document
    checked = client.post(
        "/api/v1/check/?column=code", "code,note\nE06000001,=1+2\n", content_type="text/csv"
    )
    rows = b"".join(checked.streaming_content).decode().splitlines()
    assert rows[1].startswith("E06000001,'=1+2,")


# ----------------------------------------------------------------- contract gaps (issue 11)


def test_an_empty_date_in_the_api_is_a_400_but_on_a_page_means_today(db, client):
    response = client.get("/api/v1/entries/statistical-geography/E07000004/?date=")
    assert response.status_code == 400
    assert response.json()["invalid-params"] == [
        {"name": "date", "reason": "'' is not a date in the form YYYY-MM-DD."}
    ]
    # A page's date field left empty submits date=: the page as at today.
    assert client.get("/doc/statistical-geography/E07000004?date=").status_code == 200


def test_over_a_thousand_bulk_items_is_a_400_naming_the_field(db, client):
    body = json.dumps({"items": ["E07000004"] * 1001})
    response = client.post("/api/v1/lookup/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["invalid-params"] == [
        {"name": "items", "reason": "has 1,001 items; a bulk lookup takes at most 1,000."}
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/entries/statistical-geography/\u0415\u004f6000001/",  # Cyrillic Е
        "/api/v1/entries/statistical-geography/\uff25\uff10\uff16000001/",  # full-width Ｅ０６
        "/api/v1/entries/statistical-geography/\u0415\u004f6000001/children/",
        "/api/v1/entity-types/\u0415\u004f6/",
        "/api/v1/curation/entries/statistical-geography/\u0415\u004f6000001/",
    ],
)
def test_a_key_no_register_could_hold_is_a_400(db, client, path):
    response = client.get(path)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    [param] = response.json()["invalid-params"]
    assert param["name"] == "key"
    assert "characters no key can have" in param["reason"]


def test_the_openapi_document_gives_the_pattern_of_path_keys(db, client):
    document = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    parameters = document["paths"]["/api/v1/entries/{register}/{key}/"]["get"]["parameters"]
    patterns = {p["name"]: p["schema"].get("pattern") for p in parameters if p["in"] == "path"}
    assert patterns == {"register": http.SLUG_PATTERN, "key": http.KEY_PATTERN}
    assert "/api/v1/curation/entries/{register}/{key}/" in document["paths"]


def test_a_login_lands_on_the_admin_whatever_next_says(db, client):
    user = get_user_model().objects.create_user("lena", password="x-long-enough-pw")
    user.groups.add(Group.objects.get(name="curator"))
    user.is_staff = True
    user.save()
    response = client.post(
        "/admin/login/?next=https://evil.example/",
        {"username": "lena", "password": "x-long-enough-pw", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_abandoned_change_import_uploads_are_deleted(settings, tmp_path):
    import os
    import time

    from geography.admin_views import UPLOAD_MAX_AGE_SECONDS, prune_uploads

    settings.REGISTRY_UPLOAD_DIR = tmp_path
    old, fresh = tmp_path / "old.csv", tmp_path / "fresh.csv"
    for path in (old, fresh):
        path.write_text("x")
    day_ago = time.time() - UPLOAD_MAX_AGE_SECONDS - 60
    os.utime(old, (day_ago, day_ago))
    assert prune_uploads() == ["old.csv"]
    assert not old.exists() and fresh.exists()
