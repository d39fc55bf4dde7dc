"""The reference lists: the registers, the entity types and the identifier schemes, with their
counts, and an identifier in any scheme resolved to its entry."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from geography.registers import AREAS, ENTITY_TYPES
from registry import validtime
from registry.documents import summarise
from registry.models import Entry, Identifier, Register
from registry.statistics import entity_type_counts, entry_counts, live_counts, scheme_counts
from registry.uris import register_uri

from ... import reference
from .. import serializers as s
from ..schema import responses
from .base import EntryListMixin, LookupView


def _register_dict(register: Register, total: dict, live: dict, date) -> dict[str, Any]:
    return {
        "slug": register.slug,
        "name": register.name,
        "description": register.description,
        "uri": register_uri(register.slug),
        "key_pattern": register.key_pattern,
        "licence": register.licence,
        "attribution": register.attribution,
        "entries": total.get(register.pk, 0),
        "live": live.get(register.pk, 0),
        "date": date.isoformat(),
    }


class RegisterListView(LookupView):
    serializer_class = s.RegisterSerializer

    @extend_schema(
        responses=responses(s.RegisterSerializer(many=True)),
        summary="The registers, with their entry counts",
        operation_id="registers_list",
    )
    def get(self, request):
        total, live = entry_counts(), live_counts(self.date)
        return Response(
            [_register_dict(r, total, live, self.date) for r in Register.objects.order_by("slug")]
        )


class RegisterDetailView(LookupView):
    serializer_class = s.RegisterSerializer

    @extend_schema(
        responses=responses(s.RegisterSerializer, 404),
        summary="One register",
        operation_id="register_retrieve",
    )
    def get(self, request, register):
        found = self.get_register(register)
        total, live = entry_counts(), live_counts(self.date)
        return Response(_register_dict(found, total, live, self.date))


def _entity_types(entries: list[Entry], date) -> list[dict[str, Any]]:
    summaries = summarise(entries, date, parents=False)
    total, live = entity_type_counts(date, [entry.pk for entry in entries])
    return [
        {
            "key": entry.key,
            "name": summaries[entry.pk]["name"],
            "uri": summaries[entry.pk]["uri"],
            "status": summaries[entry.pk]["status"],
            "attributes": entry.attributes,
            "entries": total.get(entry.pk, 0),
            "live": live.get(entry.pk, 0),
            "date": date.isoformat(),
        }
        for entry in entries
    ]


class EntityTypeListView(LookupView):
    serializer_class = s.EntityTypeSerializer

    @extend_schema(
        responses=responses(s.EntityTypeSerializer(many=True)),
        summary="The entity types (Register of Geographic Codes), with area counts",
        operation_id="entity_types_list",
    )
    def get(self, request):
        entries = list(
            Entry.objects.in_register(ENTITY_TYPES).select_related("register").order_by("key")
        )
        return Response(_entity_types(entries, self.date))


class EntityTypeDetailView(LookupView):
    serializer_class = s.EntityTypeSerializer

    @extend_schema(
        responses=responses(s.EntityTypeSerializer, 404),
        summary="One entity type",
        operation_id="entity_type_retrieve",
    )
    def get(self, request, key):
        entry = self.get_entry(ENTITY_TYPES, key)
        return Response(_entity_types([entry], self.date)[0])


class EntityTypeEntriesView(EntryListMixin, LookupView):
    @extend_schema(
        responses=responses(s.EntryListItemSerializer(many=True), 404),
        summary="The areas of an entity type, filtered",
        operation_id="entity_type_entries_list",
    )
    def get(self, request, key):
        entry = self.get_entry(ENTITY_TYPES, key)
        return self.list_entries(Entry.objects.in_register(AREAS).of_type(entry.key))


class SchemeListView(LookupView):
    serializer_class = s.SchemeSerializer

    @extend_schema(
        responses=responses(s.SchemeSerializer(many=True)),
        summary="The identifier schemes, with their counts",
        operation_id="identifier_schemes_list",
    )
    def get(self, request):
        return Response([{"scheme": name, "identifiers": n} for name, n in scheme_counts()])


class IdentifierView(LookupView):
    """An identifier in another scheme, redirected to the entry it identifies (on the date;
    if it was not in use then, the entry it identified last). The query string is kept."""

    @extend_schema(
        responses={
            **responses(None, 404, ok_status=302),
            302: OpenApiResponse(description="Found: `Location` is the entry's API address."),
        },
        summary="Resolve an identifier in any scheme to its entry",
        operation_id="identifier_resolve",
    )
    def get(self, request, scheme, value):
        if scheme not in reference.identifier_schemes():
            raise NotFound(f"There is no identifier scheme {scheme[:64]!r}.")
        rows = list(
            Identifier.objects.filter(scheme=scheme, value=value).select_related("entry__register")
        )
        on_date = [row for row in rows if validtime.covers(row.valid_from, row.valid_to, self.date)]
        chosen = on_date or sorted(rows, key=lambda row: row.valid_from)[-1:]
        if not chosen:
            raise NotFound(f"No entry has the identifier {value[:64]!r} in {scheme}.")
        entry = chosen[0].entry
        location = reverse(
            "api-v1:entry-detail", kwargs={"register": entry.register.slug, "key": entry.key}
        )
        if request.META.get("QUERY_STRING"):
            location += "?" + request.META["QUERY_STRING"]
        response = HttpResponse(status=302)
        response["Location"] = location
        return response
