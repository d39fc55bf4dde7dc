"""The SPARQL endpoint (``/sparql``) on the full loaded registry: the worked examples' answers,
the protocol (GET, POST form, POST query body), every answer format, read-only, the time and
size limits, CORS, the page, and that its graph is the documents' and the dumps'."""

import csv
import gzip
import io
import json
import time
from urllib.parse import urlencode

import pyoxigraph
import pytest
from django.core.cache import cache
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from api.sparql_examples import examples
from registry import sparql
from registry.models import Entry, Register
from registry.services import Actor, current_snapshot, save_entry

BASE = "http://127.0.0.1:8000"
RESULTS_JSON = "application/sparql-results+json"
pytestmark = pytest.mark.django_db

EXPECTED = {
    "wards-of-county-2019": [
        ["W05000853", "Adamsdown", "Adamsdown"],
        ["W05000854", "Butetown", "Butetown"],
        ["W05000855", "Caerau", "Caerau"],
        ["W05000856", "Canton", "Treganna"],
        ["W05000857", "Cathays", "Cathays"],
        ["W05000858", "Creigiau/St. Fagans", "Creigiau/Sain Ffagan"],
        ["W05000860", "Ely", "Trelái"],
        ["W05000861", "Fairwater", "Tyllgoed"],
        ["W05000862", "Gabalfa", "Gabalfa"],
        ["W05000863", "Grangetown", "Grangetown"],
        ["W05000864", "Heath", "Y Mynydd Bychan"],
        ["W05000865", "Lisvane", "Llys-faen"],
        ["W05000866", "Llandaff", "Llandaf"],
        ["W05000867", "Llandaff North", "Ystum Taf"],
        ["W05000871", "Pentyrch", "Pentyrch"],
        ["W05000872", "Penylan", "Pen-y-lan"],
        ["W05000873", "Plasnewydd", "Plasnewydd"],
        ["W05000875", "Radyr", "Radur"],
        ["W05000876", "Rhiwbina", "Rhiwbeina"],
        ["W05000877", "Riverside", "Glanyrafon"],
        ["W05000879", "Splott", "Y Sblot"],
        ["W05000881", "Whitchurch and Tongwynlais", "Yr Eglwys Newydd a Thongwynlais"],
        ["W05000900", "Pontprennau/Old St. Mellons", "Pontprennau/Hen Laneirwg"],
        ["W05001011", "Cyncoed", "Cyncoed"],
        ["W05001012", "Llanishen", "Llanisien"],
        ["W05001013", "Llanrumney", "Llanrhymni"],
        ["W05001014", "Pentwyn", "Pen-twyn"],
        ["W05001015", "Rumney", "Tredelerch"],
        ["W05001016", "Trowbridge", "Trowbridge"],
    ],
    "terminated-by-instrument": [
        ["E07000150", "Corby", "2021-03-31"],
        ["E07000151", "Daventry", "2021-03-31"],
        ["E07000152", "East Northamptonshire", "2021-03-31"],
        ["E07000153", "Kettering", "2021-03-31"],
        ["E07000154", "Northampton", "2021-03-31"],
        ["E07000155", "South Northamptonshire", "2021-03-31"],
        ["E07000156", "Wellingborough", "2021-03-31"],
        ["E10000021", "Northamptonshire", "2021-03-31"],
    ],
    "children-on-date": [
        ["E07000004", "Aylesbury Vale"],
        ["E07000005", "Chiltern"],
        ["E07000006", "South Bucks"],
        ["E07000007", "Wycombe"],
    ],
    "successors": [["E06000060", "Buckinghamshire", "live"]],
    "welsh-names-of-type": [
        ["W06000001", "Isle of Anglesey", "Ynys Môn"],
        ["W06000002", "Gwynedd", "Gwynedd"],
        ["W06000003", "Conwy", "Conwy"],
        ["W06000004", "Denbighshire", "Sir Ddinbych"],
        ["W06000005", "Flintshire", "Sir y Fflint"],
        ["W06000006", "Wrexham", "Wrecsam"],
        ["W06000008", "Ceredigion", "Ceredigion"],
        ["W06000009", "Pembrokeshire", "Sir Benfro"],
        ["W06000010", "Carmarthenshire", "Sir Gaerfyrddin"],
        ["W06000011", "Swansea", "Abertawe"],
        ["W06000012", "Neath Port Talbot", "Castell-nedd Port Talbot"],
        ["W06000013", "Bridgend", "Pen-y-bont ar Ogwr"],
        ["W06000014", "Vale of Glamorgan", "Bro Morgannwg"],
        ["W06000015", "Cardiff", "Caerdydd"],
        ["W06000016", "Rhondda Cynon Taf", "Rhondda Cynon Taf"],
        ["W06000018", "Caerphilly", "Caerffili"],
        ["W06000019", "Blaenau Gwent", "Blaenau Gwent"],
        ["W06000020", "Torfaen", "Torfaen"],
        ["W06000021", "Monmouthshire", "Sir Fynwy"],
        ["W06000022", "Newport", "Casnewydd"],
        ["W06000023", "Powys", "Powys"],
        ["W06000024", "Merthyr Tydfil", "Merthyr Tudful"],
    ],
    "predecessors": [
        ["E07000026", "Allerdale"],
        ["E07000028", "Carlisle"],
        ["E07000029", "Copeland"],
        ["E10000006", "Cumbria"],
    ],
    "by-legacy-code": [["E08000025", "Birmingham"]],
    "council-of-area": [["BIR", "Birmingham City Council"]],
    "changes-by-kind-2023": [["complex", "2"], ["merge", "4"], ["rename", "18"]],
    "live-districts-by-type": [
        [f"{BASE}/id/statistical-entity/E06", "63"],
        [f"{BASE}/id/statistical-entity/E07", "164"],
        [f"{BASE}/id/statistical-entity/E08", "36"],
        [f"{BASE}/id/statistical-entity/E09", "33"],
        [f"{BASE}/id/statistical-entity/N09", "11"],
        [f"{BASE}/id/statistical-entity/S12", "32"],
        [f"{BASE}/id/statistical-entity/W06", "22"],
    ],
}


