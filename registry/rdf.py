"""RDF graphs of the registry: entries, change events, registers, the registry's own
vocabulary and the VoID/DCAT description of its datasets.

Existing vocabularies come first: the ONS statistical-geography, statistical-entity and
boundary-change vocabularies under ``http://statistics.data.gov.uk/def/``, SKOS, DCTERMS, OWL,
FOAF, VoID and DCAT. The few terms nothing else covers (a change event and its kind, which
council governs an area, the live codes a terminated one leads to, the date a document
describes, and one datatype per identifier scheme) are minted under ``{base}/def/`` and
described by :func:`vocabulary_graph`.

Triples about an entry come from one function, :func:`entry_triples`, fed with
:class:`~registry.documents.EntryFacts`, whether those facts come from an entry's document or
from a bulk read of a whole register; so a document and the dump agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, VOID, XSD

from . import profiles
from .documents import EntryDocument, EntryFacts, EventSummary
from .uris import (
    base,
    dataset_description_uri,
    document_uri,
    download_uri,
    entry_uri,
    event_uri,
    register_uri,
    vocabulary_uri,
)

STATGEO = Namespace("http://statistics.data.gov.uk/def/statistical-geography#")
STATENT = Namespace("http://statistics.data.gov.uk/def/statistical-entity#")
BOUNDARY = Namespace("http://statistics.data.gov.uk/def/boundary-change/")

Triple = tuple[Any, Any, Any]

# Licences named in registers' ``licence`` text, and the URIs that identify them.
LICENCES = {
    "Open Government Licence v3.0": URIRef(
        "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    ),
    "CC BY 4.0": URIRef("https://creativecommons.org/licenses/by/4.0/"),
    "Open Parliament Licence v3.0": URIRef(
        "https://www.parliament.uk/site-information/copyright-parliament/open-parliament-licence/"
    ),
}

# The registry's own terms: (name, kind, label, comment). Served at /def/ as HTML and Turtle.
TERMS: list[tuple[str, str, str, str]] = [
    (
        "ChangeEvent",
        "class",
        "Change event",
        "A dated change between codes (creation, termination, recode, boundary change, merge, "
        "split, rename): its predecessors are boundary-change:precedingArea, its successors "
        "boundary-change:succeedingArea.",
    ),
    (
        "changeKind",
        "property",
        "kind of change",
        "The kind of a change event: creation, termination, recode, boundary-change, merge, "
        "split, rename or complex.",
    ),
    ("changeEvent", "property", "change event", "A change event the entry took part in."),
    ("governs", "property", "governs", "The council governs the area."),
    ("governedBy", "property", "governed by", "The area is governed by the council."),
    (
        "currentCode",
        "property",
        "current code",
        "A code live on the document's date that this terminated code leads to, following "
        "its successors through one or more change events.",
    ),
    (
        "asAt",
        "property",
        "as at",
        "The date a document describes its subject as at (valid time).",
    ),
    (
        "IdentifierScheme",
        "class",
        "Identifier scheme",
        "A scheme of identifiers; each is also the datatype of skos:notation values in it "
        "(for example {base}/def/scheme/ons-legacy for legacy ONS codes such as 00CN).",
    ),
]


def REG(term: str) -> URIRef:  # noqa: N802 (reads as a namespace, like STATGEO.officialname)
    """A term of the registry's own vocabulary, under ``{base}/def/`` (a setting, so not a
    module-level Namespace)."""
    return URIRef(vocabulary_uri(term))


def scheme_datatype(scheme: str) -> URIRef:
    """The datatype of ``skos:notation`` values in an identifier scheme."""
    return REG(f"scheme/{scheme}")


def licence_uris(licence_text: str) -> list[URIRef]:
    return [uri for name, uri in LICENCES.items() if name in licence_text]


def bind_prefixes(graph: Graph) -> Graph:
    for prefix, namespace in {
        "statgeo": STATGEO,
        "statent": STATENT,
        "bc": BOUNDARY,
        "reg": vocabulary_uri(),
        "skos": SKOS,
        "dcterms": DCTERMS,
        "owl": OWL,
        "foaf": FOAF,
        "void": VOID,
        "dcat": DCAT,
        "xsd": XSD,
    }.items():
        graph.bind(prefix, Namespace(str(namespace)), override=True)
    return graph


def _date(value: dt.date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def _thing(register: str, key: str) -> URIRef:
    return URIRef(entry_uri(register, key))


def key_datatype(register: str) -> URIRef:
    """The datatype of a register's keys as ``skos:notation``: the one its profile names
    (``registry.profiles``), or one of the registry's own."""
    found = profiles.profile(register)
    if found.key_scheme_is_uri:
        return URIRef(found.key_scheme)
    return scheme_datatype(found.key_scheme_name)


