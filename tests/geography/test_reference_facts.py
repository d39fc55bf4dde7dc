"""Real facts about UK areas, checked against the loaded reference data."""

import pytest

from registry import queries
from registry.models import Entry
from tests.conftest import d

# code, date (None: today), status, English name, Welsh name, {hierarchy: parent code}
AS_AT = [
    ("E06000001", None, "live", "Hartlepool", None, {"region": "E12000001", "country": "E92000001"}),
    ("W06000015", None, "live", "Cardiff", "Caerdydd", {"country": "W92000004"}),
    ("E07000004", "2019-01-01", "live", "Aylesbury Vale", None, {"county": "E10000002", "region": "E12000008"}),
    ("E07000004", "2020-03-31", "live", "Aylesbury Vale", None, {"county": "E10000002"}),
    ("E07000004", "2020-04-01", "terminated", "Aylesbury Vale", None, {"county": "E10000002"}),
    ("E06000060", "2020-04-01", "live", "Buckinghamshire", None, {"region": "E12000008"}),
    ("E06000060", "2020-03-31", None, "Buckinghamshire", None, {}),
    ("E07000112", "2018-01-01", "live", "Shepway", None, {"county": "E10000016"}),
    ("E07000112", "2018-06-01", "live", "Folkestone and Hythe", None, {"county": "E10000016"}),
    ("E08000016", "2024-06-01", "live", "Barnsley", None, {"region": "E12000003"}),
    ("E08000016", "2025-06-01", "terminated", "Barnsley", None, {}),
    ("E08000038", "2025-06-01", "live", "Barnsley", None, {"region": "E12000003"}),
    ("E08000020", "2013-03-31", "live", "Gateshead", None, {}),
    ("E08000020", "2013-04-01", "terminated", "Gateshead", None, {}),
    ("S12000015", "2017-12-31", "live", "Fife", None, {"country": "S92000003"}),
    ("S12000015", "2018-12-31", "terminated", "Fife", None, {}),
    ("N09000002", "2015-06-01", "live", "Armagh, Banbridge and Craigavon", None, {"country": "N92000002"}),
    ("N09000002", "2016-06-01", "live", "Armagh City, Banbridge and Craigavon", None, {}),
    ("W06000001", None, "live", "Isle of Anglesey", "Ynys Môn", {}),
    ("E12000001", None, "live", "North East", "Gogledd Ddwyrain", {"country": "E92000001"}),
    ("E92000001", None, "live", "England", "Lloegr", {"union": "K04000001"}),
    ("E10000006", "2023-03-31", "live", "Cumbria", None, {"region": "E12000002"}),
    ("E10000006", "2023-04-01", "terminated", "Cumbria", None, {}),
    ("E47000002", "2020-01-01", "live", "Sheffield City Region", None, {}),
    ("E47000002", "2023-01-01", "live", "South Yorkshire", None, {}),
    # A ward either side of the 2020 Buckinghamshire reorganisation, and after its abolition.
    ("E05010364", "2019-06-01", "live", "Winslow", None, {"district": "E07000004"}),
    ("E05010364", "2020-06-01", "live", "Winslow", None, {"district": "E06000060"}),
    ("E05010364", "2021-05-01", "terminated", "Winslow", None, {}),
    # Island wards replaced at the 2022 Scottish elections; a ward renamed then, same code.
    ("S13002732", "2022-04-30", "live", "Kirkwall East", None, {"district": "S12000023"}),
    ("S13002732", "2022-05-01", "terminated", "Kirkwall East", None, {}),
    ("S13003151", "2022-05-01", "live", "Kirkwall East", None, {"district": "S12000023"}),
    ("S13002777", "2021-06-01", "live", "Lerwick North", None, {"district": "S12000027"}),
    ("S13002777", "2022-05-01", "live", "Lerwick North and Bressay", None, {}),
    ("S13002777", None, "live", "Lerwick North and Bressay", None, {"district": "S12000027"}),
    ("N08000101", None, "live", "Abbey", None, {}),  # Northern Ireland: in the 2025 list too
    # LSOAs: an unchanged code continues; a split code ends at Census 2021.
    ("E01011949", "2015-01-01", "live", "Hartlepool 009A", None, {"district": "E06000001", "msoa": "E02002491"}),
    ("E01011949", "2023-01-01", "live", "Hartlepool 009A", None, {"district": "E06000001"}),
    ("E01033468", "2021-03-20", "live", "Middlesbrough 001G", None, {"district": "E06000002"}),
    ("E01033468", "2021-03-21", "terminated", "Middlesbrough 001G", None, {}),
    ("E14000530", "2020-01-01", "live", "Aldershot", None, {"country": "E92000001"}),
    ("E14000530", "2024-07-04", "terminated", "Aldershot", None, {}),
    ("S14000021", "2025-01-01", "live", "East Renfrewshire", None, {}),
]  # fmt: skip


