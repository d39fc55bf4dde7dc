"""Persistent URIs and the documents about them.

``/id/{register}/{key}`` names a thing and answers 303 See Other to ``/doc/{register}/{key}``,
the document about it, keeping the query string. Every document comes in every format
(HTML, JSON, JSON-LD, Turtle, RDF/XML, N-Triples, CSV), chosen by suffix or ``Accept``
(``api.negotiation``), as at any date (``?date=YYYY-MM-DD``, default today).

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
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geography.hierarchies import BESIDE_BREADCRUMB, BREADCRUMB_ORDER
from geography.registers import AREAS, ENTITY_TYPES
from registry import exports, facts, profiles, rdf, validtime
from registry.documents import EventSummary, Link, describe, describe_events, labeller
from registry.models import (
    EVENT_KIND,
    RELATION_KIND,
    STATUS,
    ChangeEvent,
    Entry,
    Identifier,
    Register,
    Relation,
    State,
    Version,
    covering,
)
from registry.statistics import register_summaries, registers
from registry.uris import EVENTS, base
from registry.validtime import today

from .negotiation import RegistryContentNegotiation
from .renderers import (
    DOCUMENT_RENDERERS,
    MACHINE_FORMATS,
    RDF_RENDERERS,
    HTMLRenderer,
    JSONRenderer,
    Representation,
)

# Bump when templates or representations change, so validators and cached bodies renew.
RENDER_VERSION = "2"
CACHE_SECONDS = 3600
LISTING_PAGE = 100
CHILDREN_PAGE = 50
FORMATS = [
    ("html", "HTML"),
    ("json", "JSON"),
    ("jsonld", "JSON-LD"),
    ("ttl", "Turtle"),
    ("rdf", "RDF/XML"),
    ("nt", "N-Triples"),
    ("csv", "CSV"),
]


# ---------------------------------------------------------------------------------------
# Request parsing and validators


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


def _content_type(renderer) -> str:
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


def _accepts_html(request) -> bool:
    """Whether an error is best told as a page: the document view's negotiated format if
    there is one, else HTML or JSON by ``Accept``."""
    accepted = getattr(request, "accepted_renderer", None)
    if accepted is not None:
        return isinstance(accepted, HTMLRenderer)
    try:
        renderer, _ = RegistryContentNegotiation().select_renderer(
            Request(getattr(request, "_request", request)), [HTMLRenderer(), JSONRenderer()]
        )
    except (exceptions.NotAcceptable, Http404):
        return False
    return isinstance(renderer, HTMLRenderer)


def error_response(request, status: int, detail: str, *, html: bool | None = None, **extra):
    """A short error: an HTML page for people, JSON for programs."""
    if html is None:
        html = _accepts_html(request)
    data = {"detail": detail, **extra}
    if html:
        body = render_to_string("api/error.html", {"status": status, **data}, request=request)
        return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response = HttpResponse(
        JSONRenderer().render(data), status=status, content_type="application/json"
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


# ---------------------------------------------------------------------------------------
# Finding entries


@dataclass
class Lookup:
    """The outcome of looking up ``register/key``: an entry, or the response to send."""

    entry: EntryRef | None = None
    response: HttpResponseBase | None = None


def close_matches(register: Register, key: str, limit: int = 3) -> list[Link]:
    """Existing keys next to ``key`` in the register (the same entity type first), for a
    404 page: E07999999 suggests the highest E07 codes."""
    entries = Entry.objects.filter(register=register)
    prefix = key[:3]
    above = list(entries.filter(key__gt=key, key__startswith=prefix).order_by("key")[:limit])
    below = list(entries.filter(key__lt=key, key__startswith=prefix).order_by("-key")[:limit])
    found = sorted(below + above, key=lambda e: e.key)
    labels = facts.labels([e.pk for e in found], today())
    return [Link(register.slug, e.key, labels.get(e.pk, e.key)) for e in found]


def find_entry(request, register_slug: str, key: str, suffix: str = "", kind: str = "doc"):
    """The entry ``register_slug/key``, or the response to give instead: 404 for an unknown
    register or key (with close matches), 400 for a key the register could never hold, and
    a redirect to the upper-case key when only the case was wrong."""
    register = registers().get(register_slug)
    if register is None:
        return Lookup(
            response=error_response(
                request,
                404,
                f"There is no register called {register_slug!r}.",
                registers=sorted(registers()),
            )  # fmt: skip
        )
    if not re.match(register.key_pattern, key):
        if re.match(register.key_pattern, key.upper()):
            target = f"/{kind}/{register.slug}/{key.upper()}{suffix}"
            query = request.META.get("QUERY_STRING")
            response = HttpResponse(status=301)
            response["Location"] = f"{target}?{query}" if query else target
            return Lookup(response=response)
        return Lookup(
            response=error_response(
                request,
                400,
                f"{key[:40]!r} is not a well-formed key in the {register.slug} register: keys "
                f"match the pattern {register.key_pattern}.",
            )
        )
    entry = entry_ref(register, key)
    if entry is None:
        matches = close_matches(register, key)
        return Lookup(
            response=error_response(
                request,
                404,
                f"{key} is a well-formed {register.slug} key, but the registry holds no entry "
                f"with it.",
                register=register.slug,
                key=key,
                close_matches=[link.as_dict() for link in matches],
                search=f"/search?{urlencode({'q': key})}",
            )
        )
    return Lookup(entry=entry)


# ---------------------------------------------------------------------------------------
# /id/… : 303 See Other to the document


def _see_other(location: str, request) -> HttpResponse:
    query = request.META.get("QUERY_STRING")
    response = HttpResponse(status=303)
    # A path, not an absolute URL: the document lives on whichever host resolved the URI.
    response["Location"] = f"{location}?{query}" if query else location
    return public_headers(response, machine=True)


def resolve_entry(request, register: str, key: str, format: str | None = None):
    """``/id/{register}/{key}[.fmt]`` → 303 to ``/doc/{register}/{key}[.fmt]``."""
    suffix = f".{format}" if format else ""
    if register == EVENTS:
        if not ChangeEvent.objects.filter(key=key).exists():
            return error_response(request, 404, f"There is no change event {key[:100]!r}.")
        return _see_other(f"/doc/{EVENTS}/{key}{suffix}", request)
    found = find_entry(request, register, key, suffix, kind="id")
    if found.response is not None:
        return found.response
    return _see_other(f"/doc/{register}/{key}{suffix}", request)


def resolve_register(request, register: str, format: str | None = None):
    """``/id/{register}`` → 303 to the register's listing."""
    suffix = f".{format}" if format else ""
    if register != EVENTS and register not in registers():
        return error_response(request, 404, f"There is no register called {register!r}.")
    return _see_other(f"/doc/{register}{suffix}", request)


