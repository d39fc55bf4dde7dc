"""Content negotiation for the registry's documents.

DRF's ``DefaultContentNegotiation`` gets two things wrong for persistent URIs:

* with a format suffix (``….ttl``) it still checks the ``Accept`` header against the one
  renderer left, so ``curl -H 'Accept: application/json' ….ttl`` is a 406; here the suffix
  (or ``?format=``) wins, as the URI table in DESIGN.md says;
* it ignores quality values, so ``Accept: application/rdf+xml;q=0.5, text/turtle`` could give
  RDF/XML; here higher ``q`` wins, then the more specific media type, then the order of the
  renderers (so ``*/*`` gets the first renderer: HTML), and ``q=0`` rules a type out.

An unknown suffix is still a 404 and an ``Accept`` no renderer satisfies still a 406.
"""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.utils.mediatypes import _MediaType


def _quality(media_type: _MediaType) -> float:
    try:
        return max(0.0, min(1.0, float(media_type.params.get("q", "1"))))
    except ValueError:
        return 1.0


class RegistryContentNegotiation(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        """Given a request and a list of renderers, return a two-tuple of:
        (renderer, media type). A suffix or ``?format=`` picks the renderer outright (404
        if none has that format); otherwise the ``Accept`` header does (406 if none fits)."""
        format = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if format:
            renderer = self.filter_renderers(renderers, format)[0]
            return renderer, renderer.media_type

        accepts = self._get_parsed_accept_list(request) or [_MediaType("*/*")]
        parsed = [(renderer, _MediaType(renderer.media_type)) for renderer in renderers]
        refused = {
            renderer
            for renderer, own in parsed
            for accept in accepts
            if _quality(accept) == 0 and accept.precedence >= 2 and own.match(accept)
        }
        ranked = sorted(
            (accept for accept in accepts if _quality(accept) > 0),
            key=lambda accept: (-_quality(accept), -accept.precedence),
        )
        for accept in ranked:
            for renderer, own in parsed:
                if renderer not in refused and own.match(accept):
                    return renderer, renderer.media_type
        raise exceptions.NotAcceptable(available_renderers=renderers)
