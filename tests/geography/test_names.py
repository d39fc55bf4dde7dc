"""Table tests of UK area-name normalisation (geography/names.py)."""

import pytest

from geography.names import Forms, forms
from registry.text import repair, uninvert


@pytest.mark.parametrize(
    ("text", "full", "plain", "core", "hints"),
    [
        ("Hartlepool", "hartlepool", "hartlepool", "hartlepool", set()),
        # The new families' written forms: parish and town councils, NHS bodies, police.
        (
            "Ampthill Town Council",
            "ampthill town council",
            "ampthill",
            "ampthill",
            {"council", "parish"},
        ),
        (
            "Wrington Parish Council",
            "wrington parish council",
            "wrington",
            "wrington",
            {"council", "parish"},
        ),
        (
            "Cyngor Cymuned Llanbedr",
            "cyngor cymuned llanbedr",
            "cyngor cymuned llanbedr",
            "llanbedr",
            {"parish"},
        ),
        (
            "NHS Sussex Integrated Care Board",
            "nhs sussex integrated care board",
            "nhs sussex integrated care board",
            "sussex",
            {"health"},
        ),
        ("Sussex ICB", "sussex icb", "sussex icb", "sussex", {"health"}),
        (
            "Northumbria Police",
            "northumbria police",
            "northumbria police",
            "northumbria",
            {"police"},
        ),
        ("Co Durham", "co durham", "co durham", "durham", {"county"}),
        (
            "Greater Manchester CA",
            "greater manchester ca",
            "greater manchester ca",
            "greater manchester",
            {"combined"},
        ),
        (
            "South Yorkshire Mayoral Combined Authority",
            "south yorkshire mayoral combined authority",
            "south yorkshire mayoral combined authority",
            "south yorkshire",
            {"combined"},
        ),
        ("Bristol, City of", "city of bristol", "city of bristol", "bristol", {"district"}),
        (
            "edinburgh (city of)",
            "city of edinburgh",
            "city of edinburgh",
            "edinburgh",
            {"district"},
        ),
        (
            "Kingston upon Hull, City of",
            "city of kingston upon hull",
            "city of kingston upon hull",
            "kingston upon hull",
            {"district"},
        ),
        (
            "Herefordshire, County of",
            "county of herefordshire",
            "county of herefordshire",
            "herefordshire",
            {"county"},
        ),
        ("St. Helens", "saint helens", "saint helens", "saint helens", set()),
        ("Saint Helens", "saint helens", "saint helens", "saint helens", set()),
        (
            "Basingstoke & Deane",
            "basingstoke and deane",
            "basingstoke and deane",
            "basingstoke and deane",
            set(),
        ),
        (
            "Newcastle-under-Lyme",
            "newcastle under lyme",
            "newcastle under lyme",
            "newcastle under lyme",
            set(),
        ),
        (
            "King's Lynn and West Norfolk",
            "kings lynn and west norfolk",
            "kings lynn and west norfolk",
            "kings lynn and west norfolk",
            set(),
        ),
        (
            "Blackburn With Darwen UA",
            "blackburn with darwen ua",
            "blackburn with darwen ua",
            "blackburn with darwen",
            {"district"},
        ),
        (
            "brent london boro",
            "brent london borough",
            "brent london borough",
            "brent",
            {"district"},
        ),
        (
            "London Borough of Brent",
            "london borough of brent",
            "london borough of brent",
            "brent",
            {"district"},
        ),
        (
            "Aberdeen City Council",
            "aberdeen city council",
            "aberdeen city",
            "aberdeen",
            {"council", "district"},
        ),
        (
            "Buckinghamshire County Council",
            "buckinghamshire county council",
            "buckinghamshire county",
            "buckinghamshire",
            {"council", "county"},
        ),
        ("County Durham", "county durham", "county durham", "durham", {"county"}),
        (
            "Caerphilly County Borough Council",
            "caerphilly county borough council",
            "caerphilly county borough",
            "caerphilly",
            {"council", "district"},
        ),
        (
            "The Vale of Glamorgan",
            "the vale of glamorgan",
            "vale of glamorgan",
            "vale of glamorgan",
            set(),
        ),
        (
            "Council of the Isles of Scilly",
            "council of the isles of scilly",
            "council of the isles of scilly",
            "isles of scilly",
            set(),
        ),
        ("East Midlands CC", "east midlands cc", "east midlands cc", "east midlands", {"combined"}),
        (
            "Liverpool City Region",
            "liverpool city region",
            "liverpool city region",
            "liverpool",
            {"combined"},
        ),
        (
            "Cyngor Sir Ynys Môn",
            "cyngor sir ynys mon",
            "cyngor sir ynys mon",
            "ynys mon",
            {"county"},
        ),
        ("Ynys MÃ´n", "ynys mon", "ynys mon", "ynys mon", set()),
        ("Sir Ynys Mï¿½n", "sir ynys mn", "sir ynys mn", "ynys mn", {"county"}),
        (
            "Steòrnabhagh a Deas",
            "steornabhagh a deas",
            "steornabhagh a deas",
            "steornabhagh a deas",
            set(),
        ),
        ("  HARTLEPOOL  ", "hartlepool", "hartlepool", "hartlepool", set()),
        # Never stripped to nothing.
        ("Council", "council", "council", "council", set()),
        ("City of", "city of", "city of", "city of", set()),
    ],
)
def test_forms(text, full, plain, core, hints):
    f = forms(text)
    assert (f.full, f.plain, f.core, set(f.hints)) == (full, plain, core, hints)


@pytest.mark.parametrize("text", ["", "   ", "-", "'", "!!!", "\u200b", "\x00", "\ud800", "\ufffd"])
def test_forms_of_nothing_are_empty(text):
    assert forms(text) == Forms("", "", "", frozenset())


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        ("Ynys MÃ´n", "Ynys Môn"),
        ("Ceredigion", "Ceredigion"),
        ("Ynys Môn", "Ynys Môn"),
        ("Mï¿½n", "M\ufffdn"),
        ("Bro MorgannwgÃ", "Bro MorgannwgÃ"),  # does not decode: left alone
    ],
)
def test_repair(text, repaired):
    assert repair(text) == repaired


@pytest.mark.parametrize(
    ("text", "turned"),
    [
        ("Bristol, City of", "City of Bristol"),
        ("Edinburgh (City of)", "City of Edinburgh"),
        ("Birmingham, Edgbaston", "Birmingham, Edgbaston"),
        ("Armagh City, Banbridge and Craigavon", "Armagh City, Banbridge and Craigavon"),
    ],
)
def test_uninvert(text, turned):
    assert uninvert(text) == turned
