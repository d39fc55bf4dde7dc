"""What every lookup endpoint shares (:class:`LookupView`): public, JSON, as at a date,
cacheable, throttled, with problem+json errors and CORS open to every origin; the listing of
entries that several endpoints page through; the API's root, and its 404 for any other path.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from geography.registers import AREAS
from registry import recorded
from registry.documents import summarise
from registry.models import Entry, Register
from registry.uris import base

from ... import http
from ...documents.entries import not_recorded_message
from ...documents.listings import recorded_by
from ...filters import EntryFilter, StrictOrderingFilter
from .. import problems
from .. import serializers as s
from ..pagination import KeyCursorPagination
from ..schema import LookupSchema, responses
from ..throttling import LookupThrottle

CORS_HEADERS = http.cors_headers(
    "GET, HEAD, POST, OPTIONS",
    "Content-Type, If-None-Match, If-Modified-Since",
    "ETag, Last-Modified, Link, Retry-After, Location",
)


def recorded_instant(query) -> dt.datetime | None:
    """``?recorded=`` of an API request (an empty value is malformed here), or None."""
    try:
        return http.recorded(query, blank_is_now=False)
    except http.BadDate as error:
        raise problems.BadParameter(error.name, error.reason) from None


def lookup_validators(
    full_path: str,
    date: dt.date,
    date_given: bool,
    recorded: dt.datetime | None,
    data_version: tuple[int, dt.datetime | None],
    boundaries: tuple[int | None, dt.datetime | None] | None = None,
) -> tuple[str, int | None]:
    """The ETag and Last-Modified of a lookup answer: what was asked for (path and query),
    as at the date, as recorded at an instant (None: now), in the registry's state (the data
    version, and the boundaries' load state for an answer drawn from them).
    :class:`LookupView` and ``api.early`` both call this."""
    version, changed = data_version
    if boundaries is not None:
        changed = http.changed_since(changed, boundaries[1])
    tag = http.etag(
        "api/v1",
        base(),
        full_path,
        date.isoformat(),
        recorded.isoformat() if recorded else None,
        version,
        changed,
        boundaries,
    )
    if recorded is not None and changed is not None:
        # Nothing recorded at or before a past instant changes after it.
        changed = min(changed, recorded)
    return tag, http.last_modified(changed, date, date_given)


def answer_key(etag: str) -> str:
    """Where a lookup answer's data is kept in the shared cache: under its validator."""
    return f"api:{etag}"


