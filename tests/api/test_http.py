"""The request parsing both the documents and the lookup API use (``api.http``): one as-at
date parser, table-tested, and each interface's wording of the same bad date."""

import datetime as dt

import pytest
from django.http import QueryDict

from api import http
from registry.validtime import today

VALID = [
    ("2019-01-01", dt.date(2019, 1, 1)),
    ("2024-02-29", dt.date(2024, 2, 29)),
    (" 2019-06-01 ", dt.date(2019, 6, 1)),
    ("0001-01-01", dt.date(1, 1, 1)),
    ("9999-12-31", dt.date(9999, 12, 31)),
]

INVALID = [
    ("2019-13-01", "'2019-13-01' is not a valid calendar date."),
    ("2019-02-30", "'2019-02-30' is not a valid calendar date."),
    ("2023-02-29", "'2023-02-29' is not a valid calendar date."),
    ("yesterday", "'yesterday' is not a date in the form YYYY-MM-DD."),
    ("2019-1-1", "'2019-1-1' is not a date in the form YYYY-MM-DD."),
    ("20190101", "'20190101' is not a date in the form YYYY-MM-DD."),
    ("2019-01-01T00:00", "'2019-01-01T00:00' is not a date in the form YYYY-MM-DD."),
    ("01/01/2019", "'01/01/2019' is not a date in the form YYYY-MM-DD."),
    ("x" * 50, f"{'x' * 40!r} is not a date in the form YYYY-MM-DD."),
]


@pytest.mark.parametrize(("value", "date"), VALID)
def test_parse_date_reads_iso_calendar_dates(value, date):
    assert http.parse_date(value) == date


@pytest.mark.parametrize(("value", "reason"), INVALID)
def test_parse_date_refuses_anything_else_naming_the_parameter(value, reason):
    with pytest.raises(http.BadDate) as raised:
        http.parse_date(value, "valid_on")
    assert (raised.value.name, raised.value.reason, raised.value.value) == (
        "valid_on",
        reason,
        value,
    )
    assert raised.value.detail == {"valid_on": [reason]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", (today(), False)),
        ("date=", (today(), False)),
        ("date=2019-01-01", (dt.date(2019, 1, 1), True)),
        ("other=1&date=2020-04-01", (dt.date(2020, 4, 1), True)),
    ],
)
def test_as_at_defaults_to_today_and_says_whether_a_date_was_given(query, expected):
    assert http.as_at(QueryDict(query)) == expected


DOCUMENT_REASON = "date must be a calendar date written YYYY-MM-DD, such as 2024-01-01; got {!r}."


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "reason"), INVALID)
def test_each_interface_words_the_same_bad_date_its_own_way(client, value, reason):
    document = client.get(
        "/doc/statistical-geography/E07000004.json", {"date": value}, HTTP_ACCEPT="application/json"
    )
    assert (document.status_code, document.json()) == (
        400,
        {"detail": DOCUMENT_REASON.format(value[:40])},
    )
    problem = client.get("/api/v1/entries/statistical-geography/E07000004/", {"date": value})
    assert problem.status_code == 400
    assert problem.json()["invalid-params"] == [{"name": "date", "reason": reason}]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b", "contains a NUL character."),
        ("x" * 201, "is longer than 200 characters."),
    ],
)
def test_check_text_refuses_what_no_registry_value_could_be(value, reason):
    with pytest.raises(http.BadParameter) as raised:
        http.check_text("name", value)
    assert (raised.value.name, raised.value.reason) == ("name", reason)


def test_check_text_passes_anything_else():
    assert http.check_text("name", "Ynys Môn") == "Ynys Môn"


@pytest.mark.parametrize(
    ("methods", "allow", "expose", "expected"),
    [
        (
            "GET, POST, OPTIONS",
            "Content-Type",
            "",
            {
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "86400",
            },
        ),
        (
            "GET",
            "If-None-Match",
            "ETag",
            {
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET",
                "Access-Control-Allow-Headers": "If-None-Match",
                "Access-Control-Max-Age": "86400",
                "Access-Control-Expose-Headers": "ETag",
            },
        ),
    ],
)
def test_cors_headers(methods, allow, expose, expected):
    assert http.cors_headers(methods, allow, expose) == expected


@pytest.mark.parametrize(
    ("changed", "date", "explicit", "expected"),
    [
        # An explicit date: the last change to the registry.
        (dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC), dt.date(2019, 1, 1), True, 1714564800),
        (None, dt.date(2019, 1, 1), True, None),
        # Today's answer moves on at midnight (Europe/London: 2024-06-01 is BST).
        (dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC), dt.date(2024, 6, 1), False, 1717196400),
        (dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC), dt.date(2024, 6, 1), False, 1717243200),
    ],
)
def test_last_modified(changed, date, explicit, expected):
    assert http.last_modified(changed, date, explicit) == expected
