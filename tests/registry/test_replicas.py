"""The read router (registry/replicas.py): who reads where, when a replica is healthy, and a
request's reads going to a replica or the primary through the real middleware and views.

The replica in the request tests is ``replica-mirror``, a second connection to the test
database (tests/databases.py); its health is given, since a mirror is no standby. Those tests
and the checks against a real server (a primary is not a standby; a dead port is unreachable)
run on PostgreSQL, the only database with replicas. ``benchmarks/multinode.py`` runs the same code over a real streaming replica.
"""

import json
import socket

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from registry import replicas
from registry.replicas import (
    Health,
    Probe,
    Rotation,
    judge,
    lsn,
    read_alias,
    request_reads,
    view_reads_only,
)
from tests.databases import REPLICA

R1, R2 = "replica1", "replica2"


@pytest.mark.parametrize(
    ("method", "reads_only", "credentials", "pinned", "healthy", "turn", "expected"),
    [
        # A public read: the healthy replica whose turn it is.
        ("GET", False, False, False, [R1], 7, R1),
        ("GET", False, False, False, [R1, R2], 0, R1),
        ("GET", False, False, False, [R1, R2], 1, R2),
        ("GET", False, False, False, [R1, R2], 4, R1),
        ("HEAD", False, False, False, [R1, R2], 3, R2),
        ("options", False, False, False, [R2], 0, R2),
        # A POST to a view that only reads (bulk lookup, reconciliation) is a public read.
        ("POST", True, False, False, [R1, R2], 1, R2),
        # No replica in rotation: the primary.
        ("GET", False, False, False, [], 5, DEFAULT_DB_ALIAS),
        ("POST", True, False, False, [], 5, DEFAULT_DB_ALIAS),
        # Writes, with every read they make, on the primary.
        ("POST", False, False, False, [R1], 0, DEFAULT_DB_ALIAS),
        ("PUT", False, True, False, [R1], 0, DEFAULT_DB_ALIAS),
        ("PATCH", False, False, False, [R1], 0, DEFAULT_DB_ALIAS),
        ("DELETE", False, False, True, [R1], 0, DEFAULT_DB_ALIAS),
        # A curator (session or token) and a client pinned after its own write.
        ("GET", False, True, False, [R1, R2], 1, DEFAULT_DB_ALIAS),
        ("GET", False, False, True, [R1, R2], 1, DEFAULT_DB_ALIAS),
        ("POST", True, True, False, [R1], 0, DEFAULT_DB_ALIAS),
        ("POST", True, False, True, [R1], 0, DEFAULT_DB_ALIAS),
    ],
)
def test_request_reads(method, reads_only, credentials, pinned, healthy, turn, expected):
    chosen = request_reads(
        method=method,
        reads_only=reads_only,
        has_credentials=credentials,
        pinned=pinned,
        healthy=healthy,
        turn=turn,
    )
    assert chosen == expected


def test_the_posts_that_only_read_are_marked_and_no_write_is():
    from api.curation import EntryAddRow, EntryCreate, EntryReplace, EntryTerminate
    from api.reconcile import views as reconcile
    from api.v1.views.batch import BulkLookupView, CheckerView

    reading = [
        BulkLookupView.as_view(),
        CheckerView.as_view(),
        reconcile.service,
        reconcile.v1_match,
        reconcile.v1_extend,
    ]
    writing = [view.as_view() for view in (EntryCreate, EntryReplace, EntryAddRow, EntryTerminate)]
    assert [view_reads_only(view) for view in reading] == [True] * 5
    assert [view_reads_only(view) for view in writing] == [False] * 4


@pytest.mark.parametrize(
    ("request_alias", "writing", "expected"),
    [
        (R1, False, R1),
        (R1, True, DEFAULT_DB_ALIAS),  # inside a writing transaction
        (DEFAULT_DB_ALIAS, False, DEFAULT_DB_ALIAS),
        (None, False, DEFAULT_DB_ALIAS),  # outside a request: commands, the index build
        (None, True, DEFAULT_DB_ALIAS),
    ],
)
def test_read_alias(request_alias, writing, expected):
    assert read_alias(request_alias=request_alias, writing=writing) == expected


