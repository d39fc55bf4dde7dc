"""The admin site for curators: Django's, with entries offered by code and name.

Django's autocomplete (the parent of a relation, the entity type of a state, a successor)
labels each choice with ``str(entry)``, ``statistical-geography/E92000001``, which says nothing
to a person; this site's autocomplete labels it ``E92000001 England``
from the name that ``EntryAdmin.get_queryset`` puts beside each entry in the same query.
``RegistryAdminConfig`` makes it the default site (``INSTALLED_APPS``), so ``admin.site`` and
``@admin.register`` are this site.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.views.autocomplete import AutocompleteJsonView


def entry_label(entry) -> str:
    """An entry for a person choosing it: its code and name (the ``latest_name`` annotation of
    ``EntryAdmin.get_queryset``), or its code and register if it has no name."""
    name = getattr(entry, "latest_name", None)
    return f"{entry.key} {name}" if name else f"{entry.key} ({entry.register.slug})"


class EntryAutocompleteJsonView(AutocompleteJsonView):
    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        if obj._meta.label == "registry.Entry":
            result["text"] = entry_label(obj)
        return result


class RegistryAdminSite(admin.AdminSite):
    site_header = "Reference Registry curation"
    site_title = "Reference Registry"
    index_title = "Registers, entries and their history"

    def autocomplete_view(self, request):
        return EntryAutocompleteJsonView.as_view(admin_site=self)(request)


class RegistryAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`RegistryAdminSite` as its default site."""

    default_site = "registry.admin_site.RegistryAdminSite"
