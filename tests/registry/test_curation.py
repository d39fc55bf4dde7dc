"""Curation through registry.services: validation with exact messages, termination with
successors, restore, and concurrent edits."""

import pytest
from django.contrib.auth import get_user_model

from geography.hierarchies import ALLOWED_PARENTS
from registry import queries
from registry.models import Entry, Register, Version
from registry.services import (
    Actor,
    ConcurrentEdit,
    ValidationFailed,
    current_snapshot,
    restore_version,
    save_entry,
    sync_entries,
    terminate_with_successors,
)
from registry.snapshots import canonical, digest
from tests.conftest import d

AREAS = "statistical-geography"


@pytest.fixture
def curator(db):
    return get_user_model().objects.create_user("cora", password="x-long-enough-pw")


@pytest.fixture
def areas(db):
    return Register.objects.get(slug=AREAS)


def actor(user, reason="Correcting from the ONS release"):
    return Actor(user=user, reason=reason)


def new_area(code, name, start="2027-04-01", entity_type=None, parents=()):
    return {
        "names": [["en", "official", name, start, None]],
        "identifiers": [],
        "states": [[start, None, "live", entity_type or code[:3]]],
        "relations": [["parent", h, f"{AREAS}/{p}", start, None] for h, p in parents],
        "attributes": {},
    }


def test_a_welsh_name_correction_writes_one_version_with_a_diff(area, areas, curator):
    cardiff = area("W06000015")
    snapshot = current_snapshot(cardiff)
    snapshot["names"] = [
        row if row[0] != "cy" else ["cy", "official", "Caerdydd (Dinas)", row[3], row[4]]
        for row in snapshot["names"]
    ]
    saved = save_entry(
        areas, "W06000015", snapshot, actor(curator), expected_version=cardiff.version
    )
    assert saved.version == cardiff.version + 1
    version = Version.objects.get(entry=saved, number=saved.version)
    assert version.user == curator
    assert version.reason == "Correcting from the ONS release"
    assert version.changes["names"]["added"] == [
        ["cy", "official", "Caerdydd (Dinas)", "2009-01-01", None]
    ]
    assert version.changes["names"]["removed"] == [
        ["cy", "official", "Caerdydd", "2009-01-01", None]
    ]
    assert queries.as_at(saved).name_cy == "Caerdydd (Dinas)"


def broken(area_code, change, area):
    snapshot = current_snapshot(area(area_code))
    change(snapshot)
    return snapshot


@pytest.mark.parametrize(
    ("code", "change", "message"),
    [
        (
            "E06000001",
            lambda s: s["states"].__setitem__(0, [s["states"][0][0], None, "live", "E07"]),
            "The code E06000001 does not match its entity type E07: codes of that type start with E07.",
        ),
        (
            "E06000001",
            lambda s: s["names"].append(
                ["en", "display", "Hartlepool Borough", "2020-01-01", "2019-01-01"]
            ),
            "The name “Hartlepool Borough” cannot end (2019-01-01) before it starts (2020-01-01).",
        ),
        (
            "E06000001",
            lambda s: s["states"].append(["2010-01-01", None, "terminated", "E06"]),
            "Two states overlap: live from 2009-01-01 and terminated from 2010-01-01.",
        ),
        (
            "E06000001",
            lambda s: s["relations"].append(
                ["parent", "county", f"{AREAS}/E12000001", "2009-01-01", None]
            ),
            "A county parent must be of type E10, E11; E12000001 is of type E12.",
        ),
        (
            "E05010364",
            lambda s: s["relations"].append(
                ["parent", "district", f"{AREAS}/E06000060", "2019-01-01", "2019-12-31"]
            ),
            "The parent E06000060 (district) was not live for the whole period from 2019-01-01 to 2019-12-31: it was live from 2020-04-01.",
        ),
        (
            "E12000001",
            lambda s: s["relations"].append(
                ["parent", "region", f"{AREAS}/E12000001", "2009-01-01", None]
            ),
            "E12000001 cannot be within itself (through its parents).",
        ),
        (
            "E06000001",
            lambda s: s["identifiers"].append(["ons-legacy", "00CN", "2009-01-01", None]),
            "The identifier ons-legacy 00CN is already used by statistical-geography/E08000025 from 2009-01-01.",
        ),
    ],
)
def test_validation_messages(area, areas, curator, code, change, message):
    entry = area(code)
    with pytest.raises(ValidationFailed) as error:
        save_entry(areas, code, broken(code, change, area), actor(curator))
    assert message in error.value.messages
    assert area(code).version == entry.version


