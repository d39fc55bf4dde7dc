"""Benchmark the lookup API against the production server (gunicorn).

Measures, over HTTP on 127.0.0.1:

1. single-code lookups per second (GET /api/v1/entries/statistical-geography/{code}/, a
   different code each time, from several client threads);
2. 1,000-code bulk lookups (POST /api/v1/lookup/): seconds per request and codes per second;
3. the code checker (POST /api/v1/check/, text/csv) on 10,000- and 100,000-row files: rows per
   second, and the serving worker's peak memory above its resting size, sampled every 50 ms,
   to show that memory does not grow with the file.

It starts gunicorn itself (2 workers, like bin/serve's default on a small machine) on
127.0.0.1:8105 against var/registry.sqlite3 (or REGISTRY_SQLITE_PATH), read-only, with the
rate limits lifted, and stops it afterwards; or pass ``--url`` to use a server already
running. ``--source DIR`` serves another checkout of the project (``git archive main``, say,
to compare before and after) with this interpreter's gunicorn. For a server it started, the
bulk and checker figures include the workers' CPU time per request (utime + stime from
/proc). Only the standard library is used on the client side. Exits 1 if a target is missed:
a 1,000-code bulk lookup under 1 second, 100,000 rows under 60 seconds.

    .venv/bin/python benchmarks/lookup.py
    .venv/bin/python benchmarks/lookup.py --quick      # smaller counts, for a smoke test
    .venv/bin/python benchmarks/lookup.py --source /tmp/main-export
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
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import machine

ROOT = Path(__file__).resolve().parent.parent
PORT = 8105
BULK_TARGET_S = 1.0
CHECKER_TARGET_S = 60.0


def database_path() -> Path:
    return Path(os.environ.get("REGISTRY_SQLITE_PATH", ROOT / "var" / "registry.sqlite3"))


def sample_codes() -> dict[str, list[str]]:
    """Real codes from the database: live and terminated areas of several kinds, and names."""
    with sqlite3.connect(f"file:{database_path()}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT e.key FROM registry_entry e JOIN registry_register r ON r.id = e.register_id "
            "WHERE r.slug = 'statistical-geography'"
        ).fetchall()
        names = db.execute(
            "SELECT DISTINCT n.text FROM registry_name n JOIN registry_entry e ON e.id = n.entry_id "
            "JOIN registry_state s ON s.entry_id = e.id JOIN registry_entry t ON t.id = s.entity_type_id "
            "WHERE t.key IN ('E06', 'E07', 'E08', 'E09', 'W06') AND n.language = 'en'"
        ).fetchall()
    codes = sorted(row[0] for row in rows)
    return {"codes": codes, "names": sorted(row[0] for row in names)}


class Server:
    def __init__(self, port: int, source: Path = ROOT, production: bool = False):
        self.port = port
        self.source = source
        # config/gunicorn.py, as bin/serve runs it: the application and the reconciliation
        # index loaded in the master and frozen out of the garbage collector's sight
        # (gc.freeze) before the fork, threaded workers.
        self.production = production
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = {
            **os.environ,
            "REGISTRY_INSECURE_HTTP": "true",
            "REGISTRY_API_RATE_LOOKUP": "1000000/second",
            "REGISTRY_API_RATE_BULK": "1000000/second",
        }
        env.pop("DATABASE_URL", None)
        env["REGISTRY_SQLITE_PATH"] = str(database_path())
        env["PYTHONPATH"] = str(self.source)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        bind = ["--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--timeout", "120"]
        if self.production:
            env["WEB_CONCURRENCY"] = "2"
            command = [gunicorn, "-c", str(self.source / "config" / "gunicorn.py"), *bind]
        else:
            command = [gunicorn, "config.wsgi", *bind]
        self.process = subprocess.Popen(
            command,
            cwd=self.source,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(1000):  # the production configuration builds its index first
            try:
                status, _ = request("GET", f"http://127.0.0.1:{self.port}/api/v1/")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)

    @property
    def workers(self) -> list[int]:
        return worker_pids(self.process.pid) if self.process else []


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """The CPU time (user and system) the processes have used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def request(method: str, url: str, body=None, headers=None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def bench_single(base: str, codes: list[str], count: int, threads: int) -> dict:
    rng = random.Random(1)  # noqa: S311 - a reproducible sample, not a secret
    chosen = [rng.choice(codes) for _ in range(count)]
    latencies: list[float] = []

    def one(code: str) -> None:
        start = time.perf_counter()
        status, _ = request("GET", f"{base}/api/v1/entries/statistical-geography/{code}/")
        latencies.append(time.perf_counter() - start)
        assert status == 200, (code, status)

    for code in chosen[:20]:  # warm up both workers
        one(code)
    latencies.clear()
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, chosen))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": count,
        "threads": threads,
        "seconds": elapsed,
        "per_second": count / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * len(latencies)) - 1],
    }


