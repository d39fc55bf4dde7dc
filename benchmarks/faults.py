"""Fault and load: does the registry lose nothing and answer no 5xx when things go wrong?

    .venv/bin/python benchmarks/faults.py                   # every scenario, both databases
    .venv/bin/python benchmarks/faults.py --only 2,4        # some scenarios (1-5)

Scenarios (issue 11), each against the production server started the way ``bin/serve``
starts it (its gunicorn command line, read from the script at run time), on 127.0.0.1 only:

1. ``kill -9`` of the loader (``manage.py load_reference_data``) half-way through its
   batches, then a rerun and another: after the kill the registry must hold exactly what it
   held before (nothing) or the whole load; the rerun must complete, the next report 0
   created and 0 changed. On SQLite and on PostgreSQL; these runs also load the two databases
   the other scenarios use.
2. ``kill -9`` of one gunicorn worker under steady traffic (entry documents, lookup API,
   reconciliation batches; SQLite): failed requests, 5xx, and the time until traffic is
   normal again.
3. A PostgreSQL stop, 5 s of outage and a start, under the same traffic: failed requests,
   503s (the answer a database outage should get) apart from other 5xx, and the time to
   recover after the database is back.
4. 5 slow-body clients (``POST /api/v1/lookup/`` headers declaring a 4 KB body, then a byte a
   second, or nothing) during the same traffic (SQLite): p50/p99 of the normal traffic (p99
   must stay under 1 s) and failed requests.
5. Two curators saving the same entry 20 times each, concurrently, through the write API, on
   SQLite and on PostgreSQL: every save either succeeds and is then in the version history
   with its base version current, or is refused (409/412) with nothing written. Edits lost
   must be 0, and no 5xx.

It never touches ``var/registry.sqlite3`` or a ``DATABASE_URL`` you have set: SQLite files
are in a temporary directory (``REGISTRY_SQLITE_PATH``), PostgreSQL is a throwaway server
from ``bin/pg-temp`` with its default, durable settings, stopped and deleted at the end. The
whole run takes about 8-10 minutes on 2 cores. It prints a markdown table and the machine,
and exits 1 if an edit was lost, any 5xx other than 503 was answered, the slow-client p99
reached 1 s, or the loader left a partial database (and says which).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import machine
from faultlib import (
    PYTHON,
    ROOT,
    Curators,
    Postgres,
    Server,
    SlowClients,
    Traffic,
    base_env,
    declared_huge,
    manage,
    ms,
    registry_counts,
)

SQLITE, POSTGRES = "SQLite", "PostgreSQL"
SLOW_P99_TARGET_S = 1.0
CURATED_KEY = "E06000001"  # Hartlepool: live, a unitary authority since 1996
EDITS_PER_CURATOR = 20


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# Scenario 1 ---------------------------------------------------------------------------------


def kill_loader(database: str, env: dict[str, str], scratch: Path) -> dict:
    """Migrate, start the load, kill -9 it half-way through its batches, count; rerun; rerun."""
    manage(env, "migrate", "--noinput", "-v0")
    before = registry_counts(env)
    out = scratch / f"load-{database}.log"
    log(f"[{database}] loading, to be killed half-way through")
    with out.open("w") as sink:
        loader = subprocess.Popen(
            [PYTHON, "-u", str(ROOT / "manage.py"), "load_reference_data", "--no-color"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=sink, text=True,
        )  # fmt: skip
        killed_at = ""
        assert loader.stdout is not None
        for line in loader.stdout:
            sink.write(line)
            # "  … comparing, checking and writing batch 24 of 47 (E33038757 to E33043756)"
            words = line.split()
            if "batch" in words and "of" in words:
                at = words.index("batch")
                number, total = int(words[at + 1]), int(words[at + 3])
                if number > total // 2:
                    os.kill(loader.pid, signal.SIGKILL)
                    killed_at = f"batch {number} of {total}"
                    break
        loader.stdout.close()
        status = loader.wait()
    if not killed_at:
        return {"database": database, "ok": False, "notes": f"the load ended ({status}) unkilled"}
    after_kill = registry_counts(env)
    log(f"[{database}] killed at {killed_at}; rerunning")
    start = time.monotonic()
    first = manage(env, "load_reference_data", check=False)
    rerun_seconds = time.monotonic() - start
    whole = registry_counts(env)
    log(f"[{database}] rerun done in {rerun_seconds:.0f} s; the no-op rerun")
    second = manage(env, "load_reference_data", check=False)
    state = (
        "as before (empty)"
        if after_kill == before
        else "whole"
        if after_kill == whole
        else "PARTIAL"
    )
    created, changed = first.summary, second.summary
    noop = second.ok and second.created == 0 and second.changed == 0 and second.events == (0, 0)
    ok = state != "PARTIAL" and first.ok and noop and whole["registry_entry"] > 0
    partial = {
        table: after_kill[table] for table in after_kill if after_kill[table] != before[table]
    }
    return {
        "database": database,
        "ok": ok,
        "state": state,
        "killed_at": killed_at,
        "entries_after_kill": after_kill["registry_entry"],
        "versions_after_kill": after_kill["registry_version"],
        "entries": whole["registry_entry"],
        "rerun": created,
        "rerun_seconds": rerun_seconds,
        "noop": changed,
        "partial": partial if state == "PARTIAL" else {},
    }


# Scenarios 2-4 ------------------------------------------------------------------------------


def settle(traffic: Traffic, since: float, quiet: float = 8.0, at_least: float = 10.0,
           limit: float = 90.0, ready=lambda: True) -> None:  # fmt: skip
    """Wait until ``quiet`` seconds have passed with only normal requests (and nothing
    abnormally slow still in flight), at least ``at_least`` after ``since``, at most ``limit``."""
    while True:
        now = time.monotonic()
        if now - since >= limit:
            return
        if now - since >= at_least and ready():
            last = max(traffic.last_abnormal_end(since), traffic.oldest_abnormal_in_flight(now))
            if now - max(last, since) >= quiet:
                return
        time.sleep(0.5)


def kill_worker(server: Server, traffic: Traffic) -> dict:
    workers = server.workers()
    traffic.start()
    time.sleep(6)
    traffic.set_baseline()
    victim = workers[0]
    log(f"killing worker {victim} of {workers}")
    fault = time.monotonic()
    os.kill(victim, signal.SIGKILL)

    def replaced() -> bool:
        now = server.workers()
        return victim not in now and len(now) >= len(workers)

    settle(traffic, fault, ready=replaced)
    traffic.stop()
    traffic.dump(server.logs / "kill-worker.jsonl", fault)
    result = traffic.summary(after=fault)
    result["fault"] = f"kill -9 of worker {victim} (of {len(workers)})"
    result["recovery_s"] = traffic.recovery(fault)
    result["replaced"] = replaced()
    return result


def restart_postgres(postgres: Postgres, traffic: Traffic, outage: float = 5.0) -> dict:
    traffic.start()
    time.sleep(6)
    traffic.set_baseline()
    log("stopping PostgreSQL")
    down = time.monotonic()
    postgres.stop()
    time.sleep(outage)
    postgres.start()
    up = time.monotonic()
    log(f"PostgreSQL back after {up - down:.1f} s")
    settle(traffic, up)
    traffic.stop()
    traffic.dump(postgres.log.parent / "restart-postgres.jsonl", up)
    result = traffic.summary(after=down)
    result["during"] = traffic.summary(after=down, before=up)
    result["after_up"] = traffic.summary(after=up)
    result["fault"] = f"pg_ctl stop -m fast, {outage:.0f} s down, pg_ctl start"
    result["outage_s"] = up - down
    result["recovery_s"] = traffic.recovery(up)
    return result


def slow_clients(server: Server, traffic: Traffic, seconds: float = 20.0) -> dict:
    traffic.start()
    time.sleep(5)
    traffic.set_baseline()
    slow = SlowClients(server.port, count=5, content_length=4096)
    log("5 slow-body clients")
    start = time.monotonic()
    slow.start()
    time.sleep(seconds)
    end = time.monotonic()
    slow.stop()
    huge = declared_huge(server.port)
    time.sleep(2)
    traffic.stop()
    traffic.dump(server.logs / "slow-clients.jsonl", start)
    result = traffic.summary(after=start + 0.5, before=end)  # requests started while slow
    result["slow"] = slow.report() + f"; `POST /api/v1/check/` declaring 1 GiB: {huge}"
    result["fault"] = f"5 slow-body clients for {seconds:.0f} s"
    return result


# Scenario 5 ---------------------------------------------------------------------------------


def curators(server: Server, tokens: dict[str, str], database: str, mode: str) -> dict:
    log(f"[{database}] two curators, {EDITS_PER_CURATOR} saves each, on {CURATED_KEY}")
    run = Curators(server.port, "statistical-geography", CURATED_KEY, tokens)
    if mode == "expected_version":
        run.mode = mode
    return run.run(EDITS_PER_CURATOR)


def make_curators(env: dict[str, str]) -> dict[str, str]:
    """Two users with the admin's add/change permissions and a token each; returns the keys."""
    tokens = {name: secrets.token_hex(20) for name in ("curator-a", "curator-b")}
    code = (
        "import json, os\n"
        "from django.contrib.auth.models import Permission, User\n"
        "from rest_framework.authtoken.models import Token\n"
        "perms = Permission.objects.filter(content_type__app_label='registry',"
        " codename__in=['add_entry', 'change_entry'])\n"
        "for name, key in json.loads(os.environ['FAULTS_TOKENS']).items():\n"
        "    user, _ = User.objects.get_or_create(username=name)\n"
        "    user.user_permissions.set(perms)\n"
        "    Token.objects.filter(user=user).delete()\n"
        "    Token.objects.create(user=user, key=key)\n"
    )
    manage({**env, "FAULTS_TOKENS": json.dumps(tokens)}, "shell", "-c", code)
    return tokens


