"""Suggest services: entities by name prefix or code, types, and properties, with cursor
paging. OpenRefine 3.8+ maps a column to a custom type or a property only through these, and
shows "view more" only when an answer carries a top-level ``cursor``."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from registry.models import LANGUAGE, NAME_KIND, Entry, Name, State
from registry.text import fold

from . import extend, present, types
from .index import Index, Record
from .properties import QUERY_PROPERTIES

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
# How many prefix hits are ranked at most (a one-letter prefix matches tens of thousands).
MAX_SCAN = 5000


def page(items: list[Any], cursor: int, limit: int) -> tuple[list[Any], int | None]:
    """One page of ``items`` from ``cursor``, and the next cursor when more remain."""
    chunk = items[cursor : cursor + limit]
    more = cursor + limit < len(items)
    return chunk, (cursor + limit if more else None)


def entities(
    index: Index,
    prefix: str,
    type_filter: types.TypeFilter | None,
    date: dt.date,
    cursor: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int | None]:
    """Entries whose code starts with, or one of whose name words starts, ``prefix``: the
    exact code first; then authorities, regions, countries and councils, before the smaller
    and other kinds (wards, output areas, parishes…); within each, exact names before
    prefixes, then by kind (districts before wards), live before ended, and by name. So
    "Hart" offers Hart and its council, then Hartlepool, before the wards called Hart: with
    every CHD code, small areas bearing a name would otherwise fill a page before the
    authority whose name it begins."""
    text = prefix.strip()
    if not text:
        return [], None
    folded = fold(text)
    code = text.upper()
    hits: dict[int, int] = {}  # pk -> how it was found (0 code, 1 exact name, 2 prefix)
    for record in index.by_key(code):
        hits[record.pk] = 0
    if len(code) >= 2 and any(c.isdigit() for c in code):
        for pk in itertools.islice(index.with_key_prefix(code), MAX_SCAN):
            hits.setdefault(pk, 2)
    if folded:
        for pk in index.get("form", folded):
            hits.setdefault(pk, 1)
        for pk in itertools.islice(index.with_prefix(folded), MAX_SCAN):
            hits.setdefault(pk, 2)

    def admitted(record: Record) -> bool:
        return type_filter is None or type_filter.admits(record.register, record.entity_types)

    records = [index.records[pk] for pk in hits if admitted(index.records[pk])]

    def order(record: Record) -> tuple:
        rank = types.priority(record.register, record.entity_type_on(date))
        how = hits[record.pk]
        major = rank < types.MINOR_PRIORITY
        return (how != 0, not major, how, rank, not record.live_on(date), record.label(date),
                record.key)  # fmt: skip

    records.sort(key=order)
    chunk, next_cursor = page(records, cursor, limit)
    return [present.suggestion(index, r, date) for r in chunk], next_cursor


def type_catalogue(index: Index | None) -> list[dict[str, Any]]:
    """Every type a query may use: the broader groups, the registers, then each entity type
    (read from the database when the index is not built yet)."""
    result = []
    for group in types.GROUPS.values():
        item: dict[str, Any] = {
            "id": group.id,
            "name": group.name,
            "description": group.description,
        }
        if group.broader:
            item["broader"] = [
                {"id": b, "name": present.type_name(index, b)} for b in group.broader
            ]
        result.append(item)
    for slug, name in types.REGISTER_TYPES.items():
        result.append({"id": slug, "name": name})
    for key, name in _entity_types(index):
        item = {"id": key, "name": name, "description": f"ONS entity type {key}"}
        broader = [{"id": g.id, "name": g.name} for g in types.groups_of(key)]
        item["broader"] = broader or [
            {"id": types.AREAS, "name": types.REGISTER_TYPES[types.AREAS]}
        ]
        result.append(item)
    return result


def _entity_types(index: Index | None) -> list[tuple[str, str]]:
    """(code, name) of every entity type, by code."""
    if index is not None:
        records = [r for r in index.records.values() if r.register == types.ENTITY_TYPES]
        return sorted((r.key, r.label(dt.date.max)) for r in records)
    names = dict(
        Name.objects.filter(
            entry__register__slug=types.ENTITY_TYPES,
            language=LANGUAGE.ENGLISH,
            kind=NAME_KIND.OFFICIAL,
        ).values_list("entry__key", "text")
    )
    keys = Entry.objects.in_register(types.ENTITY_TYPES).values_list("key", flat=True)
    return sorted((key, names.get(key, key)) for key in keys)


def _used_entity_types(index: Index | None) -> set[str]:
    if index is not None:
        used: set[str] = set()
        for record in index.records.values():
            used |= record.entity_types
        return used
    return set(
        State.objects.filter(entity_type__isnull=False)
        .values_list("entity_type__key", flat=True)
        .distinct()
    )


def default_types(index: Index | None) -> list[dict[str, Any]]:
    """The manifest's ``defaultTypes``: the groups, the registers and every entity type that
    has entries, each once."""
    used = _used_entity_types(index)
    keep = set(types.GROUPS) | set(types.REGISTER_TYPES) | used
    return [{"id": t["id"], "name": t["name"]} for t in type_catalogue(index) if t["id"] in keep]


def types_matching(
    index: Index, prefix: str, cursor: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    wanted = fold(prefix)
    items = [
        t
        for t in type_catalogue(index)
        if not wanted or wanted in fold(t["name"]) or t["id"].lower().startswith(prefix.lower())
    ]
    return page(items, cursor, limit)


def properties_matching(prefix: str, cursor: int, limit: int) -> tuple[list[dict], int | None]:
    """Properties usable in queries first, then the data extension properties."""
    wanted = prefix.strip().lower()
    seen = set()
    items = []
    for prop in QUERY_PROPERTIES:
        if not wanted or wanted in prop["id"] or wanted in prop["name"].lower():
            items.append(dict(prop))
            seen.add(prop["id"])
    for prop in extend.suggest(wanted):
        if prop.id not in seen:
            items.append({"id": prop.id, "name": prop.name, "description": prop.description})
    return page(items, cursor, limit)
