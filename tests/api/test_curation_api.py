"""The write API: token authentication, the admin's permissions, the same validation and
versions as the admin."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry import queries
from registry.models import ChangeEvent
from tests.conftest import d

BASE = "/api/v1/curation/entries/"


@pytest.fixture
def curator(db):
    user = get_user_model().objects.create_user("bot", password="x-long-enough-pw")
    user.groups.add(Group.objects.get(name="curator"))
    return user


@pytest.fixture
def api(curator):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=curator).key}")
    return client


def test_add_a_welsh_name(api, area, curator):
    before = area("E06000001").version
    response = api.post(f"{BASE}statistical-geography/E06000001/names/",
                        {"text": "Hartlepwl", "language": "cy", "valid_from": "2009-01-01", "note": "Welsh form"}, format="json")  # fmt: skip
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["name_cy"] == "Hartlepwl"
    entry = area("E06000001")
    assert entry.version == before + 1
    version = entry.versions.get(number=entry.version)
    assert (version.user, version.reason) == (curator, "Welsh form")


def test_add_an_identifier_already_claimed_is_a_400_naming_the_clash(api):
    response = api.post(f"{BASE}statistical-geography/E06000001/identifiers/",
                        {"scheme": "ons-legacy", "value": "00CN", "valid_from": "2009-01-01", "note": "x"}, format="json")  # fmt: skip
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert (
        "The identifier ons-legacy 00CN is already used by statistical-geography/E08000025 from 2009-01-01."
        in str(response.json())
    )


def test_create_replace_and_terminate(api, area):
    created = api.post(BASE, {
        "register": "statistical-geography", "key": "E06000099", "note": "New unitary",
        "names": [["en", "official", "Kent Downs", "2027-04-01", None]],
        "states": [["2027-04-01", None, "live", "E06"]],
        "relations": [["parent", "region", "statistical-geography/E12000008", "2027-04-01", None]],
    }, format="json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert created.json()["uri"].endswith("/id/statistical-geography/E06000099")
    again = api.post(BASE, {"register": "statistical-geography", "key": "E06000099", "note": "x",
                            "states": [["2027-04-01", None, "live", "E06"]]}, format="json")  # fmt: skip
    assert again.status_code == 409
    terminate = {"date": "2027-04-01", "kind": "merge", "successors": ["E06000099"],
                 "note": "Kent order", "instrument_id": "2026/123"}  # fmt: skip
    # A replacing write must say which version it starts from.
    unsure = api.post(f"{BASE}statistical-geography/E07000112/terminate/", terminate, format="json")
    assert unsure.status_code == 428
    assert unsure["Content-Type"] == "application/problem+json"
    tag = api.get(f"{BASE}statistical-geography/E07000112/")["ETag"]
    terminated = api.post(f"{BASE}statistical-geography/E07000112/terminate/", terminate,
                          format="json", HTTP_IF_MATCH=tag)  # fmt: skip
    assert terminated.status_code == 200, terminated.content
    assert ChangeEvent.objects.get(key="2027-04-01-E06000099").instrument_id == "2026/123"
    [successor] = queries.current_codes(area("E07000112"), d("2027-06-01"))
    assert successor.entry.key == "E06000099"


def test_replace_from_a_stale_version_is_a_409(api, area):
    entry = area("E06000001")
    body = {"note": "x", "expected_version": entry.version - 1,
            "states": [["2009-01-01", None, "live", "E06"]]}  # fmt: skip
    response = api.put(f"{BASE}statistical-geography/E06000001/", body, format="json")
    assert response.status_code == 409
    assert "after you opened it" in response.json()["detail"]


def test_a_broken_rule_is_a_400_with_the_message(api, area):
    response = api.put(f"{BASE}statistical-geography/E06000001/", {
        "note": "x", "states": [["2009-01-01", None, "live", "E07"]],
        "expected_version": area("E06000001").version,
    }, format="json")  # fmt: skip
    assert response.status_code == 400
    assert (
        "The code E06000001 does not match its entity type E07: codes of that type start with E07."
        in str(response.json())
    )


def test_unknown_entry_is_a_404(api):
    response = api.post(
        f"{BASE}statistical-geography/E06999999/names/", {"text": "X", "note": "x"}, format="json"
    )
    assert response.status_code == 404


def test_malformed_body_is_a_400(api):
    response = api.post(
        f"{BASE}statistical-geography/E06000001/names/", {"language": "fr"}, format="json"
    )
    assert response.status_code == 400
    body = str(response.json())
    assert "text" in body and "note" in body and "language" in body


@pytest.mark.parametrize(
    "field, rows, message",
    [
        # Rows of the wrong shape or with values that are not text, as Schemathesis sent them:
        # each was a 500 in the reference or identifier look-ups that run before validation.
        ("relations", [[{"a": None}], [{"": [1.0, False]}, -1.2e16, [], {"": 1}]],
         "relations row 1 must have 5 values"),
        ("relations", [[1, 2, 3, 4, 5]], "relations row 1: kind must be text"),
        ("identifiers", [[{"a": 1}, {"b": 2}, None, None]], "identifiers row 1: scheme must be text"),
        ("states", [[1, 2, 3, 4]], "states row 1: valid_from must be text"),
    ],
)  # fmt: skip
def test_rows_of_the_wrong_shape_or_kind_are_a_400_naming_the_row(api, field, rows, message):
    body = {"register": "statistical-geography", "key": "E06009999", "note": "fuzz", field: rows}
    response = api.post(f"{BASE}", body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert message in response.json()["detail"]


def test_get_answers_the_current_content_with_its_version_as_etag(area):
    entry = area("E06000001")
    response = APIClient().get(f"{BASE}statistical-geography/E06000001/")
    assert response.status_code == 200
    assert response["ETag"] == f'"v{entry.version}"'
    body = response.json()
    assert (body["register"], body["key"], body["version"]) == (
        "statistical-geography", "E06000001", entry.version,
    )  # fmt: skip
    assert ["en", "official", "Hartlepool", "2009-01-01", None] in body["names"]
    assert set(body) == {"register", "key", "version", "names", "identifiers", "states",
                         "relations", "attributes"}  # fmt: skip


def test_a_put_with_if_match_saves_and_a_stale_one_is_a_412_that_changes_nothing(api, area):
    url = f"{BASE}statistical-geography/E06000001/"
    current = api.get(url)
    content = {k: current.json()[k] for k in ("names", "identifiers", "states", "relations")}
    mine = {**content, "names": [*content["names"], ["en", "alternative", "Hartlepool B.C.", None, None]],
            "note": "first"}  # fmt: skip
    saved = api.put(url, mine, format="json", HTTP_IF_MATCH=current["ETag"])
    assert saved.status_code == 200, saved.content
    assert saved["ETag"] == f'"v{current.json()["version"] + 1}"'
    # A second curator who read the same version: refused, and the first edit stays.
    theirs = {**content, "names": [*content["names"], ["en", "alternative", "Hartlepool Town", None, None]],
              "note": "second"}  # fmt: skip
    stale = api.put(url, theirs, format="json", HTTP_IF_MATCH=current["ETag"])
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    assert "GET it again" in stale.json()["detail"]
    names = [row[2] for row in api.get(url).json()["names"]]
    assert "Hartlepool B.C." in names and "Hartlepool Town" not in names
    assert area("E06000001").version == current.json()["version"] + 1


def test_a_put_without_a_version_is_a_428_and_changes_nothing(api, area):
    before = area("E06000001").version
    response = api.put(f"{BASE}statistical-geography/E06000001/", {
        "note": "x", "states": [["2009-01-01", None, "live", "E06"]],
    }, format="json")  # fmt: skip
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert area("E06000001").version == before


def test_if_match_and_expected_version_must_agree(api, area):
    entry = area("E06000001")
    response = api.put(f"{BASE}statistical-geography/E06000001/", {
        "note": "x", "states": [["2009-01-01", None, "live", "E06"]],
        "expected_version": entry.version - 1,
    }, format="json", HTTP_IF_MATCH=f'"v{entry.version}"')  # fmt: skip
    assert response.status_code == 400
    assert response.json()["invalid-params"][0]["name"] == "expected_version"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["en", "official", "x" * 400, None, None], "text is 400 characters long; at most 300."),
        (["en", "official", "Hart\u0007pool", None, None], "text contains a control character (U+0007)."),
    ],
)  # fmt: skip
def test_rows_too_long_or_unstorable_are_a_400_on_every_database(api, area, row, reason):
    entry = area("E06000001")
    current = api.get(f"{BASE}statistical-geography/E06000001/").json()
    body = {**{k: current[k] for k in ("identifiers", "states", "relations")},
            "names": [*current["names"], row], "note": "x", "expected_version": entry.version}  # fmt: skip
    response = api.put(f"{BASE}statistical-geography/E06000001/", body, format="json")
    assert response.status_code == 400, response.content
    assert reason in response.json()["detail"]
    assert area("E06000001").version == entry.version


def test_a_body_over_the_upload_limit_is_a_413_problem(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(f"{BASE}statistical-geography/E06000001/names/",
                        {"text": "x", "note": "y" * 2000}, format="json")  # fmt: skip
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The body is larger than 1,000 bytes."


def test_a_name_row_of_lists_and_objects_is_a_400(api):
    """Found by Schemathesis on PostgreSQL: a name row whose values are a list, an object and a
    number, beside keys of lone surrogates, was a 500."""
    body = {
        "\u00be\u008d\u0005\udbda\ude1e": {"!\u00b2P": {}, "\u000b\u00d4US": True},
        "key": "E99999991",
        "note": "\u0087",
        "register": "statistical-geography",
        "names": [[[], {}, 9907, {"\u00a8": False}, {"\u00ec'^z\u0018": []}]],
    }
    raw = json.dumps(body)  # lone surrogates as \ud... escapes, as the fuzzer sent them
    response = api.post("/api/v1/curation/entries/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
