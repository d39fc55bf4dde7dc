import pytest

from registry.documents import describe
from tests.conftest import d


def test_terminated_district_document(area, settings):
    settings.REGISTRY_URI_BASE = "https://registry.example.org"
    doc = describe(area("E07000004"), d("2024-01-01")).as_dict()
    assert (doc["status"], doc["name"], doc["operative"], doc["terminated"]) == (
        "terminated", "Aylesbury Vale", "2009-01-01", "2020-03-31",
    )  # fmt: skip
    assert doc["uri"] == "https://registry.example.org/id/statistical-geography/E07000004"
    assert doc["entity_type"] == {"key": "E07", "name": "Non-metropolitan Districts"}
    assert doc["parents"]["county"]["key"] == "E10000002"
    assert [link["key"] for link in doc["governed_by"]] == ["AYL"]
    assert [link["key"] for link in doc["successors"]] == ["E06000060"]
    [current] = doc["current"]
    assert (current["key"], current["name"], current["via"][0]["kind"]) == (
        "E06000060",
        "Buckinghamshire",
        "merge",
    )
    assert {
        "scheme": "ons-legacy",
        "value": "11UB",
        "valid_from": "2009-01-01",
        "valid_to": "2020-03-31",
    } in doc["identifiers"]


def test_live_unitary_document_lists_predecessors_and_council(area):
    doc = describe(area("E06000063"), d("2024-01-01")).as_dict()
    assert doc["status"] == "live"
    assert doc["current"] == []
    # Its districts, and the county that split between it and Westmorland and Furness.
    assert [link["key"] for link in doc["predecessors"]] == [
        "E07000026", "E07000028", "E07000029", "E10000006",
    ]  # fmt: skip
    assert [link["key"] for link in doc["governed_by"]] == ["CBD"]


def test_council_document_lists_the_areas_it_governs(council):
    doc = describe(council("BNS"), d("2025-06-01")).as_dict()
    assert [link["key"] for link in doc["governs"]] == ["E08000038"]
    assert doc["name"] == "Barnsley Metropolitan Borough Council"


@pytest.mark.django_db
def test_ancestors_gives_every_parent_on_the_way_up_in_one_query(django_assert_num_queries):
    import datetime as dt

    from registry import facts
    from registry.models import Entry

    ward = Entry.objects.get(register__slug="statistical-geography", key="E05015807")
    with django_assert_num_queries(1):
        up = facts.ancestors(ward.pk, dt.date(2024, 6, 1))
    keys = {Entry.objects.get(pk=pk).key: {h: p.key for h, p in parents.items()} for pk, parents in up.items()}  # fmt: skip
    assert keys == {
        "E05015807": {"district": "E07000116"},  # Tunbridge Wells
        "E07000116": {"country": "E92000001", "county": "E10000016", "region": "E12000008"},
        "E10000016": {"region": "E12000008"},  # Kent
        "E12000008": {"country": "E92000001"},  # South East
        "E92000001": {"union": "K04000001"},  # England, in England and Wales
        "K04000001": {"union": "K03000001"},
        "K03000001": {"union": "K02000001"},
    }
    # Before the ward existed it had no parent.
    assert facts.ancestors(ward.pk, dt.date(2010, 1, 1)) == {}


@pytest.mark.django_db
def test_recursive_queries_are_planned_without_a_bloom_filter_on_sqlite():
    """After a load, SQLite is told the walked tables are large (registry.imports
    .planner_statistics), so the recursive queries of an entry's ancestors and of its walk to
    its current codes look up each step's rows by index instead of building a Bloom filter,
    a scan of the whole table, at every step."""
    from django.db import connection

    from registry import facts, imports

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's planner")
    with connection.cursor() as cursor:
        tables = imports.walked_tables()
        cursor.execute("SELECT tbl, stat FROM sqlite_stat1 WHERE tbl IN (%s, %s, %s)", tables)
        counts = {table: int(stat.split()[0]) for table, stat in cursor.fetchall()}
        assert set(counts) == set(tables)
        assert min(counts.values()) >= imports.WALKED_ROWS
        on = connection.ops.adapt_datefield_value(d("2024-06-01"))
        for query, params in (
            (facts._ANCESTORS, {"pk": 1, "kind": "parent", "on": on}),
            (facts._WALK, {"pk": 1, "on": on}),
        ):
            cursor.execute("EXPLAIN QUERY PLAN " + query.format(**facts._tables()), params)
            plan = " / ".join(row[-1] for row in cursor.fetchall())
            assert "SEARCH" in plan
            assert "BLOOM FILTER" not in plan, plan
