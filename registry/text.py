"""Text folding: the one normaliser for names typed by people.

``fold`` maps a name to the key it is indexed, searched, looked up and reconciled under, so
that "Ynys Môn", "YNYS MON", "ynys-mon" and "Ynys MÃ´n" are all ``"ynys mon"``. It is the
only such rule in the registry: ``Name.folded`` (the indexed column behind site search, the
lookup API's ``name``, ``name_prefix`` and ``q`` filters and bulk lookup) is ``fold(text)``,
and the reconciliation service's name keys (``geography.names.forms``) start from it. Two
normalisers would be two answers to "is this the same name?": when search folded "St
Helens" to "st helens" and reconciliation to "saint helens", a search for "Saint Helens"
found nothing that reconciliation matched at once.

The rules, in the order they apply:

1. **Mojibake** is repaired: UTF-8 read as Windows-1252 or Latin-1, as in some ONS files
   ("Ynys MÃ´n" → "Ynys Môn", "GÅµyr" → "Gŵyr"), when the text decodes cleanly. A
   replacement character (a letter lost before the text reached us) is dropped, so its word
   stays one word ("Mï¿½n" → "mn").
2. **Apostrophes** of every kind (``' ` ’ ‘ ‛ ´ ʼ``) join the letters either side: "King's
   Lynn" → "kings lynn". So do the invisible characters that do not break a word (soft
   hyphen, zero-width joiners, word joiner, byte order mark); a zero-width space is a space.
3. **Case and accents**: case folded, the letters that do not decompose written out (æ ae, ø
   o, ł l, đ d, þ th, œ oe; ß is already "ss" once case is folded), then compatibility
   decomposition with the marks dropped, so Welsh ŵ ŷ â are w y a and full-width letters
   are plain ones.
4. **"&" and "+"** are read as "and".
5. **Everything else** that is not a letter a–z or a digit separates words (hyphens, en
   dashes, slashes, commas, full stops, no-break spaces…); words are joined by single
   spaces, with none at either end.
6. **Abbreviations** are read as the words they stand for: "St"/"St." → "saint", "Ste" →
   "sainte", "Mt" → "mount", "boro" → "borough". In the bundled data "St" always means a
   saint ("St Helens", "Bury St Edmunds", "Thorpe St Andrew"), never a street.
7. **Inverted ONS forms are turned round**: a name ending in a generic head (one of
   :data:`INVERTED_HEADS`) is read with the head first, "Bristol, City of" → "city of
   bristol", "Edinburgh (City of)" → "city of edinburgh", "Vale of Glamorgan, The" → "the
   vale of glamorgan". This works on the folded words, so the comma or brackets do not
   matter ("bristol city of" folds the same, as it did before the rule). :func:`uninvert`
   does the same to text as written, keeping its letters, for showing a name.

So a folded name is only words of [0-9a-z] separated by single spaces, which
``Name.objects.starting_with`` relies on for its range scan. ``fold`` is total (any ``str``,
including punctuation alone and lone surrogates, gives a ``str``, perhaps ``""``) and
idempotent (``fold(fold(s)) == fold(s)``), so a folded key can be passed back in.

Why inverted forms are turned round here, not only for reconciliation
--------------------------------------------------------------------
The ONS writes three authorities with the generic head last: "Bristol, City of"
(E06000023), "Kingston upon Hull, City of" (E06000010) and "Herefordshire, County of"
(E06000019); people and councils write "City of Bristol". These are the only 3 of the
119,027 names in the bundled data that end in a head, so turning round changes no other
name. Reconciliation has always read "city of bristol" and "Bristol, City of" as the same
name (its ``full`` form, which must now be the folded name, and its tests depend on it), and
search did not: ``/search?q=city+of+bristol`` missed E06000023, and ``bristol`` did not list
it either, because the first 500 names starting "bristol " are MSOAs and LSOAs ("Bristol
001"). Not turning round in ``fold`` would have left those two disagreeing, or made
reconciliation stop matching "City of Bristol" as a name.

The cost is that a name that was turned round no longer starts with its main part, so what
finds names by their start looks behind the heads too: :func:`prefixes` gives the folded
starts to look for (``Name.objects.starting_with``, the lookup API's ``name_prefix``), and
site search ranks "city of bristol" for "bristol" right after exact names, before names that
merely start with the query. A name that really begins with a head ("City of London", "The
Dales") is found that way too, which is what folding "X, City of" and "City of X" alike
means. A prefix typed with the comma ("bristol, ci") no longer reaches it.
"""

from __future__ import annotations

import re
import unicodedata

# Two or more characters of UTF-8 read as Windows-1252 or Latin-1: "Ã´" for "ô", "Ã©" for
# "é", "Åµ" for "ŵ", "â€™" for "’", and "ï¿½" for the replacement character.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u0178\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)

# Deleted before anything else, so that the letters either side join. The acute accent "´"
# (often typed for an apostrophe) must go before decomposition, which would make it a space
# and a mark.
_JOINERS = str.maketrans(
    "",
    "",
    "'`\u2019\u2018\u201b\u00b4\u02bc\uff07"  # apostrophes
    "\ufffd"  # a letter lost to a bad decoding
    "\u00ad\u200c\u200d\u2060\ufeff",  # soft hyphen, zero-width (non-)joiner, word joiner, BOM
)
_ZERO_WIDTH_SPACE = "\u200b"

