"""What the reconciliation fuzzer (.ci/reconcile-fuzz) found, each pinned: no answer of the
service is a 500 or Django's bare HTML, whatever the request; the manifest's URLs come from
proxy headers only behind trusted proxies, and vary with them; the per-client limit counts
across workers."""

import json
from urllib.parse import urlencode

import pytest
from django.core.cache import caches

from api.reconcile import index
from api.reconcile.responses import Guard, origin

FORM = "application/x-www-form-urlencoded"
CORS = "Access-Control-Allow-Origin"


@pytest.fixture(autouse=True)
def no_background_build(monkeypatch):
    monkeypatch.setattr(index, "warm", lambda: None)


def post(client, path, body, content_type=FORM, **extra):
    return client.generic("POST", path, body, content_type=content_type, **extra)


def queries(text):
    """A form body with ``text`` (JSON text, sent as it is) as the queries."""
    return urlencode({"queries": text})


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    "limit", ["Infinity", "1e999", "-Infinity", '"inf"', '"-inf"', "1" + "0" * 400]
)
def test_a_limit_past_any_number_is_clamped_not_a_500(client, db, limit):
    # int(float("inf")) raised OverflowError: one cell's limit failed the whole batch.
    text = '{"q0": {"query": "Hartlepool", "limit": LIMIT}, "q1": {"query": "Leeds"}}'
    text = text.replace("LIMIT", limit)
    response = post(client, "/reconcile", queries(text))
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"q0", "q1"}
    assert answer["q0"]["result"][0]["id"] == "E06000001"
    assert answer["q1"]["result"][0]["id"] == "E08000035"


@pytest.mark.parametrize("limit", ["NaN", '"nan"', '"abc"', "[]", "true"])
def test_a_limit_that_is_no_number_fails_its_query_only(client, db, limit):
    text = '{"q0": {"query": "Hartlepool", "limit": LIMIT}, "q1": {"query": "Leeds"}}'
    text = text.replace("LIMIT", limit)
    response = post(client, "/reconcile", queries(text))
    assert response.status_code == 200
    answer = response.json()
    assert answer["q0"] == {"result": [], "error": "limit must be a number"}
    assert answer["q1"]["result"][0]["id"] == "E08000035"


@pytest.mark.parametrize(
    "path",
    [
        "/reconcile/suggest/entity?prefix=Hartle&limit=inf",
        "/reconcile/suggest/entity?prefix=Hartle&limit=-inf",
        "/reconcile/suggest/type?prefix=ward&cursor=1e999",
        "/reconcile/suggest/property?prefix=par&limit=" + "9" * 400,
        "/reconcile/v1/suggest/type?prefix=a&limit=" + "9" * 400,
        "/reconcile/v1/suggest/property?prefix=E06&offset=inf",
        "/reconcile/extend/propose?type=E06&limit=inf",
    ],
)
def test_suggest_and_propose_clamp_infinite_numbers(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response[CORS] == "*"
    body = response.json()
    assert "result" in body or "properties" in body


def test_suggest_refuses_nan_with_json(client, db):
    response = client.get("/reconcile/suggest/entity?prefix=Hartle&limit=nan")
    assert response.status_code == 400
    assert response.json() == {"status": 400, "error": "limit must be a number"}
    assert response[CORS] == "*"


@pytest.mark.parametrize("value", ["1e999", "-Infinity", "NaN", "1" + "0" * 400])
def test_a_date_property_past_any_number_is_unreadable_not_a_500(client, db, value):
    # parse_date called int() on inf (OverflowError) and math.isfinite on a 400-digit int.
    text = (
        '{"q0": {"query": "Hartlepool", "type": "E06", "properties": [{"pid": "date", "v": %s}]}}'
    )
    response = post(client, "/reconcile", queries(text % value))
    assert response.status_code == 200
    candidate = response.json()["q0"]["result"][0]
    assert candidate["id"] == "E06000001"
    assert candidate["match"] is False  # an unreadable date blocks the automatic match
    assert {"id": "unreadable_date", "value": True} in candidate["features"]


@pytest.mark.parametrize("limit", ["Infinity", "1e999", "1" + "0" * 400])
def test_an_extend_limit_past_any_number_is_clamped(client, db, limit):
    text = '{"ids": ["E06000001"], "properties": [{"id": "name", "settings": {"limit": %s}}]}'
    response = post(client, "/reconcile", urlencode({"extend": text % limit}))
    assert response.status_code == 200
    assert response.json()["rows"]["E06000001"]["name"] == [{"str": "Hartlepool"}]


def test_an_extend_limit_that_is_no_number_is_a_400(client, db):
    text = '{"ids": ["E06000001"], "properties": [{"id": "name", "settings": {"limit": NaN}}]}'
    response = post(client, "/reconcile", urlencode({"extend": text}))
    assert response.status_code == 400
    assert response.json() == {"status": 400, "error": "setting limit 'nan' is not a number"}


# --------------------------------------------------------------------------- bodies and paths


@pytest.mark.parametrize("path", ["/reconcile", "/reconcile/v1/match", "/reconcile/v1/extend"])
def test_a_form_that_is_not_utf8_is_a_json_400(client, db, path):
    response = post(client, path, b"queries=%ED%A0%80", FORM + "; charset=latin-1")
    assert response.status_code == 400
    assert response[CORS] == "*"
    assert response.json() == {
        "status": 400,
        "error": "HTTP requests with the 'application/x-www-form-urlencoded' content type "
        "must be UTF-8 encoded.",
    }


@pytest.mark.parametrize("path", ["/reconcile", "/reconcile/v1/match", "/reconcile/v1/extend"])
def test_a_multipart_body_without_boundary_is_a_json_400(client, db, path):
    response = post(client, path, b'{"queries": [', "multipart/form-data")
    assert response.status_code == 400
    assert response[CORS] == "*"
    assert response.json() == {
        "status": 400,
        "error": "the multipart body cannot be read: Invalid boundary in multipart: None",
    }


@pytest.mark.parametrize("path", ["/reconcile/v1/match", "/reconcile/v1/extend"])
def test_a_json_body_too_large_is_a_json_413(client, db, path, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"queries": [{"conditions": []}] * 100, "ids": ["E06000001"] * 100})
    response = post(client, path, body, "application/json")
    assert response.status_code == 413
    assert response[CORS] == "*"
    assert response.json() == {"status": 413, "error": "request body too large"}


