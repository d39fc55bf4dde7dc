"""UK geography rules that every change to the registry must keep (see
``registry.validation``): GSS codes match their entity type, and parents in each hierarchy are
of the kinds that hierarchy allows."""

from __future__ import annotations

from registry.snapshots import split_ref
from registry.validation import Context, register_rule

from .gss import is_gss
from .hierarchies import ALLOWED_PARENTS
from .registers import AREAS


@register_rule
def gss_code_matches_entity_type(c: Context) -> list[str]:
    if c.register.slug != AREAS:
        return []
    if not is_gss(c.key):
        return [f"“{c.key}” is not a GSS code: a letter (E, W, S, N, K, L or M) and eight digits."]
    messages = []
    for entity_type in sorted({row[3] for row in c.snapshot["states"] if row[3]}):
        if c.key[:3] != entity_type:
            messages.append(
                f"The code {c.key} does not match its entity type {entity_type}: "
                f"codes of that type start with {entity_type}."
            )
    return messages


@register_rule
def parents_are_of_allowed_types(c: Context) -> list[str]:
    messages = []
    if c.register.slug != AREAS:
        return []
    for kind, hierarchy, ref, _start, _end in c.new["relations"]:
        if kind != "parent":
            continue
        allowed = ALLOWED_PARENTS.get(hierarchy)
        register, key = split_ref(ref)
        if allowed is None:
            messages.append(
                f"“{hierarchy}” is not a hierarchy; use one of {', '.join(sorted(ALLOWED_PARENTS))}."
            )
            continue
        if register != AREAS:
            messages.append(f"A {hierarchy} parent must be an area; {ref} is not.")
            continue
        if key[:3] not in allowed:
            messages.append(
                f"A {hierarchy} parent must be of type {', '.join(sorted(allowed))}; "
                f"{key} is of type {key[:3]}."
            )
    return messages
