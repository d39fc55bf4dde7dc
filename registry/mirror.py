"""Reading another registry's change feed, for ``manage.py replay_feed`` (a mirror).

A source is the URL of a feed (``https://registry.example/feed``) or a JSON Lines file of
feed items (a saved ``/feed``). From a URL, the summary (``/feed/head``) gives the registers
and the head; the items are read page by page from this registry's own head
(``?since=N``), following each page's ``Link: <…>; rel="next"`` until a page has none. What
is read is applied by ``registry.services.replay_feed``, which checks every item against the
chain before writing it.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

JSON_LINES = "application/x-ndjson"
PAGE = 1000
_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')

# (url, accept) → (status, headers, body); replaceable, so the tests can read a test client.
Fetch = Callable[[str, str], tuple[int, dict[str, str], bytes]]


class SourceError(Exception):
    """A source that cannot be read as a feed; the message says what went wrong."""


def http_fetch(url: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    if not url.startswith(("http://", "https://")):
        raise SourceError(f"{url} is not an http(s) URL.")
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 (http(s) only, checked above)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise SourceError(f"{url} could not be read: {error}") from None


@dataclass
class Source:
    """A feed to replay: its registers (from the summary; none from a file) and its items."""

    registers: list[dict[str, Any]]
    items: Iterator[dict[str, Any]]
    head: int | None = None


def _lines(data: bytes | Iterator[bytes], where: str) -> Iterator[dict[str, Any]]:
    chunks = data.splitlines() if isinstance(data, bytes) else data
    for number, line in enumerate(chunks, 1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError as error:
            raise SourceError(f"{where}, line {number}, is not JSON: {error}") from None


def open_source(
    source: str, since: int, fetch: Fetch = http_fetch, page: int | None = None
) -> Source:
    """The feed at ``source`` (a URL or a file), read from after item ``since``, ``page``
    items a request (default :data:`PAGE`)."""
    if not source.startswith(("http://", "https://")):
        path = Path(source)
        if not path.is_file():
            raise SourceError(f"{source} is neither a feed URL nor a file.")

        def read_file() -> Iterator[dict[str, Any]]:
            with path.open("rb") as lines:
                yield from _lines(iter(lines), source)

        return Source([], read_file())
    feed = source.rstrip("/")
    status, _, body = fetch(f"{feed}/head", "application/json")
    if status != 200:
        raise SourceError(f"{feed}/head answered {status}: {body[:200]!r}")
    try:
        summary = json.loads(body)
        registers, head = list(summary["registers"]), int(summary["sequence"])
    except (ValueError, KeyError, TypeError):
        raise SourceError(f"{feed}/head is not a feed summary.") from None
    return Source(registers, _pages(feed, since, fetch, page or PAGE), head)


def _pages(feed: str, since: int, fetch: Fetch, page: int) -> Iterator[dict[str, Any]]:
    url: str | None = f"{feed}?{urlencode({'since': since, 'limit': page})}"
    while url:
        status, headers, body = fetch(url, JSON_LINES)
        if status != 200:
            raise SourceError(f"{url} answered {status}: {body[:200]!r}")
        yield from _lines(body, url)
        link = next((v for k, v in headers.items() if k.lower() == "link"), "")
        found = _NEXT.search(link)
        url = urljoin(url, found.group(1)) if found else None


def state() -> dict[str, Any]:
    """Everything a mirror must hold the same as its source, without primary keys: the
    registers, every entry (its version, digest and the snapshot its rows make now), every
    change event (its version and snapshot), every version as the feed records it (sequence,
    digest, entry or event, number, time, author, import run, source, reason, snapshot,
    changes) and the head. Two registries are equal when their states are (JSON-equal)."""
    from . import feed
    from .models import ChangeEvent, Entry, Register
    from .snapshots import entry_snapshots, event_snapshots

    snapshots = entry_snapshots()
    entries = {}
    for pk, slug, key, version, digest, attributes in Entry.objects.values_list(
        "id", "register__slug", "key", "version", "digest", "attributes"
    ):
        entries[f"{slug}/{key}"] = {
            "version": version,
            "digest": digest,
            "attributes": attributes,
            "snapshot": snapshots.get(pk),
        }
    events = event_snapshots()
    return json.loads(
        json.dumps(
            {
                "registers": [
                    dict(r)
                    for r in Register.objects.order_by("slug").values(
                        "slug", "name", "description", "key_pattern", "licence", "attribution"
                    )
                ],
                "entries": dict(sorted(entries.items())),
                "events": {
                    key: {"version": version, "snapshot": events[key]}
                    for key, version in ChangeEvent.objects.order_by("key").values_list(
                        "key", "version"
                    )
                },
                "versions": [
                    {k: v for k, v in item.items() if k != "uri"} for item in feed.items()
                ],
                "head": list(feed.head()),
            },
            sort_keys=True,
        )
    )


def fingerprint() -> str:
    """A SHA-256 of :func:`state`'s content, computed a chunk at a time so that the full
    registry's state need not be held (for comparing a mirror with its source at size)."""
    import hashlib

    from . import feed
    from .models import ChangeEvent, Entry, Register
    from .snapshots import entry_snapshots, event_snapshots

    hasher = hashlib.sha256()

    def add(value: Any) -> None:
        hasher.update(json.dumps(value, sort_keys=True).encode())
        hasher.update(b"\n")

    add(list(Register.objects.order_by("slug").values_list(
        "slug", "name", "description", "key_pattern", "licence", "attribution")))  # fmt: skip
    rows = list(
        Entry.objects.order_by("register__slug", "key").values_list(
            "id", "register__slug", "key", "version", "digest", "attributes"
        )
    )
    for start in range(0, len(rows), 5000):
        chunk = rows[start : start + 5000]
        snapshots = entry_snapshots([row[0] for row in chunk])
        for pk, slug, key, version, digest, attributes in chunk:
            add([f"{slug}/{key}", version, digest, attributes, snapshots.get(pk)])
    events = event_snapshots()
    for key, version in ChangeEvent.objects.order_by("key").values_list("key", "version"):
        add([key, version, events[key]])
    for item in feed.items():
        add({k: v for k, v in item.items() if k != "uri"})
    add(list(feed.head()))
    return hasher.hexdigest()
