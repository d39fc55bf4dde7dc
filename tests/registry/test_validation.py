"""The registry's rules on hand-built snapshots, one rule at a time.

The registers are built in memory and never saved, and every entry a rule needs to know is
in the batch, so what is checked is the rule, not the bundled data (the database is only
asked who else holds an identifier, and nobody does)."""

import pytest

from geography.gss import GSS_PATTERN
from geography.hierarchies import ALLOWED_PARENTS
from geography.registers import AREAS
from registry.models import Register
from registry.validation import Item, Problem, validate_batch, validate_entry

pytestmark = pytest.mark.django_db

THINGS = Register(slug="things", name="Things", key_pattern=r"^T\d{3}$")
AREA_REGISTER = Register(slug=AREAS, name="Areas", key_pattern=GSS_PATTERN)


def thing(names=(), identifiers=(), states=None, relations=()):
    return {
        "names": [list(n) for n in names] or [["en", "official", "A thing", "2010-01-01", None]],
        "identifiers": [list(i) for i in identifiers],
        "states": [list(s) for s in (states or [["2010-01-01", None, "live", None]])],
        "relations": [list(r) for r in relations],
        "attributes": {},
    }


def parent(target, start="2010-01-01", end=None, hierarchy="", kind="parent"):
    return [kind, hierarchy, target, start, end]


def problems(snapshot, key="T001", register=THINGS):
    return validate_entry(register, key, snapshot)


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        (thing(), []),
        (
            thing(states=[["2010-01-01", "2009-12-31", "live", None]]),
            ["The state live cannot end (2009-12-31) before it starts (2010-01-01)."],
        ),
        (
            thing(
                states=[
                    ["2010-01-01", "2011-12-31", "terminated", None],
                    ["2012-01-01", None, "live", None],
                ]
            ),
            ["An entry's first state must be live."],
        ),
        # A code withdrawn before it came into use: one open terminated state, never live.
        (thing(states=[["2010-01-01", None, "terminated", None]]), []),
        (
            thing(
                states=[
                    ["2010-01-01", "2015-12-31", "live", None],
                    ["2015-01-01", None, "terminated", None],
                ]
            ),
            [
                "Two states overlap: live from 2010-01-01 to 2015-12-31 and terminated from "
                "2015-01-01."
            ],
        ),
        (
            {**thing(), "states": []},
            ["An entry needs at least one state (when it became live)."],
        ),
        (
            thing(names=[["en", "official", "A", "2012-01-01", "2011-01-01"]]),
            ["The name “A” cannot end (2011-01-01) before it starts (2012-01-01)."],
        ),
        (
            thing(relations=[parent("things/T999")]),
            ["There is no entry things/T999 to link to."],
        ),
    ],
)
def test_rules_about_one_entry(snapshot, expected):
    assert problems(snapshot) == expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ({"states": [["2010-01-01", "live"]]}, "states row 1 must have 4 values: valid_from, valid_to, status, entity_type."),
        ({"states": [["2010-13-01", None, "live", None]]}, "states row 1: valid_from '2010-13-01' is not a date (YYYY-MM-DD)."),
        ({"states": [["2010-01-01", None, "alive", None]]}, "states row 1: status 'alive' is not one of live, terminated."),
        ({"names": [["en", "official", "", None, None]]}, "names row 1: text is required."),
        ({"relations": [["parent", "", "T002", "2010-01-01", None]]}, "relations row 1: target 'T002' is not register/key."),
        ({"names": [["en", "official", "A", None, None]] * 2}, "names row 2 repeats an earlier row."),
        # Lengths and text no database can store (NUL, lone surrogates, controls): refused
        # alike on SQLite, which would store them, and PostgreSQL, which would fail.
        ({"names": [["en", "official", "A" * 301, None, None]]}, "names row 1: text is 301 characters long; at most 300."),
        ({"identifiers": [["gss", "E" * 201, "2010-01-01", None]]}, "identifiers row 1: value is 201 characters long; at most 200."),
        ({"names": [["en", "official", "Lee\x00ds", None, None]]}, "names row 1: text contains a NUL character."),
        ({"names": [["en", "official", "Lee\ud800ds", None, None]]}, "names row 1: text contains a lone surrogate."),
        ({"names": [["en", "official", "Lee\x1bds", None, None]]}, "names row 1: text contains a control character (U+001B)."),
        ({"identifiers": [["gss\x00", "E1", "2010-01-01", None]]}, "identifiers row 1: scheme contains a NUL character."),
        ({"names": [["en", "alternative", f"A{n}", None, None] for n in range(1001)]}, "names has 1,001 rows; at most 1,000."),
        ({"attributes": {"note": "x" * 10_000}}, "attributes are 10,012 bytes as JSON; at most 10,000."),
        ({"attributes": {"note": "a\x00b"}}, "attributes hold text with a NUL character."),
        ({"attributes": {"k\ud800": 1}}, "attributes hold text with a lone surrogate."),
        ({"attributes": ["not", "an", "object"]}, "attributes must be an object."),
    ],
)  # fmt: skip
def test_rows_of_the_wrong_shape_are_refused_first(rows, expected):
    found = problems({**thing(), **rows})
    assert found == [expected]
    assert found[0].rule == "shapes"


