"""Benchmark the change feed at the full registry's size, on SQLite.

    .venv/bin/python benchmarks/feed.py [--before DIR] [--rounds N]

1. **The chain's cost in the first load**: ``load_reference_data`` into a freshly migrated,
   empty database, with this tree's code and, given ``--before DIR`` (a checkout of the code
   before the feed, e.g. ``git archive main | tar -x -C DIR``), with that code, alternating
   ``--rounds`` times so both see the same machine.
2. **Verifying the chain**: ``manage.py verify_feed`` on the loaded database.
3. **Serving and replaying it**: the loaded database is served by gunicorn on a free port;
   ``manage.py replay_feed http://…/feed`` replays the whole feed, page by page, into a
   second, freshly migrated empty database, which is then verified, and both databases'
   ``registry.mirror.fingerprint()`` are compared (they must be equal).

Wall time is that of each ``manage.py`` process, start-up included; the gunicorn server's CPU
time while it served the replay is read from ``/proc``. Prints a markdown table and the
machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
FINGERPRINT = "from registry import mirror; print(mirror.fingerprint())"


def environment(directory: Path, name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        REGISTRY_SQLITE_PATH=str(directory / f"{name}.sqlite3"),
        REGISTRY_SPARQL_STORE=str(directory / f"{name}-oxigraph"),
        REGISTRY_CACHE_URL=f"file://{directory / f'{name}-cache'}",
    )
    return env


def manage(tree: Path, env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 (our interpreter and manage.py)
        [PYTHON, str(tree / "manage.py"), *args],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def first_load(tree: Path, directory: Path, name: str) -> tuple[float, str]:
    env = environment(directory, name)
    manage(tree, env, "migrate", "-v0")
    return manage(tree, env, "load_reference_data")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a checkout of the code before the feed")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="feed-bench-") as scratch:
        directory = Path(scratch)
        for round_ in range(1, args.rounds + 1):
            if args.before:
                seconds, said = first_load(args.before, directory, f"before{round_}")
                rows.append((f"first load, before the feed (round {round_})", seconds, said))
                print(rows[-1], flush=True)
            seconds, said = first_load(ROOT, directory, f"after{round_}")
            rows.append((f"first load, with the feed (round {round_})", seconds, said))
            print(rows[-1], flush=True)
        source = environment(directory, f"after{args.rounds}")
        seconds, said = manage(ROOT, source, "verify_feed")
        rows.append(("verify_feed (source)", seconds, said))
        print(rows[-1], flush=True)

        port = free_port()
        server = subprocess.Popen(  # noqa: S603 (our interpreter's gunicorn)
            [str(Path(PYTHON).parent / "gunicorn"), "config.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2",
             "--timeout", "300"],
            env={**source, "REGISTRY_URI_BASE": f"http://127.0.0.1:{port}"},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(600):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/feed/head", timeout=5)  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.5)
            children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
            worker = int(children[0])
            cpu_before = cpu_seconds(worker)
            mirror = environment(directory, "mirror")
            manage(ROOT, mirror, "migrate", "-v0")
            seconds, said = manage(ROOT, mirror, "replay_feed", f"http://127.0.0.1:{port}/feed")
            served = cpu_seconds(worker) - cpu_before
            rows.append(("replay_feed over HTTP into an empty database", seconds, said))
            rows.append(("  server CPU while serving the feed (s)", served, ""))
            print(rows[-2:], flush=True)
        finally:
            server.terminate()
            server.wait(30)
        seconds, said = manage(ROOT, mirror, "verify_feed")
        rows.append(("verify_feed (mirror)", seconds, said))
        _, theirs = manage(ROOT, source, "shell", "-c", FINGERPRINT)
        _, ours = manage(ROOT, mirror, "shell", "-c", FINGERPRINT)
        rows.append(("fingerprints equal" if theirs == ours else "FINGERPRINTS DIFFER", 0.0,
                     f"{theirs} / {ours}"))  # fmt: skip
    print("\n| Step | Wall time (s) | Says |\n|---|---:|---|")
    for step, seconds, said in rows:
        print(f"| {step} | {seconds:.1f} | {said} |")
    print()
    print("\n".join(f"- {line}" for line in machine.describe()))
    print(f"- Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if theirs != ours:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
