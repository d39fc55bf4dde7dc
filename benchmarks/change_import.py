"""How long the preview and the apply of a 10,000-row ONS change file take.

The file is generated from the loaded registry in the CHD ChangeHistory layout: 5,000 new ward
codes (with their districts as PARENTCD) and 5,000 terminations of 2025 wards, the shape of a
May boundary-review release. It runs against a copy of the loaded SQLite database
(``var/registry.sqlite3``, made by ``bin/serve`` or ``manage.py load_reference_data``), or
against ``DATABASE_URL`` if set (inside a transaction rolled back at the end).

    .venv/bin/python benchmarks/change_import.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        source = ROOT / "var" / "registry.sqlite3"
        if not source.exists():
            sys.exit("Load the registry first: .venv/bin/python manage.py load_reference_data")
        copy = Path(tempfile.mkdtemp()) / "registry.sqlite3"
        shutil.copy(source, copy)
        os.environ["REGISTRY_SQLITE_PATH"] = str(copy)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from geography import change_import
    from registry.models import Entry

    half = args.rows // 2
    districts = list(
        Entry.objects.in_register("statistical-geography")
        .valid_on(__import__("datetime").date(2026, 6, 1))
        .filter(key__regex=r"^(E0[6-9]|W06)")
        .values_list("key", flat=True)
    )
    wards = list(
        Entry.objects.in_register("statistical-geography")
        .valid_on(__import__("datetime").date(2026, 6, 1))
        .filter(key__startswith="E05")
        .order_by("key")
        .values_list("key", flat=True)[:half]
    )
    lines = [
        "GEOGCD,GEOGNM,GEOGNMW,SI_ID,SI_TITLE,OPER_DATE,TERM_DATE,PARENTCD,ENTITYCD,OWNER,STATUS"
    ]
    for i in range(args.rows - len(wards)):
        lines.append(
            f"E05{900000 + i:06d},New Ward {i},,2026/{i % 97},The Boundary Review Order 2026,07/05/2027,,{districts[i % len(districts)]},E05,LGBCE,live"
        )
    for code in wards:
        lines.append(f"{code},Old Ward {code},,,,01/05/2016,06/05/2027,,E05,LGBCE,terminated")
    text = "\n".join(lines) + "\n"
    user = get_user_model().objects.get_or_create(username="benchmark")[0]

    print(f"database: {connection.vendor}; rows: {len(lines) - 1}")
    with transaction.atomic():
        started = time.perf_counter()
        plan = change_import.plan(text, "ChangeHistory.csv")
        preview = time.perf_counter() - started
        print(
            f"preview: {preview:.1f} s ({len(plan.created)} created, {len(plan.changed)} changed, {len(plan.terminated)} terminated)"
        )
        started = time.perf_counter()
        change_import.apply(text, "ChangeHistory.csv", user, "benchmark release")
        applied = time.perf_counter() - started
        print(f"apply (preview included, as the apply re-reads the file): {applied:.1f} s")
        transaction.set_rollback(True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
