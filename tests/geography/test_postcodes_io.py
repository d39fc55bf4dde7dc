"""postcodes.io's names as a cross-check on the Code History Database, on hand-built files."""

from pathlib import Path

from geography.importers.base import Dataset
from geography.importers.chd import read_chd
from geography.importers.postcodes_io import NOT_AREAS, NOT_HELD, OTHER_NAMES, load_postcodes_io

CHD = """GEOGCD,GEOGNM,ENTITYCD,STATUS,PARENTCD,OPER_DATE,TERM_DATE
E23000034,"London, City of",E23,live,,2015-04-01,
W18000003,Snowdonia National Park,W18,live,,2009-01-01,
W45001117,Cwmbrân,W45,live,,2023-01-01,
"""
POLICE = """code,name
E23000034,City of London
L99999999,(pseudo) Channel Islands
\ufeffPFA15CD,PFA15NM
"""
PARKS = """code,name
W18000003,Eryri
W18000009,Somewhere New
"""
BUA = """code,name
W45001117,CwmbrÃ¢n
W45001117,CWMBRÂN
"""


def write(root: Path, path: str, text: str) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_text(text, encoding="utf-8")


def test_names_the_chd_lacks_are_alternative_and_every_row_is_accounted_for(tmp_path):
    write(tmp_path, "code_history/chd_jul2024_change_history.csv", CHD)
    write(tmp_path, "other_geographies/postcodesio_police_force_areas.csv", POLICE)
    write(tmp_path, "other_geographies/postcodesio_national_parks.csv", PARKS)
    write(tmp_path, "other_geographies/postcodesio_bua.csv", BUA)
    data = Dataset()
    data.chd = read_chd(tmp_path)

    load_postcodes_io(data, tmp_path)

    names = {ref: sorted(name[:3] for name in draft.names) for ref, draft in data.entries.items()}
    assert names == {"statistical-geography/W18000003": [("en", "alternative", "Eryri")]}
    # Cwmbrân's mojibake and capitals, and City of London inverted, are the CHD's names
    # written differently (registry.text.fold), not other names.
    assert data.notes == {OTHER_NAMES: 1, NOT_HELD: 1, NOT_AREAS: 2}
    origin = data.entries["statistical-geography/W18000003"].origins
    assert origin[("names", ("en", "alternative", "Eryri"))] == (
        "other_geographies/postcodesio_national_parks.csv, line 2"
    )


def test_without_the_chd_nothing_is_read(tmp_path):
    write(tmp_path, "other_geographies/postcodesio_national_parks.csv", PARKS)
    data = Dataset()
    load_postcodes_io(data, tmp_path)
    assert data.entries == {} and not data.notes
