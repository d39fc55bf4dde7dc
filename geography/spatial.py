"""Which areas contain a point on a date: an in-process spatial index over every boundary,
and the choice between it and PostGIS (:func:`engine`).

The shapely engine, on any database (the only one on SQLite): every
:class:`~geography.models.Boundary` row's shape, read once per process into shapely
geometries, *prepared* (so that a point-in-polygon test walks an index of the polygon's edges,
not every edge) and held in shapely's ``STRtree``. No SpatiaLite or GDAL. A lookup asks the
tree for the shapes whose bounding box holds the point, keeps those whose valid-time range
covers the date and whose layer was asked for, and tests ``covers`` (a point on the edge is
inside, as PostGIS's ``ST_Covers`` has it). Under gunicorn it is built in the master before the
workers fork (``config/gunicorn.py``), as the reconciliation index is; elsewhere on first use.

The index notices a new load: :func:`current` reads the newest import run (one indexed
look-up) and, only when that has changed, compares the boundaries' :func:`stamp` with the one
it was built from, rebuilding when they differ.

**Engines.** Point lookups go through :func:`engine`, which answers with this index or, on
PostgreSQL, with PostGIS (:mod:`geography.postgis`: ``ST_Covers`` over a GiST index of a column
generated from the same rows), as ``REGISTRY_SPATIAL_ENGINE`` says: ``shapely``, ``postgis``, or
``auto`` (the default: PostGIS where the migrations could add its column, else shapely). Both
have the methods of :class:`Engine` and give the same :class:`Hit` rows in the same order. The
SVG maps (``api.maps``) draw from this index's shapes whichever engine answers points.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import threading
import time
from collections.abc import Iterable, Sequence
from typing import NamedTuple

# The layers, in the order answers list them (widest first).
LAYERS = (
    "country",
    "region",
    "combined-authority",
    "county",
    "metropolitan-county",
    "lad",
    "ward",
    "westminster-constituency",
)
LAYER_NAMES = {
    "country": "Country",
    "region": "Region",
    "combined-authority": "Combined authority",
    "county": "County",
    "metropolitan-county": "Metropolitan county",
    "lad": "Local authority district",
    "ward": "Ward or electoral division",
    "westminster-constituency": "Westminster constituency",
}
OPEN_END = dt.date.max.toordinal()
# British National Grid's extent (EPSG:27700's area of use, with a margin for the sea).
BNG_EASTING = (-100_000.0, 800_000.0)
BNG_NORTHING = (-100_000.0, 1_400_000.0)
# A box around the UK and its waters (longitude, then latitude): only to tell a pair written
# in the wrong order, never to refuse a point.
UK_LON = (-11.0, 3.0)
UK_LAT = (49.0, 61.5)
ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2025."
)


class Hit(NamedTuple):
    """One boundary that contains a point on a date."""

    boundary: int  # Boundary.pk
    entry: int  # Entry.pk
    code: str
    layer: str
    vintage: str
    generalisation: str
    valid_from: dt.date
    valid_to: dt.date | None


class Engine:
    """What answers point lookups: :class:`Index` or :class:`geography.postgis.Engine`. Each
    gives :meth:`containing_many` and :meth:`covered_layers`; one point is asked for by the
    first."""

    name: str

    def containing(
        self, lon: float, lat: float, on: dt.date, layers: Iterable[str] | None = None
    ) -> list[Hit]:
        """Every boundary covering the point (longitude, latitude) on ``on``, of ``layers``
        (None: all), widest layer first."""
        return self.containing_many([(lon, lat)], on, layers)[0]

    def containing_many(
        self,
        points: Sequence[tuple[float, float]],
        on: dt.date,
        layers: Iterable[str] | None = None,
    ) -> list[list[Hit]]:
        raise NotImplementedError

    def covered_layers(self, on: dt.date) -> set[str]:
        raise NotImplementedError


class Index(Engine):
    """The shapes of every boundary, with their layers and valid-time ranges as arrays."""

    name = "shapely"

    def __init__(self, rows: Sequence[tuple], stamp: tuple) -> None:
        import numpy as np
        import shapely

        started = time.monotonic()
        self.stamp = stamp
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.entries = np.array([r[1] for r in rows], dtype=np.int64)
        self.codes = [r[2] for r in rows]
        self.layer_of = [r[3] for r in rows]
        self.vintages = [r[4] for r in rows]
        self.generalisations = [r[5] for r in rows]
        self.starts = np.array([_day(r[6]).toordinal() for r in rows], dtype=np.int64)
        self.ends = np.array(
            [_day(r[7]).toordinal() if r[7] else OPEN_END for r in rows], dtype=np.int64
        )
        layer_numbers = {name: i for i, name in enumerate(LAYERS)}
        self.layers = np.array([layer_numbers.get(r[3], -1) for r in rows], dtype=np.int64)
        self.geometries = shapely.from_wkb([bytes(r[8]) for r in rows])
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self.seconds = time.monotonic() - started

    @classmethod
    def build(cls) -> Index:
        from .models import Boundary

        rows = list(
            Boundary.objects.order_by("id").values_list(
                "id",
                "entry_id",
                "entry__key",
                "layer",
                "vintage",
                "generalisation",
                "valid_from",
                "valid_to",
                "geometry",
            )
        )
        return cls(rows, stamp())

    def __len__(self) -> int:
        return len(self.ids)

    def containing_many(
        self,
        points: Sequence[tuple[float, float]],
        on: dt.date,
        layers: Iterable[str] | None = None,
    ) -> list[list[Hit]]:
        """:meth:`containing` for many points at once: one tree query and one vectorised
        ``covers`` over every candidate pair."""
        import numpy as np
        import shapely

        layers = list(layers) if layers is not None else None
        found: list[list[Hit]] = [[] for _ in points]
        if not len(self.ids) or not points:
            return found
        geometries = shapely.points(np.asarray(points, dtype=float))
        which, candidates = self.tree.query(geometries)
        day = on.toordinal()
        keep = (self.starts[candidates] <= day) & (day <= self.ends[candidates])
        if layers is not None:
            keep &= np.isin(self.layers[candidates], [LAYERS.index(la) for la in layers])
        which, candidates = which[keep], candidates[keep]
        inside = shapely.covers(self.geometries[candidates], geometries[which])
        for point, i in zip(which[inside].tolist(), candidates[inside].tolist(), strict=True):
            found[point].append(self._hit(i))
        for hits in found:
            hits.sort(key=lambda h: (LAYERS.index(h.layer), h.code))
        return found

    def covering_entries(
        self, entries: Iterable[int], lon: float, lat: float, on: dt.date
    ) -> dict[int, bool]:
        """For each of ``entries`` (Entry.pk) with a boundary holding on ``on``, whether one
        covers the point (longitude, latitude); an entry with no boundary that day is left
        out, as nothing can be said of it."""
        inside = {hit.entry for hit in self.containing(lon, lat, on)}
        day = on.toordinal()
        result = {}
        for entry in entries:
            if entry in inside:
                result[entry] = True
            elif any(self.starts[i] <= day <= self.ends[i] for i in self._of_entry.get(entry, ())):
                result[entry] = False
        return result

    @functools.cached_property
    def _of_entry(self) -> dict[int, list[int]]:
        of: dict[int, list[int]] = {}
        for i, entry in enumerate(self.entries.tolist()):
            of.setdefault(entry, []).append(i)
        return of

    def covered_layers(self, on: dt.date) -> set[str]:
        """The layers some boundary of which holds on ``on``."""
        import numpy as np

        day = on.toordinal()
        held = np.unique(self.layers[(self.starts <= day) & (day <= self.ends)])
        return {LAYERS[i] for i in held.tolist() if i >= 0}

    def vintage_label(self, i: int) -> str:
        """ "2025 (BGC)": the vintage and generalisation of the boundary at ``i``."""
        return f"{self.vintages[i]} ({self.generalisations[i]})"

    def _hit(self, i: int) -> Hit:
        end = int(self.ends[i])
        return Hit(
            int(self.ids[i]),
            int(self.entries[i]),
            self.codes[i],
            self.layer_of[i],
            self.vintages[i],
            self.generalisations[i],
            dt.date.fromordinal(int(self.starts[i])),
            None if end == OPEN_END else dt.date.fromordinal(end),
        )


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def stamp() -> tuple:
    """What the boundaries were loaded by: the newest row, the newest import run that wrote
    one, and how many there are (the count reads the whole table: 5 ms on SQLite and far
    more on PostgreSQL, so :func:`current` asks for it only after an import)."""
    from .models import Boundary

    rows = Boundary.objects.order_by()
    newest = rows.order_by("-id").values_list("id", flat=True).first()
    run = rows.order_by("-import_run_id").values_list("import_run_id", flat=True).first()
    return (newest, run, rows.count())


def newest_run() -> tuple | None:
    """The newest import run's id and start: boundaries change only in a load, whose run
    commits with what it wrote (``registry.imports.Import``), so while this is unchanged so
    are they (the start tells apart a run given the id of one rolled back). One look-up on
    the primary key's index."""
    from registry.models import ImportRun

    return ImportRun.objects.order_by("-id").values_list("id", "started_at").first()


