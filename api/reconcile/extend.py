"""Data extension: the properties OpenRefine can add as columns for reconciled entries, and
their values as at a date.

Values come from :func:`registry.documents.describe` (the one document every representation
is built from) and the reconciler's index (ancestors, identifiers), both answering by
``registry.validtime``, so a column here says what the entry's
page and the lookup API say. Entity values always carry a name; dates are ``{"date": …}`` in
the ISO form the schema asks for. Each property takes three settings, which arrive as
strings: ``date`` (the as-at date, default today), ``recorded`` (as the registry had recorded
it at that date or instant, default now: the values come from the versions then, through
``registry.recorded``) and ``limit`` (most values per cell, 0 for all).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from geography.registers import IDENTIFIER_SCHEMES
from registry import recorded as as_recorded
from registry import validtime
from registry.documents import describe
from registry.facts import Ref
from registry.models import RELATION_KIND, Entry

from .. import http
from . import types
from .index import Index
from .properties import parse_date
from .responses import BadRequest, as_number

MAX_IDS = 500
SCHEMES = IDENTIFIER_SCHEMES

AREA, COUNCIL, ENTITY_TYPE = types.AREAS, types.COUNCILS, types.ENTITY_TYPES
ALL = frozenset([AREA, COUNCIL, ENTITY_TYPE])


@dataclass(frozen=True)
class Prop:
    id: str
    name: str
    description: str
    registers: frozenset[str]
    value_type: tuple[str, str] | None = None  # for entity values: (type id, type name)


def _lad_type() -> tuple[str, str]:
    return types.LAD, types.GROUPS[types.LAD].name


PROPERTIES: list[Prop] = [
    Prop("code", "Code", "The entry's key: GSS code, council code or entity code", ALL),
    Prop("name", "Name", "English name on the date", ALL),
    Prop(
        "name_cy", "Welsh name", "Welsh name on the date, where there is one", ALL - {ENTITY_TYPE}
    ),
    Prop(
        "entity_type",
        "Entity type",
        "ONS entity type on the date",
        frozenset([AREA]),
        (ENTITY_TYPE, types.REGISTER_TYPES[ENTITY_TYPE]),
    ),
    Prop("status", "Status", "live or terminated on the date", ALL - {ENTITY_TYPE}),
    Prop("operative", "Operative date", "First day live", ALL - {ENTITY_TYPE}),
    Prop("terminated", "Terminated date", "Last day live, if it has ended", ALL - {ENTITY_TYPE}),
    Prop(
        "parent",
        "Parent",
        "The nearest area it lay within on the date",
        frozenset([AREA]),
        (AREA, types.REGISTER_TYPES[AREA]),
    ),
    Prop(
        "parent-district",
        "Local authority district",
        "The district it lay within on the date",
        frozenset([AREA]),
        _lad_type(),
    ),
    Prop(
        "parent-county",
        "County",
        "The county it lay within on the date",
        frozenset([AREA]),
        ("county", types.GROUPS["county"].name),
    ),
    Prop(
        "parent-region",
        "Region",
        "The English region on the date",
        frozenset([AREA]),
        ("E12", "Regions"),
    ),
    Prop(
        "parent-country",
        "Country",
        "The country on the date",
        frozenset([AREA]),
        ("country", types.GROUPS["country"].name),
    ),
    Prop(
        "parent-combined-authority",
        "Combined authority",
        "The combined authority on the date",
        frozenset([AREA]),
        ("E47", "Combined Authorities"),
    ),
    Prop(
        "parent-msoa",
        "MSOA",
        "The middle layer super output area of an LSOA",
        frozenset([AREA]),
        ("msoa", types.GROUPS["msoa"].name),
    ),
    Prop(
        "parent-intermediate-zone",
        "Intermediate zone",
        "The intermediate zone (Scotland) of a data zone",
        frozenset([AREA]),
        ("intermediate-zone", types.GROUPS["intermediate-zone"].name),
    ),
    Prop(
        "parent-super-data-zone",
        "Super data zone",
        "The super data zone (Northern Ireland) of a data zone",
        frozenset([AREA]),
        ("intermediate-zone", types.GROUPS["intermediate-zone"].name),
    ),
    Prop(
        "parent-icb",
        "Integrated care board",
        "The integrated care board of a sub-ICB location",
        frozenset([AREA]),
        ("icb", types.GROUPS["icb"].name),
    ),
    Prop(
        "parent-nhs-region",
        "NHS region",
        "The NHS England region of an integrated care board",
        frozenset([AREA]),
        ("nhs-region", types.GROUPS["nhs-region"].name),
    ),
    Prop(
        "current",
        "Current code(s)",
        "The live entries on the date that this code leads to (itself if live)",
        frozenset([AREA]),
        (AREA, types.REGISTER_TYPES[AREA]),
    ),
    Prop(
        "successors",
        "Successors",
        "The codes that directly replaced it",
        frozenset([AREA]),
        (AREA, types.REGISTER_TYPES[AREA]),
    ),
    Prop(
        "predecessors",
        "Predecessors",
        "The codes it directly replaced",
        frozenset([AREA]),
        (AREA, types.REGISTER_TYPES[AREA]),
    ),
    Prop(
        "governed_by",
        "Governing council",
        "The council governing the area on the date",
        frozenset([AREA]),
        (COUNCIL, types.REGISTER_TYPES[COUNCIL]),
    ),
    Prop(
        "governs",
        "Areas governed",
        "The areas the council governed on the date",
        frozenset([COUNCIL]),
        (AREA, types.REGISTER_TYPES[AREA]),
    ),
    Prop("uri", "URI", "The persistent URI of the entry", ALL),
    *(
        Prop(
            f"identifier-{scheme}", name, f"Identifier in the {scheme} scheme", ALL - {ENTITY_TYPE}
        )
        for scheme, name in SCHEMES.items()
    ),
]
BY_ID = {prop.id: prop for prop in PROPERTIES}
# The properties that hold only while an entry is live: with a ``date`` setting outside its
# lifetime they answer nothing. (With no date, a terminated entry answers as last live, so a
# column of old codes can still be given their names.)
AS_AT = frozenset(
    {"name", "name_cy", "entity_type", "parent", "governed_by", "governs"}
    | {p.id for p in PROPERTIES if p.id.startswith(("parent-", "identifier-"))}
)

PROPERTY_SETTINGS = [
    {
        "name": "date",
        "label": "As at date (YYYY-MM-DD; empty for today)",
        "type": "text",
        "default": "",
        "help_text": "Values are those that held on this day",
    },
    {
        "name": "recorded",
        "label": "As recorded on (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; empty for now)",
        "type": "text",
        "default": "",
        "help_text": "Values are those the registry had recorded by then",
    },
    {
        "name": "limit",
        "label": "Maximum number of values (0 for all)",
        "type": "number",
        "default": 0,
        "help_text": "For properties with several values, such as successors",
    },
]


def registers_for(type_id: str) -> frozenset[str]:
    """Which registers a type's entries belong to (every register for no type)."""
    value = types.normalise_type_id(type_id or "")
    if not value:
        return ALL
    if value in types.REGISTER_TYPES:
        return frozenset([value])
    return frozenset([AREA])


