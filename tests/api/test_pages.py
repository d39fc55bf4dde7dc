"""The registry's own pages: front page and its chart, search, about and downloads."""

import re

import pytest
from django.core.cache import cache
from django.db.models import Count

from api.pages import chart
from registry.models import Entry


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.mark.django_db
def test_front_page_counts_and_change_chart(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    # One small chart per kind of change, each an image with no links inside it (axe's
    # nested-interactive rule); the links to each year's changes are beside it.
    assert '<svg role="img" aria-labelledby="chart-merge-title"' in html
    # (The overview map, whose links are inside it, is not an image: tests/api/test_maps.py.)
    svgs = re.findall(r'<svg role="img".*?</svg>', html, re.S)
    assert len(svgs) == len(re.findall(r'<h3 id="chart-', html)) >= 5
    assert len(re.findall(r"<svg ", html)) == len(svgs) + 1
    assert not any("<a " in svg for svg in svgs)
    merges = re.search(r'<ul class="chart-links" aria-label="Merge by year">(.*?)</ul>', html, re.S)
    assert '<a href="/doc/change-event?year=2020&amp;kind=merge">2020: 2</a>' in merges.group(1)
    # The axis starts at the first year the data holds.
    first = min(
        r["year"]
        for r in client.get("/", HTTP_ACCEPT="application/json").json()["changes_by_year_and_kind"]
    )
    assert f'<h2 id="changes">Code changes by year, {first} to ' in html
    assert "since\n  2009" not in html
    data = client.get("/", HTTP_ACCEPT="application/json").json()
    # Buckinghamshire's districts, and their councils, merged on 2020-04-01.
    assert {"year": 2020, "kind": "merge", "n": 2} in data["changes_by_year_and_kind"]
    assert {r["slug"]: r["entries"] for r in data["registers"]} == dict(
        Entry.objects.values_list("register__slug").annotate(n=Count("id")).order_by()
    )


@pytest.mark.django_db
def test_the_chart_links_reach_the_same_counts(client):
    data = client.get("/", HTTP_ACCEPT="application/json").json()
    row = next(
        r for r in data["changes_by_year_and_kind"] if (r["year"], r["kind"]) == (2021, "split")
    )
    listed = client.get("/doc/change-event.json?year=2021&kind=split").json()
    assert listed["count"] == row["n"]


def test_chart_geometry_gives_each_kind_its_own_scale():
    counts = [
        {"year": 2019, "kind": "merge", "n": 2},
        {"year": 2019, "kind": "split", "n": 3},
        {"year": 2021, "kind": "split", "n": 1088},
        {"year": 2021, "kind": "recode", "n": 10},
    ]
    drawn = chart(counts, width=300, height=64)
    assert (drawn["first_year"], drawn["last_year"]) == (2019, 2021)
    assert [y["year"] for y in drawn["years"]] == [2019, 2020, 2021]
    panels = {p["kind"]: p for p in drawn["panels"]}
    assert list(panels) == ["recode", "merge", "split"]  # in the legend's order
    assert [(b["year"], b["n"]) for b in panels["split"]["bars"]] == [
        (2019, 3),
        (2020, 0),
        (2021, 1088),
    ]
    # Each row is scaled to its own largest year: the 2 merges of 2019 and the 10 recodes of
    # 2021 are full height, as tall as the 1,088 splits.
    full = panels["split"]["bars"][2]["h"]
    assert panels["merge"]["bars"][0]["h"] == panels["recode"]["bars"][2]["h"] == full
    # A small year is still drawn (at least a pixel), an empty one not at all.
    assert panels["split"]["bars"][0]["h"] >= 1.0
    assert panels["split"]["bars"][1]["h"] == 0.0
    assert chart([])["panels"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("caerdydd", "W06000015"),
        ("CAERDYDD", "W06000015"),
        ("  Caerdydd ", "W06000015"),
        ("ynys mon", "W06000001"),
        ("Ynys Môn", "W06000001"),
        ("YNYS-MON", "W06000001"),
        ("isle of anglesey", "W06000001"),
        ("kings lynn", "E07000146"),
        ("King's Lynn and West Norfolk", "E07000146"),
        ("brighton & hove", "E06000043"),
        ("00CN", "E08000025"),
        ("GB-BIR", "BIR"),
        ("gb-bir", "BIR"),
        ("aylesbury vale", "E07000004"),
        # A former name still finds its entry; a name in use today comes first.
        ("shepway", "E05015612"),
    ],
)
def test_search_tolerates_case_accents_punctuation_and_schemes(client, query, first):
    results = client.get("/search", {"q": query}, HTTP_ACCEPT="application/json").json()["results"]
    assert results[0]["key"] == first


