"""Load ONS's generalised boundaries from ``fixtures/boundaries/`` into :class:`Boundary` rows.

``fixtures/boundaries/MANIFEST.csv`` lists what is loaded: each file (gzipped GeoJSON, or an
object of the ONSvisual TopoJSON) with the *layer* it draws (``ward``, ``lad``, …), its
*vintage*, the date the vintage stands from, the feature property holding the GSS code and
ONS's generalisation (BUC, BSC, BGC), and where a file draws more than the layer, the entity
codes taken from it (the as-at file's regions include Wales, Scotland and Northern Ireland,
which are countries). The files are verbatim copies of
``../shared/data/boundaries/`` (``fixtures/SOURCES.md``). Editorial decisions:

- **The valid-time range of a vintage** runs from its date until the day before the next
  vintage of the same code in the same layer, or the entry's end, and never starts before the
  entry's start (:func:`ranges`, with ``registry.validtime``). A vintage's date is the day its
  changes took effect: 1 April for districts (the day every reorganisation since 2009 took
  effect), the local elections' day in May for wards, the general elections of 6 May 2010 and
  4 July 2024 for the constituency sets, census day for LSOAs and MSOAs. So the 2019 districts
  hold from 1 April 2019, and Taunton Deane (ended 31 March 2019) keeps the shape of the
  ONSvisual as-at file.
- **The ONSvisual as-at TopoJSON** (countries, regions, counties, metropolitan counties,
  combined authorities and districts, 2014–2025, each shape with its first and last vintage
  year) gives one vintage per shape, ``<first year>-as-at``, from 1 April of its first year
  (2014 if none). For districts it is used only before the first GeoJSON vintage of the
  code: the yearly files are finer.
- **Shapes invalid after the source's rounding** (186 of the 2025 wards, about a hundred
  districts and constituencies of each BGC vintage: rings touching themselves) are repaired
  (:func:`repair`: a zero-width buffer where it keeps the area, else shapely's
  ``make_valid``), keeping the polygons; the row says ``repaired``.
- **Codes the registry does not hold**, and vintages wholly outside their entry's lifetime,
  are not loaded; they are counted in the load's summary.
- **Area** is computed in British National Grid (EPSG:27700) from the generalised shape, and
  so is the centroid; the label point is shapely's ``representative_point``, always inside.

The load runs inside the reference data's import run (``geography.loader``): the same
transaction (atomic; a dry run rolls it back), the same run named on every row written. It is
idempotent: a row whose digest is unchanged is not written, so a second load writes nothing.
It streams a layer at a time (all the vintages of one layer are needed to work out its
ranges), and writes 500 rows at a time.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from registry import validtime

BOUNDARIES = "boundaries"
MANIFEST = "MANIFEST.csv"
WRITE_BATCH = 500
# The first year of the ONSvisual as-at file.
AS_AT_FIRST_YEAR = 2014
LAYER_DATE = {"lad": (4, 1), "county": (4, 1), "region": (4, 1), "country": (4, 1)}


class Source(NamedTuple):
    file: str
    layer: str
    vintage: str
    valid_from: dt.date | None
    code_property: str
    generalisation: str
    object: str
    prefixes: tuple[str, ...]  # the entity codes it draws (none: every code in it)


class Shape(NamedTuple):
    """One (code, vintage) of a layer, read and measured, before its range is known."""

    code: str
    vintage: str
    date: dt.date
    generalisation: str
    source: str
    wkb: bytes
    repaired: bool
    area: float
    centroid: tuple[float, float]
    label: tuple[float, float]
    bounds: tuple[float, float, float, float]
    as_at: bool  # from the ONSvisual as-at file


@dataclass
class Counts:
    created: Counter = field(default_factory=Counter)
    changed: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    repaired: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)


def sources(root: Path) -> list[Source]:
    """The rows of ``boundaries/MANIFEST.csv`` (none if the folder has no boundaries)."""
    path = root / BOUNDARIES / MANIFEST
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Source(
                row["file"],
                row["layer"],
                row["vintage"],
                dt.date.fromisoformat(row["valid_from"]) if row["valid_from"] else None,
                row["code_property"],
                row["generalisation"],
                row["object"],
                tuple(p for p in (row.get("prefixes") or "").split("|") if p),
            )
            for row in csv.DictReader(handle)
        ]


def source_files(root: Path) -> list[str]:
    return sorted({f"{BOUNDARIES}/{s.file}" for s in sources(root)})


# ---------------------------------------------------------------------------------------
# Reading


def _features(root: Path, source: Source, cache: dict) -> Iterator[tuple[str, dict, int | None]]:
    """(code, GeoJSON geometry, first vintage year or None) of each feature of a source."""
    path = root / BOUNDARIES / source.file
    if source.object:  # an object of a TopoJSON file
        if path not in cache:
            cache.clear()
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                cache[path] = json.load(handle)
        topology = cache[path]
        for geometry in topology["objects"][source.object]["geometries"]:
            props = geometry.get("properties") or {}
            yield (
                props[source.code_property],
                _topo_geometry(topology, geometry),
                props.get("start"),
            )
        return
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        collection = json.load(handle)
    for feature in collection["features"]:
        yield feature["properties"][source.code_property], feature["geometry"], None


def _topo_geometry(topology: dict, geometry: dict) -> dict:
    """A TopoJSON (quantized, delta-encoded) polygon or multipolygon as GeoJSON."""
    arcs_cache = topology.setdefault("_decoded", {})
    scale_x, scale_y = topology["transform"]["scale"]
    shift_x, shift_y = topology["transform"]["translate"]

    def arc(index: int) -> list[tuple[float, float]]:
        real = ~index if index < 0 else index
        points = arcs_cache.get(real)
        if points is None:
            x = y = 0
            points = []
            for dx, dy in topology["arcs"][real]:
                x += dx
                y += dy
                points.append((x * scale_x + shift_x, y * scale_y + shift_y))
            arcs_cache[real] = points
        return points[::-1] if index < 0 else points

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for i, index in enumerate(indexes):
            part = arc(index)
            points.extend(part if i == 0 else part[1:])
        return points

    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(r) for r in geometry["arcs"]]}
    return {
        "type": "MultiPolygon",
        "coordinates": [[ring(r) for r in polygon] for polygon in geometry["arcs"]],
    }


def _polygonal(geometry):
    """The polygons of a geometry (``make_valid`` may add lines and points)."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if isinstance(g, Polygon | MultiPolygon)]
    return shapely.union_all(parts)


