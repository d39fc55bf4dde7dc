"""The lookup API's views, one module per part of the API: :mod:`.base` (what every endpoint
shares, :class:`~.base.LookupView`), :mod:`.entries`, :mod:`.reference_lists` (registers,
entity types, identifier schemes), :mod:`.events` and :mod:`.batch` (bulk lookups and the
code checker).

Every view answers as at ``?date=`` (default today), in JSON, with problem+json errors, CORS
open to every origin, HTTP caching validators and per-client rate limits. Representations of
one entry come from ``registry.documents.describe``; of many, from
``registry.documents.summarise``, which computes the same facts in bulk.
"""
