"""Matching over the real registry: identifiers, names, types, dates, properties and the
rule that only an unambiguous candidate is matched. Pure scoring functions are
table-tested first."""

import datetime as dt

import pytest

from api.reconcile import index, matching, types
from api.reconcile.index import IndexName
from api.reconcile.matching import CORE, FUZZY, IDENTIFIER, NAME, Candidate, Property, Query
from geography.names import forms

TODAY = dt.date(2026, 11, 28)


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("2019-05-01", dt.date(2019, 5, 1)),
        ("2019-05-01T00:00:00Z", dt.date(2019, 5, 1)),
        ("01/05/2019", dt.date(2019, 5, 1)),
        ("2019", dt.date(2019, 5, 1)),
        (2019, dt.date(2019, 5, 1)),
        ({"date": "2013-04-01T00:00:00Z"}, dt.date(2013, 4, 1)),
        ("yesterday", None),
        ("2019-13-01", None),
        (True, None),
        (None, None),
    ],
)
def test_parse_date(value, date):
    assert matching.parse_date(value) == date


@pytest.mark.parametrize(
    ("text", "code", "strong"),
    [
        ("E06000001", "E06000001", True),
        ("  e06000001 ", "E06000001", True),
        ("E06 000 001", "E06000001", True),
        ("http://statistics.data.gov.uk/id/statistical-geography/E06000001", "E06000001", True),
        ("https://example.org/id/local-authority/BIR", "BIR", True),
        ("e06", "E06", True),
        ("00CN", "00CN", True),
        ("GB-BIR", "GB-BIR", True),
        ("BIR", "BIR", False),
        ("rye", "RYE", False),
    ],
)
def test_code_in(text, code, strong):
    assert matching.code_in(text) == (code, strong)


@pytest.mark.parametrize(
    ("query", "name", "tier"),
    [
        ("Hartlepool", "Hartlepool", (NAME, 100.0)),
        ("hartlepool borough council", "Hartlepool Borough", (NAME, 98.0)),
        ("ashford district", "Ashford", (CORE, 90.0)),
        ("city of bristol", "Bristol, City of", (NAME, 100.0)),
        ("Bristol", "Bristol, City of", (CORE, 90.0)),
        ("Hartlepol", "Hartlepool", None),
    ],
)
def test_name_tier(query, name, tier):
    assert matching.name_tier(forms(query), forms(name)) == tier


@pytest.mark.parametrize(
    ("query", "names", "distance"),
    [
        ("Wrarington", ["Warrington"], 1),  # two letters swapped
        ("Hartlepol", ["Hartlepool"], 1),
        ("Tiinity", ["Trinity"], 1),
        ("Newcastle on Tyne", ["Newcastle upon Tyne"], 2),
        ("Trinty", ["Trinity", "Trinity Ward"], 1),
        ("Ryde", ["Rye"], 1),
        ("Bath", ["Bute"], None),  # two slips in a short name: another name
        ("Barnet", ["Burnley"], None),
        ("", ["Leeds"], None),
    ],
)
def test_typo_distance(query, names, distance):
    index_names = [IndexName("en", "official", n, None, None, forms(n)) for n in names]
    assert matching.typo_distance(forms(query), index_names) == distance


@pytest.mark.parametrize(
    ("query", "names", "within"),
    [
        ("armagh", ["Armagh City, Banbridge and Craigavon"], True),
        ("Rhondda", ["Rhondda Cynon Taf"], True),
        ("anglesey", ["Isle of Anglesey"], True),
        ("county of", ["Herefordshire, County of"], False),  # no word that says where
        ("Rye", ["Rye Harbour"], False),  # under four letters
        ("North Leeds", ["Leeds"], False),
    ],
)
def test_words_within(query, names, within):
    index_names = [IndexName("en", "official", n, None, None, forms(n)) for n in names]
    assert matching._words_within(forms(query), index_names) is within


@pytest.mark.parametrize(
    ("query", "names", "scores"),
    [
        # The same name; its words in another order (similarity ignoring word order).
        ("Tyne Newcastle upon", ["Newcastle upon Tyne", "North Tyneside"], [100.0, 42.42]),
        # One name's words within the other's, discounted to 90; a slip; a name inside a word.
        (
            "Newcastle",
            ["Newcastle", "Newcastle upon Tyne", "Newcastle-under-Lyme", "newcastel", "Castle"],
            [100.0, 90.0, 90.0, 88.89, 80.0],
        ),
        # Compared on the core: "Borough Council" is the kind of authority, not the name.
        ("Hartlepool Borough Council", ["Hartlepool", "Blackpool"], [100.0, 52.63]),
        ("Hartlepool", [], []),
    ],
)
def test_similarities(query, names, scores):
    found = matching.similarities(forms(query), [forms(n) for n in names])
    assert [round(s, 2) for s in found] == scores
    # The same as one name at a time.
    assert found == [matching.similarity(forms(query), forms(n)) for n in names]


