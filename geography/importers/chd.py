"""The ONS Code History Database (CHD): every code ONS has issued, with its names, parents and
dates, one record per period in which they held.

Trust rules (as ``../shared/data/README.md`` sets them, for the July 2024 extract in
``fixtures/code_history/chd_jul2024_change_history.csv`` or the official files a user gives
with ``load_reference_data --chd DIR``):

1. **The CHD is the authority for every code it holds**: its operative and terminated dates,
   its names, its status and its parents (``PARENTCD``, in the hierarchy the parent's entity
   type belongs to: a parish within its district, a county electoral division within its
   county, a data zone within its intermediate zone and that within its council area, a
   sub-ICB location within its ICB and that within its NHS region…).
2. **Sources newer than the CHD extend it, without rewriting its history**: a code the CHD
   shows live may end after the CHD's last date (:data:`AS_AT`; the 2025 ward vintage ends
   the wards replaced at the May 2025 elections), codes issued since are added (the 2024/25
   district recodes, the 2025 wards), and names, Welsh names, identifiers and the parents of
   hierarchies the CHD does not give (a district's country, its combined authority) come from
   the other files.
3. **Vintage-derived lifetimes only where the CHD has nothing**: the lifetimes the ward and
   small-area importers work out from the vintages a code appears in are used only for codes
   the CHD lacks.
4. **Disagreements are kept, not hidden**: where another source gives a different official
   name for a CHD code, that name becomes an alternative name; a different date or parent is
   dropped. Each is counted by kind and the load summary reports the counts.

Editorial decisions about the July 2024 extract:

- A record without a name (67,214 rows: workplace zones and similar) gives the entry no
  name; it is shown by its code.
- ``STATUS`` is read case-blind (eleven rows say ``Live``); a code is terminated when its last
  record is, on that record's ``TERM_DATE``.
- A record that ends the day before it starts (nine in the extract, each after a record that
  already ended the code) holds on no day and is left out; it is counted.
- A code whose only record ends the day before it starts (four county electoral divisions of
  2017) was withdrawn before it came into use: it is an entry, terminated from that day, and
  was never live.
- A record's end is its ``TERM_DATE`` or, for an open record followed by another, the day
  before the next one starts. The five gaps between records in the extract are kept as gaps in
  names and parents; the entry stays live across them.
- ``PARENTCD`` values that are not GSS codes (Northern Ireland's old ``95AA`` ward codes) and
  parents the registry does not hold are not linked; both are counted.
- Names are published with repaired mojibake (one CHD name, "Twyn Bryn-hÃ®r") and single
  spaces ("North Somerset  Council").
- The extract's alternative names (``chd_jul2024_alternative_names.csv``) that come from the
  CHD's Equivalents table become alternative names; those its mirror's author added
  (``ORIGIN=supplemental``) are not ONS's and are left out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from registry.models import EVENT_KIND, NAME_KIND

from ..gss import is_gss
from ..hierarchies import HIERARCHY_OF_PARENT
from ..registers import AREAS, ENTITY_TYPES
from .base import DAY, Dataset, Row, clean_name, read_csv

EXTRACT = "code_history/chd_jul2024_change_history.csv"
ALTERNATIVE_NAMES = "code_history/chd_jul2024_alternative_names.csv"
CODE_TYPES = "code_history/chd_jul2024_code_types.csv"
# The last date the July 2024 extract records (the 2024 Westminster constituencies).
AS_AT = dt.date(2024, 7, 4)

# The columns read, in both the extract's layout and ONS's own ChangeHistory.csv (which also
# has OWNER and the AREA*HECT columns, not used).
COLUMNS = ["GEOGCD", "GEOGNM", "OPER_DATE", "TERM_DATE"]
OPTIONAL = ["GEOGNMW", "SI_ID", "SI_TITLE", "PARENTCD", "ENTITYCD", "STATUS"]


class Record(NamedTuple):
    """One ChangeHistory record of a code: what held from ``start`` to ``end``."""

    name: str
    name_cy: str
    parent: str
    start: dt.date
    end: dt.date | None
    terminated: bool
    instrument_id: str
    instrument_title: str
    line: int


@dataclass
class Chd:
    """The records of every code in one CHD file, in code order, and what the load counted
    while reading them."""

    path: str
    as_at: dt.date = AS_AT
    records: dict[str, tuple[Record, ...]] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    # Codes issued and withdrawn before they came into use, with the day they were issued for.
    withdrawn: dict[str, dt.date] = field(default_factory=dict)

    def __contains__(self, code: str) -> bool:
        return code in self.records

    def __len__(self) -> int:
        return len(self.records)

    def codes(self) -> Iterator[str]:
        return iter(self.records)

    def lifetime(self, code: str) -> tuple[dt.date | None, dt.date | None]:
        if code in self.withdrawn:
            return None, None  # never live
        records = self.records[code]
        last = records[-1]
        return records[0].start, (last.end if last.terminated else None)

    def entity_type(self, code: str) -> str:
        return code[:3]

    def where(self, code: str, index: int = 0) -> str:
        return f"{self.path}, line {self.records[code][index].line}"

    def names(self, code: str) -> list[tuple[str, str, str, dt.date, dt.date | None]]:
        """(language, kind, text, start, end): each run of records with one name, merged."""
        result: list[list] = []
        for language, attr in (("en", "name"), ("cy", "name_cy")):
            runs: list[list] = []
            for record in self.records[code]:
                text = getattr(record, attr)
                if not text:
                    continue
                if runs and runs[-1][2] == text and _meets(runs[-1][4], record.start):
                    runs[-1][4] = record.end
                    continue
                runs.append([language, NAME_KIND.OFFICIAL, text, record.start, record.end])
            result += runs
        return [tuple(r) for r in result]  # type: ignore[misc]

    def parents(self, code: str) -> list[tuple[str, str, dt.date, dt.date | None]]:
        """(hierarchy, parent code, start, end): each run of records with one parent."""
        runs: list[list] = []
        for record in self.records[code]:
            parent = record.parent
            if not parent:
                continue
            hierarchy = HIERARCHY_OF_PARENT.get(parent[:3])
            if hierarchy is None:
                continue
            if runs and runs[-1][1] == parent and _meets(runs[-1][3], record.start):
                runs[-1][3] = record.end
                continue
            runs.append([hierarchy, parent, record.start, record.end])
        return [tuple(r) for r in runs]  # type: ignore[misc]

    def renames(self) -> Iterator[tuple[dt.date, str, Record]]:
        """(date, code, record) for every record whose English name differs from the one
        before it: a rename under the same code."""
        for code, records in self.records.items():
            for before, after in zip(records, records[1:], strict=False):
                if after.name and before.name and after.name != before.name:
                    yield after.start, code, after

    def first_use(self) -> dict[str, dt.date]:
        """The first day a code of each entity type came into use."""
        result: dict[str, dt.date] = {}
        for code, records in self.records.items():
            prefix = code[:3]
            if prefix not in result or records[0].start < result[prefix]:
                result[prefix] = records[0].start
        return result


def _meets(end: dt.date | None, start: dt.date) -> bool:
    return end is not None and end + DAY >= start


def read_chd(root: Path, path: str = EXTRACT) -> Chd:
    """Every code's records from a ChangeHistory file (``path`` under ``root``), checked row by
    row: a malformed row stops the load with its file, line and problem."""
    chd = Chd(path)
    code = None
    rows: list[Row] = []
    for row in read_csv(root, path, COLUMNS):
        value = row.gss("GEOGCD")
        if value != code:
            if code is not None:
                _add(chd, code, rows)
            code, rows = value, []
        rows.append(row)
    if code is not None:
        _add(chd, code, rows)
    return chd


def _add(chd: Chd, code: str, rows: list[Row]) -> None:
    if code in chd.records:
        raise rows[0].error(f"the records of {code} are not together (the file is out of order)")
    entity = rows[0].text("ENTITYCD", required=False)
    if entity and entity != code[:3]:
        raise rows[0].error(f"ENTITYCD {entity!r} does not match {code}")
    # Oldest first; of records starting the same day, an open one last (the extract lists
    # Rothwell ward E05011410's one-day record of 2018-05-03 after its open one).
    rows = sorted(
        rows, key=lambda r: (r.date("OPER_DATE", required=True), r.date("TERM_DATE") or dt.date.max)
    )
    records = []
    for index, row in enumerate(rows):
        start = row.date("OPER_DATE", required=True)
        end = row.date("TERM_DATE")
        if end is not None and end + DAY == start:
            if records:
                # Nine records in the 2024 extract end the day before they start: they hold
                # on no day, and only repeat that the code ended with the record before.
                chd.skipped["CHD records that hold on no day (left out)"] += 1
                continue
            if len(rows) == 1:
                # Four county electoral divisions of 2017 were issued and withdrawn before
                # they came into use: the code exists, but was never live.
                chd.withdrawn[code] = start
                chd.skipped["CHD codes withdrawn before they came into use"] += 1
                end = None
        if end is not None and end < start:
            raise row.error(
                f"TERM_DATE {row.text('TERM_DATE')} is before OPER_DATE {row.text('OPER_DATE')}"
            )
        status = row.text("STATUS", required=False).lower()
        if status and status not in {"live", "terminated"}:
            raise row.error(f"STATUS {row.text('STATUS')!r} is not live or terminated")
        terminated = status == "terminated" or (not status and end is not None)
        if terminated and end is None and code not in chd.withdrawn:
            raise row.error(f"{code} is terminated but has no TERM_DATE")
        if end is None and index + 1 < len(rows):
            end = rows[index + 1].date("OPER_DATE", required=True) - DAY
        parent = row.text("PARENTCD", required=False)
        if parent and not is_gss(parent):
            chd.skipped["parent codes that are not GSS codes"] += 1
            parent = ""
        si = row.text("SI_ID", required=False)
        records.append(
            Record(
                clean_name(row.text("GEOGNM", required=False)),
                clean_name(row.text("GEOGNMW", required=False)),
                parent,
                start,
                end,
                terminated,
                "" if si == "1111/1001" else si,  # the CHD's placeholder for "no instrument"
                row.text("SI_TITLE", required=False),
                row.line,
            )
        )
    chd.records[code] = tuple(records)


def read_alternative_names(root: Path, chd: Chd) -> Iterable[tuple[str, str, Row]]:
    """(code, name, row) of the extract's alternative names from the CHD's Equivalents
    table, for codes the CHD holds; the mirror author's own additions are left out."""
    path = root / ALTERNATIVE_NAMES
    if not path.exists():
        return
    for row in read_csv(root, ALTERNATIVE_NAMES, ["GEOGCD", "NAME", "ORIGIN"]):
        if row.text("ORIGIN") != "equivalents":
            continue
        code = row.gss("GEOGCD")
        if code in chd:
            yield code, clean_name(row.text("NAME")), row


