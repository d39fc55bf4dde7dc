"""The code checker: a CSV file in, the same file out with what the registry says added.

The client names the column holding codes (or names, or identifiers) and, optionally, a column
of dates to check each row as at. Every row comes back, in order, with seven columns appended
(:data:`ADDED_COLUMNS`, all prefixed ``registry_`` and, should the file already have a column
of that name, numbered, so that they never collide with the file's own): the matched code, its
name, entity type and status as at the row's date, the live code(s) it leads to, its URI, and
a note for anything a person should look at (terminated, not yet operative, unknown,
malformed, ambiguous, a name that other areas bore at other dates, empty, a bad date).

The file is read and written a chunk of rows at a time, each chunk resolved with a handful of
bulk queries (``api.v1.bulk``), so memory stays flat whatever the file's length: only one chunk
and a bounded cache of recent answers (files repeat their codes) are held at once. While it
writes, the checker tallies a :class:`Summary` (rows, matched, terminated, ambiguous, unknown,
the first rows) for the web form to show.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from geography.registers import AREAS
from registry import exports

from .bulk import Item, describe_all, resolve

ADDED_COLUMNS = [
    "registry_code",
    "registry_name",
    "registry_entity_type",
    "registry_status",
    "registry_current_codes",
    "registry_uri",
    "registry_note",
]
CHUNK_ROWS = 1000
# What the summary keeps: the first rows as they are written, and the first distinct values of
# each kind a person should look at.
SUMMARY_ROWS = 20
SUMMARY_EXAMPLES = 20
_CACHE_SIZE = 5_000
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class CheckerError(Exception):
    """A problem with the request as a whole (no such column, an empty file), reported before
    any output is sent. ``parameter`` names what was wrong."""

    def __init__(self, parameter: str, reason: str):
        super().__init__(reason)
        self.parameter = parameter
        self.reason = reason


@dataclass
class Options:
    column: str
    date: dt.date
    date_column: str | None = None
    register: str = AREAS
    entity_types: list[str] | None = None


def open_text(binary: IO[bytes]) -> IO[str]:
    """Text from an uploaded file: UTF-8 (with or without a byte-order mark) unless the start
    of the file is not UTF-8, in which case Windows-1252, which is what spreadsheets save as
    "CSV" on Windows. Undecodable bytes are replaced, never fatal."""
    head = binary.read(65536)
    binary.seek(0)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "cp1252"
    return io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")


def added_columns(header: list[str]) -> list[str]:
    """The names of the columns the checker adds to a file with ``header``: ``registry_code``
    and the rest, or, if the file has a column of one of those names already (a file checked
    before, say), all of them numbered alike (``registry_code_2``…), so that none is the same
    as one of the file's, whatever the case or spaces."""
    taken = {name.strip().casefold() for name in header}
    suffix, number = "", 1
    while any(f"{name}{suffix}" in taken for name in ADDED_COLUMNS):
        number += 1
        suffix = f"_{number}"
    return [f"{name}{suffix}" for name in ADDED_COLUMNS]


def _dialect(first_line: str) -> str:
    for delimiter in (",", "\t", ";"):
        if delimiter in first_line:
            return delimiter
    return ","


def _find_column(header: list[str], wanted: str, parameter: str) -> int:
    wanted_clean = wanted.strip()
    for index, name in enumerate(header):
        if name == wanted_clean:
            return index
    for index, name in enumerate(header):
        if name.strip().casefold() == wanted_clean.casefold():
            return index
    if wanted_clean.isdigit() and 1 <= int(wanted_clean) <= len(header):
        return int(wanted_clean) - 1
    shown = ", ".join(repr(name) for name in header[:20])
    raise CheckerError(
        parameter,
        f"the file has no column {wanted_clean[:60]!r}; its columns are {shown} "
        "(or give a column number, from 1).",
    )


