"""The test factories (``tests/factories.py``): what they make is versioned like loaded data
and answers the registry's questions, on an empty registry and on the loaded one."""

import datetime as dt

from django.contrib.auth.models import Group

from registry import queries
from registry.models import Entry, Register, Version
from tests.factories import Factory


def test_an_empty_registry_is_empty_and_the_loaded_one_comes_back(empty_database, area):
    with empty_database():
        assert (Register.objects.count(), Entry.objects.count(), Version.objects.count()) == (
            0,
            0,
            0,
        )
        # Migrated like a new database: the curation groups are there.
        assert sorted(Group.objects.values_list("name", flat=True)) == ["curator", "registry admin"]
        made = Factory().make_entry()
        assert Entry.objects.count() == 2  # and its entity type
    assert area("E06000001").names.filter(text="Hartlepool").exists()
    assert not Entry.objects.filter(key=made.key).exists()


def test_an_entry_is_made_with_its_register_entity_type_and_first_version(empty_registry, factory):
    county = factory.make_entry(key="E10000002", name="Buckinghamshire")
    district = factory.make_entry(
        key="E07000004",
        name="Aylesbury Vale",
        terminated=dt.date(2020, 3, 31),
        parents={"county": county},
        identifiers={"ons-legacy": "11UB"},
    )
    assert sorted(Entry.objects.values_list("register__slug", "key")) == [
        ("statistical-entity", "E07"),
        ("statistical-entity", "E10"),
        ("statistical-geography", "E07000004"),
        ("statistical-geography", "E10000002"),
    ]
    version = district.versions.get()
    assert (version.number, version.reason, version.changes) == (
        1,
        Factory.actor.reason,
        {"created": True},
    )
    assert version.snapshot == {
        "names": [["en", "official", "Aylesbury Vale", "2009-01-01", "2020-03-31"]],
        "identifiers": [["ons-legacy", "11UB", "2009-01-01", "2020-03-31"]],
        "states": [
            ["2009-01-01", "2020-03-31", "live", "E07"],
            ["2020-04-01", None, "terminated", "E07"],
        ],
        "relations": [
            ["parent", "county", "statistical-geography/E10000002", "2009-01-01", "2020-03-31"]
        ],
        "attributes": {},
    }
    as_at = queries.as_at(district, dt.date(2019, 6, 1))
    assert (as_at.status, as_at.name, {h: p.key for h, p in as_at.parents.items()}) == (
        "live",
        "Aylesbury Vale",
        {"county": "E10000002"},
    )
    assert queries.as_at(district, dt.date(2021, 1, 1)).status == "terminated"


def test_a_change_event_links_predecessors_to_successors(empty_registry, factory):
    ended = dt.date(2020, 3, 31)
    old = [factory.make_entry(key=key, terminated=ended) for key in ("E07000004", "E07000005")]
    new = factory.make_entry(key="E06000060", name="Buckinghamshire", operative=dt.date(2020, 4, 1))
    event = factory.make_event(predecessors=old, successors=[new], instrument_id="2019/957")
    assert (event.key, event.date, event.kind, event.version) == (
        "2020-04-01-E06000060",
        dt.date(2020, 4, 1),
        "merge",
        1,
    )
    assert event.versions.get().snapshot["links"] == [
        ["statistical-geography/E07000004", "statistical-geography/E06000060"],
        ["statistical-geography/E07000005", "statistical-geography/E06000060"],
    ]
    [current] = queries.current_codes(old[0])
    assert (current.entry.key, current.kinds) == ("E06000060", ["merge"])
    assert [step.predecessor.key for step in queries.predecessors(new)] == [
        "E07000004",
        "E07000005",
    ]


def test_the_factories_add_to_the_loaded_registry_without_clashing(factory, area):
    hartlepool = area("E06000001")
    ward = factory.make_entry(entity_type="E05", name="Test ward", parents={"district": hartlepool})
    assert ward.key.startswith("E05") and ward.key > "E05900000"
    on = dt.date(2024, 1, 1)
    assert ward in Entry.objects.valid_on(on).children_of(hartlepool, on, "district")
    hierarchy, parent = queries.ancestors(ward, on)[0]
    assert (hierarchy, parent.key) == ("district", "E06000001")
