"""The code checker: a CSV in, the same CSV out with the registry's answer for each row, from
the API (text/csv or multipart) and from the web form."""

import csv
import io
import re
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.asserts import assertInHTML

from api.v1 import results
from api.v1.checker import ADDED_COLUMNS, CHUNK_ROWS, added_columns
from registry.queries import today

pytestmark = pytest.mark.django_db

URL = "/api/v1/check/"

MESSY = (
    "id,Area code,Notes\r\n"
    "1, E06000060 ,spaces around\r\n"
    "2,e07000004,lower case\r\n"
    '3,E01033468,"split, in 2021"\r\n'
    "4,E99999999,never issued\r\n"
    "5,E0700004,a digit short\r\n"
    "6,,empty\r\n"
    "7,Aylesbury Vale,a name\r\n"
    "8,Newport,a shared name\r\n"
    "9,00CN,a legacy code\r\n"
    "10,E08000025\u00a0,no-break space\r\n"
)


def expected_messy() -> str:
    base = f"{settings.REGISTRY_URI_BASE}/id/statistical-geography"
    return (
        "id,Area code,Notes,registry_code,registry_name,registry_entity_type,registry_status,"
        "registry_current_codes,registry_uri,registry_note\r\n"
        f"1, E06000060 ,spaces around,E06000060,Buckinghamshire,E06,live,E06000060,{base}/E06000060,\r\n"
        f"2,e07000004,lower case,E07000004,Aylesbury Vale,E07,terminated,E06000060,{base}/E07000004,"
        "terminated on 2020-03-31; now E06000060 Buckinghamshire\r\n"
        f'3,E01033468,"split, in 2021",E01033468,Middlesbrough 001G,E01,terminated,E01035189 E01035190,{base}/E01033468,'
        '"terminated on 2021-03-20; now E01035189 Middlesbrough 001H, E01035190 Middlesbrough 001I"\r\n'
        "4,E99999999,never issued,,,,,,,unknown: No entry in statistical-geography has the code 'E99999999'.\r\n"
        "5,E0700004,a digit short,,,,,,,\"malformed: 'E0700004' is not a well-formed code: a GSS code "
        'is a letter (E, W, S, N, K, L, M or J) and eight digits, such as E06000060."\r\n'
        "6,,empty,,,,,,,empty: The value is empty.\r\n"
        f"7,Aylesbury Vale,a name,E07000004,Aylesbury Vale,E07,terminated,E06000060,{base}/E07000004,"
        "terminated on 2020-03-31; now E06000060 Buckinghamshire\r\n"
        # (The CHD's Equivalents table calls the Pembrokeshire LSOA W01000597 "Newport" too.)
        "8,Newport,a shared name,,,,,,,\"ambiguous: 5 entries are named 'Newport' on 2024-01-01: "
        'E05009866, E05009922, E05012432, W01000597, W06000022."\r\n'
        f"9,00CN,a legacy code,E08000025,Birmingham,E08,live,E08000025,{base}/E08000025,\r\n"
        f"10,E08000025\u00a0,no-break space,E08000025,Birmingham,E08,live,E08000025,{base}/E08000025,\r\n"
    )


def csv_rows(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data)))


