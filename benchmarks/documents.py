"""Benchmark entry documents, the 303 and conditional requests against the production server.

    .venv/bin/python benchmarks/documents.py [--seconds 4] [--rounds 3] [--connections 16] [--port 8101]

Starts gunicorn (``config.wsgi``, 2 workers, as ``bin/serve`` runs it) on 127.0.0.1 against
the loaded SQLite database in ``var/`` (read only), with ``benchmarks/ceiling.py`` as the
settings module: the production settings and URLs plus one minimal Django view returning a
fixed JSON body, the ceiling of what that server can do. It then drives it with ``wrk``
(``apt-get install wrk``) through each scenario in turn and prints a markdown table of
requests per second and latency percentiles, with each scenario's share of the ceiling.
Because the machine may be shared, every scenario is measured between two runs of the
ceiling and compared with their mean, over several rounds, and medians are reported.

Scenarios: the ceiling; one entry document as JSON and as Turtle (after the first request
the rendered body comes from the cache, keyed by the validator); the 303 from ``/id/``; a
conditional request answered 304; and "cold" documents, rotating over thousands of
different entries so that nearly every request builds and renders its document.
Load is only ever sent to 127.0.0.1, and each run is bounded in time.
"""

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
DATABASE = ROOT / "var" / "registry.sqlite3"
ENTRY = "/doc/statistical-geography/E07000004"
TARGET_SHARE = 0.5

LUA_ROTATE = """
local paths = {%s}
local i = 0
function setup(thread)
  thread:set("offset", math.random(#paths))
end
function request()
  i = i + 1
  return wrk.format("GET", paths[((offset or 0) + i) %% #paths + 1])
end
"""


def start_server(port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchmarks.ceiling",
        "REGISTRY_INSECURE_HTTP": "true",
        "REGISTRY_SQLITE_PATH": str(DATABASE),
    }
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            "config.wsgi",
            "--chdir",
            str(ROOT),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    return wait_for(f"http://127.0.0.1:{port}/benchmark/ceiling", server)


def server_cpu_seconds(master: int | tuple[int, ...], reaped: bool = False) -> float:
    """CPU time (user + system) used so far by the gunicorn master and its workers (or by
    each of several masters and their children: gunicorn's and nginx's). Unlike
    requests per second, CPU per request does not depend on what else the machine is doing.
    With ``reaped``, also that of the children the master has reaped (``cutime`` +
    ``cstime``), so that a process which exits during a measurement (a PostgreSQL backend at
    the end of its connection) is still counted."""
    ticks = os.sysconf("SC_CLK_TCK")
    masters = {master} if isinstance(master, int) else set(master)
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid in masters and reaped:
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        elif pid in masters or ppid in masters:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


NGINX_WRAPPER = """worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format registry {log_format};
    access_log {d}/access.log registry;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/registry.conf;
}}
"""
# nginx's default log format ("combined").
COMBINED = (
    '\'$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"\''
)


def write_nginx_config(
    conf_dir: Path, upstreams: list[int], host: str, port: int, log_format: str = COMBINED
) -> Path:
    """Write nginx's configuration into ``conf_dir``: deploy/nginx.conf as shipped but for its
    addresses (its two upstream nodes the ports ``upstreams`` on ``host``; listening on
    ``host:port``) and its cache's folder (``conf_dir``/cache), inside an ``http`` block that
    logs each request in ``log_format`` to access.log and keeps nginx's other files there.
    Returns the main file's path. (``.ci/proxy-check`` runs it too.)"""
    conf_dir.mkdir(exist_ok=True)
    # nginx's workers (nobody, when started as root) open the cache's files under here.
    for folder in (conf_dir.parent, conf_dir):
        folder.chmod(0o711)
    shipped = (ROOT / "deploy" / "nginx.conf").read_text()
    first, second = upstreams
    replaced = {
        "server 127.0.0.1:8000 ": f"server {host}:{first} ",
        "server 127.0.0.1:8001 ": f"server {host}:{second} ",
        "listen 8080;": f"listen {host}:{port};",
        "/var/lib/nginx/registry-cache ": f"{conf_dir}/cache ",
    }
    ours = shipped
    for shipped_text, here in replaced.items():
        if shipped.count(shipped_text) != 1:
            raise SystemExit(f"deploy/nginx.conf no longer has {shipped_text.strip()!r} once")
        ours = ours.replace(shipped_text, here)
    (conf_dir / "registry.conf").write_text(ours)
    main = conf_dir / "nginx.conf"
    main.write_text(NGINX_WRAPPER.format(d=conf_dir, log_format=log_format))
    return main