def test_a_key_the_register_cannot_hold():
    assert problems(thing(), key="X1") == ["“X1” is not a valid key for the Things register."]


def test_a_problem_names_its_rule_and_row():
    [problem] = problems(thing(relations=[parent("things/T999")]))
    assert isinstance(problem, Problem)
    assert (problem.rule, problem.field) == ("parents", "relations")
    assert problem.row.target == "things/T999"


def test_entries_of_one_batch_are_judged_by_their_new_snapshots():
    # T002 is new in the same batch, live from 2012: T001 may lie within it from then on,
    # but not before.
    batch = [
        Item(THINGS, "T002", thing(states=[["2012-01-01", None, "live", None]])),
        Item(THINGS, "T001", thing(relations=[parent("things/T002", "2012-01-01")])),
        Item(THINGS, "T003", thing(relations=[parent("things/T002", "2011-01-01")])),
    ]
    assert validate_batch(batch) == {
        "things/T003": [
            "The parent T002 () was not live for the whole period from 2011-01-01: it was "
            "live from 2012-01-01."
        ]
    }


def test_a_parent_that_ends_before_the_link():
    batch = [
        Item(THINGS, "T002", thing(states=[["2010-01-01", "2014-12-31", "live", None]])),
        Item(THINGS, "T001", thing(relations=[parent("things/T002")])),
    ]
    assert validate_batch(batch) == {
        "things/T001": [
            "The parent T002 () was not live for the whole period from 2010-01-01: it was "
            "live from 2010-01-01 to 2014-12-31."
        ]
    }


def test_no_entry_is_within_itself_through_a_batch():
    batch = [
        Item(THINGS, "T001", thing(relations=[parent("things/T002")])),
        Item(THINGS, "T002", thing(relations=[parent("things/T003")])),
        Item(THINGS, "T003", thing(relations=[parent("things/T001")])),
    ]
    found = validate_batch(batch)
    assert found["things/T001"] == ["T001 cannot be within itself (through its parents)."]
    assert set(found) == {"things/T001", "things/T002", "things/T003"}


def test_two_entries_of_a_batch_cannot_hold_one_identifier_at_once():
    one = ["test-scheme", "unique-value-1", "2010-01-01", "2014-12-31"]
    later = ["test-scheme", "unique-value-1", "2015-01-01", None]
    same_time = ["test-scheme", "unique-value-1", "2014-01-01", None]
    assert validate_batch(
        [Item(THINGS, "T001", thing(identifiers=[one])), Item(THINGS, "T002", thing(identifiers=[later]))]
    ) == {}  # fmt: skip
    found = validate_batch(
        [Item(THINGS, "T001", thing(identifiers=[one])), Item(THINGS, "T002", thing(identifiers=[same_time]))]
    )  # fmt: skip
    assert found["things/T002"] == [
        "The identifier test-scheme unique-value-1 is already used by things/T001 from "
        "2010-01-01 to 2014-12-31."
    ]


def test_only_new_rows_are_checked_against_others():
    # A row the entry already holds is not checked again (the registry held it before).
    stale = thing(relations=[parent("things/T999")])
    assert validate_batch([Item(THINGS, "T001", stale, before=stale)]) == {}


AREA = {
    "names": [["en", "official", "Testshire Ward", "2010-01-01", None]],
    "identifiers": [],
    "states": [["2010-01-01", None, "live", "E05"]],
    "relations": [],
    "attributes": {},
}


@pytest.mark.parametrize(
    ("key", "relations", "expected"),
    [
        ("E05999901", [], []),
        (
            "E06999901",
            [],
            ["The code E06999901 does not match its entity type E05: codes of that type start with E05."],
        ),
        (
            "E05999901",
            [["parent", "msoa", f"{AREAS}/E05999902", "2010-01-01", None]],
            ["A msoa parent must be of type E02, W02; E05999902 is of type E05."],
        ),
        (
            "E05999901",
            [["parent", "shire", f"{AREAS}/E05999902", "2010-01-01", None]],
            [f"“shire” is not a hierarchy; use one of {', '.join(sorted(ALLOWED_PARENTS))}."],
        ),
    ],
)  # fmt: skip
def test_the_uk_rules(key, relations, expected):
    other = Item(AREA_REGISTER, "E05999902", AREA)
    found = validate_batch([other, Item(AREA_REGISTER, key, {**AREA, "relations": relations})])
    assert found.get(f"{AREAS}/{key}", []) == expected
