"""Point lookups: which areas contained a point on a date (``geography.spatial.engine``: the
shapely index or PostGIS, as ``REGISTRY_SPATIAL_ENGINE`` selects; the same answers either way).

- ``GET point/{lon},{lat}`` (also ``point/4326/{lon},{lat}``, MapIt's form) and
  ``GET point/27700/{easting},{northing}`` (British National Grid);
- ``?date=YYYY-MM-DD`` (default today) and ``?type=ward,lad`` (the layers, default all);
- ``POST point/``: up to 1,000 points in one body.

Each area comes with its code, name as at the date, layer, entity type, URI and the boundary
vintage used; the answer says which requested layers no boundary covers on the date, and
carries the boundaries' attribution (OGL v3, OS data).
"""

from __future__ import annotations

import datetime as dt
import math
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response

from geography import spatial
from geography.registers import AREAS
from registry import facts
from registry.uris import document_uri, entry_uri

from ... import http
from .. import problems
from ..parsers import StrictJSONParser
from ..schema import responses
from ..throttling import BulkThrottle
from .base import LookupView

MAX_POINTS = 1000
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_PAIR = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$")

PARAMETERS = [
    OpenApiParameter(
        "date", OpenApiTypes.DATE, description="As at this date (YYYY-MM-DD); default today."
    ),
    OpenApiParameter(
        "type",
        str,
        description="Comma-separated layers: " + ", ".join(spatial.LAYERS) + " (default all).",
    ),
]


def parse_pair(name: str, text: str) -> tuple[float, float]:
    """Two finite numbers written ``a,b``; anything else is a 400 naming ``name``."""
    found = _PAIR.match(text)
    if not found:
        raise problems.BadParameter(
            name,
            f"must be two numbers separated by a comma, such as -3.18,51.48; got {text[:60]!r}.",
        )
    a, b = float(found.group(1)), float(found.group(2))
    if not (math.isfinite(a) and math.isfinite(b)):
        raise problems.BadParameter(name, f"must be finite numbers; got {text[:60]!r}.")
    return a, b


def check_lon_lat(name: str, lon: float, lat: float) -> tuple[float, float]:
    try:
        return spatial.check_lon_lat(lon, lat)
    except ValueError as error:
        raise problems.BadParameter(name, str(error)) from None


def check_bng(name: str, easting: float, northing: float) -> tuple[float, float]:
    try:
        return spatial.check_bng(easting, northing)
    except ValueError as error:
        raise problems.BadParameter(name, str(error)) from None


def parse_layers(value: str | None, name: str = "type") -> list[str] | None:
    """The layers a comma-separated ``value`` names (None: no value); an unknown one is a 400
    naming the parameter ``name``."""
    if value is None or value.strip() == "":
        return None
    layers = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [layer for layer in layers if layer not in spatial.LAYERS]
    if unknown:
        raise problems.BadParameter(
            name,
            f"must be one or more of {', '.join(spatial.LAYERS)}; got {unknown[0][:40]!r}.",
        )
    return layers


def describe(hits_per_point: list[list[spatial.Hit]], on: dt.date) -> list[list[dict]]:
    names = facts.labels({hit.entry for hits in hits_per_point for hit in hits}, on)
    return [
        [
            {
                "code": hit.code,
                "name": names.get(hit.entry),
                "type": hit.layer,
                "type_name": spatial.LAYER_NAMES[hit.layer],
                "entity_type": hit.code[:3],
                "uri": entry_uri(AREAS, hit.code),
                "document": document_uri(AREAS, hit.code),
                "boundary": {
                    "vintage": hit.vintage,
                    "generalisation": hit.generalisation,
                    "valid_from": hit.valid_from.isoformat(),
                    "valid_to": hit.valid_to.isoformat() if hit.valid_to else None,
                },
            }
            for hit in hits
        ]
        for hits in hits_per_point
    ]


def not_covered(index: spatial.Engine, on: dt.date, layers: list[str] | None) -> list[dict]:
    held = index.covered_layers(on)
    return [
        {
            "type": layer,
            "detail": f"The registry holds no {spatial.LAYER_NAMES[layer].lower()} boundaries "
            f"for {on.isoformat()}.",
        }
        for layer in (layers or spatial.LAYERS)
        if layer not in held
    ]


