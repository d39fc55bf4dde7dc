"""The kinds of UK area, named by the entity-type prefix of their GSS codes, and how they group.

An entity type is the first three characters of a GSS code (``E06``: unitary authorities),
an entry of the ``statistical-entity`` register. Readers often mean several at once: "a
district" is a unitary authority, a shire district, a metropolitan district, a London borough,
a Welsh principal area, a Scottish council area or a Northern Irish district. This module
names those sets once (:data:`DISTRICTS`, :data:`WARDS`…), the :data:`GROUPS` that
reconciliation offers as types, the short :data:`LABELS` that describe a candidate, and what
a bare name most likely means (:func:`priority`, :data:`HINT_TYPES`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import COMBINED, COUNCIL, COUNTY, DISTRICT, HEALTH, PARISH, POLICE
from .registers import AREAS, COUNCILS, ENTITY_TYPES

LSOAS = frozenset({"E01", "W01"})
MSOAS = frozenset({"E02", "W02"})
WARDS = frozenset({"E05", "W05", "S13", "N08"})
# Local authority districts of every kind.
DISTRICTS = frozenset({"E06", "E07", "E08", "E09", "W06", "S12", "N09"})
# The districts of England, and of England and Wales (which census small areas lie in).
ENGLISH_DISTRICTS = frozenset({"E06", "E07", "E08", "E09"})
ENGLAND_AND_WALES_DISTRICTS = ENGLISH_DISTRICTS | {"W06"}
COUNTIES = frozenset({"E10", "E11"})
REGIONS = frozenset({"E12"})
CONSTITUENCIES = frozenset({"E14", "W07", "S14", "N05", "N06"})
COMBINED_AUTHORITIES = frozenset({"E47"})
GREATER_LONDON_AUTHORITY = frozenset({"E61"})
COUNTRIES = frozenset({"E92", "W92", "S92", "N92"})
# Great Britain, England and Wales, the United Kingdom.
UNIONS = frozenset({"K02", "K03", "K04"})

# The families the Code History Database adds, with the kinds their areas lie within.
DATA_ZONES = frozenset({"S01"})
INTERMEDIATE_ZONES = frozenset({"S02"})
NI_DATA_ZONES = frozenset({"N20"})
NI_SUPER_DATA_ZONES = frozenset({"N21"})
PARISHES = frozenset({"E04", "W04"})  # civil parishes; Welsh communities
COUNTY_ELECTORAL_DIVISIONS = frozenset({"E58"})
WORKPLACE_ZONES = frozenset({"E33", "W35", "S34", "N19"})
BUILT_UP_AREAS_2011 = frozenset({"E34", "W37"})
BUILT_UP_AREA_SUBDIVISIONS_2011 = frozenset({"E35", "W38"})
BUILT_UP_AREAS = frozenset({"E63", "W45", "S45"})  # 2022
SUB_ICB_LOCATIONS = frozenset({"E38"})  # formerly clinical commissioning groups
ICBS = frozenset({"E54"})  # integrated care boards
NHS_COMMISSIONING_REGIONS = frozenset({"E39"})
NHS_REGIONS = frozenset({"E40"})
STRATEGIC_HEALTH_AUTHORITIES = frozenset({"E18"})
PAN_STRATEGIC_HEALTH_AUTHORITIES = frozenset({"E19"})
PRIMARY_CARE_TRUSTS = frozenset({"E16"})
PHE_CENTRES = frozenset({"E45"})
PHE_REGIONS = frozenset({"E46"})
POLICE_FORCE_AREAS = frozenset({"E23", "W15", "S23", "N23"})
COMMUNITY_SAFETY_PARTNERSHIPS = frozenset({"E22", "W14"})
EUROPEAN_ELECTORAL_REGIONS = frozenset({"E15", "W08", "N07"})
DEVOLVED_CONSTITUENCIES = frozenset({"E32", "W09", "S16"})  # London Assembly, Senedd, Holyrood
DEVOLVED_ELECTORAL_REGIONS = frozenset({"W10", "S17"})
REGISTRATION_DISTRICTS = frozenset({"E28", "W20"})
MERGED_DISTRICTS = frozenset({"E41", "W40"})
MERGED_COUNTIES = frozenset({"E42"})
NATIONAL_PARKS = frozenset({"E26", "W18", "S21"})
TRAVEL_TO_WORK_AREAS = frozenset({"E30", "W22", "S22", "N12"})
LOCAL_PLANNING_AUTHORITIES = frozenset({"E60", "W43", "S44", "N13"})
FIRE_AND_RESCUE_AUTHORITIES = frozenset({"E31", "W25", "S38", "N31"})
FIRE_AND_RESCUE_AREAS = frozenset({"S40", "N32"})
SETTLEMENTS = frozenset({"S20"})
LOCAL_ADMINISTRATIVE_UNITS_1 = frozenset({"S30"})
COMMUNITY_HEALTH_PARTNERSHIPS = frozenset({"S03"})
REGENERATION_OUTCOME_AGREEMENT_AREAS = frozenset({"S04"})
REGENERATION_OUTCOME_AREAS = frozenset({"S05"})
SPATIAL_PLAN_AREAS = frozenset({"W23"})
STRATEGIC_REGENERATION_AREAS = frozenset({"W26"})
AGRICULTURAL_REGIONS = frozenset({"W29"})


@dataclass(frozen=True)
class Group:
    """A set of entity types readers name as one kind of area."""

    id: str
    name: str
    entity_types: frozenset[str]
    broader: tuple[str, ...] = ()
    description: str = ""


LAD = "local-authority-district"
LA_AREA = "local-authority-area"
WARD = "ward"

GROUPS: dict[str, Group] = {
    group.id: group
    for group in (
        Group(
            LAD,
            "Local authority district (any kind)",
            DISTRICTS,
            (LA_AREA,),
            "Unitary authorities, districts, London boroughs, Welsh principal areas, Scottish "
            "council areas and Northern Irish districts (E06, E07, E08, E09, W06, S12, N09)",
        ),
        Group(
            LA_AREA,
            "Local authority area (any tier)",
            DISTRICTS | COUNTIES | COMBINED_AUTHORITIES | GREATER_LONDON_AUTHORITY,
            (AREAS,),
            "Any area with a council or combined authority: districts of every kind, counties, "
            "combined authorities and Greater London",
        ),
        Group(
            "county",
            "County (any kind)",
            COUNTIES,
            (LA_AREA,),
            "Non-metropolitan and metropolitan counties (E10, E11)",
        ),
        Group(
            WARD,
            "Electoral ward or division (any country)",
            WARDS,
            (AREAS,),
            "Electoral wards and divisions of England, Wales, Scotland and Northern Ireland "
            "(E05, W05, S13, N08)",
        ),
        Group(
            "lsoa",
            "Lower layer super output area",
            LSOAS,
            (AREAS,),
            "Census lower layer super output areas of England and Wales (E01, W01)",
        ),
        Group(
            "msoa",
            "Middle layer super output area",
            MSOAS,
            (AREAS,),
            "Census middle layer super output areas of England and Wales (E02, W02)",
        ),
        Group(
            "westminster-constituency",
            "Westminster parliamentary constituency (any country)",
            CONSTITUENCIES,
            (AREAS,),
            "UK Parliament constituencies (E14, W07, S14, N05, N06)",
        ),
        Group(
            "country",
            "Country of the United Kingdom",
            COUNTRIES,
            (AREAS,),
            "England, Wales, Scotland and Northern Ireland",
        ),
        Group("region", "Region of England", REGIONS, (AREAS,), "The nine English regions (E12)"),
        Group(
            "parish",
            "Civil parish or community",
            PARISHES,
            (AREAS,),
            "Civil parishes of England (E04) and communities of Wales (W04)",
        ),
        Group(
            "county-electoral-division",
            "County electoral division",
            COUNTY_ELECTORAL_DIVISIONS,
            (AREAS,),
            "Electoral divisions of English county councils (E58)",
        ),
        Group(
            "data-zone",
            "Data zone (Scotland or Northern Ireland)",
            DATA_ZONES | NI_DATA_ZONES,
            (AREAS,),
            "Scottish data zones (S01) and Northern Irish data zones (N20)",
        ),
        Group(
            "intermediate-zone",
            "Intermediate or super data zone",
            INTERMEDIATE_ZONES | NI_SUPER_DATA_ZONES,
            (AREAS,),
            "Scottish intermediate zones (S02) and Northern Irish super data zones (N21)",
        ),
        Group(
            "workplace-zone",
            "Workplace zone",
            WORKPLACE_ZONES,
            (AREAS,),
            "Census workplace zones (E33, W35, S34, N19)",
        ),
        Group(
            "built-up-area",
            "Built-up area (2022)",
            BUILT_UP_AREAS,
            (AREAS,),
            "Built-up areas of the 2022 definition (E63, W45, S45)",
        ),
        Group(
            "icb",
            "Integrated care board",
            ICBS,
            (AREAS,),
            "NHS integrated care boards of England (E54)",
        ),
        Group(
            "sub-icb-location",
            "Sub-ICB location (formerly CCG)",
            SUB_ICB_LOCATIONS,
            (AREAS,),
            "Sub integrated care board locations, formerly clinical commissioning groups (E38)",
        ),
        Group("nhs-region", "NHS England region", NHS_REGIONS, (AREAS,), "NHS regions (E40)"),
        Group(
            "police-force-area",
            "Police force area",
            POLICE_FORCE_AREAS,
            (AREAS,),
            "Police force areas of England, Wales, Scotland and Northern Ireland (E23, W15, "
            "S23, N23)",
        ),
        Group(
            "national-park",
            "National park",
            NATIONAL_PARKS,
            (AREAS,),
            "National parks of England, Wales and Scotland (E26, W18, S21)",
        ),
        Group(
            "travel-to-work-area",
            "Travel to work area",
            TRAVEL_TO_WORK_AREAS,
            (AREAS,),
            "Travel to work areas (E30, W22, S22, N12)",
        ),
    )
}

# What each register is called when offered as a type.
REGISTER_TYPES = {
    AREAS: "Statistical geography (any area)",
    COUNCILS: "Local authority (council)",
    ENTITY_TYPES: "Entity type (ONS Register of Geographic Codes)",
}

# A short singular label per entity type, for candidate descriptions ("Ward in …").
LABELS = {
    **dict.fromkeys(LSOAS, "LSOA"),
    **dict.fromkeys(MSOAS, "MSOA"),
    **dict.fromkeys(WARDS, "Ward"),
    "E06": "Unitary authority",
    "E07": "Non-metropolitan district",
    "E08": "Metropolitan district",
    "E09": "London borough",
    "W06": "Welsh principal area",
    "S12": "Scottish council area",
    "N09": "Northern Irish district",
    "E10": "County",
    "E11": "Metropolitan county",
    "E12": "Region",
    **dict.fromkeys(CONSTITUENCIES, "Constituency"),
    "E47": "Combined authority",
    "E61": "Greater London Authority",
    **dict.fromkeys(COUNTRIES, "Country"),
    "E04": "Civil parish",
    "W04": "Community",
    "E58": "County electoral division",
    **dict.fromkeys(DATA_ZONES | NI_DATA_ZONES, "Data zone"),
    "S02": "Intermediate zone",
    "N21": "Super data zone",
    **dict.fromkeys(WORKPLACE_ZONES, "Workplace zone"),
    **dict.fromkeys(BUILT_UP_AREAS, "Built-up area"),
    "E54": "Integrated care board",
    "E38": "Sub-ICB location",
    "E40": "NHS region",
    **dict.fromkeys(POLICE_FORCE_AREAS, "Police force area"),
    **dict.fromkeys(NATIONAL_PARKS, "National park"),
    **dict.fromkeys(TRAVEL_TO_WORK_AREAS, "Travel to work area"),
}

# Without a type, which kinds of entry a bare name most likely means: districts first, then
# the tiers above, councils, constituencies, wards and small areas. Lower is earlier.
_PRIORITY = [
    DISTRICTS,
    COUNTIES,
    COMBINED_AUTHORITIES,
    REGIONS,
    COUNTRIES | UNIONS,
    frozenset([COUNCILS]),
    CONSTITUENCIES,
    WARDS,
    MSOAS,
    LSOAS,
    frozenset([ENTITY_TYPES]),
]
LOWEST_PRIORITY = len(_PRIORITY)
# From this rank on, the smaller areas (constituencies, wards, MSOAs, LSOAs) and the rest.
MINOR_PRIORITY = _PRIORITY.index(CONSTITUENCIES)


def priority(register: str, entity_type: str | None) -> int:
    """How early an entry of this kind ranks when a query gives no type (0 first)."""
    kind = entity_type if register == AREAS else register
    for rank, kinds in enumerate(_PRIORITY):
        if kind in kinds:
            return rank
    return LOWEST_PRIORITY


def groups_of(entity_type: str) -> list[Group]:
    return [group for group in GROUPS.values() if entity_type in group.entity_types]


# Which entity types each authority-kind word in a name fits ("Kent County Council" is a
# county or a unitary; ``geography.names`` finds the words).
HINT_TYPES = {
    DISTRICT: GROUPS[LAD].entity_types,
    COUNTY: COUNTIES | {"E06", "W06"},
    COMBINED: COMBINED_AUTHORITIES,
    COUNCIL: GROUPS[LA_AREA].entity_types,
    PARISH: PARISHES,
    HEALTH: ICBS | SUB_ICB_LOCATIONS | NHS_REGIONS,
    POLICE: POLICE_FORCE_AREAS,
}

# The kinds of area an authority-kind word names outright ("Kent County Council" says
# county; a unitary may call itself a county council too, so HINT_TYPES admits it, but it is
# no county).
NAMED_KINDS = {
    DISTRICT: DISTRICTS,
    COUNTY: COUNTIES,
    COMBINED: COMBINED_AUTHORITIES,
    PARISH: PARISHES,
    HEALTH: ICBS | SUB_ICB_LOCATIONS | NHS_REGIONS,
    POLICE: POLICE_FORCE_AREAS,
}

# Kinds of area whose names are unique in the UK at any one moment.
NATIONALLY_UNIQUE = GROUPS[LA_AREA].entity_types | CONSTITUENCIES | COUNTRIES | REGIONS

# The countries by the names people write.
COUNTRY_NAMES = {
    "england": "E92000001",
    "wales": "W92000004",
    "cymru": "W92000004",
    "scotland": "S92000003",
    "northern ireland": "N92000002",
}
