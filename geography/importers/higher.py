"""Entity types, countries, regions, counties, metropolitan counties, combined authorities and
Westminster constituencies.

Editorial decisions
-------------------
- Entity types come from the ONS Register of Geographic Codes (May 2017). Prefixes used by
  newer codes that it lacks are in ``curated/entity_types_extra.csv`` with their evidence. An
  archived type ends on the RGC's "date of last instance change".
- Countries, the UK unions (K02–K04) and regions are recorded from 1 January 2009, when the
  GSS codes were introduced (the "GSS re-coding strategy" date of the Code History Database).
- Names-and-codes files without a month (the ONS Open Geography "visual" releases) are taken
  as at 1 May of their year, the date local government changes usually follow; files that
  name a month are taken as at the first of that month (see ``VINTAGES``).
- Combined authorities are known from the first vintage listing them; one missing from a
  later vintage ends the day before it. Their membership is taken from the district lookups.
- Counties end on the date their districts ended (the Code History Database gives those
  dates) when a later county vintage no longer lists them.
- Westminster constituencies: the 2010 set is recorded from the 2010 general election
  (2010-05-06) to the day before the 2024 general election; the 2024 set from 2024-07-04.
  No official lookup between the sets is available, so no change events link them. A code
  in both sets (six Scottish seats the 2023 review left unchanged) is one continuing entry.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from .. import entity_types as kinds
from ..gss import GSS_START, country_of
from ..registers import AREAS, ENTITY_TYPES
from .base import DAY, Dataset, read_csv, spans
from .districts import chd_extract

# File → the date its contents are taken to describe.
VINTAGES = {
    "higher/ons_cauth19_names_codes_en_dec2019.csv": dt.date(2019, 12, 1),
    "higher/onsvisual_cauth22_names_codes.csv": dt.date(2022, 5, 1),
    "higher/onsvisual_cauth24_names_codes.csv": dt.date(2024, 5, 1),
    "higher/onsvisual_cauth25_names_codes.csv": dt.date(2025, 5, 1),
    "local_authorities/ons_lad17_to_cauth17_mar2017.csv": dt.date(2017, 3, 1),
    "local_authorities/ons_lad18_to_cauth18_dec2018.csv": dt.date(2018, 12, 1),
    "local_authorities/ons_lad19_to_cauth19_dec2019.csv": dt.date(2019, 12, 1),
    "local_authorities/geographr_lookup_ltla23_cauth23.csv": dt.date(2023, 5, 1),
    "higher/ons_cty20_names_codes_en_apr2020.csv": dt.date(2020, 4, 1),
    "higher/onsvisual_cty22_names_codes.csv": dt.date(2022, 5, 1),
    "higher/onsvisual_cty23_names_codes.csv": dt.date(2023, 5, 1),
}

CONSTITUENCIES_2010 = dt.date(2010, 5, 6)
CONSTITUENCIES_2024 = dt.date(2024, 7, 4)

# The unions above the countries: each country's (or union's) parent.
UNION_PARENT = {
    "E92000001": "K04000001",
    "W92000004": "K04000001",
    "K04000001": "K03000001",
    "S92000003": "K03000001",
    "K03000001": "K02000001",
    "N92000002": "K02000001",
}


def load_entity_types(data: Dataset, root: Path) -> None:
    path = "rgc/ons_rgc_register_of_geographic_codes_may2017.csv"
    columns = ["Entity code", "Entity name", "Entity abbreviation", "Entity theme",
               "Entity coverage", "Status", "Date of last instance change", "Entity owner",
               "Entity start date", "Current code (first in range)",
               "Current code (last in range)"]  # fmt: skip
    for row in read_csv(root, path, columns):
        code = row.text("Entity code")
        if len(code) != 3 or not code[0].isalpha() or not code[1:].isdigit():
            raise row.error(f"entity code {code!r} is not a letter and two digits")
        draft = data.entry(ENTITY_TYPES, code, path)
        draft.name(row.text("Entity name"))
        draft.operative = row.date("Entity start date", required=True)
        if row.text("Status") == "Archived":
            draft.terminated = row.date("Date of last instance change")
        draft.attributes = {
            "abbreviation": row.text("Entity abbreviation", required=False),
            "theme": row.text("Entity theme", required=False),
            "coverage": row.text("Entity coverage", required=False),
            "owner": row.text("Entity owner", required=False),
            "first_code": row.text("Current code (first in range)", required=False),
            "last_code": row.text("Current code (last in range)", required=False),
        }
    path = "curated/entity_types_extra.csv"
    columns = ["code", "name", "abbreviation", "theme", "coverage", "owner", "start_date"]
    for row in read_csv(root, path, columns):
        draft = data.entry(ENTITY_TYPES, row.text("code"), path)
        draft.name(row.text("name"))
        draft.operative = row.date("start_date", required=True)
        draft.attributes = {
            k: row.text(k, required=False) for k in ("abbreviation", "theme", "coverage", "owner")
        }


def load_countries_and_regions(data: Dataset, root: Path) -> None:
    path = "higher/ons_ctry18_names_codes_uk_dec2018.csv"
    for row in read_csv(root, path, ["CTRY18CD", "CTRY18NM", "CTRY18NMW"]):
        code = row.gss("CTRY18CD", prefixes=kinds.COUNTRIES | kinds.UNIONS)
        draft = data.area(code, path)
        draft.operative = GSS_START
        draft.name(row.text("CTRY18NM"))
        draft.name(row.text("CTRY18NMW", required=False), language="cy")
        if code in UNION_PARENT:
            draft.parent(f"{AREAS}/{UNION_PARENT[code]}", "union")
    path = "higher/ons_rgn19_names_codes_en_dec2019.csv"
    for row in read_csv(root, path, ["RGN19CD", "RGN19NM", "RGN19NMW"]):
        code = row.gss("RGN19CD", prefixes=["E12"])
        draft = data.area(code, path)
        draft.operative = GSS_START
        draft.name(row.text("RGN19NM"))
        draft.name(row.text("RGN19NMW", required=False), language="cy")
        draft.parent(f"{AREAS}/E92000001", "country")


def load_counties(data: Dataset, root: Path) -> None:
    """Counties (E10) and metropolitan counties (E11) from the Code History Database
    extracts, with names and presence from later vintages."""
    chd_extract(data, root, "code_history/ons_chd_extract_2017_e10.csv", ["E10"])
    chd_extract(data, root, "code_history/ons_chd_extract_2017_e11.csv", ["E11"])
    latest: set[str] = set()
    for path, columns in (
        ("higher/ons_cty20_names_codes_en_apr2020.csv", ("CTY20CD", "CTY20NM")),
        ("higher/onsvisual_cty22_names_codes.csv", ("areacd", "areanm")),
        ("higher/onsvisual_cty23_names_codes.csv", ("areacd", "areanm")),
    ):
        latest = set()
        for row in read_csv(root, path, columns):
            code = row.gss(columns[0], prefixes=["E10"])
            draft = data.area(code, path)
            draft.operative = draft.operative or VINTAGES[path]
            latest.add(code)
    data.counties_in_latest_vintage = latest
    # The 2023 reorganisation replaced counties by unitary authorities on 1 April.
    path = "code_history/onsvisual_lookup_changes_2023.csv"
    for row in read_csv(root, path, ["areacd", "newcd", "year"]):
        old = row.gss("areacd")
        new = row.gss("newcd")
        if not row.text("year").isdigit():
            raise row.error(f"year {row.text('year')!r} is not a year")
        data.change(dt.date(int(row.text("year")), 4, 1), f"{AREAS}/{old}", f"{AREAS}/{new}", path)


def finish_counties(data: Dataset) -> None:
    """Run after the districts: a county missing from the latest vintage ends when its
    districts ended; a county's region is its districts' region."""
    children: dict[str, list] = defaultdict(list)
    for draft in data.entries.values():
        if draft.key[:3] in kinds.ENGLISH_DISTRICTS:
            for _kind, _h, target, _s, _e in draft.relations:
                if target[len(AREAS) + 1 :][:3] in kinds.COUNTIES:
                    children[target].append(draft)
    for ref, draft in data.entries.items():
        if draft.register != AREAS or draft.key[:3] not in kinds.COUNTIES:
            continue
        districts = children.get(ref, [])
        if (
            draft.key[:3] == "E10"
            and draft.terminated is None
            and draft.key not in data.counties_in_latest_vintage
        ):
            ends = [d.terminated for d in districts]
            if ends and all(ends):
                draft.terminated = max(ends)  # type: ignore[type-var]
        regions = {
            target
            for d in districts
            for _k, _h, target, _s, _e in d.relations
            if target.startswith(f"{AREAS}/E12")
        }
        for region in regions:
            draft.parent(region, "region")


def load_combined_authorities(data: Dataset, root: Path) -> None:
    names: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    seen: dict[dt.date, set[str]] = defaultdict(set)
    for path, columns in (
        ("higher/ons_cauth19_names_codes_en_dec2019.csv", ("CAUTH19CD", "CAUTH19NM")),
        ("higher/onsvisual_cauth22_names_codes.csv", ("areacd", "areanm")),
        ("higher/onsvisual_cauth24_names_codes.csv", ("areacd", "areanm")),
        ("higher/onsvisual_cauth25_names_codes.csv", ("areacd", "areanm")),
    ):
        date = VINTAGES[path]
        for row in read_csv(root, path, columns):
            code = row.gss(columns[0], prefixes=["E47"])
            data.area(code, path)
            names[code].append((date, row.text(columns[1])))
            seen[date].add(code)
    membership: dict[str, list[tuple[dt.date, str | None]]] = defaultdict(list)
    lookups = (
        ("local_authorities/ons_lad17_to_cauth17_mar2017.csv", ("LAD17CD", "CAUTH17CD", "CAUTH17NM")),
        ("local_authorities/ons_lad18_to_cauth18_dec2018.csv", ("LAD18CD", "CAUTH18CD", "CAUTH18NM")),
        ("local_authorities/ons_lad19_to_cauth19_dec2019.csv", ("LAD19CD", "CAUTH19CD", "CAUTH19NM")),
        ("local_authorities/geographr_lookup_ltla23_cauth23.csv", ("ltla23_code", "cauth23_code", "cauth23_name")),
    )  # fmt: skip
    for path, (lad_col, ca_col, name_col) in lookups:
        date = VINTAGES[path]
        listed = set()
        for row in read_csv(root, path, (lad_col, ca_col, name_col)):
            lad = row.gss(lad_col, prefixes=kinds.ENGLISH_DISTRICTS)
            ca = row.gss(ca_col, prefixes=["E47"])
            data.area(ca, path)
            names[ca].append((date, row.text(name_col)))
            seen[date].add(ca)
            membership[lad].append((date, ca))
            listed.add(lad)
        for lad, history in membership.items():
            if lad not in listed and history[-1][0] != date:
                history.append((date, None))
    dates = sorted(seen)
    for code, observed in names.items():
        draft = data.area(code, "higher/ons_cauth19_names_codes_en_dec2019.csv")
        present = sorted({d for d, _ in observed})
        draft.operative = present[0]
        later = [d for d in dates if d > present[-1]]
        draft.terminated = later[0] - DAY if later else None
        for name, start, end in spans(observed):
            draft.name(name, start, end)
    data.combined_authority_membership = membership


def add_combined_authority_membership(data: Dataset) -> None:
    """Run after the districts exist: each district's combined authority over time."""
    for lad, history in data.combined_authority_membership.items():
        draft = data.get(f"{AREAS}/{lad}")
        if draft is None:
            continue
        for ca, start, end in spans(history):
            if ca:
                draft.parent(f"{AREAS}/{ca}", "combined-authority", start, end)


