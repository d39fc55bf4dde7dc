"""The change feed over HTTP (``/feed``, ``api/feed.py``), and a mirror replaying it.

The mirror is the real tool, ``manage.py replay_feed URL``, run as its own process on an
empty, freshly migrated second database (a new SQLite file, or a new PostgreSQL database on
the test server). It reads the feed over HTTP, page by page; the test answers those requests
with Django's test client, so the mirror reads exactly what the test's database serves.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import queue
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from registry import feed, mirror
from registry.models import Entry, Register, Version
from registry.services import Actor, save_entry, terminate_with_successors
from registry.snapshots import canonical

ROOT = Path(__file__).resolve().parents[2]
ATOM = "{http://www.w3.org/2005/Atom}"
AREAS = "statistical-geography"


def lines(response) -> list[dict]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return [json.loads(line) for line in body.decode().splitlines()]


@pytest.fixture
def history(empty_registry, factory):
    """A small registry with a history: a county and two districts, one renamed by a curator
    (who is renamed afterwards), then both merged into a new unitary by a change event."""
    curator = get_user_model().objects.create_user("cora", password="x-long-enough-pw")
    county = factory.make_entry(key="E10900001", name="Testshire", name_cy="Swydd Brawf")
    east = factory.make_entry(key="E07900001", name="East Test", parents={"county": county})
    west = factory.make_entry(key="E07900002", name="West Test", parents={"county": county})
    factory.make_entry(key="E05900001", name="Eastgate", parents={"district": east})
    snapshot = canonical(Version.objects.get(entry=west, number=1).snapshot)
    snapshot["names"] = [snapshot["names"][0]._replace(text="West Testing")]
    save_entry(west.register, west.key, snapshot, Actor(user=curator, reason="Renamed by order"))
    unitary = {
        "names": [["en", "official", "Testshire Unitary", "2027-04-01", None]],
        "identifiers": [["ons-legacy", "99ZZ", "2027-04-01", None]],
        "states": [["2027-04-01", None, "live", "E06"]],
        "relations": [],
        "attributes": {"note": "Ünïcode ✓"},
    }
    factory.make_entity_type(key="E06")
    terminate_with_successors(
        Entry.objects.get(key=east.key),
        dt.date(2027, 4, 1),
        "merge",
        [],
        Actor(user=curator, reason="The Testshire (Structural Changes) Order 2026"),
        new_successors=[("E06900099", unitary)],
        instrument_id="2026/999",
    )
    curator.username = "cora-renamed"
    curator.save()
    return curator


def test_the_feed_pages_every_version_as_json_lines(history, client):
    total = Version.objects.count()
    assert total == feed.head()[0] >= 9
    first = client.get("/feed?limit=4")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/x-ndjson"
    assert first["Feed-Head-Sequence"] == str(total)
    assert first["Feed-Head-Digest"] == feed.head()[1]
    assert first["Access-Control-Allow-Origin"] == "*"
    assert first["Cache-Control"] == "public, max-age=60"
    assert first["Link"] == '</feed?since=4&limit=4>; rel="next", </feed/head>; rel="describedby"'
    page = lines(first)
    assert [i["sequence"] for i in page] == [1, 2, 3, 4]
    assert page[0]["previous"] == ""
    assert all(b["previous"] == a["digest"] for a, b in zip(page, page[1:], strict=False))
    # Every item: its number, time, who, why, the entry, the change, its digest and URI.
    everything = lines(client.get(f"/feed?limit={total}"))
    assert len(everything) == total
    renamed = next(i for i in everything if i["why"] == "Renamed by order")
    assert renamed["entry"] == f"{AREAS}/E07900002"
    assert renamed["uri"] == f"{settings.REGISTRY_URI_BASE}/id/{AREAS}/E07900002"
    assert renamed["number"] == 2
    assert renamed["who"] == {"user": "cora", "import_run": None, "source": ""}
    assert renamed["changes"]["names"] == {
        "added": [["en", "official", "West Testing", "2009-01-01", None]],
        "removed": [["en", "official", "West Test", "2009-01-01", None]],
    }
    assert renamed["snapshot"]["names"] == [["en", "official", "West Testing", "2009-01-01", None]]
    assert feed.parse_stamp(renamed["recorded_at"]).tzinfo == dt.UTC
    event = next(i for i in everything if i["event"] is not None)
    assert event["event"] == "2027-04-01-E06900099"
    assert event["entry"] is None
    assert event["uri"] == f"{settings.REGISTRY_URI_BASE}/id/change-event/2027-04-01-E06900099"
    assert event["snapshot"]["links"] == [[f"{AREAS}/E07900001", f"{AREAS}/E06900099"]]
    assert feed.check(everything) is None
    # The last page has no next link; paging from it gives the rest.
    rest = client.get(f"/feed?since=4&limit={total}")
    assert rest["Link"] == '</feed/head>; rel="describedby"'
    assert [i["sequence"] for i in lines(rest)] == list(range(5, total + 1))
    assert lines(client.get(f"/feed?since={total}")) == []
    asked = client.get("/feed?limit=1", HTTP_ACCEPT="application/jsonl")
    assert asked["Content-Type"] == "application/jsonl"


def test_a_renamed_user_breaks_no_digest(history):
    assert history.username == "cora-renamed"
    assert feed.verify() == (feed.head()[0], None)
    assert Version.objects.filter(author="cora").count() >= 3


def test_feed_answers_are_validated_and_conditional(history, client):
    first = client.get("/feed?limit=2")
    again = client.get("/feed?limit=2", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Feed-Head-Sequence"] == first["Feed-Head-Sequence"]
    assert first["Last-Modified"]
    later = client.get("/feed?limit=2", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert later.status_code == 304


@pytest.mark.parametrize(
    "query, name, reason",
    [
        ("since=abc", "since", "must be a whole number; got 'abc'."),
        ("since=-1", "since", "must be a whole number; got '-1'."),
        ("since=1.5", "since", "must be a whole number; got '1.5'."),
        ("since=99999", "since", "99999 is beyond the head of the feed, item {head}."),
        ("limit=0", "limit", "must be from 1 to 10,000; got 0."),
        ("limit=10001", "limit", "must be from 1 to 10,000; got 10001."),
        ("limit=", "limit", "must be a whole number; got ''."),
        ("since=%EF%BC%91", "since", "must be a whole number; got '１'."),
    ],
)
def test_bad_paging_is_a_400_problem(history, client, query, name, reason):
    response = client.get(f"/feed?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    reason = reason.format(head=feed.head()[0])
    assert body["invalid-params"] == [{"name": name, "reason": reason}]
    assert (body["status"], body["detail"]) == (400, f"{name}: {reason}")


def test_head_and_summary_name_the_latest_item(history, client):
    sequence, digest = feed.head()
    head = client.head("/feed")
    assert head.status_code == 200
    assert head.content == b""
    assert (head["Feed-Head-Sequence"], head["Feed-Head-Digest"]) == (str(sequence), digest)
    summary = client.get("/feed/head")
    assert summary["Content-Type"] == "application/json"
    body = summary.json()
    assert (body["sequence"], body["digest"]) == (sequence, digest)
    assert body["feed"] == f"{settings.REGISTRY_URI_BASE}/feed"
    assert [r["slug"] for r in body["registers"]] == ["statistical-entity", AREAS]
    assert summary["Feed-Head-Digest"] == digest
    assert client.get("/feed/head", HTTP_IF_NONE_MATCH=summary["ETag"]).status_code == 304
    one = client.get(f"/feed/{sequence}")
    assert one.json()["digest"] == digest
    assert one["Cache-Control"] == "public, max-age=86400"
    missing = client.get(f"/feed/{sequence + 1}")
    assert missing.status_code == 404
    assert (
        missing.json()["detail"] == f"There is no feed item {sequence + 1}; the head is {sequence}."
    )
    assert client.post("/feed").status_code == 405


def test_the_feed_in_atom(history, client):
    for response in (
        client.get("/feed.atom?limit=3"),
        client.get("/feed?limit=3", HTTP_ACCEPT="application/atom+xml"),
    ):
        assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
        root = ET.fromstring(b"".join(response.streaming_content))  # noqa: S314 (our own XML)
        assert root.tag == f"{ATOM}feed"
        assert root.find(f"{ATOM}id").text == f"{settings.REGISTRY_URI_BASE}/feed"
        entries = root.findall(f"{ATOM}entry")
        assert [e.find(f"{ATOM}id").text for e in entries] == [
            f"{settings.REGISTRY_URI_BASE}/feed/{n}" for n in (1, 2, 3)
        ]
        item = json.loads(entries[0].find(f"{ATOM}content").text)
        assert item["sequence"] == 1 and item["previous"] == ""
        assert entries[0].find(f"{ATOM}title").text == f"{item['entry']} version 1"
        assert entries[0].find(f"{ATOM}updated").text == item["recorded_at"]
        nxt = [
            link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "next"
        ]
        assert nxt == ["http://testserver/feed.atom?since=3&limit=3"]
    assert client.get("/feed", HTTP_ACCEPT="text/turtle").status_code == 406


def test_the_void_document_describes_the_feed(db, client):
    import rdflib

    graph = rdflib.Graph().parse(data=client.get("/.well-known/void.ttl").content, format="turtle")
    dcat = rdflib.Namespace("http://www.w3.org/ns/dcat#")
    base = settings.REGISTRY_URI_BASE
    distribution = rdflib.URIRef(f"{base}/.well-known/void#feed")
    assert (
        rdflib.URIRef(f"{base}/.well-known/void#registry"),
        dcat.distribution,
        distribution,
    ) in graph
    assert graph.value(distribution, dcat.accessURL) == rdflib.URIRef(f"{base}/feed")
    assert {str(m) for m in graph.objects(distribution, dcat.mediaType)} == {
        "application/x-ndjson",
        "application/atom+xml",
    }


# -- The mirror ------------------------------------------------------------------------


class Relay:
    """A real HTTP server whose requests the test's own thread answers with the test
    client (inside the test's transaction, which a server thread could not see)."""

    def __init__(self, client):
        self.client = client
        self.requests: queue.Queue = queue.Queue()
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the http.server API)
                answer: queue.Queue = queue.Queue()
                relay.requests.put((self.path, self.headers.get("Accept", "*/*"), answer))
                status, headers, body = answer.get()
                self.send_response(status)
                for name, value in headers:
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.paths: list[str] = []

    def run(self, process: subprocess.Popen) -> tuple[str, str]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            while process.poll() is None:
                try:
                    path, accept, answer = self.requests.get(timeout=0.1)
                except queue.Empty:
                    continue
                self.paths.append(path)
                response = self.client.get(path, HTTP_ACCEPT=accept)
                body = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                answer.put((response.status_code, list(response.items()), body))
            out, err = process.communicate(timeout=60)
        finally:
            self.server.shutdown()
            self.server.server_close()
        return out, err