# Report -------------------------------------------------------------------------------------


def fmt_count(result: dict, key: str) -> str:
    value = result.get(key)
    return "—" if value is None else f"{value:,}"


def five_xx(result: dict) -> str:
    total, unavailable = result.get("5xx"), result.get("503")
    if total is None:
        return "—"
    return f"{total:,} ({unavailable:,} × 503)" if unavailable else f"{total:,}"


def table(rows: list[tuple[str, str, dict, str]]) -> list[str]:
    lines = [
        "| # | Scenario | Database | Requests | Failed | 5xx (of which 503) | Edits lost "
        "| p50 | p99 | Recovery | Outcome |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for number, name, result, outcome in rows:
        recovery = result.get("recovery_s")
        lines.append(
            f"| {number} | {name} | {result.get('database', '—')} | "
            f"{fmt_count(result, 'requests')} | {fmt_count(result, 'failed')} | "
            f"{five_xx(result)} | {fmt_count(result, 'edits_lost')} | "
            f"{ms(result.get('p50'))} | {ms(result.get('p99'))} | "
            f"{'—' if recovery is None else f'{recovery:.1f} s'} | {outcome} |"
        )
    return lines


def outcome_loader(r: dict) -> str:
    if "state" not in r:
        return r.get("notes", "failed")
    return (
        f"killed at {r['killed_at']}: {r['entries_after_kill']:,} entries, "
        f"{r['versions_after_kill']:,} versions ({r['state']}); rerun: {r['rerun']} "
        f"({r['rerun_seconds']:.0f} s); next rerun: {r['noop']}"
    ) + "".join(f"; {table} {n:,} rows after the kill" for table, n in r["partial"].items())


def outcome_traffic(r: dict) -> str:
    parts = [r["fault"]]
    if r.get("baseline_p99") is not None:
        parts.append(f"baseline p50/p99 {ms(r['baseline_p50'])}/{ms(r['baseline_p99'])}")
    if "after_up" in r:
        up = r["after_up"]
        parts.append(
            f"outage {r['outage_s']:.1f} s: during it {r['during']['failed']} failed, "
            f"{r['during']['5xx']} 5xx ({r['during']['503']} × 503); after it "
            f"{up['failed']} failed, {up['5xx']} 5xx ({up['503']} × 503)"
        )
        if r["503"]:
            parts.append(f"{r['503_without_retry_after']} of the 503s without Retry-After")
    if "slow" in r:
        parts.append(r["slow"])
        parts.append("p99 by kind: " + ", ".join(f"{k} {ms(v)}" for k, v in r["by_kind"].items()))
    if r.get("replaced") is False:
        parts.append("the worker was NOT replaced")
    if r.get("other_status"):
        parts.append("other statuses " + ", ".join(f"{k}: {v}" for k, v in r["other_status"]))
    if r.get("errors"):
        parts.append("errors " + ", ".join(f"{k} × {v}" for k, v in r["errors"]))
    parts.append(f"{r['rate']:.0f} req/s")
    return "; ".join(parts)


def outcome_curators(r: dict) -> str:
    parts = [
        f"{r['saved']} saved, {r['refused']} refused ({r['refused_by']}), "
        f"{r['new_versions']} new versions; via {r['mode']}"
    ]
    parts += r["problems"][:4]
    if len(r["problems"]) > 4:
        parts.append(f"and {len(r['problems']) - 4} more problems")
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="1,2,3,4,5", help="scenarios to run, e.g. 2,4")
    parser.add_argument("--port", type=int, default=8131)
    parser.add_argument("--rate", type=float, default=40.0, help="normal traffic, requests/s")
    parser.add_argument(
        "--curation",
        choices=["auto", "expected_version"],
        default="auto",
        help="auto: If-Match with the curation GET's ETag, expected_version where there is "
        "no GET; expected_version: always the body field",
    )
    parser.add_argument(
        "--serve",
        type=Path,
        default=Server.source,
        help="start gunicorn as this script does (default bin/serve), to try another set-up",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="leave PostgreSQL out")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument(
        "--sqlite-copy",
        type=Path,
        help="for development: copy this loaded SQLite database rather than loading one "
        "(scenario 1 then runs on PostgreSQL only)",
    )
    args = parser.parse_args()
    only = {int(n) for n in args.only.split(",")}
    Server.source = args.serve
    want_sqlite = bool(only & {1, 2, 4, 5})
    want_postgres = bool(only & {1, 3, 5}) and not args.sqlite_only

    scratch = Path(tempfile.mkdtemp(prefix="faults-"))
    log(f"scratch directory {scratch}")
    rows: list[tuple[str, str, dict, str]] = []
    failures: list[str] = []
    postgres: Postgres | None = None
    started = time.monotonic()
    try:
        envs: dict[str, dict[str, str]] = {}
        if want_sqlite:
            envs[SQLITE] = base_env(scratch)
            envs[SQLITE]["REGISTRY_SQLITE_PATH"] = str(scratch / "registry.sqlite3")
        if want_postgres:
            postgres = Postgres(scratch)
            envs[POSTGRES] = base_env(scratch)
            envs[POSTGRES]["DATABASE_URL"] = postgres.url

        # Scenario 1 on both databases at once (each loader uses one core); it also leaves
        # each database loaded for the rest. Without scenario 1, a plain load.
        def prepare(database: str) -> dict | None:
            env = envs[database]
            if database == SQLITE and args.sqlite_copy:
                shutil.copyfile(args.sqlite_copy, env["REGISTRY_SQLITE_PATH"])
                manage(env, "migrate", "--noinput", "-v0")
                return None
            if 1 in only:
                result = kill_loader(database, env, scratch)
            else:
                manage(env, "migrate", "--noinput", "-v0")
                log(f"[{database}] loading")
                manage(env, "load_reference_data")
                result = None
            return result

        with ThreadPoolExecutor(2) as pool:
            prepared = dict(zip(envs, pool.map(prepare, list(envs)), strict=True))
        for database in envs:
            result = prepared[database]
            if result is None:
                continue
            rows.append(("1", "`kill -9` of the loader mid-load", result, outcome_loader(result)))
            if not result["ok"]:
                failures.append(f"scenario 1 on {database}: {outcome_loader(result)}")
        log(f"databases ready after {time.monotonic() - started:.0f} s")
        tokens = {db: make_curators(env) for db, env in envs.items() if 5 in only}
        codes = sample(envs)

        if only & {2, 4, 5} and SQLITE in envs:
            with Server(args.port, envs[SQLITE], scratch / "server-sqlite") as server:
                server.warm(codes)
                if 2 in only:
                    traffic = Traffic(args.port, codes, rate=args.rate)
                    r = kill_worker(server, traffic)
                    r["database"] = SQLITE
                    rows.append(("2", "`kill -9` of a gunicorn worker", r, outcome_traffic(r)))
                if 4 in only:
                    server.warm(codes)  # the worker that replaced the killed one
                    traffic = Traffic(args.port, codes, rate=args.rate)
                    r = slow_clients(server, traffic)
                    r["database"] = SQLITE
                    rows.append(("4", "5 slow-body clients", r, outcome_traffic(r)))
                    if r["p99"] is None or r["p99"] >= SLOW_P99_TARGET_S:
                        failures.append(
                            f"scenario 4: p99 of normal traffic {ms(r['p99'])} (target < 1 s)"
                        )
                if 5 in only:
                    r = curators(server, tokens[SQLITE], SQLITE, args.curation)
                    r["database"] = SQLITE
                    rows.append(("5", "two curators, same entry", r, outcome_curators(r)))
        if only & {3, 5} and postgres is not None:
            with Server(args.port, envs[POSTGRES], scratch / "server-postgres") as server:
                server.warm(codes)
                if 3 in only:
                    traffic = Traffic(args.port, codes, rate=args.rate)
                    r = restart_postgres(postgres, traffic)
                    r["database"] = POSTGRES
                    rows.append(("3", "PostgreSQL restart", r, outcome_traffic(r)))
                if 5 in only:
                    r = curators(server, tokens[POSTGRES], POSTGRES, args.curation)
                    r["database"] = POSTGRES
                    rows.append(("5", "two curators, same entry", r, outcome_curators(r)))
    finally:
        if postgres is not None:
            postgres.destroy()
        if args.keep:
            log(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    for number, _, result, _ in rows:
        other = (result.get("5xx") or 0) - (result.get("503") or 0)
        if other > 0:
            failures.append(
                f"scenario {number} on {result['database']}: {other} 5xx other than 503"
            )
        if result.get("edits_lost"):
            failures.append(
                f"scenario {number} on {result['database']}: {result['edits_lost']} edits lost"
            )
    rows.sort(key=lambda row: row[0])
    total = time.monotonic() - started
    print(f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {total:.0f} s in all\n")
    print("\n".join(table(rows)))
    print("\nMachine:")
    for line in machine.describe():
        print(f"- {line}")
    print(f"- PostgreSQL: {Postgres.version()}")
    print(f"- Server: {Server.describe_command()}")
    if failures:
        print("\nFAILED:")
        for failure in failures:
            print(f"- {failure}")
        return 1
    print("\nAll checks passed.")
    return 0


def sample(envs: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Codes of every kind and English names of areas, from the SQLite registry if there is
    one, else from PostgreSQL (the same data)."""
    code_sql = (
        "SELECT e.key FROM registry_entry e JOIN registry_register r ON r.id = e.register_id "
        "WHERE r.slug = 'statistical-geography' ORDER BY e.key"
    )
    name_sql = (
        "SELECT DISTINCT n.text FROM registry_name n JOIN registry_state s ON "
        "s.entry_id = n.entry_id JOIN registry_entry t ON t.id = s.entity_type_id WHERE "
        "t.key IN ('E06', 'E07', 'E08', 'E09', 'W06', 'E05', 'W05') AND n.language = 'en' "
        "AND n.kind = 'official' ORDER BY n.text"
    )
    if SQLITE in envs:
        path = envs[SQLITE]["REGISTRY_SQLITE_PATH"]
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            codes = [row[0] for row in db.execute(code_sql)]
            names = [row[0] for row in db.execute(name_sql)]
    else:
        import psycopg

        with psycopg.connect(envs[POSTGRES]["DATABASE_URL"]) as db:
            codes = [row[0] for row in db.execute(code_sql)]
            names = [row[0] for row in db.execute(name_sql)]
    return {"codes": codes, "names": names}


if __name__ == "__main__":
    threading.excepthook = lambda hook: log(f"thread {hook.thread}: {hook.exc_value!r}")
    sys.exit(main())
