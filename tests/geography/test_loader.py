"""The loader end to end: idempotent, atomic, honest in a dry run, attributing every change,
and refusing malformed rows with the file, line and problem."""

import shutil
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from registry import imports
from registry.models import (
    ChangeEvent,
    ChangeLink,
    Entry,
    Identifier,
    ImportRun,
    Name,
    Relation,
    State,
    Version,
)


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_reference_data", *args, stdout=out)
    return out.getvalue()


def totals() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Entry, Name, Identifier, State, Relation, ChangeEvent, ChangeLink, Version)
    }


@dataclass
class Run:
    before: dict[str, int]
    output: str
    after: dict[str, int]


@pytest.fixture(scope="session")
def second_run(django_db_setup, django_db_blocker) -> Run:
    """One load of the fixtures into the loaded registry, for the tests that read what it
    did: a reload reads every file and compares every entry, too slow to repeat for each. It
    runs in a transaction rolled back at once, as a test's would be, and keeps only what it
    printed and counted, so a session scope holds nothing open (and a pytest-xdist worker
    that runs other modules' tests in between still reloads once)."""
    test_transaction = transaction.atomic()
    # Marked as django.test.TestCase marks its own, so that the import run's durable
    # transaction may run inside it as it does inside a test's.
    test_transaction._from_testcase = True
    with django_db_blocker.unblock(), test_transaction:
        before = totals()
        output = load()
        run = Run(before, output, totals())
        transaction.set_rollback(True)
    return run


@pytest.mark.django_db
def test_second_run_creates_and_changes_nothing(second_run):
    before, output = second_run.before, second_run.output
    assert (
        "0 entries were created and 0 changed; 0 change events were created and 0 changed" in output
    )
    assert second_run.after == before


@pytest.mark.django_db
def test_dry_run_on_empty_database_reports_the_real_counts_and_changes_nothing(
    empty_database, reference_load
):
    # The real run is the one that built this session's database: the same command on the
    # same fixtures into an empty, migrated database (tests/databases.py keys the kept
    # database and its output by a digest of the code and data, so it is this code's run).
    with empty_database():
        assert totals() == dict.fromkeys(totals(), 0)
        dry = load("--dry-run")
        assert totals() == dict.fromkeys(totals(), 0)
        assert ImportRun.objects.count() == 0
    real = reference_load
    dry_summary = dry.strip().splitlines()[-1].split("(")[0].replace("would be", "were")
    real_summary = real.strip().splitlines()[-1].split("(")[0]
    assert dry_summary == real_summary
    assert real_summary.startswith(f"{Entry.objects.count()} entries were created and 0 changed")

    # The per-register table is identical too.
    def table(text: str) -> list[str]:
        return [
            line
            for line in text.splitlines()
            if line.startswith(("statistical", "local", "change"))
        ]

    assert table(dry) == table(real)
    assert "statistical-geography E01" in real


@pytest.mark.django_db
def test_versions_are_attributed_to_the_import_run_and_source_file():
    version = Version.objects.select_related("import_run").get(
        entry__register__slug="statistical-geography", entry__key="E07000112", number=1
    )
    assert version.import_run.command == "load_reference_data"
    assert version.import_run.dry_run is False
    assert "code_history/chd_dec2023_lad_change_history.csv" in version.source
    assert version.changes == {"created": True}
    assert ["en", "official", "Shepway", "2009-01-01", "2018-03-31"] in version.snapshot["names"]
    event_version = Version.objects.get(event__key="2020-04-01-E06000060")
    # The county's succession is part of the same change.
    assert (
        event_version.source == "code_history/chd_dec2023_lad_changes.csv, curated/successions.csv"
    )


