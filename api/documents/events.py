"""Change events: one event's document, and the listing of events by year and kind."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from registry import rdf
from registry.documents import EventSummary, describe_events
from registry.models import EVENT_KIND, ChangeEvent
from registry.statistics import registers
from registry.uris import EVENTS

from ..filters import EventListingFilter, filtered
from ..renderers import Representation
from .base import DocumentView, format_links
from .errors import error_response
from .listings import ListingRepresentation, one_page


def describe_event(event: ChangeEvent) -> EventSummary:
    """A change event with its predecessors and successors, named as on its date."""
    return describe_events(ChangeEvent.objects.filter(pk=event.pk))[event.pk]


EVENT_CSV_HEADER = ["key", "uri", "date", "kind", "instrument_id", "instrument_title",
                    "predecessors", "successors"]  # fmt: skip


def _event_row(event: EventSummary) -> list[Any]:
    return [
        event.key,
        event.uri,
        event.date.isoformat(),
        event.kind,
        event.instrument_id,
        event.instrument_title,
        " ".join(link.key for link in event.predecessors),
        " ".join(link.key for link in event.successors),
    ]


class EventRepresentation(Representation):
    template_name = "api/event.html"

    def __init__(self, request, event: ChangeEvent):
        self.request = request
        self.summary = describe_event(event)
        self.note = event.note

    def as_json(self):
        return {**self.summary.as_dict(), "note": self.note}

    def as_graph(self):
        licence = "; ".join({r.licence for r in registers().values()})
        return rdf.event_graph(self.summary, licence)

    def as_rows(self):
        return EVENT_CSV_HEADER, [_event_row(self.summary)]

    def context(self):
        path = f"/doc/{EVENTS}/{self.summary.key}"
        return {
            "event": self.summary,
            "note": self.note,
            "kind_label": EVENT_KIND(self.summary.kind).label,
            "formats": format_links(path, self.request),
            "path": path,
        }


class EventView(DocumentView):
    """``/doc/change-event/{key}[.fmt]``: one change event."""

    def target(self, request, date, key=None):
        event = ChangeEvent.objects.filter(key=key).first()
        if event is None:
            return error_response(
                request,
                404,
                gettext("There is no change event %(key)s.") % {"key": repr(key[:100])},
            )
        return event

    def version_of(self, event):
        return event.version

    def thing_uri(self, event):
        return rdf.event_uri(event.key)

    def represent(self, request, event, date, explicit):
        return EventRepresentation(request, event)


class EventListView(DocumentView):
    """``/doc/change-event[.fmt]``: change events, filtered by year and kind."""

    def target(self, request, date):
        return EVENTS

    def represent(self, request, _target, date, explicit):
        chosen = EventListingFilter(
            request.GET, queryset=ChangeEvent.objects.all(), request=request
        )
        events = filtered(chosen).order_by("date", "key")
        paged = one_page(events, request.GET.get("page"))
        summaries = describe_events(
            ChangeEvent.objects.filter(pk__in=[e.pk for e in paged.members])
        )
        items = []
        for event in paged.members:
            summary = summaries[event.pk]
            items.append(
                {
                    **summary.as_dict(),
                    "summary": summary,
                    "kind_label": EVENT_KIND(summary.kind).label,
                }
            )
        kind = chosen.applied.get("kind")
        return _EventListing(
            request,
            title="Change events",
            register=EVENTS,
            items=items,
            paged=paged,
            filters=chosen.applied,
            date=date,
            path=f"/doc/{EVENTS}",
            csv_header=EVENT_CSV_HEADER,
            csv_row=lambda item: _event_row(item["summary"]),
            template_name="api/events.html",
            extra={
                "kinds": EVENT_KIND.choices,
                "kind_label": EVENT_KIND(kind).label if kind in EVENT_KIND.values else None,
            },
        )


class _EventListing(ListingRepresentation):
    def as_json(self):
        data = super().as_json()
        data["items"] = [
            {k: v for k, v in item.items() if k not in {"summary", "kind_label"}}
            for item in self.items
        ]
        return data
