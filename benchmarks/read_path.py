"""Benchmark the read path on the production server: entry documents nobody asked for and
warm ones, the 304 and the 303, and the lookup API for random codes, beside a bare Django
view (the ceiling) on the same server, each as server CPU per request (from /proc) and
requests per second.

    .venv/bin/python benchmarks/read_path.py [--seconds 5] [--rounds 3] [--port 18431]
    .venv/bin/python benchmarks/read_path.py --source /tmp/main-export   # another checkout
    .venv/bin/python benchmarks/read_path.py --cache-url redis://127.0.0.1:6379/15  # Redis
    .venv/bin/python benchmarks/read_path.py --mapit http://127.0.0.1:18432  # beside MapIt
    .venv/bin/python benchmarks/read_path.py --nginx   # and through deploy/nginx.conf

Beside the ceiling it measures the server floor: ``benchmarks/floor.py``, a WSGI application
answering two bytes, on gunicorn with the same worker class, workers and threads, which is
what any answer costs before the application does anything.

Starts gunicorn with ``config/gunicorn.py`` (``WEB_CONCURRENCY=2`` threaded workers, the
application and reconciliation index preloaded, as ``bin/serve`` runs it) on 127.0.0.1 over
the loaded SQLite database (``REGISTRY_SQLITE_PATH``, default ``var/registry.sqlite3``), with
``benchmarks/ceiling.py``'s settings (the production ones plus ``/benchmark/ceiling``), the
lookup rate limit lifted and an empty render cache of its own. ``--source`` runs the server
from another checkout of the project (for example ``git archive main``, to compare before and
after) with this one's virtual environment. Load is sent only to 127.0.0.1 with ``wrk``
(``apt-get install wrk``), bounded in time.

"Cold" scenarios rotate over random codes from the whole registry, a fresh sample for every
measurement (8,000 codes, more than a measurement requests), so that nearly every request
builds its answer; "warm" ones repeat one entry, whose answer is cached after the first.
With ``--nginx``, every scenario (and the ceiling) is also measured through nginx with
``deploy/nginx.conf`` as shipped but for its addresses, its cache of public reads on, in the
same rounds (cold scenarios on samples of their own): server CPU is then gunicorn's and
nginx's (master and worker) together. After the runs, each worker's resident and proportional set size (VmRSS, Pss) is read from
/proc.

``--mapit URL`` also measures mySociety's MapIt, running on this machine (set up outside the
repository as benchmarks/README.md, "Beside MapIt", says), in the same rounds and the same way:
``/area/{id}`` for random area ids (a fresh sample of its ids for every measurement) and for
one warm id (the area of ``--mapit-warm``, a GSS code). Its gunicorn master is the process
listening on the URL's port and its PostgreSQL the one on ``--mapit-postgres-port``; server
CPU per request is reported for gunicorn (master and workers), for PostgreSQL (the postmaster
and its backends, those that have exited included) and both together, beside requests per
second and the ratio of the registry's entry document nobody asked for to MapIt's random
``/area/{id}``. ``--mapit-export DIR`` writes the areas MapIt is loaded with, from this
registry (``benchmarks/peer_mapit.py``), and exits.

``--in-process`` measures the same requests without the server or the load generator: the
production WSGI application (``config.wsgi``, with the ceiling's URL) called directly, one
request at a time, CPU time (``time.process_time``) per request. On a shared machine whose
other users' load inflates a server's CPU per request, this is the steadier comparison of
what the application itself spends.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine
import peer_mapit
from documents import LUA_ROTATE, fetch, server_cpu_seconds, start_nginx, wait_for, wrk

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
ENTRY = "/doc/statistical-geography/E07000004"
API = "/api/v1/entries/statistical-geography"
CEILING = "/benchmark/ceiling"
SAMPLE = 8000


def database() -> Path:
    return Path(os.environ.get("REGISTRY_SQLITE_PATH", ROOT / "var" / "registry.sqlite3"))


def shared_cache(env: dict, cache_url: str | None) -> dict:
    """The server's shared cache: its own empty file caches (the embedded default), or
    ``cache_url`` (``redis://…``, the production setting), emptied first."""
    for name in ("DATABASE_URL", "REGISTRY_CACHE_URL"):
        env.pop(name, None)
    if cache_url:
        import redis

        redis.Redis.from_url(cache_url).flushdb()
        env["REGISTRY_CACHE_URL"] = cache_url
    return env


def start_server(
    source: Path, port: int, scratch: Path, cache_url: str | None = None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.ceiling",
        "PYTHONPATH": str(source),
        "REGISTRY_INSECURE_HTTP": "true",
        "REGISTRY_SQLITE_PATH": str(database()),
        "REGISTRY_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "REGISTRY_API_RATE_LOOKUP": "1000000/second",
        "REGISTRY_API_RATE_BULK": "1000000/second",
        "REGISTRY_RENDER_CACHE": str(scratch / "render"),
        "REGISTRY_THROTTLE_CACHE": str(scratch / "throttle"),
        "REGISTRY_SPARQL_UPDATES": "false",
    }
    shared_cache(env, cache_url)
    server = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            "-c",
            str(source / "config" / "gunicorn.py"),
            "--chdir",
            str(source),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
        ],
        env=env,
    )
    return wait_for(f"http://127.0.0.1:{port}{CEILING}", server, tries=600)


