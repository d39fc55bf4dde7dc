"""What a domain tells the generic registry about each of its registers.

``registry/`` knows registers only by what is stored about them (slug, name, key pattern,
licence). A few things it needs to publish them well are the domain's to say: the RDF class
of a register's entries, the datatype of their keys as ``skos:notation``, another URI for the
same thing (``owl:sameAs``), which register holds the entity types that states refer to, and
which entity type a new key implies. The domain declares a :class:`Profile` per register at
start-up (``geography``'s ``AppConfig.ready``), as it adds validation rules through
``registry.validation.register_rule``; so ``registry/`` imports nothing from the domain.
A register nobody declared gets the defaults: SKOS concepts, keys typed by a datatype of the
registry's own vocabulary, no equivalent URI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SKOS_CONCEPT = "http://www.w3.org/2004/02/skos/core#Concept"


@dataclass(frozen=True)
class Profile:
    """How the registry publishes one register's entries.

    ``key_scheme`` is either the URI of an existing datatype for keys (ONS's
    ``statgeo:gssCode``) or the name of a scheme in the registry's own vocabulary
    (``entity-code`` → ``{base}/def/scheme/entity-code``). ``same_as`` gives, for a key, the
    URI another publisher uses for the same thing. ``entity_type_of`` gives the key of the
    entity type a new key implies, if the key says (a GSS code's first three characters)."""

    slug: str
    rdf_class: str = SKOS_CONCEPT
    key_scheme: str = ""
    same_as: Callable[[str], str | None] | None = None
    holds_entity_types: bool = False
    entity_type_of: Callable[[str], str | None] | None = None

    @property
    def key_scheme_name(self) -> str:
        """The scheme of keys, as a name in the registry's vocabulary (unless a URI)."""
        return self.key_scheme or f"{self.slug}-key"

    @property
    def key_scheme_is_uri(self) -> bool:
        return self.key_scheme.startswith(("http://", "https://"))


_PROFILES: dict[str, Profile] = {}


def declare(profile: Profile) -> Profile:
    """Declare (or replace) a register's profile."""
    _PROFILES[profile.slug] = profile
    return profile


def profile(slug: str) -> Profile:
    """The profile of a register: as declared, or the defaults."""
    return _PROFILES.get(slug) or Profile(slug)


def declared() -> list[Profile]:
    return [_PROFILES[slug] for slug in sorted(_PROFILES)]


def entity_type_register() -> str:
    """The slug of the register whose entries are the entity types that states name."""
    for found in _PROFILES.values():
        if found.holds_entity_types:
            return found.slug
    raise LookupError("No register is declared to hold entity types (registry.profiles).")


def entity_type_ref(key: str) -> str:
    """``register/key`` of the entity type with this key, as snapshots refer to entries."""
    return f"{entity_type_register()}/{key}"


def implied_entity_type(register: str, key: str) -> str | None:
    """The entity type a new entry's key implies in its register, if it implies one."""
    guess: Callable[[str], str | None] | None = profile(register).entity_type_of
    return guess(key) if guess else None
