"""As recorded on: ``?recorded=`` beside ``?date=``, answered from the versions alone.

One real entry, E07000004 Aylesbury Vale, is edited twice by a curator through the service
layer, each edit at a controlled record time, so it has three recorded states: as loaded,
after the first edit and after the second. Each is asked for by record time in every
interface that answers ``?recorded=``.
"""

import datetime as dt
import json
import re
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone
from django.utils.http import http_date
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SKOS

from registry.models import Entry, Version
from registry.services import Actor, current_snapshot, save_entry
from registry.uris import entry_uri

AREA = "statistical-geography"
KEY = "E07000004"
DOC = f"/doc/{AREA}/{KEY}"
API = f"/api/v1/entries/{AREA}/{KEY}/"
LOADED, FIRST, SECOND = "Aylesbury Vale", "Aylesbury Vale (first correction)", "Vale of Aylesbury"
DAY = "2019-06-01"  # while it was a live district


def instant(moment: dt.datetime) -> str:
    """A ``recorded=`` instant, in UTC with microseconds."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


class History:
    """The three recorded states of E07000004: when each was recorded and its version."""

    def __init__(self, entry, first_ever, loaded_at, states):
        self.entry = entry
        self.first_ever = first_ever  # when its first version was recorded
        self.loaded_at = loaded_at  # when the version as loaded was recorded
        # [(name, an instant it is the record at, version number)], oldest first; the
        # first instant is the end of the load (the change events are recorded after the
        # entries), the others the moments of the edits.
        self.states = states


@pytest.fixture
def edited(db, django_user_model):
    entry = Entry.objects.select_related("register").get(register__slug=AREA, key=KEY)
    versions = list(entry.versions.order_by("number"))
    loaded = versions[-1]
    end_of_load = Version.objects.order_by("-recorded_at").values_list("recorded_at", flat=True)[0]
    curator = django_user_model.objects.create_user("recorded-curator")
    states = [(LOADED, end_of_load, loaded.number)]
    for days, name in ((1, FIRST), (2, SECOND)):
        snapshot = current_snapshot(entry)
        snapshot["names"] = [
            row._replace(text=name) if (row.language, row.kind) == ("en", "official") else row
            for row in snapshot["names"]
        ]
        at = end_of_load + dt.timedelta(days=days)
        with mock.patch.object(timezone, "now", return_value=at):
            entry = save_entry(
                entry.register, KEY, snapshot, Actor(user=curator, reason=f"Rename to {name}")
            )
        states.append((name, at, entry.version))
    assert [n for _, _, n in states] == [loaded.number, loaded.number + 1, loaded.number + 2]
    return History(entry, versions[0].recorded_at, loaded.recorded_at, states)


def version_time(edited, number):
    """When version ``number`` of E07000004 was recorded."""
    return (
        edited.loaded_at
        if number == edited.states[0][2]
        else next(at for _, at, n in edited.states if n == number)
    )


# ---------------------------------------------------------------------------------------
# Entry documents


@pytest.mark.django_db
def test_each_state_by_record_time_in_json(client, edited):
    for name, at, number in edited.states:
        for asked in (at, at + dt.timedelta(hours=12)):  # at the moment, and after it
            response = client.get(f"{DOC}.json?date={DAY}&recorded={instant(asked)}")
            assert response.status_code == 200
            assert response["Content-Type"] == "application/json"
            data = response.json()
            assert data["name"] == name
            assert data["status"] == "live"
            assert data["version"] == number
            assert data["recorded"] == {
                "recorded": asked.astimezone(dt.UTC).isoformat(),
                "version": number,
                "version_recorded_at": version_time(edited, number).isoformat(),
            }
    # Without recorded=: the current record, the second edit.
    assert client.get(f"{DOC}.json?date={DAY}").json()["name"] == SECOND


@pytest.mark.django_db
def test_just_before_an_edit_is_the_state_before_it(client, edited):
    (_, _, loaded_number), (_, first_at, _) = edited.states[0], edited.states[1]
    before = instant(first_at - dt.timedelta(microseconds=1))
    data = client.get(f"{DOC}.json?date={DAY}&recorded={before}").json()
    assert (data["name"], data["version"]) == (LOADED, loaded_number)


@pytest.mark.django_db
def test_each_state_in_turtle(client, edited):
    for name, at, _ in edited.states:
        response = client.get(f"{DOC}.ttl?date={DAY}&recorded={instant(at)}")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/turtle; charset=utf-8"
        graph = Graph().parse(data=response.content.decode(), format="turtle")
        assert set(graph.objects(URIRef(entry_uri(AREA, KEY)), SKOS.prefLabel)) == {
            Literal(name, lang="en")
        }


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["jsonld", "rdf", "nt", "csv", "html"])
def test_every_format_shows_the_recorded_name(client, edited, fmt):
    name, at, _ = edited.states[1]
    response = client.get(f"{DOC}.{fmt}?date={DAY}&recorded={instant(at)}")
    assert response.status_code == 200
    body = response.content.decode()
    assert name in body
    assert SECOND not in body


@pytest.mark.django_db
def test_the_page_states_both_dates_and_leads_back(client, edited):
    name, at, number = edited.states[1]
    response = client.get(f"{DOC}?date={DAY}&recorded={instant(at)}")
    assert response.status_code == 200
    html = response.content.decode()
    shown = text(html)
    asked = at.astimezone(dt.UTC).isoformat()
    assert f"valid on 1 June 2019 as recorded on {asked}" in shown
    assert f"Valid on 1 June 2019, as recorded on {asked}" in shown
    assert f"version {number} of this entry, recorded at {at.isoformat()}" in shown
    assert number == edited.states[0][2] + 1
    assert f"<h1>{name}</h1>" in html
    found = re.search(r'<a href="([^"]+)" id="current-record">', html)
    assert found and found.group(1) == f"{DOC}?date={DAY}"
    # The other formats keep both dates.
    assert f'href="{DOC}.ttl?date={DAY}&amp;recorded=' in html
    # The current record says nothing of record time.
    current = client.get(f"{DOC}?date={DAY}").content.decode()
    assert "as recorded on" not in current
    assert f"<h1>{SECOND}</h1>" in current


@pytest.mark.django_db
def test_recorded_now_is_the_current_document(client, edited):
    """Built from the versions alone, the latest record says exactly what the present
    tables say: the same parents, council, events, successors and current codes."""
    _, at, _ = edited.states[2]
    compared = {}
    for key, day in ((KEY, DAY), (KEY, "2024-01-01"), ("E06000060", "2024-01-01")):
        path = f"/doc/{AREA}/{key}.json?date={day}"
        now = client.get(path).json()
        then = client.get(f"{path}&recorded={instant(at)}").json()
        then.pop("recorded")
        assert then == now
        compared[key, day] = now
    # There was something to compare: a council, a parent, events, a successor.
    ended = compared[KEY, "2024-01-01"]
    assert [link["key"] for link in ended["successors"]] == ["E06000060"]
    assert [link["key"] for link in ended["current"]] == ["E06000060"]
    assert ended["events"] and compared[KEY, DAY]["governed_by"]
    assert compared[KEY, DAY]["parents"]


@pytest.mark.django_db
def test_a_date_means_the_end_of_that_day(client, edited):
    _, first_at, _ = edited.states[1]
    day = timezone.localtime(first_at).date()
    data = client.get(f"{DOC}.json?date={DAY}&recorded={day.isoformat()}").json()
    assert data["name"] == FIRST


@pytest.mark.django_db
def test_not_yet_recorded_is_a_404_saying_so(client, edited):
    before = edited.first_ever - dt.timedelta(seconds=1)
    response = client.get(f"{DOC}.json?recorded={instant(before)}")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith(
        f"{KEY} was not yet recorded at {before.astimezone(dt.UTC).isoformat()}"
    )
    assert edited.first_ever.isoformat() in detail
    page = client.get(f"{DOC}?recorded={instant(before)}")
    assert page.status_code == 404
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert "was not yet recorded" in page.content.decode()


@pytest.mark.django_db
def test_validators_differ_per_recorded_state(client, edited):
    tags = set()
    for _, at, _ in edited.states:
        response = client.get(f"{DOC}.json?date={DAY}&recorded={instant(at)}")
        tags.add(response["ETag"])
        again = client.get(
            f"{DOC}.json?date={DAY}&recorded={instant(at)}", HTTP_IF_NONE_MATCH=response["ETag"]
        )
        assert again.status_code == 304
    current = client.get(f"{DOC}.json?date={DAY}")
    tags.add(current["ETag"])
    assert len(tags) == 4
    # A past record last changed no later than the instant asked about.
    _, end_of_load, _ = edited.states[0]
    response = client.get(f"{DOC}.json?date={DAY}&recorded={instant(end_of_load)}")
    assert response["Last-Modified"] == http_date(int(end_of_load.timestamp()))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value, says",
    [
        ("2024-02-30", "2024-02-30"),
        ("yesterday", "'yesterday'"),
        ("2024-03-01T10:00:00", "time zone"),
        ("2024-03-01T10:00Z", "'2024-03-01T10:00Z'"),
        ("2024-03-01T25:00:00Z", "not a valid date and time"),
    ],
)
def test_bad_recorded_values_are_a_400(client, value, says):
    response = client.get(f"{DOC}.json?recorded={value}")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("recorded ")
    assert says in response.json()["detail"]
    page = client.get(f"{DOC}?recorded={value}")
    assert page.status_code == 400
    assert page["Content-Type"] == "text/html; charset=utf-8"
    problem = client.get(f"{API}?recorded={value}")
    assert problem.status_code == 400
    assert problem["Content-Type"] == "application/problem+json"
    assert problem.json()["invalid-params"][0]["name"] == "recorded"
    assert says in problem.json()["invalid-params"][0]["reason"]


@pytest.mark.django_db
def test_documents_that_cannot_answer_recorded_refuse_it(client):
    response = client.get("/doc/change-event.json?recorded=2024-01-01")
    assert response.status_code == 400
    assert "recorded" in response.json()["detail"]
    problem = client.get(f"{API}children/?recorded=2024-01-01")
    assert problem.status_code == 400
    assert problem.json()["invalid-params"][0]["name"] == "recorded"


# ---------------------------------------------------------------------------------------
# The lookup API


@pytest.mark.django_db
def test_entry_endpoint_by_record_time(client, edited):
    for name, at, number in edited.states:
        response = client.get(f"{API}?date={DAY}&recorded={instant(at)}")
        assert response.status_code == 200
        data = response.json()
        assert (data["name"], data["version"], data["recorded"]["version"]) == (
            name,
            number,
            number,
        )
    before = instant(edited.first_ever - dt.timedelta(seconds=1))
    missing = client.get(f"{API}?recorded={before}")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert "was not yet recorded" in missing.json()["detail"]


@pytest.mark.django_db
def test_history_by_record_time(client, edited):
    for name, at, number in edited.states:
        data = client.get(f"{API}history/?date={DAY}&recorded={instant(at)}").json()
        official = {
            n["text"] for n in data["names"] if (n["language"], n["kind"]) == ("en", "official")
        }
        assert official == {name}
        assert data["recorded"]["version"] == number
        assert data["terminated"] == "2020-03-31"
        assert [c["key"] for c in data["current"]] == [KEY]  # live on the day
        later = client.get(f"{API}history/?date=2024-01-01&recorded={instant(at)}").json()
        assert [c["key"] for c in later["current"]] == ["E06000060"]
        assert [link["key"] for link in later["successors"]] == ["E06000060"]


@pytest.mark.django_db
def test_bulk_lookup_by_record_time(client, edited):
    body = json.dumps({"items": [KEY, "E06000060"], "date": DAY})
    for name, at, _ in edited.states:
        response = client.post(
            f"/api/v1/lookup/?recorded={instant(at)}", body, content_type="application/json"
        )
        assert response.status_code == 200
        data = response.json()
        assert data["recorded"] == at.astimezone(dt.UTC).isoformat()
        assert data["results"][0]["match"]["name"] == name
        assert data["results"][0]["status"] == "live"
    before = instant(edited.first_ever - dt.timedelta(seconds=1))
    response = client.post(
        f"/api/v1/lookup/?recorded={before}", body, content_type="application/json"
    )
    results = response.json()["results"]
    assert [r["error"]["code"] for r in results] == ["not-recorded", "not-recorded"]
    assert [r["match"] for r in results] == [None, None]


@pytest.mark.django_db
def test_listings_by_record_time(client, edited):
    for name, at, _ in edited.states:
        query = f"date={DAY}&recorded={instant(at)}"
        api = client.get(f"/api/v1/entries/{AREA}/?entity_type=E07&{query}").json()
        assert api["recorded"] == at.astimezone(dt.UTC).isoformat()
        listed = {item["key"]: item for item in api["results"]}
        assert listed[KEY]["name"] == name
        page = client.get(f"/doc/{AREA}.json?type=E07&{query}").json()
        assert page["recorded"] == at.astimezone(dt.UTC).isoformat()
        items = {item["key"]: item for item in page["items"]}
        assert (items[KEY]["name"], items[KEY]["status"]) == (name, "live")
    html = client.get(f"/doc/{AREA}?type=E07&date={DAY}&recorded={instant(at)}").content.decode()
    assert "as recorded on" in text(html)
    assert f">{SECOND}</a>" in html
    # Before anything was recorded, a listing has no entries.
    before = instant(edited.first_ever - dt.timedelta(days=1))
    empty = client.get(f"/doc/{AREA}.json?type=E07&recorded={before}").json()
    assert empty["count"] == 0


@pytest.mark.django_db
def test_record_time_is_taken_literally(client, edited):
    """At the instant the load wrote E07000004's version, the change events that end it were
    not yet recorded (the loader writes them after the entries): so the record then shows a
    terminated code with no successor, and a moment after the load, the successor."""
    at_its_version = instant(edited.loaded_at)
    then = client.get(f"{API}history/?date=2024-01-01&recorded={at_its_version}").json()
    assert (then["status"], then["successors"], then["events"]) == ("terminated", [], [])
    _, end_of_load, _ = edited.states[0]
    after = client.get(f"{API}history/?date=2024-01-01&recorded={instant(end_of_load)}").json()
    assert [link["key"] for link in after["successors"]] == ["E06000060"]


# ---------------------------------------------------------------------------------------
# Reconciliation: data extension with the recorded setting


def extend(client, settings, properties=("name", "parent-county", "identifier-ons-legacy")):
    query = {
        "ids": [KEY],
        "properties": [{"id": pid, "settings": settings} for pid in properties],
    }
    response = client.post("/reconcile", {"extend": json.dumps(query)})
    return response


@pytest.mark.django_db
def test_extension_values_as_recorded(client, edited):
    for name, at, _ in edited.states:
        response = extend(client, {"date": DAY, "recorded": instant(at)})
        assert response.status_code == 200
        row = response.json()["rows"][KEY]
        assert row["name"] == [{"str": name}]
        assert row["parent-county"] == [{"id": "E10000002", "name": "Buckinghamshire"}]
    # As recorded now, every property says what it says without the setting.
    properties = ("name", "status", "parent", "parent-county", "current", "successors",
                  "governed_by", "identifier-ons-legacy", "operative", "terminated")  # fmt: skip
    _, latest, _ = edited.states[2]
    for day in (DAY, "2024-01-01"):
        now = extend(client, {"date": day}, properties).json()["rows"][KEY]
        then = extend(client, {"date": day, "recorded": instant(latest)}, properties)
        assert then.json()["rows"][KEY] == now
    assert now["current"] == [{"id": "E06000060", "name": "Buckinghamshire"}]
    # Before it was recorded, the registry said nothing of it.
    before = instant(edited.first_ever - dt.timedelta(seconds=1))
    row = extend(client, {"recorded": before}).json()["rows"][KEY]
    assert row == {"name": [], "parent-county": [], "identifier-ons-legacy": []}


@pytest.mark.django_db
def test_extension_refuses_a_bad_recorded_setting(client):
    response = extend(client, {"recorded": "2024-03-01T10:00:00"})
    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "error": "setting recorded '2024-03-01T10:00:00' has no time zone: end it with Z (UTC) "
        "or an offset such as +01:00.",
    }


@pytest.mark.django_db
def test_the_manifest_offers_the_recorded_setting(client):
    settings = client.get("/reconcile").json()["extend"]["property_settings"]
    assert [s["name"] for s in settings] == ["date", "recorded", "limit"]


# ---------------------------------------------------------------------------------------
# SPARQL: DESCRIBE as recorded


@pytest.mark.django_db
def test_sparql_describe_as_recorded_is_the_document_as_recorded(client, edited):
    from rdflib.compare import isomorphic

    uri = entry_uri(AREA, KEY)
    for name, at, _ in edited.states:
        query = f"DESCRIBE <{uri}>"
        response = client.get(
            "/sparql", {"query": query, "recorded": instant(at), "date": DAY, "format": "ttl"}
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "text/turtle; charset=utf-8"
        described = Graph().parse(data=response.content.decode(), format="turtle")
        document = client.get(f"{DOC}.ttl?date={DAY}&recorded={instant(at)}")
        assert isomorphic(described, Graph().parse(data=document.content.decode(), format="turtle"))
        assert set(described.objects(URIRef(uri), SKOS.prefLabel)) == {Literal(name, lang="en")}
    before = instant(edited.first_ever - dt.timedelta(seconds=1))
    empty = client.get(
        "/sparql", {"query": f"DESCRIBE <{uri}>", "recorded": before, "format": "nt"}
    )
    assert (empty.status_code, empty.content.strip()) == (200, b"")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, says",
    [
        (
            {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "recorded": "2024-01-01"},
            "only DESCRIBE",
        ),
        ({"query": "DESCRIBE <x>", "recorded": "2024-01-01T10:00:00"}, "time zone"),
    ],
)
def test_sparql_with_recorded_says_what_it_answers(client, params, says):
    response = client.get("/sparql", {**params, "format": "json"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert says in response.json()["detail"]


@pytest.mark.django_db
def test_the_page_as_recorded_in_welsh(client, edited):
    _, at, _ = edited.states[1]
    html = client.get(f"{DOC}?lang=cy&date={DAY}&recorded={instant(at)}").content.decode()
    asked = at.astimezone(dt.UTC).isoformat()
    assert f"Yn ddilys ar 1 Mehefin 2019, fel y'i cofnodwyd ar {asked}" in text(html).replace(
        "&#x27;", "'"
    )
    assert "Dangos y cofnod cyfredol" in html


# ---------------------------------------------------------------------------------------
# OpenAPI


def test_the_openapi_document_describes_recorded(db):
    from drf_spectacular.generators import SchemaGenerator

    openapi = SchemaGenerator().get_schema(request=None, public=True)

    def takes_recorded(path, method="get"):
        parameters = openapi["paths"][path][method].get("parameters", [])
        return [p for p in parameters if p["name"] == "recorded"]

    for path, method in [
        ("/api/v1/entries/{register}/{key}/", "get"),
        ("/api/v1/entries/{register}/{key}/history/", "get"),
        ("/api/v1/entries/{register}/", "get"),
        ("/api/v1/lookup/", "post"),
    ]:
        (parameter,) = takes_recorded(path, method)
        assert parameter["in"] == "query"
        assert "Europe/London" in parameter["description"]
    assert takes_recorded("/api/v1/entries/{register}/{key}/children/") == []
    document = openapi["components"]["schemas"]["EntryDocument"]
    assert document["properties"]["recorded"]["allOf"] == [{"$ref": "#/components/schemas/Record"}]
    assert "recorded" not in document["required"]
    assert set(openapi["components"]["schemas"]["Record"]["properties"]) == {
        "recorded",
        "version",
        "version_recorded_at",
    }


@pytest.mark.django_db
def test_answers_as_recorded_match_the_schema(client, edited):
    from drf_spectacular.generators import SchemaGenerator

    from tests.api.test_v1_schema import _validate

    openapi = SchemaGenerator().get_schema(request=None, public=True)
    _, at, _ = edited.states[1]
    query = f"date={DAY}&recorded={instant(at)}"
    for url, path in [
        (f"{API}?{query}", "/api/v1/entries/{register}/{key}/"),
        (f"{API}history/?{query}", "/api/v1/entries/{register}/{key}/history/"),
        (f"/api/v1/entries/{AREA}/?entity_type=E07&{query}", "/api/v1/entries/{register}/"),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        _validate(openapi, path, 200, response.json(), "application/json")
    body = json.dumps({"items": [KEY]})
    response = client.post(f"/api/v1/lookup/?{query}", body, content_type="application/json")
    _validate(openapi, "/api/v1/lookup/", 200, response.json())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-07-01", "2024-07-01T23:59:59.999999+01:00"),  # British Summer Time
        ("2024-01-01", "2024-01-01T23:59:59.999999+00:00"),
        ("1900-06-30", "1900-06-30T23:59:59.999999+00:00"),
        # Before 1847 London kept local mean time (-00:01:15), which RFC 3339 cannot write:
        # the same instant in UTC (found by the API fuzzer on PostgreSQL).
        ("0871-01-26", "0871-01-27T00:01:14.999999+00:00"),
        ("1847-11-30", "1847-12-01T00:01:14.999999+00:00"),
        ("2024-07-01T12:00:00Z", "2024-07-01T12:00:00+00:00"),
        ("2024-07-01T12:00:00+02:00", "2024-07-01T12:00:00+02:00"),
    ],
)
def test_a_recorded_value_is_an_instant_rfc_3339_can_write(value, expected):
    from api.http import parse_instant

    moment = parse_instant(value)
    assert moment.isoformat() == expected
    assert re.fullmatch(r".*[+-]\d{2}:\d{2}", moment.isoformat())


@pytest.mark.django_db
def test_a_listing_recorded_before_1847_says_so_in_utc(client):
    data = client.get(f"/api/v1/entries/{AREA}/?recorded=0871-01-26").json()
    assert data["recorded"] == "0871-01-27T00:01:14.999999+00:00"
    assert data["results"] == []
