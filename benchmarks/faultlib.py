"""The parts of benchmarks/faults.py: the server as bin/serve starts it, a throwaway
PostgreSQL, steady client traffic, slow-body clients and two concurrent curators. Only the
standard library on the client side, and only 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import runpy
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_TEMP = ROOT / "bin" / "pg-temp"
SERVE = ROOT / "bin" / "serve"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
HOST = "127.0.0.1"


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# Processes ----------------------------------------------------------------------------------


def base_env(scratch: Path) -> dict[str, str]:
    """The environment of every manage.py and server process: none of the developer's
    database settings, a random secret key, rate limits lifted, scratch files in ``scratch``."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REGISTRY_SQLITE_PATH", "DEBUG", "WEB_CONCURRENCY",
                 "REGISTRY_URI_BASE", "REGISTRY_BIND", "REGISTRY_INSECURE_DEV_KEY"):  # fmt: skip
        env.pop(name, None)
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        REGISTRY_INSECURE_HTTP="true",
        REGISTRY_API_RATE_LOOKUP="1000000/second",
        REGISTRY_API_RATE_BULK="1000000/second",
        REGISTRY_RECONCILE_RATE="1000000",
        REGISTRY_THROTTLE_CACHE=str(scratch / "throttle"),
        LOG_LEVEL="WARNING",
    )
    return env


SUMMARY = re.compile(
    r"(?P<created>[\d,]+) entries were created and (?P<changed>[\d,]+) changed; "
    r"(?P<events_created>[\d,]+) change events were created and (?P<events_changed>[\d,]+) changed"
)


@dataclass
class Managed:
    ok: bool
    output: str
    created: int | None = None
    changed: int | None = None
    events: tuple[int, int] | None = None

    @property
    def summary(self) -> str:
        if self.created is None:
            return "no summary" if self.ok else "FAILED"
        return f"{self.created:,} created / {self.changed:,} changed"


def manage(env: dict[str, str], *args: str, check: bool = True) -> Managed:
    proc = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args, "--no-color"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    if proc.returncode and check:
        sys.stderr.write(output)
        raise SystemExit(f"manage.py {args[0]} failed (exit status {proc.returncode})")
    result = Managed(ok=proc.returncode == 0, output=output)
    if match := SUMMARY.search(proc.stdout):
        number = {k: int(v.replace(",", "")) for k, v in match.groupdict().items()}
        result.created, result.changed = number["created"], number["changed"]
        result.events = (number["events_created"], number["events_changed"])
    return result


COUNT_CODE = """
import json
from django.apps import apps
print("COUNTS " + json.dumps({m._meta.db_table: m.objects.count()
                             for m in apps.get_app_config("registry").get_models()}))
"""


def registry_counts(env: dict[str, str]) -> dict[str, int]:
    """Rows in each table of the registry app."""
    out = manage(env, "shell", "-c", COUNT_CODE).output
    line = next(line for line in out.splitlines() if line.startswith("COUNTS "))
    return json.loads(line.removeprefix("COUNTS "))