@pytest.fixture(autouse=True)
def store(sparql_store):
    cache.clear()
    return sparql_store


def ask(client, query, accept=RESULTS_JSON, **params):
    return client.get("/sparql?" + urlencode({"query": query, **params}), HTTP_ACCEPT=accept)


def rows(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == RESULTS_JSON
    data = json.loads(response.content)
    names = data["head"]["vars"]
    return [[b[n]["value"] for n in names if n in b] for b in data["results"]["bindings"]]


def example(slug):
    return next(e for e in examples() if e["slug"] == slug)


def test_there_are_a_dozen_examples_and_each_is_asserted():
    slugs = [e["slug"] for e in examples()]
    assert len(slugs) == 12
    assert set(slugs) == set(EXPECTED) | {"is-live", "describe"}


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_every_example_answers_as_asserted(client, slug):
    assert rows(ask(client, example(slug)["query"])) == EXPECTED[slug]


def test_the_ask_example(client):
    response = ask(client, example("is-live")["query"])
    assert json.loads(response.content) == {"head": {}, "boolean": True}
    no = ask(client, f'ASK {{ <{BASE}/id/statistical-geography/E07000004> ?p "live" }}')
    assert json.loads(no.content)["boolean"] is False


FIVE_FORMATS = {"ttl": "turtle", "rdf": "xml", "nt": "nt", "jsonld": "json-ld"}
DESCRIBE_FORMATS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
}
# In an entry's document, and not in the dumps: the document's own link and the codes a
# terminated one leads to today (worked out per document, DESIGN.md "current codes"), and
# its boundary on the document's day (GeoSPARQL, api/geo.py; the dumps carry no shapes).
DOCUMENT_ONLY = {
    URIRef("http://xmlns.com/foaf/0.1/isPrimaryTopicOf"),
    URIRef(f"{BASE}/def/currentCode"),
    URIRef("http://www.opengis.net/ont/geosparql#hasGeometry"),
}