@pytest.mark.parametrize(("code", "date", "status", "name", "name_cy", "parents"), AS_AT)
def test_entry_as_at(area, code, date, status, name, name_cy, parents):
    state = queries.as_at(area(code), d(date) if date else None)
    assert state.status == status
    assert state.name == name
    assert state.name_cy == name_cy
    assert {h: state.parents[h].key for h in parents if h in state.parents} == parents


# code, date (None: today), current codes
CURRENT = [
    ("E07000004", None, ["E06000060"]),
    ("E07000004", "2019-01-01", ["E07000004"]),
    ("E08000016", None, ["E08000038"]),
    ("E08000019", None, ["E08000039"]),
    ("E08000020", None, ["E08000037"]),
    ("S12000046", None, ["S12000049"]),
    ("S12000025", None, ["S12000038"]),  # Renfrewshire, 2002 (the register's end date mended)
    ("S12000025", "2002-06-01", ["S12000038"]),
    ("S12000025", "2002-05-31", ["S12000025"]),
    ("E07000026", None, ["E06000063"]),
    ("E10000023", None, ["E06000065"]),
    ("E07000150", None, ["E06000061"]),  # Corby → North Northamptonshire (2021)
    ("E06000028", None, ["E06000058"]),  # Bournemouth → Bournemouth, Christchurch and Poole
    ("E07000112", None, ["E07000112"]),  # renamed, same code
    ("E01033468", None, ["E01035189", "E01035190"]),  # LSOA split
    ("E01011973", None, ["E01035188"]),  # LSOA merge
    ("E01011976", None, ["E01035188"]),
]


@pytest.mark.parametrize(("code", "date", "expected"), CURRENT)
def test_current_codes(area, code, date, expected):
    result = queries.current_codes(area(code), d(date) if date else None)
    assert [s.entry.key for s in result] == expected


def test_a_split_labels_each_successor_with_its_event(area):
    result = queries.current_codes(area("E01033468"))
    assert [(s.entry.key, s.kinds, s.path[0].event.date.isoformat()) for s in result] == [
        ("E01035189", ["split"], "2021-03-21"),
        ("E01035190", ["split"], "2021-03-21"),
    ]


def test_current_codes_follow_several_steps(area):
    # E06000048 Northumberland became E06000057 in the 2013 Gateshead boundary change.
    [successor] = queries.current_codes(area("E06000048"))
    assert successor.entry.key == "E06000057"
    assert successor.kinds == ["boundary-change"]


def test_current_codes_follow_a_chain_of_scottish_boundary_changes(area):
    # Glasgow City: S12000037 (2002) → S12000043 (2010) → S12000046 (2011) → S12000049 (2019).
    [successor] = queries.current_codes(area("S12000037"))
    assert successor.entry.key == "S12000049"
    assert [
        (s.predecessor.key, s.successor.key, s.event.date.isoformat()) for s in successor.path
    ] == [
        ("S12000037", "S12000043", "2010-04-01"),
        ("S12000043", "S12000046", "2011-04-01"),
        ("S12000046", "S12000049", "2019-02-01"),
    ]
    assert successor.kinds == ["boundary-change"] * 3
    assert successor.path[0].event.instrument_id == "SSI 2009/368"
    # As at 2015 the same code led to the code live then.
    assert [s.entry.key for s in queries.current_codes(area("S12000037"), d("2015-01-01"))] == [
        "S12000046"
    ]
    state = queries.as_at(area("S12000036"))
    assert (state.name, state.display_name) == ("City of Edinburgh", "Edinburgh")


def test_predecessors_of_cumberland(area):
    steps = queries.predecessors(area("E06000063"))
    assert [s.predecessor.key for s in steps] == ["E07000026", "E07000028", "E07000029"]
    assert {s.event.kind for s in steps} == {"merge"}
    assert {s.event.instrument_title for s in steps} == {
        "The Cumbria (Structural Changes) Order 2022"
    }


