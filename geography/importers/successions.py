"""Successions the Code History Database extract does not carry (it has no Changes table):
which codes replaced which, for the changes no other bundled file links.

- ``curated/successions.csv``: the counties abolished in 2009 and since (Bedfordshire,
  Cheshire, Cornwall, Durham, Northumberland, Shropshire and Wiltshire in 2009; Dorset 2019,
  Buckinghamshire 2020, Northamptonshire 2021, Cumbria 2023) and their unitary successors,
  Tyne and Wear's 2013 recode, and the North East combined authorities of 2018 and 2024. Each
  row gives its evidence: the CHD ends the predecessor the day before it starts the successor.
  Instruments are given as legislation.gov.uk titles them.
- The 2001 → 2011 census changes of LSOAs (``lsoa_msoa/ons_lsoa01_lsoa11_lad11_ew.csv``) and
  MSOAs (``lsoa_msoa/ons_msoa01_msoa11_lad11_ew.csv``): ONS's lookups mark each pair
  unchanged (U), split (S), merged (M) or complex (X); a changed one is a link on the day the
  2011 set came into use, which the CHD gives as 2011-12-31 (the 2001 codes end on 2011-12-30).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .. import entity_types as kinds
from ..registers import AREAS
from .base import Dataset, read_csv

CURATED = "curated/successions.csv"
CENSUS_2011_CODES = dt.date(2011, 12, 31)
LOOKUPS_2001 = (
    ("lsoa_msoa/ons_lsoa01_lsoa11_lad11_ew.csv", "LSOA01CD", "LSOA11CD", kinds.LSOAS),
    ("lsoa_msoa/ons_msoa01_msoa11_lad11_ew.csv", "MSOA01CD", "MSOA11CD", kinds.MSOAS),
)
CHANGED = {"S", "M", "X"}


def area(code: str) -> str:
    return f"{AREAS}/{code}"


def load_successions(data: Dataset, root: Path) -> None:
    columns = ["predecessor", "successor", "date", "instrument_id", "instrument_title"]
    for row in read_csv(root, CURATED, columns):
        data.change(
            row.date("date", required=True),  # type: ignore[arg-type]
            area(row.gss("predecessor")),
            area(row.gss("successor")),
            CURATED,
            instrument_id=row.text("instrument_id", required=False),
            instrument_title=row.text("instrument_title", required=False),
        )
    for path, old_column, new_column, prefixes in LOOKUPS_2001:
        for row in read_csv(root, path, [old_column, new_column, "CHGIND"]):
            old = row.gss(old_column, prefixes=prefixes)
            new = row.gss(new_column, prefixes=prefixes)
            change = row.text("CHGIND")
            if change not in CHANGED | {"U"}:
                raise row.error(f"CHGIND {change!r} is not U, S, M or X")
            if change in CHANGED and old != new:
                data.change(CENSUS_2011_CODES, area(old), area(new), path,
                            instrument_title="Census 2011 small area changes")  # fmt: skip
