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
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBase
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.uris import base

from .. import http
from ..negotiation import RegistryContentNegotiation
from ..renderers import (
    DOCUMENT_RENDERERS,
    MACHINE_FORMATS,
    HTMLRenderer,
    JSONRenderer,
    Representation,
)
from .errors import exception_handler

# Bump when templates or representations change, so validators and cached bodies renew.
RENDER_VERSION = "3"
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


DATE_PARTS = ("date-day", "date-month", "date-year")


def date_query(query) -> Any:
    """``query`` with the GOV.UK date input's three fields (``date-day``, ``date-month``,
    ``date-year``, as a page's form submits them) written as the one ``date=YYYY-MM-DD``
    every link and the API use, so both are read by the same parser and refused with the
    same message. A ``date`` given as well wins; three empty fields mean today."""
    if "date" in query or not any(part in query for part in DATE_PARTS):
        return query
    day, month, year = (query.get(part, "").strip() for part in DATE_PARTS)
    rest = {k: v for k, v in query.items() if k not in DATE_PARTS}
    if not (day or month or year):
        return {**rest, "date": ""}
    if day.isdigit() and month.isdigit() and year.isdigit():
        return {**rest, "date": f"{year.zfill(4)}-{month.zfill(2)}-{day.zfill(2)}"}
    return {**rest, "date": f"{year}-{month}-{day}"}


def requested_date(request) -> tuple[dt.date, bool]:
    """The as-at date of a request and whether it was asked for; a malformed one is a 400.
    The date is ``?date=YYYY-MM-DD`` or a page's three date fields (:func:`date_query`)."""
    return date_from(request.GET)


def date_from(query) -> tuple[dt.date, bool]:
    """:func:`requested_date` of a query or a posted form (the checker's): the date and
    whether it was given, or a 400 that says what was wrong in the page's language."""
    try:
        return http.as_at(date_query(query))
    except http.BadDate as error:
        got = {"got": repr(error.value[:40])}
        raise http.BadParameter(
            error.name,
            _("must be a calendar date written YYYY-MM-DD, such as 2024-01-01; got %(got)s.") % got,
            # The sentence a page shows, the field named in the page's language.
            sentence=_(
                "date must be a calendar date written YYYY-MM-DD, such as 2024-01-01; got %(got)s."
            )
            % got,
        ) from None


def requested_instant(request) -> dt.datetime | None:
    """The record-time instant of a request (``?recorded=``), None for now; a malformed one
    is a 400 naming the forms it may take."""
    try:
        return http.recorded(request.GET)
    except http.BadDate as error:
        raise http.BadParameter(error.name, error.reason) from None


def content_type(renderer) -> str:
    # text/* types default to ISO-8859-1 without a charset; JSON, JSON-LD, N-Triples and
    # RDF/XML are UTF-8 by definition (RDF/XML declares it in its XML declaration).
    if renderer.media_type.startswith("text/"):
        return f"{renderer.media_type}; charset=utf-8"
    return renderer.media_type


def public_headers(response: HttpResponseBase, machine: bool) -> HttpResponseBase:
    """Documents may be cached by anyone for an hour; scripts on any origin may read the
    machine formats (a page is for people, and its forms post nowhere)."""
    return http.publish(response, max_age=CACHE_SECONDS, cors=http.ANY_ORIGIN if machine else None)


def document_validators(
    view: str,
    kwargs: dict[str, Any],
    query,
    format: str,
    date: dt.date,
    explicit: bool,
    data_version: tuple[int, dt.datetime | None],
    own_version: Any,
    recorded: dt.datetime | None = None,
    boundaries: tuple[int | None, dt.datetime | None] | None = None,
) -> tuple[str, int | None]:
    """The ETag and Last-Modified of a document: which view, what the URL named
    (``kwargs``, without the format), the query (but ``format``), the format, the date and
    whether it was asked for, the instant it is as recorded at (``?recorded=``, None for
    now), the data version, what else the document depends on (``own_version``: the entry's
    version), the boundaries' load state and when it was written (``boundaries``, from
    :func:`api.http.boundaries_version`, for a document that draws or carries a boundary)
    and the language the request is answered in.
    :class:`DocumentView` and the early answers of ``api.early`` both call this, so a 304
    given before the framework runs is the one the view would give."""
    version, changed = data_version
    if boundaries is not None:
        changed = http.changed_since(changed, boundaries[1])
    tag = http.etag(
        RENDER_VERSION,
        base(),
        view,
        sorted(kwargs.items()),
        sorted((k, v) for k, v in query.items() if k != "format"),
        format,
        date.isoformat(),
        explicit,
        recorded.isoformat() if recorded else None,
        version,
        changed,
        own_version,
        boundaries,
        translation.get_language(),
    )
    if recorded is not None and changed is not None:
        # Nothing recorded at or before a past instant changes after it, so the answer
        # has not changed since then (or since the last change, if that came first).
        changed = min(changed, recorded)
    return tag, http.last_modified(changed, date, explicit)


