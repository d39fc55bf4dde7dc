"""The lookup API's read endpoints on the real data: entries as at dates, listings and
filters, children and ancestors, history, current codes, versions, registers, entity types,
identifiers and change events."""

import csv

import pytest
from django.conf import settings

from registry.documents import describe
from tests.conftest import d

pytestmark = pytest.mark.django_db

API = "/api/v1"
SG = f"{API}/entries/statistical-geography"


@pytest.fixture
def get(client):
    def get(url, status=200, **extra):
        response = client.get(url, **extra)
        assert response.status_code == status, response.content[:500]
        return response.json() if status == 200 else response

    return get


def uri(key, register="statistical-geography"):
    return f"{settings.REGISTRY_URI_BASE}/id/{register}/{key}"


def test_aylesbury_vale_in_2019_is_live_in_buckinghamshire_county(get):
    doc = get(f"{SG}/E07000004/?date=2019-01-01")
    assert (doc["key"], doc["name"], doc["status"], doc["date"]) == (
        "E07000004", "Aylesbury Vale", "live", "2019-01-01",
    )  # fmt: skip
    assert doc["entity_type"] == {"key": "E07", "name": "Non-metropolitan Districts"}
    assert doc["parents"]["county"] == {
        "register": "statistical-geography",
        "key": "E10000002",
        "name": "Buckinghamshire",
        "uri": uri("E10000002"),
    }
    assert doc["uri"] == uri("E07000004")
    assert [link["key"] for link in doc["governed_by"]] == ["AYL"]
    assert doc["current"] == []


def test_aylesbury_vale_today_is_terminated_and_leads_to_buckinghamshire(get):
    doc = get(f"{SG}/E07000004/")
    assert (doc["status"], doc["operative"], doc["terminated"]) == (
        "terminated", "2009-01-01", "2020-03-31",
    )  # fmt: skip
    [current] = doc["current"]
    assert (current["key"], current["name"], current["via"][0]["kind"]) == (
        "E06000060", "Buckinghamshire", "merge",
    )  # fmt: skip
    assert [link["key"] for link in doc["successors"]] == ["E06000060"]


def test_entry_detail_is_the_registry_document(get, area):
    """The API says exactly what registry.documents says."""
    assert (
        get(f"{SG}/E06000063/?date=2024-01-01")
        == describe(area("E06000063"), d("2024-01-01")).as_dict()
    )


def test_council_and_entity_type_entries(get):
    council = get(f"{API}/entries/local-authority/BIR/")
    assert (council["name"], [link["key"] for link in council["governs"]]) == (
        "Birmingham City Council", ["E08000025"],
    )  # fmt: skip
    entity = get(f"{API}/entries/statistical-entity/E06/")
    assert entity["name"] == "Unitary Authorities"


def test_current_codes_of_a_merged_district(get):
    answer = get(f"{SG}/E07000004/current/?date=2024-01-01")
    assert answer["status"] == "terminated"
    assert answer["current"] == [
        {
            "register": "statistical-geography",
            "key": "E06000060",
            "name": "Buckinghamshire",
            "uri": uri("E06000060"),
            "via": [
                {
                    "event": "2020-04-01-E06000060",
                    "uri": f"{settings.REGISTRY_URI_BASE}/id/change-event/2020-04-01-E06000060",
                    "kind": "merge",
                    "date": "2020-04-01",
                    "predecessor": "E07000004",
                    "successor": "E06000060",
                }
            ],
        }
    ]


def test_a_split_2011_lsoa_leads_to_its_2021_successors(get):
    answer = get(f"{SG}/E01033468/current/")
    assert [(c["key"], [hop["kind"] for hop in c["via"]]) for c in answer["current"]] == [
        ("E01035189", ["split"]),
        ("E01035190", ["split"]),
    ]
    assert {hop["event"] for c in answer["current"] for hop in c["via"]} == {"2021-03-21-E01033468"}
    # Before the split it was live, and led to itself.
    before = get(f"{SG}/E01033468/current/?date=2020-01-01")
    assert (before["status"], [(c["key"], c["via"]) for c in before["current"]]) == (
        "live", [("E01033468", [])],
    )  # fmt: skip


def test_live_entry_leads_to_itself(get):
    answer = get(f"{SG}/E06000060/current/")
    assert [(c["key"], c["via"]) for c in answer["current"]] == [("E06000060", [])]


def _wards_in_file(path, code_column, district_column, districts):
    with open(settings.REGISTRY_FIXTURES_DIR / path, encoding="utf-8-sig") as f:
        return {row[code_column] for row in csv.DictReader(f) if row[district_column] in districts}


