"""Table tests of registry.snapshots on hand-built snapshots: no database."""

import json

import pytest

from registry.snapshots import (
    IdentifierRecord,
    NameRecord,
    RelationRecord,
    StateRecord,
    canonical,
    diff,
    digest,
    record,
    split_ref,
)

HARTLEPOOL = {
    "names": [
        ["en", "official", "Hartlepool", "2009-01-01", None],
        ["cy", "official", "Hartlepwl", "2009-01-01", None],
    ],
    "identifiers": [["ons-legacy", "00EB", "2009-01-01", None]],
    "states": [["2009-01-01", None, "live", "E06"]],
    "relations": [
        ["parent", "region", "statistical-geography/E12000001", "2009-01-01", None],
        ["parent", "country", "statistical-geography/E92000001", "2009-01-01", None],
    ],
    "attributes": {"b": 2, "a": 1},
}


def test_canonical_names_every_row_and_sorts_every_list():
    snapshot = canonical(HARTLEPOOL)
    assert snapshot["names"] == [
        NameRecord("cy", "official", "Hartlepwl", "2009-01-01", None),
        NameRecord("en", "official", "Hartlepool", "2009-01-01", None),
    ]
    assert snapshot["identifiers"] == [IdentifierRecord("ons-legacy", "00EB", "2009-01-01", None)]
    assert snapshot["states"] == [StateRecord("2009-01-01", None, "live", "E06")]
    assert [r.hierarchy for r in snapshot["relations"]] == ["country", "region"]
    assert snapshot["relations"][0].target == "statistical-geography/E92000001"
    assert list(snapshot["attributes"]) == ["a", "b"]


def test_canonical_is_idempotent_and_order_free():
    reordered = {
        key: value[::-1] if isinstance(value, list) else value for key, value in HARTLEPOOL.items()
    }
    assert canonical(reordered) == canonical(HARTLEPOOL)
    assert canonical(canonical(HARTLEPOOL)) == canonical(HARTLEPOOL)


def test_a_snapshot_is_plain_json_and_comes_back_equal():
    stored = json.loads(json.dumps(canonical(HARTLEPOOL)))
    assert stored["names"][0] == ["cy", "official", "Hartlepwl", "2009-01-01", None]
    assert canonical(stored) == canonical(HARTLEPOOL)


def test_missing_lists_are_empty():
    assert canonical({}) == {
        "names": [], "identifiers": [], "states": [], "relations": [], "attributes": {},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "row", "expected"),
    [
        (
            "states",
            ["2009-01-01", None, "live", None],
            StateRecord("2009-01-01", None, "live", None),
        ),
        # Rows of the wrong shape are kept as they are, for validation to report.
        ("states", ["2009-01-01", "live"], ("2009-01-01", "live")),
        ("names", "not a row", "not a row"),
    ],
)
def test_record(field, row, expected):
    assert record(field, row) == expected
    assert type(record(field, row)) is type(expected)


def test_diff_of_a_new_entry():
    assert diff(None, canonical(HARTLEPOOL)) == {"created": True}


def test_diff_lists_added_and_removed_rows_and_changed_attributes():
    before = canonical(HARTLEPOOL)
    after = canonical(
        {
            **HARTLEPOOL,
            "names": [
                ["en", "official", "Hartlepool", "2009-01-01", None],
                ["cy", "official", "Hartlepŵl", "2009-01-01", None],
            ],
            "attributes": {"a": 1, "b": 3},
        }
    )
    assert diff(before, after) == {
        "names": {
            "added": [["cy", "official", "Hartlepŵl", "2009-01-01", None]],
            "removed": [["cy", "official", "Hartlepwl", "2009-01-01", None]],
        },
        "attributes": {"b": [2, 3]},
    }
    assert diff(before, before) == {}


def test_split_ref():
    assert split_ref("statistical-geography/E06000001") == ("statistical-geography", "E06000001")
    assert RelationRecord("parent", "", "a/b", "2009-01-01", None).target == "a/b"


def test_digest_is_of_the_content_whatever_the_order_or_the_json_round_trip():
    shuffled = {**HARTLEPOOL, "names": HARTLEPOOL["names"][::-1], "attributes": {"a": 1, "b": 2}}
    once = digest(canonical(HARTLEPOOL))
    assert once == digest(canonical(shuffled))
    assert once == digest(canonical(json.loads(json.dumps(canonical(HARTLEPOOL)))))
    assert len(once) == 40
    renamed = {**HARTLEPOOL, "names": [["en", "official", "Hartlepool!", "2009-01-01", None]]}
    assert digest(canonical(renamed)) != once