def entry_part(graph, uri):
    part = Graph()
    for triple in graph.triples((URIRef(uri), None, None)):
        if triple[1] not in DOCUMENT_ONLY:
            part.add(triple)
    return part


@pytest.mark.parametrize(
    "register,key",
    [
        ("statistical-geography", "E07000004"),
        ("statistical-geography", "W06000015"),
        ("statistical-geography", "E06000060"),
        ("local-authority", "BIR"),
        ("statistical-entity", "E06"),
    ],
)
def test_documents_and_describe_give_isomorphic_graphs(client, register, key):
    uri = f"{BASE}/id/{register}/{key}"
    graphs = {}
    for suffix, parser in FIVE_FORMATS.items():
        response = client.get(f"/doc/{register}/{key}.{suffix}")
        assert response.status_code == 200
        graphs[suffix] = entry_part(Graph().parse(data=response.content, format=parser), uri)
    html = client.get(f"/doc/{register}/{key}", HTTP_ACCEPT="text/html")
    assert html.status_code == 200  # the fifth format, for people
    for accept, parser in DESCRIBE_FORMATS.items():
        response = ask(client, f"DESCRIBE <{uri}>", accept=accept)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].split(";")[0] == accept
        graphs[accept] = Graph().parse(data=response.content, format=parser)
    assert len(graphs["ttl"]) >= 8
    for name, other in graphs.items():
        assert isomorphic(graphs["ttl"], other), name


SELECT_NAMES = (
    "SELECT ?code ?name WHERE { ?a <http://purl.org/dc/terms/identifier> ?code ; "
    "<http://statistics.data.gov.uk/def/statistical-geography#officialname> ?name . "
    'FILTER (?code IN ("W06000015", "W06000001")) } ORDER BY ?code'
)


def test_select_in_every_results_format(client):
    assert rows(ask(client, SELECT_NAMES)) == [
        ["W06000001", "Isle of Anglesey"],
        ["W06000015", "Cardiff"],
    ]
    as_csv = ask(client, SELECT_NAMES, accept="text/csv")
    assert as_csv["Content-Type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(as_csv.content.decode()))) == [
        ["code", "name"],
        ["W06000001", "Isle of Anglesey"],
        ["W06000015", "Cardiff"],
    ]
    as_tsv = ask(client, SELECT_NAMES, accept="text/tab-separated-values")
    assert as_tsv["Content-Type"] == "text/tab-separated-values; charset=utf-8"
    assert as_tsv.content.decode().splitlines() == [
        "?code\t?name",
        '"W06000001"\t"Isle of Anglesey"',
        '"W06000015"\t"Cardiff"',
    ]
    as_xml = ask(client, SELECT_NAMES, accept="application/sparql-results+xml")
    assert as_xml["Content-Type"] == "application/sparql-results+xml"
    parsed = pyoxigraph.parse_query_results(
        as_xml.content, format=pyoxigraph.QueryResultsFormat.XML
    )
    assert [s["name"].value for s in parsed] == ["Isle of Anglesey", "Cardiff"]
    # The suffix-like override wins over Accept, as on documents.
    override = ask(client, SELECT_NAMES, accept="text/html", format="csv")
    assert override["Content-Type"] == "text/csv; charset=utf-8"


def test_quality_values_choose_the_format(client):
    response = ask(client, SELECT_NAMES, accept="text/csv;q=0.5, application/sparql-results+xml")
    assert response["Content-Type"] == "application/sparql-results+xml"


def test_post_form_and_post_query_body(client):
    form = client.post("/sparql", {"query": SELECT_NAMES}, HTTP_ACCEPT=RESULTS_JSON)
    assert rows(form)[1] == ["W06000015", "Cardiff"]
    body = client.post(
        "/sparql", SELECT_NAMES, content_type="application/sparql-query", HTTP_ACCEPT=RESULTS_JSON
    )
    assert rows(body)[1] == ["W06000015", "Cardiff"]