def _key_notation(register: str, key: str) -> Literal:
    return Literal(key, datatype=key_datatype(register))


def entry_triples(facts: EntryFacts) -> Iterator[Triple]:
    """The triples that describe one entry as at ``facts.date``."""
    thing = _thing(facts.register, facts.key)
    profile = profiles.profile(facts.register)
    yield thing, RDF.type, URIRef(profile.rdf_class)
    same = profile.same_as(facts.key) if profile.same_as else None
    if same:
        yield thing, OWL.sameAs, URIRef(same)
    yield thing, DCTERMS.identifier, Literal(facts.key)
    yield thing, SKOS.notation, _key_notation(facts.register, facts.key)
    yield thing, RDFS.label, Literal(facts.name or facts.key)
    if facts.name:
        yield thing, STATGEO.officialname, Literal(facts.name)
        yield thing, SKOS.prefLabel, Literal(facts.name, lang="en")
    if facts.display_name and facts.display_name != facts.name:
        yield thing, SKOS.altLabel, Literal(facts.display_name, lang="en")
    if facts.name_cy:
        yield thing, STATGEO.alternativelanguagename, Literal(facts.name_cy, lang="cy")
        yield thing, SKOS.altLabel, Literal(facts.name_cy, lang="cy")
    if facts.status:
        yield thing, STATGEO.status, Literal(facts.status)
    if facts.entity_type:
        yield thing, STATENT.code, _thing(facts.entity_type.register, facts.entity_type.key)
    if facts.operative:
        yield thing, BOUNDARY.operativedate, _date(facts.operative)
    if facts.terminated:
        yield thing, BOUNDARY.terminateddate, _date(facts.terminated)
    for _hierarchy, parent in sorted(facts.parents.items()):
        yield thing, STATGEO.parentcode, _thing(parent.register, parent.key)
    for ref in facts.governed_by:
        yield thing, REG("governedBy"), _thing(ref.register, ref.key)
    for ref in facts.governs:
        yield thing, REG("governs"), _thing(ref.register, ref.key)
    for ref in facts.replaces:
        yield thing, DCTERMS.replaces, _thing(ref.register, ref.key)
    for ref in facts.replaced_by:
        yield thing, DCTERMS.isReplacedBy, _thing(ref.register, ref.key)
    for event in facts.events:
        yield thing, REG("changeEvent"), URIRef(event_uri(event))
    for scheme, value in facts.identifiers:
        yield thing, SKOS.notation, Literal(value, datatype=scheme_datatype(scheme))


def event_triples(event: EventSummary) -> Iterator[Triple]:
    """The triples that describe one change event."""
    node = URIRef(event.uri)
    yield node, RDF.type, REG("ChangeEvent")
    yield node, RDFS.label, Literal(f"{event.kind.replace('-', ' ').capitalize()} on {event.date}")
    yield node, DCTERMS.identifier, Literal(event.key)
    yield node, DCTERMS.date, _date(event.date)
    yield node, BOUNDARY.operativedate, _date(event.date)
    yield node, REG("changeKind"), Literal(event.kind)
    if event.instrument_id:
        yield node, BOUNDARY.originatingChangeOrder, Literal(event.instrument_id)
    if event.instrument_title:
        yield node, BOUNDARY.changeOrderTitle, Literal(event.instrument_title)
    for link in event.predecessors:
        yield node, BOUNDARY.precedingArea, _thing(link.register, link.key)
    for link in event.successors:
        yield node, BOUNDARY.succeedingArea, _thing(link.register, link.key)


