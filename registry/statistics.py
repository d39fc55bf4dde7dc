"""Counts over the whole registry, and the registers themselves, for the pages and APIs that
show the registry at a glance: the front page, the downloads page, the VoID description and
the lookup API's lists of registers and entity types.

Every count is one aggregate query; nothing here knows which registers a domain has (callers
pass a register's slug where a count is about one).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.db.models import Count
from django.db.models.functions import ExtractYear

from .models import STATUS, ChangeEvent, Entry, Identifier, Register, State, covering

_registers: tuple[float, dict[str, Register]] = (0.0, {})


def registers() -> dict[str, Register]:
    """The registers by slug, kept in this process for a minute (there are three, they
    hardly change, and every request needs them: a module-level dict saves the pickling a
    cache would cost)."""
    global _registers
    loaded_at, found = _registers
    if time.monotonic() - loaded_at > 60 or not found:
        found = {register.slug: register for register in Register.objects.all()}
        _registers = (time.monotonic(), found)
    return found


def entry_counts() -> dict[int, int]:
    """How many entries each register holds (by register id), live or not."""
    return dict(
        Entry.objects.values("register_id").annotate(n=Count("id")).values_list("register_id", "n")
    )


def live_counts(date: dt.date) -> dict[int, int]:
    """How many entries of each register (by register id) were live on ``date``."""
    return dict(
        Entry.objects.valid_on(date)
        .values("register_id")
        .annotate(n=Count("id"))
        .values_list("register_id", "n")
    )


def register_summaries() -> list[dict[str, Any]]:
    """Each register, in slug order, with its licence, its entry count and its first key (an
    example for the downloads page and the VoID description)."""
    counts = entry_counts()
    result = []
    for slug, register in sorted(registers().items()):
        first = (
            Entry.objects.filter(register=register)
            .order_by("key")
            .values_list("key", flat=True)
            .first()
        )
        result.append(
            {
                "slug": slug,
                "name": register.name,
                "description": register.description,
                "licence": register.licence,
                "attribution": register.attribution,
                "entries": counts.get(register.pk, 0),
                "example": first,
            }
        )
    return result


def entity_type_counts(
    date: dt.date, ids: list[int] | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """For each entity type (by entry id; only ``ids`` if given): how many entries have ever
    been of it, and how many were live and of it on ``date``."""
    states = State.objects.filter(entity_type__isnull=False)
    if ids is not None:
        states = states.filter(entity_type_id__in=ids)
    total = dict(
        states.values("entity_type_id")
        .annotate(n=Count("entry_id", distinct=True))
        .values_list("entity_type_id", "n")
    )
    live = dict(
        states.filter(covering(date), status=STATUS.LIVE)
        .values("entity_type_id")
        .annotate(n=Count("entry_id", distinct=True))
        .values_list("entity_type_id", "n")
    )
    return total, live


def live_by_entity_type(date: dt.date, register: str) -> list[dict[str, Any]]:
    """The entries of ``register`` live on ``date``, counted by entity type, in key order:
    ``entity_type_id``, ``entity_type__key`` and ``n``."""
    return list(
        State.objects.filter(covering(date), status=STATUS.LIVE, entry__register__slug=register)
        .values("entity_type_id", "entity_type__key")
        .annotate(n=Count("id"))
        .order_by("entity_type__key")
    )


def scheme_counts() -> list[tuple[str, int]]:
    """Each identifier scheme, in order, with how many identifiers it has."""
    return list(
        Identifier.objects.values("scheme")
        .annotate(n=Count("id"))
        .order_by("scheme")
        .values_list("scheme", "n")
    )


def change_counts() -> list[dict[str, Any]]:
    """Change events per year and kind (``year``, ``kind``, ``n``), for the front page's
    chart."""
    return list(
        ChangeEvent.objects.annotate(year=ExtractYear("date"))
        .values("year", "kind")
        .annotate(n=Count("id"))
        .order_by("year", "kind")
    )