@pytest.mark.parametrize(
    ("text", "number"),
    [("0/0", 0), ("0/3000148", 0x3000148), ("16/B374D848", (0x16 << 32) + 0xB374D848), ("", None), (None, None)],
)  # fmt: skip
def test_lsn(text, number):
    assert lsn(text) == number


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        (Probe(replay_lsn=100, replay_age=3600.0, primary_lsn=100), Health(True, "current", 0.0)),
        # Ahead of the position read a moment earlier from the primary: current.
        (Probe(replay_lsn=120, replay_age=None, primary_lsn=100), Health(True, "current", 0.0)),
        (Probe(replay_lsn=90, replay_age=1.25, primary_lsn=100), Health(True, "behind by 1.2 s", 1.25)),
        (Probe(replay_lsn=90, replay_age=5.0, primary_lsn=100), Health(True, "behind by 5.0 s", 5.0)),
        (Probe(replay_lsn=90, replay_age=7.5, primary_lsn=100), Health(False, "lagging 7.5 s (more than 5 s)", 7.5)),
        (Probe(replay_lsn=90, replay_age=None, primary_lsn=100), Health(False, "lagging inf s (more than 5 s)", float("inf"))),
        (Probe(replay_lsn=None, primary_lsn=100), Health(False, "has replayed nothing yet")),
        (Probe(in_recovery=False, replay_lsn=None, primary_lsn=100), Health(False, "not a standby (promoted, or not a replica)")),
        (Probe(error="connection refused"), Health(False, "unreachable: connection refused")),
        (Probe(replay_lsn=90, replay_age=60.0, primary_lsn=None), Health(True, "primary unreachable: lag unknown")),
    ],
)  # fmt: skip
def test_judge(probe, expected):
    assert judge(probe, max_lag=5.0) == expected


def test_rotation_takes_a_replica_out_and_back():
    seen = {R1: Probe(replay_lsn=10, primary_lsn=10), R2: Probe(error="refused")}
    rotation = Rotation(
        [R1, R2],
        interval=60,
        max_lag=5,
        check=lambda alias, primary: seen[alias],
        position=lambda: 10,
    )
    rotation.check_now()
    assert rotation.healthy() == [R1]
    seen[R2] = Probe(replay_lsn=10, primary_lsn=10)
    seen[R1] = Probe(replay_lsn=4, replay_age=30.0, primary_lsn=10)
    rotation.check_now()
    assert rotation.healthy() == [R2]
    assert rotation.health[R1] == Health(False, "lagging 30.0 s (more than 5 s)", 30.0)
    rotation.failed(R2, OperationalError("server closed the connection unexpectedly"))
    assert rotation.healthy() == []
    assert (
        rotation.health[R2].reason
        == "failed under a request: server closed the connection unexpectedly"
    )


# -- Requests through the middleware, the router and the views ------------------------------

# Replicas are PostgreSQL's (settings refuse DATABASE_REPLICA_URLS on SQLite), and SQLite's
# shared in-memory test database cannot take a second connection's reads beside a test's
# open write transaction.
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="streaming replicas are PostgreSQL's"
)


@pytest.fixture
def routed(settings, monkeypatch):
    """The router and middleware as DATABASE_REPLICA_URLS installs them, with the mirror as
    the one replica, healthy."""
    settings.REGISTRY_REPLICAS = [REPLICA]
    settings.DATABASE_ROUTERS = ["registry.replicas.ReplicaRouter"]
    settings.MIDDLEWARE = [
        settings.MIDDLEWARE[0],
        "registry.replicas.ReadRouting",
        *settings.MIDDLEWARE[1:],
    ]
    rotation = Rotation(
        [REPLICA], interval=3600, max_lag=5,
        check=lambda alias, primary: Probe(replay_lsn=1, primary_lsn=1), position=lambda: 1,
    )  # fmt: skip
    monkeypatch.setattr(replicas, "_rotation", rotation)
    yield rotation
    connections[REPLICA].close()  # so the test database can be dropped at the end


@pytest.fixture
def curator_token(db):
    user = get_user_model().objects.create_user("replica-bot", password="x-long-enough-pw")
    user.groups.add(Group.objects.get(name="curator"))
    return Token.objects.create(user=user).key


def _queries(client, method, path, **extra):
    """The response, and how many queries ran on the primary and on the replica."""
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = getattr(client, method)(path, **extra)
    return response, len(primary), len(replica)


DOC = "/doc/statistical-geography/E06000001.json"
API = "/api/v1/entries/statistical-geography/E06000001/"


@postgres_only
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA])
@pytest.mark.parametrize("path", [DOC, API])
def test_a_public_read_is_answered_from_the_replica(routed, client, path):
    response, on_primary, on_replica = _queries(client, "get", path)
    assert response.status_code == 200
    assert response.json()["key"] == "E06000001"
    assert (on_primary, on_replica > 0) == (0, True)
    assert replicas.PIN_COOKIE not in response.cookies


