"""Server-drawn SVG maps of an area's boundary as at a date: no tile server, no JavaScript.

:func:`entry_map` draws, from the process's spatial index (``geography.spatial``):

- the area, filled, in the boundary vintage that holds on the day the page describes it on;
- the outline of the narrowest wider area containing it on that day (a ward's district, a
  district's county or region, a region's country): its *parent* on the map;
- faintly, its neighbours (areas of its own layer whose shapes touch its surroundings), or
  for a country, region, county or combined authority, the districts within it;
- a scale bar, and the boundaries' attribution.

Each drawn area links to its page as at the same date. The SVG has a title and the figure a
caption naming everything drawn, its vintage and what the faint shapes are: the text
alternative. Shapes are simplified to about a pixel and drawn in an equirectangular
projection centred on the area (longitude scaled by the cosine of the latitude), which at
these sizes differs from British National Grid by less than a pixel. A map is cached under
the entry's version, the date, the language and the boundaries' load
(:data:`geography.spatial.Index.stamp`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from html import escape

from django.core.cache import cache
from django.utils import formats, translation
from django.utils.translation import gettext as _

from geography import spatial
from registry import facts, validtime

WIDTH = 640
MAX_HEIGHT = 480
PARENT_LAYERS = {
    "ward": ("lad",),
    "lad": ("county", "region", "country"),
    "county": ("region", "country"),
    "metropolitan-county": ("region",),
    "combined-authority": ("region", "country"),
    "region": ("country",),
    "westminster-constituency": ("region", "country"),
}
CHILD_LAYERS = {
    "country": "lad",
    "region": "lad",
    "county": "lad",
    "metropolitan-county": "lad",
    "combined-authority": "lad",
}
MAX_FAINT = 400
# GOV.UK colours: the area in blue, its parent's outline in black, the rest faint grey.
STYLES = {
    "area": 'fill-rule="evenodd" fill="#1d70b8" fill-opacity="0.55" stroke="#003078" stroke-width="1.5"',
    "parent": 'fill="none" stroke="#0b0c0c" stroke-width="2" stroke-dasharray="6 3"',
    "faint": 'fill-rule="evenodd" fill="#f3f2f1" stroke="#b1b4b6" stroke-width="0.8"',
}


class Projection:
    """The equirectangular projection of a frame (min lon, min lat, max lon, max lat) onto at
    most ``width`` × ``max_height`` pixels, centred, longitude scaled by the cosine of the
    frame's middle latitude, and SVG paths of shapes in it simplified to about a pixel."""

    def __init__(self, frame: tuple[float, float, float, float], width: int = WIDTH,
                 max_height: int = MAX_HEIGHT, min_height: int = 120, pixels: float = 1,
                 digits: int = 1) -> None:  # fmt: skip
        import shapely

        self.minx, self.miny, self.maxx, self.maxy = frame
        self.kx = math.cos(math.radians((self.miny + self.maxy) / 2))
        span_x, span_y = (self.maxx - self.minx) * self.kx, self.maxy - self.miny
        self.scale = min(width / span_x, max_height / span_y)
        self.width, self.height = width, max(min_height, round(span_y * self.scale))
        self.offset_x = (self.width - span_x * self.scale) / 2
        self.offset_y = (self.height - span_y * self.scale) / 2
        self.frame = shapely.box(*frame)
        # About ``pixels`` pixels, in degrees of latitude; rings smaller than that square are
        # left out, and points written with ``digits`` decimals.
        self.tolerance = pixels / self.scale
        self.smallest = (pixels / self.scale) ** 2
        self.digits = digits

    def path(self, geometry) -> str:
        """The SVG path data of a polygonal shape ("" if it falls outside the frame)."""
        import shapely

        clipped = shapely.simplify(geometry, self.tolerance, preserve_topology=True)
        if not clipped.intersects(self.frame):
            return ""
        x0, y0, kx, scale, digits = self.minx, self.maxy, self.kx, self.scale, self.digits
        parts = []
        for polygon in shapely.get_parts(clipped):
            if polygon.area * self.kx < self.smallest:
                continue
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = shapely.get_coordinates(ring)
                if len(coords) < 3:
                    continue
                points = " ".join(
                    f"{self.offset_x + (x - x0) * kx * scale:.{digits}f},"
                    f"{self.offset_y + (y0 - y) * scale:.{digits}f}"
                    for x, y in coords
                )
                parts.append(f"M{points}Z")
        return "".join(parts)


