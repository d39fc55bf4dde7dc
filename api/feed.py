"""``/feed``: the change feed (``registry.feed``) over HTTP, for mirrors and anyone following
the registry.

- ``GET /feed?since=N&limit=L``: the items after sequence number ``N`` (default 0), at most
  ``L`` (default :data:`PAGE`, at most :data:`MAX_PAGE`), in sequence order, as JSON Lines
  (``application/x-ndjson``, or ``application/jsonl`` if asked for; the default) or Atom
  (``application/atom+xml``: ``/feed.atom`` or by ``Accept``). ``Link: <…>; rel="next"``
  names the next page while there are more items; its absence means this page reached the
  head. A ``since`` beyond the head, or a malformed ``since``/``limit``, is a 400 problem.
- ``HEAD /feed`` and ``GET /feed/head``: the head (latest sequence number and digest), also
  as the headers ``Feed-Head-Sequence`` and ``Feed-Head-Digest`` that every answer carries;
  the summary also gives the registers, which a mirror creates before the first item.
- ``GET /feed/N``: item ``N`` alone, as JSON.

Every answer is public (CORS open) and cacheable: an ETag from the head (items are never
rewritten, so the head fixes every page), Last-Modified the head's record time, and a short
``max-age`` (:data:`CACHE_SECONDS`) because the head moves; a single item never changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import http_date
from rest_framework import exceptions
from rest_framework.request import Request

from registry import feed
from registry.models import Register, Version
from registry.uris import base

from . import http
from .negotiation import RegistryContentNegotiation

PAGE = 1000
MAX_PAGE = 10_000
CACHE_SECONDS = 60
ITEM_CACHE_SECONDS = 86400
EXPOSED = "ETag, Last-Modified, Link, Feed-Head-Sequence, Feed-Head-Digest"


@dataclass(frozen=True)
class Format:
    """What DRF's negotiation needs of a renderer (``media_type``, ``format``)."""

    format: str
    media_type: str


FORMATS = [
    Format("jsonl", "application/x-ndjson"),
    Format("jsonl", "application/jsonl"),
    Format("atom", "application/atom+xml"),
]


