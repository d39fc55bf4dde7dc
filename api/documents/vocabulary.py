"""The registry's own vocabulary (``/def/``) and the VoID/DCAT description of its datasets
(``/.well-known/void``)."""

from __future__ import annotations

from geography import spatial
from registry import profiles, rdf
from registry.models import Identifier
from registry.statistics import register_summaries

from .. import http
from ..renderers import RDF_RENDERERS, Representation
from .base import DocumentView, format_links
from .downloads import boundary_vintages


def identifier_schemes() -> list[str]:
    schemes = set(Identifier.objects.values_list("scheme", flat=True).distinct())
    keys = {p.key_scheme_name for p in profiles.declared() if not p.key_scheme_is_uri}
    return sorted(schemes | keys)


class VocabularyRepresentation(Representation):
    template_name = "api/vocabulary.html"

    def __init__(self, request):
        self.request = request
        self.schemes = identifier_schemes()

    def as_graph(self):
        return rdf.vocabulary_graph(self.schemes)

    def as_json(self):
        return {
            "uri": rdf.vocabulary_uri(),
            "terms": [
                {
                    "uri": str(rdf.REG(name)),
                    "name": name,
                    "kind": kind,
                    "label": label,
                    "comment": comment.format(base=rdf.vocabulary_uri()),
                }
                for name, kind, label, comment in rdf.TERMS
            ],  # fmt: skip
            "schemes": [{"uri": str(rdf.scheme_datatype(s)), "name": s} for s in self.schemes],
        }

    def as_rows(self):
        data = self.as_json()
        return ["uri", "name", "kind", "label"], [
            [t["uri"], t["name"], t["kind"], t["label"]] for t in data["terms"]
        ] + [[s["uri"], s["name"], "datatype", f"{s['name']} identifier"] for s in data["schemes"]]

    def context(self):
        return {**self.as_json(), "formats": format_links("/def", self.request)}


class VocabularyView(DocumentView):
    """``/def/``: the registry's own vocabulary, as HTML and RDF."""

    def target(self, request, date):
        return "vocabulary"

    def represent(self, request, target, date, explicit):
        return VocabularyRepresentation(request)


class VoidRepresentation(Representation):
    def __init__(self, request):
        self.request = request

    def as_graph(self):
        return rdf.void_graph(register_summaries(), boundary_vintages(), spatial.ATTRIBUTION)


class VoidView(DocumentView):
    """``/.well-known/void``: VoID and DCAT description of the registers and their dumps."""

    renderer_classes = RDF_RENDERERS

    def target(self, request, date):
        return "void"

    def boundaries_of(self, target):
        return http.boundaries_version()  # it lists the boundary downloads

    def represent(self, request, target, date, explicit):
        return VoidRepresentation(request)