@pytest.mark.parametrize(
    ("tier", "similarity", "score"),
    [(IDENTIFIER, 100.0, 100.0), (NAME, 98.0, 98.0), (CORE, 90.0, 90.0), (FUZZY, 90.0, 76.5)],
)
def test_base_score(tier, similarity, score):
    assert matching.base_score(tier, similarity) == score


def _candidate(**overrides):
    values = {"record": None, "tier": NAME, "similarity": 100.0, "matched": "x"}
    values.update(overrides)
    return Candidate(**values)


@pytest.mark.parametrize(
    ("overrides", "typed", "explicit_date", "score"),
    [
        ({}, True, False, 100.0),
        ({"valid": False}, True, False, 95.0),
        ({"valid": False}, True, True, 88.0),
        ({"vetoes": ["district"]}, True, False, 60.0),
        ({"tier": CORE, "similarity": 90.0, "confirmations": 1}, True, False, 93.0),
        ({"tier": CORE, "similarity": 90.0, "hint_fit": True}, True, False, 91.0),
        ({"former_name": True}, True, False, 98.0),
        ({"priority": 7}, False, False, 96.5),
        ({"confirmations": 2}, True, False, 100.0),
    ],
)
def test_adjusted_score(overrides, typed, explicit_date, score):
    assert matching.adjusted_score(_candidate(**overrides), typed, explicit_date) == score


# --------------------------------------------------------------------------- real data


@pytest.fixture
def reconcile(db):
    idx = index.current()
    matcher = matching.Matcher(idx, TODAY)

    def run(text, type_id=None, limit=10, **props):
        filter_ = types.type_filter([type_id], idx.entity_type_keys) if type_id else None
        properties = [Property(pid.replace("_", "-"), [v]) for pid, v in props.items()]
        result = matcher.reconcile(Query(text, filter_, limit, properties))
        return [(c.record.key, c.match) for c in result.candidates]

    return run