def resolve_term(request, term: str):
    """``/def/{term}`` → 303 to the vocabulary document, at the term."""
    response = HttpResponse(status=303)
    response["Location"] = f"/def/#{term}"
    return public_headers(response, machine=True)


# ---------------------------------------------------------------------------------------
# Documents


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
            response = HttpResponse(body, content_type=_content_type(renderer))
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


def same_as(register: str, key: str) -> str | None:
    """Another publisher's URI for the same thing, if the register's profile names one."""
    found = profiles.profile(register).same_as
    return found(key) if found else None


def _formats(path: str, request) -> list[dict[str, str]]:
    date = request.GET.get("date")
    query = f"?{urlencode({'date': date})}" if date else ""
    return [
        {"label": label, "url": f"{path}.{fmt}{query}", "format": fmt} for fmt, label in FORMATS
    ]


class EntryRepresentation(Representation):
    template_name = "api/entry.html"

    def __init__(self, request, entry: Entry, date: dt.date, explicit: bool):
        self.request = request
        self.entry = entry
        self.date = date
        self.explicit = explicit

    @cached_property
    def doc(self):
        return describe(self.entry, self.date)

    @property
    def seen_on(self) -> dt.date:
        return self.doc.state.seen_on

    def as_json(self):
        return self.doc.as_dict()

    def as_graph(self):
        return rdf.entry_graph(self.doc, explicit_date=self.explicit)

    def as_rows(self):
        return exports.CSV_HEADER, [exports.csv_row(self.doc.facts)]

    def breadcrumb(self) -> list[Link]:
        """The chain of parents up to the top, following at each step the nearest kind of
        parent (a ward's district before its county, a county before its region), as the
        entry is described on its date."""
        day = self.seen_on

        def parents_of(node: facts.Ref) -> dict[str, facts.Ref]:
            rows = facts.fetch(
                Relation.objects.filter(
                    covering(day), subject_id=node.pk, kind=RELATION_KIND.PARENT
                )
                .exclude(hierarchy__in=BESIDE_BREADCRUMB)
                .order_by("hierarchy"),
                "hierarchy",
                "object_id",
                "object__register__slug",
                "object__key",
            )
            return {h: facts.Ref(pk, register, key) for h, pk, register, key in rows}

        chain = validtime.chain(self.doc.rows.ref, parents_of, BREADCRUMB_ORDER)
        link = labeller(facts.labels(chain, self.date))
        return [link(ref) for ref in reversed(chain)]

    def children(self) -> dict[str, Any]:
        """Entries directly within this one on the date, counted by entity type, with one
        page of the chosen type."""
        day = self.seen_on
        within = Relation.objects.filter(
            covering(day), kind=RELATION_KIND.PARENT, object=self.entry
        ).values("subject_id")
        counts = list(
            State.objects.filter(covering(day), entry_id__in=within)
            .values("entity_type__key", "entity_type_id")
            .annotate(n=Count("id"))
            .order_by("entity_type__key")
        )
        if not counts:
            return {"groups": [], "total": 0}
        type_names = facts.labels([row["entity_type_id"] for row in counts], today())
        groups = [
            {
                "type": row["entity_type__key"],
                "name": type_names.get(row["entity_type_id"], row["entity_type__key"]),
                "count": row["n"],
            }
            for row in counts
        ]
        chosen = self.request.GET.get("children")
        group = next((g for g in groups if g["type"] == chosen), groups[0])
        page = _page_number(self.request.GET.get("page"))
        pages = max(1, -(-group["count"] // CHILDREN_PAGE))
        page = min(page, pages)
        members = list(
            Entry.objects.filter(
                pk__in=State.objects.filter(
                    covering(day), entry_id__in=within, entity_type__key=group["type"]
                ).values("entry_id")
            )
            .select_related("register")
            .order_by("key")[(page - 1) * CHILDREN_PAGE : page * CHILDREN_PAGE]
        )
        labels = facts.labels([e.pk for e in members], self.date)
        return {
            "groups": groups,
            "group": group,
            "members": [Link(e.register.slug, e.key, labels.get(e.pk, e.key)) for e in members],
            "page": page,
            "pages": pages,
            "total": sum(g["count"] for g in groups),
        }

    def timeline(self) -> list[dict[str, Any]]:
        doc = self.doc
        life = doc.state.lifetime
        items: list[dict[str, Any]] = []
        if life.operative:
            items.append({"date": life.operative, "what": "Operative: the code came into use"})
        for name in doc.rows.names:
            if name.start and life.operative and name.start > life.operative:
                language = "Welsh" if name.language == "cy" else "English"
                items.append(
                    {
                        "date": name.start,
                        "what": f"{language} {name.kind} name became “{name.text}”",
                    }
                )
        for event in doc.events:
            items.append({"date": event.date, "event": event})
        if life.terminated:
            items.append({"date": life.terminated, "what": "Terminated: last day in use"})
        return sorted(items, key=lambda item: (item["date"], "event" in item))

    def entity_members(self) -> dict[str, Any] | None:
        if self.entry.register.slug != ENTITY_TYPES:
            return None
        states = State.objects.filter(covering(self.date), entity_type=self.entry)
        return {
            "live": states.filter(status=STATUS.LIVE).count(),
            "terminated": states.filter(status=STATUS.TERMINATED).count(),
        }

    def context(self):
        doc = self.doc
        path = f"/doc/{doc.register}/{doc.key}"
        return {
            "doc": doc,
            "data": doc.as_dict(),
            "register": self.entry.register,
            "date": self.date,
            "explicit": self.explicit,
            "today": today(),
            "seen_on": self.seen_on,
            "breadcrumb": self.breadcrumb(),
            "combined": [link for h, link in sorted(doc.parents.items()) if h in BESIDE_BREADCRUMB],
            "children": self.children(),
            "timeline": self.timeline(),
            "entity_members": self.entity_members(),
            "formats": _formats(path, self.request),
            "path": path,
            "same_as": same_as(doc.register, doc.key),
        }


def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise exceptions.ParseError(f"page must be a whole number from 1; got {value[:20]!r}.")
    return int(value)


def _one_page(queryset, value: str | None) -> tuple[list, int, int, int]:
    """The listing page ``value`` asks for of an ordered ``queryset``: (members, total, page,
    pages); 404 past the last page."""
    page = _page_number(value)
    total = queryset.count()
    pages = max(1, -(-total // LISTING_PAGE))
    if page > pages:
        raise exceptions.NotFound(f"There are only {pages} pages.")
    members = list(queryset[(page - 1) * LISTING_PAGE : page * LISTING_PAGE])
    return members, total, page, pages


class EntryView(DocumentView):
    """``/doc/{register}/{key}[.fmt]``: everything about one entry as at a date."""

    def target(self, request, date, register=None, key=None):
        suffix = f".{self.format_kwarg}" if self.format_kwarg else ""
        found = find_entry(request, register, key, suffix)
        return found.response if found.response is not None else found.entry

    def version_of(self, entry):
        return entry.version

    def thing_uri(self, entry):
        return rdf.entry_uri(entry.register.slug, entry.key)

    def represent(self, request, entry, date, explicit):
        return EntryRepresentation(request, entry.load(), date, explicit)


# ---------------------------------------------------------------------------------------
# Change events


def describe_event(event: ChangeEvent) -> EventSummary:
    """A change event with its predecessors and successors, named as on its date."""
    return describe_events(ChangeEvent.objects.filter(pk=event.pk))[event.pk]


EVENT_CSV_HEADER = ["key", "uri", "date", "kind", "instrument_id", "instrument_title",
                    "predecessors", "successors"]  # fmt: skip


def _event_row(event: EventSummary) -> list[Any]:
    return [
        event.key,
        event.uri,
        event.date.isoformat(),
        event.kind,
        event.instrument_id,
        event.instrument_title,
        " ".join(link.key for link in event.predecessors),
        " ".join(link.key for link in event.successors),
    ]


class EventRepresentation(Representation):
    template_name = "api/event.html"

    def __init__(self, request, event: ChangeEvent):
        self.request = request
        self.summary = describe_event(event)
        self.note = event.note

    def as_json(self):
        return {**self.summary.as_dict(), "note": self.note}

    def as_graph(self):
        licence = "; ".join({r.licence for r in registers().values()})
        return rdf.event_graph(self.summary, licence)

    def as_rows(self):
        return EVENT_CSV_HEADER, [_event_row(self.summary)]

    def context(self):
        path = f"/doc/{EVENTS}/{self.summary.key}"
        return {
            "event": self.summary,
            "note": self.note,
            "kind_label": EVENT_KIND(self.summary.kind).label,
            "formats": _formats(path, self.request),
            "path": path,
        }


class EventView(DocumentView):
    """``/doc/change-event/{key}[.fmt]``: one change event."""

    def target(self, request, date, key=None):
        event = ChangeEvent.objects.filter(key=key).first()
        if event is None:
            return error_response(
                request,
                404,
                f"There is no change event {key[:100]!r}.",
                html=isinstance(request.accepted_renderer, HTMLRenderer),
            )
        return event

    def version_of(self, event):
        return event.version

    def thing_uri(self, event):
        return rdf.event_uri(event.key)

    def represent(self, request, event, date, explicit):
        return EventRepresentation(request, event)


# ---------------------------------------------------------------------------------------
# Listings


class ListingRepresentation(Representation):
    """A page of a listing: items (dicts with at least key and name), paging and filters."""

    def __init__(self, request, *, title, register, items, total, page, pages, filters, date,
                 path, csv_header, csv_row, template_name, extra=None):  # fmt: skip
        self.request = request
        self.title = title
        self.register = register
        self.items = items
        self.total = total
        self.page = page
        self.pages = pages
        self.filters = filters
        self.date = date
        self.path = path
        self.csv_header = csv_header
        self.csv_row = csv_row
        self.template_name = template_name
        self.extra = extra or {}

    def _page_url(self, page: int, fmt: str = "") -> str:
        query = {k: v for k, v in self.request.GET.items() if k not in {"page", "format"}}
        if page > 1:
            query["page"] = str(page)
        suffix = f".{fmt}" if fmt else ""
        return f"{self.path}{suffix}" + (f"?{urlencode(query)}" if query else "")

    def as_json(self):
        fmt = (
            self.request.accepted_renderer.format
            if hasattr(self.request, "accepted_renderer")
            else ""
        )
        fmt = fmt if fmt != "html" else ""
        return {
            "title": self.title,
            "date": self.date.isoformat(),
            "filters": self.filters,
            "count": self.total,
            "page": self.page,
            "pages": self.pages,
            "next": self._page_url(self.page + 1, fmt) if self.page < self.pages else None,
            "previous": self._page_url(self.page - 1, fmt) if self.page > 1 else None,
            "items": self.items,
        }

    def as_graph(self):
        if self.register == EVENTS:
            graph = rdf.bind_prefixes(rdf.Graph())
            for item in self.items:
                for triple in rdf.event_triples(item["summary"]):
                    graph.add(triple)
            return graph
        return rdf.listing_graph(
            self.register, self.title, self.items, f"{base()}{self._page_url(self.page)}"
        )

    def as_rows(self):
        return self.csv_header, [self.csv_row(item) for item in self.items]

    def context(self):
        return {
            "title": self.title,
            "register": self.register,
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "filters": self.filters,
            "date": self.date,
            "next": self._page_url(self.page + 1) if self.page < self.pages else None,
            "previous": self._page_url(self.page - 1) if self.page > 1 else None,
            "formats": [
                {**f, "url": self._page_url(self.page, f["format"])}
                for f in _formats(self.path, self.request)
            ],
            **self.extra,
        }


LISTING_CSV_HEADER = ["key", "uri", "name", "status", "entity_type"]


class RegisterView(DocumentView):
    """``/doc/{register}[.fmt]``: a register's entries as at a date, filtered by entity
    type, status and parent, a page at a time."""

    def target(self, request, date, register=None):
        found = registers().get(register)
        if found is None:
            return error_response(
                request,
                404,
                f"There is no register called {register!r}.",
                html=isinstance(request.accepted_renderer, HTMLRenderer),
            )
        return found

    def represent(self, request, register, date, explicit):
        params = request.GET
        entries = Entry.objects.filter(register=register)
        filters: dict[str, str] = {}
        if params.get("type"):
            entity_type = params["type"].upper()
            if not Entry.objects.filter(register__slug=ENTITY_TYPES, key=entity_type).exists():
                raise exceptions.ParseError(
                    f"type must be an entity type code such as E06; {params['type'][:20]!r} is not one."
                )
            entries = entries.of_type(entity_type, date)
            filters["type"] = entity_type
        if params.get("status"):
            status = params["status"]
            if status not in STATUS.values:
                raise exceptions.ParseError(
                    f"status must be one of {', '.join(STATUS.values)}; got {status[:20]!r}."
                )
            entries = entries.filter(
                pk__in=State.objects.filter(covering(date), status=status).values("entry_id")
            )
            filters["status"] = status
        if params.get("parent"):
            # Parents are in the listing's register; (register, key) is the unique index.
            parent = Entry.objects.filter(register=register, key=params["parent"].upper()).first()
            if parent is None:
                raise exceptions.ParseError(
                    f"parent must be the key of an entry; there is none called {params['parent'][:20]!r}."
                )
            entries = entries.children_of(parent, date)
            filters["parent"] = parent.key
        members, total, page, pages = _one_page(entries.order_by("key"), params.get("page"))
        labels = facts.labels([e.pk for e in members], date)
        states = {
            entry_id: (status, entity_type)
            for entry_id, status, entity_type in State.objects.filter(
                covering(date), entry__in=members
            ).values_list("entry_id", "status", "entity_type__key")
        }
        items = [
            {
                "key": e.key,
                "uri": rdf.entry_uri(register.slug, e.key),
                "name": labels.get(e.pk, e.key),
                "status": states.get(e.pk, (None, None))[0],
                "entity_type": states.get(e.pk, (None, None))[1],
            }
            for e in members
        ]
        type_choices = list(
            Entry.objects.filter(register__slug=ENTITY_TYPES).order_by("key").values_list("key", flat=True)
        ) if register.slug == AREAS else []  # fmt: skip
        return ListingRepresentation(
            request,
            title=register.name,
            register=register.slug,
            items=items,
            total=total,
            page=page,
            pages=pages,
            filters=filters,
            date=date,
            path=f"/doc/{register.slug}",
            csv_header=LISTING_CSV_HEADER,
            csv_row=lambda item: [item[k] for k in LISTING_CSV_HEADER],
            template_name="api/register.html",
            extra={"register_obj": register, "type_choices": type_choices, "explicit": explicit},
        )


class EventListView(DocumentView):
    """``/doc/change-event[.fmt]``: change events, filtered by year and kind."""

    def target(self, request, date):
        return EVENTS

    def represent(self, request, _target, date, explicit):
        params = request.GET
        events = ChangeEvent.objects.all()
        filters: dict[str, str] = {}
        if params.get("year"):
            year = params["year"]
            if not (year.isdigit() and len(year) == 4):
                raise exceptions.ParseError(
                    f"year must be four digits, such as 2020; got {year[:20]!r}."
                )
            events = events.filter(date__year=int(year))
            filters["year"] = year
        if params.get("kind"):
            kind = params["kind"]
            if kind not in EVENT_KIND.values:
                raise exceptions.ParseError(
                    f"kind must be one of {', '.join(EVENT_KIND.values)}; got {kind[:30]!r}."
                )
            events = events.filter(kind=kind)
            filters["kind"] = kind
        members, total, page, pages = _one_page(events.order_by("date", "key"), params.get("page"))
        summaries = describe_events(ChangeEvent.objects.filter(pk__in=[e.pk for e in members]))
        items = []
        for event in members:
            summary = summaries[event.pk]
            items.append({**summary.as_dict(), "summary": summary})
        return _EventListing(
            request,
            title="Change events",
            register=EVENTS,
            items=items,
            total=total,
            page=page,
            pages=pages,
            filters=filters,
            date=date,
            path=f"/doc/{EVENTS}",
            csv_header=EVENT_CSV_HEADER,
            csv_row=lambda item: _event_row(item["summary"]),
            template_name="api/events.html",
            extra={"kinds": EVENT_KIND.choices},
        )


class _EventListing(ListingRepresentation):
    def as_json(self):
        data = super().as_json()
        data["items"] = [{k: v for k, v in item.items() if k != "summary"} for item in self.items]
        return data


# ---------------------------------------------------------------------------------------
# Vocabulary and dataset description


def identifier_schemes() -> list[str]:
    schemes = set(Identifier.objects.values_list("scheme", flat=True).distinct())
    keys = {p.key_scheme_name for p in profiles.declared() if not p.key_scheme_is_uri}
    return sorted(schemes | keys)


class VocabularyRepresentation(Representation):
    template_name = "api/vocabulary.html"

    def __init__(self, request):
        self.request = request
        self.schemes = identifier_schemes()

    def as_graph(self):
        return rdf.vocabulary_graph(self.schemes)

    def as_json(self):
        return {
            "uri": rdf.vocabulary_uri(),
            "terms": [
                {
                    "uri": str(rdf.REG(name)),
                    "name": name,
                    "kind": kind,
                    "label": label,
                    "comment": comment.format(base=rdf.vocabulary_uri()),
                }
                for name, kind, label, comment in rdf.TERMS
            ],  # fmt: skip
            "schemes": [{"uri": str(rdf.scheme_datatype(s)), "name": s} for s in self.schemes],
        }

    def as_rows(self):
        data = self.as_json()
        return ["uri", "name", "kind", "label"], [
            [t["uri"], t["name"], t["kind"], t["label"]] for t in data["terms"]
        ] + [[s["uri"], s["name"], "datatype", f"{s['name']} identifier"] for s in data["schemes"]]

    def context(self):
        return {**self.as_json(), "formats": _formats("/def", self.request)}


class VocabularyView(DocumentView):
    """``/def/``: the registry's own vocabulary, as HTML and RDF."""

    def target(self, request, date):
        return "vocabulary"

    def represent(self, request, target, date, explicit):
        return VocabularyRepresentation(request)


class VoidRepresentation(Representation):
    def __init__(self, request):
        self.request = request

    def as_graph(self):
        return rdf.void_graph(register_summaries())


class VoidView(DocumentView):
    """``/.well-known/void``: VoID and DCAT description of the registers and their dumps."""

    renderer_classes = RDF_RENDERERS

    def target(self, request, date):
        return "void"

    def represent(self, request, target, date, explicit):
        return VoidRepresentation(request)


# ---------------------------------------------------------------------------------------
# Bulk downloads


def _gzip_stream(chunks: Iterator[str]) -> Iterator[bytes]:
    """gzip-compress a stream of text chunks as they come, holding one chunk at a time."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    for chunk in chunks:
        data = compressor.compress(chunk.encode("utf-8"))
        if data:
            yield data
    yield compressor.flush()


def _csv_chunks(register: str, date: dt.date) -> Iterator[str]:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(exports.CSV_HEADER)
    for n, entry in enumerate(exports.register_facts(register, date), 1):
        writer.writerow(exports.csv_row(entry))
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _ntriples_chunks(register: str, date: dt.date) -> Iterator[str]:
    batch = []
    for entry in exports.register_facts(register, date):
        batch.append(entry)
        if len(batch) == 500:
            yield rdf.ntriples(rdf.register_dump_triples(batch))
            batch = []
    yield rdf.ntriples(rdf.register_dump_triples(batch))
    if register == AREAS:
        # Change events link areas, so they travel with the areas' dump.
        events = []
        for event in exports.all_events():
            events.append(event)
            if len(events) == 500:
                yield rdf.ntriples(t for e in events for t in rdf.event_triples(e))
                events = []
        yield rdf.ntriples(t for e in events for t in rdf.event_triples(e))


DOWNLOADS = {"csv.gz": _csv_chunks, "nt.gz": _ntriples_chunks}


def download(request, register: str, extension: str):
    """``/downloads/{register}.csv.gz`` or ``.nt.gz``: the whole register as at today,
    generated and gzip-compressed as it streams."""
    if register not in registers() or extension not in DOWNLOADS:
        return error_response(request, 404, f"There is no download called {register}.{extension}.")
    date = today()
    version, changed = data_version()
    etag = _etag(
        RENDER_VERSION, base(), "download", register, extension, date.isoformat(), version, changed
    )
    last_modified = _last_modified(changed, date, explicit=False)
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        chunks = DOWNLOADS[extension](register, date)
        # The body is a gzip file to be saved (application/gzip), not a Content-Encoding that
        # a browser would undo on the way.
        response = StreamingHttpResponse(_gzip_stream(chunks), content_type="application/gzip")
        name = f"{register}-{date.isoformat()}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    return public_headers(response, machine=True)
