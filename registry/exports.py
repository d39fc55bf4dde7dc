"""Whole registers as plain facts, read in bulk, for the downloads and the RDF dumps.

:func:`register_facts` reads a register in key order, a chunk of entries at a time, and
yields one :class:`~registry.documents.EntryFacts` per entry, so memory stays flat however
large the register. The facts are worked out by the same function as an entry's document
(:func:`registry.documents.entry_facts`), from rows read by ``registry.facts`` a chunk at a
time instead of an entry at a time, so an entry's page and the dump say the same thing.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from . import facts, rdf
from .documents import EntryFacts, EventSummary, Link, entry_facts, event_summaries
from .models import ChangeEvent, Entry
from .uris import entry_uri
from .validtime import iso, today

__all__ = [
    "CSV_HEADER",
    "EntryFacts",
    "all_events",
    "csv_row",
    "entries_facts",
    "register_facts",
]

CHUNK = 2000

# A cell a spreadsheet would run as a formula begins with one of these (OWASP, "CSV
# injection"): a stored name "=HYPERLINK(…)" must reach an analyst's sheet as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a CSV cell no spreadsheet executes: text that begins like a formula gets a
    leading apostrophe, which spreadsheets read as "this is text" (a number such as "-5" is
    left alone)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return f"'{value}"
    return value


class CSVWriter:
    """``csv.writer`` (CRLF line ends) for every CSV the service writes — documents,
    listings, register downloads, the checker's output — with each cell
    :func:`spreadsheet_safe`."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n", **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow(_safe_cells(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows(_safe_cells(row) for row in rows)


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def _safe_cells(row: Iterable[Any]) -> list[Any]:
    # spreadsheet_safe for each cell, called only for text that begins like a formula (a
    # checked file of 100,000 rows has a million cells, nearly all of them plain).
    return [
        spreadsheet_safe(cell) if isinstance(cell, str) and cell[:1] in _FORMULA_FIRST else cell
        for cell in row
    ]


CSV_HEADER = [
    "register",
    "key",
    "uri",
    "name",
    "name_cy",
    "status",
    "entity_type",
    "operative",
    "terminated",
    "parents",
    "governed_by",
    "replaces",
    "replaced_by",
    "identifiers",
    "date",
]


def csv_row(entry: EntryFacts) -> list[str]:
    """One CSV row (columns :data:`CSV_HEADER`); several values in a cell are separated by
    spaces, each written ``hierarchy:key`` or ``scheme:value`` where it needs a label."""
    return [
        entry.register,
        entry.key,
        entry_uri(entry.register, entry.key),
        entry.name or "",
        entry.name_cy or "",
        entry.status or "",
        entry.entity_type.key if entry.entity_type else "",
        iso(entry.operative) or "",
        iso(entry.terminated) or "",
        " ".join(f"{h}:{ref.key}" for h, ref in sorted(entry.parents.items())),
        " ".join(ref.key for ref in entry.governed_by),
        " ".join(ref.key for ref in entry.replaces),
        " ".join(ref.key for ref in entry.replaced_by),
        " ".join(f"{scheme}:{value}" for scheme, value in entry.identifiers),
        entry.date.isoformat(),
    ]


def _chunks(register: str) -> Iterator[list[int]]:
    ids = (
        Entry.objects.filter(register__slug=register)
        .order_by("key")
        .values_list("id", flat=True)
        .iterator(chunk_size=CHUNK)
    )
    chunk: list[int] = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def register_facts(register: str, date: dt.date | None = None) -> Iterator[EntryFacts]:
    """Every entry of ``register`` as at ``date`` (default today), in key order, read a
    chunk of entries at a time."""
    date = date or today()
    for chunk in _chunks(register):
        yield from entries_facts(chunk, date)


def entries_facts(chunk: list[int], date: dt.date) -> Iterator[EntryFacts]:
    """The entries with primary keys ``chunk`` as at ``date``, in that order, read in one
    batch (what :func:`register_facts` does a chunk at a time)."""
    if chunk:
        rows = facts.read(
            chunk, parts=frozenset({"relations", "governed_by", "identifiers", "names"})
        )
        events, links = facts.events_of(chunk)
        # Each entry's events, with every link of each (the other codes it replaced or was
        # replaced by are on links that may not name it).
        by_event: dict[int, list[facts.LinkRow]] = defaultdict(list)
        involved: dict[int, set[int]] = defaultdict(set)
        for link in links:
            by_event[link.event].append(link)
            for ref in (link.predecessor, link.successor):
                if ref is not None:
                    involved[ref.pk].add(link.event)
        for pk in chunk:
            entry = rows[pk]
            own = [link for event in involved[pk] for link in by_event[event]]
            yield entry_facts(entry, entry.as_at(date), events, own)


def _by_key(ref: facts.Ref) -> Link:
    return Link(ref.register, ref.key, ref.key)


def all_events() -> Iterator[EventSummary]:
    """Every change event with its predecessor and successor codes (named by their codes),
    in date order, read a chunk at a time."""
    pks = list(ChangeEvent.objects.order_by("date", "key").values_list("id", flat=True))
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        rows = facts.events(pks=chunk)
        summaries = event_summaries({pk: rows[pk] for pk in chunk}, facts.links(chunk), _by_key)
        yield from summaries.values()


def entry_ntriples(register: str, date: dt.date, batch: int = 500) -> Iterator[str]:
    """The N-Triples of every entry of ``register`` as at ``date``, a batch of entries at a
    time: the register's dump and the SPARQL store (``registry.sparql``) are made of these."""
    entries: list[EntryFacts] = []
    for entry in register_facts(register, date):
        entries.append(entry)
        if len(entries) == batch:
            yield rdf.ntriples(rdf.register_dump_triples(entries))
            entries = []
    yield rdf.ntriples(rdf.register_dump_triples(entries))


def event_ntriples(batch: int = 500) -> Iterator[str]:
    """The N-Triples of every change event, a batch at a time."""
    events: list[EventSummary] = []
    for event in all_events():
        events.append(event)
        if len(events) == batch:
            yield rdf.ntriples(t for e in events for t in rdf.event_triples(e))
            events = []
    yield rdf.ntriples(t for e in events for t in rdf.event_triples(e))
