"""The documents' listing FilterSets (``api.filters``): what each filter comes to, and the
400 a bad value is, in one sentence naming the parameter, as JSON and as a page."""

import pytest
from django.http import QueryDict

from api.filters import EventListingFilter, RegisterListingFilter, filtered
from api.http import BadParameter
from registry.models import ChangeEvent, Entry

pytestmark = pytest.mark.django_db

AREAS = "statistical-geography"

REGISTER_REFUSALS = [
    ("type=X99", "type", "must be an entity type code such as E06; 'X99' is not one."),
    ("type=E0", "type", "must be an entity type code such as E06; 'E0' is not one."),
    ("status=dead", "status", "must be one of live, terminated; got 'dead'."),
    ("status=LIVE", "status", "must be one of live, terminated; got 'LIVE'."),
    ("parent=NOPE", "parent", "must be the key of an entry; there is none called 'NOPE'."),
    # Parents are looked for in the listing's own register.
    ("parent=E06", "parent", "must be the key of an entry; there is none called 'E06'."),
    (f"parent={'Z' * 30}", "parent", f"must be the key of an entry; there is none called {'Z' * 20!r}."),
    ("type=E06&status=dead", "status", "must be one of live, terminated; got 'dead'."),
    # The first bad filter, in the order type, status, parent, is the one told.
    ("parent=NOPE&type=X99", "type", "must be an entity type code such as E06; 'X99' is not one."),
    (f"parent={'E' * 201}", "parent", "is longer than 200 characters."),
]  # fmt: skip

EVENT_REFUSALS = [
    ("year=20", "year", "must be four digits, such as 2020; got '20'."),
    ("year=twenty", "year", "must be four digits, such as 2020; got 'twenty'."),
    (
        "kind=explosion",
        "kind",
        "must be one of creation, termination, recode, boundary-change, merge, split, rename, "
        "complex; got 'explosion'.",
    ),
    ("year=2020&kind=Merge", "kind", "must be one of creation, termination, recode, "
     "boundary-change, merge, split, rename, complex; got 'Merge'."),
]  # fmt: skip


def register_filter(query: str) -> RegisterListingFilter:
    entries = Entry.objects.in_register(AREAS)
    return RegisterListingFilter(QueryDict(query), queryset=entries)


def event_filter(query: str) -> EventListingFilter:
    return EventListingFilter(QueryDict(query), queryset=ChangeEvent.objects.all())


@pytest.mark.parametrize(("query", "name", "reason"), REGISTER_REFUSALS)
def test_register_listing_filter_refuses_bad_values(query, name, reason):
    with pytest.raises(BadParameter) as raised:
        filtered(register_filter(query)).count()
    assert (raised.value.name, raised.value.reason) == (name, reason)


@pytest.mark.parametrize(("query", "name", "reason"), EVENT_REFUSALS)
def test_event_listing_filter_refuses_bad_values(query, name, reason):
    with pytest.raises(BadParameter) as raised:
        filtered(event_filter(query)).count()
    assert (raised.value.name, raised.value.reason) == (name, reason)


@pytest.mark.parametrize(
    ("path", "query", "name", "reason"),
    [(f"/doc/{AREAS}", *row) for row in REGISTER_REFUSALS]
    + [("/doc/change-event", *row) for row in EVENT_REFUSALS],
)
def test_a_bad_filter_is_a_400_that_names_the_parameter(client, path, query, name, reason):
    as_json = client.get(f"{path}.json?{query}")
    assert (as_json.status_code, as_json.json()) == (400, {"detail": f"{name} {reason}"})
    page = client.get(f"{path}?{query}", HTTP_ACCEPT="text/html")
    assert page.status_code == 400
    assert page["Content-Type"] == "text/html; charset=utf-8"
    assert f"{name} {reason}".replace("'", "&#x27;") in page.content.decode()


@pytest.mark.parametrize(
    ("query", "applied"),
    [
        ("", {}),
        ("type=&status=&parent=", {}),
        ("type=e06&status=live", {"type": "E06", "status": "live"}),
        ("parent=e10000002&date=2019-01-01", {"parent": "E10000002"}),
    ],
)
def test_register_listing_filter_says_what_each_filter_came_to(query, applied):
    chosen = register_filter(query)
    filtered(chosen).count()
    assert chosen.applied == applied


def test_register_listing_filter_reads_types_and_parents_on_the_date():
    # The county's districts (it has its 49 electoral divisions too, E58, since the CHD).
    bucks = filtered(register_filter("parent=E10000002&type=E07&date=2019-01-01"))
    assert list(bucks.order_by("key").values_list("key", flat=True)) == [
        "E07000004", "E07000005", "E07000006", "E07000007",
    ]  # fmt: skip
    # The county's districts merged into a unitary authority on 2020-04-01.
    assert not filtered(register_filter("parent=E10000002&date=2021-01-01")).exists()
    unitaries = filtered(register_filter("type=E06&status=live&date=2019-01-01"))
    assert "E06000060" not in set(unitaries.values_list("key", flat=True))


def test_event_listing_filter_by_year_and_kind():
    chosen = event_filter("year=2020&kind=merge")
    assert "2020-04-01-E06000060" in set(filtered(chosen).values_list("key", flat=True))
    assert chosen.applied == {"year": "2020", "kind": "merge"}