def body_key(etag: str) -> str:
    """Where a document's rendered body is kept in the shared cache: under its validator."""
    return f"document:{etag}"


def rendered(etag: str, render: Callable[[], bytes]) -> bytes:
    """A document's body: the one kept in the shared cache under its validator, or
    ``render()``'s, then kept there. :class:`DocumentView` and ``api.early`` both answer
    through this."""
    body = cache.get(body_key(etag))
    if body is None:
        body = render()
        cache.set(body_key(etag), body, CACHE_SECONDS)
    return body


def document_headers(
    response: HttpResponseBase,
    etag: str,
    last_modified: int | None,
    thing: str | None,
    format: str,
) -> HttpResponseBase:
    """A document's answer (or 304) with its validators, the thing it describes and the
    headers of public data (:func:`public_headers`)."""
    for header, value in http.validator_headers(etag, last_modified).items():
        response[header] = value
    if thing:
        response["Link"] = f'<{thing}>; rel="describes"'
    return public_headers(response, machine=format in MACHINE_FORMATS)


class DocumentView(APIView):
    """A document in every format, with validators computed before rendering.

    Subclasses implement :meth:`target` (find what the URL names, or return a response
    such as a 404), :meth:`version_of` (what, besides the data version, its content
    depends on) and :meth:`represent`.
    """

    # Whether the document can be answered as recorded at a past instant (``?recorded=``,
    # read into ``self.recorded`` before :meth:`target`); others refuse the parameter.
    answers_recorded = False
    recorded: dt.datetime | None = None

    renderer_classes = DOCUMENT_RENDERERS
    content_negotiation_class = RegistryContentNegotiation
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    # Not part of the lookup API's OpenAPI description.
    schema = None

    def get_exception_handler(self):
        return exception_handler

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

    def boundaries_of(self, target: Any) -> tuple[int | None, dt.datetime | None] | None:
        """The boundaries' load state, if the document draws or carries a boundary
        (:func:`api.http.boundaries_version`); None if it depends on no boundary."""
        return None

    def represent(self, request, target: Any, date: dt.date, explicit: bool) -> Representation:
        raise NotImplementedError

    def thing_uri(self, target: Any) -> str | None:
        return None

    def get(self, request, format=None, **kwargs):
        date, explicit = requested_date(request)
        self.recorded = requested_instant(request)
        if self.recorded is not None and not self.answers_recorded:
            raise http.BadParameter(
                "recorded",
                _(
                    "is answered by entry documents and register listings only; this document "
                    "is always as the registry stands now."
                ),
            )
        target = self.target(request, date, **kwargs)
        if isinstance(target, HttpResponseBase):
            return target
        renderer = request.accepted_renderer
        data_version = getattr(target, "data_version", None) or http.data_version()
        etag, last_modified = document_validators(
            type(self).__name__,
            kwargs,
            request.GET,
            renderer.format,
            date,
            explicit,
            data_version,
            self.version_of(target),
            self.recorded,
            self.boundaries_of(target),
        )
        response = http.conditional_response(request, etag, last_modified)
        if response is None:
            body = rendered(
                etag,
                lambda: renderer.render(
                    self.represent(request, target, date, explicit),
                    renderer.media_type,
                    {"request": request},
                ),
            )
            response = HttpResponse(body, content_type=content_type(renderer))
        return document_headers(
            response, etag, last_modified, self.thing_uri(target), renderer.format
        )

    def finalize_response(self, request, response, *args, **kwargs):
        accepted = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and not isinstance(accepted, HTMLRenderer | JSONRenderer):
            # An error raised in a view (a bad date, say) cannot be told in Turtle or CSV.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def as_at_query(request) -> dict[str, str]:
    """The ``date`` and ``recorded`` a request asked for, for links that keep them."""
    query = date_query(request.GET)
    return {name: query[name] for name in ("date", "recorded") if query.get(name)}


def format_links(path: str, request) -> list[dict[str, str]]:
    kept = as_at_query(request)
    query = f"?{urlencode(kept)}" if kept else ""
    return [
        {"label": label, "url": f"{path}.{fmt}{query}", "format": fmt} for fmt, label in FORMATS
    ]


def page_number(value: str | None) -> int:
    """The page a ``page`` parameter asks for (default the first)."""
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        got = {"got": repr(value[:20])}
        raise http.BadParameter(
            "page",
            _("must be a whole number from 1; got %(got)s.") % got,
            sentence=_("page must be a whole number from 1; got %(got)s.") % got,
        )
    return int(value)
