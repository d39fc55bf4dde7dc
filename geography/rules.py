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
        return [
            f"“{c.key}” is not a GSS code: a letter (E, W, S, N, K, L, M or J) and eight digits."
        ]
    messages = []
    for entity_type in sorted({row.entity_type for row in c.snapshot["states"] if row.entity_type}):
        if c.key[:3] != entity_type:
            messages.append(
                f"The code {c.key} does not match its entity type {entity_type}: "
                f"codes of that type start with {entity_type}."
            )
    return messages


@register_rule
def parents_are_of_allowed_types(c: Context) -> list[str]:
    messages: list[str] = []
    if c.register.slug != AREAS:
        return []
    for row in c.new["relations"]:
        if row.kind != "parent":
            continue
        allowed = ALLOWED_PARENTS.get(row.hierarchy)
        register, key = split_ref(row.target)
        if allowed is None:
            messages.append(
                c.problem(
                    f"“{row.hierarchy}” is not a hierarchy; use one of "
                    f"{', '.join(sorted(ALLOWED_PARENTS))}.",
                    "relations",
                    row,
                )
            )
            continue
        if register != AREAS:
            messages.append(
                c.problem(
                    f"A {row.hierarchy} parent must be an area; {row.target} is not.",
                    "relations",
                    row,
                )
            )
            continue
        if key[:3] not in allowed:
            messages.append(
                c.problem(
                    f"A {row.hierarchy} parent must be of type {', '.join(sorted(allowed))}; "
                    f"{key} is of type {key[:3]}.",
                    "relations",
                    row,
                )
            )
    return messages