def _document_node(document: str, date: dt.date | None) -> URIRef:
    return URIRef(f"{document}?date={date.isoformat()}" if date else document)


def _document_triples(
    document: URIRef, subject: URIRef, licence_text: str, date: dt.date | None
) -> Iterator[Triple]:
    yield document, RDF.type, FOAF.Document
    yield document, FOAF.primaryTopic, subject
    yield subject, FOAF.isPrimaryTopicOf, document
    for licence in licence_uris(licence_text):
        yield document, DCTERMS.license, licence
    if date:
        yield document, REG("asAt"), _date(date)


def entry_graph(doc: EntryDocument, *, explicit_date: bool = False) -> Graph:
    """The graph of an entry's document: the entry as at ``doc.date``, the document itself,
    the change events it took part in and labels for every entry it links to.

    ``explicit_date`` says the document was asked for at a date (``?date=``), which makes it
    a different document from the undated one."""
    graph = bind_prefixes(Graph())
    thing = URIRef(doc.uri)
    document = _document_node(doc.document, doc.date if explicit_date else None)
    for triple in _document_triples(document, thing, doc.entry.register.licence, doc.date):
        graph.add(triple)
    for triple in entry_triples(doc.facts):
        graph.add(triple)
    for link, _path in doc.current:
        graph.add((thing, REG("currentCode"), URIRef(link.uri)))
    for event in doc.events:
        for triple in event_triples(event):
            graph.add(triple)
    links = [*doc.parents.values(), *doc.governed_by, *doc.governs]
    links += [link for _event in doc.events for link in (*_event.predecessors, *_event.successors)]
    links += [link for link, _path in doc.current]
    for link in links:
        if link.key != doc.key or link.register != doc.register:
            graph.add((URIRef(link.uri), RDFS.label, Literal(link.name)))
    return graph


def event_graph(event: EventSummary, licence_text: str) -> Graph:
    """The graph of a change event's document, with labels for the entries it links."""
    graph = bind_prefixes(Graph())
    node = URIRef(event.uri)
    document = URIRef(document_uri("change-event", event.key))
    for triple in _document_triples(document, node, licence_text, None):
        graph.add(triple)
    for triple in event_triples(event):
        graph.add(triple)
    for link in (*event.predecessors, *event.successors):
        graph.add((URIRef(link.uri), RDFS.label, Literal(link.name)))
    return graph


def listing_graph(
    register: str, title: str, items: Iterable[dict[str, Any]], document: str
) -> Graph:
    """A page of a register's listing: each item with its label, status and type, as a
    member of the register's dataset."""
    graph = bind_prefixes(Graph())
    dataset = URIRef(register_uri(register))
    node = URIRef(document)
    graph.add((node, RDF.type, FOAF.Document))
    graph.add((node, FOAF.primaryTopic, dataset))
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, DCTERMS.title, Literal(title)))
    for item in items:
        thing = _thing(register, item["key"])
        graph.add((thing, VOID.inDataset, dataset))
        graph.add((thing, RDFS.label, Literal(item["name"] or item["key"])))
        graph.add((thing, DCTERMS.identifier, Literal(item["key"])))
        if item.get("status"):
            graph.add((thing, STATGEO.status, Literal(item["status"])))
        if item.get("entity_type"):
            graph.add(
                (
                    thing,
                    STATENT.code,
                    _thing(profiles.entity_type_register(), item["entity_type"]),
                )
            )
    return graph