def propose(type_id: str, limit: int | None = None) -> list[dict[str, str]]:
    wanted = registers_for(type_id)
    props = [p for p in PROPERTIES if p.registers & wanted]
    if limit:
        props = props[:limit]
    return [{"id": p.id, "name": p.name, "description": p.description} for p in props]


def suggest(prefix: str) -> list[Prop]:
    prefix = prefix.strip().lower()
    return [p for p in PROPERTIES if not prefix or prefix in p.id or prefix in p.name.lower()]


def meta(prop_ids: list[str]) -> list[dict[str, Any]]:
    result = []
    for pid in prop_ids:
        prop = BY_ID.get(pid)
        if prop is None:
            result.append({"id": pid, "name": f"{pid} (unknown property)"})
            continue
        item: dict[str, Any] = {"id": prop.id, "name": prop.name}
        if prop.value_type:
            item["type"] = {"id": prop.value_type[0], "name": prop.value_type[1]}
        result.append(item)
    return result


# --------------------------------------------------------------------------- requests


@dataclass
class Request:
    ids: list[str]
    # (id, date, limit, recorded): recorded is None for the registry as it stands
    properties: list[tuple[str, dt.date | None, int, dt.datetime | None]]


def parse(data: Any) -> Request:
    """A data extension query (``{"ids": [...], "properties": [{"id", "settings"}]}``)."""
    if not isinstance(data, dict):
        raise BadRequest("extend must be a JSON object with ids and properties")
    ids, props = data.get("ids"), data.get("properties")
    if not isinstance(ids, list) or not all(isinstance(i, str | int) for i in ids):
        raise BadRequest("extend.ids must be a list of entity ids")
    if not isinstance(props, list):
        raise BadRequest("extend.properties must be a list of {id, settings}")
    if len(ids) > MAX_IDS:
        raise BadRequest(f"at most {MAX_IDS} ids per extend request", 413)
    parsed = []
    for item in props:
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            raise BadRequest("each extend property needs a string id")
        settings = item.get("settings") or {}
        if not isinstance(settings, dict):
            raise BadRequest("property settings must be an object")
        date = None
        raw_date = settings.get("date")
        if raw_date not in (None, ""):
            date = parse_date(raw_date)
            if date is None:
                raise BadRequest(f"setting date {str(raw_date)[:50]!r} is not a date (YYYY-MM-DD)")
        limit = as_number(settings.get("limit") or 0)
        if limit is None:
            raise BadRequest(f"setting limit {str(settings.get('limit'))[:50]!r} is not a number")
        parsed.append((item["id"], date, max(0, limit), _recorded(settings.get("recorded"))))
    return Request([str(i) for i in ids], parsed)


