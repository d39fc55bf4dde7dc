"""Benchmark the boundaries: the spatial index and point lookups, in process.

Against the loaded database (``DATABASE_URL``, default ``var/registry.sqlite3``), measures:

1. the index build (``geography.spatial.Index.build``): seconds, and the process's resident
   memory before and after (what each worker holds, before sharing by fork);
2. one point over every layer, on the engine alone and through the whole API view
   (``GET /api/v1/point/{lon},{lat}``, names and JSON included, Django's test client): CPU
   seconds per lookup (``time.process_time``, this process only) and lookups per second;
   points drawn at random from the 2025 wards' label points, so every one is on land;
3. a 1,000-point bulk lookup (``POST /api/v1/point/``): seconds and CPU per request;
4. the SVG map of an entry page (``api.maps.draw``), uncached: milliseconds per map for a
   ward, a district and a region.

Steps 2 and 3 run on each engine asked for (``--engine``, ``REGISTRY_SPATIAL_ENGINE``'s
values): ``shapely`` (the default), ``postgis`` (PostgreSQL with PostGIS: ``ST_Covers`` over
the GiST index, ``geography/postgis.py``), or ``both``, one after the other on the same points.
The PostGIS engine's CPU is in two processes: this one's (sending the statement, reading the
rows) and the server backend's, which ``time.process_time`` does not see; on a server on this
machine (``bin/pg-temp``) the backend's CPU is read from ``/proc/<pid>/stat`` and reported too.

    .venv/bin/python benchmarks/points.py [--points 2000] [--engine shapely|postgis|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The lookups are measured, not the rate limits: one client sends hundreds a second.
os.environ.setdefault("REGISTRY_API_RATE_LOOKUP", "1000000/second")
os.environ.setdefault("REGISTRY_API_RATE_BULK", "1000000/second")


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument(
        "--engine",
        choices=("shapely", "postgis", "both"),
        default="shapely",
        help="the point-lookup engine(s) to time (default shapely)",
    )
    args = parser.parse_args()
    import django

    django.setup()
    from django.test import Client, override_settings

    from api import maps
    from benchmarks import machine
    from geography import spatial
    from geography.models import Boundary

    engines = ["shapely", "postgis"] if args.engine == "both" else [args.engine]
    if "postgis" in engines:
        from django.db import connection

        from geography import postgis

        if not postgis.installed(connection):
            parser.error(
                f"--engine {args.engine}: this {connection.vendor} database has no PostGIS "
                "column (PostgreSQL with PostGIS: manage.py install_postgis)"
            )

    before = rss_mb()
    wall, cpu = time.monotonic(), time.process_time()
    index = spatial.Index.build()
    build_wall, build_cpu = time.monotonic() - wall, time.process_time() - cpu
    after = rss_mb()
    spatial._index = index
    rng = random.Random(16)  # noqa: S311 - a repeatable sample, not a secret
    labels = list(
        Boundary.objects.filter(layer="ward", vintage="2025").values_list("label_lon", "label_lat")
    )
    points = [rng.choice(labels) for _ in range(args.points)]
    on = dt.date(2025, 6, 1)

    timed = {}
    for name in engines:
        with override_settings(REGISTRY_SPATIAL_ENGINE=name):
            spatial._resolved.clear()
            timed[name] = time_engine(spatial.engine(), points, on, Client())
    spatial._resolved.clear()

    svg = {}
    for key in ("W05001274", "E06000066", "E12000009"):
        entry_id = Boundary.objects.filter(entry__key=key).values_list("entry_id", flat=True)[0]
        cpu = time.process_time()
        wall = time.monotonic()
        for _ in range(5):
            drawn = maps.draw(index, entry_id, key, on, True)
        svg[key] = ((time.monotonic() - wall) / 5, (time.process_time() - cpu) / 5, len(drawn))

    with open("/proc/loadavg") as handle:
        load = " ".join(handle.read().split()[:3])
    print(f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load average {load}")
    for line in machine.describe():
        print(line)
    print(
        f"Index: {len(index):,} boundaries; built in {build_wall:.1f} s ({build_cpu:.1f} s CPU); "
        f"RSS {before:.0f} → {after:.0f} MB (+{after - before:.0f} MB)"
    )
    for name, figures in timed.items():
        wall = figures["engine"][0]
        print(
            f"[{name}] Engine, one point over all layers: {cpu_text(figures['engine'])} per "
            f"point, {1 / wall:,.0f} points/s ({wall * 1000:.3f} ms wall each), "
            f"{figures['areas']:.1f} areas per point"
        )
        wall = figures["view"][0]
        print(
            f"[{name}] API view GET /api/v1/point/…: {cpu_text(figures['view'])} per request, "
            f"{1 / wall:,.0f} requests/s (one thread)"
        )
        wall, cpu, server = figures["bulk"]
        print(
            f"[{name}] Bulk 1,000 points: {wall:.3f} s wall, "
            f"{cpu_text((wall, cpu / 1000, None if server is None else server / 1000))} "
            "per point, best of 3"
        )
    for key, (seconds, cpu_seconds, size) in svg.items():
        print(
            f"SVG map of {key}: {seconds * 1000:.0f} ms ({cpu_seconds * 1000:.0f} ms CPU), "
            f"{size / 1024:.0f} kB"
        )
    return 0


def backend_cpu() -> float | None:
    """CPU seconds (user + system) of this connection's PostgreSQL backend, if it runs on
    this machine and /proc shows it; else None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    host = connection.settings_dict.get("HOST") or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return None  # another machine's process ids mean nothing here
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_engine(engine, points, on, client) -> dict:
    """One engine's figures: per point on the engine alone, per request through the API
    view, and the 1,000-point bulk request (best of three), each as (wall seconds, this
    process's CPU seconds, the database backend's CPU seconds or None); and the areas found
    per point. The view and the bulk request use ``engine`` too (the caller's setting). Each
    is warmed up first, so that neither engine pays for the caches the first one filled."""

    def timed(work, count: int) -> tuple:
        server, cpu, wall = backend_cpu(), time.process_time(), time.monotonic()
        work()
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        after = backend_cpu()
        return (
            wall / count,
            cpu / count,
            None if server is None or after is None else (after - server) / count,
        )

    found = []

    def lookups():
        found[:] = [len(engine.containing(lon, lat, on)) for lon, lat in points]

    view_points = points[: min(len(points), 500)]

    def views():
        for lon, lat in view_points:
            response = client.get(f"/api/v1/point/{lon},{lat}?date=2025-06-01")
            assert response.status_code == 200, response.content[:200]

    body = json.dumps(
        {"date": "2025-06-01", "points": [{"lon": x, "lat": y} for x, y in points[:1000]]}
    )

    def bulk():
        response = client.post("/api/v1/point/", body, content_type="application/json")
        assert response.status_code == 200, response.content[:200]

    for lon, lat in points[:50]:
        engine.containing(lon, lat, on)
        client.get(f"/api/v1/point/{lon},{lat}?date=2025-06-01")
    return {
        "engine": timed(lookups, len(points)),
        "areas": sum(found) / len(points),
        "view": timed(views, len(view_points)),
        "bulk": min(timed(bulk, 1) for _ in range(3)),
    }


def cpu_text(figures: tuple) -> str:
    """ "0.155 ms CPU (+ 0.8 ms server)": this process's CPU, and the database's if known."""
    _, cpu, server = figures
    text = f"{cpu * 1000:.3f} ms CPU"
    return text if server is None else f"{text} (+ {server * 1000:.3f} ms database backend)"


if __name__ == "__main__":
    sys.exit(main())