def start_floor(port: int) -> subprocess.Popen:
    """``benchmarks/floor.py`` (two bytes, no Django) on gunicorn with the production server's
    worker class, workers and threads (``config/gunicorn.py``) and its access log written as
    the registry's is here: the server's own cost per request."""
    server = subprocess.Popen(  # noqa: S603 (this virtualenv's gunicorn, loopback only)
        [
            str(VENV / "gunicorn"),
            "floor:application",
            "--chdir",
            str(ROOT / "benchmarks"),
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            os.environ.get("GUNICORN_THREADS", "8"),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--access-logfile",
            "/dev/null",
        ],
    )
    return wait_for(f"http://127.0.0.1:{port}/", server, pause=0.1)


def random_keys() -> list[str]:
    with sqlite3.connect(f"file:{database()}?mode=ro", uri=True) as db:
        keys = [
            row[0]
            for row in db.execute(
                "SELECT e.key FROM registry_entry e JOIN registry_register r ON r.id = e.register_id "
                "WHERE r.slug = 'statistical-geography'"
            )
        ]
    random.Random(13).shuffle(keys)  # noqa: S311 (a sample, not a secret)
    return keys


def rotation(paths: list[str], scratch: Path, name: str) -> str:
    script = scratch / f"{name}.lua"
    script.write_text(LUA_ROTATE % ", ".join(f'"{p}"' for p in paths))
    return str(script)


def workers_memory(master: int) -> list[tuple[int, int]]:
    """(VmRSS, Pss) in KiB of each worker of ``master``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid != master:
                continue
            status = (stat.parent / "status").read_text()
            rollup = (stat.parent / "smaps_rollup").read_text()
        except OSError:
            continue
        rss = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        pss = int(next(line for line in rollup.splitlines() if line.startswith("Pss:")).split()[1])
        found.append((rss, pss))
    return found


def mapit_setup(base: str, postgres_port: int, warm_code: str) -> dict:
    """Find a running MapIt's processes and area ids, and check it answers as in production."""
    port = int(base.rsplit(":", 1)[1].split("/")[0])
    found = {"master": peer_mapit.listener(port), "postgres": peer_mapit.listener(postgres_port)}
    types = json.load(fetch(f"{base}/types"))["area"]
    areas = json.load(fetch(f"{base}/areas/{','.join(sorted(types))}"))
    found["ids"] = sorted(int(area_id) for area_id in areas)
    location = fetch(f"{base}/code/gss/{warm_code}").headers.get("Location", "")
    if not location.startswith("/area/"):
        raise SystemExit(f"MapIt has no area with GSS code {warm_code}: {location!r}")
    found["warm"] = location
    answer = fetch(f"{base}{location}")
    body = json.load(answer)
    if answer.status != 200 or body.get("codes", {}).get("gss") != warm_code:
        raise SystemExit(f"MapIt's {location} answered {answer.status}: {body}")
    if "debug_db_queries" in body:
        raise SystemExit("MapIt runs with DEBUG on (its answers list their SQL): set DEBUG: False")
    if fetch(f"{base}/area/{found['ids'][0]}").status != 200:
        raise SystemExit(f"MapIt's /area/{found['ids'][0]} is not 200")
    return found