def read_code_types(root: Path) -> dict[str, str]:
    """The CHD mirror's prefix → description table (``England, Wales, Scotland, Northern
    Ireland, Other, Entity``), for entity types the Register of Geographic Codes lacks."""
    path = root / CODE_TYPES
    if not path.exists():
        return {}
    columns = ["England", "Wales", "Scotland", "Northern Ireland", "Other", "Entity"]
    result: dict[str, str] = {}
    for row in read_csv(root, CODE_TYPES, columns):
        for column in columns[:-1]:
            for prefix in row.text(column, required=False).split("/"):
                prefix = prefix.strip()
                if prefix:
                    result.setdefault(prefix, row.text("Entity"))
    return result


def area(code: str) -> str:
    return f"{AREAS}/{code}"


def load_code_history(data: Dataset, root: Path, official: Path | None = None) -> None:
    """Read the CHD into ``data`` as the authority for the codes it holds: the entity types
    of its prefixes that the Register of Geographic Codes lacks, its alternative names and its
    renames; the entries themselves are built by ``Dataset.snapshot``. With ``official``, the
    folder of ONS's own ``ChangeHistory.csv``, ``Changes.csv`` and ``Equivalents.csv`` is read
    instead of the bundled extract (:data:`OFFICIAL`)."""
    chd = read_chd(official, "ChangeHistory.csv") if official else read_chd(root)
    data.chd = chd
    data.notes.update(chd.skipped)
    types = read_code_types(root)
    for prefix, first in sorted(chd.first_use().items()):
        draft = data.entry(ENTITY_TYPES, prefix, CODE_TYPES if prefix in types else chd.path)
        if draft.operative is None:
            draft.operative = first
            draft.name(types.get(prefix, ""))
    if official is None:
        for code, name, row in read_alternative_names(root, chd):
            data.area(code, ALTERNATIVE_NAMES).name(name, kind=NAME_KIND.ALTERNATIVE, origin=row)
    else:
        _read_changes(data, chd, official)
        _read_equivalents(data, chd, official)
    for date, code, record in chd.renames():
        data.change(date, area(code), area(code), chd.path, instrument_id=record.instrument_id,
                    instrument_title=record.instrument_title, kind=EVENT_KIND.RENAME)  # fmt: skip


