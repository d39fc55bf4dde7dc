"""Health checks, early refusal of bodies too large, and a database outage told as a 503."""

import pytest
from django.db import OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")
    assert response["Cache-Control"] == "no-store"


def test_readyz_says_the_database_is_up_and_loaded(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_is_a_503_until_the_data_is_loaded(empty_registry, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["detail"] == "The database holds no entries yet: load the data."


def _database_down(monkeypatch, target: str) -> None:
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(target, refuse)


@pytest.mark.parametrize(
    ("path", "accept", "content_type"),
    [
        ("/api/v1/entries/statistical-geography/E07000004/", "*/*", "application/problem+json"),
        ("/doc/statistical-geography/E07000004", "text/html", "text/html; charset=utf-8"),
        ("/doc/statistical-geography/E07000004.json", "*/*", "text/html; charset=utf-8"),
    ],
)
def test_a_database_outage_is_a_503_with_retry_after(monkeypatch, path, accept, content_type):
    _database_down(monkeypatch, "api.http.find_entry")
    response = Client(raise_request_exception=False).get(path, HTTP_ACCEPT=accept)
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "no-store"
    assert b"unavailable or busy" in response.content


def test_a_database_outage_in_reconciliation_is_a_503_in_its_json(monkeypatch):
    _database_down(monkeypatch, "api.reconcile.views.describe")
    response = Client(raise_request_exception=False).get("/reconcile/preview/E07000004")
    assert response.status_code == 503
    assert response.json() == {
        "status": 503,
        "error": "The registry's database is unavailable or busy. Try again in 10 seconds.",
    }
    assert response["Access-Control-Allow-Origin"] == "*"


def test_any_other_fault_is_a_short_500_page(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("api.http.find_entry", broken)
    response = Client(raise_request_exception=False).get(
        "/doc/statistical-geography/E07000004", HTTP_ACCEPT="text/html"
    )
    assert response.status_code == 500
    assert b"Sorry, there is a problem with the service" in response.content


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/api/v1/lookup/", "2,686,976"),
        ("/api/v1/check/", "209,780,736"),
        ("/reconcile", "2,686,976"),
    ],
)
def test_a_body_declared_too_large_is_refused_before_it_is_read(client, path, limit):
    response = client.post(path, b"{}", content_type="application/json",
                           CONTENT_LENGTH="1073741824")  # fmt: skip
    assert response.status_code == 413
    assert f"takes at most {limit}" in response.content.decode()


def test_an_unreadable_content_length_is_a_400(client):
    response = client.post("/api/v1/lookup/", b"{}", content_type="application/json",
                           CONTENT_LENGTH="lots")  # fmt: skip
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_body_that_does_not_arrive_in_time_frees_its_reader(settings):
    import socket
    import time

    from api.service import BodyTimeout, _DeadlineInput

    settings.REGISTRY_BODY_SECONDS = 0.3
    server, client = socket.socketpair()
    try:
        client.sendall(b"{")  # one byte, then nothing
        reader = _DeadlineInput(server.makefile("rb"), server, time.monotonic() + 0.3)
        assert reader.read(1) == b"{"
        started = time.monotonic()
        with pytest.raises(BodyTimeout):
            reader.read(100)
        assert time.monotonic() - started < 2
    finally:
        server.close()
        client.close()


def test_a_body_timeout_is_a_408(monkeypatch):
    from api.service import BodyTimeout

    def slow(*args, **kwargs):
        raise BodyTimeout("the request body did not arrive in time")

    monkeypatch.setattr("api.v1.parsers.StrictJSONParser.parse", slow)
    response = Client(raise_request_exception=False).post(
        "/api/v1/lookup/", b'{"items": []}', content_type="application/json"
    )
    assert response.status_code == 408
    assert response["Content-Type"] == "application/problem+json"
    assert response["Connection"] == "close"


def test_a_body_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline():
    import socket
    import threading
    import time

    from api.service import BodyTimeout, _DeadlineInput

    server, client = socket.socketpair()
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            try:
                client.sendall(b" ")
            except OSError:
                return
            stop.wait(0.05)

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        reader = _DeadlineInput(server.makefile("rb"), server, time.monotonic() + 0.5)
        threading.Timer(0.5, reader.expire).start()
        started = time.monotonic()
        with pytest.raises(BodyTimeout):
            reader.read(100_000)  # would take over an hour at this rate
        assert time.monotonic() - started < 3
    finally:
        stop.set()
        server.close()
        client.close()
