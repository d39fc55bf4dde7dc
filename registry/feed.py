"""The change feed: every version, in recording order, as an append-only hash chain.

Each :class:`~registry.models.Version` gets, in the transaction that writes it, the next
sequence number (``Version.sequence``, 1, 2, 3 …, never reused) and ``Version.chain``, the
SHA-256 of its feed item, which includes the previous item's digest. Rewriting any stored
version (its snapshot, its reason, its time …) changes its item's digest and so breaks the
chain at that item: :func:`verify` names the first one that does not match.

The canonical serialisation (what a mirror recomputes; also in the README)
--------------------------------------------------------------------------
An item is the JSON object with exactly these members (:data:`COVERED`):

- ``sequence``: the integer sequence number;
- ``recorded_at``: the record time in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (six digits);
- ``who``: ``{"user": name or null, "import_run": id or null, "source": text}``, where the
  user's name is the one recorded on the version when it was written
  (``Version.author``), not the account's name today: renaming a user changes no digest;
- ``why``: the change note (text, possibly empty);
- ``entry``: ``"register/key"`` of the entry changed, or null for a change event;
- ``event``: the key of the change event changed, or null for an entry;
- ``number``: the version number of that entry or event (1 for its first version);
- ``snapshot``: the complete snapshot after the change, as stored;
- ``changes``: the difference from the previous snapshot, as stored;
- ``previous``: the previous item's digest (64 lower-case hex digits), ``""`` for item 1.

It is serialised as UTF-8 JSON with object keys sorted, no whitespace (separators ``,`` and
``:``), non-ASCII characters written as themselves, and no NaN or infinities: Python's
``json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``. The item's
``digest`` is the lower-case hex SHA-256 of those bytes. The feed publishes each item with
two members more, which the digest does not cover: its ``digest``, and ``uri``, the
persistent URI of the entry or event (minted from ``REGISTRY_URI_BASE``, so a mirror
serving under another base publishes the same chain).

Sequence numbers are assigned under a lock on the one :class:`~registry.models.FeedHead` row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite lets one writer in at a time), inside the
write transaction, so two concurrent writers cannot both extend the same item: the second
waits for the first to commit and chains after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from . import uris
from .models import FeedHead, Version

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def stamp(moment: dt.datetime) -> str:
    """A record time as the feed writes it (UTC, microseconds, ``Z``)."""
    return moment.astimezone(dt.UTC).strftime(TIME_FORMAT)


def stamp_of_timestamp(seconds: float) -> str:
    """A POSIX timestamp as an RFC 3339 UTC instant (whole seconds), for Atom."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> dt.datetime:
    """A record time as the feed writes it (:func:`stamp`), read back; ``ValueError`` if it
    is not one."""
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=dt.UTC)


