"""Persistent URIs and documents: 303s, formats by suffix and Accept, dates, errors and
HTTP caching, for a live, a terminated, a renamed and an unknown code."""

import pytest
from django.core.cache import cache

from api.documents import entries

LIVE = "E06000060"  # Buckinghamshire, live since 2020-04-01
TERMINATED = "E07000004"  # Aylesbury Vale, terminated 2020-03-31, merged into E06000060
RENAMED = "E07000112"  # Shepway, renamed Folkestone and Hythe on 2018-04-01
UNKNOWN = "E07999999"  # well-formed, never issued
AREAS = "statistical-geography"
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "jsonld": "application/ld+json",
    "ttl": "text/turtle; charset=utf-8",
    "rdf": "application/rdf+xml",
    "nt": "application/n-triples",
    "csv": "text/csv; charset=utf-8",
}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def doc(key: str, suffix: str = "", query: str = "") -> str:
    return f"/doc/{AREAS}/{key}{suffix}{query}"


@pytest.mark.django_db
@pytest.mark.parametrize("key", [LIVE, TERMINATED, RENAMED])
@pytest.mark.parametrize("query", ["", "?date=2019-06-01"])
def test_id_answers_303_to_the_document_keeping_the_query(client, key, query):
    response = client.get(f"/id/{AREAS}/{key}{query}")
    assert response.status_code == 303
    assert response["Location"] == f"/doc/{AREAS}/{key}{query}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "location"),
    [
        (f"/id/{AREAS}/{TERMINATED}.ttl", f"/doc/{AREAS}/{TERMINATED}.ttl"),
        ("/id/statistical-entity/E06", "/doc/statistical-entity/E06"),
        ("/id/local-authority/BIR", "/doc/local-authority/BIR"),
        (f"/id/{AREAS}", f"/doc/{AREAS}"),
        ("/id/change-event/2020-04-01-E06000060", "/doc/change-event/2020-04-01-E06000060"),
        ("/def/governedBy", "/def/#governedBy"),
    ],
)
def test_other_uris_see_other(client, path, location):
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (303, location)


