"""The registry on several machines, on one: a PostgreSQL 15 primary and a streaming replica,
Redis, two application nodes (gunicorn as bin/serve runs it) and nginx in front with
deploy/nginx.conf as shipped but for its ports, all on 127.0.0.1, over a small data set (the
bundled fixtures without the wards, LSOAs/MSOAs and the bulk of the Code History Database:
about 2,500 entries, loaded in seconds). It shows, and asserts:

1. reads through nginx are served by both nodes, from the replica (the replica's row reads
   grow with them, the primary's do not);
2. a curator's edit through node A is seen by the curator at once (their reads are on the
   primary) and by anyone on node B after replication (how long that took is printed);
3. a rate limit is counted across both nodes (requests at once, half to each node);
4. node A killed under traffic: nginx carries on through node B (failed reads counted);
5. the replica stopped under traffic: reads fall back to the primary, with 0 failed reads
   after the health check's interval.

It prints figures (requests per node, requests per second and server CPU per request from
/proc, replication lag, errors during the kill and the stop) for benchmarks/README.md, and
exits non-zero if an assertion fails. About a minute and a half on two cores; .ci/run runs it.

    .venv/bin/python benchmarks/multinode.py

Needs Debian's PostgreSQL 15 (/usr/lib/postgresql/15/bin, or PG_BIN), redis-server and nginx;
as root it installs the last two with apt-get if absent, and the Python Redis client
(``pip install -e '.[redis]'``) if the virtual environment lacks it. PostgreSQL runs as
PG_TEMP_USER (default ci-postgres, as bin/pg-temp) when invoked as root.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import documents
import faultlib
import machine

ROOT = faultlib.ROOT
PYTHON = faultlib.PYTHON
HOST = "127.0.0.1"
PG_BIN = Path(os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin")
PG_USER = os.environ.get("PG_TEMP_USER", "ci-postgres")
# The replica check's interval, the largest lag a replica may have and the writer's pin, as
# the nodes are configured here (short, so the run is short).
CHECK_SECONDS, MAX_LAG_SECONDS, PIN_SECONDS = 1.0, 2.0, 5
BULK_LIMIT = 20  # bulk lookups a client may make a day, counted across both nodes
# Heavy fixture files left with only their header: the rest loads in seconds.
EMPTIED = ["lsoa_msoa", "wards", "code_history/chd_jul2024_change_history.csv",
           "code_history/chd_jul2024_alternative_names.csv"]  # fmt: skip
DEADLINE = time.monotonic() + float(os.environ.get("MULTINODE_TIMEOUT", "600"))

failures: list[str] = []
figures: dict[str, object] = {}


def check(ok: bool, message: str) -> None:
    print(("  ok    " if ok else "  FAIL  ") + message, flush=True)
    if not ok:
        failures.append(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for(what: str, test, seconds: float = 60, every: float = 0.2):
    """Poll ``test()`` until it returns something true (returned) or ``seconds`` pass."""
    until = min(time.monotonic() + seconds, DEADLINE)
    while time.monotonic() < until:
        try:
            if result := test():
                return result
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(every)
    raise SystemExit(f"gave up waiting for {what}")


# -- Set-up ---------------------------------------------------------------------------------


def ensure_tools() -> None:
    missing = [p for p, binary in (("redis-server", "redis-server"), ("nginx-light", "nginx"))
               if not shutil.which(binary)]  # fmt: skip
    if missing:
        if os.geteuid() != 0:
            raise SystemExit(f"needs {', '.join(missing)} (apt-get install -y {' '.join(missing)})")
        subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                       stdout=subprocess.DEVNULL)  # fmt: skip
    if subprocess.run([PYTHON, "-c", "import redis"], capture_output=True).returncode:
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[redis]"],
                       check=True)  # fmt: skip
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"no PostgreSQL binaries in {PG_BIN} (set PG_BIN)")
    if os.geteuid() == 0 and subprocess.run(["id", "-u", PG_USER], capture_output=True).returncode:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                        "/nonexistent", "--shell", "/usr/sbin/nologin", PG_USER], check=True)  # fmt: skip


def as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as PG_USER then."""
    return ["runuser", "-u", PG_USER, "--", *command] if os.geteuid() == 0 else command


