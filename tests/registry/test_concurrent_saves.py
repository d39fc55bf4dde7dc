"""Two curators saving one entry at the same moment, in two processes, on a copy of the loaded
SQLite registry: every save either lands or is refused as stale, never "database is locked",
and no saved edit is lost.

On SQLite a deferred transaction that read the entry and then wrote after the other process
had committed failed at once with "database is locked" (a 500 in the admin and the write API).
Write transactions now begin IMMEDIATE (config/settings.py), so the second waits its turn.
On PostgreSQL the entry's row lock does the same; ``benchmarks/faults.py`` runs this race
against both databases over HTTP.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from django.db import connection

from tests.databases import SQLiteTemplate

# One curator: ``saves`` edits, each adding its own name, retrying from the new version when
# the other got in first. Prints what happened as JSON.
CURATOR = """
import json, os, sys, time
import django
django.setup()
from registry.models import Entry
from registry.services import Actor, ConcurrentEdit, current_snapshot, save_entry
who, saves, start = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))
saved, stale, errors = [], 0, []
for n in range(saves):
    while True:
        entry = Entry.objects.select_related("register").get(key="E06000001")
        snapshot = current_snapshot(entry)
        snapshot["names"].append(["en", "alternative", f"{who} edit {n}", None, None])
        try:
            save_entry(entry.register, entry.key, snapshot, Actor(reason=f"{who} {n}"),
                       expected_version=entry.version)
        except ConcurrentEdit:
            stale += 1
            continue
        except Exception as error:  # what the test is about: nothing else may happen
            errors.append(repr(error))
            break
        saved.append(f"{who} edit {n}")
        break
print(json.dumps({"saved": saved, "stale": stale, "errors": errors}))
"""


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite's locking; PostgreSQL: benchmarks/faults.py"
)
@pytest.mark.django_db
def test_two_curators_saving_at_once_lose_nothing_and_never_see_database_is_locked(tmp_path):
    template = SQLiteTemplate()
    shutil.copy(template.file("default"), tmp_path / "registry.sqlite3")
    import sqlite3

    # A served database is in WAL mode already (the setting persists); the template, a copy of
    # an in-memory one, is not, and two processes switching it at once would race on that.
    sqlite3.connect(tmp_path / "registry.sqlite3").execute("PRAGMA journal_mode=WAL").close()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REGISTRY_SQLITE_PATH": str(tmp_path / "registry.sqlite3"),
    }
    env.pop("DATABASE_URL", None)
    start = time.time() + 3  # both processes set up first, then race
    # The interpreter running the tests, on the fixed script above: nothing untrusted.
    curators = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", CURATOR, who, "20", str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for who in ("A", "B")
    ]
    results = []
    for curator in curators:
        out, err = curator.communicate(timeout=300)
        assert curator.returncode == 0, err
        results.append(json.loads(out))
    assert [r["errors"] for r in results] == [[], []]
    saved = [name for r in results for name in r["saved"]]
    assert len(saved) == 40

    db = sqlite3.connect(tmp_path / "registry.sqlite3")
    try:
        (entry_id, version) = db.execute(
            "SELECT id, version FROM registry_entry WHERE key = 'E06000001'"
        ).fetchone()
        names = {row[0] for row in db.execute(
            "SELECT text FROM registry_name WHERE entry_id = ?", (entry_id,)
        )}  # fmt: skip
        versions = db.execute(
            "SELECT COUNT(*) FROM registry_version WHERE entry_id = ? AND reason LIKE '_ %'",
            (entry_id,),
        ).fetchone()[0]
    finally:
        db.close()
    assert set(saved) <= names  # every saved edit is still there
    assert versions == 40  # one version for each save, none for a refused one
