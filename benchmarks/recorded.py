"""Benchmark answers as recorded (``?recorded=``) beside the same answers as they stand now.

    .venv/bin/python benchmarks/recorded.py [--database var/registry.sqlite3] [--rounds 20]

Runs in-process through Django's test client against a loaded SQLite database (a copy is
made in a temporary directory, so the original is never written), with the document cache
off so that every request builds its answer. For each scenario it reports the median and
95th-percentile wall time per request and the process CPU time per request (user + system,
from ``/proc/self/stat``), with and without ``recorded=``. An edited entry is made first, as
a curator would (two versions after the load), so that the record-time path has versions
after the instant to look through.
"""

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIOS = [
    ("entry JSON", "/doc/statistical-geography/E07000004.json?date=2019-06-01"),
    ("entry Turtle", "/doc/statistical-geography/E07000004.ttl?date=2019-06-01"),
    ("entry page", "/doc/statistical-geography/E07000004?date=2019-06-01"),
    ("county page", "/doc/statistical-geography/E10000002?date=2019-06-01"),
    ("API history", "/api/v1/entries/statistical-geography/E07000004/history/?date=2024-01-01"),
    ("API listing (E07)", "/api/v1/entries/statistical-geography/?entity_type=E07"),
    ("register listing", "/doc/statistical-geography.json?type=E07"),
]


def cpu_seconds() -> float:
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def measure(client, path: str, rounds: int) -> tuple[float, float, float]:
    client.get(path)  # warm
    walls, cpus = [], []
    for _ in range(rounds):
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        response = client.get(path)
        walls.append(time.perf_counter() - wall0)
        cpus.append(cpu_seconds() - cpu0)
        assert response.status_code == 200, (path, response.status_code)
    walls.sort()
    p95 = walls[min(len(walls) - 1, int(len(walls) * 0.95))]
    return statistics.median(walls) * 1000, p95 * 1000, statistics.mean(cpus) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=str(ROOT / "var" / "registry.sqlite3"))
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="recorded-bench-"))
    copy = scratch / "registry.sqlite3"
    shutil.copy(args.database, copy)
    os.environ["REGISTRY_SQLITE_PATH"] = str(copy)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from unittest import mock

    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from registry.models import Entry, Version
    from registry.services import Actor, current_snapshot, save_entry

    entry = Entry.objects.select_related("register").get(key="E07000004")
    end_of_load = Version.objects.order_by("-id").values_list("recorded_at", flat=True)[0]
    for days, name in ((1, "Aylesbury Vale (first)"), (2, "Aylesbury Vale (second)")):
        snapshot = current_snapshot(entry)
        snapshot["names"] = [
            row._replace(text=name) if (row.language, row.kind) == ("en", "official") else row
            for row in snapshot["names"]
        ]
        with mock.patch.object(timezone, "now", return_value=end_of_load + dt.timedelta(days=days)):
            entry = save_entry(entry.register, entry.key, snapshot, Actor(reason="benchmark"))
    at = (end_of_load + dt.timedelta(hours=36)).astimezone(dt.UTC)
    recorded = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    caches = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    rows = []
    with override_settings(CACHES=caches, REGISTRY_SPARQL_UPDATES=False):
        client = Client()
        for label, path in SCENARIOS:
            joiner = "&" if "?" in path else "?"
            now = measure(client, path, args.rounds)
            then = measure(client, f"{path}{joiner}recorded={recorded}", args.rounds)
            rows.append((label, now, then))
    print(
        f"Entries: {Entry.objects.count():,}; versions: {Version.objects.count():,}; "
        f"rounds: {args.rounds}; recorded={recorded} (between the two edits)\n"
    )
    print(
        "| Scenario | now: median ms | now: p95 ms | now: CPU ms/request "
        "| recorded: median ms | recorded: p95 ms | recorded: CPU ms/request |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, now, then in rows:
        print(
            f"| {label} | {now[0]:.1f} | {now[1]:.1f} | {now[2]:.1f} "
            f"| {then[0]:.1f} | {then[1]:.1f} | {then[2]:.1f} |"
        )
    print()
    for line in machine.describe():
        print(f"- {line}")
    print(f"- Load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
