"""``{% boundary_map register key date explicit seen_on as drawn %}``: the entry's map
(``api.maps``), or an empty string when no boundary of it holds on the day."""

from django import template
from django.utils.safestring import mark_safe

from api import maps
from geography.registers import AREAS
from registry.models import Entry

register = template.Library()


@register.simple_tag
def boundary_map(register_slug, key, date, explicit, seen_on=None):
    if register_slug != AREAS:
        return ""
    found = Entry.objects.filter(register__slug=AREAS, key=key).values_list("pk", "version").first()
    if found is None:
        return ""
    drawn = maps.entry_map(found[0], key, found[1], seen_on or date, explicit)
    return mark_safe(drawn) if drawn else ""  # noqa: S308 - built from escaped parts