class Cluster:
    """One PostgreSQL server in ``directory``, on ``port``."""

    def __init__(self, home: Path, name: str, port: int) -> None:
        self.data, self.port, self.name = home / name, port, name
        self.log = home / f"{name}.log"
        self.url = f"postgres://postgres@{HOST}:{port}/registry"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(as_owner([str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]),
                       cwd="/", check=True, stdout=subprocess.DEVNULL)  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("-l", str(self.log), "-o", f"-p {self.port}", "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("-m", mode, "-w", "-t", "60", "stop")

    def query(self, sql: str, *params):
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=3) as conn:
            return conn.execute(sql, params).fetchall()

    def reads(self) -> int:
        """Rows this server has returned to queries of the registry database so far."""
        return int(self.query("SELECT tup_returned + tup_fetched FROM pg_stat_database "
                              "WHERE datname = 'registry'")[0][0])  # fmt: skip


def start_postgres(scratch: Path) -> tuple[Cluster, Cluster]:
    # The servers' data directories, logs and sockets, in a folder their user owns.
    home = scratch / "postgres"
    home.mkdir()
    if os.geteuid() == 0:
        shutil.chown(home, PG_USER, PG_USER)
    primary = Cluster(home, "primary", free_port())
    subprocess.run(as_owner([str(PG_BIN / "initdb"), "-D", str(primary.data), "-U", "postgres",
                             "--auth=trust", "-E", "UTF8", "--locale=C"]),
                   cwd="/", check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    with (primary.data / "postgresql.conf").open("a") as conf:
        # Not durable (nothing here outlives the run); replication as on any PostgreSQL 15.
        conf.write(f"listen_addresses = '{HOST}'\nunix_socket_directories = '{home}'\n"
                   "max_connections = 80\nfsync = off\nfull_page_writes = off\n"
                   "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                   "wal_receiver_status_interval = 1s\n")  # fmt: skip
    primary.start()
    subprocess.run([str(PG_BIN / "createdb"), "-h", HOST, "-p", str(primary.port), "-U",
                    "postgres", "registry"], check=True)  # fmt: skip
    return primary, Cluster(home, "replica", free_port())


def start_replica(scratch: Path, primary: Cluster, replica: Cluster) -> None:
    # -R writes standby.signal and primary_conninfo: a streaming replica of the primary.
    subprocess.run(as_owner([str(PG_BIN / "pg_basebackup"), "-h", HOST, "-p", str(primary.port),
                             "-U", "postgres", "-D", str(replica.data), "-R", "-X", "stream",
                             "-c", "fast"]), cwd="/", check=True)  # fmt: skip
    replica.start()
    wait_for("the replica to stream", lambda: primary.query(
        "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"))  # fmt: skip


def small_fixtures(scratch: Path) -> Path:
    target = scratch / "fixtures"
    shutil.copytree(ROOT / "fixtures", target)
    for name in EMPTIED:
        path = target / name
        for csv in sorted(path.glob("*.csv")) if path.is_dir() else [path]:
            with csv.open(encoding="utf-8-sig") as handle:
                header = handle.readline()
            csv.write_text(header, encoding="utf-8")
    return target


SETUP_CODE = """
import json
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from registry.models import Entry
user = get_user_model().objects.create_user("multinode-curator", password=None)
user.groups.add(Group.objects.get(name="curator"))
keys = list(Entry.objects.filter(register__slug="statistical-geography")
            .order_by("key").values_list("key", flat=True))
print("SETUP " + json.dumps({"token": Token.objects.create(user=user).key, "keys": keys}))
"""


class Node:
    """gunicorn with config/gunicorn.py, as bin/serve runs it, two workers."""

    def __init__(self, name: str, env: dict[str, str], scratch: Path) -> None:
        self.name, self.port, self.log = name, free_port(), scratch / f"node-{name}.log"
        sink = self.log.open("w")
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py", "--bind",
             f"{HOST}:{self.port}", "--workers", "2", "--threads", "4"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def ready(self) -> bool:
        status, _ = get(self.port, "/readyz")
        return status == 200

    def pids(self) -> list[int]:
        return [self.process.pid, *faultlib.children(self.process.pid)]

    def cpu_seconds(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def replica_events(self) -> list[str]:
        return [line.strip() for line in self.log.read_text(errors="replace").splitlines()
                if "replica replica1" in line]  # fmt: skip


def start_nginx(scratch: Path, a: Node, b: Node) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    process, conf_dir = documents.start_nginx(
        scratch, [a.port, b.port], HOST, port,
        log_format="'$msec|$status|$upstream_addr|$request_method $request_uri'",
    )  # fmt: skip
    return process, port, conf_dir / "access.log"


# -- Clients --------------------------------------------------------------------------------


def get(port: int, path: str, headers: dict | None = None, timeout: float = 10):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def post(port: int, path: str, body: dict, headers: dict | None = None):
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("POST", path, json.dumps(body),
                     headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Traffic:
    """``clients`` threads reading documents and lookups through nginx with keep-alive until
    stopped, each answer recorded as (time, ok)."""

    def __init__(self, port: int, keys: list[str], clients: int = 4, limit: int | None = None):
        self.port, self.keys, self.limit = port, keys, limit
        self.results: list[tuple[float, bool, int]] = []
        self._stop, self._lock, self._sent = threading.Event(), threading.Lock(), 0
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(clients)]

    def _path(self, n: int) -> str:
        key = self.keys[n % len(self.keys)]
        if n % 2:
            return f"/api/v1/entries/statistical-geography/{key}/"
        return f"/doc/statistical-geography/{key}.json"

    def _run(self, number: int) -> None:
        conn, n = None, number * 7919
        while not self._stop.is_set():
            with self._lock:
                if self.limit is not None and self._sent >= self.limit:
                    return
                self._sent += 1
            n += 1
            status = 0
            try:
                conn = conn or http.client.HTTPConnection(HOST, self.port, timeout=15)
                conn.request("GET", self._path(n))
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                if conn:
                    conn.close()
                conn = None
            with self._lock:
                self.results.append((time.monotonic(), status == 200, status))

    def __enter__(self) -> Traffic:
        self.started = time.monotonic()
        for thread in self.threads:
            thread.start()
        return self

    def wait(self) -> None:
        for thread in self.threads:
            thread.join()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.wait()

    def failed(self, since: float = 0.0, until: float = float("inf")) -> int:
        return sum(1 for at, ok, _ in self.results if since <= at < until and not ok)

    def count(self, since: float = 0.0, until: float = float("inf")) -> int:
        return sum(1 for at, _, _ in self.results if since <= at < until)


def served_by(access_log: Path, since: float, ports: dict[int, str]) -> Counter:
    """Requests nginx passed to each node since ``since`` (epoch seconds), by the node that
    answered (the last one tried; "A→B" for one tried on A first, then answered by B)."""
    counts: Counter = Counter()
    for line in access_log.read_text().splitlines():
        parts = line.split("|", 3)
        if len(parts) < 4 or float(parts[0]) < since:
            continue
        tried = [hop.strip() for hop in parts[2].split(",") if hop.strip()]
        nodes = [ports.get(int(hop.rsplit(":", 1)[1]), hop) if ":" in hop else hop for hop in tried]
        counts["→".join(nodes) or "none"] += 1
    return counts


# -- The run --------------------------------------------------------------------------------


def run(scratch: Path) -> None:
    started = time.monotonic()
    primary, replica = start_postgres(scratch)
    cleanup.append(lambda: replica.stop("immediate"))
    cleanup.append(lambda: primary.stop("immediate"))
    env = faultlib.base_env(scratch)
    env.update(DATABASE_URL=primary.url, REGISTRY_CHECKER_RESULTS_DIR=str(scratch / "checked"),
               REGISTRY_SPARQL_STORE=str(scratch / "oxigraph"))  # fmt: skip
    fixtures = small_fixtures(scratch)
    faultlib.manage(env, "migrate", "--noinput", "-v0")
    load = faultlib.manage(env, "load_reference_data", "--fixtures", str(fixtures), "-v0")
    out = faultlib.manage(env, "shell", "-c", SETUP_CODE).output
    setup = json.loads(next(line for line in out.splitlines() if line.startswith("SETUP "))[6:])
    token, keys = setup["token"], setup["keys"]
    print(f"--> primary on :{primary.port}, loaded {len(keys):,} areas ({load.summary})")
    start_replica(scratch, primary, replica)
    print(f"--> streaming replica on :{replica.port}")

    redis_port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--bind", HOST, "--port", str(redis_port), "--save", "",
         "--appendonly", "no", "--dir", str(scratch)],
        stdout=(scratch / "redis.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    cleanup.append(lambda: (redis.terminate(), redis.wait(timeout=30)))

    node_env = {
        **env,
        "DATABASE_REPLICA_URLS": replica.url,
        "REGISTRY_CACHE_URL": f"redis://{HOST}:{redis_port}/0",
        "REGISTRY_TRUSTED_PROXIES": "1",
        "REGISTRY_REPLICA_CHECK_SECONDS": str(CHECK_SECONDS),
        "REGISTRY_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
        "REGISTRY_PRIMARY_PIN_SECONDS": str(PIN_SECONDS),
        "REGISTRY_API_RATE_BULK": f"{BULK_LIMIT}/day",
        # No answer kept in nginx's cache of public reads (.ci/proxy-check tests that): the
        # reads here are to reach the nodes and the replica behind them.
        "REGISTRY_FRONT_CACHE_SECONDS": "0",
    }
    a, b = Node("A", node_env, scratch), Node("B", node_env, scratch)
    cleanup.append(b.stop)
    cleanup.append(a.stop)
    wait_for("both nodes to be ready", lambda: a.ready() and b.ready(), seconds=120)
    nginx, port, access_log = start_nginx(scratch, a, b)
    cleanup.append(lambda: (nginx.terminate(), nginx.wait(timeout=30)))
    names = {a.port: "A", b.port: "B"}
    wait_for("nginx", lambda: get(port, "/healthz")[0] == 200)
    print(f"--> nodes A :{a.port} and B :{b.port}, Redis :{redis_port}, nginx :{port} "
          f"(set up in {time.monotonic() - started:.0f} s)")  # fmt: skip

    # 1. Reads through nginx: both nodes, from the replica.
    print("\n1. Reads through nginx")
    get(port, "/readyz")
    primary_before, replica_before = primary.reads(), replica.reads()
    cpu_before, since = a.cpu_seconds() + b.cpu_seconds(), time.time()
    with Traffic(port, keys, clients=4, limit=400) as traffic:
        traffic.wait()
    took = time.monotonic() - traffic.started
    cpu = a.cpu_seconds() + b.cpu_seconds() - cpu_before
    primary_rows, replica_rows = primary.reads() - primary_before, replica.reads() - replica_before
    per_node = served_by(access_log, since, names)
    count = traffic.count()
    figures["reads"] = {
        "requests": count, "failed": traffic.failed(), "per_node": dict(per_node),
        "requests_per_second": round(count / took), "cpu_ms_per_request": round(cpu / count * 1000, 2),
        "rows_read_on_replica": replica_rows, "rows_read_on_primary": primary_rows,
    }  # fmt: skip
    print(f"  {count} reads in {took:.1f} s ({count / took:.0f}/s, {cpu / count * 1000:.2f} ms of "
          f"server CPU each): node A {per_node['A']}, node B {per_node['B']}; rows read on the "
          f"replica {replica_rows:,}, on the primary {primary_rows:,}")  # fmt: skip
    check(traffic.failed() == 0, f"every read answered 200 ({traffic.failed()} failed)")
    check(min(per_node["A"], per_node["B"]) >= count // 4, "both nodes served reads")
    check(replica_rows >= count and primary_rows * 20 < replica_rows,
          "the reads were served from the replica, not the primary")  # fmt: skip

    # 2. A curator's edit through node A: at once for the curator, on node B after replication.
    print("\n2. A curator's edit through node A")
    text = "Multinode " + secrets.token_hex(3)
    doc = "/doc/statistical-geography/E06000001.json"
    status, body = post(a.port, "/api/v1/curation/entries/statistical-geography/E06000001/names/",
                        {"text": text, "language": "cy", "valid_from": "2009-01-01",
                         "note": "benchmarks/multinode.py"},
                        {"Authorization": f"Token {token}", "X-Forwarded-For": "198.51.100.2"})  # fmt: skip
    written = time.monotonic()
    check(status == 201, f"the edit through node A answered {status}")
    status, body = get(a.port, doc, {"Authorization": f"Token {token}"})
    check(status == 200 and text in body.decode(), "the curator sees the edit at once on node A")
    seen = wait_for(
        "the edit on node B",
        lambda: time.monotonic() if text in get(b.port, doc)[1].decode() else None,
        seconds=10, every=0.005,
    )  # fmt: skip
    lag = primary.query("SELECT EXTRACT(EPOCH FROM replay_lag)::float8 FROM pg_stat_replication")
    figures["edit"] = {"visible_on_b_ms": round((seen - written) * 1000, 1),
                       "replay_lag_ms": round((lag[0][0] or 0) * 1000, 2) if lag else None}  # fmt: skip
    print(f"  visible to everyone on node B {(seen - written) * 1000:.0f} ms after node A answered "
          f"(the primary's replay_lag: {figures['edit']['replay_lag_ms']} ms)")  # fmt: skip
    check(seen - written < MAX_LAG_SECONDS, "node B shows the edit within the lag allowed")

    # 3. A rate limit counted across both nodes: requests at once, half to each.
    print(f"\n3. A limit of {BULK_LIMIT} bulk lookups a day, 30 requests at once, 15 to each node")
    if time.time() % 86400 > 86400 - 15:  # not across midnight, when the day's count restarts
        time.sleep(20)
    barrier, answers = threading.Barrier(30), []

    def ask(node: Node) -> None:
        barrier.wait()
        status, _ = post(node.port, "/api/v1/lookup/", {"items": ["E06000001"]},
                         {"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
        answers.append((node.name, status))

    askers = [threading.Thread(target=ask, args=(node,)) for node in [a, b] * 15]
    for thread in askers:
        thread.start()
    for thread in askers:
        thread.join()
    tally = Counter(answers)
    figures["rate_limit"] = {f"{n} {s}": c for (n, s), c in sorted(tally.items())}
    print("  " + ", ".join(f"node {n}: {c} × {s}" for (n, s), c in sorted(tally.items())))
    allowed = tally[("A", 200)] + tally[("B", 200)]
    check(allowed == BULK_LIMIT and tally[("A", 429)] + tally[("B", 429)] == 30 - BULK_LIMIT,
          f"exactly {BULK_LIMIT} allowed across both nodes, the rest 429 ({allowed} allowed)")  # fmt: skip

    # 4. Node A killed under traffic.
    print("\n4. Node A killed under traffic")
    with Traffic(port, keys, clients=4) as traffic:
        time.sleep(2)
        killed = time.monotonic()
        since = time.time()
        a.kill()
        time.sleep(4)
    after = served_by(access_log, since, names)
    figures["node_kill"] = {"requests": traffic.count(), "failed": traffic.failed(),
                            "after_kill": traffic.count(killed), "failed_after_kill": traffic.failed(killed),
                            "per_node_after_kill": dict(after)}  # fmt: skip
    print(f"  {traffic.count()} reads, {traffic.failed()} failed; after the kill "
          f"{traffic.count(killed)}, {traffic.failed(killed)} failed, served by {dict(after)}")  # fmt: skip
    check(traffic.failed(killed) == 0, "no read failed when node A was killed (nginx retried on B)")
    check(after["A"] == 0 and after["B"] + after["A→B"] >= 10, "traffic carried on through node B")  # fmt: skip

    # 5. The replica stopped under traffic: reads fall back to the primary.
    print("\n5. The replica stopped under traffic")
    with Traffic(port, keys, clients=4) as traffic:
        time.sleep(2)
        primary_before = primary.reads()
        stopped = time.monotonic()
        replica.stop("immediate")
        time.sleep(4)
    primary_rows = primary.reads() - primary_before
    settled = stopped + CHECK_SECONDS
    figures["replica_stop"] = {
        "requests": traffic.count(), "failed": traffic.failed(),
        "failed_within_check_interval": traffic.failed(stopped, settled),
        "failed_after_check_interval": traffic.failed(settled),
        "rows_read_on_primary_after_stop": primary_rows,
    }  # fmt: skip
    events = b.replica_events()
    print(f"  {traffic.count()} reads, {traffic.failed()} failed "
          f"({traffic.failed(stopped, settled)} within the check interval of {CHECK_SECONDS:g} s "
          f"after the stop, {traffic.failed(settled)} after it); rows read on the primary since: "
          f"{primary_rows:,}")  # fmt: skip
    for line in events[-2:]:
        print(f"  node B's log: {line[line.index('replica replica1') :][:160]}")
    check(traffic.failed(settled) == 0, "0 failed reads after the health check's interval")
    check(traffic.count(settled) >= 10 and primary_rows >= traffic.count(settled),
          "reads went on, from the primary")  # fmt: skip
    check(any("out of rotation" in line for line in events), "node B took the replica out")
    figures["seconds"] = round(time.monotonic() - started)


cleanup: list = []


def main() -> int:
    # timeout(1) and CI send SIGTERM: leave through the clean-up, stopping every server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ensure_tools()
    scratch = Path(tempfile.mkdtemp(prefix="multinode-", dir="/tmp"))
    scratch.chmod(0o755)  # the PostgreSQL user reaches its directories and sockets here
    try:
        run(scratch)
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception as error:  # clean up the rest whatever one step does
                print(f"--> clean-up: {error}", file=sys.stderr)
        if os.environ.get("MULTINODE_KEEP"):
            print(f"--> kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print("\n" + "\n".join(machine.describe()))
    print(f"Load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("FIGURES " + json.dumps(figures))
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"All {len(figures) - 1} scenarios passed in {figures.get('seconds')} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
