"""Answers given before the framework does any work: the ``/id/`` 303, an entry
document's 304, an entry document in a machine format, and the lookup API's entry.

Most requests for a persistent URI are one of three: ``/id/{register}/{key}``, which only
ever sees other (303) to its document; a conditional request for a document a client
already holds, which only needs its validator; and a document in JSON, JSON-LD, Turtle,
RDF/XML, N-Triples or CSV, which is the entry described on a date
(:class:`~api.documents.entries.EntryRepresentation`) through one renderer, kept in the
shared cache under its validator. All start from the one indexed query that finds the entry
with the data version (:func:`api.http.find_entry`), so :class:`EarlyAnswers`, wrapped
around Django's WSGI application (``config/wsgi.py``), answers them before Django's request
handling, middleware, URL resolution, DRF or content negotiation's view run, with the
headers the middleware would have added (Django's security middleware's
``process_response``). A database error here is left to Django, which answers it as every
outage is answered (503); so is any other error in building a body, which the view meets
again. The validator is the document's own (:func:`api.documents.base.document_validators`),
and the body the view's (:func:`api.documents.base.rendered`), so the answers are the ones
:class:`~api.documents.base.DocumentView` would give.

``GET /api/v1/entries/{register}/{key}/`` (:func:`api_entry`) is answered the same way: its
view's validators (:func:`api.v1.views.base.lookup_validators`), its data in the shared cache
under them, DRF's JSON, and the client's rate limit counted as the view counts it.

Anything else, or anything out of the ordinary (an unknown register, a key in the wrong case,
an unknown entry, a page not yet rendered, a malformed date, ``?lang=``, ``?recorded=``,
an ``Accept`` no format satisfies, a precondition that fails) goes on to the views, which
answer as they always do, and render and keep the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, connections
from django.http import Http404, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils import translation
from rest_framework.exceptions import APIException
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

from registry import rdf, replicas
from registry.documents import describe
from registry.uris import EVENTS

from . import http
from .documents.base import (
    body_key,
    content_type,
    document_headers,
    document_validators,
    public_headers,
    rendered,
    requested_date,
)
from .documents.entries import EntryRepresentation
from .i18n import chosen_language
from .negotiation import RegistryContentNegotiation
from .renderers import DOCUMENT_RENDERERS, MACHINE_FORMATS
from .v1.throttling import LookupThrottle
from .v1.views.base import CORS_HEADERS, cached_answer, lookup_validators

# The URL patterns of api/site_urls.py that these answers stand in for.
_ID = re.compile(r"^/id/(?P<register>[a-z0-9][a-z0-9-]*)/(?P<key>[A-Za-z0-9][A-Za-z0-9_-]*)"
                 r"(?:\.(?P<format>[A-Za-z0-9]+))?$")  # fmt: skip
_DOC = re.compile(r"^/doc/(?P<register>[a-z0-9][a-z0-9-]*)/(?P<key>[A-Za-z0-9][A-Za-z0-9_-]*)"
                  r"(?:\.(?P<format>[A-Za-z0-9]+))?$")  # fmt: skip
_API = re.compile(r"^/api/v1/entries/(?P<register>[a-z0-9][a-z0-9-]*)/(?P<key>[A-Za-z0-9][A-Za-z0-9_-]*)/$")  # fmt: skip
_RENDERERS = [renderer() for renderer in DOCUMENT_RENDERERS]
_API_RENDERERS = [JSONRenderer()]
_API_NEGOTIATION = DefaultContentNegotiation()
# Conditional requests to the lookup API are its view's (they are answered there in one query).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")  # fmt: skip
# Where the entry found here is left for the view, in the WSGI environment (which a client
# can only fill with HTTP_… keys).
FOUND = "registry.early.entry"
_NEGOTIATION = RegistryContentNegotiation()


class _Asked:
    """What content negotiation reads of a request, without DRF's Request around it."""

    def __init__(self, request):
        self.headers = request.headers
        self.META = request.META
        self.query_params = request.GET


