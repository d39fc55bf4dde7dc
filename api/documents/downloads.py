"""Bulk downloads, generated as they stream so that memory stays flat: each register, whole,
as at today, as gzip-compressed CSV or N-Triples; and each vintage of each boundary layer as
a GeoJSON FeatureCollection (plain or gzip-compressed), simplified on request."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections import defaultdict
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from geography import spatial
from geography.models import Boundary
from geography.registers import AREAS
from registry import exports, facts, validtime
from registry.statistics import registers
from registry.uris import base, boundary_download_uri
from registry.validtime import today

from .. import geo, http
from .base import RENDER_VERSION, public_headers
from .errors import error_response


def _gzip_stream(chunks: Iterator[str]) -> Iterator[bytes]:
    """gzip-compress a stream of text chunks as they come, holding one chunk at a time."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    for chunk in chunks:
        data = compressor.compress(chunk.encode("utf-8"))
        if data:
            yield data
    yield compressor.flush()


def _csv_chunks(register: str, date: dt.date) -> Iterator[str]:
    import io

    out = io.StringIO()
    writer = exports.CSVWriter(out)
    writer.writerow(exports.CSV_HEADER)
    for n, entry in enumerate(exports.register_facts(register, date), 1):
        writer.writerow(exports.csv_row(entry))
        if n % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def _ntriples_chunks(register: str, date: dt.date) -> Iterator[str]:
    yield from exports.entry_ntriples(register, date)
    if register == AREAS:
        # Change events link areas, so they travel with the areas' dump.
        yield from exports.event_ntriples()


DOWNLOADS = {"csv.gz": _csv_chunks, "nt.gz": _ntriples_chunks}


def download(request, register: str, extension: str):
    """``/downloads/{register}.csv.gz`` or ``.nt.gz``: the whole register as at today,
    generated and gzip-compressed as it streams."""
    if register not in registers() or extension not in DOWNLOADS:
        return error_response(request, 404, f"There is no download called {register}.{extension}.")
    date = today()
    version, changed = http.data_version()
    etag = http.etag(
        RENDER_VERSION, base(), "download", register, extension, date.isoformat(), version, changed
    )
    last_modified = http.last_modified(changed, date, explicit=False)
    response = http.conditional_response(request, etag, last_modified)
    if response is None:
        chunks = DOWNLOADS[extension](register, date)
        # The body is a gzip file to be saved (application/gzip), not a Content-Encoding that
        # a browser would undo on the way.
        response = StreamingHttpResponse(_gzip_stream(chunks), content_type="application/gzip")
        name = f"{register}-{date.isoformat()}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    for header, value in http.validator_headers(etag, last_modified).items():
        response[header] = value
    return public_headers(response, machine=True)


# ---------------------------------------------------------------------------------------
# Boundaries

BOUNDARY_FORMATS = {"geojson": geo.GEOJSON, "geojson.gz": "application/gzip"}
# Boundaries read and written at a time: a chunk of 2025 wards is about 0.5 MB of shapes.
BOUNDARY_CHUNK = 200


def boundary_vintages() -> list[dict]:
    """Every (layer, vintage) the registry holds boundaries of, widest layer first, each
    with its count, range and download paths: what the downloads page lists."""
    order = {layer: i for i, layer in enumerate(spatial.LAYERS)}
    rows = sorted(
        Boundary.objects.vintages(),
        key=lambda r: (order.get(r["layer"], len(order)), r["layer"], r["vintage"]),
    )
    for row in rows:
        row["layer_name"] = spatial.LAYER_NAMES.get(row["layer"], row["layer"])
        row["as_at"] = row["vintage"].endswith("-as-at")
        for extension in BOUNDARY_FORMATS:
            key = extension.replace(".", "_")
            row[f"{key}_path"] = (
                f"/downloads/boundaries/{row['layer']}/{row['vintage']}.{extension}"
            )
            row[key] = boundary_download_uri(row["layer"], row["vintage"], extension)
    return rows


def _collection_head(layer: str, vintage: str, tolerance: float) -> dict:
    generalisations = sorted(
        set(Boundary.objects.of_vintage(layer, vintage).values_list("generalisation", flat=True))
    )
    return {
        "type": "FeatureCollection",
        "name": f"{layer}-{vintage}",
        "layer": layer,
        "vintage": vintage,
        "generalisation": ", ".join(generalisations),
        "simplify_tolerance": tolerance,
        "attribution": spatial.ATTRIBUTION,
        "licence": geo.LICENCE,
    }


