"""The properties a reconciliation query may carry, and what each does to the candidates.

A property confirms or vetoes a candidate, never creates one (:mod:`~api.reconcile.matching`
finds them): ``parent`` and the other place properties (the name or code of an area it lies
within, or of the council governing one), ``country``, ``type``, ``code``, ``status`` and
``point`` (a place inside the area, checked against its boundary on the date); ``date`` says
which day the data describes. A value the service cannot read confirms and vetoes nothing,
but leaves the property unverified, which blocks an automatic match; a malformed point fails
its query (:class:`BadValue`). Any other property is ignored. :data:`QUERY_PROPERTIES` is what
``suggest/property`` offers.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from geography import spatial
from geography.entity_types import COUNTRY_NAMES
from geography.gss import COUNTRY_OF_LETTER
from geography.names import forms

from . import types
from .index import Index

if TYPE_CHECKING:
    from .matching import Candidate, Matcher


@dataclass
class Property:
    pid: str
    values: list[Any]


# Property ids a query may use (suggest/property lists them).
PARENT_PIDS = {
    "parent",
    "district",
    "county",
    "region",
    "combined-authority",
    "msoa",
    "parent-district",
    "parent-county",
    "parent-region",
    "parent-country",
    "parent-combined-authority",
    "parent-msoa",
    "la",
    "lad",
    "local-authority",
}
DATE_PIDS = {"date", "as-at", "as_at", "year"}
TYPE_PIDS = {"type", "entity-type", "entity_type"}
CODE_PIDS = {"code", "gss", "identifier"}
POINT_PIDS = {"point", "location"}

QUERY_PROPERTIES = [
    {
        "id": "parent",
        "name": "Within (any parent)",
        "description": "Name or code of any area this one lies within: its district, county, "
        "region, country or combined authority (or the council that governs one)",
    },
    {
        "id": "district",
        "name": "Local authority district",
        "description": "Name or code of the district (or its council) a ward, LSOA or MSOA is in",
    },
    {"id": "county", "name": "County", "description": "Name or code of the county"},
    {"id": "region", "name": "Region", "description": "Name or code of the English region"},
    {
        "id": "country",
        "name": "Country",
        "description": "England, Wales, Scotland or Northern Ireland (name, letter or code)",
    },
    {
        "id": "date",
        "name": "As at date",
        "description": "The day the data describes (YYYY-MM-DD, DD/MM/YYYY or a year): the "
        "entry valid then wins",
    },
    {
        "id": "type",
        "name": "Entity type",
        "description": "Entity type code (E05), type id (ward) or name the entry must have",
    },
    {"id": "code", "name": "Code", "description": "A code or identifier the entry must carry"},
    {"id": "status", "name": "Status", "description": "live or terminated on the date"},
    {
        "id": "point",
        "name": "Point (latitude,longitude)",
        "description": "A place inside the area, latitude first as in a geo column "
        '("51.4816,-3.1791"), or WKT "POINT(-3.1791 51.4816)" (longitude first): an area '
        "whose boundary on the date covers it is confirmed, one whose boundary does not is "
        "vetoed (alias: location)",
    },
]


def parse_date(value: Any) -> dt.date | None:
    """A date from a property value: ``2019-05-01``, ``2019-05-01T00:00:00Z``, ``01/05/2019``
    (day first), a year (``2019`` or 2019, read as 1 May, when new wards usually begin), or
    ``{"date": …}``. None if it is not a date."""
    if isinstance(value, dict):
        value = value.get("date") or value.get("str") or value.get("name")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):  # JSON's 1e999, NaN
            return None
        value = str(int(value))
    value = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}", value):
            year = int(value)
            return dt.date(year, 5, 1) if 1000 <= year <= 9999 else None
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", value):
            day, month, year = (int(part) for part in value.split("/"))
            return dt.date(year, month, day)
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_LAT_LON = re.compile(rf"^\s*({_NUMBER})\s*[,;]\s*({_NUMBER})\s*$")
_WKT_POINT = re.compile(
    rf"^\s*(?:SRID=4326;)?\s*POINT\s*\(\s*({_NUMBER})\s+({_NUMBER})\s*\)\s*$", re.IGNORECASE
)


class BadValue(ValueError):
    """A property value the service refuses outright (a malformed point), rather than leaving
    unverified: the query fails, with this message."""


def parse_point(value: Any) -> tuple[float, float]:
    """(longitude, latitude) from a ``point`` value: ``"lat,lon"`` (latitude first, the order
    of OpenRefine's geo columns and of most spreadsheets: ``"51.4816,-3.1791"``), WKT
    ``"POINT(lon lat)"`` (longitude first, as WKT always is), or ``{"lat": …, "lon": …}``.
    Raises :class:`BadValue` for anything else, for a number out of range, and for a pair
    that is in the UK only when read the other way round (written longitude first)."""
    if isinstance(value, dict):
        lat, lon = value.get("lat"), value.get("lon", value.get("lng"))
        if lat is not None and lon is not None:
            value = f"{lat},{lon}"
        else:
            value = value.get("str") or value.get("name") or value.get("id") or ""
    if not isinstance(value, str):
        raise BadValue(f"a point must be text such as '51.4816,-3.1791'; got {str(value)[:40]!r}")
    if found := _WKT_POINT.match(value):
        lon, lat = float(found.group(1)), float(found.group(2))
    elif found := _LAT_LON.match(value):
        lat, lon = float(found.group(1)), float(found.group(2))
        if not spatial.in_uk_box(lon, lat) and spatial.in_uk_box(lat, lon):
            raise BadValue(
                f"point {value.strip()[:60]!r} reads as latitude {lat:g}, longitude {lon:g}, "
                "outside the UK: write latitude first ('51.4816,-3.1791') or "
                "'POINT(-3.1791 51.4816)'"
            )
    else:
        raise BadValue(
            f"point {value.strip()[:60]!r} is not 'latitude,longitude' "
            "(such as '51.4816,-3.1791') nor 'POINT(longitude latitude)'"
        )
    try:
        return spatial.check_lon_lat(lon, lat)
    except ValueError as error:
        raise BadValue(f"point {value.strip()[:60]!r}: {error}") from None


def check(properties: list[Property]) -> None:
    """Refuse, with :class:`BadValue`, a query whose properties hold a value no answer could
    come from (a malformed point); any other value is weighed by :func:`apply`."""
    for prop in properties:
        if _pid(prop) in POINT_PIDS:
            for value in prop.values:
                if value is not None and value != "":
                    parse_point(value)


def _pid(prop: Property) -> str:
    return prop.pid.strip().lower().replace("_", "-")


def apply(
    candidates: list[Candidate], properties: list[Property], date: dt.date, matcher: Matcher
) -> None:
    """Add each property's confirmation or veto to every candidate (or, for a value the
    service cannot read, note the property as unverified)."""
    index = matcher.index
    for prop in properties:
        pid = _pid(prop)
        values = [v for v in prop.values if v is not None and v != ""]
        if not values or pid in DATE_PIDS:
            continue
        if pid in PARENT_PIDS or pid == "country":
            places: set[int] = set()
            for value in values:
                places |= resolve_places(matcher, value)
            for candidate in candidates:
                if not places:
                    candidate.unverified.append(pid)
                elif index.ancestors(candidate.pk) & places:
                    candidate.confirmations += 1
                else:
                    candidate.vetoes.append(pid)
        elif pid in TYPE_PIDS:
            wanted: set[str] = set()
            for value in values:
                text = value.get("id") or value.get("name") if isinstance(value, dict) else value
                wanted |= type_codes(str(text), index)
            for candidate in candidates:
                kinds = set(candidate.record.entity_types) | {candidate.record.register}
                if not wanted:
                    candidate.unverified.append(pid)
                elif kinds & wanted:
                    candidate.confirmations += 1
                else:
                    candidate.vetoes.append(pid)
        elif pid in CODE_PIDS:
            codes = {str(v.get("id") if isinstance(v, dict) else v).strip().upper() for v in values}
            for candidate in candidates:
                own = {candidate.record.key.upper()} | {
                    str(s.value).upper() for s in candidate.record.identifiers
                }
                if own & codes:
                    candidate.confirmations += 1
                else:
                    candidate.vetoes.append(pid)
        elif pid == "status":
            wanted_live = {as_live(v) for v in values} - {None}
            for candidate in candidates:
                if not wanted_live:
                    candidate.unverified.append(pid)
                elif candidate.record.live_on(date) in wanted_live:
                    candidate.confirmations += 1
                else:
                    candidate.vetoes.append(pid)
        elif pid in POINT_PIDS:
            apply_points(candidates, [parse_point(v) for v in values], date, pid, matcher)
        # Any other property is not one this service can check: ignored.


def apply_points(
    candidates: list[Candidate],
    points: list[tuple[float, float]],
    date: dt.date,
    pid: str,
    matcher: Matcher,
) -> None:
    """Confirm a candidate whose boundary on ``date`` covers one of ``points`` (longitude,
    latitude), veto one whose boundary that day covers none, and leave as it is a candidate
    with no boundary that day (a type the registry holds no boundaries of, a date before its
    boundaries, a council)."""
    shapes = matcher.shapes
    pks = [c.pk for c in candidates]
    covers: dict[int, bool] = {}
    for lon, lat in points:
        for pk, inside in shapes.covering_entries(pks, lon, lat, date).items():
            covers[pk] = covers.get(pk, False) or inside
    for candidate in candidates:
        if candidate.pk not in covers:
            continue
        if covers[candidate.pk]:
            candidate.confirmations += 1
        else:
            candidate.vetoes.append(pid)


# The most parent property values whose entries one index keeps: a set of a few entries each.
MAX_PLACES = 20_000


def resolve_places(matcher: Matcher, value: Any) -> frozenset[int]:
    """The entries a parent or country value may name: by code, identifier or name (a
    council stands for the areas it governs)."""
    texts = []
    if isinstance(value, dict):
        texts = [str(value[k]) for k in ("id", "name") if value.get(k)]
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        texts = [str(value)]
    # Kept in the index, which an edit replaces (so an edit starts afresh), at most
    # MAX_PLACES values.
    places = matcher.index.places
    key = tuple(texts)
    found = places.get(key)
    if found is None:
        if len(places) >= MAX_PLACES:
            places.clear()
        found = places[key] = frozenset(_places(matcher, texts))
    return found


def _places(matcher: Matcher, texts: list[str]) -> set[int]:
    """The entries the first of ``texts`` that names any names."""
    result: set[int] = set()
    for text in texts:
        text = text.strip()
        if not text:
            continue
        letter = text.upper()
        if letter in COUNTRY_OF_LETTER:
            result.update(r.pk for r in matcher.index.by_key(COUNTRY_OF_LETTER[letter]))
            continue
        found = [candidate.record for candidate in matcher.by_code(text, None)]
        f = forms(text)
        country = COUNTRY_NAMES.get(f.core)
        if country:
            found += matcher.index.by_key(country)
        named = list(matcher.by_name(f).values())
        # Only the closest names: "City of London" is the district, not London the region.
        best = min((c.tier for c in named), default=None)
        found += [c.record for c in named if c.tier == best]
        for record in found:
            if record.register == types.COUNCILS:
                result.update(span.target for span in record.governs)
            else:
                result.add(record.pk)
        if result:
            break
    return result


def as_live(value: Any) -> bool | None:
    """Whether a status value asks for a live entry (True), a terminated one (False), or
    cannot be read (None)."""
    if isinstance(value, bool):
        return value
    text = str(value.get("id") or value.get("name") if isinstance(value, dict) else value)
    text = text.strip().lower()
    if text in {"live", "current", "active", "true", "yes"}:
        return True
    if text in {"terminated", "ended", "abolished", "former", "false", "no"}:
        return False
    return None


def type_codes(text: str, index: Index) -> set[str]:
    """Entity type codes (or a register slug) a type property value names: a code, a group
    id, a register, or an entity type's name."""
    value = types.normalise_type_id(text)
    if value in types.GROUPS:
        return set(types.GROUPS[value].entity_types)
    if value in types.REGISTER_TYPES:
        return {value}
    if value.upper() in index.entity_type_keys:
        return {value.upper()}
    f = forms(value)
    result = set()
    for group in types.GROUPS.values():
        if forms(group.name).core == f.core:
            result |= group.entity_types
    for pk in index.get("form", f.full):
        record = index.records[pk]
        if record.register == types.ENTITY_TYPES:
            result.add(record.key)
    return result
