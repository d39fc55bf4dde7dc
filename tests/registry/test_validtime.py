"""Table tests of registry.validtime on hand-built rows: no database."""

import datetime as dt

import pytest

from registry import validtime as vt
from registry.validtime import Hop, IdentifierRow, Lifetime, NameRow, RelationRow, StateRow


def d(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def live(start, end=None, entity_type="E07"):
    return StateRow(d(start), d(end), vt.LIVE, entity_type)


def ended(start, entity_type="E07"):
    return StateRow(d(start), None, vt.TERMINATED, entity_type)


# An area live 2009-01-01..2020-03-31 and terminated from then on (Aylesbury Vale's shape).
AYLESBURY = [live("2009-01-01", "2020-03-31"), ended("2020-04-01")]
# Not yet operative until 2027.
FUTURE = [live("2027-04-01", entity_type="E06")]


@pytest.mark.parametrize(
    ("start", "end", "on", "expected"),
    [
        ("2020-01-01", "2020-12-31", "2020-01-01", True),  # inclusive start
        ("2020-01-01", "2020-12-31", "2020-12-31", True),  # inclusive end
        ("2020-01-01", "2020-12-31", "2021-01-01", False),
        ("2020-01-01", "2020-12-31", "2019-12-31", False),
        ("2020-01-01", None, "2099-01-01", True),  # open end
        (None, "2020-12-31", "1900-01-01", True),  # open start (names)
        (None, None, "2020-06-01", True),
    ],
)
def test_covers(start, end, on, expected):
    assert vt.covers(d(start), d(end), d(on)) is expected
    # ISO text sorts the same way, so the rule holds on snapshot rows too.
    assert vt.covers(start, end, on) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("2020-01-01", "2020-12-31"), ("2020-12-31", None), True),  # one shared day
        (("2020-01-01", "2020-12-31"), ("2021-01-01", None), False),
        ((None, None), ("2021-01-01", "2021-01-01"), True),
        (("2021-01-02", None), (None, "2021-01-01"), False),
    ],
)
def test_overlaps(a, b, expected):
    assert vt.overlaps(d(a[0]), d(a[1]), d(b[0]), d(b[1])) is expected
    assert vt.overlaps(d(b[0]), d(b[1]), d(a[0]), d(a[1])) is expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (AYLESBURY, Lifetime(d("2009-01-01"), d("2020-03-31"))),
        ([live("2009-01-01")], Lifetime(d("2009-01-01"), None)),
        # Two live spells (a state change in between): first start, last end.
        (
            [live("2009-01-01", "2012-12-31"), live("2013-01-01", "2019-03-31", "E06")],
            Lifetime(d("2009-01-01"), d("2019-03-31")),
        ),
        ([ended("2009-01-01")], vt.NEVER),
        ([], vt.NEVER),
    ],
)
def test_lifetime(states, expected):
    assert vt.lifetime(states) == expected
    assert vt.lifetime(reversed(states)) == expected  # order does not matter


@pytest.mark.parametrize(
    ("states", "on", "seen", "status", "entity_type"),
    [
        (AYLESBURY, "2015-06-01", "2015-06-01", "live", "E07"),
        (AYLESBURY, "2020-03-31", "2020-03-31", "live", "E07"),
        # After its end, a terminated entry is described as on its last day.
        (AYLESBURY, "2024-01-01", "2020-03-31", "terminated", "E07"),
        # Before it began, as on its first day, with the type it will have.
        (AYLESBURY, "2001-01-01", "2009-01-01", None, "E07"),
        (FUTURE, "2026-12-01", "2027-04-01", None, "E06"),
        ([], "2026-12-01", "2026-12-01", None, None),
    ],
)
def test_seen_on_status_and_entity_type(states, on, seen, status, entity_type):
    life = vt.lifetime(states)
    assert vt.seen_on(life, d(on)) == d(seen)
    assert vt.status_on(states, d(on)) == status
    assert vt.entity_type_on(states, d(on)) == entity_type


NAMES = [
    NameRow("en", "official", "Shepway", d("2009-01-01"), d("2018-03-31")),
    NameRow("en", "official", "Folkestone and Hythe", d("2018-04-01"), None),
    NameRow("en", "display", "Folkestone & Hythe", d("2018-04-01"), None),
    NameRow("cy", "official", "Ffolcstwn", d("2018-04-01"), None),
    NameRow("en", "alternative", "Hythe", None, None),
]
SHEPWAY = [live("2009-01-01")]


@pytest.mark.parametrize(
    ("on", "name", "name_cy", "display"),
    [
        ("2017-01-01", "Shepway", None, None),
        ("2018-03-31", "Shepway", None, None),
        ("2018-04-01", "Folkestone and Hythe", "Ffolcstwn", "Folkestone & Hythe"),
        # Before the entry existed: as on its first day.
        ("2005-01-01", "Shepway", None, None),
    ],
)
def test_names_as_at(on, name, name_cy, display):
    state = vt.as_at(d(on), SHEPWAY, NAMES)
    assert (state.name, state.name_cy, state.display_name) == (name, name_cy, display)
    assert state.names[("en", "alternative")] == "Hythe"