def test_construct_as_turtle(client):
    query = (
        "CONSTRUCT { ?a <http://www.w3.org/2000/01/rdf-schema#label> ?name } WHERE { "
        f"<{BASE}/id/statistical-geography/E06000063> <http://purl.org/dc/terms/replaces> ?a . "
        "?a <http://statistics.data.gov.uk/def/statistical-geography#officialname> ?name }"
    )
    response = ask(client, query, accept="text/turtle")
    assert response["Content-Type"] == "text/turtle; charset=utf-8"
    graph = Graph().parse(data=response.content, format="turtle")
    assert sorted(str(o) for o in graph.objects()) == [
        "Allerdale",
        "Carlisle",
        "Copeland",
        "Cumbria",
    ]


def problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["Access-Control-Allow-Origin"] == "*"
    body = json.loads(response.content)
    assert body["status"] == status
    return body["detail"]


def test_updates_are_refused(client):
    insert = f'INSERT DATA {{ <{BASE}/x> <{BASE}/p> "y" }}'
    assert "read-only" in problem(ask(client, insert), 400)
    assert "read-only" in problem(client.post("/sparql", {"update": insert}), 400)
    assert "read-only" in problem(
        client.post("/sparql", insert, content_type="application/sparql-update"), 400
    )
    assert rows(ask(client, f"SELECT * {{ <{BASE}/x> ?p ?o }}")) == []


def test_bad_requests_are_clear_problems(client):
    assert "not valid SPARQL" in problem(ask(client, "SELECT WHERE {"), 400)
    assert "query=" in problem(client.get("/sparql", HTTP_ACCEPT=RESULTS_JSON), 400)
    twice = client.get("/sparql?query=ASK{}&query=ASK{}", HTTP_ACCEPT=RESULTS_JSON)
    assert "one query=" in problem(twice, 400)
    assert "Accept" in problem(ask(client, SELECT_NAMES, accept="image/png"), 406)
    assert "SELECT and ASK" in problem(ask(client, SELECT_NAMES, accept="text/turtle"), 406)
    assert "format" in problem(ask(client, SELECT_NAMES, format="pdf"), 404)
    assert problem(client.post("/sparql", "x", content_type="text/plain"), 400)


def test_a_hostile_query_is_stopped_and_the_server_keeps_answering(client, settings):
    settings.REGISTRY_SPARQL_SECONDS = 2
    cross = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"
    started = time.monotonic()
    detail = problem(ask(client, cross), 503)
    assert time.monotonic() - started < 6
    assert "more than 2 s" in detail
    assert rows(ask(client, example("successors")["query"])) == EXPECTED["successors"]


def test_an_answer_past_the_size_limit_is_413(client, settings):
    settings.REGISTRY_SPARQL_MAX_BYTES = 10_000
    assert "larger than 10,000 bytes" in problem(
        ask(client, "SELECT * WHERE { ?s ?p ?o } LIMIT 5000"), 413
    )
    assert len(rows(ask(client, "SELECT * WHERE { ?s ?p ?o } LIMIT 5"))) == 5