@pytest.mark.django_db
def test_search_finds_former_names(client):
    results = client.get("/search.json", {"q": "shepway"}).json()["results"]
    assert [(r["key"], r["name"], r["matched"]) for r in results[:2]] == [
        ("E05015612", "Shepway", None),
        ("E07000112", "Folkestone and Hythe", "Shepway"),
    ]


@pytest.mark.django_db
def test_search_finds_a_word_inside_a_name(client):
    results = client.get("/search.json", {"q": "hythe"}).json()["results"]
    assert "E07000112" in [r["key"] for r in results]


@pytest.mark.django_db
def test_search_for_an_exact_code_goes_to_its_page(client):
    response = client.get("/search", {"q": "e07000004"})
    assert (response.status_code, response["Location"]) == (
        302,
        "/doc/statistical-geography/E07000004",
    )


@pytest.mark.django_db
def test_a_word_spelt_like_a_council_code_is_searched_for_not_redirected(client):
    # "NEW" is New Forest District Council's code; "new" is the start of many names.
    assert client.get("/search", {"q": "NEW"})["Location"] == "/doc/local-authority/NEW"
    response = client.get("/search", {"q": "new"})
    assert response.status_code == 200
    assert "New Forest" in response.content.decode()


@pytest.mark.django_db
def test_search_page_lists_matches_and_says_when_there_are_none(client):
    html = client.get("/search", {"q": "caerdydd"}).content.decode()
    assert '<a href="/doc/statistical-geography/W06000015">Cardiff</a>' in html
    assert "(matched “Caerdydd”)" in html
    none = client.get("/search", {"q": "zzzzqqq"}).content.decode()
    assert "No results for “zzzzqqq”" in none
    assert (
        client.get("/search", {"q": "x" * 201}, HTTP_ACCEPT="application/json").status_code == 400
    )


@pytest.mark.django_db
def test_about_page_explains_and_points_to_the_apis(client):
    html = client.get("/about").content.decode()
    assert '<a href="/api/v1/">lookup API</a>' in html
    assert '<a href="/reconcile">reconciliation service</a>' in html
    assert "<code>/id/statistical-geography/E06000001</code>" in html
    assert "<td><code>.ttl</code></td><td><code>text/turtle</code></td>" in html


@pytest.mark.django_db
def test_downloads_page_links_every_register(client):
    html = client.get("/downloads").content.decode()
    for register in ["local-authority", "statistical-entity", "statistical-geography"]:
        assert f'<a href="/downloads/{register}.csv.gz" download>' in html
        assert f'<a href="/downloads/{register}.nt.gz" download>' in html
    assert '<a href="/.well-known/void">' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/doc/statistical-geography/E07000004",
        "/doc/statistical-geography/E92000001",
        "/doc/statistical-entity/E06",
        "/doc/local-authority/BIR",
        "/doc/change-event/2020-04-01-E06000060",
        "/doc/statistical-geography?type=E06",
        "/doc/change-event?year=2021",
        "/def/",
        "/",
        "/search?q=cardiff",
        "/about",
        "/downloads",
    ],
)
def test_pages_are_accessible_html(client, path):
    html = client.get(path).content.decode()
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="en-GB">' in html
    assert '<a href="#main" class="skip-link">Skip to main content</a>' in html
    assert html.count("<h1") == 1
    assert '<main id="main">' in html
    # Every form control has a label.
    for control in re.findall(r'<(?:input|select)[^>]*id="([^"]+)"', html):
        assert f'<label for="{control}">' in html, control


@pytest.mark.django_db
def test_entry_page_shows_children_by_type_with_paging(client):
    html = client.get("/doc/statistical-geography/E09000002?date=2024-01-01").content.decode()
    assert '<h2 id="children">' in html
    page2 = client.get(
        "/doc/statistical-geography/E09000002?date=2024-01-01&children=E01&page=2"
    ).content.decode()
    assert "Page 2 of" in page2