@pytest.mark.django_db
def test_unknown_code_is_a_404_at_its_uri_and_its_document(client):
    assert client.get(f"/id/{AREAS}/{UNKNOWN}").status_code == 404
    response = client.get(doc(UNKNOWN), HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    body = response.json()
    assert body["detail"] == (
        "E07999999 is a well-formed statistical-geography key, but the registry holds no "
        "entry with it."
    )
    assert [m["key"] for m in body["close_matches"]] == ["E07000244", "E07000245", "E07000246"]
    assert body["search"] == "/search?q=E07999999"


@pytest.mark.django_db
def test_unknown_code_page_offers_a_search_and_close_matches(client):
    response = client.get(doc(UNKNOWN), HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert '<form class="inline" action="/search" method="get" role="search">' in html
    assert 'value="E07999999"' in html
    assert (
        '<a href="/doc/statistical-geography/E07000244"><code>E07000244</code> East Suffolk</a>'
        in html
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        (
            doc("XYZ"),
            400,
            "'XYZ' is not a well-formed key in the statistical-geography register: keys match "
            "the pattern ^[EWSNKLMJ]\\d{8}$.",
        ),
        ("/doc/no-such-register/E06000001", 404, "There is no register called 'no-such-register'."),
        (
            doc(TERMINATED, query="?date=2019-13-01"),
            400,
            "date must be a calendar date written YYYY-MM-DD, such as 2024-01-01; got '2019-13-01'.",
        ),
        (
            doc(TERMINATED, ".ttl", "?date=yesterday"),
            400,
            "date must be a calendar date written YYYY-MM-DD, such as 2024-01-01; got 'yesterday'.",
        ),
        ("/doc/change-event/1999-01-01-X", 404, "There is no change event '1999-01-01-X'."),
    ],
)
def test_bad_input_is_a_clear_4xx(client, path, status, detail):
    response = client.get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == status
    assert response.json()["detail"] == detail


@pytest.mark.django_db
def test_a_lower_case_code_redirects_to_the_canonical_one(client):
    response = client.get(doc(TERMINATED.lower(), ".ttl", "?date=2019-01-01"))
    assert response.status_code == 301
    assert response["Location"] == doc(TERMINATED, ".ttl", "?date=2019-01-01")


@pytest.mark.django_db
@pytest.mark.parametrize("key", [LIVE, TERMINATED, RENAMED])
@pytest.mark.parametrize("fmt", list(CONTENT_TYPES))
def test_every_format_by_suffix(client, key, fmt):
    # The suffix wins over an Accept header that asks for something else.
    response = client.get(doc(key, f".{fmt}"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    assert response["Link"] == f'<http://127.0.0.1:8000/id/{AREAS}/{key}>; rel="describes"'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        (BROWSER_ACCEPT, "html"),
        ("*/*", "html"),
        ("", "html"),
        ("text/html", "html"),
        ("application/json", "json"),
        ("application/ld+json", "jsonld"),
        ("text/turtle", "ttl"),
        ("application/rdf+xml", "rdf"),
        ("application/n-triples", "nt"),
        ("text/csv", "csv"),
        ("text/*", "html"),
        # Quality values count: the higher q wins, whatever the order or the renderer order.
        ("application/rdf+xml;q=0.5, text/turtle", "ttl"),
        ("text/html;q=0.1, application/ld+json;q=0.9", "jsonld"),
        ("text/html;q=0, */*", "json"),
        ("image/png, text/turtle;q=0.2", "ttl"),
    ],
)
@pytest.mark.parametrize("key", [LIVE, TERMINATED, RENAMED])
def test_every_format_by_accept(client, key, accept, fmt):
    response = client.get(doc(key), HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    assert "Accept" in response["Vary"]


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["image/png", "application/xml", "text/plain;q=1, */*;q=0"])
def test_an_accept_header_nothing_satisfies_is_406(client, accept):
    response = client.get(doc(TERMINATED), HTTP_ACCEPT=accept)
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Could not satisfy the request Accept header."}


@pytest.mark.django_db
@pytest.mark.parametrize("suffix", [".xyz", ".xml", ".turtle", ".HTML"])
def test_an_unknown_suffix_is_404(client, suffix):
    assert client.get(doc(TERMINATED, suffix)).status_code == 404


@pytest.mark.django_db
def test_terminated_code_answers_200_with_status_dates_successors_and_current_codes(client):
    data = client.get(doc(TERMINATED, ".json", "?date=2024-01-01")).json()
    assert (data["name"], data["status"], data["operative"], data["terminated"]) == (
        "Aylesbury Vale", "terminated", "2009-01-01", "2020-03-31",
    )  # fmt: skip
    assert data["date"] == "2024-01-01"
    assert [(s["key"], s["name"]) for s in data["successors"]] == [("E06000060", "Buckinghamshire")]
    [current] = data["current"]
    assert (current["key"], current["name"], [v["kind"] for v in current["via"]]) == (
        "E06000060", "Buckinghamshire", ["merge"],
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "date", "expected"),
    [
        # Either side of the merge: live on its last day, terminated the day after.
        (TERMINATED, "2020-03-31", {"status": "live", "name": "Aylesbury Vale"}),
        (TERMINATED, "2020-04-01", {"status": "terminated", "name": "Aylesbury Vale"}),
        (LIVE, "2020-03-31", {"status": None, "name": "Buckinghamshire"}),
        (LIVE, "2020-04-01", {"status": "live", "name": "Buckinghamshire"}),
        # Either side of the rename: same code, new name.
        (RENAMED, "2018-03-31", {"status": "live", "name": "Shepway"}),
        (RENAMED, "2018-04-01", {"status": "live", "name": "Folkestone and Hythe"}),
    ],
)
def test_date_shows_the_entry_as_at_that_day(client, key, date, expected):
    data = client.get(doc(key, ".json", f"?date={date}")).json()
    assert {"status": data["status"], "name": data["name"]} == expected
    assert data["date"] == date


@pytest.mark.django_db
def test_the_page_says_which_date_it_shows(client):
    html = client.get(doc(RENAMED, query="?date=2018-03-31")).content.decode()
    assert "<h1>Shepway</h1>" in html
    assert '<span class="secondary">as at 31 March 2018</span>' in html
    assert '<a href="/doc/statistical-geography/E07000112">Show as at today</a>' in html


@pytest.mark.django_db
def test_terminated_page_shows_status_successor_and_current_code(client):
    html = client.get(doc(TERMINATED, query="?date=2024-01-01")).content.decode()
    assert '<strong class="tag tag--terminated" id="status">terminated</strong>' in html
    assert "This code was terminated on 31 March 2020</h2>" in html
    assert (
        '<a href="/doc/statistical-geography/E06000060?date=2024-01-01">Buckinghamshire</a> '
        "<code>E06000060</code>"
    ) in html
    # The breadcrumb follows the nearest parent up: county, region, country, unions.
    assert html.index(">England<") < html.index(">South East<") < html.index(">Buckinghamshire<")


@pytest.mark.django_db
def test_uris_come_from_the_setting_not_the_host(client, settings):
    settings.REGISTRY_URI_BASE = "https://registry.example.org"
    response = client.get(doc(LIVE, ".json"), HTTP_HOST="localhost")
    assert (
        response.json()["uri"] == "https://registry.example.org/id/statistical-geography/E06000060"
    )
    assert response["Link"] == (
        '<https://registry.example.org/id/statistical-geography/E06000060>; rel="describes"'
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fmt", "cors"), [("json", "*"), ("ttl", "*"), ("csv", "*"), ("html", None)]
)
def test_caching_and_cors_headers(client, fmt, cors):
    response = client.get(doc(TERMINATED, f".{fmt}"))
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response.get("Access-Control-Allow-Origin") == cors
    assert response["ETag"].startswith('"') and response["Last-Modified"].endswith("GMT")