def test_preferred_name_falls_back_to_the_display_name():
    found = {("en", "display"): "Edinburgh"}
    assert vt.preferred(found) == "Edinburgh"
    assert vt.preferred({("en", "official"): "City of Edinburgh", **found}) == "City of Edinburgh"
    assert vt.preferred(found, vt.WELSH) is None


@pytest.mark.parametrize(
    ("names", "states", "on", "expected"),
    [
        (NAMES, SHEPWAY, "2017-01-01", "Shepway"),
        (NAMES, SHEPWAY, "2026-01-01", "Folkestone and Hythe"),
        # Ended: its last name, whatever the date.
        (
            [NameRow("en", "official", "Aylesbury Vale", d("2009-01-01"), d("2020-03-31"))],
            AYLESBURY,
            "2024-01-01",
            "Aylesbury Vale",
        ),
        # No name in force on the day seen: the latest official English name.
        (
            [NameRow("en", "official", "Old", d("2009-01-01"), d("2010-01-01"))],
            [live("2009-01-01")],
            "2024-01-01",
            "Old",
        ),
        (
            [NameRow("cy", "official", "Caerdydd", None, None)],
            [live("2009-01-01")],
            "2024-01-01",
            None,
        ),
    ],
)
def test_label(names, states, on, expected):
    assert vt.label(names, vt.lifetime(states), d(on)) == expected


def test_as_at_parents_governing_and_identifiers_follow_the_day_seen():
    relations = [
        RelationRow("parent", "county", "E10000002", d("2009-01-01"), d("2020-03-31")),
        RelationRow("parent", "region", "E12000008", d("2009-01-01"), d("2020-03-31")),
        RelationRow("parent", "county", "E10000099", d("2021-01-01"), None),  # after its end
    ]
    governed_by = [RelationRow("governs", "", "AYL", d("2009-01-01"), d("2020-03-31"))]
    identifiers = [
        IdentifierRow("ons-legacy", "11UB", d("2009-01-01"), d("2020-03-31")),
        IdentifierRow("mapit", "2262", d("2009-01-01"), d("2015-12-31")),
    ]
    state = vt.as_at(d("2024-01-01"), AYLESBURY, (), relations, governed_by, identifiers)
    assert state.seen_on == d("2020-03-31")
    assert state.parents == {"county": "E10000002", "region": "E12000008"}
    assert state.governed_by == ["AYL"]
    assert [i.value for i in state.identifiers] == ["11UB"]


@pytest.mark.parametrize(
    ("on", "scheme", "expected"),
    [
        ("2012-01-01", "mapit", ["2262"]),
        ("2018-01-01", "mapit", ["2262"]),  # no longer in use: the latest it had
        ("2018-01-01", "ons-legacy", ["11UB"]),
        ("2018-01-01", "iso-3166-2", []),
    ],
)
def test_identifiers_for(on, scheme, expected):
    rows = [
        IdentifierRow("ons-legacy", "11UB", d("2009-01-01"), None),
        IdentifierRow("mapit", "2262", d("2009-01-01"), d("2015-12-31")),
    ]
    assert vt.identifiers_for(rows, Lifetime(d("2009-01-01"), None), d(on), scheme) == expected


# A small hierarchy: ward → district → county → region → country, and district → CA.
PARENTS = {
    "ward": [("district", "district"), ("county", "county")],
    "district": [("county", "county"), ("combined-authority", "ca")],
    "county": [("region", "region")],
    "region": [("country", "england")],
}


def test_ancestors_nearest_first_each_once():
    calls = []

    def parents_of(nodes):
        calls.append(sorted(nodes))
        return {node: PARENTS.get(node, []) for node in nodes}

    assert vt.ancestors("ward", parents_of) == [
        ("district", "district"),
        ("county", "county"),
        ("combined-authority", "ca"),
        ("region", "region"),
        ("country", "england"),
    ]
    # One call per level of the hierarchy, so a database reader makes one query each.
    assert calls == [["ward"], ["county", "district"], ["ca", "region"], ["england"]]


def test_chain_follows_the_nearest_kind_of_parent():
    def parents_of(node):
        return {h: p for h, p in PARENTS.get(node, []) if h != "combined-authority"}

    assert vt.chain("ward", parents_of, ["district", "county", "region"]) == [
        "district",
        "county",
        "region",
        "england",
    ]
    assert vt.chain("ward", parents_of, ["county", "district"]) == ["county", "region", "england"]


def hop(event, kind, predecessor, successor, date="2020-04-01"):
    return Hop(event, kind, d(date), predecessor, successor)


