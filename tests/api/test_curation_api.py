"""The write API: token authentication, the admin's permissions, the same validation and
versions as the admin."""

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
    terminated = api.post(f"{BASE}statistical-geography/E07000112/terminate/", {
        "date": "2027-04-01", "kind": "merge", "successors": ["E06000099"], "note": "Kent order",
        "instrument_id": "2026/123",
    }, format="json")  # fmt: skip
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


def test_a_broken_rule_is_a_400_with_the_message(api):
    response = api.put(f"{BASE}statistical-geography/E06000001/", {
        "note": "x", "states": [["2009-01-01", None, "live", "E07"]],
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
