"""Entry and listing pages as at a date: the council named as it was then, the children
list dated and grouped, entity types by name, and the GOV.UK date fields."""

import re

import pytest
from django.core.cache import cache

SHEPWAY = "/doc/statistical-geography/E07000112"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def governed_by(html: str) -> str:
    found = re.search(r"<dt>Governed by</dt><dd>(.*?)</dd>", html, re.S)
    assert found, "no Governed by row"
    return text(found.group(1)).strip()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "date, council",
    [
        ("2018-03-31", "Shepway District Council SHE"),
        ("2018-04-01", "Folkestone and Hythe District Council SHE"),
        ("2024-01-01", "Folkestone and Hythe District Council SHE"),
    ],
)
def test_council_is_named_as_it_was_on_the_date(client, date, council):
    response = client.get(f"{SHEPWAY}?date={date}")
    assert response.status_code == 200
    assert governed_by(response.content.decode()) == council


@pytest.mark.django_db
def test_council_former_name_has_its_valid_range(client):
    names = client.get("/doc/local-authority/SHE.json").json()["names"]
    official = sorted(
        (n["text"], n["valid_from"], n["valid_to"])
        for n in names
        if n["language"] == "en" and n["kind"] == "official"
    )
    assert official == [
        ("Folkestone and Hythe District Council", "2018-04-01", None),
        ("Shepway District Council", "2009-01-01", "2018-03-31"),
    ]
    page = client.get("/doc/local-authority/SHE?date=2017-06-01").content.decode()
    assert "<h1>Shepway District Council" in page


@pytest.mark.django_db
def test_children_of_a_terminated_district_say_their_date_and_are_grouped(client):
    html = client.get("/doc/statistical-geography/E07000004?date=2024-01-01").content.decode()
    heading = re.search(r'<h2 id="children">(.*?)</h2>', html).group(1)
    assert heading == "Within this area on 31 March 2020 (172)"
    assert "This area was last in use on 31 March 2020" in html
    groups = re.findall(r"<h3>(.*?)</h3>", html)
    assert groups[0].startswith("In use on 1 January 2024 (")
    chosen = re.search(r'aria-current="true">[^<]*<code>(\w+)</code> \((\d+)\)', html)
    assert chosen.groups() == ("E01", "115")
    assert "In use on 1 January 2024 (108)" in html
    # Live ones first, in code order; the last page ends with the former ones.
    last = client.get("/doc/statistical-geography/E07000004?date=2024-01-01&page=3").content
    last = last.decode()
    assert "Page 3 of 3" in last
    live = re.search(r'<ul class="children children--live">(.*?)</ul>', last, re.S).group(1)
    former = re.search(r'<ul class="children children--former">(.*?)</ul>', last, re.S).group(1)
    assert (live.count("<li>"), former.count("<li>")) == (8, 7)
    assert "No longer in use on 1 January 2024 (7)" in last
    for code in re.findall(r"<code>(E01\d+)</code>", former):
        status = client.get(f"/doc/statistical-geography/{code}.json?date=2024-01-01").json()
        assert status["status"] == "terminated"


@pytest.mark.django_db
def test_children_of_a_live_area_are_on_the_page_date(client):
    html = client.get(f"{SHEPWAY}?date=2019-01-01").content.decode()
    assert (
        re.search(r'<h2 id="children">(.*?)</h2>', html)
        .group(1)
        .startswith("Within this area on 1 January 2019 (")
    )
    assert "This area was last in use" not in html


@pytest.mark.django_db
def test_parents_are_named_by_hierarchy_label_without_stray_spaces(client):
    html = client.get("/doc/statistical-geography/E01000001").content.decode()
    assert "<li>MSOA: <a " in html
    assert "Msoa:" not in html
    page = client.get("/doc/statistical-geography/E07000004?date=2024-01-01").content.decode()
    assert re.search(r"</code>\s+[.,]", page) is None
    assert "<code>E06000060</code>.</p>" in page


@pytest.mark.django_db
def test_listing_shows_entity_types_by_name_with_code(client):
    html = client.get("/doc/statistical-geography?type=W06&date=2024-01-01").content.decode()
    assert '<option value="W06" selected>Welsh principal area (W06)</option>' in html
    assert "<td>Welsh principal area <code>W06</code></td>" in html
    # A type with no singular label keeps the Register of Geographic Codes' name.
    assert '<option value="E56">Cancer Alliances (E56)</option>' in html
    assert ">W06</option>" not in html


@pytest.mark.django_db
def test_date_fields_show_the_date_and_are_read_like_date(client):
    by_fields = client.get(f"{SHEPWAY}?date-day=1&date-month=1&date-year=2018")
    by_date = client.get(f"{SHEPWAY}?date=2018-01-01")
    assert by_fields.status_code == by_date.status_code == 200
    html = by_fields.content.decode()
    assert governed_by(html) == "Shepway District Council SHE"
    assert (
        '<input class="input input--width-2" id="date-day" name="date-day" type="text" inputmode="numeric" value="1">'
        in html
    )
    assert 'id="date-year" name="date-year" type="text" inputmode="numeric" value="2018">' in html
    assert '<legend class="fieldset__legend">Show as at date</legend>' in html
    assert 'type="date"' not in html
    # Links from the page carry the date in the one form URIs use.
    assert 'href="/doc/local-authority/SHE?date=2018-01-01"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, got",
    [
        ("date-day=31&date-month=2&date-year=2018", "'2018-02-31'"),
        ("date-day=1&date-month=&date-year=2018", "'2018--1'"),
        ("date-day=x&date-month=1&date-year=2018", "'2018-1-x'"),
        ("date=2018-02-31", "'2018-02-31'"),
    ],
)
def test_bad_date_fields_get_the_api_message(client, query, got):
    response = client.get(f"{SHEPWAY}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    message = f"date must be a calendar date written YYYY-MM-DD, such as 2024-01-01; got {got}."
    assert message in text(response.content.decode()).replace("&#x27;", "'")
    api = client.get(f"/api/v1/entries/statistical-geography/E07000112/?date={got[1:-1]}")
    assert api.status_code == 400


@pytest.mark.django_db
def test_empty_date_fields_mean_today(client):
    response = client.get(f"{SHEPWAY}?date-day=&date-month=&date-year=")
    assert response.status_code == 200
    assert "Show as at today" not in response.content.decode()