def _entry(register_slug: str, key: str) -> http.EntryRef | None:
    try:
        return http.find_entry(http.find_register(register_slug), key)
    except (http.NoSuchRegister, http.MalformedKey, http.NoSuchEntry):
        return None


def _built(build: Callable[[], Any]) -> Any:
    """What ``build()`` gives, or None if it fails other than by a database error (which
    the caller leaves to Django, as every outage): the view then meets the same error and
    answers it as Django answers every error, logged."""
    try:
        return build()
    except DatabaseError:
        raise
    except Exception:  # noqa: BLE001 - see above
        return None


def see_other(request, register: str, key: str, format: str | None) -> HttpResponseBase | None:
    """``/id/{register}/{key}[.fmt]`` of an entry that exists: 303 to its document, keeping
    the query string (as :func:`api.documents.resolution.resolve_entry` answers)."""
    if register == EVENTS or _entry(register, key) is None:
        return None
    suffix = f".{format}" if format else ""
    query = request.META.get("QUERY_STRING")
    location = f"/doc/{register}/{key}{suffix}"
    response = HttpResponse(status=303)
    response["Location"] = f"{location}?{query}" if query else location
    return public_headers(response, machine=True)


def document(request, register: str, key: str, format: str | None) -> HttpResponseBase | None:
    """An entry document: 304 for a client that holds it; else its body in a machine format
    (kept in the shared cache under its validator), or a page the view has rendered before;
    None for the view to answer."""
    # ?lang= sets a cookie, and ?recorded= (record time) is answered from versions by a
    # path of its own: both are the view's.
    if register == EVENTS or "lang" in request.GET or "recorded" in request.GET:
        return None
    try:
        date, explicit = requested_date(request)
        renderer, _ = _NEGOTIATION.select_renderer(_Asked(request), _RENDERERS, format)
    except (APIException, Http404):  # a bad date, an unknown suffix, a 406: the view says so
        return None
    found = _entry(register, key)
    if found is None:
        return None
    language, _ = chosen_language(request)
    with translation.override(language):
        etag, last_modified = document_validators(
            "EntryView",
            {"register": register, "key": key},
            request.GET,
            renderer.format,
            date,
            explicit,
            found.data_version,
            found.version,
            boundaries=found.boundaries,
        )
        response = http.conditional_response(request, etag, last_modified)
        if response is not None and response.status_code != 304:
            return None  # a failed precondition: the view words it
        if response is None:
            if renderer.format in MACHINE_FORMATS:
                # Built here as the view builds it (EntryView.represent, the same
                # renderer), and kept under the same validator.
                body = _built(
                    lambda: rendered(
                        etag,
                        lambda: renderer.render(
                            EntryRepresentation(request, found.pk, date, explicit),
                            renderer.media_type,
                            {"request": request},
                        ),
                    )
                )
                if body is None:
                    request.META[FOUND] = found
                    return None
            else:
                # A page (its breadcrumb, children and template) is the view's to render,
                # without finding the entry again.
                body = cache.get(body_key(etag))
                if body is None:
                    request.META[FOUND] = found
                    return None
            response = HttpResponse(body, content_type=content_type(renderer))
            response["Content-Length"] = str(len(body))
    # What DRF's view adds to its answers (it negotiated the format from Accept).
    response["Vary"] = "Accept"
    response["Allow"] = "GET, HEAD, OPTIONS"
    if response.status_code == 200 and renderer.format == "html":
        # What api.i18n.PageLanguage adds to a page.
        response["Content-Language"] = "cy" if language == "cy" else "en-GB"
        response["Vary"] = "Accept, Cookie"
    return document_headers(
        response, etag, last_modified, rdf.entry_uri(register, key), renderer.format
    )