def cached_answer(etag: str, build):
    """The data ``build()`` gives for the answer whose validator is ``etag``, kept in the
    shared cache (every worker, every node) under it, so it is built once for each state of
    the registry. :class:`LookupView` and ``api.early`` both answer through this."""
    key = answer_key(etag)
    data = cache.get(key)
    if data is None:
        data = build()
        cache.set(key, data, settings.REGISTRY_API_CACHE_SECONDS)
    return data


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
    # Whether the endpoint answers as recorded at a past instant (``?recorded=``, read into
    # ``self.recorded``); the others refuse the parameter rather than ignore it.
    answers_recorded = False
    # Whether the answer is drawn from the boundaries (point lookups), which a load rewrites
    # without a version: then their load state is part of its validators too.
    depends_on_boundaries = False

    def get_exception_handler(self):
        return problems.exception_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        http.check_path(kwargs)
        self.date, self.date_given = http.as_at(request.query_params, blank_is_today=False)
        self.recorded = recorded_instant(request.query_params)
        if self.recorded is not None and not self.answers_recorded:
            raise problems.BadParameter(
                "recorded",
                "is answered by the entry, history, entry listing and bulk lookup endpoints "
                "only; this one is always as the registry stands now.",
            )
        self.validators = None
        if self.cacheable and request.method in ("GET", "HEAD"):
            self.validators = self.answer_validators(request)
            settled = http.conditional_response(request, *self.validators)
            if settled is not None and settled.status_code == 304:
                raise problems.NotModified(http.validator_headers(*self.validators))
            if settled is not None:
                raise problems.PreconditionFailed()

    def answer_validators(self, request) -> tuple[str, int | None]:
        """The ETag and Last-Modified of the answer to ``request``: what was asked for (path
        and query), as at the date, in the registry's present state. For an answer about one
        entry, the query that finds the entry reads the data version too."""
        if "register" in self.kwargs and "key" in self.kwargs:
            found = self.find_entry(self.kwargs["register"], self.kwargs["key"])
            data_version = found.data_version
        else:
            data_version = http.data_version()
        boundaries = http.boundaries_version() if self.depends_on_boundaries else None
        return lookup_validators(
            request.get_full_path(),
            self.date,
            self.date_given,
            self.recorded,
            data_version,
            boundaries,
        )

    def cached(self, build) -> Response:
        """The answer ``build()`` gives, kept in the shared cache (every worker, every node)
        under the answer's ETag, so it is built once for each state of the registry."""
        if self.validators is None:
            return Response(build())
        return Response(cached_answer(self.validators[0], build))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        validators = getattr(self, "validators", None)
        cacheable = validators is not None and response.status_code < 400
        if cacheable:
            for header, value in http.validator_headers(*validators).items():
                response.headers.setdefault(header, value)
        elif response.status_code >= 400:
            # An error answers this request, not the data: no cache is to keep it.
            response.headers.setdefault("Cache-Control", "no-store")
        max_age = settings.REGISTRY_API_CACHE_SECONDS if cacheable else None
        return http.publish(response, max_age=max_age, cors=CORS_HEADERS)

    # Entries are named in the URL by register and key.
    def get_register(self, slug: str) -> Register:
        try:
            return http.find_register(slug)
        except http.NoSuchRegister:
            raise NotFound(f"There is no register {slug[:64]!r}.") from None

    def get_entry(self, register_slug: str, key: str) -> Entry:
        """The entry the URL names; 404 if it does not exist or, when the request asks
        about a past record, had not been recorded by then."""
        return self.find_entry(register_slug, key, checked=True).load()

    def find_entry(self, register_slug: str, key: str, checked: bool = False) -> http.EntryRef:
        """The entry a URL names, with the data version, found once per request; with
        ``checked``, 404 if the request asks about a past record and it had none by then."""
        found = getattr(self, "_found", None)
        if found is None or (found.register.slug, found.key) != (register_slug, key):
            found = self._found = self._find_entry(register_slug, key)
        at = self.recorded
        if (
            checked
            and at is not None
            and found.pk not in recorded.Recorded(at).versions([found.pk])
        ):
            raise NotFound(not_recorded_message(found.key, at, recorded.first_recorded(found.pk)))
        return found

    def _find_entry(self, register_slug: str, key: str) -> http.EntryRef:
        register = self.get_register(register_slug)
        try:
            return http.find_entry(register, key)
        except http.MalformedKey:
            raise problems.BadParameter(
                "key",
                f"{key[:40]!r} is not a key of {register.slug} (keys match {register.key_pattern}).",
            ) from None
        except http.NoSuchEntry:
            raise NotFound(f"There is no entry {key!r} in {register.slug}.") from None


class EntryListMixin:
    """A cursor-paged, filtered listing of entries, each summarised as at the date."""

    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = EntryFilter
    pagination_class = KeyCursorPagination
    ordering = ["key"]
    serializer_class = s.EntryListItemSerializer

    def list_entries(self, queryset):
        queryset = self.filter_queryset(queryset.select_related("register"))
        at = getattr(self, "recorded", None)
        if at is not None:
            queryset = recorded_by(queryset, at)
        page = self.paginate_queryset(queryset)
        summaries = (
            summarise(page, self.date) if at is None else recorded.summarise(page, self.date, at)
        )
        data = [summaries[entry.pk] for entry in page]
        extra = {"date": self.date.isoformat()}
        if at is not None:
            extra["recorded"] = at.isoformat()
        return self.paginator.get_paginated_response(data, extra)


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


def not_found(request, *args, **kwargs):
    """Any other address under /api/v1/: a problem+json 404, like every other error here."""
    return NotFoundView.as_view()(request)


class NotFoundView(LookupView):
    cacheable = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound(f"There is nothing at {request.path[:200]!r} in the lookup API.")
