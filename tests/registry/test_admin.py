"""The curators' admin end to end: edits go through the services with a change note, are
validated with readable messages, are versioned with a readable diff, can be restored, and
entries are terminated with successors, never deleted."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from registry import queries
from registry.models import ChangeEvent, Entry, Version
from tests.conftest import d


@pytest.fixture
def curator(db):
    user = get_user_model().objects.create_user("cora", password="x-long-enough-pw", is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    return user


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def form_data(entry: Entry, note: str = "Correcting the Welsh name", **overrides) -> dict:
    """The POST the change form sends for ``entry`` unchanged, as a browser would."""
    data = {"change_note": note, "expected_version": entry.version}
    # Each attribute is a field of its own (a checkbox sends nothing when false).
    for key, value in (entry.attributes or {}).items():
        if value is not False:
            data[f"attribute__{key}"] = (
                "on" if value is True else value if isinstance(value, str) else json.dumps(value)
            )
    inlines = {
        "names": (entry.names.all(), ["language", "kind", "text", "valid_from", "valid_to"]),
        "identifiers": (entry.identifiers.all(), ["scheme", "value", "valid_from", "valid_to"]),
        "states": (entry.states.all(), ["status", "entity_type", "valid_from", "valid_to"]),
        "relations": (
            entry.relations.all(),
            ["kind", "hierarchy", "object", "valid_from", "valid_to"],
        ),
    }
    for prefix, (rows, fields) in inlines.items():
        rows = list(rows)
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": len(rows),
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})  # fmt: skip
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            for field in fields:
                value = (
                    getattr(row, field + "_id", None)
                    if field in ("entity_type", "object")
                    else getattr(row, field)
                )
                data[f"{prefix}-{i}-{field}"] = "" if value is None else value
    data.update(overrides)
    return data


def url(entry, action="change"):
    return f"/admin/registry/entry/{entry.pk}/{action}/"


def test_curator_corrects_a_welsh_name_with_a_change_note(curator_client, area, curator):
    cardiff = area("W06000015")
    data = form_data(cardiff)
    index = next(k for k, v in data.items() if v == "Caerdydd")
    data[index] = "Caerdydd (Dinas)"
    response = curator_client.post(url(cardiff), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    cardiff.refresh_from_db()
    assert queries.as_at(cardiff).name_cy == "Caerdydd (Dinas)"
    version = cardiff.versions.get(number=cardiff.version)
    assert (version.user, version.reason) == (curator, "Correcting the Welsh name")
    history = curator_client.get(f"/admin/registry/entry/{cardiff.pk}/versions/").content.decode()
    assert "<ins>“Caerdydd (Dinas)” (cy, official) from 2009-01-01</ins>" in history
    assert "<del>“Caerdydd” (cy, official) from 2009-01-01</del>" in history
    assert "<q>Correcting the Welsh name</q>" in history
    now = cardiff.version
    assert f'<h2 id="version-{now}">Version {now} (current)</h2>' in history
    # Every version but the current one can be restored.
    restore = f"/admin/registry/entry/{cardiff.pk}/versions/{{}}/restore/"
    assert restore.format(now - 1) in history and restore.format(now) not in history


def test_a_save_without_a_change_note_is_refused(curator_client, area):
    hartlepool = area("E06000001")
    response = curator_client.post(url(hartlepool), form_data(hartlepool, note=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert area("E06000001").version == hartlepool.version


def test_a_broken_rule_is_shown_to_the_curator(curator_client, area):
    hartlepool = area("E06000001")
    data = form_data(hartlepool)
    # The row of the official name (the entry has alternative names from 2009 too).
    index = next(k for k, v in data.items() if k.startswith("names-") and v == "Hartlepool")
    data[index.replace("text", "valid_to")] = "2008-01-01"
    response = curator_client.post(url(hartlepool), data)
    assert response.status_code == 200
    assert (
        "The name “Hartlepool” cannot end (2008-01-01) before it starts (2009-01-01)."
        in response.content.decode()
    )
    assert area("E06000001").version == hartlepool.version


def test_a_stale_form_is_refused_rather_than_overwriting(curator_client, area):
    hartlepool = area("E06000001")
    opened = form_data(hartlepool)  # the first curator opens the page
    other = form_data(hartlepool, note="Add an alternative name")
    other["names-TOTAL_FORMS"] += 1
    i = other["names-TOTAL_FORMS"] - 1
    other.update({f"names-{i}-language": "en", f"names-{i}-kind": "alternative",
                  f"names-{i}-text": "Hartlepool Borough", f"names-{i}-valid_from": "2009-01-01"})  # fmt: skip
    assert curator_client.post(url(hartlepool), other).status_code == 302  # a second curator saves
    response = curator_client.post(url(hartlepool), opened, follow=True)
    page = response.content.decode()
    assert f"E06000001 was changed by someone else (now version {hartlepool.version + 1})" in page
    names = [n.text for n in area("E06000001").names.all()]
    assert "Hartlepool Borough" in names


def test_entries_cannot_be_deleted_and_keys_are_read_only(curator_client, area):
    hartlepool = area("E06000001")
    assert curator_client.post(url(hartlepool, "delete"), {"post": "yes"}).status_code == 403
    page = curator_client.get(url(hartlepool)).content.decode()
    assert 'name="key"' not in page
    assert Entry.objects.filter(pk=hartlepool.pk).exists()


def test_restore_a_past_version(curator_client, area, curator):
    cardiff = area("W06000015")
    data = form_data(cardiff)
    data[next(k for k, v in data.items() if v == "Caerdydd")] = "Caerdyd"
    curator_client.post(url(cardiff), data)
    cardiff.refresh_from_db()
    response = curator_client.post(
        f"/admin/registry/entry/{cardiff.pk}/versions/{cardiff.version - 1}/restore/",
        {"change_note": "Undo the typo"},
    )
    assert response.status_code == 302
    cardiff.refresh_from_db()
    assert queries.as_at(cardiff).name_cy == "Caerdydd"
    latest = cardiff.versions.get(number=cardiff.version)
    assert (latest.user, latest.reason) == (curator, "Undo the typo")


def test_terminate_with_successors_action(curator_client, area):
    shepway = area("E07000112")
    response = curator_client.post(
        "/admin/registry/entry/",
        {
            "action": "terminate_with_successors",
            "_selected_action": [shepway.pk],
            "apply": "1",
            "date": "2027-04-01",
            "kind": "merge",
            "instrument_id": "2026/123",
            "instrument_title": "The Kent (Structural Changes) Order 2026",
            "new_successors": "E06000099, Kent Downs and Marsh",
            "change_note": "Kent reorganisation",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = ChangeEvent.objects.get(key="2027-04-01-E06000099")
    assert (event.kind, event.instrument_id, event.note) == (
        "merge",
        "2026/123",
        "Kent reorganisation",
    )
    [successor] = queries.current_codes(area("E07000112"), d("2027-06-01"))
    assert successor.entry.key == "E06000099"
    assert queries.as_at(successor.entry, d("2027-06-01")).name == "Kent Downs and Marsh"


def test_admin_search_finds_entries_by_any_identifier(curator_client):
    page = curator_client.get("/admin/registry/entry/?q=00CN").content.decode()
    assert "E08000025" in page


def test_version_list_is_read_only(curator_client):
    assert Version.objects.exists()
    assert curator_client.get("/admin/registry/version/add/").status_code == 403


def test_entry_list_shows_names_without_a_query_per_row(
    curator_client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        page = curator_client.get("/admin/registry/entry/?q=Aylesbury+Vale+001").content.decode()
    # LSOAs named after the district, each with its latest name (the 2021 one if it has one);
    # with the CHD, its 2001 LSOAs and the MSOA "Aylesbury Vale 001" are found too.
    assert page.count('<td class="field-current_name">') == 8
    assert '<td class="field-current_name">Buckinghamshire 001A</td>' in page


def test_the_history_button_shows_the_registrys_versions(curator_client, area):
    cardiff = area("W06000015")
    welsh = next(n for n in cardiff.names.all() if n.language == "cy")
    index = list(cardiff.names.all()).index(welsh)
    curator_client.post(
        url(cardiff), form_data(cardiff, **{f"names-{index}-text": "Caerdydd (Dinas)"})
    )
    cardiff.refresh_from_db()
    change_page = curator_client.get(url(cardiff)).content.decode()
    # Django's HISTORY button, in the change form's object tools…
    assert (
        f'<a href="/admin/registry/entry/{cardiff.pk}/history/" class="historylink">' in change_page
    )
    page = curator_client.get(url(cardiff, "history"))
    assert page.status_code == 200
    html = page.content.decode()
    # …is the registry's own history, not Django's empty log of admin actions.
    assert "doesn’t have a change history" not in html
    assert f'<h2 id="version-{cardiff.version}">Version {cardiff.version} (current)</h2>' in html
    assert '<h2 id="version-1">Version 1</h2>' in html
    assert "<ins>“Caerdydd (Dinas)” (cy, official) from 2009-01-01</ins>" in html
    assert "<q>Correcting the Welsh name</q>" in html
    assert curator_client.get("/admin/registry/entry/x1/history/").status_code == 404


def unlabelled_fields(html: str) -> list[str]:
    """The visible form fields of a page with neither a <label for> nor an aria-label."""
    labelled = set(re.findall(r'<label[^>]* for="([^"]+)"', html))
    found = []
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if re.search(r'type="(hidden|submit|button)"', tag) or "aria-label=" in tag:
            continue
        ident = re.search(r' id="([^"]+)"', tag)
        if ident is None or ident[1] not in labelled:
            found.append(tag)
    return found


@pytest.mark.parametrize(
    ("register", "key"),
    [
        ("statistical-geography", "W06000015"),
        ("local-authority", "BIR"),
        ("statistical-entity", "E06"),
    ],
)
def test_every_field_of_the_change_form_has_a_label(curator_client, register, key):
    entry = Entry.objects.get(register__slug=register, key=key)
    html = curator_client.get(url(entry)).content.decode()
    assert unlabelled_fields(html) == []
    assert 'aria-label="Language, name 1"' in html or register == "statistical-entity"
    assert 'aria-label="Valid from, name (new)"' in html  # the "Add another" template row


def test_parents_and_entity_types_are_shown_by_code_and_name(curator_client, area):
    cardiff = area("W06000015")
    html = curator_client.get(url(cardiff)).content.decode()
    wales = area("W92000004")
    assert f'<option value="{wales.pk}" selected>W92000004 Wales</option>' in html
    w06 = Entry.objects.get(register__slug="statistical-entity", key="W06")
    assert f'<option value="{w06.pk}" selected>W06 Unitary Authorities</option>' in html
    assert "statistical-geography/W92000004</option>" not in html


def autocomplete(client, model: str, field: str, term: str) -> list[str]:
    answer = client.get(
        "/admin/autocomplete/",
        {"term": term, "app_label": "registry", "model_name": model, "field_name": field},
    )
    assert answer.status_code == 200
    return [result["text"] for result in answer.json()["results"]]


def test_parents_successors_and_entity_types_are_chosen_by_code_and_name(curator_client):
    assert "W92000004 Wales" in autocomplete(curator_client, "relation", "object", "Wales")
    assert autocomplete(curator_client, "changelink", "successor", "E06000060") == [
        "E06000060 Buckinghamshire"
    ]
    # An entity type is chosen among the entity types only.
    found = autocomplete(curator_client, "state", "entity_type", "Unitary Authorities")
    assert "E06 Unitary Authorities" in found
    assert "W06 Unitary Authorities" in found
    assert all(re.fullmatch(r"[A-Z]\d\d .+", text) for text in found), found


def test_the_entity_type_filter_names_each_type(curator_client):
    html = curator_client.get("/admin/registry/entry/").content.decode()
    assert "E06 Unitary Authorities</a>" in html


def test_attributes_are_fields_and_hidden_when_there_are_none(curator_client, area, council):
    cardiff = area("W06000015")
    assert 'name="attributes"' not in curator_client.get(url(cardiff)).content.decode()
    birmingham = council("BIR")
    html = curator_client.get(url(birmingham)).content.decode()
    assert 'name="attributes"' not in html
    assert '<label for="id_attribute__region">Region:</label>' in html
    assert 'name="attribute__region" value="West Midlands"' in html
    response = curator_client.post(
        url(birmingham),
        form_data(birmingham, "Birmingham's region", attribute__region="West Midlands (region)"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    birmingham.refresh_from_db()
    assert birmingham.attributes["region"] == "West Midlands (region)"
    assert birmingham.attributes["start_date_known"] is True  # the others as they were
    latest = birmingham.versions.get(number=birmingham.version)
    assert latest.changes == {"attributes": {"region": ["West Midlands", "West Midlands (region)"]}}


def test_terminate_with_an_existing_successor_chosen_by_code_and_name(curator_client, area):
    maidstone, folkestone = area("E07000110"), area("E07000112")
    page = curator_client.post(
        "/admin/registry/entry/",
        {"action": "terminate_with_successors", "_selected_action": [maidstone.pk]},
    ).content.decode()
    assert 'data-model-name="changelink"' in page
    assert unlabelled_fields(page) == []
    response = curator_client.post(
        "/admin/registry/entry/",
        {
            "action": "terminate_with_successors",
            "_selected_action": [maidstone.pk],
            "apply": "1",
            "date": "2027-04-01",
            "kind": "merge",
            "successors": [folkestone.pk],
            "change_note": "Merged again",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    [successor] = queries.current_codes(area("E07000110"), d("2027-06-01"))
    assert successor.entry.key == "E07000112"


def test_the_change_events_history_button_shows_its_versions(curator_client):
    event = ChangeEvent.objects.get(key="2020-04-01-E06000060")
    change_page = curator_client.get(f"/admin/registry/changeevent/{event.pk}/change/")
    assert (
        f'<a href="/admin/registry/changeevent/{event.pk}/history/" class="historylink">'
        in change_page.content.decode()
    )
    page = curator_client.get(f"/admin/registry/changeevent/{event.pk}/history/")
    assert page.status_code == 200
    html = re.sub(r"\s+", " ", page.content.decode())
    assert "doesn’t have a change history" not in html
    assert '<h2 id="version-1">Version 1 (current)</h2>' in html
    assert (
        "by import run “load_reference_data” from code_history/chd_dec2023_lad_changes.csv, "
        "curated/successions.csv." in html
    )
    assert "<q>Load of the curated reference data</q>" in html
    assert '<th scope="row">Created</th>' in html
    assert "Restore version" not in html
    assert curator_client.get("/admin/registry/changeevent/x/history/").status_code == 404