_lock = threading.Lock()
_index: Index | None = None
# The newest import run when the index was last found to hold the boundaries as stored.
_checked_at_run: tuple | None = None


def current() -> Index:
    """The process's index, built on first use and rebuilt after a load changed the
    boundaries. Each call reads only the newest import run; the boundaries' own
    :func:`stamp` is read again only when that has changed."""
    global _index, _checked_at_run
    run = newest_run()
    index = _index
    if index is not None and run == _checked_at_run:
        return index
    with _lock:
        if _index is None or _index.stamp != stamp():
            _index = Index.build()
        _checked_at_run = run
        return _index


ENGINES = ("auto", "shapely", "postgis")
# (setting, database alias) → the engine's name, so that ``auto`` asks the catalogue once.
_resolved: dict[tuple[str, str], str] = {}


def engine_name() -> str:
    """The engine point lookups use: ``REGISTRY_SPATIAL_ENGINE``, with ``auto`` resolved to
    ``postgis`` where the boundaries table has its PostGIS column, else ``shapely``. A
    configured ``postgis`` without the column is ImproperlyConfigured (settings refuse it on
    SQLite before anything starts)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connections, router

    from . import postgis
    from .models import Boundary

    configured = getattr(settings, "REGISTRY_SPATIAL_ENGINE", "auto")
    alias = router.db_for_read(Boundary)
    key = (configured, alias)
    if key not in _resolved:
        if configured == "shapely":
            name = "shapely"
        elif configured in ("auto", "postgis"):
            ready = postgis.installed(connections[alias])
            if configured == "postgis" and not ready:
                raise ImproperlyConfigured(
                    "REGISTRY_SPATIAL_ENGINE is postgis but the boundaries table has no PostGIS "
                    "column: install the extension (Debian: apt-get install "
                    "postgresql-15-postgis-3), then run manage.py install_postgis."
                )
            name = "postgis" if ready else "shapely"
        else:
            raise ImproperlyConfigured(
                f"REGISTRY_SPATIAL_ENGINE must be one of {', '.join(ENGINES)}; got {configured!r}"
            )
        _resolved[key] = name
    return _resolved[key]


def engine() -> Engine:
    """What answers point lookups now: the process's :class:`Index` (:func:`current`) or
    PostGIS, as :func:`engine_name` says."""
    if engine_name() == "postgis":
        from .postgis import Engine as PostgisEngine

        return PostgisEngine()
    return current()


# ---------------------------------------------------------------------------------------
# Coordinates: the rules every caller checks a point by (the point API, reconciliation's
# point property, the checker's coordinate columns). Each raises ValueError saying what is
# wrong, for the caller to report in its own style.


def check_lon_lat(lon: float, lat: float) -> tuple[float, float]:
    """(longitude, latitude) if both are finite and in range."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("must be finite numbers")
    if not -180 <= lon <= 180:
        raise ValueError(f"longitude must be between -180 and 180; got {lon:g}.")
    if not -90 <= lat <= 90:
        raise ValueError(f"latitude must be between -90 and 90; got {lat:g}.")
    return lon, lat


