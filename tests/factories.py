"""Small builders of registry data for tests, each taking overrides (``kwargs.setdefault``).

Entries and change events are written through ``registry.services.sync_entries`` and
``sync_events`` with an :class:`~registry.services.Actor`, as the loader writes them, so each
gets a version like real data. Rows are as in a version snapshot (``registry/snapshots.py``),
with dates as ISO strings:

- ``names``: ``[language, kind, text, valid_from, valid_to]``
- ``identifiers``: ``[scheme, value, valid_from, valid_to]``
- ``states``: ``[valid_from, valid_to, status, entity_type_key]``
- ``relations``: ``[kind, hierarchy, "register/key", valid_from, valid_to]``

The defaults keep the registry's rules (``registry/validation.py``, ``geography/rules.py``): an
area's key matches its entity type, which is made in ``statistical-entity`` if missing, and
its parents are live while it lies within them. Default keys (``E06900001``…, or of the
``entity_type`` given) are far above any code ONS has issued, so the factories work on the
loaded registry as well as on an empty one (the ``empty_registry`` fixture).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from geography.registers import AREAS, ENTITY_TYPES, REGISTERS
from registry.models import ChangeEvent, Entry, Register
from registry.services import Actor, lifetime_states, sync_entries, sync_events
from registry.validtime import iso

_numbers = itertools.count(900001)


def ref(entry: Entry | str) -> str:
    """``register/key`` of an entry (or a ref, as it is)."""
    return entry if isinstance(entry, str) else f"{entry.register.slug}/{entry.key}"


class Factory:
    actor = Actor(reason="Test data made by tests/factories.py")

    def make_register(self, **kwargs) -> Register:
        """The register ``slug`` (default ``statistical-geography``), made as the loader
        describes it if the registry has none yet."""
        slug = kwargs.setdefault("slug", AREAS)
        for field, value in REGISTERS.get(slug, {}).items():
            kwargs.setdefault(field, value)
        kwargs.setdefault("name", slug)
        kwargs.setdefault("key_pattern", r"^[A-Z0-9-]+$")
        register, _ = Register.objects.get_or_create(slug=slug, defaults=kwargs)
        return register

    def make_entity_type(self, **kwargs) -> Entry:
        """An entry of ``statistical-entity`` (default ``E06``, unitary authorities)."""
        key = kwargs.setdefault("key", "E06")
        kwargs.setdefault("register", ENTITY_TYPES)
        kwargs.setdefault("name", f"Entity type {key}")
        kwargs.setdefault("entity_type", None)
        return self.make_entry(**kwargs)

    def make_entry(self, **kwargs) -> Entry:
        """An entry, live from ``operative`` (default 2009-01-01) and, with ``terminated``,
        ended then; an area's entity type is its key's first three characters. Give whole rows (``names``, ``identifiers``, ``states``, ``relations``,
        ``attributes``) or the short forms: ``name`` and ``name_cy`` (official names over the
        lifetime), ``parents`` (hierarchy → entry or ref, over the lifetime) and
        ``identifiers`` as ``{scheme: value}``."""
        register = kwargs.setdefault("register", AREAS)
        if register == AREAS:  # an area's code starts with its entity type
            kwargs.setdefault("entity_type", kwargs["key"][:3] if "key" in kwargs else "E06")
        entity_type = kwargs.setdefault("entity_type", None)
        key = kwargs.setdefault("key", f"{entity_type or 'E06'}{next(_numbers):06d}")
        operative = kwargs.setdefault("operative", dt.date(2009, 1, 1))
        terminated = kwargs.setdefault("terminated", None)
        start, end = operative.isoformat(), iso(terminated)
        name = kwargs.setdefault("name", f"Test area {key}")

        self.make_register(slug=register)
        if (
            entity_type
            and not Entry.objects.filter(register__slug=ENTITY_TYPES, key=entity_type).exists()
        ):
            self.make_entity_type(key=entity_type)

        names = [["en", "official", name, start, end]]
        if kwargs.get("name_cy"):
            names.append(["cy", "official", kwargs["name_cy"], start, end])
        identifiers = kwargs.get("identifiers", {})
        if isinstance(identifiers, dict):
            identifiers = [[scheme, value, start, end] for scheme, value in identifiers.items()]
        parents = kwargs.get("parents", {})
        snapshot: dict[str, Any] = {
            "names": kwargs.get("names", names),
            "identifiers": identifiers,
            "states": kwargs.get("states", lifetime_states(operative, terminated, entity_type)),
            "relations": kwargs.get(
                "relations",
                [["parent", h, ref(parent), start, end] for h, parent in parents.items()],
            ),
            "attributes": kwargs.get("attributes", {}),
        }
        sync_entries({f"{register}/{key}": snapshot}, kwargs.get("actor", self.actor))
        return Entry.objects.select_related("register").get(register__slug=register, key=key)

    def make_event(self, **kwargs) -> ChangeEvent:
        """A change event on ``date`` (default 2020-04-01) linking each of ``predecessors``
        to each of ``successors`` (entries or refs), or the given ``links`` (pairs of refs,
        None for no side); keyed by its date and lowest code, as the loader keys them."""
        date = kwargs.setdefault("date", dt.date(2020, 4, 1))
        predecessors = [ref(e) for e in kwargs.get("predecessors", [])]
        successors = [ref(e) for e in kwargs.get("successors", [])]
        links = kwargs.setdefault(
            "links",
            [[p, s] for p in predecessors or [None] for s in successors or [None]],
        )
        codes = sorted({side.partition("/")[2] for pair in links for side in pair if side})
        key = kwargs.setdefault("key", f"{date.isoformat()}-{codes[0]}")
        snapshot = {
            "date": date.isoformat(),
            "kind": kwargs.get("kind", "merge"),
            "instrument_id": kwargs.get("instrument_id", ""),
            "instrument_title": kwargs.get("instrument_title", ""),
            "note": kwargs.get("note", ""),
            "links": links,
        }
        sync_events({key: snapshot}, kwargs.get("actor", self.actor))
        return ChangeEvent.objects.get(key=key)