def children(pid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                pids.append(int(entry.name))
    return sorted(pids)


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Postgres:
    """A throwaway server from bin/pg-temp (default, durable settings), which can be stopped
    and started again in place."""

    def __init__(self, scratch: Path) -> None:
        proc = subprocess.run(
            [str(PG_TEMP), "start"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if proc.returncode:
            sys.stderr.write(proc.stderr)
            raise SystemExit("bin/pg-temp could not start PostgreSQL")
        exported = {}
        for line in proc.stdout.splitlines():
            words = shlex.split(line)
            if len(words) == 2 and words[0] == "export":
                name, _, value = words[1].partition("=")
                exported[name] = value
        self.url = exported["DATABASE_URL"]
        self.dir = Path(exported["PG_TEMP_DIR"])
        self.port = exported["PG_TEMP_PORT"]
        self.log = scratch / "postgres-restart.log"

    @staticmethod
    def bin() -> Path:
        return Path(os.environ.get("PG_BIN") or "/usr/lib/postgresql/15/bin")

    def pg_ctl(self, *args: str) -> None:
        command = [str(self.bin() / "pg_ctl"), "-D", str(self.dir / "data"), *args]
        if os.geteuid() == 0:  # pg-temp runs the server as the owner of its data directory
            owner = self.dir.joinpath("data").owner()
            command = ["runuser", "-u", owner, "--", *command]
        with self.log.open("a") as sink:
            subprocess.run(command, cwd="/", stdout=sink, stderr=sink, check=True)

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "-t", "60", "stop")

    def start(self) -> None:
        self.pg_ctl("-l", str(self.dir / "postgres.log"), "-o", f"-p {self.port}", "-w",
                    "-t", "60", "start")  # fmt: skip

    def destroy(self) -> None:
        subprocess.run([str(PG_TEMP), "stop", str(self.dir)], cwd=ROOT, check=False)

    @classmethod
    def version(cls) -> str:
        try:
            return subprocess.run(
                [str(cls.bin() / "postgres"), "--version"], capture_output=True, text=True
            ).stdout.strip()
        except OSError:
            return "unknown"


class Server:
    """gunicorn started by bin/serve's own command line (its set-up steps left out: the
    database is migrated and loaded already, and nothing is written to var/).
    ``Server.source`` may name another script of the same shape, to try a configuration."""

    source = SERVE

    def __init__(self, port: int, env: dict[str, str], logs: Path) -> None:
        self.port, self.logs = port, logs
        self.env = {**env, "REGISTRY_BIND": f"{HOST}:{port}"}
        self.process: subprocess.Popen | None = None

    @classmethod
    def script(cls) -> str:
        """bin/serve without its set-up steps (bin/setup, manage.py, mkdir): what is left
        sets the serving environment and execs gunicorn."""
        text = cls.source.read_text().replace("\\\n", " ")
        kept = []
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if "bin/setup" in stripped or "manage.py" in stripped or stripped.startswith("mkdir"):
                continue
            kept.append(line)
        script = "\n".join(kept)
        if "gunicorn" not in script:
            raise SystemExit("bin/serve no longer execs gunicorn: update benchmarks/faultlib.py")
        return script

    @classmethod
    @classmethod
    def settings(cls) -> tuple[str | None, dict]:
        """The gunicorn settings file the command line names (``-c``), and its settings."""
        line = next(line for line in cls.script().splitlines() if "gunicorn" in line)
        words = shlex.split(line.replace('"', ""))
        config = next(
            (words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-c", "--config")), None
        )
        if config and (ROOT / config).is_file():
            return config, runpy.run_path(str(ROOT / config))  # plain assignments
        return None, {}

    @classmethod
    def describe_command(cls) -> str:
        line = next(line for line in cls.script().splitlines() if "gunicorn" in line)
        where = "bin/serve" if cls.source == SERVE else cls.source
        described = "`" + " ".join(line.split()).removeprefix("exec ") + f"` (from {where})"
        config, settings = cls.settings()
        named = ("worker_class", "workers", "threads", "timeout", "preload_app")
        if config:
            described += (
                ", with "
                + ", ".join(f"{name}={settings[name]!r}" for name in named if name in settings)
                + f" from {config}"
            )
        return described

    def __enter__(self) -> Server:
        self.logs.mkdir(parents=True, exist_ok=True)
        # gunicorn 27's control socket is ~/.gunicorn/gunicorn.ctl unless turned off, one path
        # for every gunicorn on the machine: if bin/serve leaves it on, ours goes elsewhere.
        script = self.script().rstrip()
        if not self.settings()[1].get("control_socket_disable") and "control-socket" not in script:
            script += f" --control-socket {self.logs / 'gunicorn.ctl'}"
        self.process = subprocess.Popen(
            ["bash", "-c", script, str(SERVE)],
            cwd=ROOT, env=self.env, start_new_session=True,
            stdout=(self.logs / "access.log").open("w"),
            stderr=(self.logs / "error.log").open("w"),
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.logs / 'error.log'}")
            try:
                if get(self.port, "/api/v1/", timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("gunicorn did not answer within 120 s")

    def __exit__(self, *exc) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def workers(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def warm(self, data: dict[str, list[str]], limit: float = 240.0) -> None:
        """Until every worker holds the reconciliation index (its memory grows by a few
        hundred MiB) and a few rounds of concurrent requests come back quickly."""
        rng = random.Random(7)  # noqa: S311 - a reproducible sample, not a secret
        deadline = time.monotonic() + limit
        fast_rounds = 0
        while time.monotonic() < deadline:
            workers = self.workers()
            rounds = max(6, 3 * len(workers))
            start = time.monotonic()
            threads = [
                threading.Thread(
                    target=reconcile, args=(self.port, rng.sample(data["names"], 10), 120)
                )
                for _ in range(rounds)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - start
            indexed = all(rss_mib(pid) > 300 for pid in workers)
            fast_rounds = fast_rounds + 1 if elapsed < 1.0 and indexed else 0
            if fast_rounds >= 3:
                sizes = ", ".join(f"{rss_mib(pid):.0f}" for pid in workers)
                print(f"warm: workers at {sizes} MiB", file=sys.stderr, flush=True)
                return
        print("warning: the workers did not all warm up", file=sys.stderr)


# HTTP ---------------------------------------------------------------------------------------


def call(port: int, method: str, path: str, body: bytes | None = None, headers=None,
         timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """One request on a new connection (what a client without keep-alive does)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def get(port: int, path: str, timeout: float = 30.0) -> tuple[int, bytes]:
    status, _, body = call(port, "GET", path, timeout=timeout)
    return status, body


def reconcile(port: int, names: list[str], timeout: float = 30.0):
    queries = {f"q{i}": {"query": name} for i, name in enumerate(names)}
    body = urllib.parse.urlencode({"queries": json.dumps(queries)}).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return call(port, "POST", "/reconcile", body, form, timeout=timeout)


@dataclass
class Record:
    start: float
    end: float
    kind: str
    status: int | None  # None: no answer
    error: str = ""
    retry_after: bool = False

    @property
    def seconds(self) -> float:
        return self.end - self.start


class Traffic:
    """Steady, paced traffic from several threads: entry documents, lookup API requests and
    reconciliation batches of 10 names (4:4:1), each on a new connection, a different random
    code each time."""

    KINDS = ("document",) * 4 + ("lookup",) * 4 + ("reconcile",)

    def __init__(self, port: int, data: dict[str, list[str]], rate: float = 40.0,
                 threads: int = 8, timeout: float = 30.0) -> None:  # fmt: skip
        self.port, self.data, self.timeout = port, data, timeout
        self.interval = threads / rate
        self.threads = [
            threading.Thread(target=self.loop, args=(n,), daemon=True) for n in range(threads)
        ]
        self.records: list[Record] = []
        self.in_flight: dict[int, float] = {}
        self.stopping = threading.Event()
        self.baseline: list[Record] = []
        self.threshold = 1.0
        self.began = self.ended = 0.0

    def one(self, rng: random.Random, kind: str) -> Record:
        code = rng.choice(self.data["codes"])
        start = time.monotonic()
        self.in_flight[threading.get_ident()] = start
        try:
            if kind == "document":
                path = f"/doc/statistical-geography/{code}.json"
                status, headers, _ = call(self.port, "GET", path, timeout=self.timeout)
            elif kind == "lookup":
                path = f"/api/v1/entries/statistical-geography/{code}/"
                status, headers, _ = call(self.port, "GET", path, timeout=self.timeout)
            else:
                names = rng.sample(self.data["names"], 10)
                status, headers, _ = reconcile(self.port, names, self.timeout)
            retry = any(k.lower() == "retry-after" for k in headers)
            return Record(start, time.monotonic(), kind, status, retry_after=retry)
        except (OSError, http.client.HTTPException) as error:
            name = "timeout" if isinstance(error, TimeoutError) else type(error).__name__
            return Record(start, time.monotonic(), kind, None, name)
        finally:
            self.in_flight.pop(threading.get_ident(), None)

    def loop(self, number: int) -> None:
        rng = random.Random(number)  # noqa: S311 - a reproducible sample, not a secret
        due = time.monotonic() + number * self.interval / len(self.threads)
        while not self.stopping.is_set():
            pause = due - time.monotonic()
            if pause > 0 and self.stopping.wait(pause):
                break
            self.records.append(self.one(rng, rng.choice(self.KINDS)))
            due = max(due + self.interval, time.monotonic())

    def start(self) -> None:
        self.began = time.monotonic()
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(self.timeout + 5)
        self.ended = time.monotonic()

    def dump(self, path: Path, origin: float) -> None:
        """Every request, as JSON lines (times in seconds from ``origin``), for a closer look."""
        with path.open("w") as out:
            for r in self.records:
                line = {"start": round(r.start - origin, 3), "seconds": round(r.seconds, 4),
                        "kind": r.kind, "status": r.status, "error": r.error}  # fmt: skip
                out.write(json.dumps(line) + "\n")

    def set_baseline(self) -> None:
        """What normal is: the requests so far (after the first second). A request is abnormal
        if it fails, gets a 5xx, or takes more than 3 times the baseline p99 (at least 0.5 s)."""
        self.baseline = [r for r in list(self.records) if r.start > self.began + 1.0]
        p99 = percentile([r.seconds for r in self.baseline if r.status == 200], 0.99) or 0.2
        self.threshold = max(0.5, 3 * p99)

    def abnormal(self, record: Record) -> bool:
        return record.status is None or record.status >= 500 or record.seconds > self.threshold

    def last_abnormal_end(self, since: float) -> float:
        ends = [r.end for r in list(self.records) if r.end >= since and self.abnormal(r)]
        return max(ends, default=0.0)

    def oldest_abnormal_in_flight(self, now: float) -> float:
        starts = list(self.in_flight.values())
        return now if any(now - start > self.threshold for start in starts) else 0.0

    def recovery(self, since: float) -> float:
        """Seconds from ``since`` until the last abnormal request ended (0 if none)."""
        return max(0.0, self.last_abnormal_end(since) - since)

    def summary(self, after: float, before: float | None = None) -> dict:
        """Requests still running at ``after`` or started later (and before ``before``)."""
        before = before if before is not None else float("inf")
        chosen = [r for r in self.records if r.end >= after and r.start < before]
        answered = [r.seconds for r in chosen if r.status is not None]
        statuses = Counter(r.status for r in chosen if r.status is not None)
        span = max(1e-9, min(before, self.ended or time.monotonic()) - after)
        base = [r.seconds for r in self.baseline if r.status == 200]
        return {
            "requests": len(chosen),
            "failed": sum(r.status is None for r in chosen),
            "5xx": sum(n for s, n in statuses.items() if s >= 500),
            "503": statuses.get(503, 0),
            "503_without_retry_after": sum(r.status == 503 and not r.retry_after for r in chosen),
            "other_status": sorted((s, n) for s, n in statuses.items() if s != 200 and s < 500),
            "errors": Counter(r.error for r in chosen if r.error).most_common(),
            "p50": percentile(answered, 0.50),
            "p99": percentile(answered, 0.99),
            "max": max(answered, default=None),
            "baseline_p50": percentile(base, 0.50),
            "baseline_p99": percentile(base, 0.99),
            "threshold": self.threshold,
            "rate": len(chosen) / span,
            "by_kind": {
                kind: percentile([r.seconds for r in chosen if r.kind == kind], 0.99)
                for kind in ("document", "lookup", "reconcile")
            },
        }


class SlowClients:
    """Clients that send a POST's headers declaring a body, then trickle it a byte a second
    (odd-numbered clients) or never send it (even-numbered); each reconnects when the server
    answers or closes, to keep ``count`` connections open."""

    def __init__(self, port: int, count: int = 5, content_length: int = 4096) -> None:
        self.port, self.count, self.length = port, count, content_length
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self.loop, args=(n,), daemon=True) for n in range(count)
        ]
        self.connections = 0
        self.outcomes: dict[str, Counter[str]] = {"trickling": Counter(), "silent": Counter()}
        self.held: dict[str, list[float]] = {"trickling": [], "silent": []}

    def loop(self, number: int) -> None:
        head = (
            f"POST /api/v1/lookup/ HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {self.length}\r\n\r\n"
        ).encode()
        trickle = number % 2 == 1
        mode = "trickling" if trickle else "silent"
        while not self.stopping.is_set():
            try:
                sock = socket.create_connection((HOST, self.port), timeout=5)
            except OSError as error:
                self.outcomes[mode][f"connect {type(error).__name__}"] += 1
                self.stopping.wait(0.5)
                continue
            self.connections += 1
            opened = time.monotonic()
            outcome = "held to the end"
            try:
                sock.sendall(head + (b"[" if trickle else b""))
                sock.settimeout(1.0)
                while not self.stopping.is_set():
                    try:
                        data = sock.recv(4096)
                    except TimeoutError:
                        if trickle:
                            sock.sendall(b" ")
                        continue
                    if not data:
                        outcome = "closed by the server"
                    else:
                        outcome = "answered " + data.split(b"\r\n", 1)[0].decode("latin-1")[9:12]
                    break
            except OSError as error:
                outcome = f"{type(error).__name__}"
            finally:
                sock.close()
            self.held[mode].append(time.monotonic() - opened)
            self.outcomes[mode][outcome] += 1

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(10)

    def report(self) -> str:
        """Per kind of client: what its connections ended in, and the longest one held."""
        parts = []
        for mode, outcomes in self.outcomes.items():
            ends = ", ".join(f"{what} × {n}" for what, n in sorted(outcomes.items()))
            parts.append(f"{mode} ({ends}; longest {max(self.held[mode], default=0):.0f} s)")
        return f"slow clients: {self.connections} connections: " + ", ".join(parts)


def declared_huge(port: int, wait: float = 5.0) -> str:
    """What the server does with a request declaring a 1 GiB body it never sends: refuse it
    at once (413), or wait for it."""
    head = (
        f"POST /api/v1/check/ HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        "Content-Type: text/csv\r\nContent-Length: 1073741824\r\n\r\n"
    ).encode()
    start = time.monotonic()
    with socket.create_connection((HOST, port), timeout=wait) as sock:
        sock.sendall(head)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return f"no answer in {wait:.0f} s"
        except OSError as error:
            return type(error).__name__
    seconds = time.monotonic() - start
    if not data:
        return f"closed after {ms(seconds)}"
    status = data.split(b"\r\n", 1)[0].decode("latin-1")[9:12]
    return f"{status} after {ms(seconds)}"


# Curators -----------------------------------------------------------------------------------


class Curators:
    """Two curators saving the same entry through the write API, concurrently: read it (with
    its ETag), change their own alternative name, PUT it back with If-Match (or
    ``expected_version`` where the curation GET is not there yet), and on 412/409 read it
    again and retry. Then the version history is checked against what was answered."""

    def __init__(self, port: int, register: str, key: str, tokens: dict[str, str]) -> None:
        self.port, self.register, self.key, self.tokens = port, register, key, tokens
        self.path = f"/api/v1/curation/entries/{register}/{key}/"
        self.lookup = f"/api/v1/entries/{register}/{key}/"
        self.attempts: list[dict] = []
        self.requests: list[Record] = []
        self.mode = ""

    def http(self, method: str, path: str, token: str | None = None, payload=None,
             headers=None) -> tuple[int | None, dict[str, str], object]:  # fmt: skip
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Token {token}"
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        start = time.monotonic()
        try:
            status, answer, content = call(self.port, method, path, body, headers)
        except (OSError, http.client.HTTPException) as error:
            self.requests.append(
                Record(start, time.monotonic(), method, None, type(error).__name__)
            )
            return None, {}, None
        self.requests.append(Record(start, time.monotonic(), method, status))
        try:
            data = json.loads(content) if content else None
        except ValueError:
            data = content[:200]
        return status, {k.lower(): v for k, v in answer.items()}, data

    def read(self, token: str) -> tuple[dict, int, str | None] | None:
        """The entry's snapshot, version and ETag (None for the ETag without the curation GET)."""
        if self.mode != "expected_version":
            status, headers, data = self.http("GET", self.path, token)
            if status == 200 and isinstance(data, dict):
                self.mode = "If-Match"
                return data, data["version"], headers.get("etag")
            if status != 405:
                return None
            self.mode = "expected_version"
        # The lookup API's version, then that version's snapshot.
        status, _, data = self.http("GET", self.lookup)
        if status != 200:
            return None
        version = data["version"]
        status, _, detail = self.http("GET", f"{self.lookup}versions/{version}/")
        if status != 200:
            return None
        return detail["snapshot"], version, None

    def curator(self, name: str, token: str, edits: int, barrier: threading.Barrier) -> None:
        letter = name[-1].upper()
        barrier.wait()
        attempt, deadline = 0, time.monotonic() + 180
        for edit in range(1, edits + 1):
            while attempt < 10 * edits and time.monotonic() < deadline:
                attempt += 1
                read = self.read(token)
                if read is None:
                    continue
                snapshot, version, etag = read
                text = f"Curator {letter} edit {edit}"
                names = [row for row in snapshot["names"]
                         if not str(row[2]).startswith(f"Curator {letter} edit")]  # fmt: skip
                names.append(["en", "alternative", text, None, None])
                note = f"faults.py: {name}, edit {edit}, attempt {attempt}"
                payload = {field: snapshot.get(field, [] if field != "attributes" else {})
                           for field in ("identifiers", "states", "relations", "attributes")}  # fmt: skip
                payload.update(names=names, note=note)
                headers = {}
                if etag is not None:
                    headers["If-Match"] = etag
                else:
                    payload["expected_version"] = version
                status, _, data = self.http("PUT", self.path, token, payload, headers)
                self.attempts.append({
                    "curator": name, "edit": edit, "text": text, "note": note, "base": version,
                    "status": status,
                    "version": data.get("version") if isinstance(data, dict) else None,
                    "detail": "" if status == 200 else str(data)[:300],
                })  # fmt: skip
                if status == 200:
                    break
                if status in (409, 412) or status is None or status >= 500:
                    continue
                return  # another refusal: retrying would not help

    def run(self, edits: int) -> dict:
        status, _, data = self.http("GET", self.lookup)
        assert status == 200, (status, data)
        first = data["version"]
        barrier = threading.Barrier(len(self.tokens))
        threads = [
            threading.Thread(target=self.curator, args=(name, token, edits, barrier))
            for name, token in self.tokens.items()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.verify(first)

    def versions(self) -> list[dict]:
        found, path = [], f"{self.lookup}versions/?page_size=1000"
        while path:
            status, _, data = self.http("GET", path)
            assert status == 200, (status, data)
            found += data["results"]
            path = (
                data["next"]
                and urllib.parse.urlsplit(data["next"])._replace(scheme="", netloc="").geturl()
            )
        return found

    def verify(self, first: int) -> dict:
        problems: list[str] = []
        new = [v for v in self.versions() if v["number"] > first]
        snapshots = {}
        for version in new:
            status, _, detail = self.http("GET", f"{self.lookup}versions/{version['number']}/")
            snapshots[version["number"]] = detail["snapshot"] if status == 200 else None
        by_note = {v["reason"]: v for v in new}
        saved = [a for a in self.attempts if a["status"] == 200]
        refused = [a for a in self.attempts if a["status"] in (409, 412)]
        lost: set[str] = set()
        # Each save that was answered 200 is a version, made from the version before it.
        for attempt in saved:
            version = by_note.get(attempt["note"])
            if version is None:
                lost.add(attempt["text"])
                problems.append(f"{attempt['note']}: answered 200, no version holds it")
                continue
            if version["number"] != attempt["base"] + 1:
                problems.append(
                    f"{attempt['note']}: made from version {attempt['base']}, "
                    f"recorded as version {version['number']} (overwrote a newer one)"
                )
            if attempt["version"] is not None and attempt["version"] != version["number"]:
                problems.append(f"{attempt['note']}: answered version {attempt['version']}")
        # A refused save wrote nothing; and nothing else wrote either.
        for attempt in refused:
            if attempt["note"] in by_note:
                problems.append(f"{attempt['note']}: refused {attempt['status']} but written")
        notes = {a["note"] for a in saved}
        for version in new:
            if version["reason"] not in notes:
                problems.append(f"version {version['number']} ({version['reason']}) not a 200")
        # Walking the history: every curator's latest saved text is in each later version.
        latest: dict[str, str] = {}
        saves = {a["note"]: a for a in saved}
        for version in sorted(new, key=lambda v: v["number"]):
            attempt = saves.get(version["reason"])
            if attempt is not None:
                latest[attempt["curator"]] = attempt["text"]
            snapshot = snapshots.get(version["number"]) or {"names": []}
            texts = {row[2] for row in snapshot["names"]}
            for text in latest.values():
                if text not in texts:
                    if text not in lost:
                        problems.append(f"version {version['number']} lost {text!r}")
                    lost.add(text)
        other = [a for a in self.attempts if a["status"] not in (200, 409, 412)]
        for attempt in other[:3]:
            problems.append(f"{attempt['note']}: {attempt['status']} {attempt['detail'][:160]}")
        statuses = Counter(r.status for r in self.requests if r.status is not None)
        puts = [r.seconds for r in self.requests if r.kind == "PUT" and r.status is not None]
        by = Counter(a["status"] for a in refused)
        return {
            "requests": len(self.requests),
            "failed": sum(r.status is None for r in self.requests),
            "5xx": sum(n for s, n in statuses.items() if s >= 500),
            "503": statuses.get(503, 0),
            "edits_lost": len(lost),
            "p50": percentile(puts, 0.50),
            "p99": percentile(puts, 0.99),
            "saved": len(saved),
            "refused": len(refused),
            "refused_by": ", ".join(f"{s} × {n}" for s, n in sorted(by.items())) or "none",
            "new_versions": len(new),
            "mode": self.mode,
            "problems": problems,
            "other": [(a["status"], a["detail"]) for a in other],
        }