def vocabulary_graph(schemes: Iterable[str]) -> Graph:
    """The registry's own vocabulary: the terms in :data:`TERMS` and a datatype for every
    identifier scheme in use."""
    graph = bind_prefixes(Graph())
    ontology = URIRef(vocabulary_uri())
    graph.add((ontology, RDF.type, OWL.Ontology))
    graph.add((ontology, DCTERMS.title, Literal("Reference Registry vocabulary", lang="en")))
    graph.add(
        (
            ontology,
            RDFS.comment,
            Literal(
                "The few terms the registry mints because no existing vocabulary covers them.",
                lang="en",
            ),
        )
    )
    kinds = {"class": OWL.Class, "property": RDF.Property}
    for name, kind, label, comment in TERMS:
        term = REG(name)
        graph.add((term, RDF.type, kinds[kind]))
        graph.add((term, RDFS.isDefinedBy, ontology))
        graph.add((term, RDFS.label, Literal(label, lang="en")))
        graph.add((term, RDFS.comment, Literal(comment.format(base=vocabulary_uri()), lang="en")))
    for scheme in sorted(set(schemes)):
        term = scheme_datatype(scheme)
        graph.add((term, RDF.type, RDFS.Datatype))
        graph.add((term, RDF.type, REG("IdentifierScheme")))
        graph.add((term, RDFS.isDefinedBy, ontology))
        graph.add((term, RDFS.label, Literal(f"{scheme} identifier", lang="en")))
    return graph