def start_nginx(
    scratch: Path, upstreams: list[int], host: str, port: int, log_format: str = COMBINED
) -> tuple[subprocess.Popen, Path]:
    """nginx as :func:`write_nginx_config` configures it, in ``scratch``/nginx: the process
    and its folder."""
    conf_dir = scratch / "nginx"
    main = write_nginx_config(conf_dir, upstreams, host, port, log_format)
    command = ["nginx", "-c", str(main), "-p", str(conf_dir)]
    subprocess.run([*command, "-t", "-q"], check=True)  # noqa: S603 (Debian's nginx, loopback)
    process = subprocess.Popen([*command, "-g", "daemon off;"], start_new_session=True)  # noqa: S603
    return process, conf_dir


def wait_for(url: str, server: subprocess.Popen, tries: int = 100, pause: float = 0.2):
    """``server`` once ``url`` answers; else it is stopped and the benchmark ends."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (loopback only)
            return server
        except OSError:
            time.sleep(pause)
    server.terminate()
    raise SystemExit(f"gunicorn did not start ({url})")


def fetch(url: str, headers: dict | None = None):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (loopback only)
    try:
        return opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        return error


def wrk(
    url: str, seconds: int, connections: int, headers=(), script: str | None = None, master=0
) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    cpu_before = server_cpu_seconds(master)
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    cpu = server_cpu_seconds(master) - cpu_before
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+([\d.]+\w+)", output, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "rps": rps,
        "p50": latency.get("50"),
        "p90": latency.get("90"),
        "p99": latency.get("99"),
        "non_2xx_3xx": int(errors.group(1)) if errors else 0,
        "cpu_ms": 1000 * cpu / max(requests, 1),
    }


def cold_paths(count: int) -> list[str]:
    """Documents of many different entries (wards, then LSOAs), so each is rendered afresh."""
    with sqlite3.connect(f"file:{DATABASE}?mode=ro", uri=True) as db:
        keys = [
            row[0]
            for row in db.execute(
                "SELECT e.key FROM registry_entry e JOIN registry_register r ON r.id = e.register_id "
                "WHERE r.slug = 'statistical-geography' AND (e.key LIKE 'E05%' OR e.key LIKE 'E01%') "
                "ORDER BY e.key LIMIT ?",
                (count,),
            )
        ]
    return [f"/doc/statistical-geography/{key}.json" for key in keys]


def server_lines() -> list[str]:
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    return [
        "Load: shared the cores with the server",
        f"Server: gunicorn, 2 sync workers, SQLite database `var/registry.sqlite3`; load: "
        f"{wrk_version.split(' [')[0].strip() or 'wrk'}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    if not DATABASE.exists():
        raise SystemExit(f"no database at {DATABASE}: run bin/serve once to load it")

    base = f"http://127.0.0.1:{args.port}"
    server = start_server(args.port)
    try:
        etag = fetch(f"{base}{ENTRY}.json").headers["ETag"]
        checks = {
            "303 Location": fetch(f"{base}/id/statistical-geography/E07000004").headers["Location"],
            "304 status": fetch(f"{base}{ENTRY}.json", {"If-None-Match": etag}).status,
        }
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            paths = cold_paths(6000)
            lua.write(LUA_ROTATE % ", ".join(f'"{p}"' for p in paths))
        scenarios = [
            ("Entry document, JSON (`E07000004.json`)", f"{ENTRY}.json", (), None),
            ("Entry document, Turtle (`E07000004.ttl`)", f"{ENTRY}.ttl", (), None),
            ("Entry document by `Accept: text/turtle`", ENTRY, ("Accept: text/turtle",), None),
            ("303 See Other (`/id/…/E07000004`)", "/id/statistical-geography/E07000004", (), None),
            (
                "Conditional request → 304 (`If-None-Match`)",
                f"{ENTRY}.json",
                (f"If-None-Match: {etag}",),
                None,
            ),
            ("Cold: a different entry each request, JSON", "/", (), lua.name),
        ]
        ceiling_path = "/benchmark/ceiling"
        # The machine is shared, so load varies over a run: each scenario is measured between
        # two measurements of the ceiling and compared with their mean, in several rounds.
        runs: dict[str, list[dict]] = {label: [] for label, *_ in scenarios}
        ceilings: list[float] = []
        ceiling_cpu: list[float] = []
        shares: dict[str, list[float]] = {label: [] for label, *_ in scenarios}
        for round_number in range(args.rounds):
            first = wrk(f"{base}{ceiling_path}", args.seconds, args.connections, master=server.pid)
            before = first["rps"]
            ceilings.append(before)
            ceiling_cpu.append(first["cpu_ms"])
            for label, path, headers, script in scenarios:
                result = wrk(
                    f"{base}{path}", args.seconds, args.connections, headers, script, server.pid
                )
                again = wrk(
                    f"{base}{ceiling_path}", args.seconds, args.connections, master=server.pid
                )
                after = again["rps"]
                ceilings.append(after)
                ceiling_cpu.append(again["cpu_ms"])
                runs[label].append(result)
                shares[label].append(result["rps"] / ((before + after) / 2))
                before = after
                print(
                    f"round {round_number + 1}: {label}: {result['rps']:.0f} req/s", file=sys.stderr
                )
        os.unlink(lua.name)
    finally:
        server.terminate()
        server.wait(timeout=30)

    def median_run(label: str) -> dict:
        ordered = sorted(runs[label], key=lambda r: r["rps"])
        return ordered[len(ordered) // 2]

    print(
        f"Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: wrk, 2 threads, "
        f"{args.connections} connections, {args.seconds} s per measurement, {args.rounds} rounds; "
        "medians over the rounds.\n"
    )
    base_cpu = statistics.median(ceiling_cpu)
    print(
        "| Scenario | Requests/s | Share of ceiling | Server CPU per request | "
        "Share of ceiling by CPU | p50 | p90 | p99 | Non-2xx/3xx |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| Ceiling: minimal Django view, fixed JSON | {statistics.median(ceilings):.0f} "
        f"(range {min(ceilings):.0f}–{max(ceilings):.0f}) | 100% | {base_cpu:.2f} ms | 100% "
        "| | | | |"
    )
    cpu_shares = {}
    for label, *_ in scenarios:
        r = median_run(label)
        share = statistics.median(shares[label])
        cpu = statistics.median(x["cpu_ms"] for x in runs[label])
        cpu_shares[label] = base_cpu / cpu
        print(
            f"| {label} | {r['rps']:.0f} | {share:.0%} | {cpu:.2f} ms | {base_cpu / cpu:.0%} | "
            f"{r['p50']} | {r['p90']} | {r['p99']} | "
            f"{sum(x['non_2xx_3xx'] for x in runs[label])} |"
        )
    print()
    print(f"Checks: {checks}")
    print()
    print("\n".join(f"- {line}" for line in [*machine.describe(), *server_lines()]))
    # The target is judged on CPU per request, which a busy shared machine does not distort;
    # requests per second are reported beside it.
    document_shares = [cpu_shares[label] for label, *_ in scenarios[:3]]
    met = min(document_shares) >= TARGET_SHARE and checks["304 status"] == 304
    print(
        f"\nTarget (entry documents ≥ {TARGET_SHARE:.0%} of the ceiling's throughput, judged by "
        f"server CPU per request; 304 answered): {'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