def boundary_of(index: spatial.Index, entry_pk: int, on: dt.date) -> int | None:
    """The index position of the entry's boundary holding on ``on`` (the narrowest layer if
    several), or None."""
    import numpy as np

    day = on.toordinal()
    found = np.flatnonzero(
        (index.entries == entry_pk) & (index.starts <= day) & (day <= index.ends)
    )
    return int(found[0]) if len(found) else None


def entry_map(entry_pk: int, key: str, version: int, on: dt.date, explicit: bool) -> str | None:
    """The SVG figure (HTML) of the entry's boundary as at ``on``, or None if no boundary of
    it holds then."""
    index = spatial.current()
    # Drawn in the page's language: its title, caption and (in Welsh) names differ.
    language = translation.get_language()
    digest = hashlib.sha1(
        repr((entry_pk, version, on, explicit, index.stamp, language)).encode(),
        usedforsecurity=False,
    ).hexdigest()
    cache_key = f"map:{digest}"
    found = cache.get(cache_key)
    if found is not None:
        return found or None
    drawn = draw(index, entry_pk, key, on, explicit)
    cache.set(cache_key, drawn or "", 3600)
    return drawn


def _covering(index: spatial.Index, geometry, layers, on: dt.date, exclude: int) -> list[int]:
    import numpy as np

    day = on.toordinal()
    candidates = index.tree.query(geometry)
    wanted = [spatial.LAYERS.index(layer) for layer in layers]
    keep = (
        (index.starts[candidates] <= day)
        & (day <= index.ends[candidates])
        & np.isin(index.layers[candidates], wanted)
        & (candidates != exclude)
    )
    return candidates[keep].tolist()


