"""RDF documents: every format parses to the same graph, and the triples that matter are
there with the right terms, datatypes and language tags."""

import pytest
from django.core.cache import cache
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib import namespace as ns
from rdflib.compare import isomorphic

from registry import exports, rdf
from registry.documents import describe
from registry.models import Entry
from tests.conftest import d

STATGEO = Namespace("http://statistics.data.gov.uk/def/statistical-geography#")
STATENT = Namespace("http://statistics.data.gov.uk/def/statistical-entity#")
BC = Namespace("http://statistics.data.gov.uk/def/boundary-change/")
BASE = "http://127.0.0.1:8000"
ID = Namespace(f"{BASE}/id/statistical-geography/")
REG = Namespace(f"{BASE}/def/")
FORMATS = {"ttl": "turtle", "rdf": "xml", "nt": "nt", "jsonld": "json-ld"}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def graph(client, path: str, fmt: str) -> Graph:
    response = client.get(f"{path}.{fmt}")
    assert response.status_code == 200
    return Graph().parse(data=response.content, format=FORMATS[fmt])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/doc/statistical-geography/E07000004",
        "/doc/statistical-geography/E06000060",
        "/doc/statistical-geography/W06000015",
        "/doc/statistical-geography/E07000112",
        "/doc/local-authority/BIR",
        "/doc/statistical-entity/E06",
        "/doc/change-event/2020-04-01-E06000060",
        "/doc/statistical-geography",
        "/doc/change-event",
        "/def",
        "/.well-known/void",
    ],
)
def test_every_rdf_format_gives_the_same_graph(client, path):
    graphs = {fmt: graph(client, path, fmt) for fmt in FORMATS}
    assert len(graphs["ttl"]) > 5
    for fmt, other in graphs.items():
        assert isomorphic(graphs["ttl"], other), fmt