def _all_pages(get, url):
    keys = []
    while url:
        page = get(url)
        keys += [entry["key"] for entry in page["results"]]
        url = page["next"]
    return keys


def test_wards_of_buckinghamshire_in_2020_and_2025_are_those_the_sources_list(get):
    """On 2020-06-01 Buckinghamshire's wards were still the 2019 wards of its four former
    districts (ons_wd19_to_lad19); from May 2025 they are the 49 new wards, which the 2025
    vintage lists and drkane's all-codes file places in E06000060."""
    old_districts = {"E07000004", "E07000005", "E07000006", "E07000007"}
    in_2019_file = _wards_in_file(
        "wards/ons_wd19_to_lad19_uk_dec2019.csv", "WD19CD", "LAD19CD", old_districts
    )
    with open(settings.REGISTRY_FIXTURES_DIR / "wards/onsvisual_wd25_names_codes.csv") as f:
        listed_2025 = {row["areacd"] for row in csv.DictReader(f)}
    in_2025_file = listed_2025 & _wards_in_file(
        "wards/drkane_ward_all_codes.csv", "WDCD", "LADCD_ACTIVE", {"E06000060"}
    )

    url = f"{SG}/E06000060/children/?entity_type=E05&page_size=40&date="
    wards_2020 = _all_pages(get, url + "2020-06-01")
    wards_2025 = _all_pages(get, url + "2025-06-01")
    assert (len(wards_2020), len(wards_2025)) == (98, 49)
    assert set(wards_2020) == in_2019_file
    assert set(wards_2025) == in_2025_file
    assert "E05010364" in wards_2020  # Winslow
    assert "E05010364" not in wards_2025
    assert wards_2020 == sorted(wards_2020)  # paged in key order, no repeats


def test_wards_of_aylesbury_vale_in_2019(get):
    wards = _all_pages(get, f"{SG}/E07000004/children/?entity_type=E05&date=2019-01-01")
    expected = _wards_in_file(
        "wards/ons_wd18_to_lad18_uk_dec2018.csv", "WD18CD", "LAD18CD", {"E07000004"}
    )
    assert (len(wards), set(wards)) == (33, expected)
    assert "E05010364" in wards


def test_children_hierarchy_filter(get):
    page = get(f"{SG}/E06000060/children/?hierarchy=district&entity_type=E05&date=2025-06-01")
    assert len(page["results"]) == 49
    none = get(f"{SG}/E06000060/children/?hierarchy=msoa&date=2025-06-01")
    assert none["results"] == []


def test_ancestors_of_winslow_ward(get):
    answer = get(f"{SG}/E05010364/ancestors/?date=2020-06-01")
    assert [(a["hierarchy"], a["key"]) for a in answer["ancestors"]] == [
        ("district", "E06000060"),
        ("country", "E92000001"),
        ("region", "E12000008"),
        ("union", "K04000001"),
        ("union", "K03000001"),
        ("union", "K02000001"),
    ]
    before = get(f"{SG}/E05010364/ancestors/?date=2019-06-01")
    assert before["ancestors"][0]["key"] == "E07000004"


