"""The types a reconciliation query can be restricted to.

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

from geography.entity_types import (  # noqa: F401 (the domain's kinds, as this module's types)
    GROUPS,
    LA_AREA,
    LABELS,
    LAD,
    LOWEST_PRIORITY,
    MINOR_PRIORITY,
    REGISTER_TYPES,
    WARD,
    Group,
    groups_of,
    priority,
)
from geography.registers import AREAS, COUNCILS, ENTITY_TYPES  # noqa: F401
from registry import uris


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
