"""The SPARQL store: an Oxigraph database (``pyoxigraph``) holding exactly the triples the
register dumps publish, built by the loader and kept up to date by every write.

Layout, under ``REGISTRY_SPARQL_STORE`` (default ``var/oxigraph/``):

* ``store/``: the Oxigraph (RocksDB) database;
* ``built.json``: when it was built, for which URI base and date, how many triples, how long;
* ``lock``: an ``flock`` file. Queries (``registry.sparql_worker``, one short-lived process
  each) open the store read-only under a shared lock; a write (:func:`entries_changed`) or the
  swap of a rebuilt store takes it exclusively. Oxigraph calls a read-only open concurrent with
  a writer "undefined behaviour", and this is what makes them never concurrent.

What the store holds is what ``/downloads/{register}.nt.gz`` holds: every entry as at the date
of the build (:func:`registry.exports.entry_ntriples`) and every change event
(:func:`registry.exports.event_ntriples`), the same functions, so there is one graph-building
code path (``registry.rdf.entry_triples``). Valid time beyond an entry's own dates
(``bc:operativedate``, ``bc:terminateddate``) is not in it, as it is not in the dumps: the
parents, names and status in the store are those of the build date.

A build writes N-Triples to a file and bulk-loads it into a new directory, then swaps it in
(:func:`build`). A curator's edit rewrites the triples of the entries it touched, and of
their neighbours, after the transaction commits (:func:`entries_changed`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.conf import settings

from . import exports, facts, rdf
from .documents import Link, event_summaries
from .models import Entry
from .statistics import registers
from .uris import entry_uri, event_uri, parse
from .validtime import today

log = logging.getLogger(__name__)

# More entries than this in one write (an import) mark the store stale instead of rewriting
# entry by entry: the loader rebuilds it whole at its end, which is faster.
MAX_INCREMENTAL = 2000


def directory() -> Path:
    return Path(settings.REGISTRY_SPARQL_STORE)


def store_path() -> Path:
    return directory() / "store"


def exists() -> bool:
    return (directory() / "built.json").is_file() and store_path().is_dir()


def info() -> dict:
    """What ``built.json`` says about the store (``{}`` if there is none)."""
    try:
        return json.loads((directory() / "built.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@contextlib.contextmanager
def locked(exclusive: bool, path: Path | None = None) -> Iterator[None]:
    """Hold the store's lock, shared (queries) or exclusive (writes)."""
    path = path or directory()
    path.mkdir(parents=True, exist_ok=True)
    handle = os.open(path / "lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(handle)


def ntriples(date: dt.date) -> Iterator[str]:
    """Every triple the dumps publish, as N-Triples chunks: each register's entries, then the
    change events."""
    for register in sorted(registers()):
        yield from exports.entry_ntriples(register, date)
    yield from exports.event_ntriples()


def build(progress: Callable[[str], None] = lambda message: None) -> dict:
    """Build the store from the database, as at today, and swap it in for the old one.
    Returns what ``built.json`` records."""
    import pyoxigraph

    started = time.monotonic()
    date = today()
    root = directory()
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=root))
    try:
        dump = building / "registry.nt"
        count = 0
        with dump.open("w", encoding="utf-8") as out:
            for chunk in ntriples(date):
                out.write(chunk)
                count += chunk.count("\n")
                if count and count % 500_000 < chunk.count("\n"):
                    progress(f"SPARQL store: {count:,} triples written")
        written = time.monotonic() - started
        progress(f"SPARQL store: {count:,} triples written in {written:.1f} s; bulk loading")
        store = pyoxigraph.Store(str(building / "store"))
        store.bulk_load(path=str(dump), format=pyoxigraph.RdfFormat.N_TRIPLES)
        store.optimize()
        del store  # closes the database
        dump.unlink()
        seconds = round(time.monotonic() - started, 1)
        built = {
            "date": date.isoformat(),
            "base": settings.REGISTRY_URI_BASE,
            "triples": count,
            "seconds": seconds,
            "bytes": sum(f.stat().st_size for f in (building / "store").rglob("*") if f.is_file()),
        }
        with locked(exclusive=True):
            old = root / "store.old"
            if old.exists():
                shutil.rmtree(old)
            if store_path().exists():
                store_path().rename(old)
            (building / "store").rename(store_path())
            (root / "built.json").write_text(json.dumps(built, indent=1), encoding="utf-8")
            (root / "stale").unlink(missing_ok=True)
            if old.exists():
                shutil.rmtree(old)
        progress(
            f"SPARQL store built in {seconds:.1f} s: {count:,} triples, "
            f"{built['bytes'] / 1e6:,.0f} MB in {store_path()}"
        )
        return built
    finally:
        shutil.rmtree(building, ignore_errors=True)


def stale() -> bool:
    """True if a write was too large to apply entry by entry (an import), or the store was
    built for another URI base: it needs :func:`build`."""
    found = info()
    return (directory() / "stale").exists() or found.get("base") != settings.REGISTRY_URI_BASE


