"""``/sparql``: SPARQL 1.1 Query over the registry's published triples (``registry.sparql``),
by the SPARQL 1.1 Protocol, read-only.

- **Requests**: ``GET /sparql?query=…``, ``POST`` with a ``query=`` form, or ``POST`` with an
  ``application/sparql-query`` body. An update (``update=``, ``application/sparql-update``, or
  a query text that is SPARQL Update) is a 400 problem: the endpoint is read-only.
- **Answers**: SELECT and ASK as SPARQL JSON, XML, CSV or TSV; CONSTRUCT and DESCRIBE as
  Turtle, N-Triples or JSON-LD; chosen by ``Accept`` with the site's rules
  (``api.negotiation``: quality values, then specificity, then the order here; ``*/*`` and
  browsers get the HTML page) or by ``?format=`` (``json xml csv tsv ttl nt jsonld html``).
  A format that does not fit the kind of query is a 406.
- **Limits**: each query runs in its own process (``registry.sparql_worker``), killed after
  ``REGISTRY_SPARQL_SECONDS`` (a 503 problem that says so); an answer larger than
  ``REGISTRY_SPARQL_MAX_BYTES`` is a 413 problem; at most :data:`CONCURRENT` queries run at
  once in a server process (a 503 with ``Retry-After`` past that).
- **CORS**: ``Access-Control-Allow-Origin: *`` on every answer, and ``OPTIONS`` preflight.
- **Record time** (an extension): the store holds the registry as it stands now (every write
  updates it), so it cannot answer as the registry was recorded in the past. With
  ``recorded=`` (a date or an instant, as ``?recorded=`` everywhere), the endpoint answers
  one kind of query: ``DESCRIBE <uri> …`` of entry URIs, each described as its document says
  as recorded then (``registry.recorded``: the same graph as the entry's RDF document with
  ``?recorded=``, as at ``date=`` if given), in Turtle, N-Triples or JSON-LD. Any other query
  with ``recorded=`` is a 400 problem saying so.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.request import Request

from registry import rdf, recorded, uris
from registry import sparql as store
from registry.models import Entry

from . import http
from .negotiation import RegistryContentNegotiation
from .sparql_examples import examples

CONCURRENT = 4
MAX_QUERY_CHARS = 100_000
_running = threading.BoundedSemaphore(CONCURRENT)


@dataclass(frozen=True)
class Format:
    """What DRF's negotiation needs of a renderer (``media_type``, ``format``)."""

    format: str
    media_type: str


HTML = Format("html", "text/html")
RESULT_FORMATS = [
    HTML,
    Format("json", "application/sparql-results+json"),
    Format("xml", "application/sparql-results+xml"),
    Format("csv", "text/csv"),
    Format("tsv", "text/tab-separated-values"),
]
GRAPH_FORMATS = [
    HTML,
    Format("ttl", "text/turtle"),
    Format("nt", "application/n-triples"),
    Format("jsonld", "application/ld+json"),
]
KNOWN = {f.format for f in RESULT_FORMATS + GRAPH_FORMATS}