def boundary_features(layer: str, vintage: str, tolerance: float) -> Iterator[str]:
    """The GeoJSON text of one vintage of one layer, a chunk of boundaries at a time: a
    FeatureCollection whose top level says what it holds and carries the attribution and
    licence, its features in code order, each with the properties of an entry's GeoJSON
    (:func:`api.geo.feature_properties`), its name as on the first day the shape stands for
    (and its Welsh name, where it has one), simplified by ``tolerance`` degrees if not 0."""
    import shapely

    ids = list(
        Boundary.objects.of_vintage(layer, vintage)
        .order_by("entry__key")
        .values_list("id", flat=True)
    )
    head = json.dumps(_collection_head(layer, vintage, tolerance), ensure_ascii=False)
    yield head[:-1] + ', "features": [\n'
    first = True
    for start in range(0, len(ids), BOUNDARY_CHUNK):
        chunk = ids[start : start + BOUNDARY_CHUNK]
        rows = sorted(
            Boundary.objects.filter(pk__in=chunk).select_related("entry"),
            key=lambda b: b.entry.key,
        )
        wanted: dict[dt.date, set[int]] = defaultdict(set)
        for row in rows:
            wanted[row.valid_from].add(row.entry_id)
        names = facts.labels_on(wanted)
        welsh = facts.labels_on(wanted, validtime.WELSH)
        shapes = shapely.from_wkb([bytes(row.geometry) for row in rows])
        if tolerance:
            shapes = shapely.simplify(shapes, tolerance, preserve_topology=True)
        out = []
        # shapely writes each geometry's GeoJSON text, put in the feature as it is.
        for row, geometry in zip(rows, shapely.to_geojson(shapes), strict=True):
            properties = geo.feature_properties(
                row.entry.key, names[row.valid_from].get(row.entry_id), row
            )
            properties["name_cy"] = welsh[row.valid_from].get(row.entry_id)
            key = json.dumps(row.entry.key)
            described = json.dumps(properties, ensure_ascii=False)
            out.append("" if first else ",\n")
            out.append(
                f'{{"type": "Feature", "id": {key}, "geometry": {geometry}, '
                f'"properties": {described}}}'
            )
            first = False
        yield "".join(out)
    yield "\n]}\n"


def _plain_stream(chunks: Iterator[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


def boundary_download(request, layer: str, vintage: str, extension: str):
    """``/downloads/boundaries/{layer}/{vintage}.geojson`` (or ``.geojson.gz``): every
    boundary of that vintage of that layer as one GeoJSON FeatureCollection, streamed, with
    ``simplify_tolerance=`` as an entry's GeoJSON has it. An unknown layer or vintage is a
    404, a bad tolerance a 400 problem."""
    try:
        tolerance = geo.simplify_tolerance(request.GET)
    except http.BadParameter as error:
        return geo.problem(400, "Bad parameter", error.sentence)
    if (
        extension not in BOUNDARY_FORMATS
        or not Boundary.objects.of_vintage(layer, vintage).exists()
    ):
        return error_response(
            request,
            404,
            f"There is no boundary download called {layer}/{vintage}.{extension}; "
            "/downloads lists them.",
        )
    # The names come from the entries (the data version), the shapes from the boundaries'
    # load; neither moves with the day.
    version, changed = http.data_version()
    boundaries = http.boundaries_version()
    etag = http.etag(
        RENDER_VERSION, base(), "boundaries", layer, vintage, extension, tolerance, version,
        changed, boundaries,
    )  # fmt: skip
    last_modified = http.last_modified(http.changed_since(changed, boundaries[1]), today(), True)
    response = http.conditional_response(request, etag, last_modified)
    if response is None:
        chunks = boundary_features(layer, vintage, tolerance)
        stream = _gzip_stream(chunks) if extension.endswith(".gz") else _plain_stream(chunks)
        response = StreamingHttpResponse(stream, content_type=BOUNDARY_FORMATS[extension])
        suffix = f"-simplified-{tolerance:g}" if tolerance else ""
        name = f"boundaries-{layer}-{vintage}{suffix}.{extension}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    for header, value in http.validator_headers(etag, last_modified).items():
        response[header] = value
    licence = f'<{geo.LICENCE}>; rel="license"'
    response["Link"] = licence
    # The attribution the licence asks for, where a client that never opens the file sees it.
    # (Header values are ASCII here: "©" is written "(c)".)
    response["X-Attribution"] = spatial.ATTRIBUTION.replace("©", "(c)")
    return public_headers(response, machine=True)