def in_uk_box(lon: float, lat: float) -> bool:
    """Whether (longitude, latitude) is in a box around the UK and its waters."""
    return UK_LON[0] <= lon <= UK_LON[1] and UK_LAT[0] <= lat <= UK_LAT[1]


def check_bng(easting: float, northing: float) -> tuple[float, float]:
    """(longitude, latitude) of a British National Grid point within the grid's extent."""
    if not (math.isfinite(easting) and math.isfinite(northing)):
        raise ValueError("must be finite numbers")
    if not BNG_EASTING[0] <= easting <= BNG_EASTING[1]:
        raise ValueError(f"easting must be between -100000 and 800000 metres; got {easting:g}.")
    if not BNG_NORTHING[0] <= northing <= BNG_NORTHING[1]:
        raise ValueError(f"northing must be between -100000 and 1400000 metres; got {northing:g}.")
    return from_bng(easting, northing)


# ---------------------------------------------------------------------------------------
# British National Grid


def from_bng(easting: float, northing: float) -> tuple[float, float]:
    """(longitude, latitude) of a British National Grid (EPSG:27700) point."""
    from .boundaries import _transformers

    lon, lat = _transformers()[1].transform(easting, northing)
    return float(lon), float(lat)


def to_bng(lon: float, lat: float) -> tuple[float, float]:
    from .boundaries import _transformers

    e, n = _transformers()[0].transform(lon, lat)
    return float(e), float(n)
