"""The code checker: a CSV in, the same CSV out with the registry's answer for each row, from
the API (text/csv or multipart) and from the web form."""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from api.v1.checker import CHUNK_ROWS

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
        "id,Area code,Notes,matched_code,matched_name,matched_entity_type,matched_status,"
        "current_codes,matched_uri,note\r\n"
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
    assert lines[0].split(";")[:4] == ["Nom", "Code", "matched_code", "matched_name"]
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
        ("", "code\nE07000004\n", "column", "name the column that holds the codes or names."),
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


def test_checker_form_returns_the_checked_file(client):
    upload = SimpleUploadedFile("areas.csv", b"code\nE07000004\n", "text/csv")
    response = client.post(URL, {"file": upload, "column": "code", "via": "form", "date": ""})
    assert response.status_code == 200
    assert body(response).splitlines()[1].startswith("E07000004,E07000004,Aylesbury Vale,E07,")


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
