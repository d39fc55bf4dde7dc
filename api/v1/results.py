"""Checked files kept for the code checker's web form, so that its page can show what the
check found and offer the file as a download link.

A file checked through the form is written to ``REGISTRY_CHECKER_RESULTS_DIR`` (default
``var/checker-results``) under a random token, which only the page that showed its summary
knows; it is deleted after ``REGISTRY_CHECKER_RESULTS_SECONDS`` (an hour by default), pruned
whenever another file is checked. When several machines serve the site, that folder must be
one they share (as ``REGISTRY_UPLOAD_DIR`` must for the change import). The API's own answer
(``POST /api/v1/check/``) is streamed and kept nowhere.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

TOKEN = re.compile(r"^[0-9a-f]{32}$")


def results_dir() -> Path:
    path = Path(
        getattr(
            settings,
            "REGISTRY_CHECKER_RESULTS_DIR",
            settings.BASE_DIR / "var" / "checker-results",
        )
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def max_age() -> int:
    return int(getattr(settings, "REGISTRY_CHECKER_RESULTS_SECONDS", 3600))


def save(chunks: Iterable[bytes]) -> str:
    """Write a checked file (its encoded chunks) and return its token. Written to a temporary
    name and renamed, so a download never sees half a file."""
    prune()
    token = secrets.token_hex(16)
    folder = results_dir()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temporary, folder / f"{token}.csv")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return token


def path_for(token: str, now: float | None = None) -> Path | None:
    """The kept file for ``token``, or None if there is none (never made, or expired)."""
    if not TOKEN.match(token):
        return None
    path = results_dir() / f"{token}.csv"
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        return None
    return path if age <= max_age() else None


def prune(now: float | None = None) -> list[str]:
    """Delete kept files (and abandoned partial ones) older than :func:`max_age`; return
    their names."""
    now = time.time() if now is None else now
    removed = []
    for path in results_dir().glob("*"):
        if path.suffix not in (".csv", ".part"):
            continue
        try:
            if now - path.stat().st_mtime > max_age():
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:  # pruned by another request meanwhile
            continue
    return removed
