"""The write API for automation: create, replace and terminate entries, add names and
identifiers.

It calls the same ``registry.services`` functions as the admin and the importers, so the same
rules validate every change and each one leaves a version with its change note. Requests
authenticate with a token (``Authorization: Token …``, issued by a registry admin in the
admin) and need the same model permissions as the admin: ``registry.add_entry`` to create,
``registry.change_entry`` to change. Errors are RFC 9457 problem details.

No edit is lost silently. ``GET`` on an entry answers its current content with an ``ETag``
naming its version; a replacing write (``PUT``, ``terminate/``) must say which version it
starts from, with ``If-Match`` (a stale tag is a 412) or ``expected_version`` in the body (a
stale number is a 409), and is refused with 428 if it says neither. Adding one name or
identifier starts from the version it read, so two concurrent additions never drop one.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.documents import describe
from registry.models import EVENT_KIND, LANGUAGE, NAME_KIND, Entry, Register
from registry.services import (
    Actor,
    ConcurrentEdit,
    ServiceError,
    ValidationFailed,
    current_snapshot,
    save_entry,
    terminate_with_successors,
)
from registry.validation import MAX_ROWS
from registry.validtime import iso

from . import http
from .v1 import problems
from .v1.schema import CurationSchema, curation_responses

# The longest change note: a sentence or a paragraph, as recorded in the version.
MAX_NOTE = 1000

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag of GET on the entry, naming the version the change starts from.",
)


class CanCurate(permissions.BasePermission):
    """Authenticated, with the admin's permission to add (POST to the collection) or change
    entries."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = (
            "registry.add_entry" if getattr(view, "creates", False) else "registry.change_entry"
        )
        return user.has_perm(needed)


def _rows(help_text: str) -> serializers.ListField:
    # Each row's values are checked by registry.validation (the same rules as the admin's).
    return serializers.ListField(
        child=serializers.ListField(max_length=5), required=False, default=list,
        max_length=MAX_ROWS, help_text=help_text,
    )  # fmt: skip


def _note() -> serializers.CharField:
    return serializers.CharField(
        max_length=MAX_NOTE, help_text="Why the change is made (recorded in the version)."
    )


def _expected() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, min_value=0, max_value=2**31 - 1,
        help_text="The version the change starts from (or send If-Match); a stale one is a 409.",
    )  # fmt: skip


class ContentSerializer(serializers.Serializer):
    names = _rows("[language, kind, text, valid_from, valid_to] rows.")
    identifiers = _rows("[scheme, value, valid_from, valid_to] rows.")
    states = _rows("[valid_from, valid_to, status, entity_type] rows.")
    relations = _rows("[kind, hierarchy, target register/key, valid_from, valid_to] rows.")
    attributes = serializers.DictField(required=False, default=dict)
    note = _note()
    expected_version = _expected()


class NewEntrySerializer(ContentSerializer):
    register = serializers.SlugField()
    key = serializers.CharField(max_length=64)


class AddNameSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=300)
    language = serializers.ChoiceField(choices=LANGUAGE.values, default=LANGUAGE.ENGLISH)
    kind = serializers.ChoiceField(choices=NAME_KIND.values, default=NAME_KIND.OFFICIAL)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_to = serializers.DateField(required=False, allow_null=True)
    note = _note()
    expected_version = _expected()


class AddIdentifierSerializer(serializers.Serializer):
    scheme = serializers.SlugField(max_length=64)
    value = serializers.CharField(max_length=200)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True)
    note = _note()
    expected_version = _expected()


class NewSuccessorSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=300)
    entity_type = serializers.CharField(max_length=8, required=False)


class TerminationSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The first day of the successors.")
    kind = serializers.ChoiceField(
        choices=[k for k in EVENT_KIND.values if k != EVENT_KIND.CREATION]
    )
    successors = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=100
    )
    new_successors = NewSuccessorSerializer(many=True, required=False, default=list, max_length=100)
    instrument_id = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100
    )
    instrument_title = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300
    )
    note = _note()
    expected_version = _expected()


class CurrentContentSerializer(serializers.Serializer):
    """An entry's current content, as a version snapshot holds it."""

    register = serializers.CharField()
    key = serializers.CharField()
    version = serializers.IntegerField()
    names = serializers.ListField(child=serializers.ListField())
    identifiers = serializers.ListField(child=serializers.ListField())
    states = serializers.ListField(child=serializers.ListField())
    relations = serializers.ListField(child=serializers.ListField())
    attributes = serializers.DictField()


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Say which version this change starts from: send If-Match with the ETag of "
        "GET on this entry, or expected_version in the body."
    )
    default_code = "precondition-required"


