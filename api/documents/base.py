"""What every document shares: the as-at date, validators computed before rendering, the
cache of rendered bodies, public headers, and links to the other formats.

Documents are public reference data that change only when the registry does, so each
answer carries an ETag and Last-Modified computed *before* any rendering, from the entry
(or page) asked for, the date, the format and the registry's data version (the newest
:class:`~registry.models.Version`, which every change writes). A conditional request is
answered 304 from those alone, and a rendered body is kept in the cache under the same
validator, so a repeated request is a few indexed queries and a cache read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.models import Entry, Register, Version
from registry.uris import base
from registry.validtime import today

from ..negotiation import RegistryContentNegotiation
from ..renderers import (
    DOCUMENT_RENDERERS,
    MACHINE_FORMATS,
    HTMLRenderer,
    JSONRenderer,
    Representation,
)

# Bump when templates or representations change, so validators and cached bodies renew.
RENDER_VERSION = "2"
CACHE_SECONDS = 3600


FORMATS = [
    ("html", "HTML"),
    ("json", "JSON"),
    ("jsonld", "JSON-LD"),
    ("ttl", "Turtle"),
    ("rdf", "RDF/XML"),
    ("nt", "N-Triples"),
    ("csv", "CSV"),
]


def requested_date(request) -> tuple[dt.date, bool]:
    """The as-at date of a request and whether it was asked for; a malformed one is a 400."""
    value = request.GET.get("date")
    if value is None or value == "":
        return today(), False
    try:
        return dt.date.fromisoformat(value), True
    except ValueError:
        raise exceptions.ParseError(
            f"date must be a calendar date written YYYY-MM-DD, such as 2024-01-01; "
            f"got {value[:40]!r}."
        ) from None


def _moment(value: Any) -> dt.datetime | None:
    # A raw cursor gives SQLite's text (UTC, as Django stores it) and PostgreSQL's datetime.
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def data_version() -> tuple[int, dt.datetime | None]:
    """The newest version's number and time: it changes whenever anything in the registry
    changes, so it is part of every validator. (Raw SQL: this runs on every request, and
    the ORM would cost more than the query.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, recorded_at FROM {Version._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608 (a table name, no input)
        )
        row = cursor.fetchone()
    return (row[0], _moment(row[1])) if row else (0, None)


@dataclass
class EntryRef:
    """What validating a request needs to know of an entry, read in one indexed query with
    the data version; the entry itself is loaded only when its document has to be built."""

    pk: int
    register: Register
    key: str
    version: int
    data_version: tuple[int, dt.datetime | None]

    def load(self) -> Entry:
        return Entry.objects.select_related("register").get(pk=self.pk)


def entry_ref(register: Register, key: str) -> EntryRef | None:
    entries, versions = Entry._meta.db_table, Version._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.version, v.id, v.recorded_at FROM {entries} e "  # noqa: S608 (table names; values are parameters)
            f"LEFT JOIN {versions} v ON v.id = (SELECT MAX(id) FROM {versions}) "
            "WHERE e.register_id = %s AND e.key = %s",
            [register.pk, key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return EntryRef(row[0], register, key, row[1], (row[2] or 0, _moment(row[3])))


def _etag(*parts: Any) -> str:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def _last_modified(changed: dt.datetime | None, date: dt.date, explicit: bool) -> int | None:
    """When a representation last changed: the last change to the registry or, for the
    default "today" view, the start of today (it moves on at midnight)."""
    moments = [changed] if changed else []
    if not explicit:
        moments.append(
            timezone.make_aware(
                dt.datetime.combine(date, dt.time.min), timezone.get_default_timezone()
            )
        )
    return int(max(moments).timestamp()) if moments else None


def content_type(renderer) -> str:
    # text/* types default to ISO-8859-1 without a charset; JSON, JSON-LD, N-Triples and
    # RDF/XML are UTF-8 by definition (RDF/XML declares it in its XML declaration).
    if renderer.media_type.startswith("text/"):
        return f"{renderer.media_type}; charset=utf-8"
    return renderer.media_type


def public_headers(response: HttpResponseBase, machine: bool) -> HttpResponseBase:
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    if machine:
        response["Access-Control-Allow-Origin"] = "*"
    return response


class DocumentView(APIView):
    """A document in every format, with validators computed before rendering.

    Subclasses implement :meth:`target` (find what the URL names, or return a response
    such as a 404), :meth:`version_of` (what, besides the data version, its content
    depends on) and :meth:`represent`.
    """

    renderer_classes = DOCUMENT_RENDERERS
    content_negotiation_class = RegistryContentNegotiation
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    # Not part of the lookup API's OpenAPI description.
    schema = None

    def perform_content_negotiation(self, request, force=False):
        try:
            return super().perform_content_negotiation(request)
        except Exception:
            if force:
                # Errors found while negotiating (406, unknown suffix) are told in JSON.
                return JSONRenderer(), JSONRenderer.media_type
            raise

    def target(self, request, date: dt.date, **kwargs) -> Any:
        raise NotImplementedError

    def version_of(self, target: Any) -> Any:
        return None

    def represent(self, request, target: Any, date: dt.date, explicit: bool) -> Representation:
        raise NotImplementedError

    def thing_uri(self, target: Any) -> str | None:
        return None

    def get(self, request, format=None, **kwargs):
        date, explicit = requested_date(request)
        target = self.target(request, date, **kwargs)
        if isinstance(target, HttpResponseBase):
            return target
        renderer = request.accepted_renderer
        version, changed = getattr(target, "data_version", None) or data_version()
        query = sorted((k, v) for k, v in request.GET.items() if k != "format")
        etag = _etag(
            RENDER_VERSION,
            base(),
            type(self).__name__,
            sorted(kwargs.items()),
            query,
            renderer.format,
            date.isoformat(),
            explicit,
            # The newest version's time as well as its number: a number can come round again
            # after a rolled-back write (SQLite, and tests), a microsecond timestamp cannot.
            version,
            changed,
            self.version_of(target),
        )
        last_modified = _last_modified(changed, date, explicit)
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            body = cache.get(f"document:{etag}")
            if body is None:
                representation = self.represent(request, target, date, explicit)
                body = renderer.render(representation, renderer.media_type, {"request": request})
                cache.set(f"document:{etag}", body, CACHE_SECONDS)
            response = HttpResponse(body, content_type=content_type(renderer))
        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        uri = self.thing_uri(target)
        if uri:
            response["Link"] = f'<{uri}>; rel="describes"'
        return public_headers(response, machine=renderer.format in MACHINE_FORMATS)

    def finalize_response(self, request, response, *args, **kwargs):
        accepted = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and not isinstance(accepted, HTMLRenderer | JSONRenderer):
            # An error raised in a view (a bad date, say) cannot be told in Turtle or CSV.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def format_links(path: str, request) -> list[dict[str, str]]:
    date = request.GET.get("date")
    query = f"?{urlencode({'date': date})}" if date else ""
    return [
        {"label": label, "url": f"{path}.{fmt}{query}", "format": fmt} for fmt, label in FORMATS
    ]


def page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise exceptions.ParseError(f"page must be a whole number from 1; got {value[:20]!r}.")
    return int(value)
