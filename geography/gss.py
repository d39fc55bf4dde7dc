"""GSS codes: the nine-character ONS codes that key the statistical-geography register.

A code is a country letter (E, W, S, N, K for the UK and its unions, L and M for the Channel
Islands and the Isle of Man, J for a few UK-wide statistical geographies such as the 1961
census areas and major towns and cities), two digits naming the entity type (``E06``: unitary
authorities) and six digits for the instance.
"""

from __future__ import annotations

import datetime as dt
import re

GSS_PATTERN = r"^[EWSNKLMJ]\d{8}$"
_GSS = re.compile(GSS_PATTERN)

# GSS codes came into use on 2009-01-01; the codes of the areas abolished in the April 2009
# reorganisation lived only until the day before this one.
GSS_START = dt.date(2009, 1, 1)
GSS_REORGANISATION = dt.date(2009, 4, 1)

# The country entry (the top of the administrative hierarchy below the UK) by first letter.
COUNTRY_OF_LETTER = {"E": "E92000001", "W": "W92000004", "S": "S92000003", "N": "N92000002"}


def is_gss(value: str) -> bool:
    return bool(_GSS.match(value))


def entity_code(code: str) -> str:
    """The entity type of a GSS code: ``entity_code("E06000001") == "E06"``."""
    if not is_gss(code):
        raise ValueError(f"{code!r} is not a GSS code (a letter and eight digits)")
    return code[:3]


def country_of(code: str) -> str | None:
    """The country entry a GSS code lies in, or None for UK-wide and crown dependency codes."""
    return COUNTRY_OF_LETTER.get(code[:1])
