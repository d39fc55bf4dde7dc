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

    .venv/bin/python benchmarks/points.py [--points 2000]
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


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=2000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.test import Client

    from api import maps
    from benchmarks import machine
    from geography import spatial
    from geography.models import Boundary

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

    cpu = time.process_time()
    wall = time.monotonic()
    hits = 0
    for lon, lat in points:
        hits += len(index.containing(lon, lat, on))
    engine_cpu = (time.process_time() - cpu) / len(points)
    engine_rate = len(points) / (time.monotonic() - wall)

    client = Client()
    view_points = points[: min(len(points), 500)]
    cpu = time.process_time()
    wall = time.monotonic()
    for lon, lat in view_points:
        response = client.get(f"/api/v1/point/{lon},{lat}?date=2025-06-01")
        assert response.status_code == 200, response.content[:200]
    view_cpu = (time.process_time() - cpu) / len(view_points)
    view_rate = len(view_points) / (time.monotonic() - wall)

    body = json.dumps(
        {"date": "2025-06-01", "points": [{"lon": x, "lat": y} for x, y in points[:1000]]}
    )
    bulk = []
    for _ in range(3):
        cpu = time.process_time()
        wall = time.monotonic()
        response = client.post("/api/v1/point/", body, content_type="application/json")
        assert response.status_code == 200, response.content[:200]
        bulk.append((time.monotonic() - wall, time.process_time() - cpu))

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
    print(
        f"Engine, one point over all layers: {engine_cpu * 1000:.3f} ms CPU per point, "
        f"{engine_rate:,.0f} points/s, {hits / len(points):.1f} areas per point"
    )
    print(
        f"API view GET /api/v1/point/…: {view_cpu * 1000:.2f} ms CPU per request, "
        f"{view_rate:,.0f} requests/s (one thread)"
    )
    best = min(bulk)
    print(f"Bulk 1,000 points: {best[0]:.3f} s ({best[1]:.3f} s CPU), best of 3")
    for key, (seconds, cpu_seconds, size) in svg.items():
        print(
            f"SVG map of {key}: {seconds * 1000:.0f} ms ({cpu_seconds * 1000:.0f} ms CPU), "
            f"{size / 1024:.0f} kB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
