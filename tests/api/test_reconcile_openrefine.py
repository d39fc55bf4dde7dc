"""OpenRefine's real request shapes, replayed from tests/api/reconcile_requests/: a
form-encoded batch of 10, type guessing with limit 3 and no type, data extension of 10 ids,
and entity suggest with a cursor."""

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from api.reconcile import index

RECORDED = Path(__file__).parent / "reconcile_requests"


@pytest.fixture(autouse=True)
def no_background_build(monkeypatch):
    monkeypatch.setattr(index, "warm", lambda: None)


def replay(client, name: str):
    request = json.loads((RECORDED / name).read_text())
    if request["method"] == "POST":
        response = client.post(
            request["path"], request["body"], content_type=request["content_type"]
        )
    else:
        response = client.get(f"{request['path']}?{request['query']}")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.json()


def test_reconcile_batch_of_10(client, db):
    body = replay(client, "reconcile_batch_of_10.json")
    top = {
        key: (r["result"][0]["id"], r["result"][0]["match"]) if r["result"] else None
        for key, r in body.items()
    }
    assert top == {
        "q0": ("E05001154", True),  # Castle, Sunderland
        "q1": ("E05007069", True),  # Castle, Tamworth
        "q2": ("E05001260", True),  # Abbey, Sandwell
        "q3": ("E05010458", True),  # Abbey, Leicester
        "q4": ("E05001380", True),  # Park, Calderdale
        "q5": ("E05007571", True),  # St Mary's, Adur
        "q6": ("E05009386", True),  # Victoria, Hackney
        "q7": ("E05013043", True),  # Headland and Harbour, Hartlepool (2021 ward, not 2016's)
        "q8": top["q8"],  # Castle with no district: one of many
        "q9": top["q9"],
    }
    assert not any(c["match"] for c in body["q8"]["result"])
    assert len(body["q8"]["result"]) == 10
    assert not any(c["match"] for c in body["q9"]["result"])
    q7 = body["q7"]["result"]
    assert [(c["id"], c["description"]) for c in q7[:2]] == [
        ("E05013043", "Ward in Hartlepool, 2021–"),
        ("E05008947", "Ward in Hartlepool, 2012–2021"),  # the CHD's dates
    ]
    assert q7[0]["score"] > q7[1]["score"]


def test_type_guessing(client, db):
    body = replay(client, "guess_types.json")
    assert all(len(r["result"]) == 3 for r in body.values())
    assert [r["result"][0]["id"] for r in body.values()] == [
        "E06000001", "E06000002", "E06000003", "E06000004", "E06000005",
        "E06000047", "E06000057", "E08000021", "E08000022", "E08000024",
    ]  # fmt: skip
    # Every candidate's types carry names, and the broader group is offered for every row.
    counted = {}
    for result in body.values():
        for candidate in result["result"]:
            for t in candidate["type"]:
                assert t["name"]
                counted[t["id"]] = counted.get(t["id"], 0) + 1
    assert counted["local-authority-district"] >= 10
    assert counted["local-authority"] == 10  # each council next to its area


def test_extend_10_ids(client, db):
    body = replay(client, "extend_10_ids.json")
    assert [m["id"] for m in body["meta"]] == [
        "name", "parent-district", "parent-region", "current", "status", "operative", "governed_by",
    ]  # fmt: skip
    rows = body["rows"]
    assert list(rows) == [
        "E06000001", "E05001234", "E07000004", "E08000020", "E10000002",
        "BIR", "W06000001", "E01000001", "E14000733", "S12000036",
    ]  # fmt: skip
    assert rows["E05001234"] == {
        "name": [{"str": "Woodlands"}],
        "parent-district": [{"id": "E08000026", "name": "Coventry"}],
        "parent-region": [{"id": "E12000005", "name": "West Midlands"}],
        "current": [{"id": "E05001234", "name": "Woodlands"}],
        "status": [{"str": "live"}],
        "operative": [{"date": "2009-01-01T00:00:00Z"}],  # the CHD's date
        "governed_by": [],
    }
    assert rows["E08000020"]["current"] == [{"id": "E08000037", "name": "Gateshead"}]
    assert rows["E07000004"]["status"] == [{"str": "live"}]  # as at 2019-01-01
    assert rows["E06000001"]["governed_by"] == [{"id": "HPL", "name": "Hartlepool Borough Council"}]
    for row in rows.values():
        for values in row.values():
            assert all(v.get("name") for v in values if "id" in v)


def test_suggest_with_cursor(client, db):
    first = replay(client, "suggest_entity_cursor.json")
    assert first["cursor"] == 10
    assert [r["id"] for r in first["result"][:3]] == ["E05001154", "E05007069", "E05007695"]
    more = client.get(
        "/reconcile/suggest/entity", {"prefix": "castle", "type": "ward", "cursor": first["cursor"]}
    ).json()
    assert {r["id"] for r in more["result"]}.isdisjoint({r["id"] for r in first["result"]})


def guessed_types(client, cells: list[str]) -> list[str]:
    """The types OpenRefine's "Start reconciling" dialogue offers for a column, best first:
    its guesser sends the first ten distinct cells untyped with limit 3, counts each type
    once per candidate (at most ten), and breaks ties by the mean of 1/(1 + the candidate's
    rank) weighted by the type's place in the candidate's list (first counts most)."""
    queries = {f"q{i}": {"query": cell, "limit": 3} for i, cell in enumerate(cells[:10])}
    response = client.post(
        "/reconcile",
        urlencode({"queries": json.dumps(queries)}),
        content_type="application/x-www-form-urlencoded",
    )
    counts: dict[str, int] = {}
    scores: dict[str, float] = {}
    for answer in response.json().values():
        for rank, candidate in enumerate(answer["result"]):
            kinds = candidate["type"]
            for place, kind in enumerate(kinds):
                weight = (len(kinds) - place) / len(kinds) / (1 + rank)
                counts[kind["id"]] = counts.get(kind["id"], 0) + 1
                scores[kind["id"]] = scores.get(kind["id"], 0.0) + weight
    return sorted(counts, key=lambda k: (-min(10, counts[k]), -scores[k] / counts[k]))


def test_type_guessing_offers_the_area_and_the_council(client, db):
    cells = [
        "Kent County Council", "London Borough of Hackney", "Adur District Council",
        "Leeds City Council", "Cardiff Council", "Hartlepool Borough Council",
        "Surrey County Council", "Bristol City Council", "Fife Council", "Wigan Council",
    ]  # fmt: skip
    top3 = guessed_types(client, cells)[:3]
    assert "local-authority" in top3
    assert {"local-authority-area", "local-authority-district"} & set(top3)


def test_type_guessing_covers_the_whole_uk_for_wards(client, db):
    # Ward names of England, Wales and Scotland: the type pre-selected must be the group.
    cells = [
        "Headland and Harbour", "Riverside", "Cathays", "Leith Walk", "Splott",
        "Hendy", "Aberkenfig", "Seaton", "Park", "Castle",
    ]  # fmt: skip
    assert guessed_types(client, cells)[0] == "ward"