def load_constituencies(data: Dataset, root: Path) -> None:
    path = "higher/mysociety_westminster_constituencies_2010_set.csv"
    for row in read_csv(root, path, ["name", "gss-code", "mapit-id", "parliament-id"]):
        code = row.gss("gss-code", prefixes=kinds.CONSTITUENCIES)
        draft = data.area(code, path)
        draft.operative = CONSTITUENCIES_2010
        draft.terminated = CONSTITUENCIES_2024 - DAY
        draft.name(row.text("name"), CONSTITUENCIES_2010, CONSTITUENCIES_2024 - DAY)
        for scheme, column in (("mapit", "mapit-id"), ("uk-parliament", "parliament-id")):
            value = row.text(column, required=False)
            if value:
                draft.identifiers.add((scheme, value, None, None))
        draft.parent(f"{AREAS}/{country_of(code)}", "country")
    path = "higher/onsvisual_wpc24_names_codes.csv"
    for row in read_csv(root, path, ["areacd", "areanm"]):
        code = row.gss("areacd", prefixes=kinds.CONSTITUENCIES)
        draft = data.area(code, path)
        if draft.operative == CONSTITUENCIES_2010:
            # Unchanged by the 2023 review (East Renfrewshire, Orkney and Shetland, …): the
            # same entry continues under its code.
            draft.terminated = None
        else:
            draft.operative = CONSTITUENCIES_2024
        draft.name(row.text("areanm"), CONSTITUENCIES_2024, None)
        draft.parent(f"{AREAS}/{country_of(code)}", "country")
