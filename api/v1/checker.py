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

With :class:`PointOptions`, each row's point (latitude and longitude, or British National
Grid easting and northing, in columns found by their names or named by the client) is looked
up in the boundaries (``geography.spatial``) as at the row's date: a column per layer asked
for (``registry_lad``, ``registry_ward``…) holds the codes of the areas containing it, and
``registry_point_note`` says why one is empty (a coordinate that is not a number or out of
range, no boundary of the layer on the date, or no area of it there). The code column is then
optional: a file of points alone gets the point columns alone.
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

from geography import spatial
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


DEFAULT_POINT_LAYERS = ["lad", "ward"]
POINT_NOTE = "registry_point_note"
# The column names a point's coordinates are found by, compared without case or spaces.
COORDINATE_NAMES = {
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "easting": ("easting", "eastings"),
    "northing": ("northing", "northings"),
}


@dataclass
class PointOptions:
    """Look up each row's point: in the boundaries of ``layers`` (``spatial.LAYERS``), from
    the coordinate columns named, or else found by :data:`COORDINATE_NAMES` (latitude and
    longitude before easting and northing)."""

    layers: list[str] = field(default_factory=lambda: list(DEFAULT_POINT_LAYERS))
    lat_column: str | None = None
    lon_column: str | None = None
    easting_column: str | None = None
    northing_column: str | None = None


@dataclass
class Options:
    column: str | None
    date: dt.date
    date_column: str | None = None
    register: str = AREAS
    entity_types: list[str] | None = None
    points: PointOptions | None = None


def point_columns(layers: list[str]) -> list[str]:
    """The columns added for points looked up in ``layers``."""
    return [f"registry_{layer.replace('-', '_')}" for layer in layers] + [POINT_NOTE]


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


def added_columns(header: list[str], names: list[str] = ADDED_COLUMNS) -> list[str]:
    """The names of the columns the checker adds to a file with ``header``: ``names``
    (``registry_code`` and the rest), or, if the file has a column of one of those names
    already (a file checked before, say), all of them numbered alike (``registry_code_2``…),
    so that none is the same as one of the file's, whatever the case or spaces."""
    taken = {name.strip().casefold() for name in header}
    suffix, number = "", 1
    while any(f"{name}{suffix}" in taken for name in names):
        number += 1
        suffix = f"_{number}"
    return [f"{name}{suffix}" for name in names]


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


def _find_coordinates(header: list[str], points: PointOptions) -> tuple[str, int, int]:
    """("lonlat", latitude column, longitude column) or ("bng", easting, northing): the
    columns named in ``points``, or else those :data:`COORDINATE_NAMES` finds."""
    named = {
        kind: getattr(points, f"{kind}_column")
        for kind in COORDINATE_NAMES
        if getattr(points, f"{kind}_column")
    }
    for kind, first, second in (("lonlat", "lat", "lon"), ("bng", "easting", "northing")):
        if first in named or second in named:
            if not (first in named and second in named):
                missing = second if first in named else first
                raise CheckerError(
                    f"{missing}_column",
                    f"name the {missing} column too (with {first}_column and {second}_column).",
                )
            return (
                kind,
                _find_column(header, named[first], f"{first}_column"),
                _find_column(header, named[second], f"{second}_column"),
            )
    folded = [name.strip().casefold() for name in header]

    def found(kind: str) -> int | None:
        return next((i for i, n in enumerate(folded) if n in COORDINATE_NAMES[kind]), None)

    for kind, first, second in (("lonlat", "lat", "lon"), ("bng", "easting", "northing")):
        a, b = found(first), found(second)
        if a is not None and b is not None:
            return kind, a, b
    shown = ", ".join(repr(name) for name in header[:20])
    raise CheckerError(
        "lat_column",
        f"the file has no latitude and longitude columns (lat or latitude, and lon, lng or "
        f"longitude) nor easting and northing columns; its columns are {shown} (or name them "
        "with lat_column and lon_column, or easting_column and northing_column).",
    )


