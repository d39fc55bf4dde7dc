"""The lookup API's HTTP behaviour: RFC 9457 problems for every error, CORS, caching
validators and 304s, and per-client rate limits."""

import time

import pytest
from django.core.cache import caches
from django.utils.http import http_date

from geography.hierarchies import ALLOWED_PARENTS
from registry.models import Entry, Version

pytestmark = pytest.mark.django_db

API = "/api/v1"
SG = f"{API}/entries/statistical-geography"


@pytest.mark.parametrize(
    ("url", "status", "parameter", "reason"),
    [
        (f"{SG}/E07000004/?date=2019-02-30", 400, "date", "'2019-02-30' is not a valid calendar date."),
        (f"{SG}/E07000004/?date=yesterday", 400, "date", "'yesterday' is not a date in the form YYYY-MM-DD."),
        (f"{SG}/E07000004/?date=2019-1-1", 400, "date", "'2019-1-1' is not a date in the form YYYY-MM-DD."),
        (f"{SG}/E0700004/", 400, "key", "'E0700004' is not a key of statistical-geography (keys match ^[EWSNKLMJ]\\d{8}$)."),
        (f"{SG}/?status=dormant", 400, "status", "Select a valid choice. dormant is not one of the available choices."),
        (f"{SG}/?entity_type=E07,Z99", 400, "entity_type", "there is no entity type 'Z99'."),
        (f"{SG}/?parent=E99999999", 400, "parent", "there is no entry with the key 'E99999999'."),
        (f"{SG}/?valid_on=soon", 400, "valid_on", "Enter a valid date."),
        (f"{SG}/?changed_after=2020-13-01", 400, "changed_after", "Enter a valid date."),
        (f"{SG}/?ordering=name", 400, "ordering", "must be `key` or `-key`."),
        (f"{SG}/?page_size=0", 400, "page_size", "must be a whole number from 1 to 1000."),
        (f"{SG}/?page_size=5000", 400, "page_size", "must be a whole number from 1 to 1000."),
        (f"{SG}/?cursor=nonsense", 400, "cursor", "is not a cursor this API issued."),
        (f"{SG}/?name=a%00b", 400, "name", "Null characters are not allowed."),
        (f"{SG}/E06000060/children/?hierarchy=galaxy", 400, "hierarchy",
         f"there is no hierarchy 'galaxy' (known: {', '.join(sorted(ALLOWED_PARENTS))})."),
        (f"{API}/events/?kind=explosion", 400, "kind", "Select a valid choice. explosion is not one of the available choices."),
    ],
)  # fmt: skip
def test_bad_parameters_are_400_problems_naming_the_parameter(
    client, url, status, parameter, reason
):
    response = client.get(url)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert problem["title"] == "Bad request"
    assert problem["type"].endswith("/def/problems/bad-parameter")
    assert problem["invalid-params"] == [{"name": parameter, "reason": reason}]
    assert problem["detail"] == f"{parameter}: {reason}"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (f"{SG}/E07999999/", "There is no entry 'E07999999' in statistical-geography."),
        (f"{API}/entries/no-such-register/", "There is no register 'no-such-register'."),
        (f"{API}/entries/local-authority/ZZZ/", "There is no entry 'ZZZ' in local-authority."),
        (f"{API}/entity-types/E99/", "There is no entry 'E99' in statistical-entity."),
        (
            f"{API}/identifiers/ons-legacy/99ZZ/",
            "No entry has the identifier '99ZZ' in ons-legacy.",
        ),
        (f"{API}/identifiers/no-scheme/1/", "There is no identifier scheme 'no-scheme'."),
        (f"{API}/events/1999-01-01-X/", "There is no change event '1999-01-01-X'."),
        (
            f"{API}/nowhere/at/all/",
            "There is nothing at '/api/v1/nowhere/at/all/' in the lookup API.",
        ),
    ],
)
def test_unknown_things_are_404_problems(client, url, detail):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": response.json()["type"],
        "title": "Not found",
        "status": 404,
        "detail": detail,
        "instance": url,
    }
    assert response.json()["type"].endswith("/def/problems/not-found")


