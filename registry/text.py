"""Text folding for matching names typed by people.

``fold`` maps a name to the form it is indexed and searched under, so that case, accents and
punctuation do not matter: "Ynys Môn", "YNYS MON" and "ynys-mon" all fold to ``"ynys mon"``.
It is a pure function, used both when names are written (``Name.folded``) and on every query.
"""

from __future__ import annotations

import re
import unicodedata

# Apostrophes join the letters either side ("King's Lynn" → "kings lynn"); any other run of
# non-alphanumeric characters separates words.
_APOSTROPHES = str.maketrans("", "", "'’‘`")
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, accents removed, "&" read as "and", punctuation and runs of spaces reduced
    to single spaces, trimmed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate(_APOSTROPHES).replace("&", " and ")
    return _SEPARATORS.sub(" ", plain).strip()
