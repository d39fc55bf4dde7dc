"""Benchmark the SPARQL endpoint's store on the full registry: build time and size, the worked
examples' latency through ``/sparql``, and the time to apply one curator's edit to the store.

    .venv/bin/python benchmarks/sparql.py [--rounds 5] [--no-build]

Uses the loaded database in ``var/`` (``bin/serve`` makes it) and builds the store in a
temporary directory (or, with ``--no-build``, measures ``var/oxigraph``), so a developer's
store is left as it was. Latency is through Django's test client, the view and the query's
worker process (``registry.sparql_worker``), without the network: the median of ``--rounds``.
The edit is ``registry.sparql.entries_changed`` for one district (Aylesbury Vale, E07000004:
its triples, its neighbours' and its change event's), what a curator's save runs on commit.
Prints markdown tables for ``benchmarks/README.md``.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("REGISTRY_URI_BASE", "http://127.0.0.1:8000")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as scratch:
        if not args.no_build:
            os.environ["REGISTRY_SPARQL_STORE"] = str(Path(scratch) / "oxigraph")
        import django

        django.setup()
        from django.conf import settings
        from django.test import Client

        from api.sparql_examples import examples
        from registry import sparql
        from registry.models import Entry

        settings.ALLOWED_HOSTS = ["*"]
        built = sparql.info() if args.no_build else sparql.build(print)
        print("\n| store | triples | size | build |\n|---|---:|---:|---:|")
        print(
            f"| {settings.REGISTRY_SPARQL_STORE} | {built['triples']:,} | "
            f"{built['bytes'] / 1e6:,.0f} MB | {built['seconds']:.1f} s |"
        )
        client = Client()
        print("\n| example | values | median latency | fastest |\n|---|---:|---:|---:|")
        for example in examples():
            times = []
            for _ in range(args.rounds):
                started = time.monotonic()
                response = client.get(
                    "/sparql?" + urlencode({"query": example["query"]}),
                    HTTP_ACCEPT="application/sparql-results+json, text/turtle;q=0.9",
                )
                times.append(time.monotonic() - started)
                assert response.status_code == 200, response.content
            size = response.content.count(b'"value"') if b"head" in response.content else "-"
            print(
                f"| {example['slug']} | {size} | {statistics.median(times) * 1000:.0f} ms | "
                f"{min(times) * 1000:.0f} ms |"
            )
        settings.REGISTRY_SPARQL_UPDATES = True
        aylesbury = Entry.objects.get(register__slug="statistical-geography", key="E07000004")
        times = []
        for _ in range(args.rounds):
            started = time.monotonic()
            sparql.entries_changed([aylesbury.pk])
            times.append(time.monotonic() - started)
        print(
            f"\nOne curator edit applied to the store (E07000004 and its neighbours): median "
            f"{statistics.median(times) * 1000:.0f} ms, fastest {min(times) * 1000:.0f} ms."
        )


if __name__ == "__main__":
    main()
