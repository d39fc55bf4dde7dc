"""Local authority districts (E06, E07, E08, E09, W06, S12, N09): lifetimes, names, change
events and parents.

Editorial decisions
-------------------
- Lifetimes, names and end dates of English and Welsh districts come from the Code History
  Database (December 2023), as ``README.md`` of the sources says: mySociety ends the 2021 and
  2023 districts on 1 April, a day late; the CHD ends them on 31 March.
- A name change under one code (Shepway → Folkestone and Hythe, 2018-04-01) is a new name on
  the same entry and a ``rename`` change event; it is never a new entry.
- Recodes that the CHD extract predates are in ``curated/lad_recodes.csv`` with their
  evidence: the 2018–19 Scottish council area recodes (S12000047–50, which only
  ``drkane_la_all_codes.csv`` records; the ONS district lookups place them between the 2017
  and 2018, and the 2018 and 2019 vintages) and the 2025 Barnsley and Sheffield recodes
  (E08000038, E08000039: the 2024 district lookup still has E08000016 and E08000019, the 2025
  names and codes file has the new codes).
- Scottish council areas, every S12 code since 1996, come from the GOV.UK register of
  Scottish council areas with their start and end dates and the legislation that ended them;
  a code that ended the day before another code of the same council began is linked to it
  by a boundary-change event (the 2002–2011 amendments). The register ends S12000025
  Renfrewshire on 2002-06-01, the day S12000038 began, where every other code ends the day
  before its successor: it is taken to end on 2002-05-31 and linked the same way. Northern
  Ireland districts start on their Code History Database operative date (2015-04-01).
- A district has one parent per hierarchy: ``region`` (English districts), ``county`` (the
  county or metropolitan county of a district in one) and ``country``. Parents from the ONS
  lookups of 2015–2024 hold for the district's whole life: districts do not move between
  regions or counties under one code.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from registry.models import EVENT_KIND, NAME_KIND

from .. import entity_types as kinds
from ..gss import country_of
from ..hierarchies import HIERARCHY_OF_PARENT
from ..registers import AREAS
from .base import DAY, Dataset, Row, read_csv

DISTRICT_PREFIXES = kinds.DISTRICTS
# The hierarchy in which a parent of each type sits (for PARENTCD in CHD files).


def district(code: str) -> str:
    return f"{AREAS}/{code}"


def chd_extract(data: Dataset, root: Path, path: str, prefixes: list[str]) -> dict[str, str]:
    """Load a Code History Database extract (``GEOGCD, GEOGNM[, GEOGNMW, SI_ID, SI_TITLE],
    OPER_DATE, TERM_DATE``): one row per name an entry has had. Returns the statutory
    instrument id for each instrument title the file names."""
    rows = read_csv(root, path, ["GEOGCD", "GEOGNM", "OPER_DATE", "TERM_DATE"])
    return chd_history(data, rows, path, prefixes)


def chd_history(
    data: Dataset, rows: Iterable[Row], path: str, prefixes: list[str]
) -> dict[str, str]:
    """Entries from rows in the Code History Database's ChangeHistory layout (see
    :func:`chd_extract`); ``PARENTCD`` and ``ENTITYCD``, where present, give the parent and
    the entity type. Returns the statutory instrument id of each instrument title."""
    spans: dict[str, list[Row]] = defaultdict(list)
    instruments: dict[str, str] = {}
    for row in rows:
        row.gss("GEOGCD", prefixes=prefixes)
        row.date("OPER_DATE", required=True)
        row.date("TERM_DATE")
        spans[row.text("GEOGCD")].append(row)
        title, si = row.values.get("SI_TITLE") or "", row.values.get("SI_ID") or ""
        if title.strip() and si.strip() and si.strip() != "1111/1001":
            instruments[title.strip()] = si.strip()
    for code, rows in spans.items():
        rows.sort(key=lambda r: r.date("OPER_DATE"))
        draft = data.area(code, path, rows[0])
        draft.operative = rows[0].date("OPER_DATE")
        draft.terminated = rows[-1].date("TERM_DATE")
        for index, row in enumerate(rows):
            start = row.date("OPER_DATE")
            end = row.date("TERM_DATE")
            if end is None and index + 1 < len(rows):
                end = rows[index + 1].date("OPER_DATE") - DAY  # type: ignore[operator]
            draft.name(row.text("GEOGNM"), start, end, origin=row)
            draft.name(row.text("GEOGNMW", required=False), start, end, language="cy", origin=row)
            parent = row.gss("PARENTCD", required=False) if row.values.get("PARENTCD") else ""
            if parent and parent[:3] in HIERARCHY_OF_PARENT:
                hierarchy = HIERARCHY_OF_PARENT[parent[:3]]
                draft.parent(district(parent), hierarchy, start, end, origin=row)
            entity = row.text("ENTITYCD", required=False)
            if entity and entity != code[:3]:
                raise row.error(f"ENTITYCD {entity!r} does not match {code}")
            if index and row.text("GEOGNM") != rows[index - 1].text("GEOGNM"):
                data.change(start, district(code), district(code), path,  # type: ignore[arg-type]
                            kind=EVENT_KIND.RENAME, instrument_title=row.text("SI_TITLE", False))  # fmt: skip
    return instruments


def kind_from_title(title: str) -> str:
    """The kind of change the CHD's instrument title states, or "" to read it from the
    shape of the links (merge, split, recode)."""
    if title == "Name Change":
        return EVENT_KIND.RENAME
    if "Boundary Change" in title:
        return EVENT_KIND.BOUNDARY_CHANGE
    return ""


def load_districts(data: Dataset, root: Path) -> None:
    path = "code_history/chd_dec2023_lad_change_history.csv"
    columns = ["gss_code", "gss_name", "desc", "entity_type", "start_date", "end_date", "status"]
    rows_by_code: dict[str, list[Row]] = defaultdict(list)
    for row in read_csv(root, path, columns):
        code = row.gss("gss_code", prefixes=DISTRICT_PREFIXES)
        if row.text("entity_type") != code[:3]:
            raise row.error(f"entity_type {row.text('entity_type')!r} does not match {code}")
        if row.text("status") not in {"live", "terminated"}:
            raise row.error(f"status {row.text('status')!r} is not live or terminated")
        start, end = row.date("start_date", required=True), row.date("end_date")
        if end and end < start:  # type: ignore[operator]
            raise row.error(f"end_date {end} is before start_date {start}")
        rows_by_code[code].append(row)
    for code, rows in rows_by_code.items():
        rows.sort(key=lambda r: r.date("start_date"))
        draft = data.area(code, path, rows[0])
        draft.operative = rows[0].date("start_date")
        open_rows = [r for r in rows if r.date("end_date") is None]
        draft.terminated = None if open_rows else max(r.date("end_date") for r in rows)
        for row in rows:
            draft.name(row.text("gss_name"), row.date("start_date"), row.date("end_date"))

    instruments: dict[str, str] = {}
    for extract, prefixes in (
        ("code_history/ons_chd_extract_2017_e06.csv", ["E06"]),
        ("code_history/ons_chd_extract_2017_e09.csv", ["E09"]),
        ("code_history/ons_chd_extract_2017_w20.csv", ["W20"]),
    ):
        instruments.update(_instrument_ids(root, extract, prefixes))
    instruments.update(
        chd_extract(data, root, "code_history/ons_chd_extract_2017_n09.csv", ["N09"])
    )

    path = "code_history/chd_dec2023_lad_changes.csv"
    columns = ["changed_to_code", "changed_from_code", "desc", "date", "split", "merge"]
    for row in read_csv(root, path, columns):
        new = row.gss("changed_to_code", prefixes=DISTRICT_PREFIXES)
        old = row.gss("changed_from_code", prefixes=DISTRICT_PREFIXES)
        title = row.text("desc")
        kind = kind_from_title(title)
        data.change(row.date("date", required=True), district(old), district(new), path,  # type: ignore[arg-type]
                    instrument_id=instruments.get(title, ""), instrument_title=title, kind=kind)  # fmt: skip

    _load_other_nations(data, root)
    _load_recodes(data, root)
    _load_welsh_names(data, root)
    _load_parents(data, root)


def _instrument_ids(root: Path, path: str, prefixes: list[str]) -> dict[str, str]:
    result = {}
    for row in read_csv(root, path, ["GEOGCD", "SI_ID", "SI_TITLE"]):
        row.gss("GEOGCD", prefixes=prefixes)
        title, si = row.text("SI_TITLE", False), row.text("SI_ID", False)
        if title and si and si != "1111/1001":
            result[title] = si
    return result


def _load_other_nations(data: Dataset, root: Path) -> None:
    """Scottish council areas from the GOV.UK register of them (every S12 code since 1996,
    with the legislation that began and ended it), and the districts the CHD extract
    predates, from the list of every district code since 2011 with its current successor."""
    ons_names = {}
    path = "local_authorities/drkane_la_all_codes.csv"
    for row in read_csv(root, path, ["LADCD", "LADNM"]):
        ons_names[row.gss("LADCD", prefixes=DISTRICT_PREFIXES)] = row.text("LADNM")
    names = {}
    path = "local_authorities/openregister_local_authority_sct.csv"
    for row in read_csv(root, path, ["local-authority-sct", "name"]):
        names[row.text("local-authority-sct")] = row.text("name")
    path = "local_authorities/openregister_statgeo_ca_sct.csv"
    columns = ["statistical-geography-council-area-sct", "local-authority-sct",
               "dissolving-legislation", "start-date", "end-date"]  # fmt: skip
    by_council: dict[str, list[tuple[dt.date, dt.date | None, str, str]]] = defaultdict(list)
    for row in read_csv(root, path, columns):
        code = row.gss("statistical-geography-council-area-sct", prefixes=["S12"])
        council = row.text("local-authority-sct")
        if council not in names:
            raise row.error(
                f"local-authority-sct {council!r} is not in the register of Scottish councils"
            )
        draft = data.area(code, path)
        draft.operative, draft.terminated = (
            row.date("start-date", required=True),
            row.date("end-date"),
        )
        # ONS's name where the district list has the code; the register's name otherwise, and
        # as a display name where the two differ ("City of Edinburgh" / "Edinburgh").
        official = ons_names.get(code, names[council])
        draft.name(official)
        if names[council] != official:
            draft.name(names[council], kind=NAME_KIND.DISPLAY)
        by_council[council].append(
            (draft.operative, draft.terminated, code, row.text("dissolving-legislation", False))
        )  # type: ignore[arg-type]
    # A council area whose code ended the day before another code of the same council began
    # was replaced by it (the boundary amendments of 2002–2011). The register ends one code,
    # S12000025 Renfrewshire, on the day its successor begins, where every other code ends
    # the day before: it is taken to end the day before too.
    for spans in by_council.values():
        spans.sort()
        for (_s, end, old, legislation), (start, _e, new, _l) in zip(
            spans, spans[1:], strict=False
        ):
            if end is not None and end == start:
                end = data.area(old, path).terminated = start - DAY
            if end is not None and end + DAY == start:
                data.change(start, district(old), district(new), path, instrument_id=legislation,
                            kind=EVENT_KIND.BOUNDARY_CHANGE)  # fmt: skip
    path = "local_authorities/drkane_la_all_codes.csv"
    for row in read_csv(root, path, ["LADCD", "LADNM", "LADCD_ACTIVE", "RGNCD", "CTRYCD"]):
        code = row.gss("LADCD", prefixes=DISTRICT_PREFIXES)
        draft = data.area(code, path)
        if not draft.names:
            # Only for districts no dated source names (the recoded districts): an undated
            # name must not contradict the Code History Database's dated ones.
            draft.name(row.text("LADNM"))
        region = row.gss("RGNCD", required=False, prefixes=["E12"])
        if region:
            draft.parent(district(region), "region")


def _load_recodes(data: Dataset, root: Path) -> None:
    path = "curated/lad_recodes.csv"
    columns = ["predecessor", "successor", "date", "kind", "instrument_id", "instrument_title"]
    for row in read_csv(root, path, columns):
        old = row.gss("predecessor", prefixes=DISTRICT_PREFIXES)
        new = row.gss("successor", prefixes=DISTRICT_PREFIXES)
        date = row.date("date", required=True)
        kind = row.text("kind")
        if kind not in EVENT_KIND.values:
            raise row.error(f"kind {kind!r} is not one of {', '.join(EVENT_KIND.values)}")
        for code in (old, new):
            if data.get(district(code)) is None:
                raise row.error(f"{code} is not a known district")
        predecessor, successor = data.area(old, path), data.area(new, path)
        predecessor.terminated = date - DAY  # type: ignore[operator]
        successor.operative = date
        data.change(date, district(old), district(new), path,  # type: ignore[arg-type]
                    instrument_id=row.text("instrument_id", False),
                    instrument_title=row.text("instrument_title", False), kind=kind)  # fmt: skip


def _load_welsh_names(data: Dataset, root: Path) -> None:
    for path, (code_col, name_col) in (
        ("local_authorities/ons_lad19_names_codes_uk_dec2019.csv", ("LAD19CD", "LAD19NMW")),
        ("local_authorities/ons_lad20_names_codes_uk_apr2020.csv", ("LAD20CD", "LAD20NMW")),
    ):
        for row in read_csv(root, path, [code_col, name_col]):
            code = row.gss(code_col, prefixes=DISTRICT_PREFIXES)
            welsh = row.text(name_col, required=False)
            draft = data.get(district(code))
            if welsh and draft is not None:
                draft.name(welsh, language="cy")


def _load_parents(data: Dataset, root: Path) -> None:
    county_lookups = (
        ("local_authorities/ons_lad15_to_cty15_dec2015.csv", "LAD15CD", "CTY15CD"),
        ("local_authorities/ons_lad16_to_cty16_dec2016.csv", "LAD16CD", "CTY16CD"),
        ("local_authorities/ons_lad17_to_cty17_dec2017.csv", "LAD17CD", "CTY17CD"),
        ("local_authorities/ons_lad18_to_cty18_dec2018.csv", "LAD18CD", "CTY18CD"),
        ("local_authorities/ons_lad19_to_cty19_apr2019.csv", "LAD19CD", "CTY19CD"),
        ("local_authorities/ons_lad20_to_cty20_apr2020.csv", "LAD20CD", "CTY20CD"),
        ("local_authorities/geographr_lookup_ltla23_utla23.csv", "ltla23_code", "utla23_code"),
    )
    for path, lad_col, county_col in county_lookups:
        for row in read_csv(root, path, [lad_col, county_col]):
            code = row.gss(lad_col, prefixes=DISTRICT_PREFIXES)
            county = row.text(county_col, required=False)
            draft = data.get(district(code))
            if draft is not None and county[:3] in kinds.COUNTIES:
                draft.parent(district(row.gss(county_col)), "county")
    region_lookups = (
        ("local_authorities/ons_lad18_to_rgn18_dec2018.csv", "LAD18CD", "RGN18CD"),
        ("local_authorities/geographr_lookup_ltla23_region23.csv", "ltla23_code", "region23_code"),
        ("local_authorities/geographr_lookup_ltla24_region24.csv", "ltla24_code", "region24_code"),
        ("code_history/ons_chd_extract_2017_e06.csv", "GEOGCD", "PARENTCD"),
        ("code_history/ons_chd_extract_2017_e09.csv", "GEOGCD", "PARENTCD"),
    )
    for path, lad_col, region_col in region_lookups:
        for row in read_csv(root, path, [lad_col, region_col]):
            code = row.gss(lad_col, prefixes=DISTRICT_PREFIXES)
            region = row.gss(region_col, required=False)
            draft = data.get(district(code))
            if draft is not None and region.startswith("E12"):
                draft.parent(district(region), "region")
    for draft in data.entries.values():
        if draft.register == AREAS and draft.key[:3] in DISTRICT_PREFIXES:
            draft.parent(district(country_of(draft.key)), "country")  # type: ignore[arg-type]
