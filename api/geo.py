"""An entry's boundary as GeoJSON, and as GeoSPARQL in its RDF.

- ``/doc/statistical-geography/{key}.geojson``, or the entry's document with
  ``Accept: application/geo+json`` (:func:`entry_view` routes it; every other request goes
  to the entry's document as before): a GeoJSON Feature of the boundary holding on the date
  asked (``?date=``, default today; a terminated area's last day), with its code, name,
  layer, vintage, valid-time range, generalisation, generalised area in m² (British National
  Grid), centroid, label point and the boundaries' attribution. ``simplify_tolerance=``
  (degrees, as MapIt's is in the coordinate system's units) simplifies it.
- :func:`add_geometry` adds ``geo:hasGeometry`` / ``geo:asWKT`` (GeoSPARQL) to an entry's
  graph: the boundary as at the document's date, simplified to about 100 m, and a link to the
  full shape.
"""

from __future__ import annotations

import datetime as dt
import json
import math

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from geography import spatial
from geography.models import Boundary
from geography.registers import AREAS
from registry import facts, validtime
from registry.models import Entry
from registry.uris import base, document_uri, entry_uri

from . import http
from .documents.base import RENDER_VERSION

GEOJSON = "application/geo+json"
WKT_TOLERANCE = 0.001  # degrees: about 100 m north–south, 70 m east–west at these latitudes
GEOSPARQL = "http://www.opengis.net/ont/geosparql#"
LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def problem(status: int, title: str, detail: str) -> JsonResponse:
    response = JsonResponse(
        {"title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def wants_geojson(request, format: str | None) -> bool:
    if format:
        return format == "geojson"
    if request.GET.get("format"):
        return request.GET["format"] == "geojson"
    accept = request.headers.get("Accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first == GEOJSON


_document_view = []


@csrf_exempt  # as the document view it stands in front of is (DRF's views are)
def entry_view(request, register: str, key: str, format: str | None = None):
    """The entry's document, or its boundary as GeoJSON when asked for."""
    if register == AREAS and wants_geojson(request, format):
        return geojson(request, key)
    if not _document_view:
        from .documents.entries import EntryView

        _document_view.append(EntryView.as_view())
    return _document_view[0](request, register=register, key=key, format=format)


def boundary_on(entry: Entry, on: dt.date) -> Boundary | None:
    """The entry's boundary holding on ``on`` (a terminated entry: on its last day)."""
    life = facts.lifetimes([entry.pk]).get(entry.pk, validtime.NEVER)
    day = validtime.seen_on(life, on) if life.operative else on
    return (
        Boundary.objects.filter(entry=entry, valid_from__lte=day)
        .exclude(valid_to__lt=day)
        .order_by("-valid_from")
        .first()
    )


def geojson(request, key: str) -> HttpResponse:
    import shapely

    if request.method not in ("GET", "HEAD"):
        return problem(405, "Method not allowed", "Boundaries are read with GET.")
    try:
        on, explicit = http.as_at(request.GET)
    except http.BadParameter as error:
        return problem(400, "Bad parameter", f"{error.name} {error.reason}")
    try:
        tolerance = simplify_tolerance(request.GET)
    except http.BadParameter as error:
        return problem(400, "Bad parameter", error.sentence)
    entry = Entry.objects.filter(register__slug=AREAS, key=key).first()
    if entry is None:
        return problem(404, "Not found", f"There is no entry {key[:40]!r} in {AREAS}.")
    # Validators before anything is drawn: the entry's version, the data version (its name)
    # and the boundaries' load (its shape), as its page has them.
    version, changed = http.data_version()
    boundaries = http.boundaries_version()
    etag = http.etag(
        RENDER_VERSION,
        base(),
        "geojson",
        key,
        on.isoformat(),
        explicit,
        tolerance,
        version,
        changed,
        entry.version,
        boundaries,
    )
    last_modified = http.last_modified(http.changed_since(changed, boundaries[1]), on, explicit)
    response = http.conditional_response(request, etag, last_modified)
    if response is None:
        boundary = boundary_on(entry, on)
        if boundary is None:
            return problem(
                404,
                "No boundary",
                f"The registry holds no boundary of {key} for {on.isoformat()}.",
            )
        shape = shapely.from_wkb(bytes(boundary.geometry))
        if tolerance:
            shape = shapely.simplify(shape, tolerance, preserve_topology=True)
        name = facts.labels([entry.pk], on).get(entry.pk)
        feature = {
            "type": "Feature",
            "id": key,
            "geometry": json.loads(shapely.to_geojson(shape)),
            "properties": {
                **feature_properties(key, name, boundary),
                "date": on.isoformat(),
                "simplify_tolerance": tolerance,
                "attribution": spatial.ATTRIBUTION,
                "licence": LICENCE,
            },
        }
        response = HttpResponse(json.dumps(feature, ensure_ascii=False), content_type=GEOJSON)
    for header, value in http.validator_headers(etag, last_modified).items():
        response[header] = value
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=3600"
    response["Vary"] = "Accept"
    response["Link"] = f'<{entry_uri(AREAS, key)}>; rel="describes"'
    return response


def simplify_tolerance(query) -> float:
    """``simplify_tolerance=`` (degrees, as MapIt's is in the coordinate system's units:
    shapely's topology-preserving Douglas–Peucker), 0 if absent; anything but a number from
    0 to 1 is a :class:`~api.http.BadParameter`."""
    text = query.get("simplify_tolerance")
    if text is None:
        return 0.0
    try:
        tolerance = float(text)
    except ValueError:
        tolerance = math.nan
    if not (math.isfinite(tolerance) and 0 <= tolerance <= 1):
        raise http.BadParameter(
            "simplify_tolerance",
            f"must be a number of degrees from 0 to 1, such as 0.001; got {text[:40]!r}.",
        )
    return tolerance


def feature_properties(key: str, name: str | None, boundary: Boundary) -> dict:
    """The properties of a boundary's GeoJSON Feature: what it is (code, name, type, URIs)
    and which boundary (vintage, range, generalisation, generalised area, centroid, label
    point). An entry's GeoJSON and the boundary downloads both say these."""
    return {
        "code": key,
        "name": name,
        "type": boundary.layer,
        "uri": entry_uri(AREAS, key),
        "document": document_uri(AREAS, key),
        "vintage": boundary.vintage,
        "valid_from": boundary.valid_from.isoformat(),
        "valid_to": boundary.valid_to.isoformat() if boundary.valid_to else None,
        "generalisation": boundary.generalisation,
        "area_generalised_m2": round(boundary.area),
        "centroid": [boundary.centroid_lon, boundary.centroid_lat],
        "label_point": [boundary.label_lon, boundary.label_lat],
    }


def add_geometry(graph, entry: Entry, on: dt.date) -> None:
    """GeoSPARQL: ``<area> geo:hasGeometry <…#geometry-VINTAGE>``, that geometry's
    ``geo:asWKT`` (simplified) and ``rdfs:seeAlso`` its full GeoJSON."""
    import shapely
    from rdflib import Literal, Namespace, URIRef
    from rdflib.namespace import RDF, RDFS

    if entry.register.slug != AREAS:
        return
    key = entry.key
    boundary = boundary_on(entry, on)
    if boundary is None:
        return
    geo = Namespace(GEOSPARQL)
    graph.bind("geo", geo)
    thing = URIRef(entry_uri(AREAS, key))
    node = URIRef(f"{entry_uri(AREAS, key)}#geometry-{boundary.vintage}")
    shape = shapely.simplify(
        shapely.from_wkb(bytes(boundary.geometry)), WKT_TOLERANCE, preserve_topology=True
    )
    wkt = shapely.to_wkt(shape, rounding_precision=5, trim=True)
    graph.add((thing, geo.hasGeometry, node))
    graph.add((node, RDF.type, geo.Geometry))
    graph.add((node, geo.asWKT, Literal(wkt, datatype=geo.wktLiteral)))
    graph.add((node, RDFS.seeAlso, URIRef(document_uri(AREAS, key, ".geojson") + f"?date={on}")))
