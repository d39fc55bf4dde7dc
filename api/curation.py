"""The write API for automation: create, replace and terminate entries, add names and
identifiers.

It calls the same ``registry.services`` functions as the admin and the importers, so the same
rules validate every change and each one leaves a version with its change note. Requests
authenticate with a token (``Authorization: Token …``, issued by a registry admin in the
admin) and need the same model permissions as the admin: ``registry.add_entry`` to create,
``registry.change_entry`` to change. Errors are RFC 9457 problem details.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
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
from registry.validtime import iso

from .v1 import problems


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


class SnapshotSerializer(serializers.Serializer):
    names = serializers.ListField(child=serializers.ListField(), required=False, default=list)
    identifiers = serializers.ListField(child=serializers.ListField(), required=False, default=list)
    states = serializers.ListField(child=serializers.ListField(), required=False, default=list)
    relations = serializers.ListField(child=serializers.ListField(), required=False, default=list)
    attributes = serializers.DictField(required=False, default=dict)
    note = serializers.CharField(help_text="Why the change is made (recorded in the version).")
    expected_version = serializers.IntegerField(required=False)


class CreateSerializer(SnapshotSerializer):
    register = serializers.SlugField()
    key = serializers.CharField(max_length=64)


class NameSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=300)
    language = serializers.ChoiceField(choices=LANGUAGE.values, default=LANGUAGE.ENGLISH)
    kind = serializers.ChoiceField(choices=NAME_KIND.values, default=NAME_KIND.OFFICIAL)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_to = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField()
    expected_version = serializers.IntegerField(required=False)


class IdentifierSerializer(serializers.Serializer):
    scheme = serializers.SlugField(max_length=64)
    value = serializers.CharField(max_length=200)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField()
    expected_version = serializers.IntegerField(required=False)


class NewSuccessorSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=300)
    entity_type = serializers.CharField(max_length=8, required=False)


class TerminateSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The first day of the successors.")
    kind = serializers.ChoiceField(
        choices=[k for k in EVENT_KIND.values if k != EVENT_KIND.CREATION]
    )
    successors = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    new_successors = NewSuccessorSerializer(many=True, required=False, default=list)
    instrument_id = serializers.CharField(required=False, allow_blank=True, default="")
    instrument_title = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField()
    expected_version = serializers.IntegerField(required=False)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class CurationView(APIView):
    # Not in the public lookup API's OpenAPI document (which describes reads anyone can make);
    # the write API is documented in the README.
    schema = None
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [CanCurate]
    creates = False

    def get_exception_handler(self):
        return problems.exception_handler

    def entry(self, register: str, key: str) -> Entry:
        return get_object_or_404(
            Entry.objects.select_related("register"), register__slug=register, key=key
        )

    def actor(self, data) -> Actor:
        return Actor(user=self.request.user, reason=data["note"])

    def run(self, write, entry_status=status.HTTP_200_OK):
        try:
            entry = write()
        except ConcurrentEdit as error:
            raise Conflict(str(error)) from error
        except ValidationFailed as error:
            raise exceptions.ValidationError({"entry": error.messages}) from error
        except ServiceError as error:
            raise exceptions.ValidationError({"entry": [str(error)]}) from error
        return Response(describe(entry).as_dict(), status=entry_status)

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

    def post(self, request):
        data = self.validated(CreateSerializer)
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
    """PUT the whole content of an entry (its key cannot change)."""

    def put(self, request, register, key):
        entry = self.entry(register, key)
        data = self.validated(SnapshotSerializer)
        return self.run(
            lambda: save_entry(
                entry.register,
                key,
                _snapshot(data),
                self.actor(data),
                expected_version=data.get("expected_version"),
            ),  # fmt: skip
        )


class EntryAddRow(CurationView):
    """Add one row (a name or an identifier) to an entry's current content."""

    serializer_class: type[serializers.Serializer]
    field: str

    def row(self, data) -> list:
        raise NotImplementedError

    def post(self, request, register, key):
        entry = self.entry(register, key)
        data = self.validated(self.serializer_class)
        snapshot = current_snapshot(entry)
        snapshot[self.field].append(self.row(data))
        # The version the snapshot was read at: a concurrent write in between is a 409, not a
        # silently lost row.
        expected = data.get("expected_version", entry.version)
        return self.run(
            lambda: save_entry(
                entry.register, key, snapshot, self.actor(data), expected_version=expected
            ),
            status.HTTP_201_CREATED,
        )


class EntryAddName(EntryAddRow):
    serializer_class = NameSerializer
    field = "names"

    def row(self, data) -> list:
        return [
            data["language"],
            data["kind"],
            data["text"],
            iso(data.get("valid_from")),
            iso(data.get("valid_to")),
        ]


class EntryAddIdentifier(EntryAddRow):
    serializer_class = IdentifierSerializer
    field = "identifiers"

    def row(self, data) -> list:
        return [data["scheme"], data["value"], iso(data["valid_from"]), iso(data.get("valid_to"))]


class EntryTerminate(CurationView):
    def post(self, request, register, key):
        entry = self.entry(register, key)
        data = self.validated(TerminateSerializer)
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
                expected_version=data.get("expected_version"),
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
