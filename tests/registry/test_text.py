"""Table tests of the one text normaliser (registry/text.py), and that everything that
matches names (the indexed ``Name.folded``, site search, reconciliation) agrees with it."""

import importlib
import re

import pytest
from django.apps import apps

from api.pages import search
from api.reconcile import index, matching
from geography.names import forms
from registry.models import Name, NameWord, Register
from registry.queries import today
from registry.services import Actor, current_snapshot, save_entry
from registry.text import INVERTED_HEADS, fold, later_words, prefixes

refold_names = importlib.import_module("registry.migrations.0005_refold_names")
name_words = importlib.import_module("registry.migrations.0006_name_words")

FOLDED = re.compile(r"(?:[0-9a-z]+(?: [0-9a-z]+)*)?")

CASES = [
    # Case and accents, Welsh diacritics.
    ("Ynys Môn", "ynys mon"),
    ("YNYS MON", "ynys mon"),
    ("Gŵyr", "gwyr"),
    ("Tŷ Du", "ty du"),
    ("Pen-y-fâl", "pen y fal"),
    ("Steòrnabhagh a Deas", "steornabhagh a deas"),
    ("Ｈａｒｔｌｅｐｏｏｌ", "hartlepool"),  # full-width letters
    # Mojibake: UTF-8 read as Windows-1252, as in some ONS files.
    ("Ynys MÃ´n", "ynys mon"),
    ("GÅµyr", "gwyr"),
    ("Twyn Bryn-hÃ®r", "twyn bryn hir"),
    ("TÅ·-croes", "ty croes"),
    ("LlandÅµ/Ewenni", "llandw ewenni"),
    ("Sir Ynys Mï¿½n", "sir ynys mn"),  # a lost letter: the word stays one word
    ("Bro MorgannwgÃ", "bro morgannwga"),  # does not decode: only accents folded
    # Letters that do not decompose.
    ("Straße", "strasse"),
    ("Ærø", "aero"),
    ("Łódź", "lodz"),
    ("Đakovo", "dakovo"),
    ("Þórshöfn", "thorshofn"),
    ("Œuvre", "oeuvre"),
    # Abbreviations read as words.
    ("St. Helens", "saint helens"),
    ("St Helens", "saint helens"),
    ("Saint Helens", "saint helens"),
    ("Bury St Edmunds", "bury saint edmunds"),
    ("Ste Marie", "sainte marie"),
    ("Mt Pleasant", "mount pleasant"),
    ("brent london boro", "brent london borough"),
    ("Stevenage", "stevenage"),  # only whole words
    # "&", "+" and "and".
    ("Brighton & Hove", "brighton and hove"),
    ("Brighton and Hove", "brighton and hove"),
    ("Brighton + Hove", "brighton and hove"),
    ("Brighton&Hove", "brighton and hove"),
    ("&", "and"),
    # Hyphens and dashes separate words.
    ("Newcastle-under-Lyme", "newcastle under lyme"),
    ("Newcastle–under–Lyme", "newcastle under lyme"),  # en dashes
    ("Stratford—on—Avon", "stratford on avon"),  # em dashes
    # Apostrophes of every kind join.
    ("King's Lynn", "kings lynn"),
    ("King’s Lynn", "kings lynn"),
    ("King‘s Lynn", "kings lynn"),
    ("King`s Lynn", "kings lynn"),
    ("King´s Lynn", "kings lynn"),
    ("Kingʼs Lynn", "kings lynn"),
    ("ST HELEN’S", "saint helens"),
    # Spaces and punctuation at either end or doubled.
    ("  Hartlepool   Borough  ", "hartlepool borough"),
    ("...Hartlepool!!", "hartlepool"),
    ("(Hartlepool)", "hartlepool"),
    ("Armagh City, Banbridge and Craigavon", "armagh city banbridge and craigavon"),
    ("Hartlepool 001A", "hartlepool 001a"),
    ("E06000001", "e06000001"),
    # Invisible characters: a no-break or zero-width space is a space; a soft hyphen, joiner
    # or byte order mark joins.
    ("Ynys\u00a0Môn", "ynys mon"),
    ("Ynys\u200bMôn", "ynys mon"),
    ("Llan\u00adfair", "llanfair"),
    ("Caer\u200ddydd", "caerdydd"),
    ("\ufeffHartlepool", "hartlepool"),
    # Inverted ONS forms turned round, with or without the comma.
    ("Bristol, City of", "city of bristol"),
    ("bristol city of", "city of bristol"),
    ("City of Bristol", "city of bristol"),
    ("Edinburgh (City of)", "city of edinburgh"),
    ("Kingston upon Hull, City of", "city of kingston upon hull"),
    ("Herefordshire, County of", "county of herefordshire"),
    ("Vale of Glamorgan, The", "the vale of glamorgan"),
    ("Kensington and Chelsea, Royal Borough of", "royal borough of kensington and chelsea"),
    ("Kensington and Chelsea, Royal Boro of", "royal borough of kensington and chelsea"),
    ("Cardiff, City & County of", "city and county of cardiff"),
    ("Birmingham, Edgbaston", "birmingham edgbaston"),
    ("City of London", "city of london"),
    ("City of", "city of"),  # nothing but a head: left alone
    ("the city of", "the city of"),
    ("x, City of, City of", "city of city of x"),
    # Empty and punctuation only: never an error.
    ("", ""),
    ("   ", ""),
    ("-", ""),
    ("'", ""),
    ("!!!", ""),
    ("\u200b", ""),
    ("\x00", ""),
    ("\ufffd", ""),
    ("\ud800", ""),  # a lone surrogate
    ("Ã\ud800", "a"),
]