def _coordinate(row: list[str], column: int, what: str) -> float:
    raw = row[column].strip() if column < len(row) else ""
    if not raw:
        raise ValueError(f"no {what}")
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{what} {raw[:40]!r} is not a number") from None


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
# What a row's point comes to: in an area of every layer asked for, or not (PROBLEM: a bad
# or missing coordinate).
LOCATED, NOT_LOCATED = "located", "not-located"


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

    # Points, when looked up: rows in an area of every layer asked for, rows with a bad or
    # missing coordinate, and the first notes about them.
    located: int = 0
    unlocated: int = 0
    bad_points: int = 0
    point_notes: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        row: list[str],
        added: list[str],
        kind: str | None,
        value: str,
        point: tuple[str, str] | None = None,
    ) -> None:
        """Tally one row as written: the file's cells, the added ones (the code's first, if
        looked up), the code's outcome (None if no code was looked up) and the value that was
        looked up, and the point's outcome and note (if looked up)."""
        self.rows += 1
        if len(self.first_rows) < SUMMARY_ROWS:
            self.first_rows.append([*row, *added])
        if point is not None:
            point_kind, note = point
            if point_kind == LOCATED:
                self.located += 1
            elif point_kind == PROBLEM:
                self.bad_points += 1
            else:
                self.unlocated += 1
            if note and len(self.point_notes) < SUMMARY_EXAMPLES:
                self.point_notes.setdefault(note, ", ".join(row)[:80])
        if kind is None:
            return
        self.counts[kind] = self.counts.get(kind, 0) + 1
        code, name, _, status, current, uri, note = added[: len(ADDED_COLUMNS)]
        if code:
            self.matched += 1
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
        self.column = (
            _find_column(self.header, options.column, "column") if options.column else None
        )
        self.date_column = (
            _find_column(self.header, options.date_column, "date_column")
            if options.date_column
            else None
        )
        self.points = options.points
        self.coordinates = (
            _find_coordinates(self.header, self.points) if self.points is not None else None
        )
        names = ADDED_COLUMNS if self.column is not None else []
        if self.points is not None:
            names = [*names, *point_columns(self.points.layers)]
        self.added_columns = added_columns(self.header, names)
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
            writer.writerow([""] * (len(self.header) + len(self.added_columns) - 1) + [note])
            yield buffer.getvalue().encode("utf-8")
        if chunk:
            yield self._check(chunk)

    def _days(self, rows: list[list[str]]) -> list[dt.date | str]:
        """Each row's date, or the note for a bad one."""
        days: list[dt.date | str] = []
        for row in rows:
            day = self.options.date
            if self.date_column is not None:
                raw = row[self.date_column] if self.date_column < len(row) else ""
                parsed = _row_date(raw) if raw.strip() else self.options.date
                if parsed is None:
                    days.append(
                        f"bad-date: {raw.strip()[:40]!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)"
                    )
                    continue
                day = parsed
            days.append(day)
        return days

    def _check(self, rows: list[list[str]]) -> bytes:
        days = self._days(rows)
        codes = self._codes(rows, days) if self.column is not None else None
        points = self._points(rows, days) if self.points is not None else None
        out: list[list[str]] = []
        for i, row in enumerate(rows):
            added: list[str] = []
            kind, value = None, ""
            if codes is not None:
                code_cells, kind, value = codes[i]
                added += code_cells
            point = None
            if points is not None:
                point_cells, point_kind = points[i]
                added += point_cells
                point = (point_kind, point_cells[-1])
            self.summary.add(row, added, kind, value, point)
            out.append([*row, *added])
        buffer = io.StringIO()
        exports.CSVWriter(buffer, delimiter=self.delimiter).writerows(out)
        return buffer.getvalue().encode("utf-8")

    def _codes(
        self, rows: list[list[str]], days: list[dt.date | str]
    ) -> list[tuple[list[str], str, str]]:
        """Each row's code cells, outcome and the value looked up."""
        column = self.column or 0
        cache = self.cache
        keyed: list[tuple[str, dt.date] | str] = []
        # This chunk's answers: those the cache holds (kept here, so that the cache's
        # evictions below cannot lose one this chunk still needs) and those resolved now.
        known: dict[tuple[str, dt.date], tuple[list[str], str]] = {}
        todo: dict[tuple[str, dt.date], Item] = {}
        for row, day in zip(rows, days, strict=True):
            if isinstance(day, str):
                keyed.append(day)
                continue
            value = row[column] if column < len(row) else ""
            key = (value, day)
            keyed.append(key)
            if key in known or key in todo:
                continue
            hit = cache.get(key)
            if hit is not None:
                known[key] = hit
                cache.move_to_end(key)  # recently used: evicted last
            else:
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
                known[key] = cache[key] = (added_values(result), outcome(result))
                if len(cache) > _CACHE_SIZE:
                    cache.popitem(last=False)
        answers = []
        for row, key in zip(rows, keyed, strict=True):
            if isinstance(key, str):
                value = row[column] if column < len(row) else ""
                answers.append((["", "", "", "", "", "", key], PROBLEM, value))
            else:
                added, kind = known[key]
                answers.append((added, kind, key[0]))
        return answers

    def _points(
        self, rows: list[list[str]], days: list[dt.date | str]
    ) -> list[tuple[list[str], str]]:
        """Each row's point cells (the codes per layer, then the note) and outcome: the
        points of the chunk looked up together, a query per date."""
        layers = self.points.layers if self.points else []
        kind, first, second = self.coordinates or ("lonlat", 0, 0)
        answers: list[tuple[list[str], str] | None] = [None] * len(rows)
        by_day: dict[dt.date, list[tuple[int, tuple[float, float]]]] = {}
        for i, (row, day) in enumerate(zip(rows, days, strict=True)):
            if isinstance(day, str):
                answers[i] = ([""] * len(layers) + [day], PROBLEM)
                continue
            try:
                if kind == "lonlat":
                    lat = _coordinate(row, first, "latitude")
                    lon = _coordinate(row, second, "longitude")
                    point = spatial.check_lon_lat(lon, lat)
                else:
                    easting = _coordinate(row, first, "easting")
                    northing = _coordinate(row, second, "northing")
                    point = spatial.check_bng(easting, northing)
            except ValueError as error:
                answers[i] = ([""] * len(layers) + [f"bad-point: {error}"], PROBLEM)
                continue
            by_day.setdefault(day, []).append((i, point))
        index = spatial.current() if by_day else None
        for day, located in by_day.items() if index is not None else ():
            held = index.covered_layers(day)
            found = index.containing_many([p for _, p in located], day, layers)
            for (i, _), hits in zip(located, found, strict=True):
                cells, notes = [], []
                for layer in layers:
                    codes = [hit.code for hit in hits if hit.layer == layer]
                    cells.append(" ".join(codes))
                    name = spatial.LAYER_NAMES[layer].lower()
                    if layer not in held:
                        notes.append(f"no {name} boundaries for {day.isoformat()}")
                    elif not codes:
                        notes.append(f"no {name} contains the point on {day.isoformat()}")
                note = "; ".join(notes)
                answers[i] = ([*cells, note], NOT_LOCATED if notes else LOCATED)
        return [answer for answer in answers if answer is not None]


def _chain(first: str, rest: IO[str]) -> Iterator[str]:
    # NUL characters make the csv module stop ("line contains NUL"); no code or name has one.
    yield first.replace("\x00", "")
    for line in rest:
        yield line.replace("\x00", "")