def test_a_malformed_gss_code_is_refused(areas, curator):
    with pytest.raises(ValidationFailed) as error:
        save_entry(areas, "E0600001", new_area("E0600001", "Nowhere"), actor(curator))
    assert (
        "“E0600001” is not a valid key for the Statistical and administrative geographies register."
        in error.value.messages
    )


def test_a_change_note_is_required(area, areas, curator):
    with pytest.raises(ValidationFailed) as error:
        save_entry(
            areas, "E06000001", current_snapshot(area("E06000001")), actor(curator, reason=" ")
        )
    assert error.value.messages == ["Say why you are making this change (a change note)."]


def test_concurrent_edits_do_not_silently_lose_one(area, areas, curator):
    other = get_user_model().objects.create_user("olu", password="x-long-enough-pw")
    hartlepool = area("E06000001")
    opened_at = hartlepool.version
    first = current_snapshot(hartlepool)
    first["names"].append(["en", "alternative", "Hartlepool Borough", "2009-01-01", None])
    save_entry(areas, "E06000001", first, actor(curator), expected_version=opened_at)
    second = current_snapshot(hartlepool)
    second["names"].append(["en", "alternative", "Borough of Hartlepool", "2009-01-01", None])
    with pytest.raises(ConcurrentEdit) as error:
        save_entry(areas, "E06000001", second, actor(other), expected_version=opened_at)
    assert str(error.value) == (
        f"E06000001 was changed by cora (version {opened_at + 1}) after you opened it "
        f"(version {opened_at}). Reload the entry to see that change, then make yours again."
    )
    names = [row[2] for row in current_snapshot(area("E06000001"))["names"]]
    assert "Hartlepool Borough" in names and "Borough of Hartlepool" not in names


def test_buckinghamshire_style_merge(area, areas, curator):
    shepway, ashford = area("E07000112"), area("E07000105")
    new = new_area(
        "E06000099",
        "Kent Downs and Marsh",
        parents=[("region", "E12000008"), ("country", "E92000001")],
    )
    event = terminate_with_successors(
        shepway, d("2027-04-01"), "merge", [], actor(curator),
        new_successors=[("E06000099", new)], instrument_id="2026/123",
        instrument_title="The Kent (Structural Changes) Order 2026",
    )  # fmt: skip
    unitary = area("E06000099")
    terminate_with_successors(ashford, d("2027-04-01"), "merge", [unitary], actor(curator))
    assert (event.key, event.kind, event.instrument_id) == (
        "2027-04-01-E06000099",
        "merge",
        "2026/123",
    )
    assert queries.lifetime(area("E07000112")).terminated == d("2027-03-31")
    assert queries.as_at(area("E07000112"), d("2027-03-31")).status == "live"
    assert queries.as_at(area("E07000112"), d("2027-04-01")).status == "terminated"
    for code in ("E07000112", "E07000105"):
        assert [s.entry.key for s in queries.current_codes(area(code), d("2027-06-01"))] == [
            "E06000099"
        ]
        assert [s.entry.key for s in queries.current_codes(area(code), d("2026-06-01"))] == [code]
    assert {s.predecessor.key for s in queries.predecessors(unitary)} == {"E07000112", "E07000105"}
    # The wards of Folkestone and Hythe lie in the successor from the change, with a version.
    wards = Entry.objects.filter(key__startswith="E05")
    before = set(
        wards.children_of(shepway, d("2026-06-01"), "district").values_list("key", flat=True)
    )
    assert len(before) == 13
    assert (
        set(wards.children_of(unitary, d("2027-06-01"), "district").values_list("key", flat=True))
        >= before
    )
    assert not wards.children_of(shepway, d("2027-06-01"), "district").exists()
    ward = wards.get(key=min(before))
    assert ward.versions.get(number=ward.version).user == curator


