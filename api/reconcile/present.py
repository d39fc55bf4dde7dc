"""How entries appear in reconciliation answers: names, types as ``[{id, name}]``, and a
one-line description that tells same-named places apart ("Ward in Northumberland, 2019–").
Everything comes from the in-process index, so answering a batch needs no database query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geography.hierarchies import PLACE_HIERARCHIES, PLACE_OF

from . import types
from .index import Index, Record
from .matching import TIER_NAMES, Candidate


def type_name(index: Index, type_id: str) -> str:
    if type_id in types.GROUPS:
        return types.GROUPS[type_id].name
    if type_id in types.REGISTER_TYPES:
        return types.REGISTER_TYPES[type_id]
    for record in index.by_key(type_id):
        if record.register == types.ENTITY_TYPES:
            return record.label(dt.date.max)
    return type_id


def types_of(index: Index, record: Record, date: dt.date) -> list[dict[str, str]]:
    """The candidate's types: the groups its entity type on the date falls in, narrowest
    first, then the entity type itself. OpenRefine's type guessing weights a candidate's
    first type most, and pre-selects the type that wins: listed first, "Electoral ward or
    division (any country)" covers a UK-wide column of wards, where ``E05`` would leave every
    Welsh and Scottish ward unmatched."""
    if record.register != types.AREAS:
        return [{"id": record.register, "name": types.REGISTER_TYPES[record.register]}]
    entity_type = record.entity_type_on(date)
    if entity_type is None:
        return [{"id": types.AREAS, "name": types.REGISTER_TYPES[types.AREAS]}]
    groups = sorted(types.groups_of(entity_type), key=lambda g: len(g.entity_types))
    result = [{"id": g.id, "name": g.name} for g in groups]
    result.append({"id": entity_type, "name": type_name(index, entity_type)})
    return result


def _years(record: Record) -> str:
    operative, terminated = record.operative, record.terminated
    if operative is None:
        return ""
    return f"{operative.year}–{terminated.year if terminated else ''}"


def description(index: Index, record: Record, date: dt.date) -> str:
    """ "Ward in Northumberland, 2019–", "Non-metropolitan district in Cumbria, 2009–2023",
    "Council governing Hartlepool, 2005–"."""
    years = _years(record)
    if record.register == types.COUNCILS:
        day = record.seen_on(date)
        spans = [s for s in record.governs if s.covers(day)] or sorted(
            record.governs, key=lambda s: s.start or dt.date.min
        )[-1:]
        areas = [index.records[s.target].label(date) for s in spans if s.target in index.records]
        text = "Council" + (f" governing {', '.join(dict.fromkeys(areas))}" if areas else "")
        return f"{text}, {years}" if years else text
    if record.register == types.ENTITY_TYPES:
        return f"ONS entity type {record.key}"
    entity_type = record.entity_type_on(date) or ""
    label = types.LABELS.get(entity_type) or type_name(index, entity_type) or "Area"
    wanted = PLACE_OF.get(entity_type, PLACE_HIERARCHIES)
    ancestors = index.ancestors_on(record.pk, date)
    place = next(
        (a.label(date) for h in wanted for link, a in ancestors if link == h),
        None,
    )
    text = f"{label} in {place}" if place else label
    return f"{text}, {years}" if years else text


# The most (entry, date) pairs :func:`shown` keeps per index before starting afresh: some
# 100 bytes each plus the strings, a few MB at most per worker.
MAX_SHOWN = 50_000


def shown(index: Index, record: Record, date: dt.date) -> tuple[str, str, list[dict[str, str]]]:
    """The entry's label, description and types on ``date``, kept in the index (which is
    never changed once published, so an edit, which publishes a new one, starts afresh): a
    batch's candidates are mostly the same districts and wards again, and describing one
    walks its ancestors. The types list is shared between answers: never to be changed."""
    key = (record.pk, date)
    found = index.shown.get(key)
    if found is None:
        if len(index.shown) >= MAX_SHOWN:
            index.shown.clear()
        found = (
            record.label(date),
            description(index, record, date),
            types_of(index, record, date),
        )
        index.shown[key] = found
    return found


def features(candidate: Candidate) -> list[dict[str, Any]]:
    """Why the candidate scored as it did."""
    result = [
        {"id": "tier", "name": f"found by {TIER_NAMES[candidate.tier]}", "value": candidate.tier},
        {"id": "name_similarity", "name": "name similarity (0–100)", "value": candidate.similarity},
        {"id": "identifier", "name": "the query is its code", "value": candidate.tier == 0},
        {"id": "live_on_date", "name": "live on the date", "value": candidate.valid},
        {
            "id": "properties_confirmed",
            "name": "properties confirming it",
            "value": candidate.confirmations,
        },
        {
            "id": "properties_vetoed",
            "name": "properties against it",
            "value": len(candidate.vetoes),
        },
    ]
    # A value the service could not read (a date "2021-99-99", a parent it does not know)
    # confirms nothing and vetoes nothing, but it is said, and it blocks the auto-match.
    for pid in sorted(set(candidate.unverified)):
        result.append(
            {
                "id": f"unreadable_{pid}",
                "name": f"the value of the property {pid!r} could not be read",
                "value": True,
            }
        )
    if candidate.hint_fit is not None:
        result.append(
            {
                "id": "kind_word_fits",
                "name": "the query's authority-kind word fits",
                "value": candidate.hint_fit,
            }
        )
    if candidate.slips is not None:
        result.append(
            {
                "id": "typing_slips",
                "name": "typing slips from its nearest name (matched automatically only when "
                "a property or the type confirms it and nothing else is near)",
                "value": candidate.slips,
            }
        )
    if candidate.type_differs:
        result.append(
            {
                "id": "type_differs",
                "name": "found by its code, but not of the type asked for",
                "value": True,
            }
        )
    if candidate.via != "name":
        result.append({"id": "via", "name": f"matched on {candidate.via}", "value": True})
    return result


def candidate(index: Index, c: Candidate, date: dt.date, v1: bool = False) -> dict[str, Any]:
    """A candidate as the 0.2 (or, with ``v1``, the 1.0-draft) schema has it."""
    record = c.record
    feats = features(c)
    if not v1:
        feats = [{"id": f["id"], "value": f["value"]} for f in feats]
    name, text, kinds = shown(index, record, date)
    return {
        "id": record.key,
        "name": name,
        "description": text,
        "score": c.score,
        "match": c.match,
        "type": kinds,
        "features": feats,
    }


def suggestion(index: Index, record: Record, date: dt.date) -> dict[str, Any]:
    name, text, kinds = shown(index, record, date)
    return {"id": record.key, "name": name, "description": text, "notable": kinds}
