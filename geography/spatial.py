"""Which areas contain a point on a date: an in-process spatial index over every boundary.

The engine on SQLite (and, until PostGIS is wired in, on PostgreSQL too): every
:class:`~geography.models.Boundary` row's shape, read once per process into shapely
geometries, *prepared* (so that a point-in-polygon test walks an index of the polygon's edges,
not every edge) and held in shapely's ``STRtree``. No SpatiaLite or GDAL. A lookup asks the
tree for the shapes whose bounding box holds the point, keeps those whose valid-time range
covers the date and whose layer was asked for, and tests ``covers`` (a point on the edge is
inside, as PostGIS's ``ST_Covers`` has it). Under gunicorn it is built in the master before the
workers fork (``config/gunicorn.py``), as the reconciliation index is; elsewhere on first use.

The index notices a new load: :func:`current` compares the newest boundary row and import run
with those it was built from (two indexed look-ups) and rebuilds when they differ.
"""

from __future__ import annotations

import datetime as dt
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


class Index:
    """The shapes of every boundary, with their layers and valid-time ranges as arrays."""

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
    one, and how many there are (each answered from an index, well under a millisecond; one
    aggregate of both maxima reads the table, 5 ms)."""
    from .models import Boundary

    rows = Boundary.objects.order_by()
    newest = rows.order_by("-id").values_list("id", flat=True).first()
    run = rows.order_by("-import_run_id").values_list("import_run_id", flat=True).first()
    return (newest, run, rows.count())


_lock = threading.Lock()
_index: Index | None = None


def current() -> Index:
    """The process's index, built on first use and rebuilt after a load changed the
    boundaries."""
    global _index
    now = stamp()
    if _index is not None and _index.stamp == now:
        return _index
    with _lock:
        if _index is None or _index.stamp != stamp():
            _index = Index.build()
        return _index


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
