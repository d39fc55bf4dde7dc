"""The reconciliation service over HTTP: W3C Reconciliation Service API 0.2 at
``/reconcile`` (as OpenRefine 3.x calls it) and the 1.0 draft at ``/reconcile/v1/``.

The views only parse requests and shape answers; matching is :mod:`.matching`, values for
data extension :mod:`.extend`, suggestions :mod:`.suggest`. Every answer, errors included,
carries CORS headers; POSTs need no CSRF token; malformed input is a 4xx with a short JSON
body, and one bad query in a batch gets an empty result without failing the others.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt

from registry.documents import describe
from registry.models import Entry
from registry.validtime import today

from . import extend, index, manifest, matching, present, suggest, types
from . import properties as properties_
from .responses import (
    BadRequest,
    answer,
    as_number,
    body_text,
    client_of,
    endpoint,
    error,
    form_value,
    guard,
    origin,
    overloaded,
    parse_json,
    vary_on_origin,
    with_cors,
)

MAX_BATCH = 500
MAX_QUERY_LENGTH = 500


# --------------------------------------------------------------------------- parsing


def _int(value: Any, default: int, what: str, maximum: int) -> int:
    """``value`` (a number, or its text) as a whole number from 0 to ``maximum``: beyond
    either end (``1e999``, ``-inf`` included) it is that end; not a number is a 400."""
    if value in (None, ""):
        return default
    number = as_number(value)
    if number is None:
        raise BadRequest(f"{what} must be a number")
    return max(0, min(number, maximum))


def _type_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return [value["id"]]
    if isinstance(value, list):
        return [_type_list(v)[0] for v in value if _type_list(v)]
    raise BadRequest("type must be a string or a list of strings")


def _values(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def parse_query(data: Any, known_types: set[str]) -> matching.Query:
    """One 0.2 query object: ``query``, ``type`` (string or list), ``type_strict``, ``limit``
    and ``properties`` as ``[{pid, v}]``."""
    if isinstance(data, str):
        data = {"query": data}
    if not isinstance(data, dict):
        raise BadRequest("a query must be an object")
    text = data.get("query", "")
    if isinstance(text, int | float) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise BadRequest("query must be a string")
    if len(text) > MAX_QUERY_LENGTH:
        raise BadRequest(f"query longer than {MAX_QUERY_LENGTH} characters")
    properties = data.get("properties") or []
    if not isinstance(properties, list):
        raise BadRequest("properties must be a list of {pid, v}")
    props = []
    for item in properties:
        if not isinstance(item, dict):
            raise BadRequest("each property must be an object {pid, v}")
        pid = item.get("pid", item.get("p"))
        if not isinstance(pid, str):
            raise BadRequest("each property needs a pid")
        props.append(matching.Property(pid, _values(item.get("v"))))
    if not text.strip() and not props:
        raise BadRequest("a query needs query text or properties")
    try:
        properties_.check(props)
    except properties_.BadValue as exc:
        raise BadRequest(str(exc)) from None
    filter_ = types.type_filter(_type_list(data.get("type")), known_types)
    limit = _int(data.get("limit"), matching.DEFAULT_LIMIT, "limit", matching.MAX_LIMIT)
    return matching.Query(text, filter_, limit or matching.DEFAULT_LIMIT, props)


def _spend(request: HttpRequest, cost: int) -> HttpResponse | None:
    wait = guard.spend(client_of(request), cost)
    return overloaded(wait) if wait else None


def run_batch(batch: Any, idx: index.Index) -> dict[str, Any]:
    """Answers to a 0.2 batch (an object of queries by key), each independently."""
    if not isinstance(batch, dict):
        raise BadRequest("queries must be a JSON object of queries by key")
    if len(batch) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} queries per request", 413)
    matcher = matching.Matcher(idx, today())
    result: dict[str, Any] = {}
    for key, data in batch.items():
        try:
            query = parse_query(data, idx.entity_type_keys)
        except BadRequest as exc:
            result[key] = {"result": [], "error": exc.message}
            continue
        found = matcher.reconcile(query)
        result[key] = {"result": [present.candidate(idx, c, found.date) for c in found.candidates]}
    return result


def _extend(request: HttpRequest, raw: str, idx: index.Index) -> dict[str, Any]:
    parsed = extend.parse(parse_json(raw, "extend"))
    rows = extend.Extender(idx).rows(parsed, today())
    return {"meta": extend.meta([pid for pid, _, _, _ in parsed.properties]), "rows": rows}


# --------------------------------------------------------------------------- 0.2


@endpoint
def service(request: HttpRequest) -> HttpResponse:
    """The 0.2 endpoint: the manifest on a bare GET, ``queries`` or ``extend`` by POST form
    field or GET parameter."""
    queries = form_value(request, "queries")
    raw_extend = form_value(request, "extend") if queries is None else None
    if queries is None and raw_extend is None:
        # The manifest must answer fast even on a cold process (OpenRefine gives up after
        # 5 s): it does not wait for the index, and starts building it for what follows.
        index.warm()
        body = manifest.v02(origin(request), index.built())
        return vary_on_origin(answer(request, body, cache_seconds=3600))
    if queries is not None:
        batch = parse_json(queries, "queries")
        # Counted before any work, the index's first build included.
        if over := _spend(request, len(batch) if isinstance(batch, dict) else 1):
            return over
        return answer(request, run_batch(batch, index.current()))
    return answer(request, _extend(request, raw_extend, index.current()))


def _cursor_args(request: HttpRequest, cursor_name: str) -> tuple[str, int, int]:
    prefix = request.GET.get("prefix", "")
    if len(prefix) > MAX_QUERY_LENGTH:
        raise BadRequest("prefix too long")
    cursor = _int(request.GET.get(cursor_name), 0, cursor_name, 10**6)
    limit = _int(request.GET.get("limit"), suggest.DEFAULT_LIMIT, "limit", suggest.MAX_LIMIT)
    return prefix, cursor, limit or suggest.DEFAULT_LIMIT


def _paged(result: list[Any], next_cursor: int | None, cursor_name: str) -> dict[str, Any]:
    body: dict[str, Any] = {"result": result}
    if next_cursor is not None:
        body[cursor_name] = next_cursor
    return body


@endpoint
def suggest_entity(request: HttpRequest, v1: bool = False) -> HttpResponse:
    cursor_name = "offset" if v1 else "cursor"
    prefix, cursor, limit = _cursor_args(request, cursor_name)
    idx = index.current()
    filter_ = types.type_filter(_type_list(request.GET.get("type")), idx.entity_type_keys)
    result, nxt = suggest.entities(idx, prefix, filter_, today(), cursor, limit)
    return answer(request, _paged(result, nxt, cursor_name))


@endpoint
def suggest_type(request: HttpRequest, v1: bool = False) -> HttpResponse:
    cursor_name = "offset" if v1 else "cursor"
    prefix, cursor, limit = _cursor_args(request, cursor_name)
    result, nxt = suggest.types_matching(index.current(), prefix, cursor, limit)
    return answer(request, _paged(result, nxt, cursor_name))


@endpoint
def suggest_property(request: HttpRequest, v1: bool = False) -> HttpResponse:
    cursor_name = "offset" if v1 else "cursor"
    prefix, cursor, limit = _cursor_args(request, cursor_name)
    result, nxt = suggest.properties_matching(prefix, cursor, limit)
    return answer(request, _paged(result, nxt, cursor_name))


@endpoint
def propose_properties(request: HttpRequest) -> HttpResponse:
    type_id = request.GET.get("type", "")
    limit = _int(request.GET.get("limit"), 0, "limit", 1000)
    body: dict[str, Any] = {"properties": extend.propose(type_id, limit), "type": type_id}
    if limit:
        body["limit"] = limit
    return answer(request, body, cache_seconds=3600)


@xframe_options_exempt
@endpoint
def preview(request: HttpRequest, ident: str | None = None) -> HttpResponse:
    """A small HTML card for OpenRefine's preview pane: framable, readable without scripts."""
    ident = ident or request.GET.get("id", "")
    idx = index.current()
    record = idx.resolve(ident)
    if record is None:
        response = render(request, "api/reconcile/preview.html", {"missing": ident}, status=404)
        return with_cors(response)
    entry = Entry.objects.select_related("register").get(pk=record.pk)
    date = today()
    doc = describe(entry, date).as_dict()
    context = {
        "doc": doc,
        "description": present.description(idx, record, date),
        "ancestors": [(h, a.key, a.label(date)) for h, a in idx.ancestors_on(record.pk, date)],
        "view": f"{origin(request)}/doc/{doc['register']}/{doc['key']}",
    }
    response = render(request, "api/reconcile/preview.html", context)
    return vary_on_origin(with_cors(response, max_age=3600))