@pytest.mark.parametrize(
    ("text", "type_id", "props", "top", "match"),
    [
        # Identifiers short-circuit, whatever the type.
        ("E06000001", None, {}, "E06000001", True),
        ("  e06000001 ", None, {}, "E06000001", True),
        (
            "http://statistics.data.gov.uk/id/statistical-geography/E08000025",
            None,
            {},
            "E08000025",
            True,
        ),
        ("00CN", None, {}, "E08000025", True),
        ("GB-BIR", None, {}, "BIR", True),
        ("GB-BIR", "local-authority-district", {}, "E08000025", True),
        ("HPL", "local-authority-district", {}, "E06000001", True),
        ("E05", None, {}, "E05", True),
        # Names, with the council-name variants.
        ("Hartlepool", "E06", {}, "E06000001", True),
        ("Hartlepool", None, {}, "E06000001", False),  # also the council and a constituency
        ("Bristol, City of", "local-authority-district", {}, "E06000023", True),
        ("city of bristol", "local-authority-district", {}, "E06000023", True),
        ("bristol", "local-authority-district", {}, "E06000023", True),
        ("brent london boro", "local-authority-district", {}, "E09000005", True),
        ("Ynys MÃ´n", "local-authority-district", {}, "W06000001", True),
        ("Isle of Anglesey County Council", "local-authority-area", {}, "W06000001", True),
        ("Buckinghamshire County Council", "local-authority-area", {}, "E10000002", True),
        # A county and the unitary that took its name: without a date, either could be meant.
        ("Buckinghamshire", "local-authority-area", {}, "E06000060", False),
        ("Buckinghamshire", "local-authority-area", {"date": "2019-06-01"}, "E10000002", True),
        ("Buckinghamshire", "local-authority-area", {"date": "2021-06-01"}, "E06000060", True),
        ("Somerset", "local-authority-area", {}, "E06000066", False),
        ("Somerset", "local-authority-area", {"date": "2022-01-01"}, "E10000027", True),
        # Two combined authorities of one name, one abolished as the other was made.
        ("North East CA", "local-authority-area", {}, "E47000014", False),
        ("North East CA", "local-authority-area", {"date": "2020-01-01"}, "E47000010", True),
        ("Shepway", "local-authority-district", {}, "E07000112", True),  # a former name
        # Misspelt, but one slip from the only district near it: the type confirms it.
        ("Hartlepol", "local-authority-district", {}, "E06000001", True),
        ("Hartlepol", None, {}, "E06000001", False),  # no type: nothing confirms it
        ("Wrarington", "local-authority-district", {}, "E06000007", True),
        # A parent confirms a slip; the ward of that name before 2015 took no part.
        ("Tiinity", "ward", {"parent": "East Lindsey"}, "E05009903", True),
        ("Tiinity", "ward", {}, None, False),  # Trinity wards everywhere
        # A shortened name that only one area of the type holds, nothing else near it.
        ("armagh", "local-authority-district", {}, "N09000002", True),
        ("rhondda", "local-authority-district", {}, "W06000016", True),
        # Without a type, a council and its area are two meanings of one name.
        ("Kent County Council", None, {}, "E10000016", False),
        ("London Borough of Hackney", None, {}, "E09000012", False),
        ("adur district", None, {}, "E07000223", False),
        ("Tees Valley Combined Authority", None, {}, "TVCA", False),
        ("Hull City Council", None, {}, "KHL", False),
        ("Kent County Council", "local-authority-area", {}, "E10000016", True),
        ("Kent County Council", "local-authority", {}, "KEN", True),
        # One ward's whole name, and the start of two cities' names.
        ("Newcastle", None, {}, None, False),
        ("Newcastle", "local-authority-district", {}, "E08000021", False),
        # A county's whole name beside districts named after it is still the county.
        ("Derbyshire", "local-authority-area", {}, "E10000007", True),
        ("Suffolk", "local-authority-area", {}, "E10000029", True),
        # The usual written forms of counties and combined authorities.
        ("cambridgeshire county", "local-authority-area", {}, "E10000003", True),
        ("Greater Manchester CA", "local-authority-area", {}, "E47000001", True),
        ("West Midlands CA", "local-authority-area", {}, "E47000007", True),
        ("Co Durham", "local-authority-area", {}, "E06000047", True),
        # An identifier finds its entry whatever the type chosen.
        ("E10000016", "local-authority-district", {}, "E10000016", True),
        ("E05013043", "local-authority-district", {}, "E05013043", True),
        # The new families' written forms.
        # Sussex's ICB was re-coded in 2024 (E54000053 to E54000064): a date decides.
        ("NHS Sussex Integrated Care Board", "icb", {}, "E54000064", False),
        ("NHS Sussex Integrated Care Board", "icb", {"date": "2025-01-01"}, "E54000064", True),
        ("Sussex ICB", "icb", {"date": "2025-01-01"}, "E54000064", True),
        ("Cheshire and Merseyside ICB", "icb", {}, "E54000008", True),
        ("Northumbria Police", "police-force-area", {}, "E23000007", True),
        ("Broxburn East - 04", "data-zone", {}, "S01013481", True),
        ("zzqx no such place qqzz", None, {}, None, False),
        # Terminated entries stay findable; the date decides between codes of one name.
        ("Aylesbury Vale", "local-authority-district", {}, "E07000004", True),
        ("Gateshead", "local-authority-district", {}, "E08000037", True),
        ("Gateshead", "local-authority-district", {"date": "2010-06-01"}, "E08000020", True),
        ("Barnsley", "local-authority-district", {}, "E08000038", True),  # a recode, 2024
        ("Bedford", "local-authority-district", {}, "E06000055", True),  # district to unitary
        ("Wiltshire", "local-authority-area", {}, "E06000054", True),  # not its 2009 county code
        # The 2010 and 2024 constituencies of one name have other bounds: a date decides.
        ("Bath", "westminster-constituency", {}, "E14001080", False),
        ("Bath", "westminster-constituency", {"date": "2019-12-12"}, "E14000547", True),
        ("Bath", "westminster-constituency", {"date": "2024-07-04"}, "E14001080", True),
        # No date: the former unitary, whose successor (BCP) bears another name.
        ("Bournemouth", "local-authority-district", {}, "E06000028", True),
        ("Bournemouth", "local-authority-district", {"date": "2015"}, "E06000028", True),
        # Wards: a shared name is never matched without a parent to tell them apart.
        ("Castle", "ward", {}, None, False),
        ("Castle", "ward", {"district": "Sunderland"}, "E05001154", True),
        ("Castle", "ward", {"parent": "E08000024"}, "E05001154", True),
        ("Castle", "ward", {"county": "Tyne and Wear"}, None, False),  # Sunderland and Newcastle
        ("Castle", "ward", {"district": "Sunderland City Council"}, "E05001154", True),
        ("Castle", "ward", {"district": "Nowhere At All"}, None, False),
        ("Castle", "ward", {"district": "Leeds"}, None, False),  # vetoed: no Castle in Leeds
        ("Bridge", "ward", {"district": "City of London"}, "E05009294", True),
        # Properties confirm or veto; they never make a match alone.
        ("Hartlepool", None, {"type": "E06"}, "E06000001", True),
        ("Hartlepool", "E06", {"status": "terminated"}, "E06000001", False),
        ("Hartlepool", "E06", {"code": "00EB"}, "E06000001", True),
        ("", "ward", {"district": "Sunderland"}, None, False),
        # E05011548, also "Kippax & Methley" in Leeds, was live on 3 May 2018 alone (the
        # CHD's correction): no rival to the ward that stands.
        ("Kippax & Methley", "ward", {"district": "Leeds"}, "E05011401", True),
        ("Rothwell", "ward", {"district": "Leeds"}, "E05011410", True),
    ],
)
def test_reconcile(reconcile, text, type_id, props, top, match):
    candidates = reconcile(text, type_id, **props)
    if top is None:
        assert not any(matched for _, matched in candidates)
        if text.startswith("zzqx") or not text:
            assert candidates == [] or not candidates[0][1]
        return
    assert candidates[0] == (top, match)
    assert [matched for _, matched in candidates[1:]] == [False] * (len(candidates) - 1)


