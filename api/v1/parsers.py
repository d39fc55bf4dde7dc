"""Request parsers: JSON for every DRF view (``DEFAULT_PARSER_CLASSES``, the write API's
too), and for the code checker a CSV body (``text/csv``), spooled to a temporary file as it
arrives so a large upload never sits in memory whole."""

import codecs
import tempfile

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

from .. import http
from .problems import PayloadTooLarge


class StrictJSONParser(JSONParser):
    """DRF's JSON parser reading through :func:`api.http.loads`: a malformed, too deeply
    nested or unstorable body (a NUL, a lone surrogate) is a 400 problem saying so, never a
    500 from wherever the text would first be used; a body over Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) is a 413, read no further."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = -1 if limit is None else limit + 1
        raw = stream.read(size) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit:,} bytes.")
        try:
            text = codecs.decode(raw, encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"The JSON body is not {encoding} text.") from None
        try:
            return http.loads(text)
        except http.BadJSON as error:
            if error.where:
                raise http.BadParameter(error.where, f"{error.reason}.") from None
            raise ParseError(f"The JSON body {error.reason}.") from None


# Files up to this size stay in memory; larger ones go to a temporary file on disk.
_SPOOL_BYTES = 4 * 1024 * 1024


def max_upload_bytes() -> int:
    return getattr(settings, "REGISTRY_CHECKER_MAX_BYTES", 200 * 1024 * 1024)


class CSVParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        """The body as a binary file positioned at its start."""
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        limit, size = max_upload_bytes(), 0
        if stream is not None:
            while block := stream.read(65536):
                size += len(block)
                if size > limit:
                    spool.close()
                    raise PayloadTooLarge(f"The file is larger than {limit} bytes.")
                spool.write(block)
        spool.seek(0)
        return spool
