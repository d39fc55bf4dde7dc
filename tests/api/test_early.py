"""The /id/ 303 and an entry document's 304, answered before Django (api/early.py, wrapped
around the production WSGI application in config/wsgi.py): the same answers, with the same
headers, as the views give, in one query; anything out of the ordinary left to the views."""

import pytest
from django.core import signals
from django.db import close_old_connections, connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from api.documents import entries, resolution
from registry import services

pytestmark = pytest.mark.django_db

DOC = "/doc/statistical-geography/E07000004"
HEADERS = (
    "Location",
    "ETag",
    "Last-Modified",
    "Link",
    "Cache-Control",
    "Access-Control-Allow-Origin",
    "Vary",
    "Content-Language",
)


def shown(response):
    return response.status_code, {h: response.get(h) for h in HEADERS}


class Answer:
    """What the production WSGI application answered."""

    def __init__(self, status: str, headers: list, body: bytes):
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.content = body

    def __getitem__(self, name):
        return self.headers[name]

    def get(self, name, default=None):
        return self.headers.get(name, default)

    def json(self):
        import json

        return json.loads(self.content)


class Server:
    """Requests through ``config.wsgi.application``, as gunicorn sends them."""

    def get(self, path, method="get", raw_path=None, **extra):
        from config.wsgi import application

        environ = getattr(RequestFactory(), method)(path, **extra).environ
        if raw_path is not None:
            # The path as gunicorn gives it (the request's WSGIRequest has replaced it).
            environ["PATH_INFO"] = raw_path
        started = {}

        def start_response(status, headers, exc_info=None):
            started.update(status=status, headers=headers)

        # As Django's test client does: the test's connection, inside its transaction, is
        # not to be closed at the end of the request (PostgreSQL would drop it).
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            body = b"".join(application(environ, start_response))
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return Answer(started["status"], started["headers"], body)

    def head(self, path, **extra):
        return self.get(path, method="head", **extra)


@pytest.fixture
def client(db):
    """The production application, in a process that has answered before (the registers
    are read once a minute by each process, registry.statistics.registers)."""
    server = Server()
    assert server.get("/doc/statistical-geography/W06000015.json").status_code == 200
    return server


def test_the_303_in_one_query_with_the_views_headers(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/id/statistical-geography/E07000004.ttl?date=2019-01-01")
    assert len(queries) == 1
    assert response.status_code == 303
    assert response["Location"] == "/doc/statistical-geography/E07000004.ttl?date=2019-01-01"
    assert (response["X-Frame-Options"], response["X-Content-Type-Options"]) == (
        "DENY", "nosniff",
    )  # fmt: skip
    view = resolution.resolve_entry(
        RequestFactory().get("/id/statistical-geography/E07000004.ttl?date=2019-01-01"),
        "statistical-geography",
        "E07000004",
        "ttl",
    )
    assert shown(response) == shown(view)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/id/statistical-geography/e07000004", 301),  # the case is wrong
        ("/id/statistical-geography/E07999999", 404),  # well formed, unknown
        ("/id/statistical-geography/XYZ", 400),  # no such key could exist
        ("/id/no-such-register/E07000004", 404),
    ],
)
def test_anything_else_at_id_is_left_to_the_view(client, url, status):
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        (f"{DOC}.ttl", {}),
        (f"{DOC}.json?date=2019-01-01", {}),
        (DOC, {"HTTP_ACCEPT": "text/turtle"}),
        (DOC, {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}),
        (f"{DOC}?date-day=1&date-month=4&date-year=2019", {}),
        (DOC, {"HTTP_COOKIE": "registry_language=cy"}),
    ],
)
def test_a_304_in_one_query_is_the_one_the_view_gives(client, path, extra):
    first = client.get(path, **extra)
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        early = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"], **extra)
    assert len(queries) == 1
    assert early.status_code == 304
    assert early["ETag"] == first["ETag"]
    assert early.content == b""
    request = RequestFactory().get(path, HTTP_IF_NONE_MATCH=first["ETag"], **extra)
    register, rest = path.removeprefix("/doc/").split("?")[0].split("/")
    key, _, format = rest.partition(".")
    from django.utils import translation

    from api.i18n import chosen_language

    with translation.override(chosen_language(request)[0]):
        view = entries.EntryView.as_view()(
            request, register=register, key=key, format=format or None
        )
    assert shown(early) == shown(view)


def test_a_validator_of_another_format_or_language_is_not_a_304(client):
    turtle = client.get(f"{DOC}.ttl")["ETag"]
    assert (
        client.get(DOC, HTTP_ACCEPT="application/json", HTTP_IF_NONE_MATCH=turtle).status_code
        == 200
    )
    english = client.get(DOC)["ETag"]
    welsh = client.get(DOC, HTTP_COOKIE="registry_language=cy", HTTP_IF_NONE_MATCH=english)
    assert welsh.status_code == 200
    assert welsh["Content-Language"] == "cy"


