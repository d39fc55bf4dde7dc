"""Does a request cost the same at four times the size? Two registries side by side.

    .venv/bin/python benchmarks/scale.py --before ../main-before [--after .] [--requests 200]

Starts the production server (gunicorn, 2 sync workers, ``config.wsgi``) in each of two
checkouts, each on its own loaded SQLite database (``var/registry.sqlite3`` there): "before"
is typically ``main`` before a change, with its data, "after" this checkout. Then, for each
access path, it sends the same requests to both, alternating one to each, from one client,
and reports per request the server CPU (user + system time of the gunicorn master and workers
from ``/proc``, which other load on a shared machine distorts least) and the latency.

Every request asks for something neither server has answered yet (a different code each
time), so each is built from the database rather than from a cache; the codes are drawn from
the "before" registry, so both sides hold them. Before measuring, every worker is warmed up,
reconciliation index included. Load is only ever sent to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sqlite3
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import machine
from documents import server_cpu_seconds

HERE = Path(__file__).resolve().parent.parent


class Server:
    """gunicorn in one checkout, on its own database."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root.resolve(), port
        self.database = self.root / "var" / "registry.sqlite3"
        env = {
            **os.environ,
            "REGISTRY_INSECURE_HTTP": "true",
            "REGISTRY_SQLITE_PATH": str(self.database),
            "REGISTRY_API_RATE_LOOKUP": "1000000/second",
            "REGISTRY_API_RATE_BULK": "1000000/second",
            "REGISTRY_THROTTLE_CACHE": f"/tmp/scale-throttle-{port}",  # noqa: S108 - a bench scratch dir
        }
        env.pop("DATABASE_URL", None)
        # A checkout without its own virtual environment (a git worktree) uses this one's;
        # gunicorn's --chdir puts the checkout first on the import path.
        venv = self.root / ".venv" if (self.root / ".venv").exists() else HERE / ".venv"
        self.process = subprocess.Popen(
            [str(venv / "bin" / "gunicorn"), "config.wsgi", "--chdir",
             str(self.root), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout",
             "300", "--log-level", "warning"],
            cwd=self.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for _ in range(300):
            try:
                if self.get("/api/v1/")[0] == 200:
                    return
            except OSError:
                self.connection.close()
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start in {root}")

    def entries(self) -> int:
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM registry_entry").fetchone()[0]

    def call(self, method: str, path: str, body: bytes | None = None, headers=None):
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.connection.close()  # the worker closed a kept-alive connection
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str):
        return self.call("GET", path)

    def post_json(self, path: str, payload) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        return self.call("POST", path, body, {"Content-Type": "application/json"})

    def post_form(self, path: str, fields: dict) -> tuple[int, bytes]:
        body = urllib.parse.urlencode(fields).encode()
        return self.call("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def stop(self) -> None:
        self.connection.close()
        self.process.terminate()
        self.process.wait(timeout=60)


def sample(database: Path, count: int, seed: int = 1) -> dict[str, list[str]]:
    """Codes of every kind (live and terminated) and English names of areas, from one database."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        codes = [row[0] for row in db.execute(
            "SELECT e.key FROM registry_entry e JOIN registry_register r ON r.id = e.register_id "
            "WHERE r.slug = 'statistical-geography'")]  # fmt: skip
        names = [row[0] for row in db.execute(
            "SELECT DISTINCT n.text FROM registry_name n JOIN registry_state s ON "
            "s.entry_id = n.entry_id JOIN registry_entry t ON t.id = s.entity_type_id WHERE "
            "t.key IN ('E06', 'E07', 'E08', 'E09', 'W06', 'E05', 'W05') AND n.language = 'en' "
            "AND n.kind = 'official'")]  # fmt: skip
    codes.sort()
    names.sort()
    # First words long enough not to be a three-letter council code ("new" goes to a page).
    words = sorted({name.split()[0] for name in names if len(name.split()[0]) > 3})
    return {
        "codes": rng.sample(codes, min(count * 12, len(codes))),
        "names": rng.sample(names, count),
        "words": rng.sample(words, count),
    }


Scenario = tuple[str, Callable[[Server, int], tuple[int, bytes]], int]


def scenarios(data: dict[str, list[str]], n: int) -> list[Scenario]:
    codes, names = data["codes"], data["names"]

    def take(offset: int, i: int) -> str:
        return codes[offset * n + i]

    def bulk_codes(i: int) -> list[str]:
        return [codes[(i * 1000 + j) % len(codes)] for j in range(1000)]

    def batch(i: int) -> str:
        queries = {f"q{j}": {"query": names[(i * 10 + j) % len(names)]} for j in range(10)}
        return json.dumps(queries)

    return [
        ("Entry document, JSON (a different entry each time)",
         lambda s, i: s.get(f"/doc/statistical-geography/{take(0, i)}.json"), n),
        ("Entry page, HTML",
         lambda s, i: s.get(f"/doc/statistical-geography/{take(1, i)}"), n),
        ("Entry document, Turtle",
         lambda s, i: s.get(f"/doc/statistical-geography/{take(2, i)}.ttl"), n),
        ("Lookup API, one code",
         lambda s, i: s.get(f"/api/v1/entries/statistical-geography/{take(3, i)}/"), n),
        ("Lookup API, as at 2015-06-01",
         lambda s, i: s.get(f"/api/v1/entries/statistical-geography/{take(4, i)}/?date=2015-06-01"), n),
        ("Bulk lookup, 1,000 codes",
         lambda s, i: s.post_json("/api/v1/lookup/", {"items": bulk_codes(i)}), max(n // 20, 5)),
        ("Search page, a name",
         lambda s, i: s.get("/search?" + urllib.parse.urlencode({"q": names[i]})), n),
        ("Search page, a name's first word",
         lambda s, i: s.get("/search?" + urllib.parse.urlencode({"q": data["words"][i]})), n),
        ("Listing, wards in a district (first page)",
         lambda s, i: s.get(f"/doc/statistical-geography?type=E05&parent={DISTRICTS[i % len(DISTRICTS)]}"), n // 2),
        ("Reconciliation, a batch of 10 names",
         lambda s, i: s.post_form("/reconcile", {"queries": batch(i)}), max(n // 4, 10)),
    ]  # fmt: skip


# Districts whose wards the listings scenario pages through (all in both registries).
DISTRICTS = ["E07000004", "E08000025", "E09000033", "E06000052", "W06000015", "E07000223"]


def warm(server: Server, data: dict[str, list[str]]) -> None:
    """Reach both workers: every path, the reconciliation index built in each. Requests are
    sent two at a time, each on its own connection, so that while one worker is busy (the
    first reconciliation builds its index) the other must take the second; one at a time,
    the kernel may hand every connection to the same worker."""

    def visit() -> None:
        own = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        body = urllib.parse.urlencode({"queries": json.dumps({"q0": {"query": "Leeds"}})})
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        for method, path, payload, headers in [
            ("POST", "/reconcile", body.encode(), form),
            ("GET", "/search?q=leeds", None, {}),
            ("GET", "/api/v1/entries/statistical-geography/E08000035/", None, {}),
            ("GET", "/doc/statistical-geography/E08000035.json", None, {}),
            ("GET", "/doc/statistical-geography?type=E05&parent=E08000035", None, {}),
        ]:
            own.request(method, path, body=payload, headers=headers)
            own.getresponse().read()
            own.close()

    for _ in range(3):
        pair = [threading.Thread(target=visit) for _ in range(2)]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()


def measure(servers: dict[str, Server], scenario: Scenario) -> dict[str, dict]:
    label, send, count = scenario
    cpu = {name: server_cpu_seconds(s.process.pid) for name, s in servers.items()}
    latencies: dict[str, list[float]] = {name: [] for name in servers}
    order = list(servers)
    for i in range(count):
        for name in order if i % 2 == 0 else reversed(order):
            started = time.perf_counter()
            status, _ = send(servers[name], i)
            latencies[name].append(time.perf_counter() - started)
            if status != 200:
                raise SystemExit(f"{label}: {name} answered {status} to request {i}")
    result = {}
    for name, server in servers.items():
        spent = server_cpu_seconds(server.process.pid) - cpu[name]
        times = sorted(latencies[name])
        result[name] = {
            "cpu_ms": 1000 * spent / count,
            "p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[min(len(times) - 1, int(0.95 * len(times)))],
            "count": count,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout with its var/ loaded")
    parser.add_argument("--after", type=Path, default=HERE)
    parser.add_argument("--requests", type=int, default=200, help="per scenario and side")
    parser.add_argument("--port", type=int, default=8111)
    args = parser.parse_args()

    servers = {"before": Server(args.before, args.port), "after": Server(args.after, args.port + 1)}
    try:
        sizes = {name: s.entries() for name, s in servers.items()}
        data = sample(servers["before"].database, args.requests)
        for server in servers.values():
            warm(server, data)
        rows = []
        for scenario in scenarios(data, args.requests):
            result = measure(servers, scenario)
            print(f"  {scenario[0]}: {result['before']['cpu_ms']:.2f} → "
                  f"{result['after']['cpu_ms']:.2f} ms CPU", flush=True)  # fmt: skip
            rows.append((scenario[0], result))
    finally:
        for server in servers.values():
            server.stop()

    print()
    print(f"Before: {args.before} ({sizes['before']:,} entries); "
          f"after: {args.after} ({sizes['after']:,} entries).")  # fmt: skip
    print()
    print("| Access path | Requests per side | Server CPU per request, before → after (ms) "
          "| After / before | p50 before → after (ms) | p95 before → after (ms) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in rows:
        b, a = r["before"], r["after"]
        print(f"| {label} | {b['count']} | {b['cpu_ms']:.2f} → {a['cpu_ms']:.2f} | "
              f"{a['cpu_ms'] / b['cpu_ms']:.2f} | {b['p50_ms']:.1f} → {a['p50_ms']:.1f} | "
              f"{b['p95_ms']:.1f} → {a['p95_ms']:.1f} |")  # fmt: skip
    print()
    for line in machine.describe():
        print(f"- {line}")


if __name__ == "__main__":
    main()
