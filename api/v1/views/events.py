"""Change events: a filtered, cursor-paged listing, and one event."""

from __future__ import annotations

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from registry.documents import describe_events
from registry.models import ChangeEvent

from ...filters import ChangeEventFilter
from .. import serializers as s
from ..pagination import EventCursorPagination
from ..schema import responses
from .base import LookupView


def _event_dicts(events, date) -> list[dict[str, Any]]:
    """Change events (a page of them, in its order) as JSON, their entries named as at
    ``date``."""
    pks = [event.pk for event in events]
    summaries = describe_events(ChangeEvent.objects.filter(pk__in=pks), date)
    return [{**summaries[pk].as_dict(), "note": summaries[pk].note} for pk in pks]


class EventListView(LookupView):
    serializer_class = s.ChangeEventSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChangeEventFilter
    pagination_class = EventCursorPagination

    def get_queryset(self):
        return ChangeEvent.objects.all()

    @extend_schema(
        responses=responses(s.ChangeEventSerializer(many=True)),
        summary="Change events (creations, merges, splits, recodes…), filtered",
        operation_id="events_list",
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.paginator.get_paginated_response(
            _event_dicts(page, self.date), {"date": self.date.isoformat()}
        )


class EventDetailView(LookupView):
    serializer_class = s.ChangeEventSerializer

    @extend_schema(
        responses=responses(s.ChangeEventSerializer, 404),
        summary="One change event",
        operation_id="event_retrieve",
    )
    def get(self, request, key):
        event = ChangeEvent.objects.filter(key=key).first()
        if event is None:
            raise NotFound(f"There is no change event {key[:64]!r}.")
        return Response(_event_dicts([event], self.date)[0])
