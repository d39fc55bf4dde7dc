"""Cursor pagination with ``Link`` headers.

A listing is ordered by key (``?ordering=-key`` reverses it) and cut into pages of
``page_size`` entries (default 100, at most 1000); ``next`` and ``previous`` are opaque cursor
URLs, also sent as an RFC 8288 ``Link`` header (``rel="next"``, ``rel="prev"``). A cursor stays
valid while entries are added, unlike a page number. A malformed cursor or page size is a 400
naming the parameter.
"""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from .problems import BadParameter


class KeyCursorPagination(CursorPagination):
    ordering = "key"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    page_size_query_description = "Entries per page (1 to 1000; default 100)."
    cursor_query_description = "The page to show: a value from a previous `next` or `previous`."

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = False
        # A position is a key: anything else (a NUL, which PostgreSQL refuses) was not issued.
        if cursor is False or (
            cursor and cursor.position and ("\x00" in cursor.position or len(cursor.position) > 64)
        ):
            raise BadParameter("cursor", "is not a cursor this API issued.")
        return cursor

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            raise BadParameter(
                self.page_size_query_param,
                f"must be a whole number from 1 to {self.max_page_size}.",
            )
        return int(value)

    def link_header(self) -> str:
        links = []
        if (url := self.get_next_link()) is not None:
            links.append(f'<{url}>; rel="next"')
        if (url := self.get_previous_link()) is not None:
            links.append(f'<{url}>; rel="prev"')
        return ", ".join(links)

    def get_paginated_response(self, data, extra=None):
        headers = {"Link": link} if (link := self.link_header()) else None
        body = {**(extra or {}), "next": self.get_next_link(), "previous": self.get_previous_link()}
        body["results"] = data
        return Response(body, headers=headers)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["date", "next", "previous", "results"],
            "properties": {
                "date": {"type": "string", "format": "date", "description": "The as-at date."},
                "recorded": {
                    "type": "string",
                    "format": "date-time",
                    "description": "With `?recorded=`: the instant the entries are as recorded at.",
                },
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }


class VersionCursorPagination(KeyCursorPagination):
    ordering = "number"


class EventCursorPagination(KeyCursorPagination):
    ordering = "key"