class PointView(LookupView):
    """Every area containing one point on the date."""

    depends_on_boundaries = True

    @extend_schema(
        parameters=PARAMETERS,
        responses=responses(OpenApiResponse(OpenApiTypes.OBJECT, description="The areas.")),
        summary="Areas containing a point (longitude,latitude or British National Grid)",
        operation_id="point_lookup",
    )
    def get(self, request, coordinates: str, srid: str = "4326"):
        if srid == "27700":
            easting, northing = parse_pair("coordinates", coordinates)
            lon, lat = check_bng("coordinates", easting, northing)
            point = {"easting": easting, "northing": northing, "lon": lon, "lat": lat}
        else:
            lon, lat = check_lon_lat("coordinates", *parse_pair("coordinates", coordinates))
            point = {"lon": lon, "lat": lat}
        layers = parse_layers(request.query_params.get("type"))
        index = spatial.engine()
        areas = describe([index.containing(lon, lat, self.date, layers)], self.date)[0]
        body = {
            "point": point,
            "date": self.date.isoformat(),
            "types": layers or list(spatial.LAYERS),
            "count": len(areas),
            "areas": areas,
            "not_covered": not_covered(index, self.date, layers),
            "attribution": spatial.ATTRIBUTION,
        }
        if not areas:
            body["detail"] = (
                f"No area of the types asked for contains this point on {self.date.isoformat()}."
            )
        return Response(body)


class BulkPointView(LookupView):
    """Up to 1,000 points at once."""

    parser_classes = [StrictJSONParser]
    throttle_classes = [BulkThrottle]
    cacheable = False

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=responses(OpenApiResponse(OpenApiTypes.OBJECT, description="Areas per point.")),
        summary="Bulk point lookup: up to 1,000 points (lon/lat or easting/northing)",
        operation_id="point_lookup_bulk",
    )
    def post(self, request):
        data = request.data
        points = data.get("points") if isinstance(data, dict) else None
        if not isinstance(points, list) or not points:
            raise problems.BadParameter(
                "points", "must be a list of points, each {lon, lat} or {easting, northing}."
            )
        if len(points) > MAX_POINTS:
            raise problems.BadParameter(
                "points", f"has {len(points):,} points; a bulk lookup takes at most 1,000."
            )
        date = self.date
        if data.get("date") is not None:
            if not isinstance(data["date"], str):
                raise problems.BadParameter("date", "must be a date in the form YYYY-MM-DD.")
            date = http.parse_date(data["date"], "date")
        layers_value = data.get("type")
        if layers_value is not None and not isinstance(layers_value, str | list):
            raise problems.BadParameter(
                "type", "must be a list of layers or a comma-separated string."
            )
        if isinstance(layers_value, list):
            if not all(isinstance(v, str) for v in layers_value):
                raise problems.BadParameter("type", "must be a list of layer names.")
            layers_value = ",".join(layers_value)
        layers = parse_layers(layers_value)
        located = [_point(f"points[{i}]", p) for i, p in enumerate(points)]
        index = spatial.engine()
        found = describe(
            index.containing_many([(p["lon"], p["lat"]) for p in located], date, layers), date
        )
        return Response(
            {
                "date": date.isoformat(),
                "types": layers or list(spatial.LAYERS),
                "count": len(located),
                "not_covered": not_covered(index, date, layers),
                "results": [
                    {"point": p, "areas": areas} for p, areas in zip(located, found, strict=True)
                ],
                "attribution": spatial.ATTRIBUTION,
            }
        )


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise problems.BadParameter(name, f"must be a number; got {str(value)[:40]!r}.")
    return float(value)


def _point(name: str, value) -> dict:
    if not isinstance(value, dict):
        raise problems.BadParameter(name, "must be an object: {lon, lat} or {easting, northing}.")
    if "lon" in value or "lat" in value:
        lon, lat = check_lon_lat(
            name, _number(f"{name}.lon", value.get("lon")), _number(f"{name}.lat", value.get("lat"))
        )
        return {"lon": lon, "lat": lat}
    if "easting" in value or "northing" in value:
        easting = _number(f"{name}.easting", value.get("easting"))
        northing = _number(f"{name}.northing", value.get("northing"))
        lon, lat = check_bng(name, easting, northing)
        return {"easting": easting, "northing": northing, "lon": lon, "lat": lat}
    raise problems.BadParameter(name, "must have lon and lat, or easting and northing.")
