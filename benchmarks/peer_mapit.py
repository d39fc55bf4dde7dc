"""MapIt (mySociety's, https://github.com/mysociety/mapit) beside the registry in
``benchmarks/read_path.py``: the areas it is loaded with, and how its processes are found and
their CPU read. MapIt itself is set up outside the repository, as benchmarks/README.md ("Beside
MapIt") says; nothing here builds, starts or writes into it.

- :func:`export` writes every local authority district, ward and Westminster constituency
  live on a date, from the loaded registry (GSS code, English name, boundary), as one GeoJSON
  file per MapIt UK area type (``DIS.geojson``, ``UTW.geojson``, ...), which MapIt's own
  ``mapit_import`` reads: ``read_path.py --mapit-export DIR``.
- :func:`listener` finds the process listening on a loopback port (MapIt's gunicorn master,
  its PostgreSQL postmaster) from ``/proc/net/tcp`` and the processes' open sockets.
- MapIt's PostgreSQL is measured by ``documents.server_cpu_seconds(…, reaped=True)``, a
  process tree's CPU including the children it has already reaped: PostgreSQL forks a backend for every connection, and MapIt (Django with
  ``CONN_MAX_AGE`` 0, its setting) connects for every request, so most of its backends' CPU
  is spent by processes that have exited before the measurement ends.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

# MapIt UK's area types (its fixture mapit_gb/fixtures/uk.json), by the GSS prefix of a
# district, or of a ward's district. The Isles of Scilly are a type of their own there.
DISTRICT_TYPES = {"E06": "UTA", "E07": "DIS", "E08": "MTD", "E09": "LBO", "W06": "UTA", "S12": "UTA", "N09": "LGD"}  # fmt: skip
WARD_TYPES = {"E06": "UTW", "E07": "DIW", "E08": "MTW", "E09": "LBW", "W06": "UTE", "S12": "UTW", "N09": "LGW"}  # fmt: skip
SCILLY = "E06000053"
LAYERS = ("lad", "ward", "westminster-constituency")


def mapit_type(layer: str, code: str, district: str | None) -> str | None:
    """The MapIt UK area type of an area of ``layer`` (``district``: a ward's district)."""
    if layer == "westminster-constituency":
        return "WMC"
    if layer == "lad":
        return "COI" if code == SCILLY else DISTRICT_TYPES.get(code[:3])
    if district is None:
        return None
    return "COP" if district == SCILLY else WARD_TYPES.get(district[:3])


def export(db: sqlite3.Connection, directory: Path, on: dt.date) -> dict[str, int]:
    """Write ``directory/TYPE.geojson`` for every MapIt type, from the registry's SQLite
    database ``db``, of the areas live ``on``; return the count of each type."""
    import shapely  # the registry's own dependency, not MapIt's

    day = on.isoformat()
    live = "(valid_from IS NULL OR valid_from <= :day) AND (valid_to IS NULL OR valid_to >= :day)"
    query = f"""
        SELECT b.layer, e.key,
               (SELECT n.text FROM registry_name n WHERE n.entry_id = e.id
                  AND n.language = 'en' AND n.kind = 'official' AND {live.replace("valid", "n.valid")}
                ORDER BY n.valid_from DESC LIMIT 1),
               (SELECT o.key FROM registry_relation r JOIN registry_entry o ON o.id = r.object_id
                WHERE r.subject_id = e.id AND r.kind = 'parent' AND r.hierarchy = 'district'
                  AND {live.replace("valid", "r.valid")}
                ORDER BY r.valid_from DESC LIMIT 1),
               b.geometry
        FROM geography_boundary b JOIN registry_entry e ON e.id = b.entry_id
        WHERE b.layer IN ({", ".join(f"'{layer}'" for layer in LAYERS)})
          AND {live.replace("valid", "b.valid")}
        ORDER BY e.key
    """  # noqa: S608 (constants only; the date is a parameter)
    features: dict[str, list[str]] = {}
    skipped = 0
    for layer, code, name, district, wkb in db.execute(query, {"day": day}):
        kind = mapit_type(layer, code, district)
        if kind is None or not name:
            skipped += 1
            continue
        properties = json.dumps({"code": code, "name": name}, ensure_ascii=False)
        geometry = shapely.to_geojson(shapely.from_wkb(bytes(wkb)))
        features.setdefault(kind, []).append(
            f'{{"type": "Feature", "properties": {properties}, "geometry": {geometry}}}'
        )
    directory.mkdir(parents=True, exist_ok=True)
    for kind, rows in features.items():
        (directory / f"{kind}.geojson").write_text(
            '{"type": "FeatureCollection", "features": [\n' + ",\n".join(rows) + "\n]}\n",
            encoding="utf-8",
        )
    counts = {kind: len(rows) for kind, rows in sorted(features.items())}
    if skipped:
        counts["skipped (no type or name)"] = skipped
    return counts


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(inode)
    return inodes


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def listener(port: int) -> int:
    """The process listening on ``port``: of the processes holding the listening socket (a
    gunicorn master and its workers all do), the one whose parent does not."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        raise SystemExit(f"nothing listens on port {port}")
    holders = set()
    for fds in Path("/proc").glob("[0-9]*/fd"):
        try:
            for fd in os.listdir(fds):
                if os.readlink(fds / fd) in wanted:
                    holders.add(int(fds.parent.name))
                    break
        except OSError:
            continue
    roots = [pid for pid in holders if _parent(pid) not in holders]
    if len(roots) != 1:
        raise SystemExit(f"port {port}: cannot tell its server process among {sorted(holders)}")
    return roots[0]
