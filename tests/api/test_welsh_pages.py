"""Every public page type in Welsh (?lang=cy): no interface text left in English. Each page's
text nodes are compared with the catalogue's English messages (a text node that is exactly
a message whose Welsh differs is an untranslated string), and a few exact Welsh strings are
asserted per page."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.cache import cache

PO = Path(__file__).parents[2] / "locale/cy/LC_MESSAGES/django.po"


def english_messages() -> set[str]:
    """The catalogue's English messages without placeholders or markup whose Welsh is
    different (codes and names such as "URI" or "SPARQL" read the same in both)."""
    po = PO.read_text("utf-8")
    found = set()
    for block in po.split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        english = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        welsh = "".join(re.findall(r'"(.*)"', msgstr.group(1)))
        if english and english != welsh and "%(" not in english and "<" not in english:
            found.add(english.replace('\\"', '"'))
    return found


class Texts(HTMLParser):
    """The text nodes of a page and its attributes people read (labels, placeholders)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.skip = 0
        self.skipped: list[str] = []

    def handle_starttag(self, tag, attrs):
        # Code, text marked as in English (the switch to English, an English name), and the
        # names of linked areas and councils: data, named in Welsh where they have a Welsh
        # name (asserted page by page), else by their own name ("England and Wales").
        href = dict(attrs).get("href") or ""
        named = tag == "a" and href.startswith(
            ("/doc/statistical-geography/", "/doc/local-authority/")
        )
        if tag in {"script", "style", "code", "pre"} or ("lang", "en") in attrs or named:
            self.skip += 1
            self.skipped.append(tag)
        for name, value in attrs:
            if name in {"aria-label", "placeholder", "title", "alt"} and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if self.skipped and self.skipped[-1] == tag:
            self.skipped.pop()
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and data.strip():
            self.texts.append(re.sub(r"\s+", " ", data.strip()))


PAGES = [
    ("/", ["Cofrestrau", "Ardaloedd byw ar", "Awdurdod unedol"]),
    ("/search?q=cardiff", ["Chwilio’r gofrestr", "Prif ardal yng Nghymru", "Caerdydd"]),
    (
        "/doc/statistical-geography?type=W06&date=2024-01-01",
        ["Hidlo", "Prif ardal yng Nghymru", "Caerdydd"],
    ),
    (
        "/doc/statistical-geography/W06000015?date=2024-01-01",
        ["Briwsion bara", "Prif ardal yng Nghymru", "Gwlad:"],
    ),
    (
        "/doc/statistical-geography/W05001018?date=2024-01-01",
        ["Ardal awdurdod lleol:", "Ward etholiadol"],
    ),
    (
        "/doc/statistical-geography/E07000004?date=2024-01-01",
        ["Daeth y cod hwn i ben ar 31 Mawrth 2020", "drwy uno ar 1 Ebrill 2020"],
    ),
    ("/doc/statistical-entity/W06", ["Ardaloedd o’r math hwn", "Rhestru’r ardaloedd o’r math W06"]),
    ("/doc/local-authority", ["Awdurdodau lleol (cynghorau)"]),
    ("/doc/change-event?year=2020&kind=merge", ["Digwyddiadau newid", "Uno"]),
    (
        "/doc/change-event/2020-04-01-E06000060",
        ["Digwyddiad newid", "Uno ar 1 Ebrill 2020", "Ar ôl"],
    ),
    ("/downloads", ["Disgrifiad o’r set ddata", "Trwydded Llywodraeth Agored v3.0"]),
    ("/about", ["Ynghylch y gofrestr", "Fformatau"]),
    ("/sparql", ["Rhedeg yr ymholiad", "Enghreifftiau"]),
    ("/api/v1/check/", ["Gwirio ffeil o godau", "Diwrnod", "Gwirio’r ffeil"]),
    ("/doc/statistical-geography/W06999999", ["Heb ddod o hyd i’r dudalen"]),
    (
        "/doc/statistical-geography?status=dead",
        ["Rhaid i’r maes ‘statws’ fod yn un o live, terminated; cafwyd &#x27;dead&#x27;."],
    ),
]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def untranslated(html: str, english: set[str]) -> list[str]:
    parser = Texts()
    parser.feed(html)
    return sorted({text for text in parser.texts if text in english})


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "welsh"), PAGES)
def test_every_public_page_is_in_welsh(client, path, welsh):
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}lang=cy")
    html = response.content.decode()
    assert '<html lang="cy">' in html
    for text in welsh:
        assert text in html, text
    assert untranslated(html, english_messages()) == []


@pytest.mark.django_db
def test_the_checked_page_is_in_welsh(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("areas.csv", b"code\nW06000015\nE07000004\nXYZ\n", "text/csv")
    response = client.post(
        "/api/v1/check/?lang=cy",
        {"file": upload, "column": "code", "via": "form", "date-day": "1", "date-month": "1",
         "date-year": "2024"},
    )  # fmt: skip
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mae eich ffeil wedi’i gwirio: 3 rhes" in html
    assert "Fel yr oedd ar 1 Ionawr 2024." in html
    assert "Beth a ganfu’r gwiriad" in html
    assert "<dt>Wedi’u paru</dt>" in html and "<dt>Anhysbys</dt>" in html
    # The first rows are the checked file itself, whose added cells are data in the API's
    # own words (registry_status "live"), the same in either language.
    rows = re.search(r'<div class="table-scroll".*?</table>', html, re.S)
    assert rows is not None
    outside = html.replace(rows.group(0), "")
    assert untranslated(outside, english_messages()) == []


@pytest.mark.django_db
def test_the_checkers_date_fields_are_refused_as_a_pages_are(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("areas.csv", b"code\nW06000015\n", "text/csv")
    response = client.post(
        "/api/v1/check/?lang=cy",
        {"file": upload, "column": "code", "via": "form", "date-day": "31", "date-month": "2",
         "date-year": "2018"},
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        "Rhaid i’r dyddiad fod yn ddyddiad calendr ar y ffurf BBBB-MM-DD, fel 2024-01-01; "
        "cafwyd &#x27;2018-02-31&#x27;." in html
    )
    assert 'id="date-day" name="date-day" type="text" inputmode="numeric" value="31"' in html


def test_the_crawl_would_catch_an_untranslated_string():
    html = "<main><h2>What the check found</h2><p>Beth a ganfu’r gwiriad</p></main>"
    assert untranslated(html, english_messages()) == ["What the check found"]


def test_every_translate_tag_of_the_templates_is_in_the_catalogue():
    """A ``{% translate "…" %}`` added without running makemessages would be English on a
    Welsh page: each literal one (and each ``_("…")`` argument) is a catalogue message."""
    templates = Path(__file__).parents[2] / "api/templates/api"
    po = PO.read_text("utf-8")
    messages = {
        "".join(re.findall(r'"(.*)"', found)).replace('\\"', '"')
        for found in re.findall(r'^msgid ((?:".*"\n)+)', po, re.M)
    }
    literal = re.compile(
        r"""\{% translate (["'])(.+?)\1(?: context ["'].+?["'])? %\}|_\((["'])(.+?)\3\)"""
    )
    wanted = set()
    for template in templates.glob("*.html"):
        for match in literal.finditer(template.read_text("utf-8")):
            wanted.add(match.group(2) or match.group(4))
    assert len(wanted) > 100
    assert sorted(wanted - messages) == []
