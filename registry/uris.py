"""Persistent URIs, minted from ``REGISTRY_URI_BASE`` and never from a request's host.

``{base}/id/{register}/{key}`` names the thing itself (an area, a council, an entity type);
``{base}/doc/{register}/{key}`` the document about it; ``{base}/id/{register}`` the register;
``{base}/id/change-event/{key}`` a change event; ``{base}/def/{term}`` the registry's own
vocabulary. Minting and parsing are pure functions and round-trip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed

EVENTS = "change-event"

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_PATH = re.compile(rf"^/(?P<kind>id|doc)/(?P<register>{_SEGMENT})(?:/(?P<key>{_SEGMENT}))?/?$")


_base: list[str] = []  # the base, once read: a bulk answer mints thousands of URIs


def base() -> str:
    if not _base:
        _base.append(settings.REGISTRY_URI_BASE.rstrip("/"))
    return _base[0]


def _base_changed(setting: str, **kwargs) -> None:
    if setting == "REGISTRY_URI_BASE":  # override_settings, in tests
        _base.clear()


setting_changed.connect(_base_changed)


def entry_uri(register: str, key: str) -> str:
    """The URI of the thing an entry names: ``{base}/id/{register}/{key}``."""
    return f"{base()}/id/{register}/{key}"


def document_uri(register: str, key: str, suffix: str = "") -> str:
    """The URI of the document about an entry, optionally of one format (``.ttl``)."""
    return f"{base()}/doc/{register}/{key}{suffix}"


def register_uri(register: str) -> str:
    return f"{base()}/id/{register}"


def event_uri(key: str) -> str:
    return f"{base()}/id/{EVENTS}/{key}"


def vocabulary_uri(term: str = "") -> str:
    return f"{base()}/def/{term}"


@dataclass(frozen=True)
class Parsed:
    kind: str  # "id" or "doc"
    register: str
    key: str | None


def parse(uri: str) -> Parsed | None:
    """Parse one of the registry's own URIs (with any host, or a bare path); None if it is not
    of the ``/id/…`` or ``/doc/…`` form."""
    path = uri
    if "://" in uri:
        path = "/" + uri.split("://", 1)[1].partition("/")[2]
    path = path.split("?", 1)[0].split("#", 1)[0]
    match = _PATH.match(path)
    if not match:
        return None
    return Parsed(match["kind"], match["register"], match["key"])


def download_uri(register: str, extension: str) -> str:
    """A bulk download of a whole register: ``{base}/downloads/{register}.{extension}``, where
    the extension is ``csv.gz`` or ``nt.gz``."""
    return f"{base()}/downloads/{register}.{extension}"


def boundary_download_uri(layer: str, vintage: str, extension: str) -> str:
    """A bulk download of one vintage of one boundary layer:
    ``{base}/downloads/boundaries/{layer}/{vintage}.{extension}``, where the extension is
    ``geojson`` or ``geojson.gz``."""
    return f"{base()}/downloads/boundaries/{layer}/{vintage}.{extension}"


def dataset_description_uri() -> str:
    """The VoID/DCAT description of the registry's datasets, at a well-known URL."""
    return f"{base()}/.well-known/void"
