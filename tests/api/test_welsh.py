"""The Welsh interface: ?lang=cy (then a cookie) answers pages, form errors and 404s in
Welsh with lang="cy", Welsh names first; the persistent URIs are unchanged."""

import re

import pytest
from django.core.cache import cache

CARDIFF = "/doc/statistical-geography/W06000015"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def main(html: str) -> str:
    found = re.search(r'<main id="main">(.*)</main>', html, re.S).group(1)
    return re.sub(r"\s+", " ", found)


@pytest.mark.django_db
def test_entry_page_in_welsh_with_welsh_name_first(client):
    response = client.get(f"{CARDIFF}?lang=cy&date=2024-01-01")
    assert response.status_code == 200
    assert response["Content-Language"] == "cy"
    assert "Cookie" in response["Vary"]
    assert response.cookies["registry_language"].value == "cy"
    html = response.content.decode()
    assert '<html lang="cy">' in html
    assert (
        '<h1><span lang="cy">Caerdydd</span> <span lang="en" class="secondary">/ Cardiff</span></h1>'
        in html
    )
    assert '<span class="secondary">fel yr oedd ar 1 Ionawr 2024</span>' in html
    assert "<dt>Cod</dt>" in html and "<dt>Enw</dt>" in html and "<dt>Statws</dt>" in html
    assert '<legend class="fieldset__legend">Dangos fel yr oedd ar ddyddiad</legend>' in html
    assert '<label for="date-day">Diwrnod</label>' in html
    assert '<a href="/search">Chwilio</a>' in html
    # The switch back to English keeps the rest of the query.
    assert (
        f'<a href="{CARDIFF}?lang=en&amp;date=2024-01-01" hreflang="en" lang="en">English</a>'
        in html
    )
    # The cookie keeps Welsh on the next page, without ?lang=.
    again = client.get("/doc/statistical-geography/W06000014").content.decode()
    assert '<html lang="cy">' in again


@pytest.mark.django_db
def test_english_is_the_default_and_offers_cymraeg(client):
    response = client.get(f"{CARDIFF}?date=2024-01-01")
    html = response.content.decode()
    assert response["Content-Language"] == "en-GB"
    assert '<html lang="en-GB">' in html
    assert '<h1>Cardiff <span lang="cy" class="secondary">/ Caerdydd</span></h1>' in html
    assert 'hreflang="cy" lang="cy">Cymraeg</a>' in html
    assert "<dt>Code</dt>" in html


@pytest.mark.django_db
def test_welsh_and_english_bodies_are_cached_apart(client):
    english = client.get(f"{CARDIFF}?date=2024-01-01")
    welsh = client.get(f"{CARDIFF}?date=2024-01-01", HTTP_COOKIE="registry_language=cy")
    assert english["ETag"] != welsh["ETag"]
    assert '<html lang="cy">' in welsh.content.decode()
    assert '<html lang="en-GB">' in english.content.decode()


@pytest.mark.django_db
def test_form_error_in_welsh(client):
    response = client.get(f"{CARDIFF}?lang=cy&date-day=31&date-month=2&date-year=2018")
    assert response.status_code == 400
    html = response.content.decode()
    assert '<html lang="cy">' in html
    assert "<h1>Mae problem gyda’r cais</h1>" in main(html)
    assert (
        "<p>Rhaid i’r dyddiad fod yn ddyddiad calendr ar y ffurf BBBB-MM-DD, fel 2024-01-01; "
        "cafwyd &#x27;2018-02-31&#x27;.</p>" in html
    )


@pytest.mark.django_db
def test_404_in_welsh(client):
    response = client.get("/doc/statistical-geography/W06999999?lang=cy")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="cy">' in html
    assert "<title>Heb ei ganfod – Cofrestr Cyfeirnodau</title>" in html
    assert "<h1>Heb ddod o hyd i’r dudalen</h1>" in html
    assert (
        "Mae W06999999 yn allwedd ddilys yng nghofrestr statistical-geography, ond nid oes "
        "gan y gofrestr gofnod â’r allwedd honno." in html
    )
    assert '<label for="q">Enw neu god</label>' in html


@pytest.mark.django_db
def test_persistent_uris_are_unchanged_in_welsh(client):
    response = client.get("/id/statistical-geography/W06000015?lang=cy")
    assert response.status_code == 303
    assert response["Location"].endswith("/doc/statistical-geography/W06000015?lang=cy")
    data = client.get(f"{CARDIFF}.json?lang=cy&date=2024-01-01").json()
    assert (data["name"], data["name_cy"]) == ("Cardiff", "Caerdydd")


def test_catalogue_is_compiled_and_complete():
    """Every message has a Welsh translation, and the committed .mo is compiled from the
    .po as it is (run bin/compile-messages after editing)."""
    import gettext
    from pathlib import Path

    folder = Path(__file__).parents[2] / "locale/cy/LC_MESSAGES"
    po = (folder / "django.po").read_text("utf-8")
    # An empty msgstr not continued on the next line (the header's is) is untranslated.
    assert re.findall(r'^msgstr ""\n(?!")', po, re.M) == []
    with (folder / "django.mo").open("rb") as handle:
        mo = gettext.GNUTranslations(handle)
    ids = re.findall(r'^(?:msgctxt "(.*)"\n)?msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', po, re.M)
    pairs = [
        (context, *("".join(re.findall(r'"(.*)"', part)).replace('\\"', '"') for part in pair))
        for context, *pair in ids
    ]
    pairs = [(context, msgid, msgstr) for context, msgid, msgstr in pairs if msgid]
    assert len(pairs) > 80
    for context, msgid, msgstr in pairs:
        found = mo.pgettext(context, msgid) if context else mo.gettext(msgid)
        assert found == msgstr, msgid
    # Plural messages: every form translated, and the .mo holds them.
    plurals = re.findall(r'^msgid ".*"\nmsgid_plural ".*"\n((?:msgstr\[\d\] ".*"\n?)+)', po, re.M)
    assert plurals
    for forms in plurals:
        assert '""' not in forms
