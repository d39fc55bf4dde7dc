"""ONS's own Code History Database files, in their published layouts, through
``load_reference_data --chd DIR``: ChangeHistory.csv gives the records (with Welsh names and
instruments), Changes.csv the predecessor → successor links, Equivalents.csv the other schemes'
codes and names. The small files here are built from rows of the bundled extract."""

import csv
import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from geography.importers.base import Dataset
from geography.importers.chd import load_code_history, read_chd
from registry import queries
from registry.models import ChangeEvent, Entry, Identifier
from tests.conftest import d

HISTORY_COLUMNS = ["GEOGCD", "GEOGNM", "GEOGNMW", "SI_ID", "SI_TITLE", "OPER_DATE", "TERM_DATE",
                   "PARENTCD", "ENTITYCD", "OWNER", "STATUS", "AREAEHECT", "AREACHECT",
                   "AREAIHECT", "AREALHECT"]  # fmt: skip
HISTORY = [
    # Shepway renamed Folkestone and Hythe in 2018, with the order that did it.
    ["E07000112", "Shepway", "", "1111/1001", "", "01/01/2009 00:00:00", "31/03/2018 00:00:00",
     "E10000016", "E07", "MHCLG", "terminated", "", "", "", ""],
    ["E07000112", "Folkestone and Hythe", "", "2018/164", "The Shepway (Change of Name) Order",
     "01/04/2018 00:00:00", "", "E10000016", "E07", "MHCLG", "live", "", "", "", ""],
    # A Welsh principal area with its Welsh name.
    ["W06000011", "Swansea", "Abertawe", "1111/1001", "", "01/04/1996 00:00:00", "",
     "W92000004", "W06", "WG", "live", "", "", "", ""],
    # Aylesbury Vale and its successor.
    ["E07000004", "Aylesbury Vale", "", "1111/1001", "", "01/01/2009 00:00:00",
     "31/03/2020 00:00:00", "E10000002", "E07", "MHCLG", "terminated", "", "", "", ""],
    ["E06000060", "Buckinghamshire", "", "2019/957", "The Buckinghamshire (Structural Changes) Order 2019",
     "01/04/2020 00:00:00", "", "E12000008", "E06", "MHCLG", "live", "", "", "", ""],
]  # fmt: skip
CHANGES = [
    ["GEOGCD", "GEOGNM", "GEOGNMW", "GEOGCD_P", "GEOGNM_P", "GEOGNMW_P", "SI_ID", "SI_TITLE",
     "OPER_DATE", "ENTITYCD", "YEAR"],
    ["E06000060", "Buckinghamshire", "", "E07000004", "Aylesbury Vale", "", "2019/957",
     "The Buckinghamshire (Structural Changes) Order 2019", "01/04/2020 00:00:00", "E06", "2020"],
]  # fmt: skip
EQUIVALENTS = [
    ["GEOGCD", "GEOGNM", "GEOGNMW", "GEOGCDO", "GEOGNMO", "GEOGCDD", "GEOGNMD", "GEOGCDH",
     "GEOGNMH", "GEOGCDS", "GEOGNMS", "GEOGCDI", "GEOGNMI", "GEOGCDWG", "GEOGNMWG", "ENTITYCD",
     "YEAR"],
    ["W06000011", "Swansea", "Abertawe", "00NX", "Swansea", "", "", "", "", "", "", "", "", "512",
     "City and County of Swansea", "W06", "2009"],
]  # fmt: skip


def write(folder: Path, name: str, rows: list[list[str]]) -> None:
    with (folder / name).open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture
def official(tmp_path):
    write(tmp_path, "ChangeHistory.csv", [HISTORY_COLUMNS, *HISTORY])
    write(tmp_path, "Changes.csv", CHANGES)
    write(tmp_path, "Equivalents.csv", EQUIVALENTS)
    return tmp_path


def test_the_published_layout_is_read_with_its_welsh_names_and_instruments(official):
    chd = read_chd(official, "ChangeHistory.csv")
    assert len(chd) == 4
    assert chd.lifetime("E07000112") == (d("2009-01-01"), None)
    assert chd.lifetime("E07000004") == (d("2009-01-01"), d("2020-03-31"))
    assert chd.names("W06000011") == [
        ("en", "official", "Swansea", d("1996-04-01"), None),
        ("cy", "official", "Abertawe", d("1996-04-01"), None),
    ]
    [(date, code, record)] = chd.renames()
    assert (date, code, record.instrument_id) == (d("2018-04-01"), "E07000112", "2018/164")


def test_changes_and_equivalents_become_links_identifiers_and_alternative_names(official):
    data = Dataset()
    load_code_history(data, Path("fixtures"), official)
    link = data.changes[
        (d("2020-04-01"), "statistical-geography/E07000004", "statistical-geography/E06000060")
    ]
    assert link[:2] == ("2019/957", "The Buckinghamshire (Structural Changes) Order 2019")
    swansea = data.get("statistical-geography/W06000011")
    assert swansea.identifiers == {
        ("ons-legacy", "00NX", None, None),
        ("welsh-government", "512", None, None),
    }
    snapshot = data.snapshot("statistical-geography/W06000011")
    assert ["cy", "official", "Abertawe", "1996-04-01", None] in snapshot["names"]
    assert ["en", "alternative", "City and County of Swansea", "1996-04-01", None] in snapshot[
        "names"
    ]


@pytest.mark.django_db
def test_load_reference_data_with_chd_end_to_end(official, area):
    out = StringIO()
    call_command("load_reference_data", "--chd", str(official), stdout=out)
    assert "change events" in out.getvalue()
    swansea = area("W06000011")
    assert queries.as_at(swansea).name_cy == "Abertawe"
    assert Identifier.objects.filter(entry=swansea, scheme="ons-legacy", value="00NX").exists()
    event = ChangeEvent.objects.get(key="2018-04-01-E07000112")
    assert (event.kind, event.instrument_id) == ("rename", "2018/164")
    assert [s.entry.key for s in queries.current_codes(area("E07000004"))] == ["E06000060"]
    assert Entry.objects.filter(register__slug="statistical-geography", key="E07000112").exists()


@pytest.mark.django_db
def test_a_folder_without_change_history_is_refused(tmp_path):
    with pytest.raises(CommandError, match="there is no ChangeHistory.csv"):
        call_command("load_reference_data", "--chd", str(tmp_path), stdout=io.StringIO())
