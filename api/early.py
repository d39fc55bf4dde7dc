"""Answers given before the framework does any work: the ``/id/`` 303 and an entry
document's 304.

Most requests for a persistent URI are one of two: ``/id/{register}/{key}``, which only
ever sees other (303) to its document, and a conditional request for a document a client
already holds, which only needs its validator. Both are settled by the one indexed query
that finds the entry with the data version (:func:`api.http.find_entry`), so this middleware,
first in the chain, answers them without sessions, CSRF, URL resolution, DRF, content
negotiation's view or rendering, and adds the headers the rest of the chain would have (the
security headers, by Django's own middleware's ``process_response``). The validator is the
document's own (:func:`api.documents.base.document_validators`), so the 304 is the one
:class:`~api.documents.base.DocumentView` would give.

Anything else, or anything out of the ordinary (an unknown register, a key in the wrong case,
an unknown entry, a malformed date, ``?lang=``, an ``Accept`` no format satisfies, a
precondition that fails) goes on to the views, which answer as they always do.
"""

from __future__ import annotations

import re

from django.http import Http404, HttpResponse, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils import translation
from rest_framework.exceptions import APIException

from registry import rdf
from registry.uris import EVENTS

from . import http
from .documents.base import document_headers, document_validators, public_headers, requested_date
from .i18n import chosen_language
from .negotiation import RegistryContentNegotiation
from .renderers import DOCUMENT_RENDERERS

# The URL patterns of api/site_urls.py that these answers stand in for.
_ID = re.compile(r"^/id/(?P<register>[a-z0-9][a-z0-9-]*)/(?P<key>[A-Za-z0-9][A-Za-z0-9_-]*)"
                 r"(?:\.(?P<format>[A-Za-z0-9]+))?$")  # fmt: skip
_DOC = re.compile(r"^/doc/(?P<register>[a-z0-9][a-z0-9-]*)/(?P<key>[A-Za-z0-9][A-Za-z0-9_-]*)"
                  r"(?:\.(?P<format>[A-Za-z0-9]+))?$")  # fmt: skip
_RENDERERS = [renderer() for renderer in DOCUMENT_RENDERERS]
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


def not_modified(request, register: str, key: str, format: str | None) -> HttpResponseBase | None:
    """The 304 of a conditional request for an entry document the client holds, or None."""
    if register == EVENTS or "lang" in request.GET:
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
        )
    response = http.conditional_response(request, etag, last_modified)
    if response is None or response.status_code != 304:
        return None
    return document_headers(
        response, etag, last_modified, rdf.entry_uri(register, key), renderer.format
    )


class EarlyAnswers:
    """First in the middleware chain: the ``/id/`` 303 and an entry document's 304."""

    def __init__(self, get_response):
        self.get_response = get_response
        # The headers the rest of the chain adds to every answer, added the same way.
        self.finishing = [
            SecurityMiddleware(get_response),
            XFrameOptionsMiddleware(get_response),
        ]

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            answer = self.early(request)
            if answer is not None:
                for middleware in self.finishing:
                    answer = middleware.process_response(request, answer)
                return answer
        return self.get_response(request)

    def early(self, request) -> HttpResponseBase | None:
        path = request.path_info
        if path.startswith("/id/"):
            match = _ID.match(path)
            return see_other(request, **match.groupdict()) if match else None
        if path.startswith("/doc/") and (
            "HTTP_IF_NONE_MATCH" in request.META or "HTTP_IF_MODIFIED_SINCE" in request.META
        ):
            match = _DOC.match(path)
            return not_modified(request, **match.groupdict()) if match else None
        return None


__all__ = ["EarlyAnswers", "not_modified", "see_other"]