@pytest.mark.django_db
def test_terminated_district_triples(client):
    g = graph(client, "/doc/statistical-geography/E07000004", "ttl")
    area = ID.E07000004
    document = URIRef(f"{BASE}/doc/statistical-geography/E07000004")
    assert set(g.objects(area, STATGEO.officialname)) == {Literal("Aylesbury Vale")}
    assert set(g.objects(area, ns.SKOS.prefLabel)) == {Literal("Aylesbury Vale", lang="en")}
    assert set(g.objects(area, STATGEO.status)) == {Literal("terminated")}
    assert set(g.objects(area, STATGEO.parentcode)) == {ID.E10000002, ID.E12000008, ID.E92000001}
    assert set(g.objects(area, STATENT.code)) == {URIRef(f"{BASE}/id/statistical-entity/E07")}
    assert set(g.objects(area, BC.operativedate)) == {Literal("2009-01-01", datatype=ns.XSD.date)}
    assert set(g.objects(area, BC.terminateddate)) == {Literal("2020-03-31", datatype=ns.XSD.date)}
    assert set(g.objects(area, ns.DCTERMS.isReplacedBy)) == {ID.E06000060}
    assert set(g.objects(area, REG.currentCode)) == {ID.E06000060}
    assert set(g.objects(area, ns.OWL.sameAs)) == {
        URIRef("http://statistics.data.gov.uk/id/statistical-geography/E07000004")
    }
    assert set(g.objects(area, ns.SKOS.notation)) == {
        Literal("E07000004", datatype=STATGEO.gssCode),
        Literal("11UB", datatype=REG["scheme/ons-legacy"]),
    }
    assert set(g.objects(area, REG.governedBy)) == {URIRef(f"{BASE}/id/local-authority/AYL")}
    assert (area, ns.RDF.type, STATGEO["Statistical-Geography"]) in g
    assert (document, ns.FOAF.primaryTopic, area) in g
    assert (area, ns.FOAF.isPrimaryTopicOf, document) in g
    assert (
        document,
        ns.DCTERMS.license,
        URIRef("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
    ) in g


@pytest.mark.django_db
def test_change_event_is_a_resource_of_its_own(client):
    g = graph(client, "/doc/statistical-geography/E06000060", "ttl")
    event = URIRef(f"{BASE}/id/change-event/2020-04-01-E06000060")
    assert (ID.E06000060, REG.changeEvent, event) in g
    assert (event, ns.RDF.type, REG.ChangeEvent) in g
    assert set(g.objects(event, REG.changeKind)) == {Literal("merge")}
    assert set(g.objects(event, BC.changeOrderTitle)) == {
        Literal("The Buckinghamshire (Structural Changes) Order 2019")
    }
    # The county too, now its succession is recorded.
    assert set(g.objects(event, BC.precedingArea)) == {
        ID.E07000004, ID.E07000005, ID.E07000006, ID.E07000007, ID.E10000002,
    }  # fmt: skip
    assert set(g.objects(event, BC.succeedingArea)) == {ID.E06000060}
    assert set(g.objects(ID.E06000060, ns.DCTERMS.replaces)) == {
        ID.E07000004, ID.E07000005, ID.E07000006, ID.E07000007, ID.E10000002,
    }  # fmt: skip


@pytest.mark.django_db
def test_welsh_name_is_tagged_cy(client):
    g = graph(client, "/doc/statistical-geography/W06000015", "rdf")
    cardiff = ID.W06000015
    assert set(g.objects(cardiff, STATGEO.officialname)) == {Literal("Cardiff")}
    assert set(g.objects(cardiff, STATGEO.alternativelanguagename)) == {
        Literal("Caerdydd", lang="cy")
    }
    assert set(g.objects(cardiff, ns.SKOS.altLabel)) == {Literal("Caerdydd", lang="cy")}
    assert set(g.objects(cardiff, STATGEO.status)) == {Literal("live")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("date", "name"), [("2018-03-31", "Shepway"), ("2018-04-01", "Folkestone and Hythe")]
)
def test_dated_document_is_its_own_document(client, date, name):
    response = client.get(f"/doc/statistical-geography/E07000112.ttl?date={date}")
    g = Graph().parse(data=response.content, format="turtle")
    document = URIRef(f"{BASE}/doc/statistical-geography/E07000112?date={date}")
    assert set(g.objects(ID.E07000112, STATGEO.officialname)) == {Literal(name)}
    assert set(g.objects(document, REG.asAt)) == {Literal(date, datatype=ns.XSD.date)}
    assert (document, ns.FOAF.primaryTopic, ID.E07000112) in g


@pytest.mark.django_db
def test_the_dump_says_what_the_document_says(area):
    """The bulk read behind the downloads gives the same facts, so the same triples, as each
    entry's own document (one pass over the register, checked for a handful of entries)."""
    codes = ["E05000026", "E06000060", "E07000004", "E07000112", "W06000015"]
    date = d("2024-01-01")
    bulk = [f for f in exports.register_facts("statistical-geography", date) if f.key in codes]
    assert [f.key for f in bulk] == codes
    for from_bulk in bulk:
        from_document = describe(area(from_bulk.key), date).facts
        assert from_bulk == from_document
        assert set(rdf.entry_triples(from_bulk)) == set(rdf.entry_triples(from_document))


@pytest.mark.django_db
def test_vocabulary_describes_the_minted_terms(client):
    g = graph(client, "/def", "ttl")
    assert (REG.governedBy, ns.RDF.type, ns.RDF.Property) in g
    assert (REG.ChangeEvent, ns.RDF.type, ns.OWL.Class) in g
    assert (
        REG["scheme/ons-legacy"],
        ns.RDF.type,
        URIRef("http://www.w3.org/2000/01/rdf-schema#Datatype"),
    ) in g


@pytest.mark.django_db
def test_void_describes_uri_spaces_dumps_and_licences(client):
    g = graph(client, "/.well-known/void", "ttl")
    areas = URIRef(f"{BASE}/id/statistical-geography")
    assert (areas, ns.RDF.type, ns.VOID.Dataset) in g
    assert (areas, ns.RDF.type, ns.DCAT.Dataset) in g
    assert set(g.objects(areas, ns.VOID.uriSpace)) == {Literal(f"{BASE}/id/statistical-geography/")}
    assert set(g.objects(areas, ns.VOID.dataDump)) == {
        URIRef(f"{BASE}/downloads/statistical-geography.nt.gz")
    }
    downloads = {
        str(url)
        for dist in g.objects(areas, ns.DCAT.distribution)
        for url in g.objects(dist, ns.DCAT.downloadURL)
    }
    assert downloads == {
        f"{BASE}/downloads/statistical-geography.nt.gz",
        f"{BASE}/downloads/statistical-geography.csv.gz",
    }
    assert (
        areas,
        ns.DCTERMS.license,
        URIRef("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
    ) in g
    entries = Entry.objects.filter(register__slug="statistical-geography").count()
    assert set(g.objects(areas, ns.VOID.entities)) == {Literal(entries, datatype=ns.XSD.integer)}
