"""Lower and middle layer super output areas (E01, W01, E02, W02) of the 2011 and 2021
censuses, and the changes between them.

Editorial decisions
-------------------
- The 2011 set is recorded from Census day 2011 (2011-03-27); the 2021 set from Census day
  2021 (2021-03-21). A 2011 code that the 2021 set does not keep ends on 2021-03-20. So an
  "as at" query for any date from 2011-03-27 to 2021-03-20 returns exactly the 2011 set
  (34,753 LSOAs, 7,201 MSOAs) and any date from 2021-03-21 the 2021 set (35,672 and 7,264).
  The 2001 set is not loaded.
- The ONS change indicator (CHGIND) of the LSOA 2011 → 2021 lookup decides the history: ``U``
  (unchanged) means the same entry continues under the same code, possibly with a new name;
  ``S`` (split), ``M`` (merged) and ``X`` (complex) make change events linking the old codes
  to the new. MSOA changes are read from the shape of the MSOA 2011 → 2021 lookup.
- An LSOA is within its MSOA (``msoa``) and its district (``district``); an MSOA within its
  district. The 2021 LSOA → MSOA link follows the ONS naming rule (an LSOA's name is its
  MSOA's name and a letter), checked against the district of both.
- House of Commons Library MSOA names, English and Welsh, are display names; the ONS names
  ("Hartlepool 001") are the official ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from registry.models import EVENT_KIND, NAME_KIND

from .. import entity_types as kinds
from ..registers import AREAS
from .base import DAY, Dataset, LoadError, Row, read_csv, spans

CENSUS_2011 = dt.date(2011, 3, 27)
CENSUS_2021 = dt.date(2021, 3, 21)
DISTRICT_PREFIXES = kinds.ENGLAND_AND_WALES_DISTRICTS
LSOA21_NAMES = "lsoa_msoa/onsvisual_lsoa21_names_codes.csv"
CHGIND_KIND = {"S": EVENT_KIND.SPLIT, "M": EVENT_KIND.MERGE, "X": EVENT_KIND.COMPLEX}


def area(code: str) -> str:
    return f"{AREAS}/{code}"


def load_small_areas(data: Dataset, root: Path) -> None:
    _load_lsoas(data, root)
    _load_msoas(data, root)


def _add_sets(
    data: Dataset, path11: str, names11: dict[str, str], path21: str, names21: dict[str, str]
) -> None:
    """The 2011 and 2021 sets: lifetimes from Census day to Census day, and each set's names
    (a code in both sets is one entry, with a name per period)."""
    for code in names11.keys() | names21.keys():
        draft = data.area(code, path11 if code in names11 else path21)
        draft.operative = CENSUS_2011 if code in names11 else CENSUS_2021
        draft.terminated = None if code in names21 else CENSUS_2021 - DAY
    for code, name in names11.items():
        data.area(code, path11).name(name, CENSUS_2011, CENSUS_2021 - DAY)
    for code, name in names21.items():
        data.area(code, path21).name(name, CENSUS_2021, None)


def _load_lsoas(data: Dataset, root: Path) -> None:
    lookup = "lsoa_msoa/geographr_lookup_lsoa11_lsoa21_ltla22.csv"
    columns = ["lsoa11_code", "lsoa11_name", "change_code", "lsoa21_code", "lsoa21_name", "ltla22_code"]  # fmt: skip
    names11, names21, links = {}, {}, []
    districts: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for row in read_csv(root, lookup, columns):
        old = row.gss("lsoa11_code", prefixes=kinds.LSOAS)
        new = row.gss("lsoa21_code", prefixes=kinds.LSOAS)
        change = row.text("change_code")
        if change not in {"U", "S", "M", "X"}:
            raise row.error(f"change_code {change!r} is not U, S, M or X")
        if change == "U" and old != new:
            raise row.error(f"change_code U (unchanged) but {old} became {new}")
        names11[old], names21[new] = row.text("lsoa11_name"), row.text("lsoa21_name")
        districts[new].append(
            (dt.date(2022, 5, 1), row.gss("ltla22_code", prefixes=DISTRICT_PREFIXES))
        )
        if change != "U":
            links.append((old, new, CHGIND_KIND[change]))
    official21 = LSOA21_NAMES
    for row in read_csv(root, official21, ["areacd", "areanm"]):
        code = row.gss("areacd", prefixes=kinds.LSOAS)
        names21[code] = row.text("areanm")
    _add_sets(data, lookup, names11, official21, names21)
    for old, new, kind in links:
        data.change(CENSUS_2021, area(old), area(new), lookup, kind=kind,
                    instrument_title="Census 2021 LSOA changes")  # fmt: skip

    path = "lsoa_msoa/ons_lsoa01_lsoa11_lad11_ew.csv"
    for row in read_csv(root, path, ["LSOA11CD", "LAD11CD"]):
        code = row.gss("LSOA11CD", prefixes=kinds.LSOAS)
        districts[code].append((CENSUS_2011, row.gss("LAD11CD", prefixes=DISTRICT_PREFIXES)))
    path = "lsoa_msoa/ons_lsoa11_to_wd19_ew.csv"
    for row in read_csv(root, path, ["LSOA11CD", "LAD19CD"]):
        code = row.gss("LSOA11CD", prefixes=kinds.LSOAS)
        districts[code].append(
            (dt.date(2019, 12, 1), row.gss("LAD19CD", prefixes=DISTRICT_PREFIXES))
        )
    path = "lsoa_msoa/geographr_lookup_lsoa21_ward24_ltla24.csv"
    # Where each (LSOA, district) pair was first read from, so that a pair that breaks the
    # hierarchy rule (the district must be one) is reported at its line.
    said: dict[tuple[str, str], Row] = {}
    for row in read_csv(root, path, ["lsoa21_code", "ltla24_code"]):
        code = row.gss("lsoa21_code", prefixes=kinds.LSOAS)
        district = row.gss("ltla24_code")  # of the right type: geography.rules checks it
        said.setdefault((code, district), row)
        districts[code].append((dt.date(2024, 5, 1), district))
    for code, observed in districts.items():
        draft = data.get(area(code))
        if draft is None:
            continue
        # The earliest district is taken to hold from the area's start.
        observed = sorted(observed)
        observed[0] = (draft.operative, observed[0][1])  # type: ignore[assignment]
        for lad, start, end in spans(observed):
            draft.parent(area(lad), "district", start, end, origin=said.get((code, lad)))

    path = "lsoa_msoa/geographr_lookup_lsoa11_msoa11.csv"
    for row in read_csv(root, path, ["lsoa11_code", "msoa11_code"]):
        code = row.text("lsoa11_code")
        if code[:3] not in kinds.LSOAS:
            continue  # Scottish data zones are not loaded
        draft = data.get(area(row.gss("lsoa11_code")))
        if draft is not None:
            # Whether the parent is an MSOA is the hierarchy rule's to say (geography.rules).
            draft.parent(area(row.gss("msoa11_code")), "msoa", CENSUS_2011, CENSUS_2021 - DAY,
                         origin=row)  # fmt: skip
    data.lsoa21_names = names21


def _load_msoas(data: Dataset, root: Path) -> None:
    lookup = "lsoa_msoa/geographr_lookup_msoa11_msoa21_ltla22.csv"
    columns = ["msoa11_code", "msoa11_name", "msoa21_code", "msoa21_name", "ltla22_code"]
    names11, names21, pairs = {}, {}, []
    for row in read_csv(root, lookup, columns):
        old = row.gss("msoa11_code", prefixes=kinds.MSOAS)
        new = row.gss("msoa21_code", prefixes=kinds.MSOAS)
        names11[old] = row.text("msoa11_name")
        pairs.append((old, new))
    official21 = "lsoa_msoa/onsvisual_msoa21_names_codes.csv"
    for row in read_csv(root, official21, ["areacd", "areanm"]):
        names21[row.gss("areacd", prefixes=kinds.MSOAS)] = row.text("areanm")
    _add_sets(data, lookup, names11, official21, names21)
    for old, new in pairs:
        if old != new and (old not in names21 or new not in names11):
            data.change(CENSUS_2021, area(old), area(new), lookup,
                        instrument_title="Census 2021 MSOA changes")  # fmt: skip

    path = "lsoa_msoa/drkane_msoa_la.csv"
    columns = ["MSOACD", "MSOAHCLNM", "MSOAHCLNMW", "MSOA11CD", "MSOA21CD", "MSOA11HCLNM"]
    for row in read_csv(root, path, columns):
        code = row.text("MSOACD")
        if code[:3] not in kinds.MSOAS:
            continue  # Scottish intermediate zones and Northern Irish areas are not loaded
        draft = data.get(area(row.gss("MSOACD")))
        if draft is None:
            raise row.error(f"{code} is in neither the 2011 nor the 2021 MSOA set")
        draft.sources.add(path)
        if row.text("MSOA21CD", required=False):
            draft.name(row.text("MSOAHCLNM"), CENSUS_2021, None, kind=NAME_KIND.DISPLAY)
            draft.name(row.text("MSOAHCLNMW", required=False), CENSUS_2021, None, "cy",
                       NAME_KIND.DISPLAY)  # fmt: skip
        if row.text("MSOA11CD", required=False):
            draft.name(row.text("MSOA11HCLNM", required=False), CENSUS_2011,
                       CENSUS_2021 - DAY, kind=NAME_KIND.DISPLAY)  # fmt: skip

    # Districts: the 2019 lookup for the 2011 set, the 2022 lookup for the 2021 set.
    msoa_districts: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    path = "lsoa_msoa/ons_msoa11_wd19_lad19_ew_dec2019.csv"
    for row in read_csv(root, path, ["MSOA11CD", "LAD19CD"]):
        msoa_districts[row.gss("MSOA11CD", prefixes=kinds.MSOAS)].append(
            (CENSUS_2011, row.gss("LAD19CD", prefixes=DISTRICT_PREFIXES))
        )
    for row in read_csv(root, lookup, ["msoa21_code", "ltla22_code"]):
        msoa_districts[row.gss("msoa21_code")].append(
            (CENSUS_2021, row.gss("ltla22_code", prefixes=DISTRICT_PREFIXES))
        )
    by_name: dict[str, str] = {}
    for code, observed in msoa_districts.items():
        draft = data.get(area(code))
        if draft is None:
            continue
        for lad, start, end in spans(sorted(set(observed))):
            draft.parent(area(lad), "district", start, end)
    for code, name in names21.items():
        by_name[name] = code
    for code, name in data.lsoa21_names.items():
        msoa = by_name.get(name[:-1])
        if msoa is None:
            raise LoadError(
                LSOA21_NAMES, 0, f"{code} {name!r}: no 2021 MSOA is named {name[:-1]!r}"
            )
        data.area(code, LSOA21_NAMES).parent(area(msoa), "msoa", CENSUS_2021, None)
