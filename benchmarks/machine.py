"""The machine a benchmark ran on, as lines for benchmarks/README.md: shared by every script
in this folder (each is run as ``python benchmarks/NAME.py``, so this folder is on the path).
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _first(path: str, prefix: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(prefix)), None)


def describe() -> list[str]:
    """Date, code, CPU, memory, OS, Python and SQLite, one ``Label: value`` line each."""
    memory = _first("/proc/meminfo", "MemTotal")
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return [
        f"Date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"Code: {commit or 'unknown'}{' (plus uncommitted changes)' if dirty else ''}",
        f"CPU: {_first('/proc/cpuinfo', 'model name') or 'unknown'}, {os.cpu_count()} cores",
        f"Memory: {int(memory.split()[0]) / 1024 / 1024:.0f} GiB" if memory else "Memory: unknown",
        f"OS: {platform.system()} {platform.release()} {platform.machine()}",
        f"Python: {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
    ]
