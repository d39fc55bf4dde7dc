"""The registry holds exactly what the sources hold, set by set, for a date inside each
set's period (the dates are explained in geography/importers/*.py)."""

import pytest

from registry.models import Entry
from tests.conftest import d


def areas_on(date: str, *prefixes: str) -> int:
    entries = Entry.objects.in_register("statistical-geography").valid_on(d(date))
    keys = entries.values_list("key", flat=True)
    return sum(1 for key in keys if key[:3] in prefixes)


@pytest.mark.parametrize(
    ("date", "prefixes", "expected"),
    [
        ("2015-01-01", ("E01", "W01"), 34_753),  # LSOA 2011 set
        ("2021-03-20", ("E01", "W01"), 34_753),  # its last day
        ("2021-03-21", ("E01", "W01"), 35_672),  # LSOA 2021 set from Census day 2021
        ("2025-06-01", ("E01", "W01"), 35_672),
        ("2015-01-01", ("E02", "W02"), 7_201),  # MSOA 2011 set
        ("2025-06-01", ("E02", "W02"), 7_264),  # MSOA 2021 set
        ("2025-06-01", ("E06", "E07", "E08", "E09", "W06", "S12", "N09"), 361),  # districts
        ("2020-01-01", ("E14", "W07", "S14", "N06"), 650),  # constituencies, 2010 set
        ("2025-01-01", ("E14", "W07", "S14", "N05"), 650),  # constituencies, 2024 set
        ("2025-06-01", ("E05", "W05"), 7_588),  # wards of the 2025 vintage
        ("2025-06-01", ("E12",), 9),
        ("2025-06-01", ("E92", "W92", "S92", "N92"), 4),
    ],
)
def test_set_sizes_as_at_a_date(db, date, prefixes, expected):
    assert areas_on(date, *prefixes) == expected


def test_every_2025_ward_code_is_live_in_2025(db):
    with open("fixtures/wards/onsvisual_wd25_names_codes.csv", encoding="utf-8") as handle:
        codes = {line.split(",")[0] for line in handle.readlines()[1:]}
    live = set(
        Entry.objects.in_register("statistical-geography")
        .valid_on(d("2025-06-01"))
        .filter(key__in=codes)
        .values_list("key", flat=True)
    )
    assert len(codes) == 7_588
    assert live == codes


def test_every_district_code_since_2009_is_loaded(db):
    with open("fixtures/local_authorities/drkane_la_all_codes.csv", encoding="utf-8") as handle:
        codes = {line.split(",")[0] for line in handle.readlines()[1:]}
    loaded = set(
        Entry.objects.in_register("statistical-geography")
        .filter(key__in=codes)
        .values_list("key", flat=True)
    )
    assert codes - loaded == set()


def test_councils_register(db):
    councils = Entry.objects.in_register("local-authority")
    assert councils.count() == 470
    assert (
        councils.valid_on(d("2025-06-01")).count()
        == councils.filter(states__status="live", states__valid_to__isnull=True).count()
    )
