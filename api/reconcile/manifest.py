"""Service manifests for the 0.2 endpoint and the 1.0-draft root.

Service URLs are absolute and built from the request (so a service behind a proxy advertises
the address clients reach it by); ``identifierSpace`` and ``schemaSpace`` are the registry's
persistent URI space and vocabulary, the same whichever server answers.
"""

from __future__ import annotations

from typing import Any

from registry import uris

from . import extend, suggest
from .index import Index

NAME = "Reference Registry: UK areas, councils and entity types"
BATCH_SIZE = 50
PREVIEW = {"width": 420, "height": 240}


def identifier_space() -> str:
    return f"{uris.base()}/id/"


def v02(origin: str, index: Index | None) -> dict[str, Any]:
    service = f"{origin}/reconcile"
    return {
        "versions": ["0.1", "0.2"],
        "name": NAME,
        "identifierSpace": identifier_space(),
        "schemaSpace": uris.vocabulary_uri(),
        "view": {"url": f"{service}/view/{{{{id}}}}"},
        "preview": {"url": f"{service}/preview/{{{{id}}}}", **PREVIEW},
        "defaultTypes": suggest.default_types(index),
        "batchSize": BATCH_SIZE,
        "suggest": {
            kind: {"service_url": service, "service_path": f"/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {"service_url": service, "service_path": "/extend/propose"},
            "property_settings": extend.PROPERTY_SETTINGS,
        },
    }


def v1(origin: str, index: Index | None) -> dict[str, Any]:
    return {
        "versions": ["1.0-draft"],
        "name": NAME,
        "identifierSpace": identifier_space(),
        "schemaSpace": uris.vocabulary_uri(),
        "view": {"url": f"{origin}/reconcile/view/{{id}}"},
        "preview": PREVIEW,
        "defaultTypes": suggest.default_types(index),
        "batchSize": BATCH_SIZE,
        "standardizedScore": True,
        "suggest": {"entity": True, "type": True, "property": True},
        "extend": {
            "proposeProperties": True,
            "propertySettings": [
                {
                    "id": setting["name"],
                    "name": setting["label"],
                    "type": setting["type"],
                    "default": setting["default"],
                    "helpText": setting["help_text"],
                }
                for setting in extend.PROPERTY_SETTINGS
            ],
        },
    }
