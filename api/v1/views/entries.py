"""One entry and what hangs from it: its document, the entries of a register, its children,
ancestors, current codes, history over valid time, and versions over record time."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from registry import facts, queries, recorded, validtime
from registry.documents import current_links, describe, link_dict
from registry.models import RELATION_KIND, Entry, Version
from registry.uris import entry_uri

from ... import reference
from .. import problems
from .. import serializers as s
from ..pagination import VersionCursorPagination
from ..schema import responses
from .base import EntryListMixin, LookupView


class EntryListView(EntryListMixin, LookupView):
    answers_recorded = True

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
    answers_recorded = True

    @extend_schema(
        responses=responses(s.EntryDocumentSerializer, 404),
        summary="Everything about an entry as at a date",
        operation_id="entry_retrieve",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        if self.recorded is None:
            return Response(describe(entry, self.date).as_dict())
        document = recorded.describe(entry, self.date, self.recorded)
        return Response({**document.as_dict(), "recorded": _record(entry, self.recorded)})


def _record(entry: Entry, at) -> dict[str, Any]:
    """Which record an answer as recorded at ``at`` shows: the instant, and the entry's
    version then."""
    version = recorded.Recorded(at).versions([entry.pk])[entry.pk]
    return {
        "recorded": at.isoformat(),
        "version": version.number,
        "version_recorded_at": version.recorded_at.isoformat(),
    }


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


def _named(entry: Entry, date) -> dict[str, Any]:
    """What an answer about one entry opens with: which entry, and as at which date."""
    return {
        "register": entry.register.slug,
        "key": entry.key,
        "uri": entry_uri(entry.register.slug, entry.key),
        "date": date.isoformat(),
    }


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
                **_named(entry, self.date),
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
                **_named(entry, self.date),
                "status": validtime.status_on(states, self.date),
                "current": current_codes(entry, self.date, validtime.lifetime(states)),
            }
        )


class HistoryView(LookupView):
    serializer_class = s.HistorySerializer
    answers_recorded = True

    @extend_schema(
        responses=responses(s.HistorySerializer, 404),
        summary="An entry over time: states, names, parents, events, predecessors, successors",
        operation_id="entry_history",
    )
    def get(self, request, register, key):
        entry = self.get_entry(register, key)
        at = self.recorded
        document = (
            describe(entry, self.date) if at is None else recorded.describe(entry, self.date, at)
        )
        doc = document.as_dict()
        relations = sorted(
            (r for r in document.rows.relations if r.kind == RELATION_KIND.PARENT),
            key=lambda r: (r.start, r.hierarchy),
        )
        targets = [relation.target for relation in relations]
        labels = (
            facts.labels(targets, self.date)
            if at is None
            else recorded.Recorded(at).labels(targets, self.date)
        )
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
        current = (
            current_codes(entry, self.date, document.state.lifetime)
            if at is None
            else recorded.current_links([entry], self.date, at).get(entry.pk, [])
        )
        answer = {**{field: doc[field] for field in fields}, "parents": parents, "current": current}
        if at is not None:
            answer["recorded"] = _record(entry, at)
        return Response(answer)


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
