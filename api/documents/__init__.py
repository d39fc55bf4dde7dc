"""Persistent URIs and the documents about them, at ``/id/…``, ``/doc/…``, ``/def/`` and
``/.well-known/void``, and the bulk downloads.

Every document comes in every format (HTML, JSON, JSON-LD, Turtle, RDF/XML, N-Triples, CSV),
chosen by suffix or ``Accept`` (``api.negotiation``), as at any date (``?date=YYYY-MM-DD``,
default today), with validators computed before anything is rendered (:mod:`.base`). One
module per kind of document: :mod:`.resolution` (the ``/id/`` redirects), :mod:`.entries`,
:mod:`.events`, :mod:`.listings`, :mod:`.vocabulary` (``/def/`` and VoID), :mod:`.downloads`.
"""
