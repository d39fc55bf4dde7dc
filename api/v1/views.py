"""The lookup API's views: registers, entries, their history, identifiers, change events, bulk
lookups and the code checker.

Every view answers as at ``?date=`` (default today), in JSON, with problem+json errors, CORS
open to every origin, HTTP caching validators and per-client rate limits (:class:`LookupView`).
Representations of one entry come from ``registry.documents.describe``; of many, from
``api.v1.summaries``, which computes the same facts in bulk.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from geography.registers import AREAS, ENTITY_TYPES
from registry import facts, queries, validtime
from registry.documents import current_links, describe, describe_events, link_dict, summarise
from registry.models import (
    RELATION_KIND,
    ChangeEvent,
    Entry,
    Identifier,
    Register,
    Version,
)
from registry.statistics import entity_type_counts, entry_counts, live_counts, scheme_counts
from registry.uris import entry_uri, register_uri

from . import caching, params, problems, reference
from . import serializers as s
from .bulk import Item, describe_all, resolve
from .checker import ADDED_COLUMNS, Checker, CheckerError, Options, open_text
from .filters import ChangeEventFilter, EntryFilter, StrictOrderingFilter
from .pagination import EventCursorPagination, KeyCursorPagination, VersionCursorPagination
from .parsers import CSVParser, max_upload_bytes
from .schema import LookupSchema, responses
from .throttling import BulkThrottle, LookupThrottle

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, If-None-Match, If-Modified-Since",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, Link, Retry-After, Location",
    "Access-Control-Max-Age": "86400",
}


class LookupView(GenericAPIView):
    """What every lookup endpoint shares: public, JSON, as at a date, cacheable, throttled."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    throttle_classes = [LookupThrottle]
    filter_backends: list = []
    pagination_class = None
    schema = LookupSchema()
    cacheable = True

    def get_exception_handler(self):
        return problems.exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for name, value in kwargs.items():
            params.check_text(name, str(value))
        self.date, self.date_given = params.as_at(request.query_params)
        self.validators = None
        if self.cacheable and request.method in ("GET", "HEAD"):
            self.validators = caching.validators(request, self.date, self.date_given)
            if caching.not_modified(request, *self.validators):
                raise problems.NotModified(caching.headers(*self.validators))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for header, value in CORS_HEADERS.items():
            response.headers.setdefault(header, value)
        validators = getattr(self, "validators", None)
        if validators and response.status_code < 400:
            for header, value in caching.headers(*validators).items():
                response.headers.setdefault(header, value)
        elif response.status_code >= 400:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # Entries are named in the URL by register and key.
    def get_register(self, slug: str) -> Register:
        if slug not in reference.register_slugs():
            raise NotFound(f"There is no register {slug[:64]!r}.")
        return Register.objects.get(slug=slug)

    def get_entry(self, register_slug: str, key: str) -> Entry:
        register = self.get_register(register_slug)
        if not re.match(register.key_pattern, key):
            raise problems.BadParameter(
                "key",
                f"{key[:40]!r} is not a key of {register.slug} (keys match {register.key_pattern}).",
            )
        entry = Entry.objects.filter(register=register, key=key).select_related("register").first()
        if entry is None:
            raise NotFound(f"There is no entry {key!r} in {register.slug}.")
        return entry


class EntryListMixin:
    """A cursor-paged, filtered listing of entries, each summarised as at the date."""

    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = EntryFilter
    pagination_class = KeyCursorPagination
    ordering = ["key"]
    serializer_class = s.EntryListItemSerializer

    def list_entries(self, queryset):
        page = self.paginate_queryset(self.filter_queryset(queryset.select_related("register")))
        summaries = summarise(page, self.date)
        data = [summaries[entry.pk] for entry in page]
        return self.paginator.get_paginated_response(data, {"date": self.date.isoformat()})


class ApiRootView(LookupView):
    """Where everything is."""

    @extend_schema(
        responses=responses(OpenApiResponse(OpenApiTypes.OBJECT, description="Links.")),
        summary="Links to every part of the API",
        operation_id="root",
    )
    def get(self, request):
        def url(name, **kwargs):
            return request.build_absolute_uri(reverse(f"api-v1:{name}", kwargs=kwargs))

        return Response(
            {
                "date": self.date.isoformat(),
                "registers": url("register-list"),
                "entries": url("entry-list", register=AREAS),
                "entity_types": url("entity-type-list"),
                "identifiers": url("scheme-list"),
                "events": url("event-list"),
                "lookup": url("bulk-lookup"),
                "check": url("check"),
                "schema": url("schema"),
                "documentation": url("docs"),
            }
        )


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


