"""The admin for curators.

Entries are shown and chosen by code and name (``registry.admin_site``), every field of the
inline tables carries a label for screen readers (:class:`LabelledFormSet`), an entry's
attributes are edited one field per attribute, and its HISTORY is the registry's own
versions with what each changed, not Django's log of admin actions (which the registry does
not keep: every change, by a curator or an import, is a :class:`~registry.models.Version`).

Nothing here writes to the registry tables directly: a save builds the entry's snapshot from
the form and its inlines and hands it to ``registry.services.save_entry``, so a curator's
edit is validated by the same rules as an import and leaves a version with the curator's
change note. Entries cannot be deleted and their keys cannot change (persistent URIs):
curators terminate them instead, with the "terminate with successors" action.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import (
    AutocompleteSelect,
    AutocompleteSelectMultiple,
    RelatedFieldWidgetWrapper,
)
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import profiles, queries
from .admin_site import entry_label
from .auth import ThrottledAdminLoginForm
from .models import (
    EVENT_KIND,
    ChangeEvent,
    ChangeLink,
    Entry,
    Identifier,
    ImportRun,
    Name,
    Register,
    Relation,
    State,
    Version,
    covering,
)
from .services import (
    Actor,
    ServiceError,
    ValidationFailed,
    current_snapshot,
    restore_version,
    save_entry,
    terminate_with_successors,
)
from .snapshots import (
    RECORDS,
    IdentifierRecord,
    NameRecord,
    RelationRecord,
    StateRecord,
    record,
)
from .validation import validate_entry
from .validtime import iso

admin.site.login_form = ThrottledAdminLoginForm


def latest_name(column: str = "pk"):
    """The latest English official name of the entry in the outer query's ``column`` (today's,
    or a terminated entry's last): the name an entry is shown by in lists and choices."""
    latest = Name.objects.filter(entry=OuterRef(column), language="en", kind="official").order_by(
        F("valid_from").desc(nulls_last=True)
    )
    return Subquery(latest.values("text")[:1])


def named_choices(field):
    """A choice of entries (a parent, an entity type) labelled by code and name."""
    if field is not None and getattr(field, "queryset", None) is not None:
        field.queryset = field.queryset.select_related("register").annotate(
            latest_name=latest_name()
        )
        field.label_from_instance = entry_label
    return field


class NamedAutocomplete:
    """Django's autocomplete, whose box (named by the text it shows) shows a placeholder when
    nothing is chosen, rather than nothing: without it, screen readers (and axe) meet a
    nameless combobox."""

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs["data-placeholder"] = "Type a code or a name"
        return attrs


class NamedAutocompleteSelect(NamedAutocomplete, AutocompleteSelect):
    pass


class NamedAutocompleteSelectMultiple(NamedAutocomplete, AutocompleteSelectMultiple):
    pass


# -- Inlines --------------------------------------------------------------------------------


class LabelledFormSet(BaseInlineFormSet):
    """Inline rows whose fields each have an accessible name. A tabular inline heads its
    columns but labels no field, so a screen reader (and axe) meets dozens of unnamed inputs
    and selects; each gets ``aria-label`` "Language, name 2" and so on."""

    def _label(self, form, row: str) -> None:
        noun = self.model._meta.verbose_name
        for name, field in form.fields.items():
            label = "Delete" if name == "DELETE" else (field.label or name)
            # The widget itself, inside the admin's wrapper of a choice of entries (whose
            # own ``attrs`` is another widget's after a form's deep copy).
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs["aria-label"] = f"{str(label).capitalize()}, {noun} {row}"

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        self._label(form, str(i + 1))
        return form

    @property
    def empty_form(self):
        form = super().empty_form
        self._label(form, "(new)")
        return form