@endpoint
def view(request: HttpRequest, ident: str) -> HttpResponse:
    """The entity's page: a redirect to its document, ``/doc/{register}/{key}``."""
    record = index.current().resolve(ident)
    if record is None:
        return error(f"no entry with id {ident!r}", 404)
    return with_cors(HttpResponseRedirect(f"/doc/{record.register}/{record.key}"))


@endpoint
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return error(f"no reconciliation resource at /reconcile/{rest}", 404)


# --------------------------------------------------------------------------- 1.0 draft


def _v1_query(data: Any) -> dict[str, Any]:
    """A 1.0-draft query (``conditions``) as a 0.2 query object."""
    if not isinstance(data, dict):
        raise BadRequest("a query must be an object")
    conditions = data.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise BadRequest("a query needs a non-empty list of conditions")
    text, code, properties = "", "", []
    for condition in conditions:
        if not isinstance(condition, dict):
            raise BadRequest("each condition must be an object")
        kind, value = condition.get("matchType"), condition.get("propertyValue")
        first = _values(value)[0] if _values(value) else ""
        if isinstance(first, dict):
            first = first.get("id") or first.get("name") or ""
        if kind == "name":
            text = text or str(first)
        elif kind == "id":
            code = code or str(first)
        elif kind == "property":
            pid = condition.get("propertyId")
            if not isinstance(pid, str):
                raise BadRequest("a property condition needs a propertyId")
            properties.append({"pid": pid, "v": value})
        else:
            raise BadRequest("matchType must be name, id or property")
    query: dict[str, Any] = {"query": code or text, "properties": properties}
    for key in ("type", "limit"):
        if key in data:
            query[key] = data[key]
    return query