def test_wrong_method_is_a_405_problem(client):
    response = client.delete(f"{SG}/E07000004/")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"


def test_cors_preflight_and_headers(client):
    response = client.options(
        f"{API}/lookup/",
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]
    get = client.get(f"{SG}/E07000004/", HTTP_ORIGIN="https://example.org")
    assert get["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in get["Access-Control-Expose-Headers"]


def test_etag_and_last_modified_give_304s(client, settings):
    settings.REGISTRY_API_CACHE_SECONDS = 600
    url = f"{SG}/E07000004/?date=2019-01-01"
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=600"
    etag, modified = first["ETag"], first["Last-Modified"]
    newest = Version.objects.order_by("-id").first()
    assert modified == http_date(int(newest.recorded_at.timestamp()))

    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH=f'W/{etag}, "other"').status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    # Another date, another representation, another tag.
    assert client.get(f"{SG}/E07000004/?date=2020-01-01")["ETag"] != etag


def test_a_new_version_changes_the_etag(client, area):
    url = f"{SG}/E07000004/?date=2019-01-01"
    etag = client.get(url)["ETag"]
    entry = area("E07000004")
    Version.objects.create(entry=entry, number=entry.version + 1, snapshot={}, reason="test")
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_listing_and_bulk_caching_headers(client):
    listing = client.get(f"{SG}/?name=Aylesbury%20Vale")
    assert listing.has_header("ETag") and listing["Cache-Control"].startswith("public")
    bulk = client.post(f"{API}/lookup/", {"items": []}, content_type="application/json")
    assert bulk.status_code == 200
    assert not bulk.has_header("ETag")


@pytest.fixture
def one_window():
    """The rate limits count in fixed windows of their period (api/v1/throttling.py), here a
    minute: a test that counts a few requests and started in a window's last seconds would see
    the count start again in the next one, so it waits for a new window first."""
    left = 60 - time.time() % 60
    if left < 10:
        time.sleep(left + 0.1)


def test_rate_limit_gives_429_with_retry_after(client, settings, one_window):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"lookup": "3/minute", "bulk": "1/minute"},
    }
    caches["throttle"].clear()
    try:
        statuses = [client.get(f"{SG}/E07000004/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get(f"{SG}/E07000004/")
        assert limited["Content-Type"] == "application/problem+json"
        assert 1 <= int(limited["Retry-After"]) <= 60
        assert limited.json()["title"] == "Too many requests"
        # Bulk requests have their own, separate allowance.
        body = {"items": ["E07000004"]}
        assert (
            client.post(f"{API}/lookup/", body, content_type="application/json").status_code == 200
        )
        assert (
            client.post(f"{API}/lookup/", body, content_type="application/json").status_code == 429
        )
    finally:
        caches["throttle"].clear()


def test_a_forged_x_forwarded_for_does_not_escape_the_rate_limit(client, settings, one_window):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"lookup": "3/minute", "bulk": "1/minute"},
    }
    caches["throttle"].clear()
    try:
        statuses = [
            client.get(f"{SG}/E07000004/", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
            for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
    finally:
        caches["throttle"].clear()


def test_reads_need_no_key_and_writes_are_refused(client):
    assert client.get(f"{SG}/E07000004/").status_code == 200
    assert Entry.objects.filter(key="E07000004").exists()
    response = client.put(f"{SG}/E07000004/", {}, content_type="application/json")
    assert response.status_code == 405


def test_out_of_range_values_are_4xx_not_500(client):
    huge = f"{SG}/E07000004/versions/99999999999999999999999/"
    assert client.get(huge).status_code == 404
    forged = "cD0AYWJj"  # base64 of "p=\x00abc": a position no key has
    assert client.get(f"{SG}/?cursor={forged}").status_code == 400
    assert client.get(f"{SG}/E07000004/?date=9999-12-31").status_code == 200
    assert client.get(f"{SG}/E07000004/?date=0001-01-01").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/check/", "/api/v1/lookup/", "/api/v1/entries/statistical-geography/"]
)
@pytest.mark.django_db
def test_options_answers_without_error(client, path):
    response = client.options(path)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
