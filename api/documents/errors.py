"""Errors told to people and programs: a short HTML page or a short JSON object, whichever
the request is best answered in."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from rest_framework import exceptions
from rest_framework.request import Request

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
    response["Access-Control-Allow-Origin"] = "*"
    return response