def _recorded(value: Any) -> dt.datetime | None:
    """The ``recorded`` setting: empty for now, else a date or an instant as ``?recorded=``
    takes them (``api.http.parse_instant``)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest(f"setting recorded must be text, not {type(value).__name__}")
    try:
        return http.parse_instant(value)
    except http.BadDate as error:
        raise BadRequest(f"setting recorded {error.reason}") from None


def _entity(link: dict[str, Any]) -> dict[str, str]:
    return {"id": link["key"], "name": link.get("name") or link["key"]}


def _date(value: str | None) -> list[dict[str, str]]:
    return [{"date": f"{value}T00:00:00Z"}] if value else []


class Extender:
    """Values per (entry, property, date), describing each entry once per date."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._docs: dict[tuple[int, dt.date, dt.datetime | None], dict[str, Any] | None] = {}
        self._entries: dict[int, Entry] = {}
        self._readings: dict[dt.datetime, as_recorded.Recorded] = {}

    def reading(self, at: dt.datetime) -> as_recorded.Recorded:
        if at not in self._readings:
            self._readings[at] = as_recorded.Recorded(at)
        return self._readings[at]

    def entry(self, ident: str) -> Entry | None:
        record = self.index.resolve(ident)
        if record is None:
            return None
        if record.pk not in self._entries:
            self._entries[record.pk] = Entry.objects.select_related("register").get(pk=record.pk)
        return self._entries[record.pk]

    def document(
        self, entry: Entry, date: dt.date, at: dt.datetime | None = None
    ) -> dict[str, Any] | None:
        """The entry's document as at ``date`` (as recorded at ``at``, if given; None if it
        had not been recorded by then), with its ancestors on the day."""
        key = (entry.pk, date, at)
        if key not in self._docs:
            if at is None:
                doc = describe(entry, date).as_dict()
                doc["_ancestors"] = [
                    (hierarchy, {"key": a.key, "name": a.label(date)})
                    for hierarchy, a in self.index.ancestors_on(entry.pk, date)
                ]
            else:
                doc = self._recorded_document(entry, date, at)
            self._docs[key] = doc
        return self._docs[key]

    def _recorded_document(
        self, entry: Entry, date: dt.date, at: dt.datetime
    ) -> dict[str, Any] | None:
        reading = self.reading(at)
        try:
            document = as_recorded.describe(entry, date, at)
        except as_recorded.NotRecorded:
            return None
        doc = document.as_dict()

        day = document.state.seen_on  # as the index's ancestors_on: one day for the chain

        def parents_of(nodes: list[Ref]) -> dict[Ref, list[tuple[str, Ref]]]:
            found = reading.rows(nodes)
            return {
                node: [
                    (r.hierarchy, r.target)
                    for r in validtime.in_force(rows.relations, day)
                    if r.kind == RELATION_KIND.PARENT and r.target.pk in reading.rows([r.target])
                ]
                for node in nodes
                if (rows := found.get(node.pk)) is not None
            }

        ancestors = validtime.ancestors(document.rows.ref, parents_of)
        labels = reading.labels([a for _, a in ancestors], date)
        doc["_ancestors"] = [
            (hierarchy, {"key": a.key, "name": labels.get(a.pk, a.key)})
            for hierarchy, a in ancestors
        ]
        doc["_lifetime"] = document.state.lifetime
        doc["_identifiers"] = document.rows.identifiers
        return doc

    def values(
        self,
        entry: Entry,
        pid: str,
        date: dt.date,
        explicit: bool = False,
        at: dt.datetime | None = None,
    ) -> list[dict[str, Any]]:
        prop = BY_ID.get(pid)
        if prop is None or entry.register.slug not in prop.registers:
            return []
        doc = self.document(entry, date, at) if at is not None else None
        if at is not None and doc is None:
            return []  # not yet recorded then: the registry said nothing of it
        if explicit and pid in AS_AT and not self._live(entry, date, doc):
            # Asked for a day outside the entry's lifetime, it had no name, parent or type
            # then: nothing, rather than the name it bore before or after.
            return []
        doc = doc or self.document(entry, date)
        if pid == "code":
            return [{"str": doc["key"]}]
        if pid == "name":
            return [{"str": doc["name"]}] if doc["name"] else []
        if pid == "name_cy":
            return [{"str": doc["name_cy"]}] if doc["name_cy"] else []
        if pid == "entity_type":
            kind = doc["entity_type"]
            return [{"id": kind["key"], "name": kind["name"]}] if kind else []
        if pid == "status":
            return [{"str": doc["status"]}] if doc["status"] else []
        if pid in ("operative", "terminated"):
            return _date(doc[pid])
        if pid == "uri":
            return [{"str": doc["uri"]}]
        if pid == "parent":
            return [_entity(a) for _, a in doc["_ancestors"][:1]]
        if pid.startswith("parent-"):
            hierarchy = pid.removeprefix("parent-")
            return [_entity(a) for h, a in doc["_ancestors"] if h == hierarchy][:1]
        if pid == "current":
            if doc["status"] == "live":
                return [{"id": doc["key"], "name": doc["name"]}]
            return [_entity(link) for link in doc["current"]]
        if pid in ("successors", "predecessors", "governed_by", "governs"):
            return [_entity(link) for link in doc[pid]]
        if pid.startswith("identifier-"):
            if "_identifiers" in doc:
                rows, life = doc["_identifiers"], doc["_lifetime"]
            else:
                record = self.index.records[entry.pk]
                rows, life = record.identifiers, record.lifetime
            values = validtime.identifiers_for(rows, life, date, pid.removeprefix("identifier-"))
            return [{"str": value} for value in values]
        return []

    def _live(self, entry: Entry, date: dt.date, doc: dict[str, Any] | None = None) -> bool:
        if entry.register.slug == ENTITY_TYPE:
            return True
        if doc is not None and "_lifetime" in doc:
            return doc["_lifetime"].contains(date)
        record = self.index.records.get(entry.pk)
        if record is None:
            return True
        return record.live_on(date)

    def rows(self, request: Request, today: dt.date) -> dict[str, dict[str, list[Any]]]:
        rows: dict[str, dict[str, list[Any]]] = {}
        for ident in request.ids:
            entry = self.entry(ident)
            row: dict[str, list[Any]] = {}
            for pid, date, limit, at in request.properties:
                values = (
                    self.values(entry, pid, date or today, explicit=date is not None, at=at)
                    if entry is not None
                    else []
                )
                row[pid] = values[:limit] if limit else values
            rows[ident] = row
        return rows
