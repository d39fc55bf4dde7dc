"""The read path of one entry costs the same whatever is cached: the lookup API's entry and
an entry's JSON document in at most four queries for any code (live, terminated, split,
recoded, a council, an entity type), a repeated answer from the shared cache in one, and an
edit seen by the next read."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry import services
from registry.documents import describe
from tests.conftest import d

pytestmark = pytest.mark.django_db

API = "/api/v1/entries"

# Every kind of entry the path must serve: live; terminated by a merge; split; recoded;
# renamed; a council; an entity type; a ward.
ENTRIES = [
    ("statistical-geography", "E06000060", None),
    ("statistical-geography", "E07000004", None),
    ("statistical-geography", "E07000004", "2019-01-01"),
    ("statistical-geography", "E01033468", "2024-01-01"),
    ("statistical-geography", "E08000020", None),
    ("statistical-geography", "E07000112", "2018-03-31"),
    ("local-authority", "BIR", None),
    ("statistical-entity", "E06", None),
    ("statistical-geography", "E05011111", None),
]


def query(date):
    return f"?date={date}" if date else ""


@pytest.fixture
def client(client):
    """A client of a process that has answered before: the registers, which every process
    reads once a minute (registry.statistics.registers), are not counted against the entry."""
    assert client.get(f"{API}/statistical-geography/W06000015/").status_code == 200
    return client


@pytest.mark.parametrize(("register", "key", "date"), ENTRIES)
def test_an_entry_from_the_api_in_at_most_four_queries(client, register, key, date):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{API}/{register}/{key}/{query(date)}")
    assert response.status_code == 200
    assert len(queries) <= 4, [q["sql"][:120] for q in queries]
    from registry.models import Entry

    entry = Entry.objects.get(register__slug=register, key=key)
    assert response.json() == describe(entry, d(date) if date else None).as_dict()


@pytest.mark.parametrize(("register", "key", "date"), ENTRIES)
def test_an_entry_document_in_at_most_four_queries(client, register, key, date):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/doc/{register}/{key}.json{query(date)}")
    assert response.status_code == 200
    assert len(queries) <= 4, [q["sql"][:120] for q in queries]
    assert response.json()["key"] == key


def test_the_facts_of_a_terminated_district_and_a_split_lsoa(client):
    doc = client.get(f"{API}/statistical-geography/E07000004/?date=2024-01-01").json()
    assert (doc["status"], doc["terminated"]) == ("terminated", "2020-03-31")
    [current] = doc["current"]
    assert (current["key"], current["name"]) == ("E06000060", "Buckinghamshire")
    assert [(e["kind"], e["date"]) for e in current["via"]] == [("merge", "2020-04-01")]
    split = client.get(f"{API}/statistical-geography/E01033468/?date=2024-01-01").json()
    assert [c["key"] for c in split["current"]] == ["E01035189", "E01035190"]


def test_a_repeated_answer_comes_from_the_shared_cache_in_one_query(client):
    url = f"{API}/statistical-geography/E07000004/"
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert len(queries) == 1  # the entry and the data version, for the validator
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"]


def test_an_edit_shows_in_the_next_read(client, area):
    api = f"{API}/statistical-geography/E06000001/"
    page = "/doc/statistical-geography/E06000001.json"
    before_api, before_page = client.get(api), client.get(page)
    assert "Hartlepwl" not in json.dumps(before_api.json())
    entry = area("E06000001")
    snapshot = services.current_snapshot(entry)
    snapshot["names"] = [*snapshot["names"], ["cy", "official", "Hartlepwl", "2009-01-01", None]]
    services.save_entry(entry.register, entry.key, snapshot, services.Actor(reason="test"))
    after_api, after_page = client.get(api), client.get(page)
    assert after_api.json()["name_cy"] == "Hartlepwl"
    assert after_page.json()["name_cy"] == "Hartlepwl"
    assert after_api["ETag"] != before_api["ETag"]
    assert after_page["ETag"] != before_page["ETag"]
    assert client.get(api, HTTP_IF_NONE_MATCH=before_api["ETag"]).status_code == 200
    assert client.get(api, HTTP_IF_NONE_MATCH=after_api["ETag"]).status_code == 304