def measure_mapit(url: str, args, script: str | None, mapit: dict) -> dict:
    """wrk against MapIt, with PostgreSQL's CPU per request beside its gunicorn's."""
    before = server_cpu_seconds(mapit["postgres"], reaped=True)
    result = wrk(url, args.seconds, args.connections, (), script, mapit["master"])
    postgres = server_cpu_seconds(mapit["postgres"], reaped=True) - before
    result["pg_ms"] = 1000 * postgres / max(result["requests"], 1)
    result["total_ms"] = result["cpu_ms"] + result["pg_ms"]
    return result


IN_PROCESS = r"""
import os, random, sqlite3, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.ceiling"
from django.test import RequestFactory
from config.wsgi import application

factory = RequestFactory()


def call(path, **extra):
    started = {}
    def start_response(status, headers, exc_info=None):
        started["status"] = status
    b"".join(application(factory.get(path, **extra).environ, start_response))
    return started["status"]


keys = [row[0] for row in sqlite3.connect(os.environ["REGISTRY_SQLITE_PATH"]).execute(
    "SELECT e.key FROM registry_entry e JOIN registry_register r ON r.id = e.register_id "
    "WHERE r.slug = 'statistical-geography'")]
random.Random(13).shuffle(keys)
fresh = iter(keys)
doc, api = "/doc/statistical-geography/E07000004", "/api/v1/entries/statistical-geography"
call(doc + ".json")
etag = {}
def start(status, headers, exc_info=None):
    etag.update(headers)
b"".join(application(factory.get(doc + ".json").environ, start))
scenarios = [
    ("Ceiling: bare Django view", lambda: call("/benchmark/ceiling")),
    ("Entry page nobody asked for (random codes, HTML)", lambda: call(f"/doc/statistical-geography/{next(fresh)}")),
    ("Entry document nobody asked for (random codes, JSON)", lambda: call(f"/doc/statistical-geography/{next(fresh)}.json")),
    ("`GET /api/v1/entries/…` for a random code", lambda: call(f"{api}/{next(fresh)}/")),
    ("Warm entry page (`E07000004`, HTML)", lambda: call(doc)),
    ("Warm entry document (`E07000004.json`)", lambda: call(doc + ".json")),
    ("Warm `GET /api/v1/entries/…/E07000004/`", lambda: call(f"{api}/E07000004/")),
    ("304 (`If-None-Match`, `E07000004.json`)", lambda: call(doc + ".json", HTTP_IF_NONE_MATCH=etag["ETag"])),
    ("303 (`/id/…/E07000004`)", lambda: call("/id/statistical-geography/E07000004")),
]
count = int(sys.argv[1])
for label, request in scenarios:
    status = request()
    began = time.process_time()
    for _ in range(count):
        status = request()
    print(f"{label}\t{1000 * (time.process_time() - began) / count:.3f}\t{status}")
"""