def test_list_item_is_a_summary_as_at_the_date(get):
    page = get(f"{SG}/?name=Aylesbury%20Vale&entity_type=E07&date=2019-01-01")
    assert page["results"] == [
        {
            "register": "statistical-geography",
            "key": "E07000004",
            "uri": uri("E07000004"),
            "name": "Aylesbury Vale",
            "name_cy": None,
            "display_name": None,
            "status": "live",
            "entity_type": {"key": "E07", "name": "Non-metropolitan Districts"},
            "operative": "2009-01-01",
            "terminated": "2020-03-31",
            "parents": {
                "country": {
                    "register": "statistical-geography",
                    "key": "E92000001",
                    "name": "England",
                    "uri": uri("E92000001"),
                },
                "county": {
                    "register": "statistical-geography",
                    "key": "E10000002",
                    "name": "Buckinghamshire",
                    "uri": uri("E10000002"),
                },
                "region": {
                    "register": "statistical-geography",
                    "key": "E12000008",
                    "name": "South East",
                    "uri": uri("E12000008"),
                },
            },
        }
    ]
    assert page["date"] == "2019-01-01"


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        # (Names are shared across families now the CHD is loaded: a community safety
        # partnership, an enterprise zone… are called Aylesbury Vale too; entity_type says
        # which kind a case is about.)
        ("name=aylesbury%20VALE&entity_type=E07", ["E07000004"]),
        ("name=Ynys%20Mon&entity_type=W06", ["W06000001"]),
        ("name_prefix=Buckingham&entity_type=E06,E10", ["E06000060", "E10000002"]),
        ("q=vale%20aylesbury&entity_type=E07", ["E07000004"]),
        # An old name finds the entry: this LSOA is "Buckinghamshire 001A" since 2021.
        ("q=vale%20aylesbury%20001a", ["E01017648"]),
        ("name=Newport&entity_type=W06", ["W06000022"]),
        ("name=Buckinghamshire&entity_type=E06,E10&status=live&date=2019-01-01", ["E10000002"]),
        ("name=Buckinghamshire&entity_type=E06,E10&status=live", ["E06000060"]),
        ("name=Buckinghamshire&entity_type=E06,E10&valid_on=2019-01-01", ["E10000002"]),
        ("name=Buckinghamshire&entity_type=E06,E10&status=terminated", ["E10000002"]),
        ("entity_type=E06&changed_after=2020-04-01&changed_before=2020-04-01", ["E06000060"]),
        ("entity_type=E06&changed_after=2023-04-01&changed_before=2023-04-01",
         ["E06000063", "E06000064", "E06000065", "E06000066"]),
        ("parent=E10000002&entity_type=E07&date=2019-01-01",
         ["E07000004", "E07000005", "E07000006", "E07000007"]),
        ("parent=E12000008&name=Winslow&entity_type=E05&date=2020-06-01", ["E05010364"]),
        # The 2025 Winslow ward is a new code.
        ("parent=E12000008&name=Winslow&entity_type=E05&date=2025-06-01", ["E05015975"]),
        # The CHD adds the constituency of 1997–2010, E14000009.
        ("name=Aylesbury&entity_type=E14&ordering=-key", ["E14001071", "E14000538", "E14000009"]),
    ],
)  # fmt: skip
def test_listing_filters(get, query, keys):
    page = get(f"{SG}/?{query}")
    assert [entry["key"] for entry in page["results"]] == keys


def test_cursor_pagination_with_link_headers(client):
    first = client.get(f"{API}/entity-types/E06/entries/?page_size=2&status=live")
    body = first.json()
    assert [e["key"] for e in body["results"]] == ["E06000001", "E06000002"]
    assert body["previous"] is None
    assert first["Link"] == f'<{body["next"]}>; rel="next"'
    second = client.get(body["next"])
    body2 = second.json()
    assert [e["key"] for e in body2["results"]] == ["E06000003", "E06000004"]
    assert second["Link"] == f'<{body2["next"]}>; rel="next", <{body2["previous"]}>; rel="prev"'
    back = client.get(body2["previous"]).json()
    assert [e["key"] for e in back["results"]] == ["E06000001", "E06000002"]


def test_history(get):
    history = get(f"{SG}/E05010364/history/")
    # The CHD's dates (the ward vintages said 2016-05-01 to 2021-04-30).
    assert (history["status"], history["operative"], history["terminated"]) == (
        "terminated", "2015-05-07", "2021-05-05",
    )  # fmt: skip
    assert [
        (p["hierarchy"], p["key"], p["valid_from"], p["valid_to"]) for p in history["parents"]
    ] == [
        ("district", "E07000004", "2015-05-07", "2020-03-31"),
        ("district", "E06000060", "2020-04-01", "2021-05-05"),
    ]
    assert [s["status"] for s in history["states"]] == ["live", "terminated"]
    aylesbury = get(f"{SG}/E07000004/history/")
    assert [(e["kind"], e["date"]) for e in aylesbury["events"]] == [("merge", "2020-04-01")]
    assert [c["key"] for c in aylesbury["current"]] == ["E06000060"]
    # The county is a predecessor too, now its succession is recorded.
    assert [p["key"] for p in get(f"{SG}/E06000060/history/")["predecessors"]] == [
        "E07000004", "E07000005", "E07000006", "E07000007", "E10000002",
    ]  # fmt: skip


def test_versions(get):
    versions = get(f"{SG}/E07000004/versions/")
    [first] = versions["results"]
    assert (first["number"], first["recorded_by"]["command"], first["reason"]) == (
        1, "load_reference_data", "Load of the curated reference data",
    )  # fmt: skip
    assert first["changes"] == {"created": True}
    one = get(f"{SG}/E07000004/versions/1/")
    assert one["snapshot"]["names"] == [
        # The CHD's Equivalents table knows the council's name too.
        ["en", "alternative", "Aylesbury Vale District Council", "2009-01-01", "2020-03-31"],
        ["en", "official", "Aylesbury Vale", "2009-01-01", "2020-03-31"],
    ]
    get(f"{SG}/E07000004/versions/99/", status=404)
    assert get(f"{SG}/E07000004/versions/?date=2000-01-01")["results"] == []


