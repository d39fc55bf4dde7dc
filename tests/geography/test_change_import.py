"""The bulk change import: preview, atomic apply as one attributed change set, refusal of
malformed files with their line number."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from geography import change_import
from geography.importers.base import LoadError
from registry import imports, queries
from registry.models import ChangeEvent, Entry, ImportRun, Version
from tests.conftest import d

HISTORY = """GEOGCD,GEOGNM,GEOGNMW,SI_ID,SI_TITLE,OPER_DATE,TERM_DATE,PARENTCD,ENTITYCD,OWNER,STATUS
E06000099,Kent Downs and Marsh,,2026/123,The Kent (Structural Changes) Order 2026,01/04/2027,,E12000008,E06,MHCLG,live
E07000112,Folkestone and Hythe,,1111/1001,Name Change,01/04/2018,31/03/2027,E10000016,E07,MHCLG,terminated
E07000105,Ashford,,1111/1001,GSS re-coding strategy,01/01/2009,31/03/2027,E10000016,E07,MHCLG,terminated
E07000106,Canterbury,,1111/1001,GSS re-coding strategy,01/01/2009,,E10000016,E07,MHCLG,live
"""
CHANGES = """GEOGCD,GEOGNM,GEOGNMW,GEOGCD_P,GEOGNM_P,GEOGNMW_P,SI_ID,SI_TITLE,OPER_DATE,ENTITYCD,YEAR
E06000099,Kent Downs and Marsh,,E07000112,Folkestone and Hythe,,2026/123,The Kent (Structural Changes) Order 2026,01/04/2027,E06,2027
E06000099,Kent Downs and Marsh,,E07000105,Ashford,,2026/123,The Kent (Structural Changes) Order 2026,01/04/2027,E06,2027
"""


@pytest.fixture
def curator(db):
    user = get_user_model().objects.create_user("cora", password="x-long-enough-pw", is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    return user


def test_preview_reports_what_would_change_and_writes_nothing(db):
    versions = Version.objects.count()
    plan = change_import.plan(HISTORY, "ChangeHistory.csv")
    assert (plan.rows, plan.created, plan.terminated, plan.changed, plan.unchanged) == (
        4, ["E06000099"], ["E07000105", "E07000112"], [], 1,
    )  # fmt: skip
    assert Version.objects.count() == versions
    assert not Entry.objects.filter(key="E06000099").exists()


def test_apply_is_one_attributed_change_set(area, curator):
    change_import.apply(HISTORY, "ChangeHistory.csv", curator, "ONS CHD release, Kent")
    plan = change_import.apply(CHANGES, "Changes.csv", curator, "ONS CHD release, Kent")
    assert plan.events_created == ["2027-04-01-E06000099"]
    runs = ImportRun.objects.filter(command="change import by cora").order_by("started_at")
    assert [run.sources for run in runs] == [["ChangeHistory.csv"], ["Changes.csv"]]
    assert runs[0].counts == {
        "created": 1,
        "changed": 0,
        "terminated": 2,
        "events_created": 0,
        "events_changed": 0,
    }
    version = area("E07000112").versions.get(number=area("E07000112").version)
    assert (version.user, version.import_run, version.source, version.reason) == (
        curator, runs[0], "ChangeHistory.csv", "ONS CHD release, Kent",
    )  # fmt: skip
    # History is kept: Shepway until 2018, Folkestone and Hythe until the change.
    assert queries.as_at(area("E07000112"), d("2017-01-01")).name == "Shepway"
    assert queries.as_at(area("E07000112"), d("2027-03-31")).status == "live"
    assert queries.as_at(area("E07000112"), d("2027-04-01")).status == "terminated"
    event = ChangeEvent.objects.get(key="2027-04-01-E06000099")
    assert (event.kind, event.instrument_id) == ("merge", "2026/123")
    for code in ("E07000112", "E07000105"):
        assert [s.entry.key for s in queries.current_codes(area(code), d("2027-06-01"))] == [
            "E06000099"
        ]
    assert queries.as_at(area("E06000099"), d("2027-06-01")).parents["region"].key == "E12000008"
    # The same files again change nothing.
    again = change_import.plan(HISTORY, "ChangeHistory.csv")
    assert (again.created, again.changed, again.terminated) == ([], [], [])
    assert change_import.plan(CHANGES, "Changes.csv").events_created == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            HISTORY.replace("01/04/2027,,E12000008", "31/02/2027,,E12000008"),
            "ChangeHistory.csv, line 2: OPER_DATE '31/02/2027' is not a date",
        ),
        (
            HISTORY.replace("E07000105,Ashford", "E0700010,Ashford"),
            "ChangeHistory.csv, line 4: GEOGCD 'E0700010' is not a GSS code (a letter and eight digits)",
        ),
        (
            "CODE,NAME\nE06000099,Kent\n",
            "ChangeHistory.csv, line 1: the header matches neither the ChangeHistory layout",
        ),
        (
            HISTORY.replace(
                ",31/03/2027,E10000016,E07,MHCLG,terminated\nE07000105",
                ",31/03/2017,E10000016,E07,MHCLG,terminated\nE07000105",
            ),
            "ChangeHistory.csv, line 3: TERM_DATE 31/03/2017 is before OPER_DATE 01/04/2018",
        ),
    ],
)
def test_malformed_files_are_refused_with_their_line(db, curator, text, message):
    versions = Version.objects.count()
    with pytest.raises(LoadError) as error:
        change_import.apply(text, "ChangeHistory.csv", curator, "release")
    assert str(error.value).startswith(message)
    assert Version.objects.count() == versions
    assert not Entry.objects.filter(key="E06000099").exists()


def test_a_failure_while_applying_leaves_nothing_applied(db, curator, monkeypatch):
    versions = Version.objects.count()

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # Both write through one import run (registry.imports), which writes events last.
    monkeypatch.setattr(imports, "sync_events", fail)
    with pytest.raises(RuntimeError):
        change_import.apply(HISTORY, "ChangeHistory.csv", curator, "release")
    assert Version.objects.count() == versions
    assert not ImportRun.objects.filter(command="change import by cora").exists()


def test_admin_preview_then_apply(client, curator, area):
    client.force_login(curator)
    upload = SimpleUploadedFile("ChangeHistory.csv", HISTORY.encode(), content_type="text/csv")
    response = client.post("/admin/change-import/", {"file": upload})
    page = response.content.decode()
    assert response.status_code == 200
    assert '<th scope="row">Entries created</th><td>1</td><td>E06000099</td>' in page
    assert '<th scope="row">Entries terminated</th><td>2</td><td>E07000105, E07000112</td>' in page
    assert not Entry.objects.filter(key="E06000099").exists()
    token = response.context["apply_form"].initial["token"]
    response = client.post(
        "/admin/change-import/apply/", {"token": token, "change_note": "Kent release"}
    )
    assert response.status_code == 302
    assert queries.as_at(area("E06000099"), d("2027-06-01")).name == "Kent Downs and Marsh"
    # The token is spent: applying twice is refused.
    again = client.post(
        "/admin/change-import/apply/", {"token": token, "change_note": "Kent release"}, follow=True
    )
    assert "That upload has expired or was already applied" in again.content.decode()


def test_admin_apply_refuses_a_preview_the_registry_has_since_outdated(client, curator, area):
    from registry.services import Actor, current_snapshot, save_entry

    client.force_login(curator)
    upload = SimpleUploadedFile("ChangeHistory.csv", HISTORY.encode(), content_type="text/csv")
    response = client.post("/admin/change-import/", {"file": upload})
    assert '<th scope="row">Unchanged</th><td>1</td>' in response.content.decode()
    token = response.context["apply_form"].initial["token"]
    # Another curator renames Canterbury, which the file calls "Canterbury": applying now
    # would change an entry the preview said was unchanged.
    canterbury = area("E07000106")
    snapshot = current_snapshot(canterbury)
    snapshot["names"] = [
        [*row[:2], "Canterbury City", *row[3:]] if row[2] == "Canterbury" else row
        for row in snapshot["names"]
    ]
    save_entry(
        canterbury.register, "E07000106", snapshot, Actor(reason="test"),
        expected_version=canterbury.version,
    )  # fmt: skip
    versions = Version.objects.count()
    response = client.post(
        "/admin/change-import/apply/",
        {"token": token, "change_note": "Kent release"},
        follow=True,
    )
    page = response.content.decode()
    assert "Nothing was applied: The registry has changed since the preview" in page
    assert not Entry.objects.filter(key="E06000099").exists()
    assert Version.objects.count() == versions


def _plan(**fields) -> change_import.Plan:
    return change_import.Plan(name="x.csv", **fields)


NAMES = [
    ["en", "official", "Ashford", "2009-01-01", None],
    ["cy", "official", "X", "2009-01-01", None],
]


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (_plan(changed=["E07000105"]), _plan(terminated=["E07000105"]), False),
        (_plan(changed=["E07000105"]), _plan(events_created=["E07000105"]), False),
        (_plan(created=["A", "B"]), _plan(created=["B", "A"]), True),
        # Rows are kept whole: the same values in another row are another plan.
        (_plan(drafts={"r": {"names": NAMES}}), _plan(drafts={"r": {"names": NAMES[::-1]}}), True),
        (
            _plan(drafts={"r": {"names": [["en", "official", "A", "2009-01-01", "2019-01-01"]]}}),
            _plan(drafts={"r": {"names": [["en", "official", "A", "2019-01-01", "2009-01-01"]]}}),
            False,
        ),
    ],
)
def test_plan_fingerprint(a, b, same):
    assert (a.fingerprint() == b.fingerprint()) is same


def test_admin_rejects_a_malformed_upload_with_its_line(client, curator):
    client.force_login(curator)
    bad = HISTORY.replace("01/04/2027,,E12000008", "31/02/2027,,E12000008")
    response = client.post(
        "/admin/change-import/", {"file": SimpleUploadedFile("ChangeHistory.csv", bad.encode())}
    )
    assert (
        "ChangeHistory.csv, line 2: OPER_DATE &#x27;31/02/2027&#x27; is not a date"
        in response.content.decode()
    )
    assert not Entry.objects.filter(key="E06000099").exists()


def test_change_import_needs_curation_permission(client, db):
    user = get_user_model().objects.create_user("pat", password="x-long-enough-pw", is_staff=True)
    client.force_login(user)
    assert client.get("/admin/change-import/").status_code == 403


def test_an_older_release_does_not_revive_terminated_codes(db):
    # The May 2017 extract shows Bournemouth (E06000028) and Poole (E06000029) live; they
    # ended on 2019-03-31 and stay ended.
    with open("fixtures/code_history/ons_chd_extract_2017_e06.csv", encoding="utf-8") as handle:
        plan = change_import.plan(handle.read(), "ons_chd_extract_2017_e06.csv")
    assert (plan.rows, plan.created, plan.changed, plan.terminated, plan.unchanged) == (
        57,
        [],
        [],
        [],
        57,
    )


def test_the_registry_changes_file_reimports_as_no_change(db):
    with open("fixtures/code_history/chd_dec2023_lad_changes.csv", encoding="utf-8") as handle:
        plan = change_import.plan(handle.read(), "chd_dec2023_lad_changes.csv")
    assert (plan.events_created, plan.events_changed, plan.changed) == ([], [], [])


def test_new_wards_may_name_a_district_new_in_the_same_file(area, curator):
    text = """GEOGCD,GEOGNM,GEOGNMW,SI_ID,SI_TITLE,OPER_DATE,TERM_DATE,PARENTCD,ENTITYCD,OWNER,STATUS
E06000099,Kent Downs and Marsh,,2026/123,The Kent (Structural Changes) Order 2026,01/04/2027,,E12000008,E06,MHCLG,live
E05900001,Hythe Town,,2026/124,The Kent Downs and Marsh (Electoral Changes) Order 2026,06/05/2027,,E06000099,E05,LGBCE,live
"""
    plan = change_import.apply(text, "ChangeHistory.csv", curator, "Kent release")
    assert plan.created == ["E05900001", "E06000099"]
    assert queries.as_at(area("E05900001"), d("2027-06-01")).parents["district"].key == "E06000099"
