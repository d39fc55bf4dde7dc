"""The types a reconciliation query can be restricted to, and how candidates are labelled.

Three kinds of type id are accepted:

- an ONS entity type code (``E06``, ``E05``…), the ``statistical-entity`` register's key;
- a broader group over several entity codes, such as ``local-authority-district`` ("Local
  authority district (any kind)": unitary authorities, non-metropolitan and metropolitan
  districts, London boroughs, Welsh principal areas, Scottish council areas and Northern Irish
  districts), so a column mixing them can be reconciled against one type;
- a register slug: ``statistical-geography`` (any area), ``local-authority`` (councils) or
  ``statistical-entity`` (entity types).

Types may also be given as the registry's URI of the entity type or register.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from geography.importers.base import AREAS, COUNCILS, ENTITY_TYPES
from geography.importers.wards import DISTRICT_PREFIXES, WARD_PREFIXES
from registry import uris


@dataclass(frozen=True)
class Group:
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
            frozenset(DISTRICT_PREFIXES),
            (LA_AREA,),
            "Unitary authorities, districts, London boroughs, Welsh principal areas, Scottish "
            "council areas and Northern Irish districts (E06, E07, E08, E09, W06, S12, N09)",
        ),
        Group(
            LA_AREA,
            "Local authority area (any tier)",
            frozenset([*DISTRICT_PREFIXES, "E10", "E11", "E47"]),
            (AREAS,),
            "Any area with a council or combined authority: districts of every kind, counties "
            "and combined authorities",
        ),
        Group(
            "county",
            "County (any kind)",
            frozenset(["E10", "E11"]),
            (LA_AREA,),
            "Non-metropolitan and metropolitan counties (E10, E11)",
        ),
        Group(
            WARD,
            "Electoral ward or division (any country)",
            frozenset(WARD_PREFIXES),
            (AREAS,),
            "Electoral wards and divisions of England, Wales, Scotland and Northern Ireland "
            "(E05, W05, S13, N08)",
        ),
        Group(
            "lsoa",
            "Lower layer super output area",
            frozenset(["E01", "W01"]),
            (AREAS,),
            "Census lower layer super output areas of England and Wales (E01, W01)",
        ),
        Group(
            "msoa",
            "Middle layer super output area",
            frozenset(["E02", "W02"]),
            (AREAS,),
            "Census middle layer super output areas of England and Wales (E02, W02)",
        ),
        Group(
            "westminster-constituency",
            "Westminster parliamentary constituency (any country)",
            frozenset(["E14", "W07", "S14", "N05", "N06"]),
            (AREAS,),
            "UK Parliament constituencies (E14, W07, S14, N05, N06)",
        ),
        Group(
            "country",
            "Country of the United Kingdom",
            frozenset(["E92", "W92", "S92", "N92"]),
            (AREAS,),
            "England, Wales, Scotland and Northern Ireland",
        ),
    )
}

REGISTER_TYPES = {
    AREAS: "Statistical geography (any area)",
    COUNCILS: "Local authority (council)",
    ENTITY_TYPES: "Entity type (ONS Register of Geographic Codes)",
}

# A short singular label per entity type, for candidate descriptions ("Ward in …").
LABELS = {
    "E01": "LSOA",
    "W01": "LSOA",
    "E02": "MSOA",
    "W02": "MSOA",
    "E05": "Ward",
    "W05": "Ward",
    "S13": "Ward",
    "N08": "Ward",
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
    "E14": "Constituency",
    "W07": "Constituency",
    "S14": "Constituency",
    "N05": "Constituency",
    "N06": "Constituency",
    "E47": "Combined authority",
    "E92": "Country",
    "W92": "Country",
    "S92": "Country",
    "N92": "Country",
}

# Without a type, which kinds of entry a bare name most likely means: districts first, then
# the tiers above, councils, constituencies, wards and small areas. Lower is earlier.
_PRIORITY_GROUPS = [
    frozenset(DISTRICT_PREFIXES),
    frozenset(["E10", "E11"]),
    frozenset(["E47"]),
    frozenset(["E12"]),
    frozenset(["E92", "W92", "S92", "N92", "K02", "K03", "K04"]),
    frozenset([COUNCILS]),
    frozenset(["E14", "W07", "S14", "N05", "N06"]),
    frozenset(WARD_PREFIXES),
    frozenset(["E02", "W02"]),
    frozenset(["E01", "W01"]),
    frozenset([ENTITY_TYPES]),
]
LOWEST_PRIORITY = len(_PRIORITY_GROUPS)


def priority(register: str, entity_type: str | None) -> int:
    """How early an entry of this kind ranks when a query gives no type (0 first)."""
    kind = entity_type if register == AREAS else register
    for rank, kinds in enumerate(_PRIORITY_GROUPS):
        if kind in kinds:
            return rank
    return LOWEST_PRIORITY


@dataclass(frozen=True)
class TypeFilter:
    """What a query's ``type`` admits: registers and, within areas, entity type codes."""

    registers: frozenset[str] = frozenset()
    entity_types: frozenset[str] = frozenset()
    ids: tuple[str, ...] = field(default=())

    def admits(self, register: str, entity_types: frozenset[str]) -> bool:
        if register in self.registers:
            return True
        return register == AREAS and bool(self.entity_types & entity_types)


def normalise_type_id(value: str) -> str:
    """A type id as given, or the key/slug inside one of the registry's URIs."""
    value = value.strip()
    if "/" in value:
        parsed = uris.parse(value)
        if parsed is not None:
            return parsed.key or parsed.register
    return value


def type_filter(values: list[str], known_entity_types: set[str]) -> TypeFilter | None:
    """The filter for the type ids given; unknown ids are ignored, and None means no
    restriction (no type given, or none known)."""
    registers: set[str] = set()
    entity_types: set[str] = set()
    ids = []
    for raw in values:
        value = normalise_type_id(raw)
        if value in REGISTER_TYPES:
            registers.add(value)
        elif value in GROUPS:
            entity_types |= GROUPS[value].entity_types
        elif value.upper() in known_entity_types:
            entity_types.add(value.upper())
        else:
            continue
        ids.append(value)
    if not ids:
        return None
    return TypeFilter(frozenset(registers), frozenset(entity_types), tuple(ids))


def groups_of(entity_type: str) -> list[Group]:
    return [group for group in GROUPS.values() if entity_type in group.entity_types]