def test_cors(client):
    assert ask(client, SELECT_NAMES)["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight["Access-Control-Allow-Methods"]


def test_the_page_has_a_form_and_the_examples(client):
    page = client.get("/sparql", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<form method="get" action="/sparql">' in html
    assert html.count("<dt id=") == 12
    assert "Every ward of Cardiff (W06000015) as at 1 June 2019" in html


def test_the_page_answers_without_javascript(client):
    query = example("wards-of-county-2019")["query"]
    page = client.get("/sparql?" + urlencode({"query": query}), HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert "29 rows." in html
    assert "<td>Yr Eglwys Newydd a Thongwynlais</td>" in html
    stopped = client.get("/sparql?" + urlencode({"query": "SELECT WHERE {"}))
    assert stopped.status_code == 400
    assert "not valid SPARQL" in stopped.content.decode()


def test_void_names_the_endpoint(client):
    graph = Graph().parse(data=client.get("/.well-known/void.ttl").content, format="turtle")
    endpoint = URIRef(f"{BASE}/sparql")
    catalogue = URIRef(f"{BASE}/.well-known/void#registry")
    sparql_endpoint = URIRef("http://rdfs.org/ns/void#sparqlEndpoint")
    assert (catalogue, sparql_endpoint, endpoint) in graph
    areas = URIRef(f"{BASE}/id/statistical-geography")
    assert (areas, sparql_endpoint, endpoint) in graph


@pytest.mark.parametrize("register", ["local-authority", "statistical-entity"])
def test_the_dump_loads_into_a_store_and_equals_the_endpoint(client, register, tmp_path):
    """The recipe for serving the store elsewhere (README: load the N-Triples dumps into
    Oxigraph): a register's dump loads into a fresh store and holds what the endpoint does."""
    response = client.get(f"/downloads/{register}.nt.gz")
    data = gzip.decompress(b"".join(response.streaming_content))
    other = pyoxigraph.Store(str(tmp_path / "store"))
    other.bulk_load(data, format=pyoxigraph.RdfFormat.N_TRIPLES)
    loaded = {str(q.subject.value) for q in other.quads_for_pattern(None, None, None)}
    assert len(loaded) == Entry.objects.filter(register__slug=register).count()
    rdf_type = pyoxigraph.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    classes = " ".join({str(q.object) for q in other.quads_for_pattern(None, rdf_type, None)})
    # Through the type index: a scan of all 2.5 million triples would meet the time limit.
    count = (
        f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?class {{ {classes} }} ?s a ?class ; ?p ?o . "
        f'FILTER STRSTARTS(STR(?s), "{BASE}/id/{register}/") }}'
    )
    mine = rows(ask(client, count))[0][0]
    theirs = next(iter(other.query(count)))["n"].value
    assert mine == theirs
    assert int(mine) == len(other)


def test_a_curators_edit_updates_the_store_in_the_same_call(
    client, settings, tmp_path, django_capture_on_commit_callbacks
):
    """An edit rewrites the entry's triples (and its neighbours') in a store of its own."""
    cardiff = Entry.objects.get(register__slug="statistical-geography", key="W06000015")
    directory = tmp_path / "oxigraph"
    settings.REGISTRY_SPARQL_STORE = directory
    settings.REGISTRY_SPARQL_UPDATES = True
    nt, _ = sparql._triples_of([cardiff.pk], set())
    directory.mkdir()
    store = pyoxigraph.Store(str(directory / "store"))
    store.load(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
    del store
    (directory / "built.json").write_text(json.dumps({"base": settings.REGISTRY_URI_BASE}))
    welsh = f"SELECT ?cy WHERE {{ <{BASE}/id/statistical-geography/W06000015> <http://statistics.data.gov.uk/def/statistical-geography#alternativelanguagename> ?cy }}"
    assert rows(ask(client, welsh)) == [["Caerdydd"]]

    snapshot = current_snapshot(cardiff)
    snapshot["names"] = [
        row if row[0] != "cy" else ["cy", "official", "Caerdydd (Dinas)", row[3], row[4]]
        for row in snapshot["names"]
    ]
    from django.contrib.auth import get_user_model

    curator = get_user_model().objects.create_user("cora", password="x-long-enough-pw")
    with django_capture_on_commit_callbacks(execute=True):
        save_entry(
            Register.objects.get(slug="statistical-geography"),
            "W06000015",
            snapshot,
            Actor(user=curator, reason="Welsh name corrected"),
        )
    assert rows(ask(client, welsh)) == [["Caerdydd (Dinas)"]]

    # An entry with a change event: its event, and the successor that names it, come along.
    aylesbury = Entry.objects.get(register__slug="statistical-geography", key="E07000004")
    sparql.entries_changed([aylesbury.pk])
    event = f"<{BASE}/id/change-event/2020-04-01-E06000060>"
    successor = f"<{BASE}/id/statistical-geography/E06000060>"
    found = rows(ask(client, f"SELECT ?kind {{ {event} <{BASE}/def/changeKind> ?kind }}"))
    assert found == [["merge"]]
    assert json.loads(ask(client, f"ASK {{ {successor} ?p ?o }}").content)["boolean"] is True
