"""Bulk downloads: each register, whole, as at today, as gzip-compressed CSV or N-Triples,
generated as it streams so that memory stays flat."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from geography.registers import AREAS
from registry import exports
from registry.statistics import registers
from registry.uris import base
from registry.validtime import today

from .. import http
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