@pytest.mark.django_db
def test_conditional_requests_are_answered_304_without_rendering(client, monkeypatch):
    first = client.get(doc(TERMINATED, ".ttl", "?date=2024-01-01"))
    etag, modified = first["ETag"], first["Last-Modified"]

    def refuse(*args, **kwargs):
        raise AssertionError("a conditional request must not build the document")

    monkeypatch.setattr(entries, "describe", refuse)
    cache.clear()
    again = client.get(doc(TERMINATED, ".ttl", "?date=2024-01-01"), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""
    since = client.get(doc(TERMINATED, ".ttl", "?date=2024-01-01"), HTTP_IF_MODIFIED_SINCE=modified)
    assert since.status_code == 304


@pytest.mark.django_db
def test_validators_differ_by_format_date_and_entry(client):
    etags = {
        client.get(path)["ETag"]
        for path in [
            doc(TERMINATED, ".ttl"),
            doc(TERMINATED, ".json"),
            doc(TERMINATED, ".ttl", "?date=2019-01-01"),
            doc(LIVE, ".ttl"),
        ]
    }
    assert len(etags) == 4


@pytest.mark.django_db
def test_csv_document_is_one_row_of_facts(client):
    text = client.get(doc(TERMINATED, ".csv", "?date=2024-01-01")).content.decode()
    assert text.splitlines() == [
        "register,key,uri,name,name_cy,status,entity_type,operative,terminated,parents,"
        "governed_by,replaces,replaced_by,identifiers,date",
        "statistical-geography,E07000004,http://127.0.0.1:8000/id/statistical-geography/E07000004,"
        "Aylesbury Vale,,terminated,E07,2009-01-01,2020-03-31,"
        "country:E92000001 county:E10000002 region:E12000008,AYL,,E06000060,ons-legacy:11UB,2024-01-01",
    ]


@pytest.mark.django_db
def test_register_listing_filters_by_type_status_and_date(client):
    data = client.get(f"/doc/{AREAS}.json?type=E06&status=live&date=2024-01-01").json()
    assert (data["count"], data["pages"], data["filters"]) == (
        63,
        1,
        {"type": "E06", "status": "live"},
    )
    assert data["items"][0] == {
        "key": "E06000001",
        "uri": "http://127.0.0.1:8000/id/statistical-geography/E06000001",
        "name": "Hartlepool",
        "status": "live",
        "entity_type": "E06",
        "entity_type_name": "Unitary Authorities",
    }


@pytest.mark.django_db
def test_register_listing_by_parent_and_paging(client):
    # The county's districts (it has its 49 electoral divisions too, E58, since the CHD).
    bucks = client.get(f"/doc/{AREAS}.json?parent=E10000002&type=E07&date=2019-01-01").json()
    assert [i["key"] for i in bucks["items"]] == [
        "E07000004",
        "E07000005",
        "E07000006",
        "E07000007",
    ]
    page2 = client.get(f"/doc/{AREAS}.json?page=2").json()
    assert (page2["page"], page2["previous"], page2["next"]) == (
        2, "/doc/statistical-geography.json", "/doc/statistical-geography.json?page=3",
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("type=X99", "type must be an entity type code such as E06; 'X99' is not one."),
        ("status=dead", "status must be one of live, terminated; got 'dead'."),
        ("parent=NOPE", "parent must be the key of an entry; there is none called 'NOPE'."),
        ("page=0", "page must be a whole number from 1; got '0'."),
    ],
)
def test_register_listing_rejects_bad_filters(client, query, detail):
    response = client.get(f"/doc/{AREAS}.json?{query}")
    assert (response.status_code, response.json()["detail"]) == (400, detail)


@pytest.mark.django_db
def test_change_event_document_and_listing(client):
    event = client.get("/doc/change-event/2020-04-01-E06000060.json").json()
    assert (event["kind"], event["date"], event["instrument_title"]) == (
        "merge", "2020-04-01", "The Buckinghamshire (Structural Changes) Order 2019",
    )  # fmt: skip
    # The county too, now its succession is recorded.
    assert [p["key"] for p in event["predecessors"]] == [
        "E07000004", "E07000005", "E07000006", "E07000007", "E10000002",
    ]  # fmt: skip
    assert [s["key"] for s in event["successors"]] == ["E06000060"]
    merges = client.get("/doc/change-event.json?year=2020&kind=merge").json()
    assert "2020-04-01-E06000060" in [item["key"] for item in merges["items"]]
    assert client.get("/doc/change-event.json?kind=explosion").status_code == 400


@pytest.mark.django_db
def test_vocabulary_is_served_as_html_and_turtle(client):
    html = client.get("/def/")
    assert html["Content-Type"] == "text/html; charset=utf-8"
    assert '<tr id="governedBy"><td><code>governedBy</code></td>' in html.content.decode()
    turtle = client.get("/def/", HTTP_ACCEPT="text/turtle")
    assert turtle["Content-Type"] == "text/turtle; charset=utf-8"
    assert client.get("/def.ttl").content == turtle.content
