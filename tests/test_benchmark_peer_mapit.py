"""benchmarks/peer_mapit.py: the areas MapIt is loaded with, and how read_path.py finds a
peer server's processes and reads their CPU (benchmarks/README.md, "Beside MapIt")."""

import datetime as dt
import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    if str(BENCHMARKS) not in sys.path:  # the benchmarks import each other (machine, documents)
        sys.path.append(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


peer_mapit = _load("peer_mapit")
documents = _load("documents")


@pytest.mark.parametrize(
    ("layer", "code", "district", "expected"),
    [
        ("lad", "E06000001", None, "UTA"),
        ("lad", "E06000053", None, "COI"),
        ("lad", "E07000008", None, "DIS"),
        ("lad", "E08000025", None, "MTD"),
        ("lad", "E09000033", None, "LBO"),
        ("lad", "W06000001", None, "UTA"),
        ("lad", "S12000036", None, "UTA"),
        ("lad", "N09000003", None, "LGD"),
        ("ward", "E05013038", "E06000001", "UTW"),
        ("ward", "E05011090", "E06000053", "COP"),
        ("ward", "E05013043", "E07000008", "DIW"),
        ("ward", "E05011121", "E08000025", "MTW"),
        ("ward", "E05013806", "E09000033", "LBW"),
        ("ward", "W05000001", "W06000001", "UTE"),
        ("ward", "S13002516", "S12000036", "UTW"),
        ("ward", "N08000101", "N09000003", "LGW"),
        ("westminster-constituency", "E14001063", None, "WMC"),
        ("ward", "E05999999", None, None),
        ("lad", "E10000002", None, None),
    ],
)
def test_mapit_uk_area_types(layer, code, district, expected):
    assert peer_mapit.mapit_type(layer, code, district) == expected


def test_the_listener_is_the_process_whose_parent_does_not_hold_the_socket():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    # A child holding the same listening socket, as a gunicorn worker holds its master's.
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=[server.fileno()]
    )
    try:
        assert peer_mapit.listener(port) == os.getpid()
    finally:
        child.kill()
        child.wait()
        server.close()
    with pytest.raises(SystemExit, match=f"nothing listens on port {port}"):
        peer_mapit.listener(port)


def test_cpu_of_a_child_that_has_exited_is_still_counted():
    before = documents.server_cpu_seconds(os.getpid(), reaped=True)
    burn = "import time\nwhile time.process_time() < 0.3:\n    pass"
    # It exits, and is reaped, within the call.
    subprocess.run([sys.executable, "-c", burn], check=True)  # noqa: S603 (a fixed script)
    # /proc counts in clock ticks (1/100 s), user and system time each rounded down.
    assert documents.server_cpu_seconds(os.getpid(), reaped=True) - before >= 0.28


@pytest.mark.django_db
def test_export_writes_every_live_district_ward_and_constituency_by_mapit_type(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the export reads the registry's SQLite database")
    connection.ensure_connection()
    counts = peer_mapit.export(connection.connection, tmp_path, dt.date(2025, 6, 1))

    districts = ("UTA", "COI", "DIS", "MTD", "LBO", "LGD")
    wards = ("UTW", "COP", "DIW", "MTW", "LBW", "UTE", "LGW")
    assert sum(counts.get(kind, 0) for kind in districts) == 361
    assert sum(counts.get(kind, 0) for kind in wards) == 8405
    assert counts["WMC"] == 650
    assert counts["COI"] == 1
    assert "skipped (no type or name)" not in counts
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"{kind}.geojson" for kind in counts
    )

    def features(kind):
        data = json.loads((tmp_path / f"{kind}.geojson").read_text(encoding="utf-8"))
        assert data["type"] == "FeatureCollection"
        return {f["properties"]["code"]: f for f in data["features"]}

    hartlepool = features("UTA")["E06000001"]
    assert hartlepool["properties"] == {"code": "E06000001", "name": "Hartlepool"}
    assert hartlepool["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert features("UTW")["E05013038"]["properties"]["name"] == "Burn Valley"
    assert features("COI")["E06000053"]["properties"]["name"] == "Isles of Scilly"
    assert len(features("UTA")) == counts["UTA"]
