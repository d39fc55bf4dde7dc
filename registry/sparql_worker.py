"""Run one SPARQL query against the store, in a process of its own (``python -m
registry.sparql_worker``), so that the server can stop it.

Oxigraph has no query timeout, and a query (``SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f
}``) can run for hours inside one call that Python cannot interrupt; a process can be killed
(``api.sparql`` does, at ``REGISTRY_SPARQL_SECONDS``). This module imports neither Django nor
the rest of the registry, so it starts in a few tens of milliseconds.

Input on stdin, one JSON object: ``store`` (the directory of ``registry.sparql``), ``query``,
``results`` (a SPARQL results format for SELECT and ASK: ``json``, ``xml``, ``csv``, ``tsv``),
``graph`` (an RDF format for CONSTRUCT and DESCRIBE: ``ttl``, ``nt``, ``jsonld``), either may
be null for "not acceptable", and ``max_bytes``. Output on stdout: one JSON line
(``{"kind": "solutions"|"boolean"|"graph"}``, or ``{"error": …, "status": …}``), then the
serialised answer. Exit status 0, or 3 when the answer grew past ``max_bytes``.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys

RESULTS = {"json": "JSON", "xml": "XML", "csv": "CSV", "tsv": "TSV"}
GRAPHS = {"ttl": "TURTLE", "nt": "N_TRIPLES", "jsonld": "JSON_LD"}
UPDATE_WORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD")


class TooLarge(Exception):
    pass


class CappedOutput:
    """A binary sink that refuses to grow past ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise TooLarge
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _reply(header: dict, body: bytes = b"", code: int = 0) -> None:
    out = sys.stdout.buffer
    out.write(json.dumps(header).encode() + b"\n" + body)
    out.flush()
    sys.exit(code)


def looks_like_update(query: str) -> bool:
    """True if ``query`` (failing to parse as a query) reads as SPARQL Update."""
    words = [
        line.split("#", 1)[0] for line in query.splitlines() if not line.lstrip().startswith("#")
    ]
    for word in " ".join(words).upper().replace("{", " ").split():
        if word in ("PREFIX", "BASE") or word.startswith("<") or word.endswith(":"):
            continue
        return word in UPDATE_WORDS
    return False


def main() -> None:
    import pyoxigraph

    request = json.loads(sys.stdin.read())
    query = request["query"]
    lock = os.open(os.path.join(request["store"], "lock"), os.O_CREAT | os.O_RDWR, 0o644)
    fcntl.flock(lock, fcntl.LOCK_SH)
    store = pyoxigraph.Store.read_only(os.path.join(request["store"], "store"))
    try:
        result = store.query(query, use_default_graph_as_union=True)
    except SyntaxError as error:
        if looks_like_update(query):
            _reply(
                {"status": 400, "error": "This endpoint is read-only: SPARQL Update is refused."}
            )
        _reply({"status": 400, "error": f"The query is not valid SPARQL 1.1: {error}"})
    out = CappedOutput(request["max_bytes"])
    try:
        if isinstance(result, pyoxigraph.QueryTriples):
            kind, name = "graph", request.get("graph")
            if name is None:
                _reply({"kind": kind, "status": 406})
            result.serialize(out, getattr(pyoxigraph.RdfFormat, GRAPHS[name]))
        else:
            kind = "boolean" if isinstance(result, pyoxigraph.QueryBoolean) else "solutions"
            name = request.get("results")
            if name is None:
                _reply({"kind": kind, "status": 406})
            result.serialize(out, getattr(pyoxigraph.QueryResultsFormat, RESULTS[name]))
    except TooLarge:
        _reply({"kind": kind, "status": 413}, code=3)
    except OSError as error:
        # pyoxigraph turns an exception in the sink's write() into an OSError.
        if out.size > out.limit:
            _reply({"kind": kind, "status": 413}, code=3)
        _reply({"status": 400, "error": f"The query failed: {error}"})
    _reply({"kind": kind}, b"".join(out.parts))


if __name__ == "__main__":
    main()
