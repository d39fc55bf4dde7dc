"""Bulk lookup: up to 1,000 codes, identifiers or names, answered in request order; and the
batch functions behind it, checked against the registry's own one-entry functions."""

import json
import random

import pytest
from django.conf import settings

from registry import facts, queries
from registry.documents import describe, summarise
from registry.models import Entry
from tests.conftest import d

pytestmark = pytest.mark.django_db

URL = "/api/v1/lookup/"


def post(client, body, status=200):
    response = client.post(URL, json.dumps(body), content_type="application/json")
    assert response.status_code == status, response.content[:500]
    return response.json()


def uri(key, register="statistical-geography"):
    return f"{settings.REGISTRY_URI_BASE}/id/{register}/{key}"


def brief(result):
    """(input, matched key, matched_by, status, current keys, error code)"""
    return (
        result["input"],
        result["match"]["key"] if result["match"] else None,
        result["matched_by"],
        result["status"],
        [c["key"] for c in result["current"]],
        result["error"]["code"] if result["error"] else None,
    )


def test_bulk_mixing_live_terminated_unknown_and_malformed_codes(client):
    answer = post(
        client,
        {
            "items": ["E06000060", "E07000004", "E99999999", "E0700004", "E01033468", "e07000004 "],
            "date": "2024-01-01",
        },
    )
    assert (answer["date"], answer["count"]) == ("2024-01-01", 6)
    assert [brief(r) for r in answer["results"]] == [
        ("E06000060", "E06000060", "code", "live", ["E06000060"], None),
        ("E07000004", "E07000004", "code", "terminated", ["E06000060"], None),
        ("E99999999", None, None, None, [], "unknown"),
        ("E0700004", None, None, None, [], "malformed"),
        ("E01033468", "E01033468", "code", "terminated", ["E01035189", "E01035190"], None),
        ("e07000004 ", "E07000004", "code", "terminated", ["E06000060"], None),
    ]
    terminated = answer["results"][1]
    assert terminated == {
        "input": "E07000004",
        "date": "2024-01-01",
        "matched_by": "code",
        "match": {
            "register": "statistical-geography",
            "key": "E07000004",
            "uri": uri("E07000004"),
            "name": "Aylesbury Vale",
            "name_cy": None,
            "display_name": None,
            "status": "terminated",
            "entity_type": {"key": "E07", "name": "Non-metropolitan Districts"},
            "operative": "2009-01-01",
            "terminated": "2020-03-31",
        },
        "status": "terminated",
        "current": [
            {
                "register": "statistical-geography",
                "key": "E06000060",
                "name": "Buckinghamshire",
                "uri": uri("E06000060"),
                "via": [
                    {
                        "event": "2020-04-01-E06000060",
                        "uri": f"{settings.REGISTRY_URI_BASE}/id/change-event/2020-04-01-E06000060",
                        "kind": "merge",
                        "date": "2020-04-01",
                        "predecessor": "E07000004",
                        "successor": "E06000060",
                    }
                ],
            }
        ],
        "candidates": [],
        "also_named": [],
        "error": None,
    }
    assert answer["results"][2]["error"] == {
        "code": "unknown",
        "detail": "No entry in statistical-geography has the code 'E99999999'.",
    }
    assert answer["results"][3]["error"] == {
        "code": "malformed",
        "detail": "'E0700004' is not a well-formed code: a GSS code is a letter (E, W, S, N, K, L, "
        "M or J) and eight digits, such as E06000060.",
    }


def test_bulk_as_at_2019(client):
    answer = post(client, {"items": ["E07000004", "E06000060"]}, status=200)
    assert [brief(r)[3] for r in answer["results"]] == ["terminated", "live"]
    then = client.post(
        f"{URL}?date=2019-01-01", json.dumps({"items": ["E07000004", "E06000060"]}),
        content_type="application/json",
    ).json()  # fmt: skip
    # In 2019 Buckinghamshire's unitary code was not yet operative (status null).
    assert [brief(r) for r in then["results"]] == [
        ("E07000004", "E07000004", "code", "live", ["E07000004"], None),
        ("E06000060", "E06000060", "code", None, [], None),
    ]


