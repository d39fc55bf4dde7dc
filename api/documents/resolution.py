"""Finding what a URI names, and the ``/id/…`` redirects.

``/id/{register}/{key}`` names a thing and answers 303 See Other to ``/doc/{register}/{key}``,
the document about it, keeping the query string; ``/id/{register}`` and ``/def/{term}`` see
other in the same way. Looking up ``register/key`` gives the entry, or the answer to give
instead: a 301 to the upper-case key, a 400 for a key the register could never hold, a 404
with close matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _

from registry import facts
from registry.documents import Link
from registry.models import ChangeEvent, Entry, Register
from registry.statistics import registers
from registry.uris import EVENTS
from registry.validtime import today

from .. import http
from ..http import EntryRef
from .base import public_headers
from .errors import error_response


@dataclass
class Lookup:
    """The outcome of looking up ``register/key``: an entry, or the response to send."""

    entry: EntryRef | None = None
    response: HttpResponseBase | None = None


def close_matches(register: Register, key: str, limit: int = 3) -> list[Link]:
    """Existing keys next to ``key`` in the register (the same entity type first), for a
    404 page: E07999999 suggests the highest E07 codes."""
    entries = Entry.objects.filter(register=register)
    prefix = key[:3]
    above = list(entries.filter(key__gt=key, key__startswith=prefix).order_by("key")[:limit])
    below = list(entries.filter(key__lt=key, key__startswith=prefix).order_by("-key")[:limit])
    found = sorted(below + above, key=lambda e: e.key)
    labels = facts.labels([e.pk for e in found], today())
    return [Link(register.slug, e.key, labels.get(e.pk, e.key)) for e in found]


def find_entry(request, register_slug: str, key: str, suffix: str = "", kind: str = "doc"):
    """The entry ``register_slug/key``, or the response to give instead: 404 for an unknown
    register or key (with close matches), 400 for a key the register could never hold, and
    a redirect to the upper-case key when only the case was wrong."""
    known = request.META.get("registry.early.entry")  # found by api.early in this request
    if known is not None and (known.register.slug, known.key) == (register_slug, key):
        return Lookup(entry=known)
    try:
        return Lookup(entry=http.find_entry(http.find_register(register_slug), key))
    except http.NoSuchRegister:
        return Lookup(
            response=error_response(
                request,
                404,
                _("There is no register called %(register)s.") % {"register": repr(register_slug)},
                registers=sorted(registers()),
            )  # fmt: skip
        )
    except http.MalformedKey as error:
        if error.canonical:
            target = f"/{kind}/{register_slug}/{error.canonical}{suffix}"
            query = request.META.get("QUERY_STRING")
            response = HttpResponse(status=301)
            response["Location"] = f"{target}?{query}" if query else target
            return Lookup(response=response)
        pattern = error.register.key_pattern
        return Lookup(
            response=error_response(
                request,
                400,
                _(
                    "%(key)s is not a well-formed key in the %(register)s register: keys "
                    "match the pattern %(pattern)s."
                )
                % {"key": repr(key[:40]), "register": register_slug, "pattern": pattern},
            )
        )
    except http.NoSuchEntry as error:
        matches = close_matches(error.register, key)
        return Lookup(
            response=error_response(
                request,
                404,
                _(
                    "%(key)s is a well-formed %(register)s key, but the registry holds no "
                    "entry with it."
                )
                % {"key": key, "register": register_slug},
                register=register_slug,
                key=key,
                close_matches=[link.as_dict() for link in matches],
                search=f"/search?{urlencode({'q': key})}",
            )
        )


def _see_other(location: str, request) -> HttpResponse:
    query = request.META.get("QUERY_STRING")
    response = HttpResponse(status=303)
    # A path, not an absolute URL: the document lives on whichever host resolved the URI.
    response["Location"] = f"{location}?{query}" if query else location
    return public_headers(response, machine=True)


def resolve_entry(request, register: str, key: str, format: str | None = None):
    """``/id/{register}/{key}[.fmt]`` → 303 to ``/doc/{register}/{key}[.fmt]``."""
    suffix = f".{format}" if format else ""
    if register == EVENTS:
        if not ChangeEvent.objects.filter(key=key).exists():
            return error_response(request, 404, f"There is no change event {key[:100]!r}.")
        return _see_other(f"/doc/{EVENTS}/{key}{suffix}", request)
    found = find_entry(request, register, key, suffix, kind="id")
    if found.response is not None:
        return found.response
    return _see_other(f"/doc/{register}/{key}{suffix}", request)


def resolve_register(request, register: str, format: str | None = None):
    """``/id/{register}`` → 303 to the register's listing."""
    suffix = f".{format}" if format else ""
    if register != EVENTS and register not in registers():
        return error_response(
            request,
            404,
            _("There is no register called %(register)s.") % {"register": repr(register)},
        )
    return _see_other(f"/doc/{register}{suffix}", request)


def resolve_term(request, term: str):
    """``/def/{term}`` → 303 to the vocabulary document, at the term."""
    response = HttpResponse(status=303)
    response["Location"] = f"/def/#{term}"
    return public_headers(response, machine=True)