def test_odd_conditional_requests_are_left_to_the_view(client):
    etag = client.get(f"{DOC}.ttl")["ETag"]
    assert client.get(f"{DOC}.xyz", HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert client.get(f"{DOC}.ttl?date=2019-02-31", HTTP_IF_NONE_MATCH=etag).status_code == 400
    assert client.get(DOC, HTTP_ACCEPT="image/png", HTTP_IF_NONE_MATCH=etag).status_code == 406
    missing = client.get("/doc/statistical-geography/E07999999.ttl", HTTP_IF_NONE_MATCH=etag)
    assert missing.status_code == 404
    assert client.get(f"{DOC}.ttl", HTTP_IF_MATCH='"other"').status_code == 412


def test_after_an_edit_the_old_validator_gets_the_new_document(client, area):
    etag = client.get("/doc/statistical-geography/E06000001.json")["ETag"]
    entry = area("E06000001")
    snapshot = services.current_snapshot(entry)
    snapshot["names"] = [*snapshot["names"], ["cy", "official", "Hartlepwl", "2009-01-01", None]]
    services.save_entry(entry.register, entry.key, snapshot, services.Actor(reason="test"))
    response = client.get("/doc/statistical-geography/E06000001.json", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response.json()["name_cy"] == "Hartlepwl"


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        (f"{DOC}.json", {}),
        (f"{DOC}.ttl?date=2019-01-01", {}),
        (DOC, {}),
        (DOC, {"HTTP_COOKIE": "registry_language=cy"}),
        (DOC, {"HTTP_ACCEPT": "application/ld+json"}),
    ],
)
def test_a_document_rendered_before_comes_from_the_cache_as_the_view_gave_it(client, path, extra):
    first = client.get(path, **extra)
    assert first.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        again = client.get(path, **extra)
    assert len(queries) == 1
    assert again.content == first.content
    assert again.headers == first.headers


def test_a_head_request_has_the_headers_and_no_body(client):
    first = client.get(f"{DOC}.json")
    head = Server().head(f"{DOC}.json")
    assert (head.status_code, head.content) == (200, b"")
    assert head["ETag"] == first["ETag"]
    assert head["Content-Length"] == str(len(first.content))


def test_a_document_not_rendered_before_is_built_from_the_entry_found_once(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/doc/statistical-geography/E01033468.json?date=2024-01-01")
    assert response.status_code == 200
    assert [c["key"] for c in response.json()["current"]] == ["E01035189", "E01035190"]
    assert len(queries) == 4  # the entry with the data version, then describe()'s three


class DjangoServer(Server):
    """Requests through Django's own WSGI application, without the early answers."""

    def get(self, path, method="get", raw_path=None, **extra):
        from config import wsgi

        early, wsgi.application = wsgi.application, wsgi.django_application
        try:
            return super().get(path, method, raw_path, **extra)
        finally:
            wsgi.application = early


def _django_ran(request):
    """Whether Django's request handling ran for ``request()`` (its request_started signal)."""
    started = []

    def count(**kwargs):
        started.append(kwargs)

    signals.request_started.connect(count)
    try:
        answer = request()
    finally:
        signals.request_started.disconnect(count)
    return answer, bool(started)


# The entry with the data version, then describe()'s three (and in Welsh the labels in Welsh
# too); a graph also reads the entry and its boundary on the day (api.geo.add_geometry).
@pytest.mark.parametrize(
    ("path", "extra", "reads"),
    [
        (f"{DOC}.json", {}, 4),
        (f"{DOC}.ttl?date=2019-01-01", {}, 6),
        (f"{DOC}.csv", {}, 4),
        ("/doc/statistical-geography/E01033468.jsonld?date=2024-01-01", {}, 6),
        ("/doc/statistical-geography/W06000015", {"HTTP_ACCEPT": "application/json"}, 4),
        ("/doc/statistical-geography/W06000015.json", {"HTTP_COOKIE": "registry_language=cy"}, 5),
    ],
)
def test_a_machine_format_is_built_before_django_as_the_view_builds_it(client, path, extra, reads):
    from django.core.cache import cache

    from api.documents.base import body_key

    view = DjangoServer().get(path, **extra)
    assert view.status_code == 200
    cache.delete(body_key(view["ETag"]))  # so that it is built again, not read
    with CaptureQueriesContext(connection) as queries:
        early, ran = _django_ran(lambda: client.get(path, **extra))
    assert not ran  # Django's request handling never ran
    assert len(queries) == reads
    assert early.status_code == 200
    assert early.content == view.content
    assert early.headers == view.headers
    # and it is kept: the next one is read from the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path, **extra).content == view.content
    assert len(queries) == 1


def test_a_page_not_rendered_before_is_left_to_the_view(client):
    page, ran = _django_ran(
        lambda: client.get("/doc/statistical-geography/E07000112?date=2010-01-01")
    )
    assert page.status_code == 200
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert ran


API = "/api/v1/entries/statistical-geography"


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        (f"{API}/E07000004/", {}),
        (f"{API}/E07000004/?date=2019-01-01", {"HTTP_ACCEPT": "application/json"}),
        (f"{API}/W06000015/", {"HTTP_ACCEPT": "*/*"}),
        (f"{API}/E01033468/?date=2024-01-01", {}),
    ],
)
def test_the_lookup_apis_entry_is_answered_before_django_as_its_view_answers(client, path, extra):
    from django.core.cache import cache

    from api.v1.views.base import answer_key

    view = DjangoServer().get(path, **extra)
    assert view.status_code == 200
    cache.delete(answer_key(view["ETag"]))  # so that it is built again, not read
    with CaptureQueriesContext(connection) as queries:
        early, ran = _django_ran(lambda: client.get(path, **extra))
    assert not ran
    assert len(queries) == 4  # the entry with the data version, then describe()'s three
    assert early.status_code == 200
    assert early.content == view.content
    assert early.headers == view.headers
    with CaptureQueriesContext(connection) as queries:
        again, ran = _django_ran(lambda: client.get(path, **extra))
    assert (again.content, ran, len(queries)) == (view.content, False, 1)