def test_buckinghamshire_merge_event(area):
    steps = queries.predecessors(area("E06000060"))
    assert [s.predecessor.key for s in steps] == [
        "E07000004",
        "E07000005",
        "E07000006",
        "E07000007",
    ]
    event = steps[0].event
    assert (event.key, event.date.isoformat(), event.kind) == (
        "2020-04-01-E06000060",
        "2020-04-01",
        "merge",
    )
    assert event.instrument_title == "The Buckinghamshire (Structural Changes) Order 2019"


def test_shepway_rename_is_an_event_on_the_same_entry(area):
    [event] = queries.renames(area("E07000112"))
    assert (event.date.isoformat(), event.kind, event.instrument_title) == (
        "2018-04-01",
        "rename",
        "Name Change",
    )


def test_aylesbury_vale_terminated_on_chd_date(area):
    life = queries.lifetime(area("E07000004"))
    assert (life.operative.isoformat(), life.terminated.isoformat()) == ("2009-01-01", "2020-03-31")


@pytest.mark.parametrize(
    ("scheme", "value", "register", "key"),
    [
        ("ons-legacy", "00CN", "statistical-geography", "E08000025"),
        ("ons-legacy", "11UB", "statistical-geography", "E07000004"),
        ("iso-3166-2", "GB-BIR", "local-authority", "BIR"),
        ("govuk-register", "local-authority-eng:BIR", "local-authority", "BIR"),
        ("uk-parliament", "3287", "statistical-geography", "W07000049"),
    ],
)
def test_entry_by_identifier(db, scheme, value, register, key):
    entry = queries.by_identifier(scheme, value)
    assert (entry.register.slug, entry.key) == (register, key)


def test_identifier_unknown_gives_none(db):
    assert queries.by_identifier("ons-legacy", "99ZZ") is None


def test_council_governs_its_area_over_time(council, area):
    barnsley = council("BNS")
    governed = {
        (r.object.key, r.valid_from.isoformat(), r.valid_to.isoformat() if r.valid_to else None)
        for r in barnsley.relations.filter(kind="governs").select_related("object")
    }
    assert governed == {
        ("E08000016", "2009-01-01", "2025-03-31"),
        ("E08000038", "2025-04-01", None),
    }


def test_council_end_date_follows_the_code_history_database(council):
    # mySociety ends Carlisle City Council on 2023-04-01; the CHD ends Carlisle on 2023-03-31.
    life = queries.lifetime(council("CAR"))
    assert life.terminated.isoformat() == "2023-03-31"


def test_council_welsh_names(council):
    state = queries.as_at(council("CRF"))
    assert state.name == "City of Cardiff Council"
    assert state.name_cy == "Cyngor Dinas Caerdydd"
    assert state.display_name == "Cardiff"


def test_msoa_house_of_commons_library_names(area):
    state = queries.as_at(area("E02002483"), d("2023-01-01"))
    assert state.name == "Hartlepool 001"
    assert state.display_name is not None


def test_children_of_a_district_differ_either_side_of_a_review(area):
    bucks = area("E06000060")
    wards = Entry.objects.filter(key__startswith="E05")
    wards_2020 = set(
        wards.children_of(bucks, d("2020-06-01"), "district").values_list("key", flat=True)
    )
    wards_2025 = set(
        wards.children_of(bucks, d("2025-06-01"), "district").values_list("key", flat=True)
    )
    assert "E05010364" in wards_2020
    assert "E05010364" not in wards_2025
    assert wards_2020.isdisjoint(wards_2025)


def test_ancestors_of_a_ward(area):
    chain = [(h, e.key) for h, e in queries.ancestors(area("E05010364"), d("2019-06-01"))]
    assert chain[0] == ("district", "E07000004")
    assert {key for _, key in chain} == {
        "E07000004", "E10000002", "E12000008", "E92000001", "K04000001", "K03000001", "K02000001",
    }  # fmt: skip


def test_entity_type_register(db):
    e06 = Entry.objects.get(register__slug="statistical-entity", key="E06")
    state = queries.as_at(e06)
    assert state.name == "Unitary Authorities"
    assert e06.attributes["abbreviation"] == "UA"
    assert Entry.objects.filter(register__slug="statistical-entity", key="N05").exists()
