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
    "area": 'fill="#1d70b8" fill-opacity="0.55" stroke="#003078" stroke-width="1.5"',
    "parent": 'fill="none" stroke="#0b0c0c" stroke-width="2" stroke-dasharray="6 3"',
    "faint": 'fill="#f3f2f1" stroke="#b1b4b6" stroke-width="0.8"',
}


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
    minx, miny, maxx, maxy = minx - margin, miny - margin, maxx + margin, maxy + margin
    lat0 = math.radians((miny + maxy) / 2)
    kx = math.cos(lat0)
    span_x, span_y = (maxx - minx) * kx, maxy - miny
    scale = min(WIDTH / span_x, MAX_HEIGHT / span_y)
    width, height = WIDTH, max(120, round(span_y * scale))
    offset_x = (width - span_x * scale) / 2
    offset_y = (height - span_y * scale) / 2
    frame = shapely.box(minx, miny, maxx, maxy)
    tolerance = 1 / scale  # about a pixel, in degrees of latitude

    def path(geometry) -> str:
        clipped = shapely.simplify(geometry, tolerance, preserve_topology=True)
        if not clipped.intersects(frame):
            return ""
        parts = []
        for polygon in shapely.get_parts(clipped):
            for ring in [polygon.exterior, *polygon.interiors]:
                coords = shapely.get_coordinates(ring)
                if len(coords) < 3:
                    continue
                points = " ".join(
                    f"{offset_x + (x - minx) * kx * scale:.1f},{offset_y + (maxy - y) * scale:.1f}"
                    for x, y in coords
                )
                parts.append(f"M{points}Z")
        return "".join(parts)

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
