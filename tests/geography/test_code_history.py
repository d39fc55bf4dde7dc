"""Every code in the Code History Database extract is in the registry, with the CHD's dates.

The expected figures are computed here from the fixture file itself, so the test says
"whatever the CHD holds", not a number copied from somewhere."""

import csv
import datetime as dt
from collections import Counter, defaultdict

import pytest

from geography.importers.chd import AS_AT, EXTRACT
from geography.registers import AREAS
from registry.models import Entry, State
from registry.validtime import covers

pytestmark = pytest.mark.django_db

ON = dt.date(2024, 7, 1)


def chd_codes() -> dict[str, tuple[dt.date, dt.date | None]]:
    """Each CHD code's lifetime, as the file gives it (first OPER_DATE; last TERM_DATE if the
    last record is terminated; never live if its only record ends before it starts)."""
    records = defaultdict(list)
    with open(f"fixtures/{EXTRACT}", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            records[row["GEOGCD"]].append(row)
    result = {}
    for code, rows in records.items():
        # Oldest first; of records that start on the same day, an open one last (as the
        # loader reads the extract: geography/importers/chd.py).
        rows.sort(key=lambda r: (r["OPER_DATE"], r["TERM_DATE"] or "9999"))
        start = dt.date.fromisoformat(rows[0]["OPER_DATE"])
        last = rows[-1]
        end = (
            dt.date.fromisoformat(last["TERM_DATE"])
            if last["STATUS"].lower() == "terminated"
            else None
        )
        result[code] = (
            (None, None) if end is not None and end < start and len(rows) == 1 else (start, end)
        )
    return result


@pytest.fixture(scope="module")
def chd():
    return chd_codes()


def registry_lifetimes() -> dict[str, tuple[dt.date | None, dt.date | None]]:
    lifetimes: dict[str, list] = {}
    for key, start, end in State.objects.filter(
        entry__register__slug=AREAS, status="live"
    ).values_list("entry__key", "valid_from", "valid_to"):
        span = lifetimes.setdefault(key, [start, end])
        span[0] = min(span[0], start)
        span[1] = None if span[1] is None or end is None else max(span[1], end)
    return {key: tuple(span) for key, span in lifetimes.items()}


def test_every_chd_code_is_an_entry_with_the_chds_lifetime(chd):
    keys = set(Entry.objects.filter(register__slug=AREAS).values_list("key", flat=True))
    assert set(chd) - keys == set()
    lifetimes = registry_lifetimes()
    # Sources newer than the CHD may end a code it shows live (the May 2025 wards), after the
    # CHD's last date; otherwise the registry's lifetime is the CHD's.
    differ = {
        code: (chd[code], lifetimes.get(code, (None, None)))
        for code in chd
        if lifetimes.get(code, (None, None)) != chd[code]
        and not (
            chd[code][1] is None
            and lifetimes[code][0] == chd[code][0]
            and lifetimes[code][1] >= AS_AT
        )
    }
    assert differ == {}


def test_codes_and_live_codes_per_prefix_equal_the_chds(chd):
    lifetimes = registry_lifetimes()
    registry_codes = Counter(
        key[:3] for key in Entry.objects.filter(register__slug=AREAS).values_list("key", flat=True)
    )
    expected_codes = Counter(code[:3] for code in chd)
    expected_live = Counter(code[:3] for code, (s, e) in chd.items() if s and covers(s, e, ON))
    live = Counter(key[:3] for key, (s, e) in lifetimes.items() if s and covers(s, e, ON))
    extras = Counter(
        key[:3]
        for key in Entry.objects.filter(register__slug=AREAS).values_list("key", flat=True)
        if key not in chd
    )
    for prefix in sorted(expected_codes):
        assert registry_codes[prefix] - extras[prefix] == expected_codes[prefix], prefix
        assert live[prefix] == expected_live[prefix], prefix
    assert len(expected_codes) == 186


def test_codes_the_chd_lacks_are_newer_than_it_or_from_named_sources(chd):
    """The registry holds a few codes the July 2024 extract does not: codes issued since
    (the 2024/25 district recodes, the May 2025 wards, the 2025 combined authorities), the
    UK, Great Britain and England and Wales, and the Scottish council areas of 1996–2002 the
    GOV.UK register lists."""
    lifetimes = registry_lifetimes()
    others = {
        key: lifetimes[key]
        for key in Entry.objects.filter(register__slug=AREAS).values_list("key", flat=True)
        if key not in chd
    }
    older = {key for key, (start, _end) in others.items() if start <= AS_AT}
    assert older == {
        "K02000001", "K03000001", "K04000001",
        "S12000001", "S12000002", "S12000004", "S12000012", "S12000016", "S12000025",
        "S12000031", "S12000032",
    }  # fmt: skip
    assert {key[:3] for key in others if key not in older} == {"E05", "E08", "E47"}


def test_every_prefix_resolves(client, chd):
    """One code of every prefix resolves at its persistent URI (J01 and the withdrawn county
    electoral divisions included)."""
    first = {}
    for code in sorted(chd):
        first.setdefault(code[:3], code)
    for code in [*first.values(), "J01000001", "E58000679"]:
        response = client.get(f"/id/{AREAS}/{code}")
        assert response.status_code == 303, code
        assert client.get(response["Location"]).status_code == 200, code
    assert client.get("/doc/statistical-entity/J01").status_code == 200
