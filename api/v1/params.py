"""Parsing the parameters every lookup endpoint shares, into plain values.

Every read takes ``?date=YYYY-MM-DD`` (default: today in Europe/London) and answers as at that
date. A malformed value is a :class:`~api.v1.problems.BadParameter` naming the parameter, so the
client gets a 400 saying what was wrong, never a silent default.
"""

from __future__ import annotations

import datetime as dt
import re

from registry.validtime import today

from .problems import BadParameter

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str, name: str = "date") -> dt.date:
    """``YYYY-MM-DD`` as a date; anything else is a BadParameter naming ``name``."""
    value = value.strip()
    if not _ISO_DATE.match(value):
        raise BadParameter(name, f"{value[:40]!r} is not a date in the form YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"{value!r} is not a valid calendar date.") from None


def as_at(query_params) -> tuple[dt.date, bool]:
    """The as-at date of a request and whether the client gave it (False: today)."""
    value = query_params.get("date")
    if value is None or value == "":
        return today(), False
    return parse_date(value), True


def check_text(name: str, value: str, max_length: int = 200) -> str:
    """Refuse text no registry value could be: NUL characters (which PostgreSQL cannot store)
    and anything longer than ``max_length``."""
    if "\x00" in value:
        raise BadParameter(name, "contains a NUL character.")
    if len(value) > max_length:
        raise BadParameter(name, f"is longer than {max_length} characters.")
    return value