def version_tag(entry: Entry) -> str:
    """The ETag of an entry's current content: its version, which every write advances."""
    return f'"v{entry.version}"'


def _stale(entry: Entry, tag: str) -> problems.PreconditionFailed:
    return problems.PreconditionFailed(
        f"{entry.key} is at version {entry.version} ({version_tag(entry)}), not {tag}: it "
        "changed after you read it. GET it again, then make your change again."
    )


class CurationView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [CanCurate]
    schema = CurationSchema()
    creates = False

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        http.check_path(kwargs)

    def get_exception_handler(self):
        return problems.exception_handler

    def entry(self, register: str, key: str) -> Entry:
        return get_object_or_404(
            Entry.objects.select_related("register"), register__slug=register, key=key
        )

    def actor(self, data) -> Actor:
        return Actor(user=self.request.user, reason=data["note"])

    def expected_version(self, entry: Entry, data, *, required: bool) -> int | None:
        """The version the write starts from: ``If-Match`` (checked here, 412 if stale) or
        ``expected_version``; 428 if a replacing write gives neither."""
        self.if_match = self.request.headers.get("If-Match")
        body = data.get("expected_version")
        if self.if_match is None:
            if body is None and required:
                raise PreconditionRequired()
            return body
        tags = parse_etags(self.if_match)
        if "*" not in tags and version_tag(entry) not in tags:
            raise _stale(entry, self.if_match)
        if body is not None and body != entry.version:
            raise problems.BadParameter(
                "expected_version", f"is {body}, but If-Match names version {entry.version}."
            )
        return entry.version

    def run(self, write, entry_status=status.HTTP_200_OK):
        try:
            entry = write()
        except ConcurrentEdit as error:
            # Changed between the If-Match check and the lock: the precondition failed.
            if getattr(self, "if_match", None) is not None:
                raise problems.PreconditionFailed(str(error)) from error
            raise Conflict(str(error)) from error
        except ValidationFailed as error:
            raise exceptions.ValidationError({"entry": error.messages}) from error
        except ServiceError as error:
            raise exceptions.ValidationError({"entry": [str(error)]}) from error
        return Response(
            describe(entry).as_dict(), status=entry_status, headers={"ETag": version_tag(entry)}
        )

    def validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def _snapshot(data) -> dict:
    return {
        field: data[field]
        for field in ("names", "identifiers", "states", "relations", "attributes")
    }


class EntryCreate(CurationView):
    """POST a new entry: register, key, names, identifiers, states, relations, note."""

    creates = True

    @extend_schema(
        summary="Create an entry",
        request=NewEntrySerializer,
        responses=curation_responses(OpenApiTypes.OBJECT, 409, ok_status=201),
    )
    def post(self, request):
        data = self.validated(NewEntrySerializer)
        register = Register.objects.filter(slug=data["register"]).first()
        if register is None:
            raise problems.BadParameter(
                "register", f"There is no register called {data['register']!r}."
            )
        if Entry.objects.filter(register=register, key=data["key"]).exists():
            raise Conflict(f"{data['key']} already exists in {register.slug}; PUT to change it.")
        return self.run(
            lambda: save_entry(register, data["key"], _snapshot(data), self.actor(data)),
            status.HTTP_201_CREATED,
        )


class EntryReplace(CurationView):
    """GET an entry's current content and its ETag; PUT the whole content of an entry (its
    key cannot change) from the version it names."""

    def get_permissions(self):
        # Reading is public, as every version is in the lookup API.
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [permissions.AllowAny()]
        return super().get_permissions()

    @extend_schema(
        summary="An entry's current content, to change",
        responses=curation_responses(CurrentContentSerializer, 404, writes=False),
    )
    def get(self, request, register, key):
        entry = self.entry(register, key)
        body = {"register": entry.register.slug, "key": entry.key, "version": entry.version}
        return Response(
            {**body, **current_snapshot(entry)},
            headers={"ETag": version_tag(entry), "Cache-Control": "no-cache"},
        )

    @extend_schema(
        summary="Replace an entry's content",
        parameters=[IF_MATCH],
        request=ContentSerializer,
        responses=curation_responses(OpenApiTypes.OBJECT, 404, 409, 412, 428),
    )
    def put(self, request, register, key):
        entry = self.entry(register, key)
        data = self.validated(ContentSerializer)
        expected = self.expected_version(entry, data, required=True)
        return self.run(
            lambda: save_entry(
                entry.register, key, _snapshot(data), self.actor(data), expected_version=expected
            ),
        )