def repair(geometry):
    """A valid polygonal shape from one the source's rounding left invalid (rings touching
    or crossing themselves). First GEOS's zero-width buffer, which rebuilds such rings in
    one fast pass (1.7 s for the 132 invalid districts of 2021, where ``make_valid`` took
    31 s), kept only if it is valid and its area within 0.1% of the shape's own; otherwise
    shapely's ``make_valid`` ("linework", then "structure"), keeping the polygons."""
    import shapely
    from shapely.errors import GEOSException

    buffered = geometry.buffer(0)
    close = abs(buffered.area - geometry.area) <= 0.001 * max(geometry.area, 1e-12)
    if buffered.is_valid and not buffered.is_empty and close:
        return _polygonal(buffered)
    for method in ("linework", "structure"):
        try:
            return _polygonal(shapely.make_valid(geometry, method=method))
        except GEOSException:
            continue
    return _polygonal(buffered)


def _apply(transformer, xy):
    import numpy as np

    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


_TRANSFORMERS: list = []


def _transformers():
    """pyproj transformers WGS 84 → British National Grid and back (longitude first)."""
    if not _TRANSFORMERS:
        from pyproj import Transformer

        _TRANSFORMERS.append(Transformer.from_crs(4326, 27700, always_xy=True))
        _TRANSFORMERS.append(Transformer.from_crs(27700, 4326, always_xy=True))
    return _TRANSFORMERS[0], _TRANSFORMERS[1]