def _headers(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Vary"] = "Accept"
    return response


def problem(request, status: int, detail: str, **headers: str) -> HttpResponse:
    # Imported here: api.v1 imports DRF's settings, which import api.v1's parsers, which
    # import api.v1.problems; at URLconf import time that is a cycle.
    from .v1.problems import PROBLEM_MEDIA_TYPE, problem_body

    body = problem_body(status, detail, instance=request.path)
    response = JsonResponse(body, status=status, content_type=PROBLEM_MEDIA_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return _headers(response)


def _negotiate(request, formats: list[Format]) -> Format | None:
    """The format ``?format=`` names (None if it is not among ``formats``), or else the one
    the ``Accept`` header chooses by the site's rules (None if none fits)."""
    wanted = request.GET.get("format")
    if wanted is not None:
        return next((f for f in formats if f.format == wanted), None)
    try:
        chosen, _ = RegistryContentNegotiation().select_renderer(Request(request), formats)
    except (exceptions.NotAcceptable, exceptions.NotFound):
        return None
    return chosen


def _query_of(request) -> tuple[str | None, str | None]:
    """The query text of a request, or an error message."""
    if request.method == "POST":
        media_type = request.content_type or ""
        if media_type == "application/sparql-update" or "update" in request.POST:
            return None, "This endpoint is read-only: SPARQL Update is refused."
        if media_type == "application/sparql-query":
            try:
                return request.body.decode("utf-8"), None
            except UnicodeDecodeError:
                return None, "The query must be UTF-8 text."
        if media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return None, (
                "Send the query as application/sparql-query, or as a query= form "
                "(application/x-www-form-urlencoded)."
            )
        values = request.POST.getlist("query")
    else:
        if "update" in request.GET:
            return None, "This endpoint is read-only: SPARQL Update is refused."
        values = request.GET.getlist("query")
    if len(values) > 1:
        return None, "Give one query= parameter, not several."
    return (values[0] if values else None), None


def run(query: str, results: str | None, graph: str | None) -> tuple[dict, bytes]:
    """Run ``query`` in a worker process within the time limit: the worker's header and body.
    Raises ``subprocess.TimeoutExpired`` (the worker is killed) when it runs too long."""
    request = {
        "store": str(store.directory()),
        "query": query,
        "results": results,
        "graph": graph,
        "max_bytes": settings.REGISTRY_SPARQL_MAX_BYTES,
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and module, no shell)
        [sys.executable, "-m", "registry.sparql_worker"],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=settings.REGISTRY_SPARQL_SECONDS,
        check=False,
    )
    header, _, body = done.stdout.partition(b"\n")
    if not header:
        raise RuntimeError(f"SPARQL worker failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return json.loads(header), body


def _html_page(request, query: str, outcome: dict | None, status: int = 200) -> HttpResponse:
    response = render(
        request,
        "api/sparql.html",
        {
            "query": query,
            "outcome": outcome,
            "examples": [
                {**example, "href": "?" + urlencode({"query": example["query"]})}
                for example in examples()
            ],
            "seconds": settings.REGISTRY_SPARQL_SECONDS,
            "store": store.info(),
        },
        status=status,
    )
    return _headers(response)


def _html_outcome(header: dict, body: bytes) -> dict:
    """What the page shows of an answer: a table of solutions, a yes/no, or triples."""
    if header["kind"] == "graph":
        import pyoxigraph

        triples = pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.N_TRIPLES)
        rows = [[str(t.subject), str(t.predicate), str(t.object)] for t in triples]
        return {"columns": ["subject", "predicate", "object"], "rows": rows}
    data = json.loads(body)
    if header["kind"] == "boolean":
        return {"boolean": data["boolean"]}
    columns = data["head"]["vars"]
    rows = [
        [binding.get(column, {}).get("value", "") for column in columns]
        for binding in data["results"]["bindings"]
    ]
    return {"columns": columns, "rows": rows}


_DESCRIBE = re.compile(r"^\s*DESCRIBE((?:\s+<[^<>\s]+>)+)\s*$", re.IGNORECASE)
RECORDED_ONLY = (
    "With recorded=, this endpoint answers only DESCRIBE <uri> … of entry URIs (from the "
    "entries' versions then); its store holds the registry as it stands now. For a past "
    "record in other shapes, ask each entry's document with ?recorded=."
)


def describe_recorded(request, query: str, graph: Format | None, at) -> HttpResponse:
    """``recorded=`` with ``DESCRIBE <uri> …``: each entry's graph as recorded at ``at``."""
    try:
        day, explicit = http.as_at(request.GET)
    except http.BadDate as error:
        return problem(request, 400, f"{error.name} {error.reason}")
    found = _DESCRIBE.match(query)
    if found is None:
        return problem(request, 400, RECORDED_ONLY)
    if graph is None:
        return problem(request, 406, "No format of DESCRIBE answers fits the Accept header.")
    names = re.findall(r"<([^<>\s]+)>", found.group(1))
    answer = rdf.bind_prefixes(rdf.Graph())
    for name in names[:100]:
        parsed = uris.parse(name)
        entry = (
            Entry.objects.select_related("register")
            .filter(register__slug=parsed.register, key=parsed.key)
            .first()
            if parsed is not None and parsed.key
            else None
        )
        if entry is None:
            continue  # DESCRIBE of something the registry does not hold: no triples
        try:
            doc = recorded.describe(entry, day, at)
        except recorded.NotRecorded:
            continue  # not yet recorded then: the registry said nothing of it
        answer += rdf.entry_graph(doc, explicit_date=explicit)
    fmt = "nt" if graph is HTML else graph.format
    body = answer.serialize(format={"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt])
    media_type = "application/n-triples" if graph is HTML else graph.media_type
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    return _headers(HttpResponse(body.encode(), content_type=media_type))


@csrf_exempt  # read-only and public: a cross-site POST can only ask a question
def endpoint(request):
    """The SPARQL 1.1 Protocol endpoint and its query page."""
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Accept"
        response["Access-Control-Max-Age"] = "86400"
        return _headers(response)
    if request.method not in ("GET", "HEAD", "POST"):
        return problem(request, 405, f"{request.method} is not allowed here; use GET or POST.")
    wanted = request.GET.get("format")
    if wanted is not None and wanted not in KNOWN:
        return problem(request, 404, f"There is no SPARQL answer format {wanted!r}.")
    results = _negotiate(request, RESULT_FORMATS)
    graph = _negotiate(request, GRAPH_FORMATS)
    query, error = _query_of(request)
    html = results is HTML or graph is HTML
    if error:
        return problem(request, 400, error)
    if query is None or not query.strip():
        if html:
            return _html_page(request, "", None)
        return problem(
            request, 400, "Give a SPARQL query as query=…; the page at /sparql has examples."
        )
    if len(query) > MAX_QUERY_CHARS:
        return problem(request, 413, f"The query is longer than {MAX_QUERY_CHARS:,} characters.")
    try:
        at = http.recorded(request.POST if "recorded" in request.POST else request.GET)
    except http.BadDate as error:
        return problem(request, 400, f"{error.name} {error.reason}")
    if at is not None:
        return describe_recorded(request, query, graph, at)
    if results is None and graph is None:
        return problem(request, 406, "No SPARQL answer format fits the Accept header.")
    if not store.exists():
        return problem(
            request,
            503,
            "The SPARQL store has not been built yet (manage.py build_sparql_store).",
            Retry_After="60",
        )
    if not _running.acquire(blocking=False):
        return problem(
            request, 503, "Too many SPARQL queries are running; try again.", Retry_After="5"
        )
    try:
        header, body = run(
            query,
            "json" if results is HTML else (results.format if results else None),
            "nt" if graph is HTML else (graph.format if graph else None),
        )
    except subprocess.TimeoutExpired:
        detail = (
            f"The query ran for more than {settings.REGISTRY_SPARQL_SECONDS:g} s and was "
            "stopped. Narrow it (a LIMIT, a more specific pattern) or use the N-Triples dumps."
        )
        if html:
            return _html_page(request, query, {"error": detail}, status=503)
        return problem(request, 503, detail, Retry_After="10")
    finally:
        _running.release()
    status = header.get("status", 200)
    if status == 413:
        detail = (
            f"The answer is larger than {settings.REGISTRY_SPARQL_MAX_BYTES:,} bytes. Add a "
            "LIMIT (and page with OFFSET), or use the N-Triples dumps."
        )
    elif status == 406:
        kind = "SELECT and ASK" if header["kind"] != "graph" else "CONSTRUCT and DESCRIBE"
        detail = f"No format of {kind} answers fits the Accept header."
    else:
        detail = header.get("error", "")
    if status != 200:
        if html and status in (400, 413):
            return _html_page(request, query, {"error": detail}, status=status)
        return problem(request, status, detail)
    if html:
        return _html_page(request, query, _html_outcome(header, body))
    chosen = graph if header["kind"] == "graph" else results
    media_type = chosen.media_type
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    return _headers(HttpResponse(body, content_type=media_type))