def test_castle_candidates_are_told_apart(reconcile, db):
    """Every live Castle ward is a candidate, none matched."""
    keys = [key for key, _ in reconcile("Castle", "ward", limit=100)]
    assert {"E05001154", "E05007069", "E05007695"} <= set(keys)


def test_live_ranks_first_without_a_date(reconcile):
    assert [key for key, _ in reconcile("Gateshead", "E08")] == ["E08000037", "E08000020"]


def test_limit(reconcile):
    assert len(reconcile("Castle", "ward", limit=3)) == 3


def test_index_follows_an_edit(db):
    """A curator's edit shows in the next answer: the index catches up from the versions."""
    from registry import services
    from registry.models import Entry

    assert index.current().by_key("E06000001")
    entry = Entry.objects.select_related("register").get(key="E06000001")
    snapshot = services.current_snapshot(entry)
    snapshot["names"] = [
        *snapshot["names"],
        ["en", "alternative", "Monkey Hangers", "2009-01-01", None],
    ]
    services.save_entry(entry.register, entry.key, snapshot, services.Actor(reason="test"))
    matcher = matching.Matcher(index.current(), TODAY)
    found = matcher.reconcile(Query("Monkey Hangers", types.type_filter(["E06"], set()), 5))
    assert [(c.record.key, c.match) for c in found.candidates][:1] == [("E06000001", True)]


def test_typed_look_ups_follow_an_edit(db):
    """The per-type words a misspelling is looked for among, prepared before any query,
    take in an edit without being rebuilt: a new name's typo is found at once."""
    from registry import services
    from registry.models import Entry

    before = index.current()
    before.prepare()
    lad = types.type_filter(["local-authority-district"], before.entity_type_keys)
    assert "hangerston" not in before.vocabulary_of(lad)
    entry = Entry.objects.select_related("register").get(key="E06000001")
    snapshot = services.current_snapshot(entry)
    snapshot["names"] = [
        *snapshot["names"],
        ["en", "alternative", "Hangerston", "2009-01-01", None],
    ]
    services.save_entry(entry.register, entry.key, snapshot, services.Actor(reason="test"))
    after = index.current()
    assert after is not before
    assert "hangerston" in after._vocabularies[(lad.registers, lad.entity_types)][1]
    assert after.tokens_of(lad, "hangerston") == (after.by_key("E06000001")[0].pk,)
    found = matching.Matcher(after, TODAY).reconcile(Query("Hangerstom", lad, 5))
    assert [(c.record.key, c.match) for c in found.candidates][:1] == [("E06000001", True)]


def test_look_ups_of_types_nobody_is_offered_are_kept_for_the_newest_few(db):
    """A client can name any combination of the 187 entity types: each gets its look-ups
    once, but an index keeps only the newest MAX_TYPED of them, besides the offered ones."""
    built = index.current()
    built.prepare()
    offered = set(built._pinned)
    assert len(offered) >= 5
    codes = sorted(built.entity_type_keys)
    named = [
        types.type_filter([a, b], built.entity_type_keys)
        for a, b in zip(codes, codes[1:], strict=False)
    ][: index.MAX_TYPED + 10]
    assert len(named) == index.MAX_TYPED + 10
    for admits in named:
        built.vocabulary_of(admits)
    kept = set(built._filters) - offered
    keys = [(a.registers, a.entity_types) for a in named]
    assert kept == set(keys[-index.MAX_TYPED :])
    assert offered <= set(built._vocabularies)
    # One forgotten is computed again, the same as before.
    first = named[0]
    again = built.admitted(first)
    assert again == frozenset(
        pk for pk, r in built.records.items() if first.admits(r.register, r.entity_types)
    )
    # ... and the oldest of the others kept makes way for it.
    assert keys[0] in built._admitted
    assert keys[10] not in built._admitted and keys[11] in built._admitted
