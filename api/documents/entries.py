"""The entry document: everything about one entry as at a date, and the page that shows it
(breadcrumb, children by type, timeline)."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from geography.hierarchies import BESIDE_BREADCRUMB, BREADCRUMB_ORDER, hierarchy_label
from geography.registers import ENTITY_TYPES
from registry import exports, facts, profiles, rdf, recorded, validtime
from registry.documents import Link, describe, labeller
from registry.models import EVENT_KIND, RELATION_KIND, STATUS, Entry, Relation, State, covering
from registry.validtime import today

from ..i18n import type_label
from ..renderers import Representation
from .base import DocumentView, as_at_query, format_links, page_number
from .errors import error_response
from .resolution import find_entry

CHILDREN_PAGE = 50


def same_as(register: str, key: str) -> str | None:
    """Another publisher's URI for the same thing, if the register's profile names one."""
    found = profiles.profile(register).same_as
    return found(key) if found else None


# "English official name became …": one whole sentence per language and kind, as Welsh
# words change with them ("enw swyddogol Cymraeg").
NAME_BECAME = {
    ("en", "official"): gettext_noop("English official name became “%(name)s”"),
    ("en", "display"): gettext_noop("English display name became “%(name)s”"),
    ("en", "alternative"): gettext_noop("English alternative name became “%(name)s”"),
    ("cy", "official"): gettext_noop("Welsh official name became “%(name)s”"),
    ("cy", "display"): gettext_noop("Welsh display name became “%(name)s”"),
    ("cy", "alternative"): gettext_noop("Welsh alternative name became “%(name)s”"),
}


def name_became(language: str, kind: str, text: str) -> str:
    """A timeline line saying that a name began, in the page's language."""
    found = NAME_BECAME.get((language, kind))
    if found is None:
        language_name = "Welsh" if language == "cy" else "English"
        return f"{language_name} {kind} name became “{text}”"
    return gettext(found) % {"name": text}