def _row_date(value: str) -> dt.date | None:
    value = value.strip()
    try:
        if match := _UK_DATE.match(value):
            day, month, year = (int(part) for part in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None


def note_for(result: dict[str, Any]) -> str:
    """The note for one row: empty for a live match that no other area's name could be meant
    by, otherwise what to look at."""
    if result["error"]:
        return f"{result['error']['code']}: {result['error']['detail']}"
    match = result["match"]
    notes = []
    if result["status"] == "terminated":
        current = ", ".join(f"{c['key']} {c['name']}" for c in result["current"])
        leads = f"now {current}" if current else "no current code"
        notes.append(f"terminated on {match['terminated']}; {leads}")
    elif result["status"] is None:
        notes.append(f"not yet operative on {result['date']} (operative from {match['operative']})")
    if result["also_named"]:
        notes.append(also_named_note(result))
    return "; ".join(notes)


def also_named_note(result: dict[str, Any]) -> str:
    """A name matched on the date that other areas bore at other dates: which, and when, so
    that the date's choice is never silent."""
    others = ", ".join(
        f"{other['key']} {other['name']} ({_span(other['named_from'], other['named_to'])})"
        for other in result["also_named"]
    )
    return (
        f"ambiguous name: {result['input'].strip()!r} on {result['date']} is "
        f"{result['match']['key']}, but other areas bore it at other dates: {others}; "
        "check the date if one of those was meant"
    )


def _span(start: str | None, end: str | None) -> str:
    if end:
        return f"{start or '…'} to {end}"
    return f"from {start or '…'}"


# What a row's answer is, for the summary.
MATCHED, TERMINATED, NOT_YET, AMBIGUOUS, UNKNOWN, PROBLEM = (
    "matched",
    "terminated",
    "not-yet-operative",
    "ambiguous",
    "unknown",
    "problem",
)


def outcome(result: dict[str, Any]) -> str:
    """What a row's answer comes to: a live match, a terminated one, one not yet operative,
    an ambiguous value (several areas on the date, or a name matched on the date that others
    bore at other dates), an unknown one, or another problem (empty, malformed)."""
    error = result["error"]
    if error:
        return {"ambiguous": AMBIGUOUS, "unknown": UNKNOWN}.get(error["code"], PROBLEM)
    if result["also_named"]:
        return AMBIGUOUS
    if result["status"] == "terminated":
        return TERMINATED
    if result["status"] is None:
        return NOT_YET
    return MATCHED


@dataclass
class Summary:
    """What a check came to, tallied as the file is written: the number of rows of each
    outcome, how many were matched to an entry (ambiguous names matched on the date
    included), the first rows as written, the terminated codes met with the codes they lead
    to (name, current codes, URI), and the first ambiguous and unknown values with their
    notes."""

    header: list[str] = field(default_factory=list)
    rows: int = 0
    matched: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    first_rows: list[list[str]] = field(default_factory=list)
    terminated: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    stopped: str = ""  # why the file stopped being CSV, if it did

    def count(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    def add(self, row: list[str], added: list[str], kind: str, value: str) -> None:
        """Tally one row as written: the file's cells, the added ones, its outcome and the
        value that was looked up."""
        self.rows += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        code, name, _, status, current, uri, note = added
        if code:
            self.matched += 1
        if len(self.first_rows) < SUMMARY_ROWS:
            self.first_rows.append([*row, *added])
        if status == "terminated" and len(self.terminated) < SUMMARY_EXAMPLES:
            self.terminated.setdefault(code, (name, current, uri))
        examples = {AMBIGUOUS: self.ambiguous, UNKNOWN: self.unknown}.get(kind)
        if examples is not None and len(examples) < SUMMARY_EXAMPLES:
            examples.setdefault(value.strip(), note)


def added_values(result: dict[str, Any]) -> list[str]:
    """The cells added to a row for the registry's answer ``result`` (one of
    ``bulk.describe_all``'s), in the order of :data:`ADDED_COLUMNS`."""
    match = result["match"] or {}
    entity_type = match.get("entity_type") or {}
    return [
        match.get("key", ""),
        match.get("name", ""),
        entity_type.get("key", ""),
        result["status"] or "",
        " ".join(current["key"] for current in result["current"]),
        match.get("uri", ""),
        note_for(result),
    ]


class Checker:
    """Reads the header at once (so a bad column is an error before anything is sent), then
    yields the checked file as encoded chunks."""

    def __init__(self, text: IO[str], options: Options):
        self.options = options
        self.text = text
        first = text.readline()
        if not first.strip():
            raise CheckerError("file", "the file is empty: it needs a header row naming columns.")
        self.delimiter = _dialect(first)
        self.reader = csv.reader(_chain(first, text), delimiter=self.delimiter)
        try:
            self.header = next(self.reader)
        except csv.Error as error:
            raise CheckerError("file", f"the header row is not CSV ({error}).") from None
        self.column = _find_column(self.header, options.column, "column")
        self.date_column = (
            _find_column(self.header, options.date_column, "date_column")
            if options.date_column
            else None
        )
        self.added_columns = added_columns(self.header)
        self.cache: OrderedDict[tuple[str, dt.date], tuple[list[str], str]] = OrderedDict()
        self.summary = Summary(header=[*self.header, *self.added_columns])

    def __iter__(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = exports.CSVWriter(buffer, delimiter=self.delimiter)
        writer.writerow(self.summary.header)
        yield buffer.getvalue().encode("utf-8")
        chunk: list[list[str]] = []
        try:
            for row in self.reader:
                chunk.append(row)
                if len(chunk) >= CHUNK_ROWS:
                    yield self._check(chunk)
                    chunk = []
        except csv.Error as error:
            # The answer has begun, so it cannot become a 400: the rows read so far are
            # checked, and a last row says where and why the file stopped being CSV.
            if chunk:
                yield self._check(chunk)
                chunk = []
            buffer.seek(0)
            buffer.truncate()
            note = f"error: the file stops being CSV at line {self.reader.line_num} ({error})"
            self.summary.stopped = note
            writer.writerow([""] * len(self.header) + [""] * (len(ADDED_COLUMNS) - 1) + [note])
            yield buffer.getvalue().encode("utf-8")
        if chunk:
            yield self._check(chunk)

    def _check(self, rows: list[list[str]]) -> bytes:
        keyed: list[tuple[str, dt.date] | str] = []
        todo: dict[tuple[str, dt.date], Item] = {}
        for row in rows:
            value = row[self.column] if self.column < len(row) else ""
            day = self.options.date
            if self.date_column is not None:
                raw = row[self.date_column] if self.date_column < len(row) else ""
                parsed = _row_date(raw) if raw.strip() else self.options.date
                if parsed is None:
                    keyed.append(
                        f"bad-date: {raw.strip()[:40]!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)"
                    )
                    continue
                day = parsed
            key = (value, day)
            keyed.append(key)
            if key not in self.cache and key not in todo:
                todo[key] = Item(value=value, date=day)
        if todo:
            results = describe_all(
                resolve(
                    list(todo.values()),
                    self.options.date,
                    name_register=self.options.register,
                    entity_types=self.options.entity_types,
                )
            )
            for key, result in zip(todo, results, strict=True):
                self.cache[key] = (added_values(result), outcome(result))
                if len(self.cache) > _CACHE_SIZE:
                    self.cache.popitem(last=False)
        buffer = io.StringIO()
        writer = exports.CSVWriter(buffer, delimiter=self.delimiter)
        for row, key in zip(rows, keyed, strict=True):
            if isinstance(key, str):
                value, added, kind = (
                    row[self.column] if self.column < len(row) else "",
                    ["", "", "", "", "", "", key],
                    PROBLEM,
                )
            else:
                value = key[0]
                added, kind = self.cache.get(key) or self._recheck(key)
            self.summary.add(row, added, kind, value)
            writer.writerow([*row, *added])
        return buffer.getvalue().encode("utf-8")

    def _recheck(self, key: tuple[str, dt.date]) -> tuple[list[str], str]:
        # Only reached if the cache evicted a key resolved earlier in this same chunk, which
        # needs a chunk larger than the cache; kept so correctness never depends on sizes.
        [result] = describe_all(
            resolve(
                [Item(value=key[0], date=key[1])],
                self.options.date,
                name_register=self.options.register,
                entity_types=self.options.entity_types,
            )
        )
        return added_values(result), outcome(result)


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    # NUL characters make the csv module stop ("line contains NUL"); no code or name has one.
    yield first.replace("\x00", "")
    for line in rest:
        yield line.replace("\x00", "")
