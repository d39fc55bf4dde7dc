"""Electoral wards (E05, W05, S13, N08) from the ward vintages 2015–2025.

Editorial decisions
-------------------
- No official ward-to-ward change lookup exists in the sources, so a ward's lifetime is
  derived from the vintages it appears in, and no successor links are asserted between ward
  codes (a best fit through LSOAs would be an approximation).
- A vintage is taken to describe wards from 1 May of its year, the day before the usual first
  Thursday of May when new ward boundaries take effect at ordinary elections; the Northern
  Ireland 2015 vintage from 1 April 2015, when the new districts began.
- A ward is recorded from the first vintage that lists it to the day before the first later
  vintage covering its country that does not — or, if earlier, the day before a new ward of
  its district is first listed after it (the district's wards were reviewed then; so the
  island wards replaced at the 2022 Scottish elections end on 2022-04-30, not when the next
  Scottish list happens to be dated). The vintages after 2021 cover England and Wales only;
  for Scotland and Northern Ireland the postcodes.io ward list (``postcodesio_wards.csv``,
  from the ONS Postcode Directory with the May 2025 wards: its English and Welsh codes are
  exactly the 2025 vintage's) is taken as their 2025 vintage.
- ``drkane_ward_all_codes.csv`` lists every ward code since 2015 with the year of the first
  vintage it appears in and its district then; it fills the districts of the 2022–2025
  vintages, which give names only. Wards first listed in 2026 are beyond the 2015–2025
  vintages this release covers and are not loaded (their predecessors' ends are unknown).
- A ward's district follows the district's successor when the district is abolished (for
  example the Aylesbury Vale wards belong to Buckinghamshire from 2020-04-01).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from .. import entity_types as kinds
from ..registers import AREAS
from .base import DAY, Dataset, read_csv, spans

WARD_PREFIXES = kinds.WARDS
DISTRICT_PREFIXES = kinds.DISTRICTS

EW, SCOTLAND, NI = "EW", "S", "N"

# (file, date, countries covered, code, name, Welsh name, district columns)
VINTAGES = [
    ("wards/ons_wd15_to_lgd15_ni_apr2015.csv", dt.date(2015, 4, 1), {NI},
     "WD15CD", "WD15NM", None, "LGD15CD"),
    ("wards/ons_wd16_to_lad16_uk_dec2016.csv", dt.date(2016, 5, 1), {EW, SCOTLAND, NI},
     "WD16CD", "WD16NM", None, "LAD16CD"),
    ("wards/ons_wd17_to_lad17_uk_dec2017.csv", dt.date(2017, 5, 1), {EW, SCOTLAND, NI},
     "WD17CD", "WD17NM", "WD17NMW", "LAD17CD"),
    ("wards/ons_wd18_to_lad18_uk_dec2018.csv", dt.date(2018, 5, 1), {EW, SCOTLAND, NI},
     "WD18CD", "WD18NM", "WD18NMW", "LAD18CD"),
    ("wards/ons_wd19_to_lad19_uk_dec2019.csv", dt.date(2019, 5, 1), {EW, SCOTLAND, NI},
     "WD19CD", "WD19NM", None, "LAD19CD"),
    ("wards/ons_wd20_to_lad20_uk_dec2020.csv", dt.date(2020, 5, 1), {EW, SCOTLAND, NI},
     "WD20CD", "WD20NM", None, "LAD20CD"),
    ("wards/geographr_lookup_ward21_ltla21.csv", dt.date(2021, 5, 1), {EW, SCOTLAND, NI},
     "ward21_code", "ward21_name", None, "ltla21_code"),
    ("wards/onsvisual_wd22_names_codes.csv", dt.date(2022, 5, 1), {EW},
     "areacd", "areanm", None, None),
    ("wards/onsvisual_wd23_names_codes.csv", dt.date(2023, 5, 1), {EW},
     "areacd", "areanm", None, None),
    # The same vintage from ONS's own lookup, for its 762 Welsh ward names and districts.
    ("wards/ons_wd23_to_lad23_uk_dec2023.csv", dt.date(2023, 5, 1), {EW, SCOTLAND, NI},
     "WD23CD", "WD23NM", "WD23NMW", "LAD23CD"),
    ("wards/onsvisual_wd24_names_codes.csv", dt.date(2024, 5, 1), {EW},
     "areacd", "areanm", None, None),
    ("wards/onsvisual_wd25_names_codes.csv", dt.date(2025, 5, 1), {EW},
     "areacd", "areanm", None, None),
]  # fmt: skip
LAST_YEAR = 2025
ALL_WARDS = "wards/drkane_ward_all_codes.csv"
# Scotland's and Northern Ireland's wards as at the 2025 vintage (names only).
CURRENT_LIST = ("wards/postcodesio_wards.csv", dt.date(2025, 5, 1), {SCOTLAND, NI})


def nation(code: str) -> str:
    return {"E": EW, "W": EW, "S": SCOTLAND, "N": NI}[code[0]]


def load_wards(data: Dataset, root: Path) -> None:
    present: dict[str, list[dt.date]] = defaultdict(list)
    names: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    welsh: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    districts: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    sources: dict[str, str] = {}
    coverage: dict[str, list[dt.date]] = defaultdict(list)
    for path, date, countries, code_col, name_col, welsh_col, lad_col in VINTAGES:
        for country in countries:
            coverage[country].append(date)
        columns = [c for c in (code_col, name_col, welsh_col, lad_col) if c]
        for row in read_csv(root, path, columns):
            code = row.gss(code_col, prefixes=WARD_PREFIXES)
            if nation(code) not in countries:
                raise row.error(f"{code} is outside the countries this vintage covers")
            present[code].append(date)
            sources.setdefault(code, path)
            names[code].append((date, row.text(name_col)))
            if welsh_col and row.text(welsh_col, required=False):
                welsh[code].append((date, row.text(welsh_col)))
            if lad_col:
                districts[code].append((date, row.gss(lad_col, prefixes=DISTRICT_PREFIXES)))

    path, date, countries = CURRENT_LIST
    for country in countries:
        coverage[country].append(date)
    for row in read_csv(root, path, ["code", "name"]):
        if row.text("code")[:3] not in ("S13", "N08"):
            continue  # England and Wales: the 2025 vintage itself; pseudo codes (L99999999)
        code = row.gss("code", prefixes=WARD_PREFIXES)
        present[code].append(date)
        sources.setdefault(code, path)
        names[code].append((date, row.text("name")))

    columns = ["WDCD", "WDNM", "LADCD", "SOURCEFILE"]
    for row in read_csv(root, ALL_WARDS, columns):
        code = row.gss("WDCD", prefixes=WARD_PREFIXES)
        year = row.text("SOURCEFILE")
        if not year.isdigit():
            raise row.error(f"SOURCEFILE {year!r} is not a year")
        if int(year) > LAST_YEAR:
            continue
        first = dt.date(int(year), 5, 1)
        lad = row.gss("LADCD", prefixes=DISTRICT_PREFIXES)
        if code not in present or (first < min(present[code]) and sources[code] == path):
            # Listed only here, or otherwise only in the 2025 list for Scotland and Northern
            # Ireland (a vintage this release lacks): known from that year.
            present[code].append(first)
            names[code].append((first, row.text("WDNM")))
            sources[code] = ALL_WARDS
        elif first not in coverage[nation(code)] and first > min(present[code]):
            # Its name as of a year no vintage of its country covers (a ward renamed at the
            # 2022 Scottish elections: Lerwick North and Bressay).
            names[code].append((first, row.text("WDNM")))
        if not districts[code]:
            # Wards first listed in the names-only vintages (2022–2025): their district then.
            districts[code].append((first, lad))

    # When each district's wards changed: the dates new wards of it were first listed.
    reviews: dict[str, set[dt.date]] = defaultdict(set)
    for code, dates in present.items():
        first = min(dates)
        for lad, start, end in spans(districts[code]):
            if start <= first and (end is None or first <= end):
                reviews[lad].add(first)

    for code, dates in present.items():
        dates.sort()
        draft = data.area(code, sources[code])
        draft.operative = dates[0]
        later = [d for d in sorted(coverage[nation(code)]) if d > dates[-1]]
        end = later[0] - DAY if later else None
        if end is not None:
            lad = _district_on(districts[code], dates[-1])
            review = min((d for d in reviews.get(lad, ()) if d > dates[-1]), default=None)
            if review is not None and review - DAY < end:
                end = review - DAY
        draft.terminated = end
        for name, start, end in spans(names[code]):
            draft.name(name, start, end)
        for name, start, end in spans(welsh[code]):
            draft.name(name, start, end, language="cy")
        for lad, start, end in spans(districts[code]):
            draft.parent(f"{AREAS}/{lad}", "district", start, end)


def _district_on(history: list[tuple[dt.date, str]], day: dt.date) -> str | None:
    """The district a ward belonged to on ``day`` (the last one observed by then)."""
    for lad, start, end in spans(history):
        if start <= day and (end is None or day <= end):
            return lad
    return None
