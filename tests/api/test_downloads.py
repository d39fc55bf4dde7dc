"""Bulk downloads: each register as gzip-compressed CSV and N-Triples, generated as they
stream, so memory stays flat however large the register."""

import csv
import gzip
import io
import zlib
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.plugins.parsers.ntriples import W3CNTriplesParser

from registry import exports, rdf
from registry.models import Entry
from registry.queries import today

STATM = Path("/proc/self/statm")


def rss_mb() -> float:
    """Resident memory of this process now (Linux), in MB."""
    return int(STATM.read_text().split()[1]) * 4096 / 1e6


class Collect:
    """An rdflib N-Triples sink that counts every triple and keeps those about one subject."""

    def __init__(self, subject: str):
        self.subject = subject
        self.count = 0
        self.kept: set = set()

    def triple(self, s, p, o):
        self.count += 1
        if str(s) == self.subject:
            self.kept.add((s, p, o))


@pytest.mark.django_db
@pytest.mark.skipif(not STATM.exists(), reason="memory is read from /proc (Linux only)")
def test_largest_register_streams_with_flat_memory_and_parses_with_rdflib(client):
    response = client.get("/downloads/statistical-geography.nt.gz")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="statistical-geography-{today().isoformat()}.nt.gz"'
    )

    sink = Collect("http://127.0.0.1:8000/id/statistical-geography/E07000004")
    inflate = zlib.decompressobj(31)
    pending, raw_bytes, memory = b"", 0, []
    for chunk in response.streaming_content:
        pending += inflate.decompress(chunk)
        cut = pending.rfind(b"\n") + 1
        raw_bytes += cut
        # Every line is parsed by rdflib's N-Triples parser as it arrives.
        W3CNTriplesParser(sink=sink).parse(io.BytesIO(pending[:cut]))
        pending = pending[cut:]
        memory.append(rss_mb())
    assert pending + inflate.flush() == b""

    # Over 100 MB of N-Triples (three quarters of a million triples) went through, while
    # the process grew by far less than that after its first few chunks: nothing is held.
    assert raw_bytes > 100_000_000
    assert sink.count > 700_000
    assert max(memory) - memory[min(5, len(memory) - 1)] < 40

    # What the dump says about Aylesbury Vale is what its own document says.
    [facts] = [f for f in exports.register_facts("statistical-geography") if f.key == "E07000004"]
    assert sink.kept == set(rdf.entry_triples(facts))


@pytest.mark.django_db
@pytest.mark.parametrize("register", ["local-authority", "statistical-entity"])
def test_smaller_registers_parse_as_a_whole_graph(client, register):
    response = client.get(f"/downloads/{register}.nt.gz")
    data = gzip.decompress(b"".join(response.streaming_content))
    graph = Graph().parse(data=data, format="nt")
    assert len(graph) == data.count(b"\n")
    assert (
        len(set(graph.subjects())) >= {"local-authority": 470, "statistical-entity": 168}[register]
    )


@pytest.mark.django_db
def test_csv_dump_has_a_row_per_entry(client):
    response = client.get("/downloads/statistical-geography.csv.gz")
    text = gzip.decompress(b"".join(response.streaming_content)).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == exports.CSV_HEADER
    assert len(rows) == Entry.objects.filter(register__slug="statistical-geography").count() + 1
    by_key = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_key["E07000004"] | {"date": ""} == {
        "register": "statistical-geography",
        "key": "E07000004",
        "uri": "http://127.0.0.1:8000/id/statistical-geography/E07000004",
        "name": "Aylesbury Vale",
        "name_cy": "",
        "status": "terminated",
        "entity_type": "E07",
        "operative": "2009-01-01",
        "terminated": "2020-03-31",
        "parents": "country:E92000001 county:E10000002 region:E12000008",
        "governed_by": "AYL",
        "replaces": "",
        "replaced_by": "E06000060",
        "identifiers": "ons-legacy:11UB",
        "date": "",
    }
    assert by_key["W06000015"]["name_cy"] == "Caerdydd"


@pytest.mark.django_db
def test_downloads_answer_conditional_requests_and_unknown_names(client):
    first = client.get("/downloads/local-authority.csv.gz")
    b"".join(first.streaming_content)
    again = client.get("/downloads/local-authority.csv.gz", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["Access-Control-Allow-Origin"] == "*"
    assert client.get("/downloads/nowhere.csv.gz").status_code == 404
    assert client.get("/downloads/local-authority.xlsx").status_code == 404