def test_an_id_with_a_line_break_is_the_service_s_404(client, db):
    # The path converters' "." stopped at "\n", leaving Django's HTML 404 without CORS.
    response = client.get("/reconcile/preview/E06000001%0A")  # read as E06000001
    assert response.status_code == 200
    assert response[CORS] == "*"
    response = client.get("/reconcile/preview/nothing%0A")
    assert response.status_code == 404
    assert response[CORS] == "*"
    assert response["Content-Type"].startswith("text/html")
    response = client.get("/reconcile/view/E06000001%0A")
    assert response.status_code == 302
    assert response["Location"] == "/doc/statistical-geography/E06000001"
    response = client.get("/reconcile/view/nothing%0A")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "no entry with id 'nothing\\n'"}
    response = client.get("/reconcile/nothing%0A")
    assert response.status_code == 404
    assert response[CORS] == "*"
    assert response.json() == {
        "status": 404,
        "error": "no reconciliation resource at /reconcile/nothing\n",
    }


# --------------------------------------------------------------------------- proxies


def test_without_trusted_proxies_the_manifest_ignores_proxy_headers(client, db, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 0
    settings.ALLOWED_HOSTS = ["registry.example.org", "testserver"]
    response = client.get(
        "/reconcile",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="registry.example.org",
    )
    manifest = response.json()
    assert manifest["view"]["url"] == "http://testserver/reconcile/view/{{id}}"
    assert manifest["preview"]["url"] == "http://testserver/reconcile/preview/{{id}}"
    assert response["Vary"] == "Host"
    assert response["Cache-Control"] == "public, max-age=3600"


def test_behind_trusted_proxies_the_manifest_uses_them_and_varies(client, db, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 1
    settings.ALLOWED_HOSTS = ["registry.example.org", "testserver"]
    response = client.get(
        "/reconcile/v1/",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="registry.example.org",
    )
    manifest = response.json()
    assert manifest["view"]["url"] == "https://registry.example.org/reconcile/view/{id}"
    assert "testserver" not in json.dumps(manifest)
    assert response["Vary"] == "Host, X-Forwarded-Host, X-Forwarded-Proto"


def test_behind_two_proxies_the_outer_one_names_the_host(rf, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 2
    settings.ALLOWED_HOSTS = ["registry.example.org", "inner.example", "testserver"]
    request = rf.get(
        "/reconcile",
        # A forged value on the left, then what the outer and inner proxies appended.
        HTTP_X_FORWARDED_HOST="testserver, registry.example.org, inner.example",
        HTTP_X_FORWARDED_PROTO="http, https, http",
    )
    assert origin(request) == "https://registry.example.org"


def test_the_preview_varies_with_the_host_it_links_to(client, db, settings):
    settings.REGISTRY_TRUSTED_PROXIES = 0
    response = client.get("/reconcile/preview/E06000001", HTTP_X_FORWARDED_HOST="evil.example")
    assert response.status_code == 200
    assert b"http://testserver/doc/statistical-geography/E06000001" in response.content
    assert b"evil.example" not in response.content
    assert response["Vary"] == "Host"


# --------------------------------------------------------------------------- rate limit


def test_two_workers_share_a_client_s_count(settings):
    """Two guards stand for two gunicorn workers: they share caches["throttle"] (a file
    cache, as in production), so the client is over its limit whichever answers."""
    settings.REGISTRY_RECONCILE_RATE = 10
    settings.REGISTRY_RECONCILE_BURST = 100  # a 10-s window of 100 queries
    caches["throttle"].clear()
    one, two = Guard(clock=lambda: 5_000_002.0), Guard(clock=lambda: 5_000_002.0)
    assert one.spend("198.51.100.7", 60) == 0
    assert two.spend("198.51.100.7", 30) == 0
    assert two.spend("198.51.100.7", 20) == 8.0  # 110 > 100; the window ends in 8 s
    assert one.spend("198.51.100.7", 1) == 8.0
    assert one.spend("198.51.100.8", 50) == 0  # another client has its own count
    later = Guard(clock=lambda: 5_000_010.0)  # the next window
    assert later.spend("198.51.100.7", 50) == 0


def test_two_processes_share_a_client_s_count(settings, tmp_path):
    """The same with real processes, as gunicorn's workers are: each spends 40 queries in
    a window of 100, so the third finds the client over its limit."""
    import multiprocessing

    settings.REGISTRY_RECONCILE_RATE = 10
    settings.REGISTRY_RECONCILE_BURST = 100
    caches["throttle"].clear()
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        waits = pool.map(_spend_forty, range(2))
    assert waits == [0, 0]
    assert Guard(clock=lambda: 7_000_001.0).spend("203.0.113.9", 40) == 9.0


def _spend_forty(_):
    return Guard(clock=lambda: 7_000_001.0).spend("203.0.113.9", 40)


def test_a_client_over_its_limit_gets_429_from_any_worker(client, db, settings, monkeypatch):
    from api.reconcile import views

    settings.REGISTRY_RECONCILE_RATE = 1
    settings.REGISTRY_RECONCILE_BURST = 10
    caches["throttle"].clear()
    other_worker = Guard(clock=lambda: 9_000_000.0)
    assert other_worker.spend("192.0.2.50", 10) == 0  # the client's ten, spent elsewhere
    monkeypatch.setattr(views, "guard", Guard(clock=lambda: 9_000_004.0))
    response = post(
        client, "/reconcile", queries('{"q0": {"query": "Leeds"}}'), REMOTE_ADDR="192.0.2.50"
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "6"
    assert response.json() == {
        "status": 429,
        "error": "the reconciliation service is busy; retry shortly",
    }
    response = post(
        client, "/reconcile", queries('{"q0": {"query": "Leeds"}}'), REMOTE_ADDR="192.0.2.51"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(("rate", "burst"), [(0, 100), (10, 0), (float("inf"), 100)])
def test_a_rate_or_burst_of_zero_turns_the_limit_off(settings, rate, burst):
    settings.REGISTRY_RECONCILE_RATE = rate
    settings.REGISTRY_RECONCILE_BURST = burst
    guard = Guard(clock=lambda: 11_000_000.0)
    assert guard.spend("192.0.2.60", 10**6) == 0
    assert guard.spend("192.0.2.60", 10**6) == 0


def test_a_query_of_made_up_words_makes_few_spelling_searches(client, db, monkeypatch):
    """Each spelling search is a pass over the whole vocabulary: a 500-character query of 99
    made-up words made 99 of them (0.2 s a query, 90 s a batch of 500); now at most six."""
    from types import SimpleNamespace

    from api.reconcile import matching

    searched = []

    def extract(word, *args, **kwargs):
        searched.append(word)
        return real.extract(word, *args, **kwargs)

    real = matching.process
    monkeypatch.setattr(matching, "process", SimpleNamespace(extract=extract))
    text = " ".join(f"qx{i:02d}" for i in range(99))
    response = post(client, "/reconcile", queries(json.dumps({"q0": {"query": text}})))
    assert response.status_code == 200
    assert response.json() == {"q0": {"result": []}}
    assert searched == ["qx00", "qx01", "qx02", "qx03", "qx04", "qx05"]


def test_a_long_query_like_no_name_scores_a_bounded_number_of_entries(client, db, monkeypatch):
    """A 500-character query of single letters shares a word with thousands of entries, and
    every one was scored for similarity (2,900 comparisons, 80 ms a query); now at most
    MAX_FUZZY_SCORED entries (120) are."""
    from api.reconcile import matching

    compared = []

    def similarities(query, names):
        compared.extend(names)
        return real(query, names)

    real = matching.similarities
    monkeypatch.setattr(matching, "similarities", similarities)
    text = ("a b c d e f g h i j k l m n o p q r s t u v w x y z " * 9)[:500]
    response = post(client, "/reconcile", queries(json.dumps({"q0": {"query": text}})))
    assert response.status_code == 200
    assert response.json()["q0"]["result"] == []
    assert 0 < len(compared) < 600  # 120 entries, a few names each