def draw(index: spatial.Index, entry_pk: int, key: str, on: dt.date, explicit: bool) -> str | None:
    import shapely

    i = boundary_of(index, entry_pk, on)
    if i is None:
        return None
    area = index.geometries[i]
    layer = index.layer_of[i]
    label = area.representative_point()
    parent = None
    for wider in PARENT_LAYERS.get(layer, ()):
        hits = [
            j for j in _covering(index, label, (wider,), on, i) if index.geometries[j].covers(label)
        ]
        if hits:
            parent = hits[0]
            break
    # Faint: the children within a wide area; the neighbours of any other.
    if layer in CHILD_LAYERS:
        faint = [
            j
            for j in _covering(index, area, (CHILD_LAYERS[layer],), on, i)
            if area.covers(index.geometries[j].representative_point())
        ]
        faint_kind = "within"
    else:
        minx, miny, maxx, maxy = area.bounds
        pad_x, pad_y = (maxx - minx) * 0.15, (maxy - miny) * 0.15
        around = shapely.box(minx - pad_x, miny - pad_y, maxx + pad_x, maxy + pad_y)
        faint = [
            j
            for j in _covering(index, around, (layer,), on, i)
            if index.geometries[j].intersects(around)
        ]
        faint_kind = "neighbours"
    faint = faint[:MAX_FAINT]
    # The frame: the area with a margin (and its parent, if the parent is not much bigger).
    minx, miny, maxx, maxy = area.bounds
    if parent is not None:
        pminx, pminy, pmaxx, pmaxy = index.geometries[parent].bounds
        if (pmaxx - pminx) * (pmaxy - pminy) <= 16 * max((maxx - minx) * (maxy - miny), 1e-12):
            minx, miny, maxx, maxy = (
                min(minx, pminx),
                min(miny, pminy),
                max(maxx, pmaxx),
                max(maxy, pmaxy),
            )
    margin = max(maxx - minx, maxy - miny) * 0.06 or 0.01
    projection = Projection((minx - margin, miny - margin, maxx + margin, maxy + margin))
    width, height, scale, path = (
        projection.width,
        projection.height,
        projection.scale,
        projection.path,
    )

    entries = [index.entries[j] for j in [i, *faint] + ([parent] if parent is not None else [])]
    names = facts.labels({int(e) for e in entries}, on)
    if translation.get_language() == validtime.WELSH:
        names.update(facts.labels({int(e) for e in entries}, on, validtime.WELSH))
    query = f"?date={on.isoformat()}" if explicit else ""

    def link(j: int, css: str) -> str:
        code = index.codes[j]
        name = names.get(int(index.entries[j]), code)
        d = path(index.geometries[j])
        if not d:
            return ""
        text = escape(f"{name} ({code})")
        return (
            f'<a href="/doc/statistical-geography/{escape(code)}{query}" aria-label="{text}">'
            f'<path {STYLES[css]} d="{d}"><title>{text}</title></path></a>'
        )

    body = [link(j, "faint") for j in faint]
    body.append(link(i, "area"))
    if parent is not None:
        body.append(link(parent, "parent"))
    # Scale: a round number of kilometres about a fifth of the width.
    km_per_px = 111.32 / scale
    target = km_per_px * width / 5
    step = 10 ** math.floor(math.log10(target))
    km = next(m * step for m in (5, 2, 1) if m * step <= target)
    bar = km / km_per_px
    y = height - 14
    body.append(
        f'<g aria-hidden="true"><path d="M10,{y}h{bar:.1f}" stroke="#0b0c0c" stroke-width="3" />'
        f'<text x="10" y="{y - 6}" font-size="13" fill="#0b0c0c">{km:g} km</text></g>'
    )
    name = names.get(int(index.entries[i]), key)
    title = _("Map of %(name)s (%(code)s) as at %(day)s") % {
        "name": name,
        "code": key,
        "day": formats.date_format(on, "j F Y"),
    }
    faint_names = sorted(names.get(int(index.entries[j]), index.codes[j]) for j in faint)
    caption = [
        _("%(name)s (%(code)s), filled, as its %(vintage)s boundary drew it")
        % {"name": escape(name), "code": escape(key), "vintage": escape(index.vintage_label(i))}
    ]
    if parent is not None:
        pname = names.get(int(index.entries[parent]), index.codes[parent])
        caption.append(
            _("outlined: %(name)s (%(code)s)")
            % {"name": escape(pname), "code": escape(index.codes[parent])}
        )
    if faint_names:
        shown = ", ".join(escape(n) for n in faint_names[:30])
        more = (
            _(" and %(count)s more") % {"count": len(faint_names) - 30}
            if len(faint_names) > 30
            else ""
        )
        words = (
            _("faint: the %(count)s areas within it (%(names)s%(more)s)")
            if faint_kind == "within"
            else _("faint: the %(count)s areas around it (%(names)s%(more)s)")
        )
        caption.append(words % {"count": len(faint_names), "names": shown, "more": more})
    svg = (
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="map-title"><title id="map-title">{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )
    return (
        f'<figure class="map-figure">{svg}<figcaption>{"; ".join(caption)}. '
        f"{escape(_(spatial.ATTRIBUTION))}</figcaption></figure>"
    )


# ---------------------------------------------------------------------------------------
# The front page's overview

OVERVIEW_WIDTH = 360
OVERVIEW_HEIGHT = 560
OVERVIEW_STYLES = {
    "district": 'fill-rule="evenodd" fill="#f3f2f1" stroke="#6f777b" stroke-width="0.4"',
    "changed": 'fill-rule="evenodd" fill="#f47738" stroke="#0b0c0c" stroke-width="1"',
}


def overview_map(on: dt.date, explicit: bool, data_version: tuple, boundaries: tuple) -> str | None:
    """The front page's small map (HTML): the UK's local authority districts on ``on``, with
    those made by the latest year's changes up to that day highlighted, each a link to its
    change event; None if no district boundary holds then. Cached under the data's
    validator: the data version, the boundaries' load (``api.http.boundaries_version``), the
    date and the language."""
    language = translation.get_language()
    digest = hashlib.sha1(
        repr((data_version, boundaries, on, explicit, language)).encode(), usedforsecurity=False
    ).hexdigest()
    cache_key = f"overview-map:{digest}"
    found = cache.get(cache_key)
    if found is not None:
        return found or None
    drawn = draw_overview(spatial.current(), on)
    cache.set(cache_key, drawn or "", 3600)
    return drawn


def year_changes(entries: list[int], on: dt.date) -> tuple[int | None, dict[int, tuple]]:
    """The latest year up to ``on`` in which a change event made (or renamed) one of
    ``entries``, and for each entry it made that year its latest such event (key, date,
    kind)."""
    from registry.models import ChangeLink

    links = list(
        ChangeLink.objects.filter(successor_id__in=entries, event__date__lte=on)
        .order_by("event__date", "event__key")
        .values_list("successor_id", "event__key", "event__date", "event__kind")
    )
    if not links:
        return None, {}
    year = max(date.year for _, _, date, _ in links)
    made = {pk: (key, date, kind) for pk, key, date, kind in links if date.year == year}
    return year, made


def draw_overview(index: spatial.Index, on: dt.date) -> str | None:
    import numpy as np
    import shapely

    from registry.models import EVENT_KIND

    day = on.toordinal()
    held = np.flatnonzero(
        (index.layers == spatial.LAYERS.index("lad")) & (index.starts <= day) & (day <= index.ends)
    )
    if not len(held):
        return None
    by_entry = {int(index.entries[j]): int(j) for j in held}
    year, made = year_changes(list(by_entry), on)
    minx, miny, maxx, maxy = shapely.total_bounds(index.geometries[held])
    margin = max(maxx - minx, maxy - miny) * 0.02
    projection = Projection(
        (minx - margin, miny - margin, maxx + margin, maxy + margin),
        OVERVIEW_WIDTH,
        OVERVIEW_HEIGHT,
        # Two pixels, whole pixels: 361 districts in under 100 kB.
        pixels=2,
        digits=0,
    )
    # The districts not changed that year are drawn as one path, hidden from assistive
    # technology (the title says what they are); the changed ones are links.
    plain = "".join(
        projection.path(index.geometries[j]) for pk, j in by_entry.items() if pk not in made
    )
    names = facts.labels(set(made), on)
    if translation.get_language() == validtime.WELSH:
        names.update(facts.labels(set(made), on, validtime.WELSH))
    links, described = [], []
    for pk in sorted(made, key=lambda pk: (names.get(pk, ""), index.codes[by_entry[pk]])):
        j = by_entry[pk]
        key, date, kind = made[pk]
        code = index.codes[j]
        text = _("%(name)s (%(code)s): %(kind)s, %(day)s") % {
            "name": names.get(pk, code),
            "code": code,
            "kind": str(EVENT_KIND(kind).label).lower(),
            "day": formats.date_format(date, "j F Y"),
        }
        described.append(escape(text))
        links.append(
            f'<a href="/doc/change-event/{escape(key)}" aria-label="{escape(text)}">'
            f'<path {OVERVIEW_STYLES["changed"]} d="{projection.path(index.geometries[j])}">'
            f"<title>{escape(text)}</title></path></a>"
        )
    day_text = formats.date_format(on, "j F Y")
    if made:
        title = _(
            "Map of the United Kingdom’s %(count)s local authority districts on %(day)s, "
            "with the %(changed)s made or changed in %(year)s highlighted"
        ) % {"count": len(by_entry), "day": day_text, "changed": len(made), "year": year}
        caption = _("Highlighted, each a link to its change: %(changes)s.") % {
            "changes": "; ".join(described)
        }
    else:
        title = _("Map of the United Kingdom’s %(count)s local authority districts on %(day)s") % {
            "count": len(by_entry),
            "day": day_text,
        }
        caption = ""
    svg = (
        f'<svg class="map map--overview" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {projection.width} {projection.height}" width="100%" '
        f'aria-labelledby="overview-title"><title id="overview-title">{escape(title)}</title>'
        f'<path aria-hidden="true" {OVERVIEW_STYLES["district"]} d="{plain}"/>'
        + "".join(links)
        + "</svg>"
    )
    return (
        f'<figure class="map-figure map-figure--overview">{svg}<figcaption>{escape(title)}. '
        f"{caption} {escape(_(spatial.ATTRIBUTION))}</figcaption></figure>"
    )
