"""FilterSets for the listings of the lookup API (``/api/v1/entries/…``, ``/api/v1/events/``)
and of the documents (``/doc/{register}``, ``/doc/change-event``): query parameters in, plain
queryset calls out.

Invalid input is a 400 naming the parameter, never an empty list: django-filter's form errors
become a ValidationError (in its DRF backend, or :func:`filtered`), and the values the form
cannot check (an entity type or parent that does not exist) raise
:class:`~api.http.BadParameter` here. Each interface words the error its own way: the lookup
API as a problem listing the parameter, a document as one sentence ("status must be one of
live, terminated; got 'dead'."), so the documents' filters refuse values in that wording.

What the two kinds of listing mean alike they share (:class:`AsAtFilterSet`: the as-at date,
text no registry value could be, status on the date); where they differ they are separate
filters: a document's ``parent`` is a direct parent in the same register and its ``type`` the
entity type on the date, the lookup API's ``parent`` any ancestor and ``entity_type`` any type
the entry has had.

Names are matched on their folded form (``registry.text.fold``: case, accents and punctuation
do not matter) against every name an entry has had, so an old name still finds it.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django_filters.utils import translate_validation
from rest_framework.filters import OrderingFilter

from geography.hierarchies import MAX_DEPTH
from registry.models import (
    EVENT_KIND,
    RELATION_KIND,
    STATUS,
    ChangeEvent,
    ChangeLink,
    Entry,
    Name,
    NameWord,
    Relation,
    State,
    covering,
)
from registry.text import fold

from . import http, reference
from .http import BadParameter


def descendants(parent: Entry, date: dt.date) -> Q:
    """Entries within ``parent`` on ``date`` at any depth, as nested subqueries (no matter how
    many there are, nothing is fetched into Python)."""
    level = Relation.objects.filter(covering(date), kind=RELATION_KIND.PARENT, object=parent)
    level = level.values("subject_id")
    condition = Q(pk__in=level)
    for _ in range(MAX_DEPTH - 1):
        level = Relation.objects.filter(
            covering(date), kind=RELATION_KIND.PARENT, object_id__in=level
        ).values("subject_id")
        condition |= Q(pk__in=level)
    return condition


def _keys(name: str, value: str, known: frozenset[str], what: str) -> list[str]:
    keys = [key.strip() for key in value.split(",") if key.strip()]
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise BadParameter(name, f"there is no {what} {', '.join(map(repr, unknown[:5]))}.")
    return keys


def filtered(filterset: django_filters.FilterSet) -> QuerySet:
    """The queryset ``filterset`` gives, or the 400 (a ValidationError by parameter) its
    invalid input is, as django-filter's DRF backend has it."""
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs


# The listing filters' names as a page's error names them, in the page's language.
FIELD_NAMES = {
    "status": gettext_lazy("status"),
    "type": gettext_lazy("type"),
    "parent": gettext_lazy("parent"),
    "year": gettext_lazy("year"),
    "kind": gettext_lazy("kind"),
}


def _refuse(name: str, reason: str, sentence: str, **values: str) -> BadParameter:
    """A bad filter value: ``reason`` said of the parameter (the API's words), and
    ``sentence``, a message naming it as ``%(field)s``, translated for the page."""
    field = FIELD_NAMES.get(name, name)
    return BadParameter(name, reason, sentence=gettext(sentence) % {"field": field, **values})


def _one_of(name: str, value: str, choices: list[str], shown: int = 20) -> str:
    if value not in choices:
        got, listed = repr(value[:shown]), ", ".join(choices)
        raise _refuse(
            name,
            f"must be one of {listed}; got {got}.",
            gettext_noop("%(field)s must be one of %(choices)s; got %(got)s."),
            choices=listed,
            got=got,
        )
    return value


class AsAtFilterSet(django_filters.FilterSet):
    """What every listing of entries shares: the as-at date (``date``, already checked by the
    view), text no registry value could be refused before any query, and status on the date."""

    @cached_property
    def date(self) -> dt.date:
        return http.as_at(self.data)[0]

    def filter_queryset(self, queryset):
        for name, value in self.data.items():
            if isinstance(value, str):
                http.check_text(name, value)
        return super().filter_queryset(queryset)

    def filter_status(self, queryset, name, value):
        return queryset.filter(
            pk__in=State.objects.filter(covering(self.date), status=value).values("entry_id")
        )


