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
    # The CHD ends the ward the day before the 2021 elections (the vintages said 2021-04-30).
    ("E05010364", "2021-05-05", "live", "Winslow", None, {"district": "E06000060"}),
    ("E05010364", "2021-05-06", "terminated", "Winslow", None, {}),
    # Island wards replaced at the 2022 Scottish elections; a ward renamed then, same code.
    ("S13002732", "2022-04-30", "live", "Kirkwall East", None, {"district": "S12000023"}),
    # The CHD's dates: the old ward to 2022-05-04, the new from election day, 2022-05-05.
    ("S13002732", "2022-05-04", "live", "Kirkwall East", None, {"district": "S12000023"}),
    ("S13002732", "2022-05-05", "terminated", "Kirkwall East", None, {}),
    ("S13003151", "2022-05-05", "live", "Kirkwall East", None, {"district": "S12000023"}),
    ("S13002777", "2021-06-01", "live", "Lerwick North", None, {"district": "S12000027"}),
    ("S13002777", "2022-05-04", "live", "Lerwick North", None, {}),
    ("S13002777", "2022-05-05", "live", "Lerwick North and Bressay", None, {}),
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
    # The families the Code History Database adds, each within its parent kind.
    ("E04000001", None, "live", "Blackrod", None, {"district": "E08000001"}),  # a civil parish
    ("W04000001", None, "live", "Aberffraw", None, {"district": "W06000001"}),  # a community
    ("E58000001", "2015-01-01", "live", "Abbey ED", None, {"county": "E10000002"}),  # a CED
    ("S01006506", None, "live", "Culter - 01", None, {"intermediate-zone": "S02001236"}),
    ("S02001236", None, "live", "Culter", None, {"district": "S12000033"}),
    ("N20000001", None, "live", "Dunsilly_A1", None, {"super-data-zone": "N21000001"}),
    ("N21000001", None, "live", "Dunsilly_A", None, {"district": "N09000001"}),
    ("E38000014", None, "live", "NHS Lancashire and South Cumbria ICB - 00Q", None, {"icb": "E54000048"}),
    ("E54000008", "2023-01-01", "live", "NHS Cheshire and Merseyside Integrated Care Board", None, {"nhs-region": "E40000010"}),
    ("E39000004", "2014-01-01", "live", "Lancashire", None, {"nhs-region": "E40000001"}),
    ("E23000001", None, "live", "Metropolitan Police", None, {}),  # a police force area
    ("E22000303", None, "live", "Aylesbury Vale", None, {"police-force-area": "E23000029"}),
    ("E26000001", None, "live", "Dartmoor", None, {}),  # a national park
    ("E63007092", None, "live", "Berwick-upon-Tweed", None, {"country": "E92000001"}),  # a 2022 BUA
    ("E35000001", "2020-01-01", "live", "Sibford Ferris BUASD", None, {"built-up-area": "E34004916"}),
    ("E36000001", None, "live", "Brus", None, {"merged-district": "E41000001"}),
    ("E16000001", "2010-01-01", "live", "South Gloucestershire", None, {}),  # a PCT
    ("E28000001", None, "live", "Bolton", None, {"country": "E92000001"}),  # registration district
    ("J01000001", None, "live", "Barnsley", None, {}),  # a major town
    # A workplace zone has no name (its documents show its code).
    ("E33000001", None, "live", None, None, {"msoa": "E02006841"}),
    # A 2001 LSOA, and an MSOA whose district the CHD gives.
    ("E01023982", "2010-01-01", "live", "Ashford 001A", None, {"msoa": "E02004996"}),
    ("E01023982", "2012-01-01", "terminated", "Ashford 001A", None, {}),
    ("E02006800", None, "live", "Redbridge 034", None, {"district": "E09000026"}),
    # Names mended: mojibake repaired, a ward's Welsh name from the 2023 lookup.
    ("W05000128", "2020-01-01", "live", "Gower", "Gŵyr", {"district": "W06000003"}),
    ("W05001063", None, "live", "Pontlliw and Tircoed", "Pont-lliw a Thir-coed", {"district": "W06000011"}),
    # Greater Manchester from 2011 (the vintages had it from 2017), renamed in 2016.
    ("E47000001", "2011-04-01", "live", "Greater Manchester Combined Authority", None, {}),
    ("E47000001", "2016-03-01", "live", "Greater Manchester", None, {}),
    ("E47000001", "2011-03-31", None, "Greater Manchester Combined Authority", None, {}),
    # Rothwell ward: the extract lists a one-day record after its open one; still live.
    ("E05011410", None, "live", "Rothwell", None, {"district": "E08000035"}),
    # Four county electoral divisions of 2017 were withdrawn before they came into use.
    ("E58000679", "2017-06-01", "terminated", "Ashford Central ED", None, {}),
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
    # S12000038 is the GSS code, in use from 2009 (the CHD): nothing was live in between.
    ("S12000025", "2002-06-01", []),
    ("S12000025", "2009-01-01", ["S12000038"]),
    ("S12000025", "2002-05-31", ["S12000025"]),
    ("E07000026", None, ["E06000063"]),
    ("E10000023", None, ["E06000065"]),
    ("E07000150", None, ["E06000061"]),  # Corby → North Northamptonshire (2021)
    ("E06000028", None, ["E06000058"]),  # Bournemouth → Bournemouth, Christchurch and Poole
    ("E07000112", None, ["E07000112"]),  # renamed, same code
    ("E01033468", None, ["E01035189", "E01035190"]),  # LSOA split
    ("E01011973", None, ["E01035188"]),  # LSOA merge
    ("E01011976", None, ["E01035188"]),
    # Successions the CHD extract lacks, now recorded (curated/successions.csv).
    ("E10000009", None, ["E06000059"]),  # Dorset county → Dorset, 2019
    ("E10000002", None, ["E06000060"]),  # Buckinghamshire, 2020
    ("E10000021", None, ["E06000061", "E06000062"]),  # Northamptonshire, 2021
    ("E10000006", None, ["E06000063", "E06000064"]),  # Cumbria, 2023
    ("E10000001", None, ["E06000055", "E06000056"]),  # Bedfordshire, 2009
    ("E10000004", None, ["E06000049", "E06000050"]),  # Cheshire, 2009
    ("E10000033", None, ["E06000054"]),  # Wiltshire, 2009
    ("E11000004", None, ["E11000007"]),  # Tyne and Wear, 2013
    ("E47000005", "2020-01-01", ["E47000010", "E47000011"]),  # the North East CA, 2018
    ("E47000010", None, ["E47000014"]),  # and 2024
    ("E47000011", None, ["E47000014"]),
    # A 2001 LSOA split into two 2011 ones.
    ("E01023982", "2015-01-01", ["E01032810", "E01032812"]),
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
    # The county split between Cumberland and Westmorland and Furness as its districts
    # merged into them: one change that redistributes several areas.
    assert [s.predecessor.key for s in steps] == [
        "E07000026",
        "E07000028",
        "E07000029",
        "E10000006",
    ]
    assert {s.event.kind for s in steps} == {"complex"}
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
        "E10000002",  # the county, now its succession is recorded
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


def test_the_chds_entity_types_are_named(db):
    from registry.models import Entry

    names = {
        key: queries.as_at(Entry.objects.get(register__slug="statistical-entity", key=key)).name
        for key in ("J01", "E58", "E33", "S01", "E54")
    }
    assert names == {
        "J01": "Major Towns and Cities",
        "E58": "County Electoral Divisions",
        "E33": "Workplace Zones",
        "S01": "Data Zones",
        # The Register of Geographic Codes (2017) names E54; its name wins over the mirror's table.
        "E54": "Sustainability and Transformation Partnerships",
    }


def test_greater_manchester_started_in_2011(area):
    assert queries.lifetime(area("E47000001")).operative == d("2011-04-01")


def test_a_withdrawn_code_was_never_live(area):
    life = queries.lifetime(area("E58000679"))
    assert (life.operative, life.terminated) == (None, None)