def read_layer(root: Path, layer_sources: list[Source], counts: Counts) -> list[Shape]:
    """Every (code, vintage) shape of one layer's sources, repaired and measured: each
    file's shapes at once (shapely's array functions, one projection call per file)."""
    import numpy as np
    import shapely
    from shapely.geometry import shape as to_shape

    shapes: dict[tuple[str, str], Shape] = {}
    cache: dict = {}
    to_bng, from_bng = _transformers()
    for source in layer_sources:
        seen: dict[str, list] = defaultdict(list)
        starts: dict[str, int | None] = {}
        for code, geometry, start in _features(root, source, cache):
            if source.prefixes and code[:3] not in source.prefixes:
                continue
            seen[code].append(to_shape(geometry))
            starts[code] = start
        codes = list(seen)
        if not codes:
            continue
        joined = sum(len(parts) > 1 for parts in seen.values())
        if joined:
            counts.notes[f"{source.file}: codes drawn by several features, joined"] += joined
        geometries = np.array(
            [p[0] if len(p) == 1 else shapely.union_all(p) for p in seen.values()], dtype=object
        )
        invalid = ~shapely.is_valid(geometries)
        for i in np.flatnonzero(invalid):
            geometries[i] = repair(geometries[i])
        counts.repaired[source.layer] += int(invalid.sum())
        projected = shapely.transform(geometries, lambda xy: _apply(to_bng, xy))
        areas = shapely.area(projected)
        centres = shapely.get_coordinates(
            shapely.transform(shapely.centroid(projected), lambda xy: _apply(from_bng, xy))
        )
        labels = shapely.get_coordinates(shapely.point_on_surface(geometries))
        bounds = shapely.bounds(geometries)
        wkbs = shapely.to_wkb(geometries, output_dimension=2)
        for i, code in enumerate(codes):
            if source.object:
                year = starts[code] or AS_AT_FIRST_YEAR
                month, day_ = LAYER_DATE.get(source.layer, (4, 1))
                vintage, date, as_at = f"{year}-as-at", dt.date(year, month, day_), True
            else:
                assert source.valid_from is not None  # noqa: S101 - a GeoJSON row has one
                vintage, date, as_at = source.vintage, source.valid_from, False
            shapes[(code, vintage)] = Shape(
                code,
                vintage,
                date,
                source.generalisation,
                f"{BOUNDARIES}/{source.file}",
                bytes(wkbs[i]),
                bool(invalid[i]),
                float(areas[i]),
                (round(float(centres[i][0]), 6), round(float(centres[i][1]), 6)),
                (float(labels[i][0]), float(labels[i][1])),
                tuple(float(v) for v in bounds[i]),
                as_at,
            )
    return list(shapes.values())


# ---------------------------------------------------------------------------------------
# Valid time


class Range(NamedTuple):
    start: dt.date
    end: dt.date | None


def ranges(
    dates: list[tuple[str, dt.date, bool]], life: validtime.Lifetime
) -> dict[str, Range | None]:
    """Each vintage's valid-time range, given a code's vintages (vintage, date, as-at) and
    its entry's lifetime: from its date (or the entry's start) until the day before the next
    vintage's date (or the entry's end); None for a vintage that holds on no day of the
    entry's life, or an as-at shape the yearly files supersede."""
    files = [date for _, date, as_at in dates if not as_at]
    kept = [
        (vintage, date)
        for vintage, date, as_at in dates
        if not (as_at and files and date >= min(files))
    ]
    kept.sort(key=lambda item: item[1])
    found: dict[str, Range | None] = {vintage: None for vintage, _, _ in dates}
    if life.operative is None:
        return found
    for i, (vintage, date) in enumerate(kept):
        start = max(date, life.operative)
        end = kept[i + 1][1] - dt.timedelta(days=1) if i + 1 < len(kept) else None
        if life.terminated is not None and (end is None or life.terminated < end):
            end = life.terminated
        if end is not None and end < start:
            continue
        found[vintage] = Range(start, end)
    return found


# ---------------------------------------------------------------------------------------
# Writing


def digest_of(shape: Shape, span: Range) -> str:
    text = json.dumps(
        [
            shape.generalisation,
            shape.source,
            validtime.iso(span.start),
            validtime.iso(span.end),
            shape.repaired,
        ]
    )
    return hashlib.sha1(text.encode() + shape.wkb, usedforsecurity=False).hexdigest()


