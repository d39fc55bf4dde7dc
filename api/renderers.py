"""Renderers are used to serialize a response into specific media types.

The registry's views hand every renderer the same object, a :class:`Representation`, and
each renderer asks it for the form it needs: a template and context (HTML), plain data
(JSON), an rdflib graph (JSON-LD, Turtle, RDF/XML, N-Triples) or rows (CSV). So a document
is only built in the form that was asked for, and every format says the same thing. Error
bodies (a dict such as ``{"detail": "…"}``) are rendered by the HTML and JSON renderers.

The ``format`` attribute of each class is what makes ``…/E06000001.ttl`` and
``?format=ttl`` work; the first renderer in a view's list answers ``Accept: */*``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django.template.loader import render_to_string
from rdflib import Graph
from rest_framework import renderers

from registry import exports


class Representation:
    """What a document view gives its renderers. Subclasses override what they support."""

    template_name = "api/error.html"

    def context(self) -> dict[str, Any]:
        raise NotImplementedError

    def as_json(self) -> Any:
        raise NotImplementedError

    def as_graph(self) -> Graph:
        raise NotImplementedError

    def as_rows(self) -> tuple[list[str], Iterable[list[Any]]]:
        raise NotImplementedError


class HTMLRenderer(renderers.BaseRenderer):
    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        request = renderer_context.get("request")
        if isinstance(data, Representation):
            template, context = data.template_name, data.context()
        else:
            response = renderer_context.get("response")
            template = "api/error.html"
            context = {
                "status": response.status_code if response is not None else 400,
                "detail": (data or {}).get("detail", "") if isinstance(data, dict) else data,
            }
        return render_to_string(template, context, request=request).encode(self.charset)


class JSONRenderer(renderers.JSONRenderer):
    # Welsh names as UTF-8 rather than \u escapes. No charset parameter: JSON is UTF-8 by
    # definition (RFC 8259), as DRF's own renderer assumes.
    ensure_ascii = False

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, Representation):
            data = data.as_json()
        return super().render(data, accepted_media_type, renderer_context)


class RDFRenderer(renderers.BaseRenderer):
    """Serialises the representation's graph with rdflib in ``rdflib_format``."""

    rdflib_format = ""
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.as_graph().serialize(format=self.rdflib_format, encoding=self.charset)


class JSONLDRenderer(RDFRenderer):
    media_type = "application/ld+json"
    format = "jsonld"
    rdflib_format = "json-ld"


class TurtleRenderer(RDFRenderer):
    media_type = "text/turtle"
    format = "ttl"
    rdflib_format = "turtle"


class RDFXMLRenderer(RDFRenderer):
    media_type = "application/rdf+xml"
    format = "rdf"
    rdflib_format = "xml"


class NTriplesRenderer(RDFRenderer):
    media_type = "application/n-triples"
    format = "nt"
    rdflib_format = "nt"


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        header, rows = data.as_rows()
        out = io.StringIO()
        writer = exports.CSVWriter(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode(self.charset)


# Every document's formats, HTML first so that browsers and ``*/*`` get a page.
DOCUMENT_RENDERERS = [
    HTMLRenderer,
    JSONRenderer,
    JSONLDRenderer,
    TurtleRenderer,
    RDFXMLRenderer,
    NTriplesRenderer,
    CSVRenderer,
]
RDF_RENDERERS = [TurtleRenderer, JSONLDRenderer, RDFXMLRenderer, NTriplesRenderer]
MACHINE_FORMATS = {"json", "jsonld", "ttl", "rdf", "nt", "csv"}