def api_entry(request, register: str, key: str) -> HttpResponseBase | None:
    """``GET /api/v1/entries/{register}/{key}/[?date=…]``: the entry as at the date, as
    :class:`api.v1.views.entries.EntryDetailView` answers it (the same validators, the same
    data kept in the shared cache under them, the same JSON, the same rate limit); None for
    anything else (another parameter, a conditional request, an ``Accept`` asking for
    something else, an unknown entry, a client over its limit), which the view answers."""
    if set(request.GET) - {"date"} or any(name in request.META for name in _CONDITIONAL):
        return None
    try:
        renderer, media_type = _API_NEGOTIATION.select_renderer(_Asked(request), _API_RENDERERS)
        date, given = http.as_at(request.GET, blank_is_today=False)
        http.check_path({"register": register, "key": key})
    except (APIException, http.BadDate, http.BadParameter):
        return None
    if media_type != renderer.media_type:  # a parameter such as indent=: the view's to honour
        return None
    found = _entry(register, key)
    if found is None:
        return None
    etag, last_modified = lookup_validators(
        request.get_full_path(), date, given, None, found.data_version
    )
    # Counted as the view counts, before any work. A client over its limit is the view's to
    # answer (429, with Retry-After), which counts that request again: only a request
    # already refused (or one whose answer failed to build) is counted twice.
    if not LookupThrottle().allow_request(request, None):
        return None
    data = _built(lambda: cached_answer(etag, lambda: describe(found.pk, date).as_dict()))
    if data is None:
        return None
    body = renderer.render(data, media_type, {})
    response = HttpResponse(body, content_type=media_type)
    response["Content-Length"] = str(len(body))
    response["Allow"] = "GET, HEAD, OPTIONS"
    for header, value in http.validator_headers(etag, last_modified).items():
        response[header] = value
    return http.publish(response, max_age=settings.REGISTRY_API_CACHE_SECONDS, cors=CORS_HEADERS)


class EarlyAnswers:
    """A WSGI application answering the ``/id/`` 303, an entry document's 304 and its
    machine formats itself, and passing every other request to ``application`` (Django's)."""

    def __init__(self, application):
        self.application = application
        # The headers Django's middleware adds to every answer, added by it.
        self.finishing = [
            SecurityMiddleware(application),
            XFrameOptionsMiddleware(application),
        ]

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            path = environ.get("PATH_INFO", "")
            if path.startswith(("/id/", "/doc/", "/api/v1/entries/")):
                answer = self.early(environ)
                if answer is not None:
                    status = f"{answer.status_code} {answer.reason_phrase}"
                    start_response(status, list(answer.items()))
                    head = environ["REQUEST_METHOD"] == "HEAD"
                    return [] if head else [answer.content]
        return self.application(environ, start_response)

    def early(self, environ) -> HttpResponseBase | None:
        # A request of its own environment: WSGIRequest writes the decoded path back into
        # the one it is given, which Django's own WSGIRequest, made from the same environment
        # after us, could not read again (a path outside Latin-1 raised UnicodeEncodeError).
        request = WSGIRequest(dict(environ))
        try:
            return self._early(request)
        finally:
            if FOUND in request.META:  # the entry found, for the view (documents.resolution)
                environ[FOUND] = request.META[FOUND]

    def _early(self, request) -> HttpResponseBase | None:
        path = request.path_info
        try:
            # Read where Django's middleware would have this request read (a replica for a
            # public read, registry/replicas.py).
            with replicas.routed(request):
                if path.startswith("/id/"):
                    match = _ID.match(path)
                    answer = see_other(request, **match.groupdict()) if match else None
                elif path.startswith("/api/"):
                    match = _API.match(path)
                    answer = api_entry(request, **match.groupdict()) if match else None
                else:
                    match = _DOC.match(path)
                    answer = document(request, **match.groupdict()) if match else None
        except DatabaseError:
            # Left to Django, which reconnects (or reads from the primary, if a replica
            # failed) or answers 503 as for any outage.
            for used in connections.all(initialized_only=True):
                used.close_if_unusable_or_obsolete()
            return None
        if answer is not None:
            for middleware in self.finishing:
                answer = middleware.process_response(request, answer)
        return answer


__all__ = ["FOUND", "EarlyAnswers", "document", "see_other"]