@pytest.fixture
def mirror_database(tmp_path):
    """The environment of a process working on an empty, migrated second database."""
    env = {
        **os.environ,
        "SECRET_KEY": "a-test-mirror-key-long-enough-to-be-a-key",
        "REGISTRY_SPARQL_STORE": str(tmp_path / "oxigraph"),
        "REGISTRY_URI_BASE": settings.REGISTRY_URI_BASE,
        "REGISTRY_CACHE_URL": f"file://{tmp_path / 'cache'}",
    }
    dropped = None
    if connection.vendor == "postgresql":
        import psycopg

        params = connection.settings_dict
        name = f"mirror_{os.getpid()}_{threading.get_ident() % 100000}"
        admin = {
            "host": params["HOST"] or None,
            "port": params["PORT"] or None,
            "user": params["USER"] or None,
            "password": params["PASSWORD"] or None,
            "dbname": "postgres",
            "autocommit": True,
        }
        with psycopg.connect(**admin) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}"')
            server.execute(f'CREATE DATABASE "{name}"')
        # The server's own URL (bin/pg-temp's, or the developer's), naming the new database.
        url = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(url._replace(path=f"/{name}"))
        dropped = (admin, name)
    else:
        env.pop("DATABASE_URL", None)
        env["REGISTRY_SQLITE_PATH"] = str(tmp_path / "mirror.sqlite3")
    manage(env, "migrate", "-v0")
    yield env
    if dropped:
        import psycopg

        admin, name = dropped
        with psycopg.connect(**admin) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env, *args) -> str:
    done = subprocess.run(  # noqa: S603 (our interpreter and manage.py)
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def replay(client, env, *args) -> tuple[int, str, str, list[str]]:
    relay = Relay(client)
    process = subprocess.Popen(  # noqa: S603 (our interpreter and manage.py)
        [sys.executable, str(ROOT / "manage.py"), "replay_feed", f"{relay.url}/feed", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = relay.run(process)
    return process.returncode, out, err, relay.paths


STATE = "import json; from registry import mirror; print(json.dumps(mirror.state()))"


def state_of(env) -> dict:
    """``registry.mirror.state()`` of the database ``env`` names (the shell's last line:
    Django's shell may say what it imported first)."""
    return json.loads(manage(env, "shell", "-c", STATE).splitlines()[-1])


def test_a_mirror_replays_the_feed_page_by_page_and_equals_the_source(
    history, client, mirror_database
):
    total = feed.head()[0]
    code, out, err, paths = replay(client, mirror_database, "--page", "4")
    assert code == 0, err
    assert out.strip() == (
        f"{total:,} feed items replayed ({total - 1:,} entry versions, 1 change event "
        f"versions); head {total} {feed.head()[1]}"
    )
    assert paths == ["/feed/head"] + [
        f"/feed?since={since}&limit=4" for since in range(0, total, 4)
    ]
    mirrored = state_of(mirror_database)
    assert mirrored == mirror.state()
    assert mirrored["entries"][f"{AREAS}/E07900002"]["snapshot"]["names"][0][2] == "West Testing"
    verified = manage(mirror_database, "verify_feed")
    assert f"{total:,} feed items verified; head {total} {feed.head()[1]}" in verified
    # A new version at the source: the next replay applies just it.
    save_entry(
        Register.objects.get(slug=AREAS),
        "E05900001",
        {**canonical(Version.objects.filter(entry__key="E05900001").latest("number").snapshot),
         "attributes": {"ward": True}},
        Actor(user=history, reason="A later edit"),
    )  # fmt: skip
    code, out, err, paths = replay(client, mirror_database)
    assert code == 0, err
    assert out.startswith("1 feed items replayed (1 entry versions, 0 change event versions)")
    assert paths == ["/feed/head", f"/feed?since={total}&limit=1000"]
    mirrored = state_of(mirror_database)
    assert mirrored == mirror.state()
    assert mirrored["versions"][-1]["who"]["user"] == "cora-renamed"


def test_a_mirror_pages_through_link_headers(history, client, tmp_path):
    """The client reads every page the Link headers lead to (pages of 3 here)."""
    pages = []

    def fetch(url, accept):
        path = url.removeprefix("http://testserver")
        pages.append(path)
        response = client.get(path, HTTP_ACCEPT=accept)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, dict(response.items()), body

    original = mirror.PAGE
    mirror.PAGE = 3
    try:
        source = mirror.open_source("http://testserver/feed", 0, fetch)
        items = list(source.items)
    finally:
        mirror.PAGE = original
    total = feed.head()[0]
    assert [i["sequence"] for i in items] == list(range(1, total + 1))
    assert pages[-1] == f"/feed?since={(total - 1) // 3 * 3}&limit=3"
    assert len([p for p in pages if p.startswith("/feed?")]) == -(-total // 3)


def test_a_tampered_version_is_named_by_verify_feed_and_refused_by_a_mirror(
    history, client, mirror_database
):
    victim = Version.objects.get(entry__key="E07900001", number=1)
    snapshot = victim.snapshot
    snapshot["names"][0][2] = "Rewritten East"
    Version.objects.filter(pk=victim.pk).update(snapshot=snapshot)
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as raised:
        call_command("verify_feed", stdout=StringIO())
    assert str(raised.value) == (
        f"Feed item {victim.sequence} is broken: its stored version does not match its digest."
    )
    code, out, err, _ = replay(client, mirror_database)
    assert code == 1
    assert err.strip() == (
        f"CommandError: Feed item {victim.sequence} is refused: its content does not match "
        "its digest."
    )
    # Nothing was written: the mirror is still empty.
    mirrored = state_of(mirror_database)
    assert (mirrored["head"], mirrored["entries"], mirrored["versions"]) == ([0, ""], {}, [])


def test_a_feed_file_replays_too_and_a_broken_chain_is_refused(
    history, client, mirror_database, tmp_path
):
    body = b"".join(client.get("/feed?limit=10000").streaming_content)
    items = [json.loads(line) for line in body.splitlines()]
    # Without the summary, the registers must exist: the file alone is refused, saying so.
    whole = tmp_path / "feed.jsonl"
    whole.write_bytes(body)
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "replay_feed", str(whole)],
        env=mirror_database, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "There is no register called" in done.stderr
    # An item left out breaks the chain at its place.
    assert feed.check([i for i in items if i["sequence"] != 3]) == feed.Broken(
        3, "item 3 is missing (found 4)"
    )
