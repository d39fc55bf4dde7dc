"""Small, slowly changing reference sets the API validates parameters against: the register
slugs, entity-type keys, identifier schemes and parent hierarchies that exist.

They are read from the database and kept for a minute per process, so that validating a filter
costs no query on most requests while a curator's new entity type is known within a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from registry import profiles
from registry.models import RELATION_KIND, Entry, Identifier, Relation
from registry.statistics import registers

_TTL_SECONDS = 60.0
_cache: dict[str, tuple[float, frozenset[str]]] = {}


def _cached(name: str, load: Callable[[], frozenset[str]]) -> frozenset[str]:
    now = time.monotonic()
    hit = _cache.get(name)
    if hit is None or now - hit[0] > _TTL_SECONDS:
        hit = (now, load())
        _cache[name] = hit
    return hit[1]


def clear() -> None:
    """Forget every cached set (tests that add reference data call this)."""
    _cache.clear()


def register_slugs() -> frozenset[str]:
    return frozenset(registers())


def entity_type_keys() -> frozenset[str]:
    return _cached(
        "entity_types",
        lambda: frozenset(
            Entry.objects.in_register(profiles.entity_type_register()).values_list("key", flat=True)
        ),
    )


def identifier_schemes() -> frozenset[str]:
    return _cached(
        "schemes",
        lambda: frozenset(Identifier.objects.values_list("scheme", flat=True).distinct()),
    )


def hierarchies() -> frozenset[str]:
    return _cached(
        "hierarchies",
        lambda: frozenset(
            Relation.objects.filter(kind=RELATION_KIND.PARENT)
            .values_list("hierarchy", flat=True)
            .distinct()
        ),
    )