class EntryAddRow(CurationView):
    """Add one row (a name or an identifier) to an entry's current content."""

    serializer_class: type[serializers.Serializer]
    field: str

    def row(self, data) -> list:
        raise NotImplementedError

    def post(self, request, register, key):
        return self.add(register, key)

    def add(self, register, key):
        entry = self.entry(register, key)
        data = self.validated(self.serializer_class)
        snapshot = current_snapshot(entry)
        snapshot[self.field].append(self.row(data))
        # The version the snapshot was read at: a concurrent write in between is a 409, not a
        # silently lost row.
        expected = self.expected_version(entry, data, required=False)
        if expected is None:
            expected = entry.version
        return self.run(
            lambda: save_entry(
                entry.register, key, snapshot, self.actor(data), expected_version=expected
            ),
            status.HTTP_201_CREATED,
        )


class EntryAddName(EntryAddRow):
    serializer_class = AddNameSerializer
    field = "names"

    @extend_schema(
        summary="Add a name to an entry",
        request=AddNameSerializer,
        responses=curation_responses(OpenApiTypes.OBJECT, 404, 409, 412, ok_status=201),
    )
    def post(self, request, register, key):
        return self.add(register, key)

    def row(self, data) -> list:
        return [
            data["language"],
            data["kind"],
            data["text"],
            iso(data.get("valid_from")),
            iso(data.get("valid_to")),
        ]


class EntryAddIdentifier(EntryAddRow):
    serializer_class = AddIdentifierSerializer
    field = "identifiers"

    @extend_schema(
        summary="Add an identifier to an entry",
        request=AddIdentifierSerializer,
        responses=curation_responses(OpenApiTypes.OBJECT, 404, 409, 412, ok_status=201),
    )
    def post(self, request, register, key):
        return self.add(register, key)

    def row(self, data) -> list:
        return [data["scheme"], data["value"], iso(data["valid_from"]), iso(data.get("valid_to"))]


class EntryTerminate(CurationView):
    @extend_schema(
        summary="Terminate an entry, with its successors",
        parameters=[IF_MATCH],
        request=TerminationSerializer,
        responses=curation_responses(OpenApiTypes.OBJECT, 404, 409, 412, 428),
    )
    def post(self, request, register, key):
        entry = self.entry(register, key)
        data = self.validated(TerminationSerializer)
        expected = self.expected_version(entry, data, required=True)
        successors = list(
            Entry.objects.filter(
                register=entry.register, key__in=data["successors"]
            ).select_related("register")
        )
        missing = sorted(set(data["successors"]) - {s.key for s in successors})
        if missing:
            raise problems.BadParameter("successors", f"No such entries: {', '.join(missing)}.")
        start = data["date"].isoformat()
        new = [
            (item["key"], {
                "names": [["en", "official", item["name"], start, None]], "identifiers": [],
                "states": [[start, None, "live", item.get("entity_type") or item["key"][:3]]],
                "relations": [], "attributes": {},
            })
            for item in data["new_successors"]
        ]  # fmt: skip

        def write():
            terminate_with_successors(
                entry, data["date"], data["kind"], successors, self.actor(data), new_successors=new,
                instrument_id=data["instrument_id"], instrument_title=data["instrument_title"],
                expected_version=expected,
            )  # fmt: skip
            return self.entry(register, key)

        return self.run(write)


urlpatterns = [
    path("entries/", EntryCreate.as_view(), name="curation-create"),
    path("entries/<slug:register>/<str:key>/", EntryReplace.as_view(), name="curation-replace"),
    path("entries/<slug:register>/<str:key>/names/", EntryAddName.as_view(), name="curation-add-name"),
    path("entries/<slug:register>/<str:key>/identifiers/", EntryAddIdentifier.as_view(), name="curation-add-identifier"),
    path("entries/<slug:register>/<str:key>/terminate/", EntryTerminate.as_view(), name="curation-terminate"),
]  # fmt: skip
