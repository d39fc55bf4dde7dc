"""Listings: a register's entries as at a date, a page at a time, and what every listing's
representation shares."""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext
from rest_framework import exceptions

from geography.registers import AREAS, ENTITY_TYPES
from registry import facts, rdf, recorded
from registry.documents import welsh_labels
from registry.models import Entry, State, Version, covering
from registry.statistics import registers
from registry.uris import EVENTS, base
from registry.validtime import today

from ..filters import RegisterListingFilter, filtered
from ..i18n import type_label
from ..renderers import Representation
from .base import DocumentView, date_query, format_links, page_number
from .errors import error_response

LISTING_PAGE = 100


class Paged(NamedTuple):
    """One page of an ordered listing: its members, how many there are in all, which page
    this is and how many pages there are."""

    members: list
    total: int
    page: int
    pages: int


def one_page(queryset, value: str | None) -> Paged:
    """The listing page ``value`` asks for of an ordered ``queryset``; 404 past the last
    page."""
    page = page_number(value)
    total = queryset.count()
    pages = max(1, -(-total // LISTING_PAGE))
    if page > pages:
        raise exceptions.NotFound(gettext("There are only %(pages)s pages.") % {"pages": pages})
    members = list(queryset[(page - 1) * LISTING_PAGE : page * LISTING_PAGE])
    return Paged(members, total, page, pages)


def recorded_by(entries, at):
    """The entries of ``entries`` that had been recorded by ``at`` (a version at or before
    it). A listing as recorded chooses its members by the current record (its filters read
    the present tables) and shows each as recorded (``registry.recorded.summarise``)."""
    return entries.filter(
        Exists(Version.objects.filter(entry_id=OuterRef("pk"), recorded_at__lte=at))
    )


class ListingRepresentation(Representation):
    """A page of a listing: items (dicts with at least key and name), paging and filters."""

    def __init__(self, request, *, title, register, items, paged: Paged, filters, date, path,
                 csv_header, csv_row, template_name, extra=None):  # fmt: skip
        self.request = request
        self.title = title
        self.register = register
        self.items = items
        self.total, self.page, self.pages = paged.total, paged.page, paged.pages
        self.filters = filters
        self.date = date
        self.path = path
        self.csv_header = csv_header
        self.csv_row = csv_row
        self.template_name = template_name
        self.extra = extra or {}

    def _page_url(self, page: int, fmt: str = "") -> str:
        query = {k: v for k, v in self.request.GET.items() if k not in {"page", "format"}}
        if page > 1:
            query["page"] = str(page)
        suffix = f".{fmt}" if fmt else ""
        return f"{self.path}{suffix}" + (f"?{urlencode(query)}" if query else "")

    def as_json(self):
        fmt = (
            self.request.accepted_renderer.format
            if hasattr(self.request, "accepted_renderer")
            else ""
        )
        fmt = fmt if fmt != "html" else ""
        return {
            "title": self.title,
            "date": self.date.isoformat(),
            "filters": self.filters,
            "count": self.total,
            "page": self.page,
            "pages": self.pages,
            "next": self._page_url(self.page + 1, fmt) if self.page < self.pages else None,
            "previous": self._page_url(self.page - 1, fmt) if self.page > 1 else None,
            "items": self.items,
            **(
                {"recorded": self.extra["recorded"].isoformat()}
                if self.extra.get("recorded")
                else {}
            ),
        }

    def as_graph(self):
        if self.register == EVENTS:
            graph = rdf.bind_prefixes(rdf.Graph())
            for item in self.items:
                for triple in rdf.event_triples(item["summary"]):
                    graph.add(triple)
            return graph
        return rdf.listing_graph(
            self.register, self.title, self.items, f"{base()}{self._page_url(self.page)}"
        )

    def as_rows(self):
        return self.csv_header, [self.csv_row(item) for item in self.items]

    def context(self):
        return {
            "title": self.title,
            "register": self.register,
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "pages": self.pages,
            "filters": self.filters,
            "date": self.date,
            "next": self._page_url(self.page + 1) if self.page < self.pages else None,
            "previous": self._page_url(self.page - 1) if self.page > 1 else None,
            "formats": [
                {**f, "url": self._page_url(self.page, f["format"])}
                for f in format_links(self.path, self.request)
            ],
            "current_record": self._current_record(),
            **self.extra,
        }

    def _current_record(self) -> str:
        """This listing page as the registry stands now."""
        query = {k: v for k, v in self.request.GET.items() if k not in {"recorded", "format"}}
        return f"{self.path}" + (f"?{urlencode(query)}" if query else "")


LISTING_CSV_HEADER = ["key", "uri", "name", "status", "entity_type"]


class RegisterView(DocumentView):
    """``/doc/{register}[.fmt]``: a register's entries as at a date, filtered by entity
    type, status and parent, a page at a time."""

    answers_recorded = True

    def target(self, request, date, register=None):
        found = registers().get(register)
        if found is None:
            return error_response(
                request,
                404,
                gettext("There is no register called %(register)s.") % {"register": repr(register)},
            )
        return found

    def represent(self, request, register, date, explicit):
        chosen = RegisterListingFilter(
            date_query(request.GET),
            queryset=Entry.objects.filter(register=register),
            request=request,
        )
        entries = filtered(chosen)
        if self.recorded is not None:
            entries = recorded_by(entries, self.recorded)
        paged = one_page(entries.order_by("key"), request.GET.get("page"))
        members = paged.members
        if self.recorded is None:
            labels = facts.labels([e.pk for e in members], date)
            states = {
                entry_id: (status, entity_type)
                for entry_id, status, entity_type in State.objects.filter(
                    covering(date), entry__in=members
                ).values_list("entry_id", "status", "entity_type__key")
            }
        else:
            then = recorded.summarise(members, date, self.recorded, parents=False)
            labels = {pk: summary["name"] for pk, summary in then.items()}
            states = {
                pk: (summary["status"], (summary["entity_type"] or {}).get("key"))
                for pk, summary in then.items()
            }
        items = [
            {
                "key": e.key,
                "uri": rdf.entry_uri(register.slug, e.key),
                "name": labels.get(e.pk, e.key),
                "status": states.get(e.pk, (None, None))[0],
                "entity_type": states.get(e.pk, (None, None))[1],
            }
            for e in members
        ]
        type_choices, names_of_types = [], {}
        if register.slug == AREAS:
            types = list(Entry.objects.filter(register__slug=ENTITY_TYPES).order_by("key"))
            type_names = facts.labels([t.pk for t in types], today())
            names_of_types = {t.key: type_names.get(t.pk) for t in types}
            # Entity types by name with the code beside them, in the filter as in the table.
            type_choices = [(key, type_label(key, name)) for key, name in names_of_types.items()]
        for item in items:
            if item["entity_type"]:
                item["entity_type_name"] = names_of_types.get(item["entity_type"])
        # A Welsh page names entries in Welsh where they have a Welsh name.
        welsh = welsh_labels([e.pk for e in members], date) or {}
        shown_types = dict(type_choices)
        rows = [
            (item, welsh.get(e.pk), shown_types.get(item["entity_type"]))
            for item, e in zip(items, members, strict=True)
        ]
        return ListingRepresentation(
            request,
            title=register.name,
            register=register.slug,
            items=items,
            paged=paged,
            filters=chosen.applied,
            date=date,
            path=f"/doc/{register.slug}",
            csv_header=LISTING_CSV_HEADER,
            csv_row=lambda item: [item[k] for k in LISTING_CSV_HEADER],
            template_name="api/register.html",
            extra={
                "register_obj": register,
                "type_choices": type_choices,
                "explicit": explicit,
                "rows": rows,
                "recorded": self.recorded,
            },
        )
