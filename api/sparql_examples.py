"""The worked examples on the SPARQL page (``/sparql``): the questions the endpoint is for, each
asserted against the full registry in ``tests/api/test_sparql.py``.

Entry URIs are minted from ``REGISTRY_URI_BASE``, so the queries are written with ``{base}`` and
filled in by :func:`examples`.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from registry.uris import base

PROLOGUE = """PREFIX statgeo: <http://statistics.data.gov.uk/def/statistical-geography#>
PREFIX statent: <http://statistics.data.gov.uk/def/statistical-entity#>
PREFIX bc: <http://statistics.data.gov.uk/def/boundary-change/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX reg: <{base}/def/>
PREFIX area: <{base}/id/statistical-geography/>
PREFIX type: <{base}/id/statistical-entity/>
"""

# (slug, title, query without the prologue)
_EXAMPLES = [
    (
        "wards-of-county-2019",
        gettext_noop("Every ward of Cardiff (W06000015) as at 1 June 2019, with its Welsh name"),
        """SELECT ?code ?name ?welsh WHERE {
  ?ward statent:code type:W05 ; statgeo:parentcode area:W06000015 ;
        dcterms:identifier ?code ; statgeo:officialname ?name ; bc:operativedate ?from .
  OPTIONAL { ?ward statgeo:alternativelanguagename ?welsh }
  OPTIONAL { ?ward bc:terminateddate ?to }
  FILTER (?from <= "2019-06-01"^^xsd:date && (!BOUND(?to) || ?to >= "2019-06-01"^^xsd:date))
}
ORDER BY ?code""",
    ),
    (
        "terminated-by-instrument",
        gettext_noop(
            "Every code terminated by one statutory instrument (SI 2020/156, Northamptonshire)"
        ),
        """SELECT DISTINCT ?code ?name ?terminated WHERE {
  ?event bc:originatingChangeOrder "SI 2020/156" ; bc:precedingArea ?old .
  ?old dcterms:identifier ?code ; statgeo:officialname ?name ; bc:terminateddate ?terminated .
}
ORDER BY ?code""",
    ),
    (
        "children-on-date",
        gettext_noop(
            "The districts of Buckinghamshire county council's area (E10000002) as at 1 June 2019"
        ),
        """SELECT ?code ?name WHERE {
  ?child statgeo:parentcode area:E10000002 ; statent:code type:E07 ;
         dcterms:identifier ?code ; statgeo:officialname ?name ; bc:operativedate ?from .
  OPTIONAL { ?child bc:terminateddate ?to }
  FILTER (?from <= "2019-06-01"^^xsd:date && (!BOUND(?to) || ?to >= "2019-06-01"^^xsd:date))
}
ORDER BY ?code""",
    ),
    (
        "successors",
        gettext_noop(
            "Successors of a code: what Aylesbury Vale (E07000004) became, through every change"
        ),
        """SELECT ?code ?name ?status WHERE {
  area:E07000004 dcterms:isReplacedBy+ ?next .
  ?next dcterms:identifier ?code ; statgeo:officialname ?name ; statgeo:status ?status .
}
ORDER BY ?code""",
    ),
    (
        "welsh-names-of-type",
        gettext_noop("Every Welsh name of a type: the principal areas of Wales (W06)"),
        """SELECT ?code ?name ?welsh WHERE {
  ?area statent:code type:W06 ; dcterms:identifier ?code ; statgeo:officialname ?name ;
        statgeo:alternativelanguagename ?welsh .
}
ORDER BY ?code""",
    ),
    (
        "predecessors",
        gettext_noop("Predecessors of a code: the districts Cumberland (E06000063) replaced"),
        """SELECT ?code ?name WHERE {
  area:E06000063 dcterms:replaces ?old .
  ?old dcterms:identifier ?code ; statgeo:officialname ?name .
}
ORDER BY ?code""",
    ),
    (
        "by-legacy-code",
        gettext_noop("Which area had the legacy ONS code 00CN?"),
        """SELECT ?code ?name WHERE {
  ?area skos:notation "00CN"^^reg:scheme\\/ons-legacy ;
        dcterms:identifier ?code ; statgeo:officialname ?name .
}""",
    ),
    (
        "council-of-area",
        gettext_noop("Which council governs Birmingham (E08000025)?"),
        """SELECT ?council ?name WHERE {
  area:E08000025 reg:governedBy ?c .
  ?c dcterms:identifier ?council ; skos:prefLabel ?name .
}""",
    ),
    (
        "changes-by-kind-2023",
        gettext_noop("Change events of 2023, counted by kind"),
        """SELECT ?kind (COUNT(?event) AS ?events) WHERE {
  ?event a reg:ChangeEvent ; reg:changeKind ?kind ; dcterms:date ?date .
  FILTER (YEAR(?date) = 2023)
}
GROUP BY ?kind
ORDER BY ?kind""",
    ),
    (
        "live-districts-by-type",
        gettext_noop(
            "How many local authority districts and unitary authorities are live, by type"
        ),
        """SELECT ?type (COUNT(?area) AS ?live) WHERE {
  VALUES ?type { type:E06 type:E07 type:E08 type:E09 type:W06 type:S12 type:N09 }
  ?area statent:code ?type ; statgeo:status "live" .
}
GROUP BY ?type
ORDER BY ?type""",
    ),
    (
        "is-live",
        gettext_noop("Is Buckinghamshire (E06000060) live?"),
        """ASK { area:E06000060 statgeo:status "live" }""",
    ),
    (
        "describe",
        gettext_noop("Everything the registry publishes about Aylesbury Vale (E07000004)"),
        """DESCRIBE area:E07000004""",
    ),
]


def examples() -> list[dict[str, str]]:
    """The examples with the registry's URI base filled in: slug, title and query."""
    prologue = PROLOGUE.format(base=base())
    return [
        {"slug": slug, "title": title, "query": prologue + "\n" + query}
        for slug, title, query in _EXAMPLES
    ]
