"""postcodes.io's current names (the ONS Postcode Directory of 2025/26) as a cross-check on
the Code History Database: ``other_geographies/postcodesio_*.csv``, each ``code, name``.

Trust rules (the shared data's ``README.md``): the CHD's names and dates win for every code it
holds, so a postcodes.io name the CHD never gave a code is kept as an alternative name
attributed to its file (``NHS South Yorkshire`` for the sub-ICB location E38000006, ``Eryri``
for W18000003) and counted in the load summary. postcodes.io gives no dates, so a code the CHD
does not hold cannot be given a lifetime and is not loaded; those are counted too (the
cross-border travel-to-work areas K01 and built-up areas K08, which the CHD extract lacks), as
are the pseudo codes (``L99999999``) and the non-GSS codes (Northern Ireland's ``ZC010``).
"""

from __future__ import annotations

from pathlib import Path

from registry.models import NAME_KIND
from registry.text import fold

from ..gss import is_gss
from ..registers import AREAS
from .base import Dataset, clean_name, read_csv

FILES = (
    "bua",
    "cancer_alliances",
    "ccgs",
    "european_registers",
    "icb",
    "lep",
    "national_parks",
    "nhsHa",
    "nhs_regions",
    "pcts",
    "police_force_areas",
    "scottish_constituencies",
    "ttwa",
)
OTHER_NAMES = "postcodes.io names the CHD does not give (kept as alternative names)"
NOT_HELD = "postcodes.io codes the CHD does not hold (not loaded: postcodes.io gives no dates)"
NOT_AREAS = "postcodes.io rows that are pseudo or non-GSS codes (skipped)"


def load_postcodes_io(data: Dataset, root: Path) -> None:
    chd = data.chd
    if chd is None:
        return
    for name in FILES:
        path = f"other_geographies/postcodesio_{name}.csv"
        if not (root / path).exists():
            continue
        for row in read_csv(root, path, ["code", "name"]):
            code = row.text("code", required=False).lstrip("\ufeff")
            if not is_gss(code) or code.endswith("99999999"):
                data.notes[NOT_AREAS] += 1
                continue
            if code not in chd:
                data.notes[NOT_HELD] += 1
                continue
            text = clean_name(row.text("name"))
            draft = data.get(f"{AREAS}/{code}")
            given = [name[2] for name in chd.names(code)] + [
                name[2] for name in (draft.names if draft else ())
            ]
            if fold(text) in {fold(name) for name in given}:
                continue
            data.area(code, path).name(text, kind=NAME_KIND.ALTERNATIVE, origin=row)
            data.notes[OTHER_NAMES] += 1
