"""Reconciliation benchmarks: matching quality and speed.

    .venv/bin/python benchmarks/reconcile.py quality   # accuracy on the evaluation sets
    .venv/bin/python benchmarks/reconcile.py speed     # latency and throughput over HTTP
    .venv/bin/python benchmarks/reconcile.py build-wards  # rebuild data/wards_2025_eval.csv

**quality** runs the matcher (``api.reconcile.matching``) directly against the registry
database (``var/registry.sqlite3`` or ``DATABASE_URL``) on two sets:

- ``data/la_name_variants_dev.csv``: 2,004 real-world spellings of council names with the GSS
  code of the area (copied from the shared evaluation data; OGL v3, derived from ONS names),
  reconciled against the type ``local-authority-area`` without a date, again giving the
  rows for authorities that no longer exist the date their data would carry (2018-06-01), and
  without a type (where any automatic match but the area's is wrong);
- ``data/wards_2025_eval.csv``: every ward of the 2025 vintage (England and Wales, built from
  ``fixtures/wards/`` by ``build-wards``), reconciled against the type ``ward`` with the
  district's name as property ``district``, with its code as property ``parent``, and alone;
  and misspelt (one seeded typing slip in the longest word, :func:`misspell`) with either.

It reports top-1 accuracy (the first candidate is the expected code), auto-match precision
(of the queries matched automatically, the share matched to the expected code) and
auto-match recall (the share of all queries matched automatically to the expected code).

**speed** starts the registry under gunicorn on 127.0.0.1:8104 (``--port``) and the
``csv-reconcile`` package under the same gunicorn settings on a free port, serving every
local authority district and every ward live in May 2025 (from the same database), from a
separate virtual environment (``--csv-reconcile-venv``, default ``/tmp/csvrec-venv``; create it
with ``python3 -m venv /tmp/csvrec-venv && /tmp/csvrec-venv/bin/pip install csv-reconcile
gunicorn``). Both get the same OpenRefine-style batches of 10 (form field ``queries``; ward
names with their district as a property, and council name variants), sequentially from one
client as OpenRefine sends them, after a warm-up; each side runs at most ``--seconds``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
VARIANTS = DATA / "la_name_variants_dev.csv"
WARDS = DATA / "wards_2025_eval.csv"
TODAY = dt.date(2026, 11, 28)
HISTORICAL_DATE = "2018-06-01"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


# --------------------------------------------------------------------------- quality


def build_wards() -> None:
    """Every 2025 ward with its district (the district it belongs to now, per drkane's
    lookup) and how many 2025 wards share its name."""
    wards = list(csv.DictReader((ROOT / "fixtures/wards/onsvisual_wd25_names_codes.csv").open()))
    lookup = {
        row["WDCD"]: row
        for row in csv.DictReader((ROOT / "fixtures/wards/drkane_ward_all_codes.csv").open())
    }
    counts: dict[str, int] = {}
    for ward in wards:
        counts[ward["areanm"]] = counts.get(ward["areanm"], 0) + 1
    with WARDS.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["ward_code", "ward_name", "lad_code", "lad_name", "wards_with_this_name"])
        for ward in wards:
            row = lookup[ward["areacd"]]
            writer.writerow(
                [
                    ward["areacd"],
                    ward["areanm"],
                    row["LADCD_ACTIVE"],
                    row["LADNM_ACTIVE"],
                    counts[ward["areanm"]],
                ]
            )
    print(f"wrote {len(wards)} wards to {WARDS.relative_to(ROOT)}")


class Tally:
    def __init__(self, name: str) -> None:
        self.name = name
        self.n = self.top1 = self.auto = self.auto_right = 0
        self.wrong: list[str] = []

    def add(self, expected: set[str], candidates, label: str) -> None:
        self.n += 1
        right = bool(candidates) and candidates[0].record.key in expected
        self.top1 += right
        if candidates and candidates[0].match:
            self.auto += 1
            self.auto_right += right
            if not right:
                self.wrong.append(f"{label!r} → {candidates[0].record.key}")

    def row(self) -> str:
        precision = self.auto_right / self.auto if self.auto else 1.0
        return (
            f"| {self.name} | {self.n:,} | {self.top1 / self.n:.1%} | {precision:.1%} "
            f"({self.auto - self.auto_right} wrong of {self.auto:,}) | {self.auto_right / self.n:.1%} |"
        )


def misspell(name: str, rng: random.Random) -> str | None:
    """``name`` with one typing slip in its longest word (a letter dropped, doubled, swapped
    with the next or replaced by a neighbour on the keyboard), or None when no word has five
    letters or more (a slip in a short word is another word as often as not)."""
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) < 5 or not word.isalpha():
        return None
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        word = word[:i] + word[i + 1 :]
    elif kind == "double":
        word = word[:i] + word[i] + word[i:]
    elif kind == "swap":
        word = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    else:
        near = _KEYBOARD.get(word[i].lower(), "e")
        word = word[:i] + rng.choice(near) + word[i + 1 :]
    if word.lower() == words[longest].lower():
        return None
    return " ".join(words[:longest] + [word] + words[longest + 1 :])


# The letters beside each on a QWERTY keyboard.
_KEYBOARD = dict(
    zip(
        "qwertyuiopasdfghjklzxcvbnm",
        [
            "wa",
            "qes",
            "wrd",
            "etf",
            "rgy",
            "thu",
            "yji",
            "uko",
            "ilp",
            "ol",
            "qsz",
            "awdx",
            "sefc",
            "drgv",
            "fthb",
            "gyjn",
            "hukm",
            "jil",
            "kop",
            "asx",
            "zsdc",
            "xdfv",
            "cfgb",
            "vghn",
            "bhjm",
            "njk",
        ],
        strict=True,
    )
)


def quality() -> None:
    setup_django()
    from api.reconcile import index, matching, types

    idx = index.current()
    matcher = matching.Matcher(idx, TODAY)
    known = idx.entity_type_keys

    def run(text, type_id, props):
        query = matching.Query(
            text,
            types.type_filter([type_id], known) if type_id else None,
            5,
            [matching.Property(pid, [value]) for pid, value in props],
        )
        return matcher.reconcile(query).candidates

    def lineage(code: str) -> set[str]:
        record = idx.by_key(code)[0]
        return {idx.records[pk].key for pk in idx.lineage(record.pk)}

    rows = list(csv.DictReader(VARIANTS.open()))
    tallies = [
        Tally("Council variants, no date (labels as given)"),
        Tally("Council variants, no date (a label's recode successor also right)"),
        Tally(f"Council variants, date {HISTORICAL_DATE} on rows of former authorities"),
        Tally("Council variants, no type (the area or its recode successor right)"),
    ]
    stale = []
    for row in rows:
        code = row["gss_code"]
        if not idx.by_key(code):
            tallies[0].add({code}, [], row["variant"])
            tallies[1].add({code}, [], row["variant"])
            tallies[2].add({code}, [], row["variant"])
            continue
        record = idx.by_key(code)[0]
        current = row["current_authority"] == "True"
        if current and not record.live_on(TODAY):
            stale.append(f"{row['variant']!r} ({code})")
        plain = run(row["variant"], types.LA_AREA, [])
        tallies[0].add({code}, plain, row["variant"])
        tallies[1].add(lineage(code), plain, row["variant"])
        dated = (
            plain if current else run(row["variant"], types.LA_AREA, [("date", HISTORICAL_DATE)])
        )
        tallies[2].add({code}, dated, row["variant"])
        # Untyped, as OpenRefine's type guessing and "no particular type" send it: the area
        # is expected; a council, or anything else, automatically matched counts as wrong.
        untyped = run(row["variant"], None, [])
        tallies[3].add(lineage(code), untyped, row["variant"])

    wards = list(csv.DictReader(WARDS.open()))
    ward_tallies = [
        Tally("2025 wards, district name as property"),
        Tally("2025 wards, district code as property"),
        Tally("2025 wards, name alone"),
        Tally("2025 wards sharing their name, name alone"),
        Tally("2025 wards with a typo, district code as property"),
        Tally("2025 wards with a typo, district name as property"),
    ]
    rng = random.Random(12)  # noqa: S311 - the same slips every run, not a secret
    for ward in wards:
        expected = {ward["ward_code"]}
        name = ward["ward_name"]
        ward_tallies[0].add(expected, run(name, types.WARD, [("district", ward["lad_name"])]), name)
        ward_tallies[1].add(expected, run(name, types.WARD, [("parent", ward["lad_code"])]), name)
        alone = run(name, types.WARD, [])
        ward_tallies[2].add(expected, alone, name)
        if int(ward["wards_with_this_name"]) > 1:
            ward_tallies[3].add(expected, alone, name)
        typo = misspell(name, rng)
        if typo is not None:
            label = f"{typo} ({name})"
            parent = [("parent", ward["lad_code"])]
            ward_tallies[4].add(expected, run(typo, types.WARD, parent), label)
            district = [("district", ward["lad_name"])]
            ward_tallies[5].add(expected, run(typo, types.WARD, district), label)

    print("| Set | Queries | Top-1 | Auto-match precision | Auto-match recall |")
    print("|---|---:|---:|---:|---:|")
    for tally in tallies + ward_tallies:
        print(tally.row())
    for tally in tallies + ward_tallies:
        if tally.wrong:
            print(f"\nWrong automatic matches, {tally.name}:")
            for line in tally.wrong:
                print(f"- {line}")
    print(f"\nRows marked current whose code the registry records as ended ({len(stale)}):")
    print(", ".join(stale))


# --------------------------------------------------------------------------- speed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()  # noqa: S310 - our own http URL
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def post_batch(url: str, batch: dict) -> tuple[float, dict]:
    body = urllib.parse.urlencode({"queries": json.dumps(batch)}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}
    request = urllib.request.Request(url, body, headers=headers)  # noqa: S310 - 127.0.0.1
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        data = json.loads(response.read())
    return time.perf_counter() - start, data


def make_batches(count: int) -> list[dict]:
    """OpenRefine-style batches of 10: ward names typed ``ward`` with the district as a
    property, and council name variants typed ``local-authority-district``."""
    rng = random.Random(20261128)  # noqa: S311 - reproducible sampling, not security
    wards = list(csv.DictReader(WARDS.open()))
    variants = [r for r in csv.DictReader(VARIANTS.open()) if r["current_authority"] == "True"]
    queries = []
    for i in range(count * 10):
        if i % 2:
            row = rng.choice(variants)
            queries.append({"query": row["variant"], "type": "local-authority-district"})
        else:
            row = rng.choice(wards)
            queries.append(
                {
                    "query": row["ward_name"],
                    "type": "ward",
                    "type_strict": "should",
                    "properties": [{"pid": "district", "v": row["lad_name"]}],
                }
            )
    return [{f"q{j}": queries[i * 10 + j] for j in range(10)} for i in range(count)]


def csv_rows(path: Path) -> int:
    """Every local authority district (any status) and every ward live on 2025-05-01."""
    setup_django()
    from api.reconcile import index, types

    idx = index.current()
    lads = types.GROUPS[types.LAD].entity_types
    wards = types.GROUPS[types.WARD].entity_types
    day = dt.date(2025, 5, 1)
    count = 0
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name"])
        for record in idx.records.values():
            kinds = record.entity_types
            if kinds & lads or (kinds & wards and record.live_on(day)):
                writer.writerow([record.key, record.label(day)])
                count += 1
    return count


def measure(name: str, url: str, batches: list[dict], seconds: float) -> dict:
    times = []
    start = time.perf_counter()
    for batch in batches:
        elapsed, data = post_batch(url, batch)
        assert len(data) == len(batch), f"{name}: {len(data)} answers for {len(batch)} queries"
        times.append(elapsed)
        if time.perf_counter() - start > seconds:
            break
    total = time.perf_counter() - start
    times.sort()
    return {
        "name": name,
        "batches": len(times),
        "median_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(0.95 * (len(times) - 1))] * 1000,
        "max_ms": times[-1] * 1000,
        "slowest_ms": [round(t * 1000) for t in times[-5:]],
        "qps": len(times) * 10 / total,
    }


def speed(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    rows = csv_rows(workdir / "areas.csv")
    from registry.models import Entry

    entries = Entry.objects.count()
    batches = make_batches(args.batches)
    venv = Path(args.csv_reconcile_venv)
    gunicorn_args = ["--workers", "2", "--timeout", "120", "--log-level", "warning"]
    # One client sends hundreds of queries a second here: lift the per-client limit.
    env = dict(os.environ, REGISTRY_INSECURE_HTTP="true", REGISTRY_RECONCILE_RATE="0")
    registry = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{args.port}",
            *gunicorn_args,
        ],
        cwd=ROOT,
        env=env,
    )
    other_port = free_port()
    subprocess.run(
        [str(venv / "bin/csv-reconcile"), "init", str(workdir / "areas.csv"), "id", "name"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    other = subprocess.Popen(
        [
            str(venv / "bin/gunicorn"),
            "csv_reconcile:create_app()",
            "--bind",
            f"127.0.0.1:{other_port}",
            *gunicorn_args,
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,  # it prints a timer line per request
    )
    try:
        ours = f"http://127.0.0.1:{args.port}/reconcile"
        theirs = f"http://127.0.0.1:{other_port}/reconcile"
        wait_for(ours)
        wait_for(theirs)
        # Warm up every worker of each server: the registry builds its index once per process
        # (about 3 s), and a sync worker is whichever accepts first, so sequential warm-up
        # batches may all go to one. Four clients at once reach both workers; then warm until
        # 20 batches in a row are quick.
        for url in (ours, theirs):
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda batch, url=url: post_batch(url, batch), batches[:40]))
            quick, deadline = 0, time.monotonic() + 120
            for batch in itertools.cycle(batches):
                started = time.monotonic()
                post_batch(url, batch)
                quick = quick + 1 if time.monotonic() - started < 1.0 else 0
                if quick >= 20 or time.monotonic() > deadline:
                    break
        results = [
            measure(
                f"Reference Registry (full registry, {entries:,} entries)",
                ours,
                batches,
                args.seconds,
            ),
            measure(f"csv-reconcile 0.3.2 ({rows:,} rows)", theirs, batches, args.seconds),
        ]
    finally:
        for process in (registry, other):
            process.terminate()
            process.wait(timeout=30)
    print(f"Batches of 10 queries, sequential, one client; at most {args.seconds:.0f} s each.\n")
    print(
        "| Server | Batches | Median per batch (ms) | 95th percentile (ms) | Slowest (ms) "
        "| Queries/s |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['name']} | {r['batches']} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['max_ms']:.0f} | {r['qps']:.1f} |"
        )
    for r in results:
        print(f"Slowest five batches, {r['name']}: {r['slowest_ms']} ms")
    ratio = results[0]["qps"] / results[1]["qps"]
    print(f"\nThroughput ratio: {ratio:.1f}× csv-reconcile.")
    print("Machine:")
    for line in machine.describe():
        print(f"- {line}")
    ok = results[0]["median_ms"] < 50 and results[0]["p95_ms"] < 150 and ratio >= 10
    print("Targets (median < 50 ms, p95 < 150 ms, ≥ 10× csv-reconcile):", "met" if ok else "MISSED")
    if not ok:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("quality")
    sub.add_parser("build-wards")
    s = sub.add_parser("speed")
    s.add_argument("--port", type=int, default=8104)
    s.add_argument("--batches", type=int, default=300)
    s.add_argument("--seconds", type=float, default=60)
    s.add_argument("--csv-reconcile-venv", default="/tmp/csvrec-venv")  # noqa: S108 - a path
    args = parser.parse_args()
    if args.command == "quality":
        quality()
    elif args.command == "build-wards":
        build_wards()
    else:
        speed(args)


if __name__ == "__main__":
    main()