# The columns read from ONS's published CHD files (any others, such as OWNER, YEAR and the
# AREA*HECT areas, are not used):
#   ChangeHistory.csv  GEOGCD, GEOGNM, GEOGNMW, SI_ID, SI_TITLE, OPER_DATE, TERM_DATE,
#                      PARENTCD, ENTITYCD, STATUS (read_chd)
#   Changes.csv        GEOGCD (successor), GEOGCD_P (predecessor), OPER_DATE, SI_ID, SI_TITLE:
#                      each row a predecessor → successor link of a change event
#   Equivalents.csv    GEOGCD and the other schemes' codes of the same area, each an
#                      identifier: GEOGCDO (ONS's legacy code, such as 00CN), GEOGCDD (DCLG),
#                      GEOGCDH (NHS), GEOGCDS (Scottish Government), GEOGCDI (Northern
#                      Ireland), GEOGCDWG (Welsh Government); and the names that go with them
#                      (GEOGNMO, GEOGNMD, GEOGNMH, GEOGNMS, GEOGNMI, GEOGNMWG) and GEOGNMW,
#                      each an alternative name unless the entry has it already.
OFFICIAL = ("ChangeHistory.csv", "Changes.csv", "Equivalents.csv")
EQUIVALENT_SCHEMES = {
    "GEOGCDO": ("ons-legacy", "GEOGNMO"),
    "GEOGCDD": ("dclg", "GEOGNMD"),
    "GEOGCDH": ("nhs", "GEOGNMH"),
    "GEOGCDS": ("scottish-government", "GEOGNMS"),
    "GEOGCDI": ("ni-government", "GEOGNMI"),
    "GEOGCDWG": ("welsh-government", "GEOGNMWG"),
}