@pytest.mark.parametrize(
    ("path", "extra", "status"),
    [
        (f"{API}/E07000004/?recorded=2024-01-01T00:00:00Z", {}, 404),  # not recorded by then
        (f"{API}/E07000004/?date=", {}, 400),
        (f"{API}/E07000004/?date=2019-02-31", {}, 400),
        (f"{API}/E07000004/?format=json", {}, 200),
        (f"{API}/E07000004/?colour=red", {}, 200),
        (f"{API}/E07000004/", {"HTTP_ACCEPT": "application/json; indent=2"}, 200),
        (f"{API}/E07000004/", {"HTTP_ACCEPT": "text/turtle"}, 406),
        (f"{API}/E07999999/", {}, 404),
        (f"{API}/e07000004/", {}, 400),
        ("/api/v1/entries/no-such-register/E07000004/", {}, 404),
    ],
)
def test_anything_else_about_an_entry_is_left_to_the_lookup_view(client, path, extra, status):
    answer, ran = _django_ran(lambda: client.get(path, **extra))
    assert (answer.status_code, ran) == (status, True)


def test_a_conditional_lookup_is_left_to_the_view(client):
    etag = client.get(f"{API}/E07000004/")["ETag"]
    answer, ran = _django_ran(lambda: client.get(f"{API}/E07000004/", HTTP_IF_NONE_MATCH=etag))
    assert (answer.status_code, ran) == (304, True)


def test_the_early_lookup_counts_against_the_clients_limit(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "lookup": "3/hour",
        },
    }
    from django.core.cache import caches

    caches["throttle"].clear()
    statuses = [client.get(f"{API}/E0700000{n}/").status_code for n in (4, 5, 6, 7, 8)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.get(f"{API}/E07000009/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert "Retry-After" in refused.headers


@pytest.mark.parametrize(
    "path",
    [
        # Characters outside Latin-1, as a fuzzer sends them (percent-encoded UTF-8).
        "/api/v1/entries/statistical-geography/\u00e9\U000d4d9a/children/",
        "/api/v1/entries/8t\u00c6\U000a05d3/x\U000cd3cd/",
        "/api/v1/entries/\U000cd3cd/",
        "/doc/statistical-geography/E0700\U000cd3cd",
        "/id/statistical-geography/\U000cd3cd",
    ],
)
def test_a_path_outside_latin_1_reaches_the_view_as_it_came(client, path):
    # As gunicorn puts it in the environment: the path's UTF-8 bytes, each as a Latin-1
    # character (PEP 3333).
    answer = client.get("/", raw_path=path.encode().decode("iso-8859-1"))
    assert 400 <= answer.status_code < 500


def test_the_entry_found_early_still_reaches_the_page_view(client):
    """A page not rendered before is the view's, which takes the entry the early path found
    (documents.resolution) instead of finding it again."""
    with CaptureQueriesContext(connection) as queries:
        page, ran = _django_ran(
            lambda: client.get("/doc/statistical-geography/E07000113?date=2011-06-01")
        )
    assert (page.status_code, ran) == (200, True)
    assert sum("registry_version" in q["sql"] and "MAX(id)" in q["sql"] for q in queries) == 1