class RegistryInline(admin.TabularInline):
    formset = LabelledFormSet
    extra = 0
    classes = ["registry-inline"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = NamedAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return named_choices(super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(formfield, "widget", None)
        if isinstance(widget, RelatedFieldWidgetWrapper):
            # A parent or an entity type is chosen here, not added or edited in a pop-up
            # (its own page does that, through the services): two icons fewer per row.
            widget.can_add_related = widget.can_change_related = False
        return formfield


class NameInline(RegistryInline):
    model = Name
    fields = ["language", "kind", "text", "valid_from", "valid_to"]


class IdentifierInline(RegistryInline):
    model = Identifier
    fields = ["scheme", "value", "valid_from", "valid_to"]


class StateInline(RegistryInline):
    model = State
    fk_name = "entry"
    fields = ["status", "entity_type", "valid_from", "valid_to"]
    autocomplete_fields = ["entity_type"]


class RelationInline(RegistryInline):
    model = Relation
    fk_name = "subject"
    fields = ["kind", "hierarchy", "object", "valid_from", "valid_to"]
    autocomplete_fields = ["object"]
    verbose_name = "parent or governed area"
    verbose_name_plural = "parents and governed areas"


INLINES = [NameInline, IdentifierInline, StateInline, RelationInline]


def snapshot_from_formsets(formsets, attributes: dict) -> dict:
    """The snapshot that the submitted inline forms describe (deleted rows left out)."""
    snapshot: dict = {
        "names": [],
        "identifiers": [],
        "states": [],
        "relations": [],
        "attributes": attributes,
    }
    for formset in formsets:
        for data in formset.cleaned_data:
            if not data or data.get("DELETE"):
                continue
            model = formset.model
            start, end = iso(data["valid_from"]), iso(data["valid_to"])
            if model is Name:
                snapshot["names"].append(
                    NameRecord(data["language"], data["kind"], data["text"], start, end)
                )
            elif model is Identifier:
                snapshot["identifiers"].append(
                    IdentifierRecord(data["scheme"], data["value"], start, end)
                )
            elif model is State:
                entity_type = data.get("entity_type")
                key = entity_type.key if entity_type else None
                snapshot["states"].append(StateRecord(start, end, data["status"], key))
            elif model is Relation:
                target = data["object"]
                snapshot["relations"].append(
                    RelationRecord(
                        data["kind"],
                        data.get("hierarchy", ""),
                        f"{target.register.slug}/{target.key}",
                        start,
                        end,
                    )
                )
    return snapshot


# -- Entries --------------------------------------------------------------------------------


ATTRIBUTE_PREFIX = "attribute__"


def attribute_fields(attributes: dict) -> dict[str, forms.Field]:
    """One form field per attribute an entry holds, named ``attribute__<key>``: a checkbox for
    a true/false one, a text box for text, and JSON for numbers, lists and objects."""
    fields: dict[str, forms.Field] = {}
    for key, value in sorted((attributes or {}).items()):
        label = key.replace("_", " ").capitalize()
        if isinstance(value, bool):
            field: forms.Field = forms.BooleanField(required=False, label=label)
        elif isinstance(value, str):
            field = forms.CharField(required=False, label=label, strip=False)
        else:
            field = forms.JSONField(required=False, label=label, help_text="JSON.")
        field.initial = value
        fields[f"{ATTRIBUTE_PREFIX}{key}"] = field
    return fields


class EntryForm(forms.ModelForm):
    change_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why you are making this change (shown in the entry's history).",
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Entry
        fields = ["register", "key"]

    # Set by EntryAdmin.get_form: the request, whose inline formsets the form validates.
    request = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["expected_version"].initial = self.instance.version

    def attributes(self) -> dict:
        """The attributes the form describes: the entry's, as edited in their fields."""
        attributes = dict(self.instance.attributes or {}) if self.instance.pk else {}
        for name in self.fields:
            if name.startswith(ATTRIBUTE_PREFIX):
                key = name.removeprefix(ATTRIBUTE_PREFIX)
                attributes[key] = self.cleaned_data.get(name)
        return attributes

    def clean(self):
        cleaned = super().clean()
        formsets = getattr(self.request, "_registry_formsets", None)
        if formsets is None or not all(f.is_valid() for f in formsets):
            return cleaned  # the inline forms show their own errors
        register = cleaned.get("register") or self.instance.register
        key = cleaned.get("key") or self.instance.key
        if register is None or not key:
            return cleaned
        snapshot = snapshot_from_formsets(formsets, self.attributes())
        existing = Entry.objects.filter(register=register, key=key).first()
        if existing is not None and not self.instance.pk:
            raise ValidationError(
                f"{key} already exists in {register.name}: edit that entry instead."
            )
        expected = cleaned.get("expected_version")
        if existing is not None and expected is not None and existing.version != expected:
            raise ValidationError(
                f"{key} was changed by someone else (now version {existing.version}) after you "
                f"opened it (version {expected}). Reload the page to see that change."
            )
        problems = validate_entry(register, key, snapshot, existing.pk if existing else None)
        if problems:
            raise ValidationError(problems)
        self.snapshot = snapshot
        return cleaned


class StatusFilter(admin.SimpleListFilter):
    title = "status today"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("terminated", "Terminated")]

    def queryset(self, request, queryset):
        if self.value() in {"live", "terminated"}:
            states = State.objects.filter(covering(queries.today()), status=self.value())
            return queryset.filter(pk__in=states.values("entry_id"))
        return queryset


class EntityTypeFilter(admin.SimpleListFilter):
    title = "entity type"
    parameter_name = "entity_type"

    def lookups(self, request, model_admin):
        types = (
            Entry.objects.in_register(profiles.entity_type_register())
            .filter(pk__in=State.objects.values("entity_type_id"))
            .annotate(latest_name=latest_name())
        )
        return [
            (e.key, f"{e.key} {e.latest_name}" if e.latest_name else e.key)
            for e in types.order_by("key")
        ]

    def queryset(self, request, queryset):
        return queryset.of_type(self.value()) if self.value() else queryset


class LiveOnFilter(admin.SimpleListFilter):
    title = "live on 1 January"
    parameter_name = "live_in"

    def lookups(self, request, model_admin):
        return [(str(y), str(y)) for y in range(queries.today().year, 2008, -1)]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.valid_on(dt.date(int(self.value()), 1, 1))
        return queryset


class TerminateForm(forms.Form):
    date = forms.DateField(
        help_text="The first day of the successors (the entries end the day before). YYYY-MM-DD."
    )
    kind = forms.ChoiceField(choices=[c for c in EVENT_KIND.choices if c[0] != EVENT_KIND.CREATION])
    instrument_id = forms.CharField(
        required=False, label="Statutory instrument number", help_text="For example 2019/957."
    )
    instrument_title = forms.CharField(required=False, label="Statutory instrument title")
    successors = forms.ModelMultipleChoiceField(
        queryset=Entry.objects.select_related("register").annotate(latest_name=latest_name()),
        required=False,
        label="Existing successors",
        help_text="Type a code or a name to find each.",
    )
    new_successors = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="New successor entries, one per line: code, English name (for example “E06000099, Kent Downs”).",
    )
    change_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))  # fmt: skip

    def __init__(self, *args, admin_site=None, **kwargs):
        super().__init__(*args, **kwargs)
        successors = self.fields["successors"]
        successors.label_from_instance = entry_label
        # Chosen like a parent: Django's autocomplete, searched by code, name or identifier.
        successors.widget = NamedAutocompleteSelectMultiple(
            ChangeLink._meta.get_field("successor"), admin_site or admin.site
        )
        successors.widget.choices = successors.choices


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    form = EntryForm
    inlines = INLINES
    list_display = ["key", "register", "current_name", "version"]
    list_filter = ["register", StatusFilter, EntityTypeFilter, LiveOnFilter]
    search_fields = ["key", "names__text", "identifiers__value"]
    list_select_related = ["register"]
    actions = ["terminate_with_successors"]
    show_full_result_count = False

    def get_queryset(self, request):
        # The latest English official name (today's, or a terminated entry's last), in the
        # same query as the list (and the autocomplete's choices).
        return super().get_queryset(request).annotate(latest_name=latest_name())

    def get_search_results(self, request, queryset, search_term):
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("model_name") == "state" and request.GET.get("field_name") == (
            "entity_type"
        ):
            # Choosing a state's entity type: only the entity types.
            queryset = queryset.filter(register__slug=profiles.entity_type_register())
        if search_term and request.path == reverse("admin:autocomplete"):
            # A choice offers the entry with that very code first, then those of that very
            # name (Wales the country before Walesby and Rotherham 031's ward).
            term = search_term.strip()
            queryset = queryset.annotate(
                closeness=Case(
                    When(key__iexact=term, then=Value(0)),
                    When(latest_name__iexact=term, then=Value(1)),
                    default=Value(2),
                )
            ).order_by("closeness", "key")
        return queryset, duplicates

    @admin.display(description="Name", ordering="latest_name")
    def current_name(self, obj: Entry) -> str:
        return obj.latest_name or ""

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The entry's attributes, each a field of its own (none when it has none).
        extra = attribute_fields(obj.attributes if obj else {})
        base = type(self.form.__name__, (self.form,), {"request": request, **extra})
        return super().get_form(request, obj, change=change, form=base, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # A key never changes once the entry exists: its URI must keep its meaning.
        return ["register", "key", "version_history"] if obj else ["version_history"]

    def get_fields(self, request, obj=None):
        attributes = list(attribute_fields(obj.attributes if obj else {}))
        fields = ["register", "key", *attributes, "change_note", "expected_version"]
        return [*fields, "version_history"] if obj else fields

    @admin.display(description="History")
    def version_history(self, obj: Entry) -> str:
        url = reverse("admin:registry_entry_versions", args=[obj.pk])
        return format_html(
            '<a href="{}">Version {} — see every version and what changed</a>', url, obj.version
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def _create_formsets(self, request, obj, change):
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        request._registry_formsets = formsets  # validated together in EntryForm.clean
        return formsets, inline_instances

    def save_model(self, request, obj, form, change):
        pass  # written with its inlines, through the services, in save_related

    def save_formset(self, request, form, formset, change):
        pass

    def save_related(self, request, form, formsets, change):
        register = form.cleaned_data.get("register") or form.instance.register
        key = form.cleaned_data.get("key") or form.instance.key
        actor = Actor(user=request.user, reason=form.cleaned_data["change_note"])
        entry = save_entry(
            register,
            key,
            form.snapshot,
            actor,
            expected_version=form.cleaned_data.get("expected_version"),
        )
        form.instance.pk = entry.pk
        form.instance.version = entry.version

    def construct_change_message(self, request, form, formsets, add=False):
        return form.cleaned_data.get("change_note", "")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if (
            request.method == "POST"
            and object_id
            and request.POST.get("expected_version", "").isdigit()
        ):
            # A form opened before someone else saved: its inline rows no longer exist, so
            # say so plainly rather than through the inline forms' errors.
            entry = self.get_object(request, object_id)
            opened = int(request.POST["expected_version"])
            if entry is not None and entry.version != opened:
                self.message_user(
                    request,
                    f"{entry.key} was changed by someone else (now version {entry.version}) after "
                    f"you opened it (version {opened}). Your changes were not saved: here is the "
                    "entry as it is now; make them again.",
                    messages.ERROR,
                )
                return HttpResponseRedirect(request.path)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as error:
            # Raised only if the entry changed between validation and saving.
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # -- History and restore --------------------------------------------------------------

    def history_view(self, request, object_id, extra_context=None):
        # The HISTORY button: the registry's versions, not Django's log of admin actions.
        if not str(object_id).isdigit():
            raise Http404("No such entry.")
        return self.versions_view(request, int(object_id))

    def get_urls(self):
        urls = super().get_urls()
        own = [
            path("<int:pk>/versions/", self.admin_site.admin_view(self.versions_view), name="registry_entry_versions"),
            path("<int:pk>/versions/<int:number>/restore/", self.admin_site.admin_view(self.restore_view), name="registry_entry_restore"),
        ]  # fmt: skip
        return own + urls

    def versions_view(self, request, pk):
        entry = get_object_or_404(Entry.objects.select_related("register"), pk=pk)
        if not self.has_view_or_change_permission(request, entry):
            raise PermissionDenied
        versions = entry.versions.select_related("user", "import_run").order_by("-number")
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {entry}",
            "entry": entry,
            "versions": [(v, _readable(v.changes)) for v in versions],
            "can_restore": self.has_change_permission(request, entry),
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/registry/entry/versions.html", context)

    def restore_view(self, request, pk, number):
        entry = get_object_or_404(Entry.objects.select_related("register"), pk=pk)
        if not self.has_change_permission(request, entry):
            raise PermissionDenied
        version = get_object_or_404(Version, entry=entry, number=number)
        form = RestoreForm(
            request.POST or None, initial={"change_note": f"Restore version {number}"}
        )
        if request.method == "POST" and form.is_valid():
            try:
                restore_version(
                    entry, number, Actor(user=request.user, reason=form.cleaned_data["change_note"])
                )
            except ServiceError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, f"Restored {entry.key} to version {number}; recorded as a new version."
                )
                return HttpResponseRedirect(
                    reverse("admin:registry_entry_versions", args=[entry.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore {entry} to version {number}",
            "entry": entry,
            "version": version,
            "changes": _readable(_diff_to(entry, version)),
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/registry/entry/restore.html", context)

    # -- Terminate with successors ---------------------------------------------------------

    @admin.action(description="Terminate with successors…", permissions=["change"])
    def terminate_with_successors(self, request, queryset):
        form = TerminateForm(
            request.POST if "apply" in request.POST else None, admin_site=self.admin_site
        )
        if "apply" in request.POST and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():  # every selected entry, or none
                    events = self._terminate(
                        request, list(queryset.select_related("register")), data
                    )
            except ValidationFailed as error:
                for message in error.messages:
                    form.add_error(None, message)
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                keys = ", ".join(e.key for e in events)
                self.message_user(request, f"Recorded change event(s) {keys}.")
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Terminate with successors",
            "entries": queryset,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "opts": self.opts,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/registry/entry/terminate.html", context)

    def _terminate(self, request, entries: list[Entry], data: dict) -> list[ChangeEvent]:
        register = entries[0].register
        successors = list(data["successors"])
        elsewhere = [s.key for s in successors if s.register_id != register.pk]
        if elsewhere:
            raise ValidationFailed(
                [
                    f"{key} is not in {register.name}: a successor is in its register."
                    for key in elsewhere
                ]
            )
        new = []
        for line in data["new_successors"].splitlines():
            if not line.strip():
                continue
            code, _, name = (part.strip() for part in line.partition(","))
            if not name:
                raise ValidationFailed([f"Give the new successor {code} a name: “{code}, Name”."])
            start = data["date"].isoformat()
            implied = profiles.implied_entity_type(register.slug, code)
            entity_type = (
                implied
                if implied
                and Entry.objects.in_register(profiles.entity_type_register())
                .filter(key=implied)
                .exists()
                else None
            )
            new.append((code, {"names": [["en", "official", name, start, None]], "identifiers": [], "states": [[start, None, "live", entity_type]], "relations": [], "attributes": {}}))  # fmt: skip
        actor = Actor(user=request.user, reason=data["change_note"])
        events = []
        for index, entry in enumerate(entries):
            # New successors are created with the first entry and shared by the others.
            if index and new:
                successors += list(
                    Entry.objects.filter(register=register, key__in=[c for c, _ in new])
                )
                new = []
            events.append(
                terminate_with_successors(
                    entry,
                    data["date"],
                    data["kind"],
                    successors,
                    actor,
                    new_successors=new,
                    instrument_id=data["instrument_id"],
                    instrument_title=data["instrument_title"],
                )  # fmt: skip
            )
        return events


class RestoreForm(forms.Form):
    change_note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


def _diff_to(entry: Entry, version: Version) -> dict:
    from .snapshots import diff

    return diff(current_snapshot(entry), version.snapshot)


FIELD_LABELS = {"names": "Names", "identifiers": "Identifiers", "states": "States", "relations": "Parents and governed areas", "attributes": "Attributes"}  # fmt: skip


def _row(field: str, row: list) -> str:
    if field not in RECORDS:
        return str(row)
    r = record(field, row)
    if not hasattr(r, "valid_from"):
        return str(row)  # not of the shape of its list (an old or hand-made version)
    period = _period(r.valid_from, r.valid_to)
    if field == "names":
        return f"“{r.text}” ({r.language}, {r.kind}) {period}"
    if field == "identifiers":
        return f"{r.scheme} {r.value} {period}"
    if field == "states":
        return f"{r.status} ({r.entity_type or 'no type'}) {period}"
    return f"{r.kind} {r.hierarchy} {r.target} {period}".replace("  ", " ")


def _period(start, end) -> str:
    return f"from {start or '…'} to {end}" if end else f"from {start or '…'}"


def _readable(changes: dict) -> list[tuple[str, list[str], list[str]]]:
    """A version's changes as (section, added lines, removed lines), for people."""
    if changes.get("created"):
        return [("Created", [], [])]
    result = []
    for field, change in changes.items():
        label = FIELD_LABELS.get(field, field)
        if field == "attributes":
            result.append(
                (
                    label,
                    [f"{k}: {v[1]!r}" for k, v in change.items()],
                    [f"{k}: {v[0]!r}" for k, v in change.items()],
                )
            )
        else:
            result.append(
                (
                    label,
                    [_row(field, r) for r in change.get("added", [])],
                    [_row(field, r) for r in change.get("removed", [])],
                )
            )
    return result  # fmt: skip


# -- Other models ---------------------------------------------------------------------------


@admin.register(Register)
class RegisterAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "licence"]
    search_fields = ["slug", "name"]

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False


class ChangeLinkInline(admin.TabularInline):
    model = ChangeLink
    fields = ["predecessor_named", "successor_named"]
    readonly_fields = ["predecessor_named", "successor_named"]
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("predecessor__register", "successor__register")
            .annotate(
                predecessor_name=latest_name("predecessor_id"),
                successor_name=latest_name("successor_id"),
            )
        )

    @admin.display(description="Predecessor")
    def predecessor_named(self, link: ChangeLink) -> str:
        return _linked(link.predecessor, link.predecessor_name)

    @admin.display(description="Successor")
    def successor_named(self, link: ChangeLink) -> str:
        return _linked(link.successor, link.successor_name)

    def has_add_permission(self, request, obj=None):
        return False


def _linked(entry: Entry, name: str | None) -> str:
    entry.latest_name = name
    url = reverse("admin:registry_entry_change", args=[entry.pk])
    return format_html('<a href="{}">{}</a>', url, entry_label(entry))


@admin.register(ChangeEvent)
class ChangeEventAdmin(admin.ModelAdmin):
    list_display = ["key", "date", "kind", "instrument_id", "instrument_title"]
    list_filter = ["kind"]
    search_fields = [
        "key",
        "instrument_id",
        "instrument_title",
        "links__predecessor__key",
        "links__successor__key",
    ]
    readonly_fields = [
        "key",
        "date",
        "kind",
        "instrument_id",
        "instrument_title",
        "note",
        "version",
    ]
    inlines = [ChangeLinkInline]
    date_hierarchy = "date"

    def has_add_permission(self, request):
        return False  # events are recorded by "terminate with successors" and imports

    def has_delete_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        # The HISTORY button: the registry's versions of the event (who recorded it, when,
        # why, what changed), as an entry's HISTORY shows, not Django's empty admin log.
        if not str(object_id).isdigit():
            raise Http404("No such change event.")
        event = get_object_or_404(ChangeEvent, pk=int(object_id))
        if not self.has_view_or_change_permission(request, event):
            raise PermissionDenied
        versions = event.versions.select_related("user", "import_run").order_by("-number")
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {event}",
            "event": event,
            "versions": [(v, _readable(v.changes)) for v in versions],
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/registry/changeevent/versions.html", context)


class RecordAdmin(admin.ModelAdmin):
    """A record of what happened (versions, import runs): anyone who may see it reads it;
    nobody adds, changes or deletes it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Version)
class VersionAdmin(RecordAdmin):
    list_display = ["__str__", "recorded_at", "user", "import_run", "reason"]
    list_select_related = ["entry__register", "event", "user", "import_run"]
    search_fields = ["entry__key", "event__key", "reason", "source"]
    list_filter = [("user", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "recorded_at"
    show_full_result_count = False


@admin.register(ImportRun)
class ImportRunAdmin(RecordAdmin):
    list_display = ["command", "started_at", "finished_at", "dry_run"]
    readonly_fields = ["command", "started_at", "finished_at", "sources", "counts", "dry_run"]