def in_process(source: Path, count: int, cache_url: str | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="read-path-") as scratch:
        env = {
            **os.environ,
            "PYTHONPATH": str(source),
            "REGISTRY_INSECURE_HTTP": "true",
            "REGISTRY_SQLITE_PATH": str(database()),
            "REGISTRY_API_RATE_LOOKUP": "1000000/second",
            "REGISTRY_RENDER_CACHE": str(Path(scratch) / "render"),
            "REGISTRY_THROTTLE_CACHE": str(Path(scratch) / "throttle"),
            "REGISTRY_SPARQL_UPDATES": "false",
        }
        shared_cache(env, cache_url)
        done = subprocess.run(  # noqa: S603 (this interpreter, on the script above)
            [str(VENV / "python"), "-W", "ignore", "-c", IN_PROCESS, str(count)],
            cwd=source,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    cache = f", cache {cache_url}" if cache_url else ", file caches"
    print(f"{source}: in process, {count} requests a scenario, CPU per request{cache}\n")
    print("| Scenario | CPU per request | Status |")
    print("|---|---:|---|")
    for line in done.stdout.splitlines():
        label, cpu, status = line.split("\t")
        print(f"| {label} | {cpu} ms | {status} |")
    load = os.getloadavg()
    print(f"\n- Load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


def print_mapit(args, mapit: dict, mapit_runs: dict, size: int, runs: dict, ceiling_rps: float):
    print(
        f"\nBeside MapIt at {args.mapit} ({len(mapit['ids'])} areas; random ids from a fresh "
        f"sample of {size} for every measurement), in the same rounds:\n"
    )
    print(
        "| Scenario | gunicorn CPU per request | PostgreSQL CPU per request | Server CPU per "
        "request (both) | Requests/s | Share of the registry's ceiling (req/s) | p50 | p99 | Non-2xx/3xx |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = {}
    for label, results in mapit_runs.items():
        rps = statistics.median(r["rps"] for r in results)
        cpu = statistics.median(r["cpu_ms"] for r in results)
        postgres = statistics.median(r["pg_ms"] for r in results)
        total = statistics.median(r["total_ms"] for r in results)
        middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
        rows[label] = (rps, total)
        print(
            f"| {label} | {cpu:.2f} ms | {postgres:.2f} ms | {total:.2f} ms | {rps:.0f} | "
            f"{rps / ceiling_rps:.0%} | {middle['p50']} | {middle['p99']} | "
            f"{sum(r['non_2xx_3xx'] for r in results)} |"
        )
    ours = runs["Entry document nobody asked for (random codes, JSON)"]
    our_rps = statistics.median(r["rps"] for r in ours)
    our_cpu = statistics.median(r["cpu_ms"] for r in ours)
    their_rps, their_cpu = rows["MapIt `/area/{id}` for a random id"]
    ratio = our_rps / their_rps
    print(
        f"\nEntry document nobody asked for (random codes, JSON) against MapIt's `/area/{{id}}` "
        f"for a random id: {our_rps:.0f} against {their_rps:.0f} requests/s, **{ratio:.2f}×** "
        f"(target ≥ 2.5×: {'met' if ratio >= 2.5 else 'missed'}); server CPU per request "
        f"{our_cpu:.2f} ms against {their_cpu:.2f} ms ({their_cpu / our_cpu:.2f}×)."
    )
    print(
        "MapIt's workers after the runs (VmRSS / Pss): "
        + ", ".join(f"{rss / 1024:.0f} / {pss / 1024:.0f} MiB" for rss, pss in mapit["memory"])
    )
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=18431)
    parser.add_argument("--source", type=Path, default=ROOT)
    parser.add_argument("--label", default="")
    parser.add_argument("--in-process", type=int, metavar="N", help="N requests a scenario")
    parser.add_argument(
        "--cache-url",
        metavar="URL",
        help="REGISTRY_CACHE_URL for the server (redis://127.0.0.1:6379/15, emptied first); "
        "default: file caches of its own",
    )
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="measure every scenario through nginx too (deploy/nginx.conf, with its cache of "
        "public reads), counting nginx's CPU with gunicorn's",
    )
    parser.add_argument("--mapit", metavar="URL", help="a running MapIt to measure beside")
    parser.add_argument("--mapit-postgres-port", type=int, default=55432, metavar="PORT")
    parser.add_argument("--mapit-warm", default="E06000001", metavar="GSS")
    parser.add_argument(
        "--mapit-export", type=Path, metavar="DIR", help="write MapIt's areas to DIR and exit"
    )
    args = parser.parse_args()
    if args.mapit_export:
        with sqlite3.connect(f"file:{database()}?mode=ro", uri=True) as db:
            counts = peer_mapit.export(db, args.mapit_export, dt.datetime.now(dt.UTC).date())
        print(json.dumps(counts, indent=1))
        return 0
    if args.in_process:
        return in_process(args.source.resolve(), args.in_process, args.cache_url)
    mapit = None
    if args.mapit:
        args.mapit = args.mapit.rstrip("/")
        mapit = mapit_setup(args.mapit, args.mapit_postgres_port, args.mapit_warm)
        mapit_ids = [str(area_id) for area_id in mapit["ids"]]
        random.Random(13).shuffle(mapit_ids)  # noqa: S311 (a sample, not a secret)
        mapit_size = min(SAMPLE, len(mapit_ids) // args.rounds)
        mapit_samples = iter(
            mapit_ids[i : i + mapit_size] for i in range(0, len(mapit_ids), mapit_size)
        )
        mapit_scenarios = [
            ("MapIt `/area/{id}` for a random id", None),
            (f"MapIt warm `{mapit['warm']}` ({args.mapit_warm})", mapit["warm"]),
        ]
        mapit_runs: dict[str, list[dict]] = {label: [] for label, _ in mapit_scenarios}
    keys = random_keys()
    samples = iter(keys[i : i + SAMPLE] for i in range(0, len(keys), SAMPLE))
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="read-path-") as scratch_dir:
        scratch = Path(scratch_dir)
        server = start_server(args.source.resolve(), args.port, scratch, args.cache_url)
        floor = start_floor(args.port + 2)
        floors: list[dict] = []
        nginx = None
        if args.nginx:
            nginx, _ = start_nginx(scratch, [args.port, args.port], "127.0.0.1", args.port + 4)
            wait_for(f"http://127.0.0.1:{args.port + 4}/healthz", nginx)
        # Where each measurement is sent, and whose CPU it counts: gunicorn, and then (with
        # --nginx) nginx in front of it.
        fronts = [("", base, server.pid)]
        if nginx is not None:
            fronts.append(
                (" through nginx", f"http://127.0.0.1:{args.port + 4}", (server.pid, nginx.pid))
            )
        try:
            etag = fetch(f"{base}{ENTRY}.json").headers["ETag"]
            page_etag = fetch(f"{base}{ENTRY}").headers["ETag"]
            fetch(f"{base}{ENTRY}")
            fetch(f"{base}{API}/E07000004/")
            checks = {
                "303": fetch(f"{base}/id/statistical-geography/E07000004").status,
                "304": fetch(f"{base}{ENTRY}.json", {"If-None-Match": etag}).status,
                "304 page": fetch(f"{base}{ENTRY}", {"If-None-Match": page_etag}).status,
            }
            for via, url, _ in fronts[1:]:
                # That the warm rows through nginx are its cache's answers, not gunicorn's.
                fetch(f"{url}{ENTRY}.json")
                hit = fetch(f"{url}{ENTRY}.json").headers.get("X-Cache-Status")
                checks[f"warm document{via}"] = hit
                if hit != "HIT":
                    raise SystemExit(
                        f"nginx's cache did not keep {ENTRY}.json (X-Cache-Status {hit})"
                    )
            # (label, path or None, headers, paths of a rotation: key → path)
            scenarios = [
                ("Entry page nobody asked for (random codes, HTML)", None, (), "/doc/statistical-geography/{}"),
                ("Entry document nobody asked for (random codes, JSON)", None, (), "/doc/statistical-geography/{}.json"),
                ("`GET /api/v1/entries/…` for a random code", None, (), API + "/{}/"),
                ("Warm entry page (`E07000004`, HTML)", ENTRY, (), None),
                ("Warm entry document (`E07000004.json`)", f"{ENTRY}.json", (), None),
                ("Warm `GET /api/v1/entries/…/E07000004/`", f"{API}/E07000004/", (), None),
                ("304 (`If-None-Match`, `E07000004.json`)", f"{ENTRY}.json", (f"If-None-Match: {etag}",), None),
                ("303 (`/id/…/E07000004`)", "/id/statistical-geography/E07000004", (), None),
            ]  # fmt: skip
            runs: dict[str, list[dict]] = {
                f"{label}{via}": [] for label, *_ in scenarios for via, *_ in fronts
            }
            ceilings: dict[str, list[dict]] = {via: [] for via, *_ in fronts}
            for round_number in range(args.rounds):
                floors.append(
                    wrk(
                        f"http://127.0.0.1:{args.port + 2}/",
                        args.seconds,
                        args.connections,
                        master=floor.pid,
                    )  # fmt: skip
                )
                for via, url, masters in fronts:
                    ceilings[via].append(
                        wrk(f"{url}{CEILING}", args.seconds, args.connections, master=masters)
                    )
                for number, (label, path, headers, pattern) in enumerate(scenarios):
                    for via, url, masters in fronts:
                        script, asked = None, path
                        if pattern:  # entries of their own, not those asked for before
                            paths = [pattern.format(key) for key in next(samples)]
                            script = rotation(paths, scratch, f"r{round_number}-{number}{via[:1]}")
                            asked = "/"
                        result = wrk(
                            f"{url}{asked}",
                            args.seconds,
                            args.connections,
                            headers,
                            script,
                            masters,
                        )
                        runs[f"{label}{via}"].append(result)
                        print(
                            f"round {round_number + 1}: {label}{via}: {result['rps']:.0f} req/s, "
                            f"{result['cpu_ms']:.2f} ms",
                            file=sys.stderr,
                        )
                for number, (label, path) in enumerate(mapit_scenarios if mapit else ()):
                    script = None
                    if path is None:
                        paths = [f"/area/{area_id}" for area_id in next(mapit_samples)]
                        script = rotation(paths, scratch, f"m{round_number}-{number}")
                        path = "/"
                    result = measure_mapit(f"{args.mapit}{path}", args, script, mapit)
                    mapit_runs[label].append(result)
                    print(
                        f"round {round_number + 1}: {label}: {result['rps']:.0f} req/s, "
                        f"{result['cpu_ms']:.2f} + {result['pg_ms']:.2f} ms",
                        file=sys.stderr,
                    )
                for via, url, masters in fronts:
                    ceilings[via].append(
                        wrk(f"{url}{CEILING}", args.seconds, args.connections, master=masters)
                    )
            memory = workers_memory(server.pid)
            if mapit:
                mapit["memory"] = workers_memory(mapit["master"])
        finally:
            server.terminate()
            floor.terminate()
            if nginx is not None:
                nginx.terminate()
                nginx.wait(timeout=60)
            server.wait(timeout=60)
            floor.wait(timeout=60)

    ceiling_rps = statistics.median(c["rps"] for c in ceilings[""])
    print(
        f"{args.label or args.source}: run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"cache {args.cache_url or 'files (the embedded default)'}; "
        f"wrk, 2 threads, {args.connections} connections, {args.seconds} s per measurement, "
        f"{args.rounds} rounds; medians over the rounds.\n"
    )
    floor_rps = statistics.median(f["rps"] for f in floors)
    floor_cpu = statistics.median(f["cpu_ms"] for f in floors)
    for via, *_ in fronts:
        if via:
            print(
                f"\n{via.strip().capitalize()} (deploy/nginx.conf, its cache of public reads on; "
                "server CPU is gunicorn's and nginx's; share of the same ceiling through nginx):\n"
            )
        share_of = statistics.median(c["rps"] for c in ceilings[via])
        print(
            "| Scenario | Server CPU per request | Requests/s | Share of ceiling (req/s) | p50 | p99 | Non-2xx/3xx |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")  # fmt: skip
        if not via:
            print(
                f"| Server floor: a two-byte WSGI application, same gunicorn settings (no Django) "
                f"| {floor_cpu:.2f} ms | {floor_rps:.0f} | {floor_rps / share_of:.0%} | | | |"
            )
        ceiling_cpu = statistics.median(c["cpu_ms"] for c in ceilings[via])
        print(
            f"| Ceiling: bare Django view{via} | {ceiling_cpu:.2f} ms | {share_of:.0f} | 100% | | | |"
        )
        for label, *_ in scenarios:
            results = runs[f"{label}{via}"]
            rps = statistics.median(r["rps"] for r in results)
            cpu = statistics.median(r["cpu_ms"] for r in results)
            middle = sorted(results, key=lambda r: r["rps"])[len(results) // 2]
            print(
                f"| {label} | {cpu:.2f} ms | {rps:.0f} | {rps / share_of:.0%} | {middle['p50']} | "
                f"{middle['p99']} | {sum(r['non_2xx_3xx'] for r in results)} |"
            )
    print()
    print(f"Checks (status codes): {checks}")
    print(
        "Workers after the runs (VmRSS / Pss): "
        + ", ".join(f"{rss / 1024:.0f} / {pss / 1024:.0f} MiB" for rss, pss in memory)
    )
    load = os.getloadavg()
    if mapit:
        print_mapit(args, mapit, mapit_runs, mapit_size, runs, ceiling_rps)
    print("\n".join(f"- {line}" for line in machine.describe()))
    print(f"- Load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
