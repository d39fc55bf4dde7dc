"""The change feed's hash chain: numbered in recording order, verified, tampering named."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from registry import feed
from registry.models import Version

pytestmark = pytest.mark.django_db


def test_an_edited_entry_chains_each_version(empty_registry, factory):
    entry = factory.make_entry(key="E06900001", name="Firstname")
    factory.make_entry(key="E06900001", name="Secondname")
    sequences = list(Version.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    count, broken = feed.verify()
    assert broken is None
    assert count == len(sequences)
    items = list(feed.items())
    assert [i["sequence"] for i in items] == sequences
    assert items[0]["previous"] == ""
    assert all(b["previous"] == a["digest"] for a, b in zip(items, items[1:], strict=False))
    assert feed.head() == (items[-1]["sequence"], items[-1]["digest"])
    last = [i for i in items if i["entry"] == f"statistical-geography/{entry.key}"][-1]
    assert last["number"] == 2
    out = StringIO()
    call_command("verify_feed", stdout=out)
    assert f"{count:,} feed items verified" in out.getvalue()


def test_tampering_with_one_version_is_named(empty_registry, factory):
    factory.make_entry(key="E06900001", name="Firstname")
    factory.make_entry(key="E06900002", name="Othername")
    victim = Version.objects.get(entry__key="E06900001")
    snapshot = victim.snapshot
    snapshot["names"][0][2] = "Rewritten"
    Version.objects.filter(pk=victim.pk).update(snapshot=snapshot)
    with pytest.raises(CommandError) as raised:
        call_command("verify_feed", stdout=StringIO())
    assert str(raised.value) == (
        f"Feed item {victim.sequence} is broken: its stored version does not match its digest."
    )