def bench_bulk(
    base: str, codes: list[str], names: list[str], runs: int, workers: list[int]
) -> dict:
    rng = random.Random(2)  # noqa: S311 - a reproducible sample, not a secret
    timings, cpu = [], []
    for _ in range(runs + 1):
        items = [rng.choice(codes) for _ in range(1000)]
        body = json.dumps({"items": items}).encode()
        used = cpu_seconds(workers)
        start = time.perf_counter()
        status, content = request(
            "POST", f"{base}/api/v1/lookup/", body, {"Content-Type": "application/json"}
        )
        timings.append(time.perf_counter() - start)
        cpu.append(cpu_seconds(workers) - used)
        assert status == 200, content[:300]
        assert json.loads(content)["count"] == 1000
    timings, cpu = timings[1:], cpu[1:]  # the first warms the worker
    mixed = [rng.choice(codes) for _ in range(900)] + [rng.choice(names) for _ in range(100)]
    body = json.dumps({"items": mixed}).encode()
    start = time.perf_counter()
    status, _ = request(
        "POST", f"{base}/api/v1/lookup/", body, {"Content-Type": "application/json"}
    )
    mixed_seconds = time.perf_counter() - start
    assert status == 200
    median = statistics.median(timings)
    return {
        "runs": runs,
        "median_s": median,
        "max_s": max(timings),
        "codes_per_second": 1000 / median,
        "mixed_s": mixed_seconds,
        "cpu_median_s": statistics.median(cpu) if workers else None,
        "cpu_min_s": min(cpu) if workers else None,
    }


def make_csv(path: Path, rows: int, codes: list[str], names: list[str]) -> None:
    """A realistic messy file: mostly codes (some lower case or padded), some names, some
    malformed or unknown values, and an unrelated column."""
    rng = random.Random(3)  # noqa: S311 - a reproducible sample, not a secret
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("row,area,count\r\n")
        for index in range(rows):
            roll = rng.random()
            if roll < 0.80:
                value = rng.choice(codes)
            elif roll < 0.85:
                value = f" {rng.choice(codes).lower()} "
            elif roll < 0.95:
                value = '"' + rng.choice(names).replace('"', '""') + '"'
            elif roll < 0.98:
                value = f"E0{rng.randrange(10**6, 10**7)}"  # malformed: a digit short
            else:
                value = f"E99{rng.randrange(10**6):06d}"  # well-formed, never issued
            f.write(f"{index},{value},{rng.randrange(1000)}\r\n")