@endpoint
def v1_manifest(request: HttpRequest) -> HttpResponse:
    index.warm()
    body = manifest.v1(origin(request), index.built())
    return vary_on_origin(answer(request, body, cache_seconds=3600))


@endpoint
def v1_match(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.content_type == "application/json":
        data = parse_json(body_text(request), "request body")
    else:
        queries = form_value(request, "queries")
        if queries is None:
            raise BadRequest('send {"queries": [...]} as JSON (POST) or ?queries=')
        data = parse_json(queries, "queries")
        if isinstance(data, list):
            data = {"queries": data}
    if not isinstance(data, dict) or not isinstance(data.get("queries"), list):
        raise BadRequest('the body must be {"queries": [...]}')
    queries_ = data["queries"]
    if len(queries_) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} queries per request", 413)
    if over := _spend(request, len(queries_)):
        return over
    idx = index.current()
    matcher = matching.Matcher(idx, today())
    results = []
    for item in queries_:
        try:
            query = parse_query(_v1_query(item), idx.entity_type_keys)
        except BadRequest as exc:
            results.append({"candidates": [], "error": exc.message})
            continue
        found = matcher.reconcile(query)
        results.append(
            {"candidates": [present.candidate(idx, c, found.date, True) for c in found.candidates]}
        )
    return answer(request, {"results": results})


@endpoint
def v1_extend(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.content_type == "application/json":
        raw = body_text(request)
    else:
        raw = form_value(request, "extend")
        if raw is None:
            raise BadRequest('send {"ids": [...], "properties": [...]} as JSON')
    idx = index.current()
    body = _extend(request, raw, idx)
    rows = [
        {"id": ident, "properties": [{"id": pid, "values": v} for pid, v in row.items()]}
        for ident, row in body["rows"].items()
    ]
    return answer(request, {"meta": body["meta"], "rows": rows})