class EntryListView(EntryListMixin, LookupView):
    @extend_schema(
        responses=responses(s.EntryListItemSerializer(many=True), 404),
        summary="The entries of a register, filtered",
        operation_id="entries_list",
    )
    def get(self, request, register):
        found = self.get_register(register)
        return self.list_entries(Entry.objects.filter(register=found))


class EntryDetailView(LookupView):
    serializer_class = s.EntryDocumentSerializer

    @extend_schema(
        responses=responses(s.EntryDocumentSerializer, 404),
        summary="Everything about an entry as at a date",
        operation_id="entry_retrieve",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        return Response(describe(entry, self.date).as_dict())


HIERARCHY = OpenApiParameter(
    "hierarchy",
    str,
    description="Only children in this hierarchy (`district`, `county`, `region`, `country`, "
    "`msoa`, `combined-authority`, `union`).",
)


class ChildrenView(EntryListMixin, LookupView):
    @extend_schema(
        parameters=[HIERARCHY],
        responses=responses(s.EntryListItemSerializer(many=True), 404),
        summary="The entries directly within an entry on a date",
        operation_id="entry_children",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        hierarchy = request.query_params.get("hierarchy") or None
        if hierarchy is not None and hierarchy not in reference.hierarchies():
            known = ", ".join(sorted(reference.hierarchies()))
            raise problems.BadParameter(
                "hierarchy", f"there is no hierarchy {hierarchy[:40]!r} (known: {known})."
            )
        return self.list_entries(Entry.objects.children_of(entry, self.date, hierarchy))


class AncestorsView(LookupView):
    serializer_class = s.AncestorsSerializer

    @extend_schema(
        responses=responses(s.AncestorsSerializer, 404),
        summary="Every entry an entry lies within on a date, nearest first",
        operation_id="entry_ancestors",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        found = queries.ancestors(entry, self.date)
        labels = facts.labels([ancestor for _, ancestor in found], self.date)
        return Response(
            {
                "register": entry.register.slug,
                "key": entry.key,
                "uri": entry_uri(entry.register.slug, entry.key),
                "date": self.date.isoformat(),
                "ancestors": [
                    {"hierarchy": hierarchy, **link_dict(ancestor, labels)}
                    for hierarchy, ancestor in found
                ],
            }
        )


def current_codes(
    entry: Entry, date, life: validtime.Lifetime | None = None
) -> list[dict[str, Any]]:
    """Each live code ``entry`` leads to on ``date``, with the hops that led there (the entry
    itself, with none, if it is live)."""
    return current_links([entry], date, {entry.pk: life} if life else None)[entry.pk]


class CurrentView(LookupView):
    serializer_class = s.CurrentCodesSerializer

    @extend_schema(
        responses=responses(s.CurrentCodesSerializer, 404),
        summary="The live code(s) an entry leads to on a date, following changes",
        operation_id="entry_current",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        states = facts.read([entry], parts=frozenset())[entry.pk].states
        return Response(
            {
                "register": entry.register.slug,
                "key": entry.key,
                "uri": entry_uri(entry.register.slug, entry.key),
                "date": self.date.isoformat(),
                "status": validtime.status_on(states, self.date),
                "current": current_codes(entry, self.date, validtime.lifetime(states)),
            }
        )


class HistoryView(LookupView):
    serializer_class = s.HistorySerializer

    @extend_schema(
        responses=responses(s.HistorySerializer, 404),
        summary="An entry over time: states, names, parents, events, predecessors, successors",
        operation_id="entry_history",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        document = describe(entry, self.date)
        doc = document.as_dict()
        relations = sorted(
            (r for r in document.rows.relations if r.kind == RELATION_KIND.PARENT),
            key=lambda r: (r.start, r.hierarchy),
        )
        labels = facts.labels([relation.target for relation in relations], self.date)
        parents = [
            {
                "hierarchy": relation.hierarchy,
                **link_dict(relation.target, labels),
                "valid_from": validtime.iso(relation.start),
                "valid_to": validtime.iso(relation.end),
            }
            for relation in relations
        ]
        fields = ["register", "key", "uri", "date", "status", "operative", "terminated"]
        fields += ["states", "names", "identifiers", "events", "predecessors", "successors"]
        return Response(
            {
                **{field: doc[field] for field in fields},
                "parents": parents,
                "current": current_codes(entry, self.date, document.state.lifetime),
            }
        )


def _version_dict(version: Version, snapshot: bool = False) -> dict[str, Any]:
    result = {
        "number": version.number,
        "recorded_at": version.recorded_at.isoformat(),
        "recorded_by": {
            "user": version.user.get_username() if version.user else None,
            "import_run": version.import_run_id,
            "command": version.import_run.command if version.import_run else None,
        },
        "source": version.source,
        "reason": version.reason,
        "changes": version.changes,
    }
    if snapshot:
        result["snapshot"] = version.snapshot
    return result


class VersionListView(LookupView):
    """Record time: every recorded change to the entry. With ``?date=``, only the versions
    recorded up to the end of that day (what the registry knew then)."""

    serializer_class = s.VersionSerializer
    pagination_class = VersionCursorPagination

    @extend_schema(
        responses=responses(s.VersionSerializer(many=True), 404),
        summary="The record history of an entry: who changed what, when and why",
        operation_id="entry_versions_list",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        versions = Version.objects.filter(entry=entry).select_related("user", "import_run")
        if self.date_given:
            versions = versions.filter(recorded_at__date__lte=self.date)
        page = self.paginate_queryset(versions.defer("snapshot"))
        return self.paginator.get_paginated_response(
            [_version_dict(version) for version in page], {"date": self.date.isoformat()}
        )


class VersionDetailView(LookupView):
    serializer_class = s.VersionDetailSerializer

    @extend_schema(
        responses=responses(s.VersionDetailSerializer, 404),
        summary="One version of an entry, with the whole entry as it was recorded",
        operation_id="entry_version_retrieve",
    )
    def get(self, request, register, key, number):
        entry = self.get_entry(register, key)
        if number > 2**31:  # beyond any version number, and any database integer
            raise NotFound(f"{entry.key} has no version {number}.")
        version = (
            Version.objects.filter(entry=entry, number=number)
            .select_related("user", "import_run")
            .first()
        )
        if version is None:
            raise NotFound(f"{entry.key} has no version {number}.")
        return Response(_version_dict(version, snapshot=True))


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
        on_date = [
            row
            for row in rows
            if row.valid_from <= self.date and (row.valid_to is None or row.valid_to >= self.date)
        ]
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


def _check_entity_types(name: str, keys: list[str]) -> list[str]:
    unknown = [key for key in keys if key not in reference.entity_type_keys()]
    if unknown:
        raise problems.BadParameter(
            name, f"there is no entity type {', '.join(map(repr, unknown[:5]))}."
        )
    return keys


def _check_register(name: str, slug: str) -> str:
    if slug not in reference.register_slugs():
        raise problems.BadParameter(name, f"there is no register {slug[:64]!r}.")
    return slug


class BulkLookupView(LookupView):
    """Look up to 1,000 codes, identifiers or names at once."""

    parser_classes = [JSONParser]
    throttle_classes = [BulkThrottle]
    serializer_class = s.BulkRequestSerializer
    cacheable = False

    @extend_schema(
        request=s.BulkRequestSerializer,
        responses=responses(s.BulkResponseSerializer, 413, 415),
        summary="Bulk lookup: up to 1,000 codes, identifiers or names, answered in order",
        operation_id="lookup_bulk",
    )
    def post(self, request):
        data = request.data
        items = data.get("items") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > s.MAX_BULK_ITEMS:
            raise problems.PayloadTooLarge(
                f"{len(items)} items: a bulk lookup takes at most {s.MAX_BULK_ITEMS}."
            )
        serializer = s.BulkRequestSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        date = body.get("date") or self.date
        register = _check_register("register", body.get("register") or AREAS)
        entity_types = _check_entity_types("entity_type", body.get("entity_type") or []) or None
        for index, item in enumerate(body["items"]):
            params.check_text(f"items[{index}]", item["value"], 300)
            if item.get("register"):
                _check_register(f"items[{index}].register", item["register"])
        results = describe_all(
            resolve(
                [
                    Item(
                        value=item["value"],
                        kind=item["kind"],
                        scheme=item.get("scheme"),
                        register=item.get("register"),
                    )
                    for item in body["items"]
                ],
                date,
                name_register=register,
                entity_types=entity_types,
            )
        )
        return Response({"date": date.isoformat(), "count": len(results), "results": results})


CHECK_PARAMETERS = [
    OpenApiParameter(
        "column",
        str,
        description="The column holding codes or names: its header, or its number from 1. Required (here or as a form field).",
    ),
    OpenApiParameter(
        "date_column",
        str,
        description="A column of dates (YYYY-MM-DD or DD/MM/YYYY) to check each row as at.",
    ),
    OpenApiParameter(
        "entity_type",
        str,
        description="Entity type codes, comma-separated, that name matches are narrowed to.",
    ),
    OpenApiParameter(
        "register",
        str,
        description="The register names are matched in (default statistical-geography).",
    ),
]


class CheckUploadSerializer(drf_serializers.Serializer):
    file = drf_serializers.FileField(help_text="The CSV file, with a header row.")
    column = drf_serializers.CharField()
    date_column = drf_serializers.CharField(required=False)
    date = drf_serializers.DateField(required=False)
    entity_type = drf_serializers.CharField(required=False)
    register = drf_serializers.CharField(required=False)


class CheckerView(LookupView):
    """The code checker: POST a CSV file, get it back with the registry's answer for each row.

    GET shows a web form for the same, for people who do not write code."""

    parser_classes = [CSVParser, MultiPartParser, FormParser]
    throttle_classes = [BulkThrottle]
    cacheable = False
    template_name = "api/checker.html"
    # What an OPTIONS request (a CORS preflight, say) describes; without it DRF's metadata
    # fails looking for a serializer (a 500 Schemathesis found).
    serializer_class = CheckUploadSerializer

    @extend_schema(exclude=True)
    def get(self, request):
        return self.form(request)

    def form(self, request, errors=None, values=None, status=200):
        context = {
            "errors": errors or [],
            "values": values or {},
            "date": self.date,
            "columns": ADDED_COLUMNS,
            "max_mb": max_upload_bytes() // (1024 * 1024),
        }
        return render(request, self.template_name, context, status=status)

    @extend_schema(
        parameters=CHECK_PARAMETERS,
        request={"text/csv": OpenApiTypes.STR, "multipart/form-data": CheckUploadSerializer},
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The same CSV with matched_code, matched_name, matched_entity_type, "
                "matched_status, current_codes, matched_uri and note added.",
            ),
            **{k: v for k, v in responses(None, 413, 415).items() if k not in (200, 304)},
        },
        summary="Check a CSV file of codes or names",
        operation_id="check_file",
    )
    def post(self, request):
        from_form = (
            request.content_type.startswith("multipart/") and request.data.get("via") == "form"
        )
        try:
            return self.check(request)
        except (problems.BadParameter, CheckerError) as error:
            if not from_form:
                if isinstance(error, CheckerError):
                    raise problems.BadParameter(error.parameter, error.reason) from None
                raise
            messages = (
                [f"{error.parameter}: {error.reason}"]
                if isinstance(error, CheckerError)
                else [
                    f"{item['name']}: {item['reason']}" for item in problems._flatten(error.detail)
                ]
            )
            return self.form(request, messages, request.data, status=400)

    def check(self, request):
        is_csv = request.content_type.split(";")[0].strip() == "text/csv"
        source = request.query_params if is_csv else request.data

        def text(name: str) -> str:
            value = source.get(name) or request.query_params.get(name) or ""
            return params.check_text(name, str(value)).strip()

        column = text("column")
        if not column:
            raise problems.BadParameter("column", "name the column that holds the codes or names.")
        date = self.date
        if not is_csv and text("date"):
            date = params.parse_date(text("date"))
        entity_types = [key.strip() for key in text("entity_type").split(",") if key.strip()]
        options = Options(
            column=column,
            date=date,
            date_column=text("date_column") or None,
            register=_check_register("register", text("register") or AREAS),
            entity_types=_check_entity_types("entity_type", entity_types) or None,
        )
        if is_csv:
            binary = request.data
            filename = "checked.csv"
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise problems.BadParameter("file", "attach the CSV file as the field `file`.")
            if upload.size > max_upload_bytes():
                raise problems.PayloadTooLarge(
                    f"The file is larger than {max_upload_bytes()} bytes."
                )
            if hasattr(upload, "temporary_file_path"):
                binary = open(upload.temporary_file_path(), "rb")  # noqa: SIM115
            else:
                binary = upload.file
                binary.seek(0)
            stem = re.sub(r"[^A-Za-z0-9._-]+", "-", upload.name or "file").rsplit(".", 1)[0]
            filename = f"{stem[:80] or 'file'}-checked.csv"
        if not hasattr(binary, "read"):
            raise problems.BadParameter("file", "send the CSV as the request body.")
        checker = Checker(open_text(binary), options)
        response = StreamingHttpResponse(checker, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response


def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/: a problem+json 404, like every other error here."""
    return NotFoundView.as_view()(request)


class NotFoundView(LookupView):
    cacheable = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound(f"There is nothing at {request.path[:200]!r} in the lookup API.")