def test_lsoa_style_split(area, curator):
    lsoa = area("E01011949")
    parts = [
        (code, new_area(code, name, parents=[("district", "E06000001")]))
        for code, name in (("E01099991", "Hartlepool 009E"), ("E01099992", "Hartlepool 009F"))
    ]
    event = terminate_with_successors(
        lsoa, d("2027-04-01"), "split", [], actor(curator), new_successors=parts
    )
    assert event.kind == "split"
    result = queries.current_codes(area("E01011949"), d("2027-06-01"))
    assert [(s.entry.key, s.kinds) for s in result] == [
        ("E01099991", ["split"]),
        ("E01099992", ["split"]),
    ]
    assert queries.lifetime(area("E01011949")).terminated == d("2027-03-31")


def test_termination_refuses_a_successor_not_live_then(area, curator):
    with pytest.raises(ValidationFailed) as error:
        terminate_with_successors(
            area("E07000112"), d("2027-04-01"), "merge", [area("E07000004")], actor(curator)
        )
    assert error.value.messages == [
        "The successor E07000004 is not live on 2027-04-01, the date of the change."
    ]


def test_termination_refuses_a_cycle_of_succession(area, curator):
    from registry.services import sync_events

    # A boundary change in which Hartlepool (live) passed territory to Middlesbrough (live):
    # Hartlepool already leads to Middlesbrough, so it cannot also succeed it.
    sync_events(
        {"2026-04-01-E06000001": {"date": "2026-04-01", "kind": "boundary-change", "instrument_id": "",
                                  "instrument_title": "", "note": "",
                                  "links": [[f"{AREAS}/E06000001", f"{AREAS}/E06000002"]]}},
        actor(curator),
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as error:
        terminate_with_successors(
            area("E06000002"), d("2027-04-01"), "merge", [area("E06000001")], actor(curator)
        )
    assert error.value.messages == [
        "E06000001 already leads to E06000002: making it a successor would create a cycle of succession."
    ]


def test_a_new_successor_cannot_be_an_existing_entry(area, curator):
    with pytest.raises(ValidationFailed) as error:
        terminate_with_successors(
            area("E07000105"), d("2027-04-01"), "merge", [], actor(curator),
            new_successors=[("E06000060", new_area("E06000060", "Buckinghamshire"))],
        )  # fmt: skip
    assert error.value.messages == [
        "E06000060 already exists: choose it as an existing successor instead."
    ]


def test_restore_cannot_revive_a_replaced_code(area, areas, curator):
    lsoa = area("E01011949")
    parts = [
        ("E01099991", new_area("E01099991", "Hartlepool 009E", parents=[("district", "E06000001")]))
    ]
    terminate_with_successors(
        lsoa, d("2027-04-01"), "split", [], actor(curator), new_successors=parts
    )
    with pytest.raises(ValidationFailed) as error:
        restore_version(area("E01011949"), 1, actor(curator, reason="undo"))
    assert "restoring it would make a replaced code live again" in error.value.messages[0]


def test_termination_ends_the_councils_governing(area, council, curator):
    terminate_with_successors(area("E07000105"), d("2027-04-01"), "termination", [], actor(curator))
    governs = council("ASF").relations.get(kind="governs", object__key="E07000105")
    assert governs.valid_to == d("2027-03-31")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            {"names": [["en"]]},
            "names row 1 must have 5 values: language, kind, text, valid_from, valid_to.",
        ),
        (
            {"states": [["x", None, "live", "E06"]]},
            "states row 1: valid_from 'x' is not a date (YYYY-MM-DD).",
        ),
        ({"states": [[None, None, "live", "E06"]]}, "states row 1: valid_from is required."),
        (
            {"states": [["2009-01-01", None, "bogus", "E06"]]},
            "states row 1: status 'bogus' is not one of live, terminated.",
        ),
        (
            {"names": [["xx", "official", "Hartlepool", None, None]]},
            "names row 1: language 'xx' is not one of en, cy.",
        ),
        (
            {"relations": [["sibling", "", f"{AREAS}/E06000002", "2009-01-01", None]]},
            "relations row 1: kind 'sibling' is not one of parent, governs.",
        ),
        (
            {
                "identifiers": [
                    ["ons-legacy", "00EB", "2009-01-01", None],
                    ["ons-legacy", "00EB", "2009-01-01", None],
                ]
            },
            "identifiers row 2 repeats an earlier row.",
        ),
        (
            {"relations": [["parent", "statistical", f"{AREAS}/E12000001", "2009-01-01", None]]},
            f"“statistical” is not a hierarchy; use one of {', '.join(sorted(ALLOWED_PARENTS))}.",
        ),
        (
            {"relations": [["parent", "region", "statistical-entity/E12", "2009-01-01", None]]},
            "A region parent must be an area; statistical-entity/E12 is not.",
        ),
    ],
)
def test_malformed_rows_are_refused_with_a_message(area, areas, curator, rows, message):
    snapshot = {**current_snapshot(area("E06000001")), **rows}
    if "states" not in rows:
        snapshot["states"] = current_snapshot(area("E06000001"))["states"]
    with pytest.raises(ValidationFailed) as error:
        save_entry(areas, "E06000001", snapshot, actor(curator))
    assert message in error.value.messages


