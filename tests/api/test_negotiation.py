"""Content negotiation (``api/negotiation.py``): ``Accept`` header × suffix → ``Content-Type``,
406 or 404. One table, checked against the negotiation on its own and, for a few rows, by
requests for the document of an entry built by the factories in an empty registry."""

import pytest
from django.http import Http404
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.negotiation import RegistryContentNegotiation
from api.renderers import DOCUMENT_RENDERERS

BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
HTML = "text/html; charset=utf-8"
JSON = "application/json"
JSONLD = "application/ld+json"
TURTLE = "text/turtle; charset=utf-8"
RDFXML = "application/rdf+xml"
NTRIPLES = "application/n-triples"
CSV = "text/csv; charset=utf-8"

# (Accept, suffix or ?format=, the Content-Type answered or the status code of the refusal)
TABLE = [
    # No preference, or a browser's: HTML, the first renderer.
    ("", "", HTML),
    ("*/*", "", HTML),
    (BROWSER_ACCEPT, "", HTML),
    ("text/*", "", HTML),
    # Each format by its media type.
    ("text/html", "", HTML),
    ("application/json", "", JSON),
    ("application/ld+json", "", JSONLD),
    ("text/turtle", "", TURTLE),
    ("application/rdf+xml", "", RDFXML),
    ("application/n-triples", "", NTRIPLES),
    ("text/csv", "", CSV),
    ("application/*", "", JSON),
    # Quality values: the higher q wins, whatever the order; then the more specific type.
    ("application/rdf+xml;q=0.5, text/turtle", "", TURTLE),
    ("text/html;q=0.1, application/ld+json;q=0.9", "", JSONLD),
    ("image/png, text/turtle;q=0.2", "", TURTLE),
    ("text/*;q=0.8, text/csv;q=0.8", "", CSV),
    # q=0 rules a type out.
    ("text/html;q=0, */*", "", JSON),
    # Nothing acceptable: 406.
    ("image/png", "", 406),
    ("application/xml", "", 406),
    ("text/plain;q=1, */*;q=0", "", 406),
    # A suffix or ?format= wins over any Accept, even one nothing satisfies.
    ("", ".ttl", TURTLE),
    ("application/json", ".ttl", TURTLE),
    ("image/png", ".csv", CSV),
    ("text/html", ".nt", NTRIPLES),
    ("*/*", ".jsonld", JSONLD),
    ("application/json", ".rdf", RDFXML),
    ("text/turtle", ".html", HTML),
    ("text/turtle", ".json", JSON),
    ("text/turtle", "?format=csv", CSV),
    ("image/png", "?format=ttl", TURTLE),
    # An unknown suffix (formats are lower case) or ?format=: 404.
    ("", ".xyz", 404),
    ("text/turtle", ".turtle", 404),
    ("", ".HTML", 404),
    ("application/json", ".xml", 404),
    ("", "?format=xml", 404),
]


def negotiate(accept: str, suffix: str) -> str | int:
    """The media type the negotiation picks, or the status code of its refusal."""
    fmt, query = (suffix[1:], "") if suffix.startswith(".") else (None, suffix)
    request = Request(APIRequestFactory().get(f"/doc{query}", HTTP_ACCEPT=accept))
    try:
        renderer, media_type = RegistryContentNegotiation().select_renderer(
            request, [renderer() for renderer in DOCUMENT_RENDERERS], fmt
        )
    except exceptions.NotAcceptable:
        return 406
    except Http404:
        return 404
    assert renderer.media_type == media_type
    return media_type


@pytest.mark.parametrize(("accept", "suffix", "expected"), TABLE)
def test_negotiation(accept, suffix, expected):
    answer = expected if isinstance(expected, int) else expected.split(";")[0]
    assert negotiate(accept, suffix) == answer


@pytest.fixture
def entry(empty_registry, factory):
    made = factory.make_entry(name="Testshire", name_cy="Swydd Prawf")
    return f"/doc/statistical-geography/{made.key}"


# A few rows of the table, asked of a document.
REQUESTS = [
    ("", "", HTML),
    (BROWSER_ACCEPT, "", HTML),
    ("application/rdf+xml;q=0.5, text/turtle", "", TURTLE),
    ("image/png", ".csv", CSV),
    ("image/png", "?format=ttl", TURTLE),
    ("image/png", "", 406),
    ("text/plain;q=1, */*;q=0", "", 406),
    ("", ".xyz", 404),
]


@pytest.mark.parametrize(("accept", "suffix", "expected"), REQUESTS)
def test_documents_answer_as_negotiated(client, entry, accept, suffix, expected):
    assert (accept, suffix, expected) in TABLE
    response = client.get(f"{entry}{suffix}", HTTP_ACCEPT=accept)
    if isinstance(expected, int):
        assert response.status_code == expected
    else:
        assert (response.status_code, response["Content-Type"]) == (200, expected)
    if expected == 406:
        assert response.json() == {"detail": "Could not satisfy the request Accept header."}
    if expected == HTML:
        assert "Testshire" in response.content.decode()