@postgres_only
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA])
@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_AUTHORIZATION": "Token not-a-real-one"},
        {"HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}=abc"},
        {"HTTP_COOKIE": f"{replicas.PIN_COOKIE}=1"},
    ],
    ids=["token", "session", "pinned"],
)
def test_a_read_with_credentials_or_after_a_write_is_answered_from_the_primary(
    routed, client, extra
):
    response, on_primary, on_replica = _queries(client, "get", DOC, **extra)
    assert response.status_code in (200, 401)  # an unknown token is refused, from the primary
    assert (on_primary > 0, on_replica) == (True, 0)


@postgres_only
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA])
@pytest.mark.parametrize(
    ("path", "data", "content_type"),
    [
        ("/api/v1/lookup/", '{"items": ["E06000001"]}', "application/json"),
        ("/reconcile", "extend=" + json.dumps({"ids": ["E06000001"], "properties": [{"id": "name_cy"}]}),
         "application/x-www-form-urlencoded"),
    ],
    ids=["bulk lookup", "reconciliation"],
)  # fmt: skip
def test_a_post_that_only_reads_is_answered_from_the_replica(
    routed, client, path, data, content_type
):
    response, on_primary, on_replica = _queries(
        client, "post", path, data=data, content_type=content_type
    )
    assert response.status_code == 200, response.content
    assert "E06000001" in response.content.decode()
    assert (on_primary, on_replica > 0) == (0, True)
    assert replicas.PIN_COOKIE not in response.cookies


@postgres_only
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_a_write_is_on_the_primary_and_pins_its_writer_there(routed, client, curator_token):
    response, on_primary, on_replica = _queries(
        client, "post", "/api/v1/curation/entries/statistical-geography/E06000001/names/",
        data={"text": "Hartlepwl", "language": "cy", "valid_from": "2009-01-01", "note": "Welsh form"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Token {curator_token}",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert (on_primary > 0, on_replica) == (True, 0)
    pin = response.cookies[replicas.PIN_COOKIE]
    assert (pin.value, pin["max-age"], pin["httponly"]) == ("1", 30, True)
    # The writer's next read, with the cookie, sees the new name: it is on the primary.
    response, on_primary, on_replica = _queries(client, "get", DOC)
    assert response.status_code == 200
    assert (on_primary > 0, on_replica) == (True, 0)
    assert "Hartlepwl" in response.content.decode()


@postgres_only
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_a_replica_failing_under_a_read_is_taken_out_and_the_read_answered_from_the_primary(
    routed, monkeypatch
):
    # The test client would re-raise the first attempt's error, which production logs.
    client = Client(raise_request_exception=False)

    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    with (
        monkeypatch.context() as patched,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as primary,
    ):
        patched.setattr(connections[REPLICA], "ensure_connection", refuse)
        response = client.get(DOC)
    assert response.status_code == 200
    assert response.json()["key"] == "E06000001"
    assert len(primary) > 0
    assert routed.healthy() == []
    assert routed.health[REPLICA].reason.startswith("failed under a request: connection to server")
    # The next read goes straight to the primary.
    response, on_primary, on_replica = _queries(client, "get", API)
    assert (response.status_code, on_primary > 0, on_replica) == (200, True, 0)


@postgres_only
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA])
def test_readyz_stays_ready_when_the_replica_fails(routed, client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections[REPLICA], "ensure_connection", refuse)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": connection.vendor}


# -- Checks against a real server -----------------------------------------------------------


@postgres_only
@pytest.mark.django_db
def test_the_primary_itself_is_no_replica():
    position = replicas.primary_position()
    assert position is not None and position > 0
    assert judge(replicas.probe(DEFAULT_DB_ALIAS, position), max_lag=5) == Health(
        False, "not a standby (promoted, or not a replica)"
    )


@postgres_only
@pytest.mark.django_db
def test_a_dead_replica_is_unreachable(monkeypatch):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead = {**settings.DATABASES[DEFAULT_DB_ALIAS], "HOST": "127.0.0.1", "PORT": port}
    monkeypatch.setitem(settings.DATABASES, "replica-dead", dead)
    health = judge(replicas.probe("replica-dead", replicas.primary_position()), max_lag=5)
    assert health.healthy is False
    assert health.reason.startswith("unreachable: connection") and "refused" in health.reason