class EntryFilter(AsAtFilterSet):
    name = django_filters.CharFilter(
        method="filter_name",
        help_text="Entries that have (or had) this name, ignoring case, accents and punctuation.",
    )
    name_prefix = django_filters.CharFilter(
        method="filter_name_prefix",
        help_text="Entries with a name that starts with this (case and accents ignored).",
    )
    q = django_filters.CharFilter(
        method="filter_q",
        help_text="Tolerant search: entries with a name in which every word given begins a "
        "word (`vale aylesb` finds Aylesbury Vale).",
    )
    entity_type = django_filters.CharFilter(
        method="filter_entity_type",
        help_text="Entity type code(s), comma-separated (`E06,E07`): entries of these types.",
    )
    status = django_filters.ChoiceFilter(
        choices=STATUS.choices,
        method="filter_status",
        help_text="Status as at `date`.",
    )
    parent = django_filters.CharFilter(
        method="filter_parent",
        help_text="Key of an area the entries lie within on `date`, at any depth (`E06000060`).",
    )
    valid_on = django_filters.DateFilter(
        method="filter_valid_on", help_text="Entries live on this date (YYYY-MM-DD)."
    )
    changed_after = django_filters.DateFilter(
        method="filter_nothing",
        help_text="Entries with a change event, or a new state, name or parent, on or after "
        "this date.",
    )
    changed_before = django_filters.DateFilter(
        method="filter_nothing",
        help_text="… on or before this date (with or without `changed_after`).",
    )

    class Meta:
        model = Entry
        fields: list[str] = []

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        after = self.form.cleaned_data.get("changed_after")
        before = self.form.cleaned_data.get("changed_before")
        if after or before:
            queryset = queryset.filter(self._changed(after, before))
        return queryset

    def filter_nothing(self, queryset, name, value):
        return queryset

    def filter_name(self, queryset, name, value):
        return queryset.filter(pk__in=Name.objects.filter(folded=fold(value)).values("entry_id"))

    def filter_name_prefix(self, queryset, name, value):
        if not fold(value):
            return queryset
        return queryset.filter(pk__in=Name.objects.starting_with(value).values("entry_id"))

    def filter_q(self, queryset, name, value):
        words = fold(value).split()
        if not words:
            return queryset
        # The entries with a name that has the longest word at the start of a word, by the
        # two indexes (first words, later words); of their names, one with every word.
        longest = max(words, key=len)
        names = Name.objects.filter(
            Q(entry_id__in=Name.objects.with_folded_prefix(longest).values("entry_id"))
            | Q(entry_id__in=NameWord.objects.with_prefix(longest).values("entry_id"))
        )
        for word in words:
            names = names.filter(Q(folded__startswith=word) | Q(folded__contains=f" {word}"))
        return queryset.filter(pk__in=names.values("entry_id"))

    def filter_entity_type(self, queryset, name, value):
        keys = _keys(name, value, reference.entity_type_keys(), "entity type")
        return queryset.filter(
            pk__in=State.objects.filter(entity_type__key__in=keys).values("entry_id")
        )

    def filter_parent(self, queryset, name, value):
        parent = Entry.objects.filter(key=value.strip()).order_by("register_id").first()
        if parent is None:
            raise BadParameter(name, f"there is no entry with the key {value.strip()[:40]!r}.")
        return queryset.filter(descendants(parent, self.date))

    def filter_valid_on(self, queryset, name, value):
        return queryset.valid_on(value)

    @staticmethod
    def _changed(after: dt.date | None, before: dt.date | None) -> Q:
        def dated(field: str) -> Q:
            condition = Q()
            if after:
                condition &= Q(**{f"{field}__gte": after})
            if before:
                condition &= Q(**{f"{field}__lte": before})
            return condition

        starts = dated("valid_from")
        events = ChangeEvent.objects.filter(dated("date"))
        return (
            Q(pk__in=State.objects.filter(starts).values("entry_id"))
            | Q(pk__in=Name.objects.filter(starts).values("entry_id"))
            | Q(
                pk__in=Relation.objects.filter(starts, kind=RELATION_KIND.PARENT).values(
                    "subject_id"
                )
            )
            | Q(pk__in=ChangeLink.objects.filter(event__in=events).values("predecessor_id"))
            | Q(pk__in=ChangeLink.objects.filter(event__in=events).values("successor_id"))
        )


class ChangeEventFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=EVENT_KIND.choices, help_text="The kind of change.")
    date_from = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", help_text="Events on or after this date."
    )
    date_to = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", help_text="Events on or before this date."
    )
    code = django_filters.CharFilter(
        method="filter_code", help_text="Events that link this code (as predecessor or successor)."
    )

    class Meta:
        model = ChangeEvent
        fields: list[str] = []

    def filter_code(self, queryset, name, value):
        http.check_text(name, value)
        links = ChangeLink.objects.filter(
            Q(predecessor__key=value.strip()) | Q(successor__key=value.strip())
        )
        return queryset.filter(pk__in=links.values("event_id"))


class ListingFilterSet(django_filters.FilterSet):
    """A document listing's filters; ``applied`` is what each filter given came to (keys in
    upper case), for the listing to show."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.applied: dict[str, str] = {}


class RegisterListingFilter(ListingFilterSet, AsAtFilterSet):
    """``/doc/{register}?type=E06&status=live&parent=E12000008``."""

    type = django_filters.CharFilter(method="filter_type")
    status = django_filters.CharFilter(method="filter_one_status")
    parent = django_filters.CharFilter(method="filter_parent")

    class Meta:
        model = Entry
        fields: list[str] = []

    def filter_type(self, queryset, name, value):
        key = value.upper()
        if key not in reference.entity_type_keys():
            got = repr(value[:20])
            raise _refuse(
                name,
                f"must be an entity type code such as E06; {got} is not one.",
                gettext_noop(
                    "%(field)s must be an entity type code such as E06; %(got)s is not one."
                ),
                got=got,
            )
        self.applied[name] = key
        return queryset.of_type(key, self.date)

    def filter_one_status(self, queryset, name, value):
        self.applied[name] = _one_of(name, value, STATUS.values)
        return self.filter_status(queryset, name, value)

    def filter_parent(self, queryset, name, value):
        # Parents are in the listing's register (self.queryset, all of it): (register, key) is
        # the unique index.
        parent = self.queryset.filter(key=value.upper()).first()
        if parent is None:
            got = repr(value[:20])
            raise _refuse(
                name,
                f"must be the key of an entry; there is none called {got}.",
                gettext_noop(
                    "%(field)s must be the key of an entry; there is none called %(got)s."
                ),
                got=got,
            )
        self.applied[name] = parent.key
        return queryset.children_of(parent, self.date)


class EventListingFilter(ListingFilterSet):
    """``/doc/change-event?year=2021&kind=split``."""

    year = django_filters.CharFilter(method="filter_year")
    kind = django_filters.CharFilter(method="filter_kind")

    class Meta:
        model = ChangeEvent
        fields: list[str] = []

    def filter_year(self, queryset, name, value):
        if not (value.isdigit() and len(value) == 4):
            got = repr(value[:20])
            raise _refuse(
                name,
                f"must be four digits, such as 2020; got {got}.",
                gettext_noop("%(field)s must be four digits, such as 2020; got %(got)s."),
                got=got,
            )
        self.applied[name] = value
        return queryset.filter(date__year=int(value))

    def filter_kind(self, queryset, name, value):
        self.applied[name] = _one_of(name, value, EVENT_KIND.values, shown=30)
        return queryset.filter(kind=value)


class StrictOrderingFilter(OrderingFilter):
    """DRF's OrderingFilter, but an unknown ordering is a 400 rather than silently ignored."""

    ordering_fields = ["key"]
    ordering_description = "`key` (the default) or `-key` for reverse order."

    def get_ordering(self, request, queryset, view):
        value = request.query_params.get(self.ordering_param)
        if value:
            fields = [term.strip() for term in value.split(",")]
            valid = {"key", "-key"}
            if not all(field in valid for field in fields) or len(fields) != 1:
                raise BadParameter(self.ordering_param, "must be `key` or `-key`.")
            return fields
        return self.get_default_ordering(view)