def canonical_bytes(item: dict[str, Any]) -> bytes:
    """The canonical serialisation of an item (without its ``digest``)."""
    return json.dumps(
        item, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


COVERED = (
    "sequence", "recorded_at", "who", "why", "entry", "event", "number", "snapshot",
    "changes", "previous",
)  # fmt: skip


def item_digest(item: dict[str, Any]) -> str:
    """The SHA-256 (hex) of an item's canonical serialisation: its :data:`COVERED` members
    (a published item's ``digest`` and ``uri`` are left out; a missing member is a
    ``KeyError``)."""
    body = {name: item[name] for name in COVERED}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def make_item(
    *,
    sequence: int,
    recorded_at: dt.datetime,
    user: str | None,
    import_run: int | None,
    source: str,
    reason: str,
    entry: str | None,
    event: str | None,
    number: int,
    snapshot: Any,
    changes: Any,
    previous: str,
) -> dict[str, Any]:
    """A feed item (without its digest) from a version's parts."""
    return {
        "sequence": sequence,
        "recorded_at": stamp(recorded_at),
        "who": {"user": user, "import_run": import_run, "source": source},
        "why": reason,
        "entry": entry,
        "event": event,
        "number": number,
        # Through JSON, so records (named tuples) are the arrays the database stores.
        "snapshot": json.loads(json.dumps(snapshot)),
        "changes": json.loads(json.dumps(changes)),
        "previous": previous,
    }


@dataclass
class Chain:
    """The head of the chain, locked for one write transaction (:func:`extend`)."""

    head: FeedHead

    def next(self, **parts: Any) -> tuple[int, str]:
        """The sequence number and digest of the next item, made of ``parts`` (the
        arguments of :func:`make_item` but ``sequence`` and ``previous``)."""
        sequence = self.head.sequence + 1
        value = item_digest(make_item(sequence=sequence, previous=self.head.digest, **parts))
        self.head.sequence, self.head.digest = sequence, value
        return sequence, value

    def save(self) -> None:
        self.head.save(update_fields=["sequence", "digest"])


def extend() -> Chain:
    """Lock the head of the chain for the current transaction (which must be open)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("The feed is extended only inside the write transaction.")
    head = FeedHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head = FeedHead.objects.create(pk=1, sequence=0, digest="")
    return Chain(head)


def head() -> tuple[int, str]:
    """The latest sequence number and digest (0 and ``""`` before the first version)."""
    row = FeedHead.objects.filter(pk=1).values_list("sequence", "digest").first()
    return row or (0, "")


def versions(since: int = 0, limit: int | None = None):
    """Versions after sequence ``since``, in sequence order, with what their items need."""
    rows = (
        Version.objects.filter(sequence__gt=since)
        .order_by("sequence")
        .select_related("entry__register", "event")
    )
    return rows[:limit] if limit is not None else rows


def item_of(version: Version, previous: str) -> dict[str, Any]:
    """The feed item of a stored version (without its digest), chained to ``previous``."""
    return make_item(
        sequence=version.sequence,
        recorded_at=version.recorded_at,
        user=version.author or None,
        import_run=version.import_run_id,
        source=version.source,
        reason=version.reason,
        entry=f"{version.entry.register.slug}/{version.entry.key}" if version.entry_id else None,
        event=version.event.key if version.event_id else None,
        number=version.number,
        snapshot=version.snapshot,
        changes=version.changes,
        previous=previous,
    )


def previous_digest(since: int) -> str:
    """The digest of item ``since`` (``""`` for 0), which item ``since + 1`` chains to."""
    if since <= 0:
        return ""
    return Version.objects.filter(sequence=since).values_list("chain", flat=True).first() or ""


def uri_of(item: dict[str, Any]) -> str:
    """The persistent URI of what an item changed (an entry, or a change event)."""
    if item["entry"] is not None:
        return uris.entry_uri(*item["entry"].split("/", 1))
    return uris.event_uri(item["event"])


def items(since: int = 0, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Published items after ``since``, in sequence order: each recomputed from its stored
    version, with the stored digest and the URI of what it changed, as a mirror reads them
    (so a rewritten version shows as an item whose content does not match its digest)."""
    previous = previous_digest(since)
    for version in versions(since, limit).iterator(chunk_size=2000):
        item = item_of(version, previous)
        item["digest"] = version.chain
        item["uri"] = uri_of(item)
        previous = version.chain
        yield item


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def malformed(item: Any) -> str | None:
    """What is wrong with the shape of a published item (as a reason, "it …"), or None: the
    members a mirror writes must be of the kinds :func:`make_item` gives them."""
    if not isinstance(item, dict):
        return "it is not a JSON object"
    missing = [name for name in (*COVERED, "digest") if name not in item]
    if missing:
        return f"it has no {missing[0]!r}"
    who = item["who"]
    checks = [
        (isinstance(item["sequence"], int), "sequence"),
        (isinstance(item["recorded_at"], str), "recorded_at"),
        (isinstance(who, dict) and set(who) == {"user", "import_run", "source"}, "who"),
        (isinstance(item["why"], str), "why"),
        ((item["entry"] is None) != (item["event"] is None), "entry or event"),
        (
            item["entry"] is None or (isinstance(item["entry"], str) and "/" in item["entry"]),
            "entry",
        ),
        (item["event"] is None or isinstance(item["event"], str), "event"),
        (isinstance(item["number"], int) and item["number"] >= 1, "number"),
        (isinstance(item["snapshot"], dict), "snapshot"),
        (isinstance(item["changes"], dict), "changes"),
        (isinstance(item["digest"], str) and bool(_HEX64.match(item["digest"])), "digest"),
    ]
    if isinstance(who, dict):
        checks += [
            (who.get("user") is None or isinstance(who["user"], str), "who.user"),
            (who.get("import_run") is None or isinstance(who["import_run"], int), "who.import_run"),
            (isinstance(who.get("source"), str), "who.source"),
        ]
    for ok, name in checks:
        if not ok:
            return f"its {name} is not of the form the feed gives it"
    try:
        parse_stamp(item["recorded_at"])
    except ValueError:
        return "its recorded_at is not of the form the feed gives it"
    return None


@dataclass
class Broken:
    sequence: int
    reason: str


def check(stream: Iterable[dict[str, Any]], previous: str = "", after: int = 0) -> Broken | None:
    """The first item of ``stream`` (published items) that does not follow the chain, or
    None: each must have the next sequence number, name the previous digest, and carry the
    digest of its own content."""
    expected = after + 1
    for item in stream:
        if not isinstance(item, dict):
            return Broken(expected, "it is not a JSON object")
        if item.get("sequence") != expected:
            return Broken(expected, f"item {expected} is missing (found {item.get('sequence')})")
        if item.get("previous") != previous:
            return Broken(expected, "it does not chain to the item before it")
        wrong = malformed(item)
        if wrong:
            return Broken(expected, wrong)
        try:
            matches = item_digest(item) == item.get("digest")
        except (TypeError, ValueError):  # content JSON cannot carry (NaN, say)
            matches = False
        if not matches:
            return Broken(expected, "its content does not match its digest")
        previous = item["digest"]
        expected += 1
    return None


def verify() -> tuple[int, Broken | None]:
    """Recompute every stored version's item from its row and check the chain: the number
    of items checked and the first broken one (or None)."""
    previous, count = "", 0
    for version in versions().iterator(chunk_size=2000):
        count += 1
        if version.sequence != count:
            return count, Broken(count, f"item {count} is missing (found {version.sequence})")
        if item_digest(item_of(version, previous)) != version.chain:
            return count, Broken(count, "its stored version does not match its digest")
        previous = version.chain
    unnumbered = Version.objects.filter(sequence__isnull=True).count()
    if unnumbered:
        return count, Broken(count + 1, f"{unnumbered} versions have no sequence number")
    if head() != (count, previous):
        return count, Broken(count, "the head of the feed does not name the last item")
    return count, None