def _problem(request, status: int, detail: str, name: str = "") -> HttpResponse:
    """A problem+json answer; with ``name``, a bad parameter of which ``detail`` is said
    (as the lookup API words them: "since: must be …")."""
    # Imported here, as api.sparql does: api.v1 at URLconf import time is a cycle.
    from .v1.problems import PROBLEM_MEDIA_TYPE, problem_body

    invalid = [{"name": name, "reason": detail}] if name else None
    text = f"{name}: {detail}" if name else detail
    body = problem_body(status, text, instance=request.path, invalid_params=invalid)
    response = JsonResponse(body, status=status, content_type=PROBLEM_MEDIA_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _whole(request, name: str, default: int, low: int, high: int | None) -> int:
    value = request.GET.get(name)
    if value is None:
        return default
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise http.BadParameter(name, f"must be a whole number; got {value[:40]!r}.")
    number = int(text)
    if number < low or (high is not None and number > high):
        span = f"from {low} to {high:,}" if high is not None else f"from {low}"
        raise http.BadParameter(name, f"must be {span}; got {number}.")
    return number


@dataclass
class Head:
    sequence: int
    digest: str
    modified: int | None  # the head item's record time, as a timestamp

    @classmethod
    def now(cls) -> Head:
        sequence, digest = feed.head()
        recorded = (
            Version.objects.filter(sequence=sequence).values_list("recorded_at", flat=True).first()
            if sequence
            else None
        )
        return cls(sequence, digest, int(recorded.timestamp()) if recorded else None)

    def headers(self) -> dict[str, str]:
        return {"Feed-Head-Sequence": str(self.sequence), "Feed-Head-Digest": self.digest}


def _finish(response, head: Head, tag: str | None, max_age: int = CACHE_SECONDS):
    for name, value in head.headers().items():
        response[name] = value
    if tag is not None:
        for name, value in http.validator_headers(tag, head.modified).items():
            response[name] = value
    response["Vary"] = "Accept"
    return http.publish(
        response,
        max_age=max_age,
        cors={**http.ANY_ORIGIN, "Access-Control-Expose-Headers": EXPOSED},
    )


def _negotiate(request, suffix: str | None) -> Format | None:
    wanted = suffix or request.GET.get("format")
    if wanted is not None:
        return next((f for f in FORMATS if f.format == wanted), None)
    try:
        chosen, _ = RegistryContentNegotiation().select_renderer(Request(request), FORMATS)
    except (exceptions.NotAcceptable, exceptions.NotFound):
        return None
    return chosen


def _methods(request) -> HttpResponse | None:
    if request.method in ("GET", "HEAD"):
        return None
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        for name, value in http.cors_headers(
            "GET, HEAD", "If-None-Match, If-Modified-Since"
        ).items():
            response[name] = value
        return response
    response = _problem(request, 405, f"The feed is read-only: {request.method} is not allowed.")
    response["Allow"] = "GET, HEAD, OPTIONS"
    return response


def items(request, format: str | None = None):
    """``/feed`` (and ``/feed.jsonl``, ``/feed.atom``): a page of items (module docstring)."""
    refused = _methods(request)
    if refused is not None:
        return refused
    chosen = _negotiate(request, format)
    if chosen is None:
        return _problem(
            request,
            406 if format is None and "format" not in request.GET else 404,
            "The feed is served as JSON Lines (application/x-ndjson, application/jsonl) or "
            "Atom (application/atom+xml, /feed.atom).",
        )
    head = Head.now()
    try:
        since = _whole(request, "since", 0, 0, None)
        limit = _whole(request, "limit", PAGE, 1, MAX_PAGE)
    except http.BadParameter as error:
        return _problem(request, 400, error.reason, error.name)
    if since > head.sequence:
        return _problem(
            request, 400, f"{since} is beyond the head of the feed, item {head.sequence}.", "since"
        )
    tag = http.etag("feed", base(), chosen.media_type, since, limit, head.sequence, head.digest)
    cached = http.conditional_response(request, tag, head.modified)
    if cached is not None:
        return _finish(cached, head, tag)
    if request.method == "HEAD":
        response = HttpResponse(content_type=chosen.media_type)
    elif chosen.format == "atom":
        response = StreamingHttpResponse(
            _atom(request, since, limit, head), content_type=f"{chosen.media_type}; charset=utf-8"
        )
    else:
        response = StreamingHttpResponse(_json_lines(since, limit), content_type=chosen.media_type)
    last = min(since + limit, head.sequence)
    links = []
    if last < head.sequence:
        links.append(f'<{_page_path(request, last, limit, format)}>; rel="next"')
    links.append('</feed/head>; rel="describedby"')
    response["Link"] = ", ".join(links)
    return _finish(response, head, tag)


def _page_path(request, since: int, limit: int, format: str | None) -> str:
    query = {"since": since, "limit": limit}
    if request.GET.get("format"):
        query["format"] = request.GET["format"]
    return f"/feed{'.' + format if format else ''}?{urlencode(query)}"


def _line(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


def _json_lines(since: int, limit: int) -> Iterator[bytes]:
    chunk: list[str] = []
    for item in feed.items(since, limit):
        chunk.append(_line(item))
        if len(chunk) == 200:
            yield "".join(chunk).encode("utf-8")
            chunk = []
    yield "".join(chunk).encode("utf-8")


def _atom(request, since: int, limit: int, head: Head) -> Iterator[bytes]:
    """RFC 4287 Atom, in sequence order (oldest first, as RFC 5005 pages are read), each
    entry's content the item as JSON."""
    root = base()
    updated = feed.stamp_of_timestamp(head.modified) if head.modified else "1970-01-01T00:00:00Z"
    links = [("self", request.build_absolute_uri(_page_path(request, since, limit, "atom")))]
    if min(since + limit, head.sequence) < head.sequence:
        after = min(since + limit, head.sequence)
        links.append(
            ("next", request.build_absolute_uri(_page_path(request, after, limit, "atom")))
        )
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n',
        f"<id>{escape(root)}/feed</id>\n<title>Reference Registry: change feed</title>\n",
        f"<updated>{updated}</updated>\n<author><name>Reference Registry</name></author>\n",
        *(f"<link rel={quoteattr(r)} href={quoteattr(h)}/>\n" for r, h in links),
    ]
    yield "".join(parts).encode("utf-8")
    for item in feed.items(since, limit):
        what = item["entry"] or f"change-event/{item['event']}"
        who = item["who"]["user"] or (
            f"import run {item['who']['import_run']}" if item["who"]["import_run"] else "unknown"
        )
        alternate = f"{root}/feed/{item['sequence']}"
        yield (
            "<entry>\n"
            f"<id>{escape(root)}/feed/{item['sequence']}</id>\n"
            f"<title>{escape(what)} version {item['number']}</title>\n"
            f"<updated>{item['recorded_at']}</updated>\n"
            f"<author><name>{escape(who)}</name></author>\n"
            f'<link rel="related" href={quoteattr(item["uri"])}/>\n'
            f'<link rel="alternate" type="application/json" '
            f"href={quoteattr(alternate)}/>\n"
            f"<summary>{escape(item['why'])}</summary>\n"
            f'<content type="application/json">{escape(_line(item).strip())}</content>\n'
            "</entry>\n"
        ).encode()
    yield b"</feed>\n"


def summary(request):
    """``/feed/head``: the head of the feed and the registers a mirror needs first."""
    refused = _methods(request)
    if refused is not None:
        return refused
    head = Head.now()
    tag = http.etag("feed-head", base(), head.sequence, head.digest, _registers())
    cached = http.conditional_response(request, tag, head.modified)
    if cached is not None:
        return _finish(cached, head, tag)
    body = {
        "sequence": head.sequence,
        "digest": head.digest,
        "recorded_at": feed.stamp_of_timestamp(head.modified) if head.modified else None,
        "feed": f"{base()}/feed",
        "registers": _registers(),
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    if request.method == "HEAD":
        response.content = b""
    return _finish(response, head, tag)


def _registers() -> list[dict[str, str]]:
    fields = ("slug", "name", "description", "key_pattern", "licence", "attribution")
    return [
        dict(zip(fields, row, strict=True))
        for row in Register.objects.order_by("slug").values_list(*fields)
    ]


def item(request, sequence: int):
    """``/feed/N``: one item, as JSON (404 beyond the head)."""
    refused = _methods(request)
    if refused is not None:
        return refused
    head = Head.now()
    found = next(feed.items(sequence - 1, 1), None) if 1 <= sequence <= head.sequence else None
    if found is None:
        return _problem(
            request, 404, f"There is no feed item {sequence}; the head is {head.sequence}."
        )
    tag = http.etag("feed-item", base(), found["digest"])
    cached = http.conditional_response(request, tag, None)
    if cached is not None:
        response = cached
    else:
        response = HttpResponse(_line(found).encode("utf-8"), content_type="application/json")
        response["Last-Modified"] = http_date(feed.parse_stamp(found["recorded_at"]).timestamp())
    return _finish(response, head, tag, max_age=ITEM_CACHE_SECONDS)
