"""The UK registers: their slugs, what the registry says about each, and how each is published.

Three registers make up the UK domain (``DESIGN.md``):

- ``statistical-geography`` (:data:`AREAS`): areas by ONS GSS code, ``E06000001``;
- ``statistical-entity`` (:data:`ENTITY_TYPES`): the kinds of area, by the three-character
  prefix of their codes (the Register of Geographic Codes), ``E06``; states name them;
- ``local-authority`` (:data:`COUNCILS`): councils, by their three-letter code, ``BIR``; a
  council is not its area but *governs* it.

This module is where those slugs are written; everything else imports them. :data:`REGISTERS`
is what the loader writes into each :class:`~registry.models.Register` row, and
:func:`declare_profiles` tells the generic registry how to publish each (``registry.profiles``).
"""

from __future__ import annotations

from registry.profiles import Profile, declare

from .gss import GSS_PATTERN, entity_code, is_gss

AREAS = "statistical-geography"
ENTITY_TYPES = "statistical-entity"
COUNCILS = "local-authority"

# Entity type keys: a country letter and two digits. J is ONS's prefix for a few UK-wide
# statistical geographies (J01 and others in the Register of Geographic Codes).
ENTITY_TYPE_PATTERN = r"^[EWSNKLMJ]\d{2}$"
# Council codes: three to ten capitals, digits or hyphens, starting with a letter.
COUNCIL_PATTERN = r"^[A-Z][A-Z0-9-]{2,9}$"

OGL = "Open Government Licence v3.0"
ONS_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v3.0."
)

REGISTERS: dict[str, dict[str, str]] = {
    AREAS: {
        "name": "Statistical and administrative geographies",
        "description": "UK areas by ONS GSS code: countries, regions, counties, districts, "
        "wards, LSOAs, MSOAs, combined authorities and Westminster constituencies, live "
        "and terminated.",
        "key_pattern": GSS_PATTERN,
        "licence": OGL,
        "attribution": ONS_ATTRIBUTION + " Contains data from mySociety (CC BY 4.0) and the "
        "House of Commons Library (Open Parliament Licence v3.0).",
    },
    ENTITY_TYPES: {
        "name": "Entity types (Register of Geographic Codes)",
        "description": "The kinds of area that GSS codes identify, keyed by their three-"
        "character prefix (E06: unitary authorities).",
        "key_pattern": ENTITY_TYPE_PATTERN,
        "licence": OGL,
        "attribution": ONS_ATTRIBUTION,
    },
    COUNCILS: {
        "name": "Local authorities (councils)",
        "description": "UK councils past and present, keyed by their three-letter local "
        "authority code, and the areas each governs over time.",
        "key_pattern": COUNCIL_PATTERN,
        "licence": "CC BY 4.0 (mySociety); Open Government Licence v3.0",
        "attribution": "UK Local Authority Names and Codes, mySociety (CC BY 4.0). "
        + ONS_ATTRIBUTION,
    },
}

# The identifier schemes other than the registers' own keys, as readers know them.
IDENTIFIER_SCHEMES = {
    "ons-legacy": "Legacy ONS (SNAC) code",
    "iso-3166-2": "ISO 3166-2:GB code",
    "govuk-register": "GOV.UK register id",
    "mapit": "MapIt area id",
    "uk-parliament": "UK Parliament constituency id",
    # The other schemes of the Code History Database's Equivalents table (``--chd``).
    "dclg": "DCLG code",
    "nhs": "NHS code",
    "scottish-government": "Scottish Government code",
    "ni-government": "Northern Ireland government code",
    "welsh-government": "Welsh Government code",
}

# Among equally good search results, an area before the council that governs it, and both
# before an entity type.
SEARCH_ORDER = {AREAS: 0, COUNCILS: 1, ENTITY_TYPES: 2}

# statistics.data.gov.uk, ONS's linked-data service (shut down in 2026), minted these URIs for
# the same GSS codes; other people's data still links to them.
ONS_STATISTICS_BASE = "http://statistics.data.gov.uk/id/statistical-geography/"
GSS_CODE_DATATYPE = "http://statistics.data.gov.uk/def/statistical-geography#gssCode"
STATISTICAL_GEOGRAPHY_CLASS = (
    "http://statistics.data.gov.uk/def/statistical-geography#Statistical-Geography"
)
ORGANIZATION_CLASS = "http://xmlns.com/foaf/0.1/Organization"


def ons_uri(gss_code: str) -> str:
    """The statistics.data.gov.uk URI of the same GSS code (for ``owl:sameAs``)."""
    return f"{ONS_STATISTICS_BASE}{gss_code}"


def _entity_type_of(code: str) -> str | None:
    return entity_code(code) if is_gss(code) else None


def declare_profiles() -> None:
    """Tell the generic registry how each UK register is published (at start-up)."""
    declare(
        Profile(
            AREAS,
            rdf_class=STATISTICAL_GEOGRAPHY_CLASS,
            key_scheme=GSS_CODE_DATATYPE,
            same_as=ons_uri,
            entity_type_of=_entity_type_of,
        )
    )
    declare(Profile(ENTITY_TYPES, key_scheme="entity-code", holds_entity_types=True))
    declare(Profile(COUNCILS, rdf_class=ORGANIZATION_CLASS, key_scheme="local-authority-code"))