# A recode chain, a split and a merge:
#   A → B (2013 recode) → C (2019 recode); S → S1, S2 (2021 split); M1, M2 → M (2020 merge)
STEPS = {
    "A": [(hop("e1", "recode", "A", "B", "2013-04-01"), "B")],
    "B": [(hop("e2", "recode", "B", "C", "2019-04-01"), "C")],
    "S": [(hop("e3", "split", "S", "S1", "2021-03-21"), "S1"),
          (hop("e3", "split", "S", "S2", "2021-03-21"), "S2")],
    "M1": [(hop("e4", "merge", "M1", "M", "2020-04-01"), "M")],
    "M2": [(hop("e4", "merge", "M2", "M", "2020-04-01"), "M")],
}  # fmt: skip
LIVES = {
    "A": Lifetime(d("2009-01-01"), d("2013-03-31")),
    "B": Lifetime(d("2013-04-01"), d("2019-03-31")),
    "C": Lifetime(d("2019-04-01"), None),
    "S": Lifetime(d("2011-01-01"), d("2021-03-20")),
    "S1": Lifetime(d("2021-03-21"), None),
    "S2": Lifetime(d("2021-03-21"), None),
    "M1": Lifetime(d("2009-01-01"), d("2020-03-31")),
    "M2": Lifetime(d("2009-01-01"), d("2020-03-31")),
    "M": Lifetime(d("2020-04-01"), None),
    "Z": Lifetime(d("2009-01-01"), d("2010-01-01")),  # ended with no successor
}


def walk(starts, on):
    asked = []

    def steps_of(nodes):
        asked.append(sorted(nodes))
        return {node: [(h, s) for h, s in STEPS.get(node, []) if h.date <= d(on)] for node in nodes}

    found = vt.current(starts, d(on), lambda node, day: LIVES[node].contains(day), steps_of)
    return found, asked


@pytest.mark.parametrize(
    ("start", "on", "expected"),
    [
        ("C", "2024-01-01", [("C", [])]),  # live: itself, no hops
        ("A", "2024-01-01", [("C", ["e1", "e2"])]),  # a chain of recodes
        ("A", "2015-01-01", [("B", ["e1"])]),  # as at 2015, the code live then
        ("A", "2010-01-01", [("A", [])]),
        ("S", "2024-01-01", [("S1", ["e3"]), ("S2", ["e3"])]),  # a split gives several
        ("M2", "2024-01-01", [("M", ["e4"])]),
        ("Z", "2024-01-01", []),  # ended with no successor: leads nowhere
    ],
)
def test_current(start, on, expected):
    found, _ = walk([start], on)
    assert [(node, [h.event for h in path]) for node, path in found[start]] == expected


def test_current_asks_once_per_level_for_a_whole_batch():
    found, asked = walk(["A", "S", "M1", "C"], "2024-01-01")
    assert {start: [node for node, _ in paths] for start, paths in found.items()} == {
        "A": ["C"], "S": ["S1", "S2"], "M1": ["M"], "C": ["C"],
    }  # fmt: skip
    assert asked == [["A", "M1", "S"], ["B"]]


def test_hop_as_dict():
    assert hop("2020-04-01-E06000060", "merge", "E07000004", "E06000060").as_dict(
        lambda key: f"/id/change-event/{key}"
    ) == {
        "event": "2020-04-01-E06000060",
        "uri": "/id/change-event/2020-04-01-E06000060",
        "kind": "merge",
        "date": "2020-04-01",
        "predecessor": "E07000004",
        "successor": "E06000060",
    }


def test_recode_lineage_takes_one_to_one_links_only():
    successors = {"A": ["B"], "B": ["C"], "S": ["S1", "S2"], "M1": ["M"], "M2": ["M"]}
    predecessors = {"B": ["A"], "C": ["B"], "S1": ["S"], "S2": ["S"], "M": ["M1", "M2"]}

    def ahead(node):
        return successors.get(node, [])

    def behind(node):
        return predecessors.get(node, [])

    assert vt.recode_lineage("B", ahead, behind) == {"A", "B", "C"}
    assert vt.recode_lineage("S", ahead, behind) == {"S"}  # a split is no recode
    assert vt.recode_lineage("M", ahead, behind) == {"M"}  # nor a merge
    assert vt.lineage("M1", ahead, behind) == {"M1", "M", "M2"}
    assert vt.lineage("S1", ahead, behind) == {"S", "S1", "S2"}


def test_live_together():
    assert vt.live_together(AYLESBURY, [live("2020-03-31")])
    assert not vt.live_together(AYLESBURY, [live("2020-04-01")])
    assert not vt.live_together([ended("2009-01-01")], [live("2009-01-01")])


def test_iso_and_day():
    assert vt.iso(d("2020-04-01")) == "2020-04-01"
    assert vt.iso(None) is None
    assert vt.day("2020-04-01") == d("2020-04-01")
    assert vt.day(d("2020-04-01")) == d("2020-04-01")
    assert vt.day(None) is None and vt.day("") is None