def body(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def test_checker_on_a_messy_ten_row_csv(client):
    response = client.post(
        f"{URL}?column=area%20code&date=2024-01-01", MESSY.encode(), content_type="text/csv"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="checked.csv"'
    assert response["Access-Control-Allow-Origin"] == "*"
    assert body(response) == expected_messy()


def test_checker_multipart_upload_in_windows_1252_with_semicolons(client):
    text = "Nom;Code\r\nYnys Môn;W06000001\r\nCaerdydd;W06000015\r\n"
    upload = SimpleUploadedFile("Welsh areas.csv", text.encode("cp1252"), "text/csv")
    response = client.post(URL, {"file": upload, "column": "2", "date": "2024-01-01"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="Welsh-areas-checked.csv"'
    lines = body(response).splitlines()
    assert lines[0].split(";")[:4] == ["Nom", "Code", "registry_code", "registry_name"]
    assert lines[1].split(";")[:6] == ["Ynys Môn", "W06000001", "W06000001", "Isle of Anglesey", "W06", "live"]  # fmt: skip
    assert lines[2].split(";")[:4] == ["Caerdydd", "W06000015", "W06000015", "Cardiff"]


def test_checker_date_column_checks_each_row_as_at_its_date(client):
    text = (
        "code,when\nE07000004,2019-01-01\nE07000004,01/06/2024\nE07000004,31/02/2024\nE07000004,\n"
    )
    response = client.post(
        f"{URL}?column=code&date_column=when&date=2019-06-01", text, content_type="text/csv"
    )
    rows = [line.split(",") for line in body(response).splitlines()[1:]]
    assert [(row[5], row[6]) for row in rows] == [
        ("live", "E07000004"),
        ("terminated", "E06000060"),
        ("", ""),
        ("live", "E07000004"),  # no date in the row: the request's date
    ]
    assert rows[2][-1] == "bad-date: '31/02/2024' is not a date (YYYY-MM-DD or DD/MM/YYYY)"


def test_checker_names_with_entity_types(client):
    text = "name\nNewport\n"
    response = client.post(f"{URL}?column=name&entity_type=W06", text, content_type="text/csv")
    assert body(response).splitlines()[1].split(",")[:3] == ["Newport", "W06000022", "Newport"]


@pytest.mark.parametrize(
    ("query", "data", "parameter", "reason"),
    [
        (
            "",
            "code\nE07000004\n",
            "column",
            "name the column that holds the codes or names (or ask for the areas containing "
            "each row's point with points=yes).",
        ),
        (
            "?column=gss",
            "code,name\nE07000004,x\n",
            "column",
            "the file has no column 'gss'; its columns are 'code', 'name' (or give a column "
            "number, from 1).",
        ),
        (
            "?column=code&date_column=when",
            "code\nE07000004\n",
            "date_column",
            "the file has no column 'when'; its columns are 'code' (or give a column number, "
            "from 1).",
        ),
        # No body at all (so no content type either): neither a CSV body nor an upload.
        ("?column=code", "", "file", "attach the CSV file as the field `file`."),
        (
            "?column=code",
            "\n\n",
            "file",
            "the file is empty: it needs a header row naming columns.",
        ),
        (
            "?column=code&date=2024-02-30",
            "code\n",
            "date",
            "'2024-02-30' is not a valid calendar date.",
        ),
        ("?column=code&entity_type=Q01", "code\n", "entity_type", "there is no entity type 'Q01'."),
    ],
)
def test_checker_errors_are_problems_naming_the_parameter(client, query, data, parameter, reason):
    response = client.post(f"{URL}{query}", data, content_type="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["invalid-params"] == [{"name": parameter, "reason": reason}]


def test_checker_refuses_a_file_over_the_limit(client, settings):
    settings.REGISTRY_CHECKER_MAX_BYTES = 100
    response = client.post(
        f"{URL}?column=code", "code\n" + "E07000004\n" * 20, content_type="text/csv"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_checker_streams_in_chunks_with_a_fixed_number_of_queries_per_chunk(
    client, django_assert_max_num_queries
):
    rows = 3 * CHUNK_ROWS + 7
    text = io.StringIO()
    text.write("code\n")
    for index in range(rows):
        text.write(f"E0100{index % 5000 + 1000:04d}\n")
    response = client.post(f"{URL}?column=code", text.getvalue(), content_type="text/csv")
    with django_assert_max_num_queries(4 * 20):
        lines = body(response).splitlines()
    assert len(lines) == rows + 1
    assert lines[1].startswith("E01001000,E01001000,")


def test_checker_form_page(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert '<form method="post" action="" enctype="multipart/form-data">' in html
    assert '<label for="column">Column with the codes or names</label>' in html
    assert "<script" not in html  # works without JavaScript


def test_checker_form_shows_errors_on_the_page(client):
    upload = SimpleUploadedFile("areas.csv", b"code\nE07000004\n", "text/csv")
    response = client.post(URL, {"file": upload, "column": "gss", "via": "form"})
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "the file has no column &#x27;gss&#x27;" in html
    assert 'value="gss"' in html


def test_checker_survives_nul_characters_and_broken_csv(client):
    response = client.post(f"{URL}?column=a", "a\x00,b\nE07000004\x00,1\n", content_type="text/csv")
    assert body(response).splitlines()[1].startswith("E07000004,1,E07000004,Aylesbury Vale,")
    huge = 'a,b\nE07000004,1\nE06000060,"' + "x" * 200_000 + '"\n'
    response = client.post(f"{URL}?column=a", huge, content_type="text/csv")
    lines = body(response).splitlines()
    assert lines[1].startswith("E07000004,1,E07000004,")
    assert lines[2] == (
        ",,,,,,,,error: the file stops being CSV at line 3 (field larger than field limit (131072))"
    )


@pytest.mark.parametrize(
    ("header", "first_added"),
    [
        (["code", "note"], "registry_code"),
        (["code", "Registry_Note "], "registry_code_2"),
        (["registry_code", "registry_code_2", "x"], "registry_code_3"),
    ],
)
def test_added_columns_never_collide_with_the_files_own(header, first_added):
    names = added_columns(header)
    assert names[0] == first_added
    assert len(names) == 7
    assert {n.casefold() for n in names}.isdisjoint(h.strip().casefold() for h in header)


def test_a_file_checked_twice_keeps_both_sets_of_columns(client):
    first = body(
        client.post(
            f"{URL}?column=code&date=2024-01-01",
            "code,note\nE07000004,mine\n",
            content_type="text/csv",
        )
    )
    again = body(client.post(f"{URL}?column=code&date=2024-01-01", first, content_type="text/csv"))
    header, row = (line.split(",") for line in again.splitlines()[:2])
    assert header == [
        "code",
        "note",
        *ADDED_COLUMNS,
        *(f"{name}_2" for name in ADDED_COLUMNS),
    ]
    assert row[1] == "mine"
    assert row[2] == row[9] == "E07000004"
    assert len(header) == len(set(header)) == 16


def test_a_name_other_areas_bore_at_other_dates_gets_a_note_listing_them(client):
    # Shepway: a Maidstone ward since 2024, and the district E07000112 until it was renamed
    # Folkestone and Hythe in 2018. Checked as at today the ward is named so; the note says
    # the district bore the name too.
    response = client.post(f"{URL}?column=name", "name\nShepway\n", content_type="text/csv")
    header, row = csv_rows(body(response))
    assert dict(zip(header, row, strict=True)) | {"registry_uri": ""} == {
        "name": "Shepway",
        "registry_code": "E05015612",
        "registry_name": "Shepway",
        "registry_entity_type": "E05",
        "registry_status": "live",
        "registry_current_codes": "E05015612",
        "registry_uri": "",
        "registry_note": f"ambiguous name: 'Shepway' on {today().isoformat()} is E05015612, "
        "but other areas bore it at other dates: E07000112 Folkestone and Hythe (2009-01-01 to "
        "2018-03-31); check the date if one of those was meant",
    }
    # As at 2015 the name is the district's; the ward is the other area that bore it.
    response = client.post(
        f"{URL}?column=name&date=2015-06-01", "name\nShepway\n", content_type="text/csv"
    )
    _, row = csv_rows(body(response))
    assert row[1:5] == ["E07000112", "Shepway", "E07", "live"]
    assert row[-1] == (
        "ambiguous name: 'Shepway' on 2015-06-01 is E07000112, but other areas bore it at other "
        "dates: E05015612 Shepway (from 2024-05-02); check the date if one of those was meant"
    )


def test_the_form_shows_what_the_check_found_and_links_the_checked_file(client):
    upload = SimpleUploadedFile("my areas.csv", MESSY.encode(), "text/csv")
    response = client.post(
        URL, {"file": upload, "column": "Area code", "date": "2024-01-01", "via": "form"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<title>Checked: Check a file of codes – Reference Registry</title>" in html
    href = re.search(r'href="(/api/v1/check/results/[0-9a-f]{32}/my-areas-checked\.csv)"', html)[1]
    assertInHTML(
        f"""<div class="notice notice--success" role="status" aria-labelledby="checked-title">
        <h2 id="checked-title">Your file has been checked: 10 rows</h2>
        <p>As at 1 January 2024. 6 matched an area, 1 ambiguous, 1 unknown.</p>
        <p><a class="button" href="{href}" download="my-areas-checked.csv">Download the checked
          file <span class="code">my-areas-checked.csv</span></a></p>
        <p class="hint">The checked file is kept for 60 minutes for you to download, then
          deleted.</p></div>""",
        html,
    )
    base = f"{settings.REGISTRY_URI_BASE}/id/statistical-geography"
    for row in [
        "<div><dt>Rows</dt><dd>10</dd></div>",
        "<div><dt>Matched</dt><dd>6 (3 live, 3 terminated)</dd></div>",
        f"""<div><dt>Terminated</dt><dd>3<ul>
          <li><a href="{base}/E07000004"><code>E07000004</code></a> Aylesbury Vale: now
            <code>E06000060</code></li>
          <li><a href="{base}/E01033468"><code>E01033468</code></a> Middlesbrough 001G: now
            <code>E01035189 E01035190</code></li></ul></dd></div>""",
        """<div><dt>Ambiguous</dt><dd>1<ul><li><strong>Newport</strong>: ambiguous: 5 entries
          are named &#x27;Newport&#x27; on 2024-01-01: E05009866, E05009922, E05012432,
          W01000597, W06000022.</li></ul></dd></div>""",
        """<div><dt>Unknown</dt><dd>1<ul><li><strong>E99999999</strong>: unknown: No entry in
          statistical-geography has the code &#x27;E99999999&#x27;.</li></ul></dd></div>""",
        """<div><dt>Other problems</dt><dd>2 (empty or malformed values, or bad dates: see
          <code>registry_note</code>)</dd></div>""",
    ]:
        assertInHTML(row, html)
    header = "".join(
        f'<th scope="col">{name}</th>' for name in ["id", "Area code", "Notes", *ADDED_COLUMNS]
    )
    assertInHTML(f"<thead><tr>{header}</tr></thead>", html)
    assertInHTML('<caption id="first-rows">The first 10 rows of the checked file</caption>', html)
    assertInHTML(
        "<tr><td>1</td><td> E06000060 </td><td>spaces around</td><td>E06000060</td>"
        f"<td>Buckinghamshire</td><td>E06</td><td>live</td><td>E06000060</td>"
        f"<td>{base}/E06000060</td><td></td></tr>",
        html,
    )

    download = client.get(href)
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="my-areas-checked.csv"'
    assert download["Cache-Control"] == "no-store"
    assert b"".join(download.streaming_content).decode() == expected_messy()


def test_a_checked_file_is_kept_only_for_a_while(client, settings):
    upload = SimpleUploadedFile("areas.csv", b"code\nE07000004\n", "text/csv")
    response = client.post(URL, {"file": upload, "column": "code", "via": "form"})
    token = re.search(r"/api/v1/check/results/([0-9a-f]{32})/", response.content.decode())[1]
    href = f"/api/v1/check/results/{token}/areas-checked.csv"
    assert results.path_for(token) is not None
    settings.REGISTRY_CHECKER_RESULTS_SECONDS = 0
    kept = results.path_for(token, now=time.time() + 5)
    assert kept is None
    assert f"{token}.csv" in results.prune(now=time.time() + 5)
    assert not (results.results_dir() / f"{token}.csv").exists()
    gone = client.get(href)
    assert gone.status_code == 404
    assert gone["Content-Type"] == "text/html; charset=utf-8"
    assert "That checked file is no longer kept" in gone.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/check/results/not-a-token/areas-checked.csv",
        "/api/v1/check/results/0123456789abcdef0123456789abcdef/areas-checked.csv",
        "/api/v1/check/results/0123456789abcdef0123456789abcdef/secret-key",
    ],
)
def test_an_unknown_checked_file_is_a_404_page(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