def _read_changes(data: Dataset, chd: Chd, folder: Path) -> None:
    from .districts import kind_from_title

    path = "Changes.csv"
    if not (folder / path).exists():
        return
    for row in read_csv(folder, path, ["GEOGCD", "GEOGCD_P", "OPER_DATE"]):
        new, old = row.gss("GEOGCD"), row.gss("GEOGCD_P")
        if (
            new not in chd
            and data.get(area(new)) is None
            or old not in chd
            and data.get(area(old)) is None
        ):
            data.notes["Changes.csv links naming a code the CHD does not hold (not linked)"] += 1
            continue
        title = row.text("SI_TITLE", required=False)
        si = row.text("SI_ID", required=False)
        data.change(row.date("OPER_DATE", required=True), area(old), area(new), path,  # type: ignore[arg-type]
                    instrument_id="" if si == "1111/1001" else si, instrument_title=title,
                    kind=kind_from_title(title))  # fmt: skip


def _read_equivalents(data: Dataset, chd: Chd, folder: Path) -> None:
    path = "Equivalents.csv"
    if not (folder / path).exists():
        return
    for row in read_csv(folder, path, ["GEOGCD"]):
        code = row.gss("GEOGCD")
        if code not in chd:
            data.notes["Equivalents.csv rows for a code the CHD does not hold"] += 1
            continue
        draft = data.area(code, path, row)
        for column, (scheme, name_column) in EQUIVALENT_SCHEMES.items():
            value = row.text(column, required=False)
            if value:
                draft.identifiers.add((scheme, value, None, None))
            draft.name(
                row.text(name_column, required=False), kind=NAME_KIND.ALTERNATIVE, origin=row
            )
        draft.name(row.text("GEOGNMW", required=False), kind=NAME_KIND.ALTERNATIVE, origin=row)