# Letters that do not decompose into a base letter and a mark (after casefold, so lower case).
_LETTERS = str.maketrans({"æ": "ae", "ø": "o", "ł": "l", "đ": "d", "þ": "th", "œ": "oe"})
_NON_WORD = re.compile(r"[^0-9a-z]+")

# Words that stand for another, applied word by word.
_SYNONYMS = {"st": "saint", "ste": "sainte", "mt": "mount", "boro": "borough"}

# The generic heads the ONS puts last ("Bristol, City of"), folded; longest first, so that
# "royal borough of" is taken whole rather than as "borough of".
INVERTED_HEADS: tuple[str, ...] = (
    "city and county of",
    "county borough of",
    "royal borough of",
    "borough of",
    "county of",
    "city of",
    "the",
)
_HEAD_WORDS = tuple(tuple(head.split()) for head in INVERTED_HEADS)


def repair(text: str) -> str:
    """Undo UTF-8 read as Windows-1252 or Latin-1 ("Ynys MÃ´n" → "Ynys Môn"), when the text
    decodes cleanly; otherwise return it unchanged."""
    if not _MOJIBAKE.search(text):
        return text
    for encoding in ("cp1252", "latin-1"):
        try:
            return text.encode(encoding).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def _words(text: str) -> list[str]:
    """Rules 1 to 5: the words of ``text``, before abbreviations and inversion are read."""
    if text.isascii():
        # The common case, and cheap: nothing to repair, decompose or drop.
        plain = text.translate(_JOINERS).lower()
    else:
        text = repair(text).translate(_JOINERS).casefold().translate(_LETTERS)
        plain = "".join(
            c
            for c in unicodedata.normalize("NFKD", text)
            if not unicodedata.combining(c)
            and (c == _ZERO_WIDTH_SPACE or unicodedata.category(c) != "Cf")
        )
    plain = plain.replace("&", " and ").replace("+", " and ")
    return _NON_WORD.sub(" ", plain).split()


def _read(words: list[str]) -> list[str]:
    """Rule 6: abbreviations as the words they stand for."""
    return [_SYNONYMS.get(word, word) for word in words]


def _head_start(words: list[str]) -> int:
    """Where the run of generic heads that ``words`` ends with begins (``len(words)`` if it
    ends with none)."""
    end = len(words)
    while end:
        for head in _HEAD_WORDS:
            if len(head) <= end and tuple(words[end - len(head) : end]) == head:
                end -= len(head)
                break
        else:
            break
    return end


def _turn_round(words: list[str]) -> list[str]:
    """Rule 7: the generic heads a name ends with, moved to its front. All the heads at the
    end move together ("x city of city of" → "city of city of x"), and a name that is nothing
    but heads ("city of") stays as it is, so that folding twice changes nothing."""
    start = _head_start(words)
    if start in (0, len(words)):
        return words
    return words[start:] + words[:start]


# A word as written, for uninvert: a run of letters and digits, or "&" or "+" (which fold
# reads as "and", as in "City & County of").
_WRITTEN_WORD = re.compile(r"[^\W_]+|[&+]")


def uninvert(text: str) -> str:
    """Rule 7 on text as written, keeping its letters and punctuation: "Bristol, City of" →
    "City of Bristol", "Edinburgh (City of)" → "City of Edinburgh"; anything that does not
    end in a generic head is returned unchanged. ``fold`` applies the same rule to its words
    itself; this is for showing a name the way people write it."""
    spans = [m.span() for m in _WRITTEN_WORD.finditer(text)]
    words = [fold(text[a:b]) for a, b in spans]
    start = _head_start(words)
    if start in (0, len(spans)):
        return text
    head = text[spans[start][0] : spans[-1][1]]
    return f"{head} {text[: spans[start - 1][1]]}"


def fold(text: str) -> str:
    """The folded form of ``text`` (see the module docstring): lower-case words of
    [0-9a-z] separated by single spaces, or ``""`` when ``text`` has no letter or digit.
    Never raises."""
    return " ".join(_turn_round(_read(_words(text))))


def later_words(folded: str) -> list[str]:
    """The tails of a folded name that begin at each of its words but the first: "north" for
    "felixstowe north". A folded name contains " query" exactly when one of its tails starts
    with "query", so an index over the tails finds a word inside a name by an index range
    (:class:`registry.models.NameWord`); the first word is found by ``Name.folded`` itself."""
    return [folded[i + 1 :] for i, char in enumerate(folded) if char == " "]


def prefixes(text: str) -> tuple[str, ...]:
    """The folded starts a name may have if it begins with ``text`` as typed, for matching by
    prefix: ``fold(text)``; if its last word is an abbreviation, also that word as typed,
    since it may be unfinished ("ste" may begin "Stevenage", not only "Ste"); and each of
    those behind every inverted head, since fold turned "Bristol, City of" into "city of
    bristol". ``("",)`` when ``text`` folds to nothing."""
    words = _words(text)
    if not words:
        return ("",)
    read = _read(words)
    starts = [" ".join(_turn_round(read))]
    if read[-1] != words[-1]:
        starts.append(" ".join(_turn_round([*read[:-1], words[-1]])))
    return (*starts, *(f"{head} {start}" for start in starts for head in INVERTED_HEADS))