def _neighbours(store, uris: Iterable[str]) -> set[str]:
    """Entries the store's triples about ``uris`` link to (whose own triples may name them:
    replaces, is replaced by, governs, governed by) and the events they took part in."""
    import pyoxigraph

    linked = {
        str(rdf.REG("changeEvent")),
        str(rdf.DCTERMS.replaces),
        str(rdf.DCTERMS.isReplacedBy),
        str(rdf.REG("governs")),
        str(rdf.REG("governedBy")),
    }
    found = set()
    for uri in uris:
        for quad in store.quads_for_pattern(pyoxigraph.NamedNode(uri), None, None):
            if quad.predicate.value in linked and isinstance(quad.object, pyoxigraph.NamedNode):
                found.add(quad.object.value)
    return found


def _triples_of(entry_ids: list[int], event_keys: set[str]) -> tuple[str, set[str]]:
    """N-Triples of the entries (as at today) and of the events they and ``event_keys``
    name; and the URIs of every subject written."""
    date = today()
    out = []
    subjects = set()
    for chunk_start in range(0, len(entry_ids), exports.CHUNK):
        chunk = entry_ids[chunk_start : chunk_start + exports.CHUNK]
        entries = list(exports.entries_facts(chunk, date))
        out.append(rdf.ntriples(rdf.register_dump_triples(entries)))
        subjects.update(entry_uri(e.register, e.key) for e in entries)
        event_keys.update(key for e in entries for key in e.events)
    from .models import ChangeEvent

    pks = list(ChangeEvent.objects.filter(key__in=event_keys).values_list("id", flat=True))
    rows = facts.events(pks=pks)
    summaries = event_summaries(
        rows, facts.links(list(rows)), lambda ref: Link(ref.register, ref.key, ref.key)
    )
    out.append(rdf.ntriples(t for e in summaries.values() for t in rdf.event_triples(e)))
    subjects.update(event_uri(key) for key in event_keys)
    return "".join(out), subjects


def entries_changed(entry_ids: Iterable[int]) -> None:
    """Rewrite the store's triples about the entries ``entry_ids`` (just written and
    committed), their neighbours and their change events. Called by ``registry.services``
    after each write commits; a no-op without a store or with updates turned off
    (``REGISTRY_SPARQL_UPDATES``); an import too large for this marks the store stale."""
    entry_ids = list(dict.fromkeys(entry_ids))
    if not entry_ids or not settings.REGISTRY_SPARQL_UPDATES or not exists():
        return
    if len(entry_ids) > MAX_INCREMENTAL:
        (directory() / "stale").touch()
        return
    import pyoxigraph

    started = time.monotonic()
    with locked(exclusive=True):
        store = pyoxigraph.Store(str(store_path()))
        try:
            own = {entry_uri(r, k) for r, k in _keys(entry_ids)}
            before = _neighbours(store, own)
            events = {p.key for p in map(parse, before) if p and p.register == "change-event"}
            wanted = set(entry_ids) | _ids(before)
            nt, subjects = _triples_of(sorted(wanted), events)
            # The new triples name neighbours too (a new successor): rewrite theirs as well.
            after = _ids(_neighbours_in(nt)) - wanted
            if after:
                more, more_subjects = _triples_of(sorted(after), set())
                nt += more
                subjects |= more_subjects
            for uri in subjects:
                node = pyoxigraph.NamedNode(uri)
                for quad in list(store.quads_for_pattern(node, None, None)):
                    store.remove(quad)
            store.load(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
            store.flush()
        finally:
            del store
    log.info(
        "SPARQL store: %d subjects rewritten in %.3f s", len(subjects), time.monotonic() - started
    )


def _keys(entry_ids: Iterable[int]) -> list[tuple[str, str]]:
    return list(Entry.objects.filter(pk__in=list(entry_ids)).values_list("register__slug", "key"))


def _ids(uris: Iterable[str]) -> set[int]:
    """Primary keys of the entries named by ``uris`` (change events and others left out)."""
    wanted: dict[str, set[str]] = {}
    for uri in uris:
        parsed = parse(uri)
        if parsed and parsed.key and parsed.register != "change-event":
            wanted.setdefault(parsed.register, set()).add(parsed.key)
    found: set[int] = set()
    for register, keys in wanted.items():
        found.update(
            Entry.objects.filter(register__slug=register, key__in=keys).values_list("id", flat=True)
        )
    return found


def _neighbours_in(nt: str) -> set[str]:
    import pyoxigraph

    linked = {str(rdf.DCTERMS.replaces), str(rdf.DCTERMS.isReplacedBy)}
    linked |= {str(rdf.REG("governs")), str(rdf.REG("governedBy"))}
    return {
        triple.object.value
        for triple in pyoxigraph.parse(nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
        if triple.predicate.value in linked and isinstance(triple.object, pyoxigraph.NamedNode)
    }