def bench_checker(base: str, server: Server | None, path: Path, rows: int) -> dict:
    size = path.stat().st_size
    workers = server.workers if server else []
    resting = {pid: rss_kib(pid) for pid in workers}
    peak = dict(resting)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], rss_kib(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    used = cpu_seconds(workers)
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    start = time.perf_counter()
    out_rows = 0
    with path.open("rb") as body:
        connection.request(
            "POST",
            "/api/v1/check/?column=area",
            body=body,
            headers={"Content-Type": "text/csv", "Content-Length": str(size)},
        )
        response = connection.getresponse()
        assert response.status == 200, response.read()[:300]
        tail = b""
        while block := response.read(1 << 16):
            out_rows += block.count(b"\n")
            tail = block[-200:]
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(workers) - used
    connection.close()
    done.set()
    sampler.join()
    assert out_rows == rows + 1, (out_rows, tail)
    growth = {pid: peak[pid] - resting[pid] for pid in workers}
    busiest = max(growth, key=growth.get) if growth else None
    return {
        "rows": rows,
        "megabytes": size / 1e6,
        "seconds": elapsed,
        "rows_per_second": rows / elapsed,
        "cpu_s": cpu if workers else None,
        "worker_resting_mib": resting.get(busiest, 0) / 1024 if busiest else None,
        "worker_peak_mib": peak.get(busiest, 0) / 1024 if busiest else None,
        "growth_mib": growth.get(busiest, 0) / 1024 if busiest else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="use this running server instead of starting gunicorn")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke test")
    parser.add_argument(
        "--source", type=Path, default=ROOT, help="serve this checkout (default: this one)"
    )
    parser.add_argument(
        "--production",
        action="store_true",
        help="serve with config/gunicorn.py (preloaded, gc.freeze, threaded), as bin/serve does",
    )
    args = parser.parse_args()

    data = sample_codes()
    single_count, bulk_runs = (100, 3) if args.quick else (1000, 10)
    sizes = [2000, 10000] if args.quick else [10_000, 100_000]

    with tempfile.TemporaryDirectory() as scratch:
        files = {}
        for rows in sizes:
            files[rows] = Path(scratch) / f"codes-{rows}.csv"
            make_csv(files[rows], rows, data["codes"], data["names"])
        if args.url:
            context = None
            base = args.url.rstrip("/")
        else:
            context = Server(args.port, args.source.resolve(), args.production).__enter__()
            base = f"http://127.0.0.1:{args.port}"
        try:
            single = bench_single(base, data["codes"], single_count, threads=4)
            workers = context.workers if context else []
            bulk = bench_bulk(base, data["codes"], data["names"], bulk_runs, workers)
            checks = [bench_checker(base, context, files[rows], rows) for rows in sizes]
        finally:
            if context:
                context.__exit__(None, None, None)

    how = "config/gunicorn.py" if args.production else "gunicorn config.wsgi, 2 sync workers"
    served = f" (serving {args.source.resolve()} with {how})" if context else ""
    print(f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} against {base}{served}\n")
    print("| Measure | Result | Target |")
    print("|---|---:|---|")
    print(
        f"| Single-code lookup, {single['requests']} requests from {single['threads']} threads | "
        f"{single['per_second']:.0f} lookups/s (p50 {single['p50_ms']:.0f} ms, "
        f"p95 {single['p95_ms']:.0f} ms) | — |"
    )
    bulk_ok = bulk["median_s"] < BULK_TARGET_S
    cpu = (
        f"; worker CPU median {1000 * bulk['cpu_median_s']:.0f} ms, min "
        f"{1000 * bulk['cpu_min_s']:.0f} ms"
        if bulk["cpu_median_s"] is not None
        else ""
    )
    print(
        f"| 1,000-code bulk lookup, median of {bulk['runs']} | {1000 * bulk['median_s']:.0f} ms "
        f"(max {1000 * bulk['max_s']:.0f} ms; {bulk['codes_per_second']:.0f} codes/s{cpu}) | "
        f"< {BULK_TARGET_S:.0f} s: {'met' if bulk_ok else 'MISSED'} |"
    )
    print(f"| 1,000 items, 900 codes and 100 names | {bulk['mixed_s']:.2f} s | — |")
    ok = bulk_ok
    for check in checks:
        target = ""
        if check["rows"] == 100_000:
            met = check["seconds"] < CHECKER_TARGET_S
            ok = ok and met
            target = f"< {CHECKER_TARGET_S:.0f} s: {'met' if met else 'MISSED'}"
        memory = (
            f"; worker {check['worker_resting_mib']:.0f} → {check['worker_peak_mib']:.0f} MiB "
            f"(+{check['growth_mib']:.0f} MiB)"
            if check["worker_peak_mib"] is not None
            else ""
        )
        used = f"; worker CPU {check['cpu_s']:.1f} s" if check["cpu_s"] is not None else ""
        print(
            f"| Code checker, {check['rows']:,} rows ({check['megabytes']:.1f} MB) | "
            f"{check['seconds']:.1f} s, {check['rows_per_second']:,.0f} rows/s{used}{memory} | "
            f"{target or '—'} |"
        )
    load = os.getloadavg()
    print(f"\nLoad average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("\nMachine:")
    for line in machine.describe():
        print(f"- {line}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
