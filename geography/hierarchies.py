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

# The entity types a parent may have in each hierarchy.
ALLOWED_PARENTS: dict[str, frozenset[str]] = {
    DISTRICT: kinds.DISTRICTS,
    COUNTY: kinds.COUNTIES,
    REGION: kinds.REGIONS,
    COUNTRY: kinds.COUNTRIES,
    UNION: kinds.UNIONS,
    COMBINED_AUTHORITY: kinds.COMBINED_AUTHORITIES,
    MSOA: kinds.MSOAS,
}

# The hierarchy a parent of each entity type is linked in (the inverse of the above).
HIERARCHY_OF_PARENT: dict[str, str] = {
    entity_type: hierarchy
    for hierarchy, allowed in ALLOWED_PARENTS.items()
    for entity_type in allowed
}

# The deepest chain of parents in the data: LSOA → MSOA → district → county → region →
# country → union, six links.
MAX_DEPTH = 6

# An entry page's breadcrumb follows one chain up, taking the nearest kind of parent first (a
# ward's district before its county); combined authorities are shown beside it, not in it.
BREADCRUMB_ORDER = [MSOA, DISTRICT, COUNTY, REGION, COUNTRY, UNION]
BESIDE_BREADCRUMB = frozenset({COMBINED_AUTHORITY})

# Where a reconciliation candidate is said to lie ("Ward in Sunderland"): the nearest of
# these, or for the kinds below, of theirs.
PLACE_HIERARCHIES = (DISTRICT, COUNTY, REGION, COUNTRY, UNION)
PLACE_OF: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(kinds.COUNTIES | kinds.COMBINED_AUTHORITIES, (REGION, COUNTRY)),
    **dict.fromkeys(kinds.REGIONS, (COUNTRY,)),
}