def void_graph(
    registers: Iterable[dict[str, Any]],
    boundaries: Iterable[dict[str, Any]] = (),
    boundaries_rights: str = "",
) -> Graph:
    """VoID and DCAT description of the registry: a catalogue with one dataset per register,
    its URI space, size, licence, example resource and its bulk downloads; and, given
    ``boundaries`` (one dict per boundary download: ``layer``, ``vintage``, ``layer_name``,
    ``count``, ``geojson`` and ``geojson_gz`` URLs), a dataset of the boundaries with a
    distribution per download, its rights ``boundaries_rights``."""
    graph = bind_prefixes(Graph())
    description = URIRef(dataset_description_uri())
    catalogue = URIRef(f"{dataset_description_uri()}#registry")
    graph.add((description, RDF.type, VOID.DatasetDescription))
    graph.add((description, FOAF.primaryTopic, catalogue))
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, RDF.type, VOID.Dataset))
    graph.add((catalogue, DCTERMS.title, Literal("Reference Registry", lang="en")))
    graph.add((catalogue, FOAF.homepage, URIRef(f"{base()}/")))
    graph.add((catalogue, VOID.vocabulary, URIRef(vocabulary_uri())))
    # One endpoint over every register (``/sparql``, registry.sparql).
    endpoint = URIRef(f"{base()}/sparql")
    graph.add((catalogue, VOID.sparqlEndpoint, endpoint))
    # The change feed (``/feed``, registry.feed): every version of every register, in
    # recording order, hash-chained, for mirrors.
    changes = URIRef(f"{dataset_description_uri()}#feed")
    graph.add((catalogue, DCAT.distribution, changes))
    graph.add((changes, RDF.type, DCAT.Distribution))
    graph.add((changes, DCTERMS.title, Literal("Change feed", lang="en")))
    graph.add(
        (
            changes,
            DCTERMS.description,
            Literal(
                "Every version of every entry and change event in recording order, each with "
                "a SHA-256 digest chained to the previous one's; paged by ?since=N.",
                lang="en",
            ),
        )
    )
    graph.add((changes, DCAT.accessURL, URIRef(f"{base()}/feed")))
    for media_type in ("application/x-ndjson", "application/atom+xml"):
        graph.add((changes, DCAT.mediaType, Literal(media_type)))
    for register in registers:
        slug = register["slug"]
        dataset = URIRef(register_uri(slug))
        graph.add((catalogue, DCAT.dataset, dataset))
        graph.add((catalogue, VOID.subset, dataset))
        graph.add((dataset, RDF.type, DCAT.Dataset))
        graph.add((dataset, RDF.type, VOID.Dataset))
        graph.add((dataset, DCTERMS.title, Literal(register["name"], lang="en")))
        if register.get("description"):
            graph.add((dataset, DCTERMS.description, Literal(register["description"], lang="en")))
        graph.add((dataset, VOID.uriSpace, Literal(f"{register_uri(slug)}/")))
        graph.add((dataset, VOID.sparqlEndpoint, endpoint))
        graph.add((dataset, VOID.entities, Literal(register["entries"], datatype=XSD.integer)))
        if register.get("example"):
            graph.add((dataset, VOID.exampleResource, _thing(slug, register["example"])))
        for vocabulary in (STATGEO, STATENT, BOUNDARY, SKOS, DCTERMS, FOAF):
            graph.add((dataset, VOID.vocabulary, URIRef(str(vocabulary))))
        for licence in licence_uris(register.get("licence", "")):
            graph.add((dataset, DCTERMS.license, licence))
        if register.get("attribution"):
            graph.add((dataset, DCTERMS.rights, Literal(register["attribution"], lang="en")))
        for extension, media_type, label in (
            ("nt.gz", "application/n-triples", "N-Triples"),
            ("csv.gz", "text/csv", "CSV"),
        ):
            url = URIRef(download_uri(slug, extension))
            distribution = URIRef(f"{dataset_description_uri()}#{slug}-{extension.split('.')[0]}")
            graph.add((dataset, DCAT.distribution, distribution))
            graph.add((distribution, RDF.type, DCAT.Distribution))
            graph.add((distribution, DCTERMS.title, Literal(f"{register['name']} ({label}, gzip)")))
            graph.add((distribution, DCAT.downloadURL, url))
            graph.add((distribution, DCAT.mediaType, Literal(media_type)))
            graph.add((distribution, DCAT.compressFormat, Literal("application/gzip")))
            for licence in licence_uris(register.get("licence", "")):
                graph.add((distribution, DCTERMS.license, licence))
            if extension.startswith("nt"):
                graph.add((dataset, VOID.dataDump, url))
    boundaries = list(boundaries)
    if boundaries:
        shapes = URIRef(f"{dataset_description_uri()}#boundaries")
        licence = LICENCES["Open Government Licence v3.0"]
        graph.add((catalogue, DCAT.dataset, shapes))
        graph.add((shapes, RDF.type, DCAT.Dataset))
        graph.add((shapes, DCTERMS.title, Literal("Boundaries (ONS, generalised)", lang="en")))
        graph.add((shapes, DCTERMS.license, licence))
        if boundaries_rights:
            graph.add((shapes, DCTERMS.rights, Literal(boundaries_rights, lang="en")))
        for item in boundaries:
            name = f"{item['layer']}-{item['vintage']}"
            for key, media_type, compress in (
                ("geojson", "application/geo+json", None),
                ("geojson_gz", "application/geo+json", "application/gzip"),
            ):
                distribution = URIRef(f"{dataset_description_uri()}#boundaries-{name}-{key}")
                graph.add((shapes, DCAT.distribution, distribution))
                graph.add((distribution, RDF.type, DCAT.Distribution))
                title = f"{item['layer_name']} boundaries, {item['vintage']} (GeoJSON"
                title += ", gzip)" if compress else ")"
                graph.add((distribution, DCTERMS.title, Literal(title, lang="en")))
                graph.add((distribution, DCAT.downloadURL, URIRef(item[key])))
                graph.add((distribution, DCAT.mediaType, Literal(media_type)))
                if compress:
                    graph.add((distribution, DCAT.compressFormat, Literal(compress)))
                graph.add((distribution, DCTERMS.license, licence))
    return graph


def ntriples(triples: Iterable[Triple]) -> str:
    """N-Triples lines for ``triples``, without building a graph (for streaming dumps)."""
    return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in triples)


def register_dump_triples(facts: Iterable[EntryFacts]) -> Iterator[Triple]:
    for entry in facts:
        yield from entry_triples(entry)
