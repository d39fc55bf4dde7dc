"""The front page: what the registry holds, at a glance."""

from django.db.models import Count
from django.shortcuts import render

from registry.models import STATUS, Name, Register, State, covering
from registry.queries import today


def home(request):
    """Entries per register, and live areas per entity type today."""
    date = today()
    registers = Register.objects.annotate(entry_count=Count("entries")).order_by("slug")
    live = list(
        State.objects.filter(
            covering(date), status=STATUS.LIVE, entry__register__slug="statistical-geography"
        )
        .values("entity_type_id", "entity_type__key")
        .annotate(n=Count("id"))
        .order_by("entity_type__key")
    )
    names = dict(
        Name.objects.filter(
            entry_id__in=[row["entity_type_id"] for row in live], language="en", kind="official"
        ).values_list("entry_id", "text")
    )
    for row in live:
        row["name"] = names.get(row["entity_type_id"], "")
    context = {"registers": registers, "date": date, "live": live}
    return render(request, "api/home.html", context)