@pytest.mark.parametrize(("text", "folded"), CASES)
def test_fold(text, folded):
    assert fold(text) == folded
    # One normaliser: reconciliation's full form is the folded name.
    assert forms(text).full == folded
    # Only [0-9a-z] words and single spaces (the prefix index relies on it); a fixed point.
    assert FOLDED.fullmatch(folded)
    assert fold(folded) == folded


@pytest.mark.parametrize(
    ("text", "starts"),
    [
        ("", ("",)),
        ("!!", ("",)),
        ("bristol", ("bristol", *(f"{head} bristol" for head in INVERTED_HEADS))),
        # An abbreviation last may be an unfinished word: "ste" may begin "Stevenage".
        (
            "ste",
            (
                "sainte",
                "ste",
                *(f"{head} sainte" for head in INVERTED_HEADS),
                *(f"{head} ste" for head in INVERTED_HEADS),
            ),
        ),
        ("St Hel", ("saint hel", *(f"{head} saint hel" for head in INVERTED_HEADS))),
    ],
)
def test_prefixes(text, starts):
    assert prefixes(text) == starts
    assert prefixes(text)[0] == fold(text)


@pytest.mark.parametrize(
    ("folded", "tails"),
    [
        ("", []),
        ("hartlepool", []),
        ("felixstowe north", ["north"]),
        ("city of bristol", ["of bristol", "bristol"]),
        ("hartlepool 009a", ["009a"]),
        (
            "saint ives east lelant and carbis bay",
            ["ives east lelant and carbis bay", "east lelant and carbis bay",
             "lelant and carbis bay", "and carbis bay", "carbis bay", "bay"],
        ),
    ],
)  # fmt: skip
def test_later_words(folded, tails):
    assert later_words(folded) == tails
    # A folded name contains " query" exactly when a tail starts with the query.
    for query in ("bay", "carb", "north", "of", "hartlepool", "lant"):
        assert (f" {query}" in folded) == any(t.startswith(query) for t in tails)


# --------------------------------------------------------------------------- database

TRICKY = "TÅµr St. Hildaâ€™s, City of"  # mojibake, an abbreviation, an apostrophe, inverted
TYPED = "City of Tŵr Saint Hilda's"


def test_a_saved_name_is_folded_and_search_and_reconciliation_agree(db, django_user_model):
    areas = Register.objects.get(slug="statistical-geography")
    hartlepool = areas.entries.get(key="E06000001")
    snapshot = current_snapshot(hartlepool)
    snapshot["names"].append(["en", "alternative", TRICKY, "2009-01-01", None])
    curator = django_user_model.objects.create_user("tess", password="a-long-test-password")
    save_entry(areas, "E06000001", snapshot, Actor(user=curator, reason="Testing folding"))

    assert Name.objects.get(entry=hartlepool, text=TRICKY).folded == fold(TRICKY)
    assert fold(TRICKY) == fold(TYPED) == "city of twr saint hildas"
    # A name saved one by one is folded too.
    for text, _ in CASES[:20]:
        assert Name.objects.create(entry=hartlepool, text=text).folded == fold(text)

    day = today()
    found = search(TYPED, day)
    assert (found[0]["key"], found[0]["matched"]) == ("E06000001", TRICKY)
    result = matching.Matcher(index.current(), day).reconcile(matching.Query(TYPED, None, 10, []))
    first = result.candidates[0]
    assert (first.record.key, first.match) == ("E06000001", True)


def test_the_refold_migration_mends_stale_folded_names(db):
    # (The loader repairs mojibake now, so a name as published with it is made here.)
    Name.objects.filter(text="Bristol, City of").update(folded="bristol city of")
    gwyr = Name.objects.filter(text="Gŵyr").first()
    Name.objects.filter(pk=gwyr.pk).update(text="GÅµyr", folded="ga yr")
    refold_names.forwards(apps, None)
    assert set(
        Name.objects.filter(text__in=["Bristol, City of", "GÅµyr"]).values_list("text", "folded")
    ) == {("Bristol, City of", "city of bristol"), ("GÅµyr", "gwyr")}


def test_search_finds_a_later_word_a_curator_wrote_and_forgets_the_one_removed(
    db, django_user_model
):
    areas = Register.objects.get(slug="statistical-geography")
    snapshot = current_snapshot(areas.entries.get(key="E06000001"))
    snapshot["names"].append(["en", "alternative", "Port of Zyxwyth", "2009-01-01", None])
    curator = django_user_model.objects.create_user("wren", password="a-long-test-password")
    save_entry(areas, "E06000001", snapshot, Actor(user=curator, reason="Testing words"))
    day = today()
    assert [r["key"] for r in search("zyxwy", day)] == ["E06000001"]

    snapshot["names"] = [row for row in snapshot["names"] if row[2] != "Port of Zyxwyth"]
    save_entry(areas, "E06000001", snapshot, Actor(user=curator, reason="Testing words"))
    assert search("zyxwy", day) == []
    assert not NameWord.objects.filter(tail__in=["of zyxwyth", "zyxwyth"]).exists()
    # A name written one by one has its words too.
    name = Name.objects.create(entry=areas.entries.get(key="E06000002"), text="Moor Qwertyx")
    assert [r["key"] for r in search("qwertyx", day)] == ["E06000002"]
    name.delete()
    assert search("qwertyx", day) == []
    assert not NameWord.objects.filter(tail="qwertyx").exists()


def test_the_word_migration_writes_what_the_services_write(db):
    written = set(NameWord.objects.values_list("entry_id", "tail"))
    assert ("hythe" in {tail for _, tail in written}) and len(written) > 100_000
    NameWord.objects.all().delete()

    class Editor:
        class connection:  # noqa: N801 - stands in for schema_editor.connection
            alias = "default"

    name_words.fill(apps, Editor)
    assert set(NameWord.objects.values_list("entry_id", "tail")) == written
