"""Public pages and APIs show an edit at once: every cache and validator is keyed so that a
change to an entry invalidates what it changed."""

import pytest
from rdflib import Graph, Literal

from registry.services import Actor, current_snapshot, save_entry


@pytest.fixture
def rename_wrexham(area):
    def rename(welsh: str) -> None:
        wrexham = area("W06000006")
        snapshot = current_snapshot(wrexham)
        snapshot["names"] = [
            r if r[0] != "cy" else [r[0], r[1], welsh, r[3], r[4]] for r in snapshot["names"]
        ]
        save_entry(
            wrexham.register,
            "W06000006",
            snapshot,
            Actor(reason="test"),
            expected_version=wrexham.version,
        )

    return rename


@pytest.mark.parametrize(
    ("url", "accept"),
    [
        ("/doc/statistical-geography/W06000006", "text/html"),
        ("/doc/statistical-geography/W06000006.json", "application/json"),
        ("/doc/statistical-geography/W06000006.ttl", "text/turtle"),
        ("/api/v1/entries/statistical-geography/W06000006/", "application/json"),
    ],
)
def test_an_edit_shows_at_once_and_changes_the_validator(client, rename_wrexham, url, accept):
    first = client.get(url, HTTP_ACCEPT=accept)
    assert first.status_code == 200
    assert "Wrecsam" in first.content.decode()
    etag = first["ETag"]
    assert client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=etag).status_code == 304
    rename_wrexham("Wrecsam Newydd")
    second = client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 200
    assert second["ETag"] != etag
    assert "Wrecsam Newydd" in second.content.decode()


def test_the_turtle_carries_the_new_welsh_name(client, rename_wrexham):
    client.get("/doc/statistical-geography/W06000006.ttl")  # warm any cache
    rename_wrexham("Wrecsam Newydd")
    graph = Graph().parse(
        data=client.get("/doc/statistical-geography/W06000006.ttl").content.decode(),
        format="turtle",
    )
    welsh = {o for o in graph.objects() if isinstance(o, Literal) and o.language == "cy"}
    assert Literal("Wrecsam Newydd", lang="cy") in welsh
    assert Literal("Wrecsam", lang="cy") not in welsh


def test_reconciliation_finds_the_new_name(client, rename_wrexham):
    import json

    def best(name: str) -> list:
        answer = client.post("/reconcile", {"queries": json.dumps({"q0": {"query": name}})})
        return [c["id"] for c in answer.json()["q0"]["result"][:3]]

    assert "W06000006" not in best("Tref y Ffin Hir")
    rename_wrexham("Tref y Ffin Hir")
    assert best("Tref y Ffin Hir")[0] == "W06000006"
