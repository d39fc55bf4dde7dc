"""Errors told to people and programs: a short HTML page or a short JSON object, whichever
the request is best answered in."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from rest_framework import exceptions, views
from rest_framework.request import Request

from .. import http
from ..negotiation import RegistryContentNegotiation
from ..renderers import HTMLRenderer, JSONRenderer


def accepts_html(request) -> bool:
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
        html = accepts_html(request)
    data = {"detail": detail, **extra}
    if html:
        body = render_to_string("api/error.html", {"status": status, **data}, request=request)
        return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response = HttpResponse(
        JSONRenderer().render(data), status=status, content_type="application/json"
    )
    return http.publish(response, cors=http.ANY_ORIGIN)


def exception_handler(exc: Exception, context: dict[str, Any]):
    """DRF's exception handler, with a bad parameter told in one sentence that names it
    (``status must be one of live, terminated; got 'dead'.``), as the rest of a document's
    errors are."""
    if isinstance(exc, http.BadParameter):
        exc = exceptions.ParseError(exc.sentence)
    elif isinstance(exc, exceptions.ValidationError) and isinstance(exc.detail, dict):
        # A form's error (a FilterSet's), in the form's own words.
        name, messages = next(iter(exc.detail.items()))
        exc = exceptions.ParseError(f"{name}: {messages[0]}")
    return views.exception_handler(exc, context)