def test_registers_with_counts(get):
    registers = {r["slug"]: r for r in get(f"{API}/registers/?date=2025-06-01")}
    assert sorted(registers) == ["local-authority", "statistical-entity", "statistical-geography"]
    # The 167 of the Register of Geographic Codes, N05, and the CHD's prefixes it lacks.
    assert registers["statistical-entity"]["entries"] == 202
    assert registers["statistical-geography"]["uri"] == (
        f"{settings.REGISTRY_URI_BASE}/id/statistical-geography"
    )
    one = get(f"{API}/registers/local-authority/?date=2025-06-01")
    assert one == registers["local-authority"]


def test_entity_types_with_counts(get):
    types = {t["key"]: t for t in get(f"{API}/entity-types/?date=2019-01-01")}
    assert types["E07"]["name"] == "Non-metropolitan Districts"
    assert types["E07"]["attributes"]["abbreviation"] == "NMD"
    e07 = get(f"{API}/entity-types/E07/?date=2019-01-01")
    assert e07 == types["E07"]
    # 2019-01-01: the 201 shire districts before the 2019 reorganisations.
    assert (e07["live"], get(f"{API}/entity-types/E07/")["live"]) == (201, 164)


def test_identifier_redirects_to_its_entry_keeping_the_query(client):
    response = client.get(f"{API}/identifiers/ons-legacy/00CN/?date=2019-01-01")
    assert response.status_code == 302
    assert response["Location"] == f"{SG}/E08000025/?date=2019-01-01"
    legacy = client.get(f"{API}/identifiers/ons-legacy/11UB/")  # no longer in use: its last entry
    assert legacy["Location"] == f"{SG}/E07000004/"
    iso = client.get(f"{API}/identifiers/iso-3166-2/GB-BIR/")
    assert iso["Location"] == f"{API}/entries/local-authority/BIR/"


def test_identifier_schemes(get):
    assert [s["scheme"] for s in get(f"{API}/identifiers/")] == [
        "govuk-register", "iso-3166-2", "mapit", "ons-legacy", "uk-parliament",
    ]  # fmt: skip


def test_change_events(get):
    event = get(f"{API}/events/2020-04-01-E06000060/")
    assert (event["kind"], event["instrument_title"]) == (
        "merge", "The Buckinghamshire (Structural Changes) Order 2019",
    )  # fmt: skip
    assert [p["key"] for p in event["predecessors"]] == [
        "E07000004", "E07000005", "E07000006", "E07000007", "E10000002",
    ]  # fmt: skip
    assert [s["key"] for s in event["successors"]] == ["E06000060"]
    page = get(f"{API}/events/?kind=merge&date_from=2020-04-01&date_to=2020-04-01")
    # The councils merged too: Buckinghamshire Council replaced the five old councils.
    assert [e["key"] for e in page["results"]] == ["2020-04-01-AYL", "2020-04-01-E06000060"]
    page = get(f"{API}/events/?code=E01033468")
    # It came into use in 2011 too, from a 2001 LSOA's split.
    assert [e["key"] for e in page["results"]] == ["2011-12-31-E01012069", "2021-03-21-E01033468"]


def test_api_root_links(get):
    root = get(f"{API}/")
    assert root["schema"] == "http://testserver/api/v1/schema/"
    assert root["lookup"] == "http://testserver/api/v1/lookup/"


# Query counts: a page costs the same whatever its size (no N+1).


@pytest.mark.parametrize("page_size", [5, 200])
def test_listing_query_count_does_not_grow_with_the_page(
    client, django_assert_max_num_queries, page_size
):
    with django_assert_max_num_queries(10):
        response = client.get(f"{SG}/?entity_type=E05&page_size={page_size}&date=2020-06-01")
    assert len(response.json()["results"]) == page_size


def test_children_query_count(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = client.get(f"{SG}/E06000060/children/?page_size=400&date=2025-06-01")
    assert len(response.json()["results"]) == 400


def test_detail_query_count(client, django_assert_max_num_queries):
    """One entry's document costs a fixed number of queries (registry.documents.describe),
    plus a couple per step of a successor chain; nothing grows with its children or names."""
    with django_assert_max_num_queries(20):
        assert client.get(f"{SG}/E06000060/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(f"{SG}/E92000001/").status_code == 200
    with django_assert_max_num_queries(30):
        assert client.get(f"{SG}/E07000004/history/").status_code == 200


def test_other_query_counts(client, django_assert_max_num_queries):
    for url in [
        f"{API}/registers/",
        f"{API}/entity-types/",
        f"{API}/events/?page_size=200",
        f"{SG}/E07000004/versions/",
        f"{SG}/E01033468/current/",
        f"{SG}/E05010364/ancestors/",
    ]:
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200, url