class EntryRepresentation(Representation):
    template_name = "api/entry.html"

    def __init__(
        self,
        request,
        entry: Entry | int,
        date: dt.date,
        explicit: bool,
        at: dt.datetime | None = None,
    ):
        self.request = request
        self.asked = entry
        self.date = date
        self.explicit = explicit
        # Record time: None for the registry as it stands; else the instant the document is
        # as recorded at, built from the versions alone (registry.recorded).
        self.at = at

    @cached_property
    def doc(self):
        if self.at is not None:
            # Record time has its own path, from the versions alone.
            return recorded.describe(self.loaded, self.date, self.at)
        return describe(self.asked, self.date)

    @cached_property
    def loaded(self) -> Entry:
        """The entry asked for, as a model instance (read once, if a key was given)."""
        if isinstance(self.asked, Entry):
            return self.asked
        return Entry.objects.select_related("register").get(pk=self.asked)

    @property
    def entry(self) -> Entry:
        return self.loaded if self.at is not None else self.doc.entry

    def record(self) -> dict[str, Any] | None:
        """Which record an answer as recorded shows: the instant asked about, and the
        entry's version then (its number and when it was recorded)."""
        if self.at is None:
            return None
        version = recorded.Recorded(self.at).versions([self.entry.pk])[self.entry.pk]
        return {
            "recorded": self.at.isoformat(),
            "version": version.number,
            "version_recorded_at": version.recorded_at.isoformat(),
        }

    @property
    def seen_on(self) -> dt.date:
        return self.doc.state.seen_on

    def as_json(self):
        data = self.doc.as_dict()
        record = self.record()
        if record is not None:
            data["recorded"] = record
        return data

    def as_graph(self):
        graph = rdf.entry_graph(self.doc, explicit_date=self.explicit)
        if self.at is None:
            # GeoSPARQL: the boundary on the day (api/geo.py). Boundaries are not versioned,
            # so an answer as recorded (from the versions alone) carries none, nor a map.
            from ..geo import add_geometry

            add_geometry(graph, self.entry, self.seen_on)
        return graph

    def as_rows(self):
        return exports.CSV_HEADER, [exports.csv_row(self.doc.facts)]

    def breadcrumb(self) -> list[Link]:
        """The chain of parents up to the top, following at each step the nearest kind of
        parent (a ward's district before its county, a county before its region), as the
        entry is described on its date."""
        day = self.seen_on
        if self.at is not None:
            reading = recorded.Recorded(self.at)

            def parents_then(node: facts.Ref) -> dict[str, facts.Ref]:
                rows = reading.rows([node]).get(node.pk)
                if rows is None:
                    return {}
                return {
                    h: ref
                    for h, ref in rows.as_at(day).parents.items()
                    if h not in BESIDE_BREADCRUMB
                }

            chain = validtime.chain(self.doc.rows.ref, parents_then, BREADCRUMB_ORDER)
            link = labeller(reading.labels(chain, self.date))
            return [link(ref) for ref in reversed(chain)]

        # Every parent on the way up in one query, not one per step.
        up = facts.ancestors(self.doc.rows.ref.pk, day)

        def parents_of(node: facts.Ref) -> dict[str, facts.Ref]:
            return {h: p for h, p in up.get(node.pk, {}).items() if h not in BESIDE_BREADCRUMB}

        chain = validtime.chain(self.doc.rows.ref, parents_of, BREADCRUMB_ORDER)
        link = labeller(facts.labels(chain, self.date))
        return [link(ref) for ref in reversed(chain)]

    def children(self) -> dict[str, Any]:
        """Entries directly within this one on the day it is described on (its last day, for
        a terminated area), counted by entity type, with one page of the chosen type: those
        still live on the page's date first, then the former ones, each named as on that
        day."""
        day = self.seen_on
        if self.at is not None:
            # Listed for the current record only: the children of a past record would mean
            # reading the snapshot of every entry that was ever within this one.
            return {"groups": [], "total": 0, "on": day, "not_recorded": True}
        within = Relation.objects.filter(
            covering(day), kind=RELATION_KIND.PARENT, object=self.entry
        ).values("subject_id")
        counts = list(
            State.objects.filter(covering(day), entry_id__in=within)
            .values("entity_type__key", "entity_type_id")
            .annotate(n=Count("id"))
            .order_by("entity_type__key")
        )
        if not counts:
            return {"groups": [], "total": 0, "on": day}
        type_names = facts.labels([row["entity_type_id"] for row in counts], today())
        groups = [
            {
                "type": row["entity_type__key"],
                "name": type_label(row["entity_type__key"], type_names.get(row["entity_type_id"])),
                "count": row["n"],
            }
            for row in counts
        ]
        chosen = self.request.GET.get("children")
        group = next((g for g in groups if g["type"] == chosen), groups[0])
        page = page_number(self.request.GET.get("page"))
        pages = max(1, -(-group["count"] // CHILDREN_PAGE))
        page = min(page, pages)
        members = State.objects.filter(
            covering(day), entry_id__in=within, entity_type__key=group["type"]
        ).values("entry_id")
        live = set(
            State.objects.filter(
                covering(self.date), entry_id__in=members, status=STATUS.LIVE
            ).values_list("entry_id", flat=True)
        )
        ordered = sorted(
            Entry.objects.filter(pk__in=members).values_list("pk", "key"),
            key=lambda row: (row[0] not in live, row[1]),
        )
        shown = ordered[(page - 1) * CHILDREN_PAGE : page * CHILDREN_PAGE]
        labels = facts.labels([pk for pk, _ in shown], day)
        slug = self.entry.register.slug
        links = [(pk in live, Link(slug, key, labels.get(pk, key))) for pk, key in shown]
        return {
            "groups": groups,
            "group": group,
            "on": day,
            "live": [link for is_live, link in links if is_live],
            "former": [link for is_live, link in links if not is_live],
            "live_count": len([pk for pk, _ in ordered if pk in live]),
            "former_count": len([pk for pk, _ in ordered if pk not in live]),
            "page": page,
            "pages": pages,
            "total": sum(g["count"] for g in groups),
        }

    def timeline(self) -> list[dict[str, Any]]:
        doc = self.doc
        life = doc.state.lifetime
        items: list[dict[str, Any]] = []
        if life.operative:
            items.append(
                {"date": life.operative, "what": gettext("Operative: the code came into use")}
            )
        for name in doc.rows.names:
            if name.start and life.operative and name.start > life.operative:
                items.append(
                    {"date": name.start, "what": name_became(name.language, name.kind, name.text)}
                )
        for event in doc.events:
            items.append(
                {"date": event.date, "event": event, "kind_label": EVENT_KIND(event.kind).label}
            )
        if life.terminated:
            items.append({"date": life.terminated, "what": gettext("Terminated: last day in use")})
        return sorted(items, key=lambda item: (item["date"], "event" in item))

    def entity_members(self) -> dict[str, Any] | None:
        if self.entry.register.slug != ENTITY_TYPES or self.at is not None:
            return None
        states = State.objects.filter(covering(self.date), entity_type=self.entry)
        return {
            "live": states.filter(status=STATUS.LIVE).count(),
            "terminated": states.filter(status=STATUS.TERMINATED).count(),
        }

    def context(self):
        doc = self.doc
        path = f"/doc/{doc.register}/{doc.key}"
        data = doc.as_dict()
        return {
            "doc": doc,
            "data": data,
            "register": self.entry.register,
            "date": self.date,
            "explicit": self.explicit,
            "today": today(),
            "seen_on": self.seen_on,
            "breadcrumb": self.breadcrumb(),
            "parents": [(gettext(hierarchy_label(h)), link) for h, link in doc.parents.items()],
            "combined": [link for h, link in sorted(doc.parents.items()) if h in BESIDE_BREADCRUMB],
            "children": self.children(),
            "timeline": self.timeline(),
            "entity_members": self.entity_members(),
            "formats": format_links(path, self.request),
            "path": path,
            "same_as": same_as(doc.register, doc.key),
            "record": self.record(),
            "current_record": _without_recorded(path, self.request),
            "as_at_query": urlencode(as_at_query(self.request)),
            "type_label": type_label(
                data["entity_type"]["key"] if data.get("entity_type") else None,
                data["entity_type"]["name"] if data.get("entity_type") else None,
            ),
        }


def _without_recorded(path: str, request) -> str:
    """This page as the registry stands now, at the same date."""
    kept = {k: v for k, v in as_at_query(request).items() if k != "recorded"}
    return f"{path}?{urlencode(kept)}" if kept else path


class EntryView(DocumentView):
    """``/doc/{register}/{key}[.fmt]``: everything about one entry as at a date."""

    answers_recorded = True

    def target(self, request, date, register=None, key=None):
        suffix = f".{self.format_kwarg}" if self.format_kwarg else ""
        found = find_entry(request, register, key, suffix)
        if found.response is not None:
            return found.response
        if self.recorded is not None:
            versions = recorded.Recorded(self.recorded).versions([found.entry.pk])
            if found.entry.pk not in versions:
                return not_recorded_response(request, found.entry, self.recorded)
        return found.entry

    def version_of(self, entry):
        return entry.version

    def boundaries_of(self, entry):
        # A page as recorded draws no map and its RDF carries no shape.
        # (Read with the entry, api.http.find_entry, as api.early reads it.)
        return entry.boundaries if self.recorded is None else None

    def thing_uri(self, entry):
        return rdf.entry_uri(entry.register.slug, entry.key)

    def represent(self, request, entry, date, explicit):
        return EntryRepresentation(request, entry.pk, date, explicit, self.recorded)


def not_recorded_message(key: str, at: dt.datetime, first: dt.datetime | None) -> str:
    """Why an entry has no record at ``at``: said the same way by documents and the API."""
    if first is None:
        return _("%(key)s has no recorded version.") % {"key": key}
    return _(
        "%(key)s was not yet recorded at %(at)s: the registry first recorded it at %(first)s."
    ) % {"key": key, "at": at.isoformat(), "first": first.isoformat()}


def not_recorded_response(request, entry, at: dt.datetime):
    first = recorded.first_recorded(entry.pk)
    return error_response(
        request,
        404,
        not_recorded_message(entry.key, at, first),
        first_recorded=first.isoformat() if first else None,
    )