def load(
    root: Path,
    run,
    progress: Callable[[str], None] = lambda message: None,
) -> Counts:
    """Bring the Boundary rows in line with ``root``'s boundary files, attributed to the
    import run ``run``, inside the caller's transaction."""
    from registry import facts
    from registry.models import Entry

    from .models import Boundary
    from .registers import AREAS

    counts = Counts()
    listed = sources(root)
    if not listed:
        return counts
    ids = dict(Entry.objects.filter(register__slug=AREAS).order_by().values_list("key", "id"))
    existing = {
        (entry_id, vintage): (pk, digest)
        for pk, entry_id, vintage, digest in Boundary.objects.order_by().values_list(
            "id", "entry_id", "vintage", "digest"
        )
    }
    kept: set[int] = set()
    layers: dict[str, list[Source]] = defaultdict(list)
    for source in listed:
        layers[source.layer].append(source)
    for layer, layer_sources in layers.items():
        started = time.monotonic()
        shapes = read_layer(root, layer_sources, counts)
        codes = {s.code for s in shapes}
        missing = {c for c in codes if c not in ids}
        if missing:
            counts.notes[f"{layer} boundaries of codes the registry does not hold"] += len(missing)
        lives = facts.lifetimes(ids[c] for c in codes if c in ids)
        by_code: dict[str, list[Shape]] = defaultdict(list)
        for s in shapes:
            if s.code in ids:
                by_code[s.code].append(s)
        create: list = []
        update: list = []
        for code, code_shapes in by_code.items():
            entry_id = ids[code]
            spans = ranges(
                [(s.vintage, s.date, s.as_at) for s in code_shapes],
                lives.get(entry_id, validtime.NEVER),
            )
            for s in code_shapes:
                span = spans[s.vintage]
                if span is None:
                    if not s.as_at:
                        counts.notes[
                            f"{layer} boundaries outside their entry's lifetime, not loaded"
                        ] += 1
                    continue
                digest = digest_of(s, span)
                row = Boundary(
                    entry_id=entry_id,
                    layer=layer,
                    vintage=s.vintage,
                    generalisation=s.generalisation,
                    valid_from=span.start,
                    valid_to=span.end,
                    area=s.area,
                    centroid_lon=s.centroid[0],
                    centroid_lat=s.centroid[1],
                    label_lon=s.label[0],
                    label_lat=s.label[1],
                    min_lon=s.bounds[0],
                    min_lat=s.bounds[1],
                    max_lon=s.bounds[2],
                    max_lat=s.bounds[3],
                    geometry=s.wkb,
                    repaired=s.repaired,
                    digest=digest,
                    source=s.source,
                    import_run=run,
                )
                known = existing.get((entry_id, s.vintage))
                if known is None:
                    create.append(row)
                    counts.created[layer] += 1
                else:
                    kept.add(known[0])
                    if known[1] == digest:
                        counts.unchanged[layer] += 1
                    else:
                        row.pk = known[0]
                        update.append(row)
                        counts.changed[layer] += 1
        del shapes, by_code
        for start in range(0, len(create), WRITE_BATCH):
            Boundary.objects.bulk_create(create[start : start + WRITE_BATCH])
        fields = [f.name for f in Boundary._meta.concrete_fields if f.name not in ("id", "entry")]
        for start in range(0, len(update), WRITE_BATCH):
            Boundary.objects.bulk_update(update[start : start + WRITE_BATCH], fields)
        progress(
            f"boundaries: {layer} ({counts.created[layer]:,} created, "
            f"{counts.changed[layer]:,} changed, {counts.unchanged[layer]:,} unchanged, "
            f"{time.monotonic() - started:.1f}s)"
        )
    stale = [pk for pk, _ in existing.values() if pk not in kept]
    for start in range(0, len(stale), WRITE_BATCH):
        chunk = stale[start : start + WRITE_BATCH]
        for layer in Boundary.objects.filter(pk__in=chunk).values_list("layer", flat=True):
            counts.removed[layer] += 1
        Boundary.objects.filter(pk__in=chunk).delete()
    return counts
