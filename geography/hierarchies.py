"""The hierarchies UK areas lie within each other in, and how a reader is shown them.

A parent link (:class:`~registry.models.Relation`) names its hierarchy: a ward is within its
``district``, a district within its ``county``, ``region`` and ``country``, a country within
the ``union`` (Great Britain, the UK); an LSOA within its ``msoa``; a district within its
``combined-authority``. :data:`ALLOWED_PARENTS` says which entity types may be a parent in
each (a rule every change keeps, ``geography.rules``); the rest says how pages and
reconciliation candidates present the chain.
"""

from __future__ import annotations

from . import entity_types as kinds

DISTRICT = "district"
COUNTY = "county"
REGION = "region"
COUNTRY = "country"
UNION = "union"
COMBINED_AUTHORITY = "combined-authority"
MSOA = "msoa"
INTERMEDIATE_ZONE = "intermediate-zone"
SUPER_DATA_ZONE = "super-data-zone"
ICB = "icb"
NHS_REGION = "nhs-region"

# The entity types a parent may have in each hierarchy. Each hierarchy is named for the kind
# of area its parents are, so a Code History Database parent (PARENTCD) is linked in the
# hierarchy of its own entity type: a parish is within its district, a county electoral
# division within its county, a sub-ICB location within its ICB and that within its NHS
# region.
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    DISTRICT: kinds.DISTRICTS,
    COUNTY: kinds.COUNTIES,
    REGION: kinds.REGIONS,
    COUNTRY: kinds.COUNTRIES,
    UNION: kinds.UNIONS,
    COMBINED_AUTHORITY: kinds.COMBINED_AUTHORITIES,
    MSOA: kinds.MSOAS,
    INTERMEDIATE_ZONE: kinds.INTERMEDIATE_ZONES,
    SUPER_DATA_ZONE: kinds.NI_SUPER_DATA_ZONES,
    ICB: kinds.ICBS,
    NHS_REGION: kinds.NHS_REGIONS,
    "nhs-commissioning-region": kinds.NHS_COMMISSIONING_REGIONS,
    "pan-strategic-health-authority": kinds.PAN_STRATEGIC_HEALTH_AUTHORITIES,
    "phe-region": kinds.PHE_REGIONS,
    "police-force-area": kinds.POLICE_FORCE_AREAS,
    "european-electoral-region": kinds.EUROPEAN_ELECTORAL_REGIONS,
    "devolved-electoral-region": kinds.DEVOLVED_ELECTORAL_REGIONS,
    "registration-district": kinds.REGISTRATION_DISTRICTS,
    "built-up-area": kinds.BUILT_UP_AREAS_2011,
    "merged-district": kinds.MERGED_DISTRICTS,
    "merged-county": kinds.MERGED_COUNTIES,
    "fire-and-rescue-authority": kinds.FIRE_AND_RESCUE_AUTHORITIES,
    "fire-and-rescue-area": kinds.FIRE_AND_RESCUE_AREAS,
    "settlement": kinds.SETTLEMENTS,
    "local-administrative-unit": kinds.LOCAL_ADMINISTRATIVE_UNITS_1,
    "community-health-partnership": kinds.COMMUNITY_HEALTH_PARTNERSHIPS,
    "regeneration-outcome-agreement-area": kinds.REGENERATION_OUTCOME_AGREEMENT_AREAS,
    "regeneration-outcome-area": kinds.REGENERATION_OUTCOME_AREAS,
    "spatial-plan-area": kinds.SPATIAL_PLAN_AREAS,
    "strategic-regeneration-area": kinds.STRATEGIC_REGENERATION_AREAS,
    "agricultural-region": kinds.AGRICULTURAL_REGIONS,
}

# The hierarchy a parent of each entity type is linked in (the inverse of the above).
HIERARCHY_OF_PARENT: dict[str, str] = {
    entity_type: hierarchy
    for hierarchy, allowed in ALLOWED_PARENTS.items()
    for entity_type in allowed
}

# The deepest chain of parents in the data: a workplace zone → MSOA → district → county →
# region → country → union, six links (an LSOA's is as long).
MAX_DEPTH = 6

# An entry page's breadcrumb follows one chain up, taking the nearest kind of parent first (a
# ward's district before its county); combined authorities are shown beside it, not in it.
BREADCRUMB_ORDER = [
    MSOA,
    INTERMEDIATE_ZONE,
    SUPER_DATA_ZONE,
    DISTRICT,
    COUNTY,
    REGION,
    ICB,
    NHS_REGION,
    COUNTRY,
    UNION,
]
BESIDE_BREADCRUMB = frozenset({COMBINED_AUTHORITY})

# Where a reconciliation candidate is said to lie ("Ward in Sunderland"): the nearest of
# these, or for the kinds below, of theirs.
PLACE_HIERARCHIES = (DISTRICT, COUNTY, REGION, COUNTRY, UNION)
PLACE_OF: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(kinds.COUNTIES | kinds.COMBINED_AUTHORITIES, (REGION, COUNTRY)),
    **dict.fromkeys(kinds.REGIONS, (COUNTRY,)),
}

# How a page names each hierarchy ("MSOA", not "Msoa"); any other is its slug in words.
_ACRONYMS = {"msoa": "MSOA", "icb": "ICB", "nhs": "NHS", "phe": "PHE"}


def hierarchy_label(hierarchy: str) -> str:
    """The hierarchy ``hierarchy`` as a reader sees it: ``msoa`` → "MSOA", ``nhs-region`` →
    "NHS region", ``combined-authority`` → "Combined authority"."""
    words = [_ACRONYMS.get(word, word) for word in hierarchy.split("-")]
    if words and words[0] == words[0].lower():
        words[0] = words[0].capitalize()
    return " ".join(words)
