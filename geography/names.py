"""Normalising UK area and council names for matching.

People write the same council a dozen ways: "Bristol, City of" (the ONS inverted form),
"City of Bristol", "Bristol City Council", "bristol"; "St. Helens" and "Saint Helens";
"Basingstoke & Deane"; "Blackburn With Darwen UA"; "brent london boro"; "Ynys MÃ´n" (UTF-8
read as Windows-1252). :func:`forms` turns a name into three comparable keys:

- ``full``: the name folded by :func:`registry.text.fold`, the registry's one normaliser (case,
  accents, mojibake, punctuation, "&"/"and", "St"/"Saint" and hyphens folded, and the inverted
  ONS forms turned round: "Bristol, City of" → "city of bristol"). It is exactly the
  ``Name.folded`` that site search and the lookup API match on, so a name reconciliation
  matches is one they find;
- ``plain``: ``full`` without the word "council" and a leading "the", so "Aberdeen City
  Council" and "Aberdeen City" agree;
- ``core``: ``plain`` without the prefixes and suffixes that say what kind of authority it is
  ("London Borough of", "District", "UA", "County Borough", "City of", Welsh "Cyngor Sir"…),
  so "ashford district" and "Ashford Borough Council" agree.

The words stripped to reach ``core`` are kept as ``hints`` (``district``, ``county``,
``combined``), so a matcher can tell "Buckinghamshire County" (the county) from
"Buckinghamshire" (today's unitary authority). What is here is what is particular to UK
authority names; how text is folded is not, and lives in ``registry.text``. Everything here
is pure, and total: any text, even punctuation alone, has forms (``""`` when it folds to
nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.text import fold

# What a stripped affix says about the kind of area: a hint, not a rule.
DISTRICT, COUNTY, COMBINED, COUNCIL = "district", "county", "combined", "council"
PARISH, HEALTH, POLICE = "parish", "health", "police"
# The hints that name one kind outright, so outweigh the rest ("Ampthill Town Council" says
# parish, whatever "council" alone would admit).
SPECIFIC_HINTS = frozenset({COMBINED, PARISH, HEALTH, POLICE})

# Prefixes, longest first, with the hint each gives. Welsh forms come first in the name
# ("Cyngor Sir Ynys Môn" is the Isle of Anglesey County Council).
_PREFIXES: tuple[tuple[tuple[str, ...], str | None], ...] = tuple(
    (tuple(words.split()), hint)
    for words, hint in (
        ("cyngor bwrdeistref sirol", DISTRICT),
        ("cyngor dinas a sir", DISTRICT),
        ("cyngor dinas", DISTRICT),
        ("cyngor sir", COUNTY),
        ("cyngor cymuned", PARISH),
        ("cyngor tref", PARISH),
        ("cyngor", None),
        ("bwrdeistref sirol", DISTRICT),
        ("dinas a sir", DISTRICT),
        ("sir", COUNTY),
        ("metropolitan borough of", DISTRICT),
        ("london borough of", DISTRICT),
        ("royal borough of", DISTRICT),
        ("county borough of", DISTRICT),
        ("city and county of", DISTRICT),
        ("city and district of", DISTRICT),
        ("borough council of", DISTRICT),
        ("district council of", DISTRICT),
        ("council of the", None),
        ("council of", None),
        ("borough of", DISTRICT),
        ("district of", DISTRICT),
        ("county of", COUNTY),
        ("city of", DISTRICT),
        ("county", COUNTY),
        ("co", COUNTY),
        ("nhs", HEALTH),
        ("the", None),
    )
)

_SUFFIXES: tuple[tuple[tuple[str, ...], str | None], ...] = tuple(
    (tuple(words.split()), hint)
    for words, hint in (
        ("mayoral combined county authority", COMBINED),
        ("mayoral combined authority", COMBINED),
        ("combined county authority", COMBINED),
        ("integrated care board", HEALTH),
        ("clinical commissioning group", HEALTH),
        ("police service", POLICE),
        ("police force", POLICE),
        ("police", POLICE),
        ("constabulary", POLICE),
        ("parish", PARISH),
        ("combined authority", COMBINED),
        ("city region", COMBINED),
        ("metropolitan borough", DISTRICT),
        ("metropolitan district", DISTRICT),
        ("metropolitan county", COUNTY),
        ("unitary authority", DISTRICT),
        ("london borough", DISTRICT),
        ("royal borough", DISTRICT),
        ("county borough", DISTRICT),
        ("council area", DISTRICT),
        ("district", DISTRICT),
        ("borough", DISTRICT),
        ("city", DISTRICT),
        ("county", COUNTY),
        ("icb", HEALTH),
        ("ccg", HEALTH),
        ("mca", COMBINED),
        ("cca", COMBINED),
        ("ca", COMBINED),
        ("cc", COMBINED),
        ("ua", DISTRICT),
        ("mbc", DISTRICT),
        ("dc", DISTRICT),
        ("bc", DISTRICT),
        ("lb", DISTRICT),
    )
)

_COUNCIL_WORDS = {"council", "cyngor"}
# The word before "council" in the names of parish, town and community councils.
_LOCAL_COUNCIL_WORDS = {"parish", "town", "community"}
_NO_HINTS: frozenset[str] = frozenset()


def _by_edge_word(
    affixes: tuple[tuple[tuple[str, ...], str | None], ...], at_end: bool
) -> dict[str, list[tuple[tuple[str, ...], str | None]]]:
    table: dict[str, list[tuple[tuple[str, ...], str | None]]] = {}
    for words, hint in affixes:
        table.setdefault(words[-1] if at_end else words[0], []).append((words, hint))
    return table


_SUFFIX_BY_LAST = _by_edge_word(_SUFFIXES, at_end=True)
_PREFIX_BY_FIRST = _by_edge_word(_PREFIXES, at_end=False)


def _strip(tokens: list[str], at_end: bool) -> tuple[list[str], str | None] | None:
    """``tokens`` without the longest affix at one end (never all of them), and its hint."""
    if len(tokens) < 2:
        return None
    table = _SUFFIX_BY_LAST if at_end else _PREFIX_BY_FIRST
    for words, hint in table.get(tokens[-1] if at_end else tokens[0], ()):
        n = len(words)
        if len(tokens) <= n:
            continue
        part = tuple(tokens[-n:]) if at_end else tuple(tokens[:n])
        if part == words:
            return (tokens[:-n] if at_end else tokens[n:]), hint
    return None


@dataclass(frozen=True, slots=True)
class Forms:
    full: str
    plain: str
    core: str
    hints: frozenset[str]

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(self.core.split())


def forms(text: str) -> Forms:
    """The ``full``, ``plain`` and ``core`` keys of a name, and the hints its affixes give."""
    full = fold(text)
    tokens = full_tokens = full.split()
    hints: set[str] = set()
    # plain: without "council" at either end and a leading "the".
    while len(tokens) > 1 and tokens[-1] in _COUNCIL_WORDS:
        tokens = tokens[:-1]
        hints.add(COUNCIL)
        if len(tokens) > 1 and tokens[-1] in _LOCAL_COUNCIL_WORDS:
            # "Ampthill Town Council": the parish of Ampthill, a civil parish's council.
            tokens = tokens[:-1]
            hints.add(PARISH)
    while len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    plain = full if len(tokens) == len(full_tokens) else " ".join(tokens)
    # core: strip authority-kind affixes from both ends until none is left; never to nothing.
    changed = True
    while changed:
        changed = False
        for at_end in (True, False):
            stripped = _strip(tokens, at_end)
            if stripped is not None:
                tokens, hint = stripped
                if hint:
                    hints.add(hint)
                changed = True
    core = plain if plain.count(" ") + 1 == len(tokens) else " ".join(tokens)
    return Forms(full, plain, core, frozenset(hints) if hints else _NO_HINTS)