@pytest.mark.django_db
def test_a_changed_source_row_writes_one_new_version_with_a_diff(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree("fixtures", fixtures)
    path = fixtures / "higher/ons_rgn19_names_codes_en_dec2019.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Gogledd Ddwyrain", "Gogledd-Ddwyrain"),
        encoding="utf-8",
    )
    output = load("--fixtures", str(fixtures))
    assert "0 entries were created and 1 changed" in output
    north_east = Entry.objects.get(key="E12000001")
    assert north_east.version == 2
    latest = north_east.versions.get(number=2)
    assert latest.changes == {
        "names": {
            "added": [["cy", "official", "Gogledd-Ddwyrain", "2009-01-01", None]],
            "removed": [["cy", "official", "Gogledd Ddwyrain", "2009-01-01", None]],
        }
    }


@pytest.mark.django_db
def test_a_failure_part_way_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    fixtures = tmp_path / "fixtures"
    shutil.copytree("fixtures", fixtures)
    path = fixtures / "higher/ons_rgn19_names_codes_en_dec2019.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace("North East", "North-East"), encoding="utf-8"
    )
    before = totals()

    def fail(*args, **kwargs):
        raise RuntimeError("the disk is full")

    # Entries are written first; the failure comes while writing change events.
    # Both write through one import run (registry.imports), which writes events last.
    monkeypatch.setattr(imports, "sync_events", fail)
    with pytest.raises(RuntimeError):
        load("--fixtures", str(fixtures))
    assert totals() == before
    assert Entry.objects.get(key="E12000001").version == 1


@pytest.mark.parametrize(
    ("relpath", "old", "new", "message"),
    [
        (
            "code_history/chd_dec2023_lad_change_history.csv",
            "E06000001,Hartlepool,",
            "E0600001,Hartlepool,",
            "code_history/chd_dec2023_lad_change_history.csv, line 2: gss_code 'E0600001' is not a GSS code (a letter and eight digits)",
        ),
        (
            "code_history/chd_dec2023_lad_change_history.csv",
            "E06000002,Middlesbrough,GSS re-coding strategy,E06,2009-01-01",
            "E06000002,Middlesbrough,GSS re-coding strategy,E06,2009-13-01",
            "code_history/chd_dec2023_lad_change_history.csv, line 3: start_date '2009-13-01' is not a date",
        ),
        (
            "lsoa_msoa/geographr_lookup_lsoa11_lsoa21_ltla22.csv",
            "E01011949,U,",
            "E01011949,Q,",
            "lsoa_msoa/geographr_lookup_lsoa11_lsoa21_ltla22.csv, line 2: change_code 'Q' is not U, S, M or X",
        ),
        (
            "wards/onsvisual_wd25_names_codes.csv",
            "areacd,areanm",
            "code,areanm",
            "wards/onsvisual_wd25_names_codes.csv, line 1: the header lacks the column(s) areacd",
        ),
        (
            "curated/lad_recodes.csv",
            "E08000016,E08000038,2025-04-01,boundary-change",
            "E08000016,E08000038,2025-04-01,reshuffle",
            "curated/lad_recodes.csv, line 6: kind 'reshuffle' is not one of",
        ),
    ],
)
@pytest.mark.django_db
def test_malformed_rows_are_refused_with_file_line_and_problem(
    tmp_path, relpath, old, new, message
):
    fixtures = tmp_path / "fixtures"
    shutil.copytree("fixtures", fixtures)
    path = fixtures / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    before = totals()
    with pytest.raises(CommandError) as error:
        load("--fixtures", str(fixtures))
    assert str(error.value).startswith(message)
    assert totals() == before


@pytest.mark.django_db
def test_if_empty_skips_a_loaded_registry():
    assert "already holds data" in load("--if-empty")


@pytest.mark.django_db
def test_progress_and_counts_per_register_and_entity_type_are_printed(second_run):
    output = second_run.output
    assert "… read wards" in output
    assert "… comparing" in output
    line = next(
        line for line in output.splitlines() if line.startswith("statistical-geography E06 ")
    )
    assert line.split()[-3:] == ["0", "0", "66"]