def test_restore_a_past_version_is_a_new_version(area, areas, curator):
    cardiff = area("W06000015")
    original = current_snapshot(cardiff)
    changed = current_snapshot(cardiff)
    changed["names"].append(["en", "alternative", "Cardiff City", "2009-01-01", None])
    saved = save_entry(
        areas, "W06000015", changed, actor(curator), expected_version=cardiff.version
    )
    restored = restore_version(
        saved, cardiff.version, actor(curator, reason="Undo: not an official name")
    )
    assert restored.version == saved.version + 1
    assert current_snapshot(restored) == original
    latest = restored.versions.get(number=restored.version)
    assert latest.reason == "Undo: not an official name"
    assert latest.changes["names"]["removed"] == [
        ["en", "alternative", "Cardiff City", "2009-01-01", None]
    ]


@pytest.mark.parametrize("known", [True, False])
def test_an_unchanged_entry_is_told_by_its_digest_or_else_by_its_rows(area, curator, known):
    hartlepool = area("E06000001")
    newest = Version.objects.get(entry=hartlepool, number=hartlepool.version)
    assert hartlepool.digest == newest.digest == digest(canonical(newest.snapshot))
    if not known:  # an entry written before digests were kept
        Entry.objects.filter(pk=hartlepool.pk).update(digest="")
    snapshot = current_snapshot(hartlepool)
    result = sync_entries({f"{AREAS}/E06000001": snapshot}, actor(curator))
    assert (result.total_created, result.total_changed) == (0, 0)
    assert Entry.objects.get(pk=hartlepool.pk).version == hartlepool.version
    snapshot["attributes"] = {"note": "changed"}
    result = sync_entries({f"{AREAS}/E06000001": snapshot}, actor(curator))
    assert result.total_changed == 1
    written = Version.objects.get(entry=hartlepool, number=hartlepool.version + 1)
    assert written.digest == Entry.objects.get(pk=hartlepool.pk).digest
    assert written.digest == digest(canonical(snapshot))