def test_bulk_identifiers_names_and_councils(client):
    answer = post(
        client,
        {
            "items": [
                "00CN",
                "ons-legacy:11UB",
                "GB-BIR",
                "BIR",
                "Aylesbury  Vale",
                "Buckinghamshire",
                "Newport",
                "",
                {"value": "Newport", "kind": "name"},
                {"value": "11UB", "kind": "identifier", "scheme": "iso-3166-2"},
                {"value": "E0700004", "kind": "code"},
                {"value": "Ynys Môn", "kind": "auto"},
                "Nowhere Special",
            ],
            "date": "2024-01-01",
        },
    )
    assert [brief(r) for r in answer["results"]] == [
        ("00CN", "E08000025", "identifier", "live", ["E08000025"], None),
        ("ons-legacy:11UB", "E07000004", "identifier", "terminated", ["E06000060"], None),
        ("GB-BIR", "BIR", "identifier", "live", ["BIR"], None),
        ("BIR", "BIR", "code", "live", ["BIR"], None),
        ("Aylesbury  Vale", "E07000004", "name", "terminated", ["E06000060"], None),
        ("Buckinghamshire", "E06000060", "name", "live", ["E06000060"], None),
        ("Newport", None, None, None, [], "ambiguous"),
        ("", None, None, None, [], "empty"),
        ("Newport", None, None, None, [], "ambiguous"),
        ("11UB", None, None, None, [], "unknown"),
        ("E0700004", None, None, None, [], "malformed"),
        # The county's Welsh name and the constituency's English one.
        ("Ynys Môn", None, None, None, [], "ambiguous"),
        ("Nowhere Special", None, None, None, [], "unknown"),
    ]
    newport = answer["results"][6]
    # (The CHD's Equivalents table calls the Pembrokeshire LSOA W01000597 "Newport" too.)
    assert [c["key"] for c in newport["candidates"]] == [
        "E05009866", "E05009922", "E05012432", "W01000597", "W06000022",
    ]  # fmt: skip
    assert newport["error"]["detail"] == (
        "5 entries are named 'Newport' on 2024-01-01: E05009866, E05009922, E05012432, "
        "W01000597, W06000022."
    )


def test_a_name_matched_on_the_date_lists_the_areas_that_bore_it_at_other_dates(client):
    answer = post(client, {"items": ["Buckinghamshire", "Aylesbury Vale"], "date": "2024-01-01"})
    county, district = answer["results"]
    assert county["match"]["key"] == "E06000060"
    assert [
        (o["key"], o["name"], o["status"], o["named_from"], o["named_to"])
        for o in county["also_named"]
    ] == [("E10000002", "Buckinghamshire", "terminated", "2009-01-01", "2020-03-31")]
    assert district["also_named"] == []


def test_entity_type_narrows_names(client):
    answer = post(client, {"items": ["Newport", "YNYS MON"], "entity_type": ["W06"]})
    assert [brief(r)[:3] for r in answer["results"]] == [
        ("Newport", "W06000022", "name"),
        ("YNYS MON", "W06000001", "name"),
    ]


@pytest.mark.parametrize(
    ("body", "status", "parameter"),
    [
        ({"items": "E07000004"}, 400, "items"),
        ({}, 400, "items"),
        ({"items": [1]}, 400, "items"),
        ({"items": [], "date": "2019-13-01"}, 400, "date"),
        ({"items": [], "entity_type": ["X99"]}, 400, "entity_type"),
        ({"items": [], "register": "nope"}, 400, "register"),
        ({"items": [{"value": "x", "kind": "guess"}]}, 400, "items"),
        ({"items": ["E07000004\x00"]}, 400, "items"),
    ],
)
def test_bad_bulk_requests_are_problems(client, body, status, parameter):
    problem = post(client, body, status=status)
    assert problem["status"] == status
    assert problem["invalid-params"][0]["name"].startswith(parameter)


def test_bulk_of_1000_is_answered_in_order_in_few_queries(client, django_assert_max_num_queries):
    codes = list(
        Entry.objects.in_register("statistical-geography")
        .filter(key__startswith="E01")
        .order_by("key")
        .values_list("key", flat=True)[:1000]
    )
    random.Random(5).shuffle(codes)  # noqa: S311 - a fixed, reproducible order, not a secret
    with django_assert_max_num_queries(30):
        answer = post(client, {"items": codes})
    assert [r["input"] for r in answer["results"]] == codes
    assert [r["match"]["key"] for r in answer["results"]] == codes


def test_bulk_needs_json(client):
    response = client.post(URL, "items=E07000004", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"


# The batch functions say what the one-entry functions say.

SAMPLE = [
    "E07000004", "E06000060", "E10000002", "E01033468", "E05010364", "E07000026", "E06000063",
    "E08000025", "E92000001", "E14000538", "E02003565", "W06000001", "S12000015", "E08000020",
]  # fmt: skip


@pytest.mark.parametrize("date", ["2012-06-01", "2019-01-01", "2020-04-01", "2025-06-01"])
def test_summaries_agree_with_describe(area, date):
    entries = [area(code) for code in SAMPLE]
    summaries = summarise(entries, d(date))
    for entry in entries:
        doc = describe(entry, d(date)).as_dict()
        assert summaries[entry.pk] == {key: doc[key] for key in summaries[entry.pk]}, entry.key


@pytest.mark.parametrize("date", ["2012-06-01", "2019-01-01", "2021-06-01", "2025-06-01"])
def test_batched_current_codes_agree_with_queries(area, date):
    entries = [area(code) for code in SAMPLE]
    batched = facts.current([facts.Ref.of(entry) for entry in entries], d(date))
    for entry in entries:
        expected = queries.current_codes(entry, d(date))
        found = batched[facts.Ref.of(entry)]
        assert [(node.key, [hop.kind for hop in path]) for node, path in found] == [
            (s.entry.key, s.kinds) for s in expected
        ], entry.key
