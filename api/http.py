"""What the registry's public interfaces ask of a request and add to a response, in one place:
the as-at date, the entry a URL names by register and key, the validators of an answer and
the conditional requests they settle, and the headers of public data (``Cache-Control`` and
CORS open to every origin).

The documents (``/doc/…``, :mod:`api.documents`) and the lookup API (``/api/v1/…``,
:mod:`api.v1`) read requests by the same rules and differ only in how they tell a client what
was wrong: a short JSON object or HTML page, or an RFC 9457 problem. So a failure is raised
here as an exception carrying its facts (:class:`BadParameter`, :class:`NoSuchRegister`,
:class:`MalformedKey`, :class:`NoSuchEntry`) and each interface words it.

Validators. Everything the registry says changes only when a
:class:`~registry.models.Version` is written, so the newest version (its number and the
moment it was recorded: a number can come round again after a rolled-back write, a
microsecond timestamp cannot) stands for the state of the data. An answer's ETag hashes that
with whatever else the answer depends on (path, query, format, date); its Last-Modified is
when that version was recorded, and for an answer about "today" (no ``?date=``) at least the
start of today, as such an answer moves on at midnight. Both are known before anything is
built, so a conditional request costs one query on the primary key index. The one exception
is the boundaries, which a load rewrites without versions: an answer that draws or serves one
(an area's page, its RDF and GeoJSON, point lookups, boundary downloads) also hashes their
load state (:func:`boundaries_version`: the newest import run, one look-up on a primary key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from rest_framework import exceptions

from geography.registers import AREAS
from registry.models import Entry, ImportRun, Register, Version
from registry.replicas import reading
from registry.statistics import registers
from registry.validtime import today

# ---------------------------------------------------------------------------------------
# Parameters


class BadParameter(exceptions.ValidationError):
    """A query, path or body parameter whose value is malformed or unknown (400). ``reason``
    is said of the parameter ("must be `key` or `-key`."), so that "{name} {reason}" reads
    as a sentence."""

    def __init__(self, name: str, reason: str, sentence: str | None = None):
        super().__init__({name: [reason]})
        self.name, self.reason = name, reason
        # The whole sentence a page shows; a translated one names the parameter in the
        # page's language ("Rhaid i’r dyddiad fod…"), where "{name} {reason}" cannot.
        self.sentence = sentence or f"{name} {reason}"


class BadDate(BadParameter):
    """A date parameter that is not a calendar date written YYYY-MM-DD; ``value`` is what
    the client sent."""

    def __init__(self, name: str, reason: str, value: str):
        super().__init__(name, reason)
        self.value = value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str, name: str = "date") -> dt.date:
    """``YYYY-MM-DD`` (spaces around it ignored) as a date; anything else is a
    :class:`BadDate` naming ``name``."""
    text = value.strip()
    if not _ISO_DATE.match(text):
        raise BadDate(name, f"{text[:40]!r} is not a date in the form YYYY-MM-DD.", value)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadDate(name, f"{text!r} is not a valid calendar date.", value) from None


def as_at(query: Mapping[str, str], *, blank_is_today: bool = True) -> tuple[dt.date, bool]:
    """The as-at date of a request (its ``date`` parameter, default today in Europe/London)
    and whether the client gave it. A page's date field left empty submits ``date=``, which
    means today; to an API (``blank_is_today=False``) an empty date is as malformed as any."""
    value = query.get("date")
    if value is None or (value == "" and blank_is_today):
        return today(), False
    return parse_date(value), True


_ISO_INSTANT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
)
RECORDED_FORMS = (
    "a date YYYY-MM-DD (the end of that day in UK time) or an instant "
    "YYYY-MM-DDTHH:MM:SSZ (or with an offset such as +01:00)"
)


def parse_instant(value: str, name: str = "recorded") -> dt.datetime:
    """``recorded=`` as the instant it names, time-zone aware. A date ``YYYY-MM-DD`` means
    the end of that day in the registry's time zone (Europe/London), as the versions listing
    reads its ``date``: everything recorded on that day is included (given in UTC for a day
    before 1847, whose London offset was local mean time, -00:01:15, which RFC 3339 cannot
    write). An instant must say
    its zone (``Z`` or ``+HH:MM``): a bare clock time is ambiguous twice a year, so it is
    refused. An instant after now is allowed and answers as the registry stands now.
    Anything else is a :class:`BadDate` naming ``name``."""
    text = value.strip()
    if _ISO_DATE.match(text):
        day = parse_date(text, name)
        try:
            start_of_next = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
        except OverflowError:
            return dt.datetime.max.replace(tzinfo=dt.UTC)
        end = timezone.make_aware(start_of_next, timezone.get_default_timezone()) - dt.timedelta(
            microseconds=1
        )
        if end.utcoffset() % dt.timedelta(minutes=1):  # local mean time: not RFC 3339
            end = end.astimezone(dt.UTC)
        return end
    shown = text[:40]
    if (
        "T" in text
        and not _ISO_INSTANT.match(text)
        and re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", text)
    ):
        raise BadDate(
            name,
            f"{shown!r} has no time zone: end it with Z (UTC) or an offset such as +01:00.",
            value,
        )
    if not _ISO_INSTANT.match(text):
        raise BadDate(name, f"{shown!r} is not {RECORDED_FORMS}.", value)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadDate(name, f"{shown!r} is not a valid date and time.", value) from None
    return moment


def recorded(query: Mapping[str, str], *, blank_is_now: bool = True) -> dt.datetime | None:
    """The record-time instant a request asks about (its ``recorded`` parameter), or None
    for the registry as it stands now. A page's field left empty means now; to an API
    (``blank_is_now=False``) an empty value is as malformed as any."""
    value = query.get("recorded")
    if value is None or (value == "" and blank_is_now):
        return None
    return parse_instant(value)


def check_text(name: str, value: str, max_length: int = 200) -> str:
    """Refuse text no registry value could be: NUL characters (which PostgreSQL cannot store)
    and anything longer than ``max_length``."""
    if "\x00" in value:
        raise BadParameter(name, "contains a NUL character.")
    if len(value) > max_length:
        raise BadParameter(name, f"is longer than {max_length} characters.")
    return value


# ---------------------------------------------------------------------------------------
# JSON bodies

MAX_JSON_DEPTH = 32  # the deepest body any interface reads is 4 levels (a curation snapshot)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and a UTF-16 half with no pair


class BadJSON(ValueError):
    """A body or parameter that is not JSON the registry can read: nested deeper than
    :data:`MAX_JSON_DEPTH`, or holding text no database can store (a NUL character, a lone
    surrogate such as ``"\\ud800"``, which ``json`` accepts but UTF-8 cannot encode).
    ``where`` is the value's place ("items[0]", "" for the whole), ``reason`` what is wrong
    with it, said of it ("holds a NUL character")."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where} {reason}" if where else f"it {reason}")
        self.where, self.reason = where, reason


class MalformedJSON(BadJSON):
    """Text that is not JSON at all."""


def loads(text: str | bytes, *, neutralise: bool = False) -> Any:
    """``text`` parsed as JSON, refusing what :class:`BadJSON` describes: one check for every
    JSON the service reads (the lookup and curation APIs' bodies, reconciliation's queries
    and extensions), so a crafted body is a 400, never an error deep in a view. With
    ``neutralise``, NUL characters and lone surrogates are dropped from the text instead (a
    reconciliation batch answers its other queries when one cell holds such a character)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadJSON("", f"is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as error:
        raise MalformedJSON("", f"is not valid JSON ({error})") from None
    return _checked(value, "", 1, neutralise)


def _checked(value: Any, where: str, depth: int, neutralise: bool) -> Any:
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found is None:
            return value
        if neutralise:
            return _UNSTORABLE.sub("", value)
        what = (
            "a NUL character" if found.group() == "\x00" else "a lone surrogate (\\ud800-\\udfff)"
        )
        raise BadJSON(where, f"holds {what}")
    if not isinstance(value, dict | list):
        return value
    if depth > MAX_JSON_DEPTH:
        raise BadJSON("", f"is nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            place = f"{where}.{key}" if where else key
            key = _checked(key, where or "a key", depth, neutralise)
            result[key] = _checked(item, place[:80], depth + 1, neutralise)
        return result
    return [
        _checked(item, f"{where}[{n}]"[:80], depth + 1, neutralise) for n, item in enumerate(value)
    ]


# ---------------------------------------------------------------------------------------
# Entries by register and key


# What a register slug and a key in a URL can be made of: ASCII letters, digits, hyphens (and
# underscores in keys). Anything else, such as a Cyrillic "Е" or a full-width "Ｅ" that looks
# like a code, could be the key of no register.
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
_PATH_PATTERNS = {"register": SLUG_PATTERN, "key": KEY_PATTERN}


def check_path_value(name: str, value: str) -> str:
    """A register or key from a URL, refused (400) if no register could hold it."""
    pattern = _PATH_PATTERNS.get(name)
    if pattern and not re.match(pattern, value, flags=re.ASCII):
        shown = value[:40].encode("ascii", "backslashreplace").decode()
        raise BadParameter(
            name,
            f"{shown!r} has characters no {name} can have (ASCII letters, digits and hyphens).",
        )
    return value


def check_path(kwargs: Mapping[str, Any]) -> None:
    """Every value a URL gave a view: text a register could hold (:func:`check_text`), and a
    register or key of the characters such values have (:func:`check_path_value`)."""
    for name, value in kwargs.items():
        check_path_value(name, check_text(name, str(value)))


class NoSuchRegister(LookupError):
    def __init__(self, slug: str):
        super().__init__(slug)
        self.slug = slug


class MalformedKey(ValueError):
    """A key the register could never hold (it does not match the register's pattern)."""

    def __init__(self, register: Register, key: str):
        super().__init__(key)
        self.register, self.key = register, key

    @property
    def canonical(self) -> str | None:
        """The key in upper case, if only its case was wrong."""
        upper = self.key.upper()
        return upper if re.match(self.register.key_pattern, upper) else None


class NoSuchEntry(LookupError):
    """A well-formed key that the register holds no entry with."""

    def __init__(self, register: Register, key: str):
        super().__init__(key)
        self.register, self.key = register, key


@dataclass
class EntryRef:
    """What validating a request needs to know of an entry, read in one indexed query with
    the data version; the entry itself is loaded only when an answer has to be built."""

    pk: int
    register: Register
    key: str
    version: int
    data_version: tuple[int, dt.datetime | None]
    # The boundaries' load state (:func:`boundaries_version`), read in the same query for an
    # entry of a register in WITH_BOUNDARIES; None for any other.
    boundaries: tuple[int | None, dt.datetime | None] | None = None

    def load(self) -> Entry:
        return Entry.objects.select_related("register").get(pk=self.pk)


def find_register(slug: str) -> Register:
    """The register called ``slug``, or :class:`NoSuchRegister`."""
    found = registers().get(slug)
    if found is None:
        raise NoSuchRegister(slug)
    return found


def find_entry(register: Register, key: str) -> EntryRef:
    """The entry ``key`` of ``register``: :class:`MalformedKey` for a key the register could
    never hold (its case may be all that is wrong), :class:`NoSuchEntry` for one it does not.
    Keys are matched exactly: the interfaces decide what a wrong case deserves."""
    if not re.match(register.key_pattern, key):
        raise MalformedKey(register, key)
    entries, versions = Entry._meta.db_table, Version._meta.db_table
    bounded = register.slug in WITH_BOUNDARIES
    extra = "".join(f", {column}" for column in _boundaries_columns()) if bounded else ""
    # Raw SQL, with the data version (and for an area the boundaries' load) in the same
    # query: every document request runs this.
    with reading().cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, e.version, v.id, v.recorded_at{extra} FROM {entries} e "  # noqa: S608 (table names and sub-selects of them; values are parameters)
            f"LEFT JOIN {versions} v ON v.id = (SELECT MAX(id) FROM {versions}) "
            "WHERE e.register_id = %s AND e.key = %s",
            [register.pk, key],
        )
        row = cursor.fetchone()
    if row is None:
        raise NoSuchEntry(register, key)
    return EntryRef(
        row[0],
        register,
        key,
        row[1],
        (row[2] or 0, _moment(row[3])),
        _boundaries(row[4:]) if bounded else None,
    )


# ---------------------------------------------------------------------------------------
# Validators and conditional requests


def _moment(value: Any) -> dt.datetime | None:
    # A raw cursor gives SQLite's text (UTC, as Django stores it) and PostgreSQL's datetime.
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def data_version() -> tuple[int, dt.datetime | None]:
    """The newest version's number and time: it changes whenever anything in the registry
    changes, so it is part of every validator. (Raw SQL: this runs on every request, and
    the ORM would cost more than the query.)"""
    with reading().cursor() as cursor:
        cursor.execute(
            f"SELECT id, recorded_at FROM {Version._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608 (a table name, no input)
        )
        row = cursor.fetchone()
    return (row[0], _moment(row[1])) if row else (0, None)


# The registers whose entries have boundaries: their documents draw or carry them.
WITH_BOUNDARIES = frozenset({AREAS})


def _boundaries_columns() -> list[str]:
    # The newest import run and when it finished, as sub-selects on its primary key (a table
    # name only: nothing from a request is in these).
    runs = ImportRun._meta.db_table
    newest = f"(SELECT MAX(id) FROM {runs})"  # noqa: S608
    return [newest, f"(SELECT COALESCE(finished_at, started_at) FROM {runs} WHERE id = {newest})"]  # noqa: S608


def boundaries_version() -> tuple[int | None, dt.datetime | None]:
    """When the boundaries may last have changed: the newest import run (its number and when
    it finished). Boundaries are not versioned (a load rewrites them without a
    :class:`~registry.models.Version`), so a reload that changed only shapes would leave the
    data version, and so the validators, as they were; but only an import run writes them
    (``geography.boundaries.load`` runs inside ``load_reference_data``'s, and creates,
    rewrites and removes rows only there), so the newest run stands for their state. A load
    that changed nothing moves it too, which costs a cache miss once per load. A validator
    hashes both, as it does the data version's number and moment (a number can come round
    again after a rolled-back run). One query on a primary key; :func:`find_entry` reads the
    same with an area. (Not ``geography.spatial.stamp``, which counts the boundaries: a
    count reads the whole table on PostgreSQL, 20 ms, on every area document.)"""
    with reading().cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(_boundaries_columns()))
        row = cursor.fetchone()
    return _boundaries(row)


def _boundaries(row: tuple) -> tuple[int | None, dt.datetime | None]:
    """:func:`boundaries_version` from its two columns."""
    return row[0], _moment(row[1])


def changed_since(changed: dt.datetime | None, also: dt.datetime | None) -> dt.datetime | None:
    """The later of two moments of change, either of which may be None (never)."""
    moments = [m for m in (changed, also) if m is not None]
    return max(moments) if moments else None


def etag(*parts: Any) -> str:
    """A strong ETag for an answer that depends on exactly ``parts`` (include the data
    version)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def last_modified(changed: dt.datetime | None, date: dt.date, explicit: bool) -> int | None:
    """When an answer as at ``date`` last changed, as a timestamp: the last change to the
    registry or, for the default "today" answer (not ``explicit``), the start of today if
    later. None only for an explicit date in an empty registry."""
    moments = [changed] if changed else []
    if not explicit:
        moments.append(
            timezone.make_aware(
                dt.datetime.combine(date, dt.time.min), timezone.get_default_timezone()
            )
        )
    return int(max(moments).timestamp()) if moments else None


def validator_headers(tag: str, modified: int | None) -> dict[str, str]:
    headers = {"ETag": tag}
    if modified is not None:
        headers["Last-Modified"] = http_date(modified)
    return headers


def conditional_response(
    request: HttpRequest, tag: str, modified: int | None
) -> HttpResponseBase | None:
    """The answer to a conditional request whose preconditions settle it (304 Not Modified,
    or 412 Precondition Failed), else None: Django's evaluation of RFC 9110's preconditions,
    so that every interface evaluates them alike."""
    return get_conditional_response(request, etag=tag, last_modified=modified)


# ---------------------------------------------------------------------------------------
# Headers of public data

# Reference data is open: any web page may read it.
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}


def cors_headers(methods: str, allow_headers: str, expose_headers: str = "") -> dict[str, str]:
    """The CORS headers of an interface that scripts on any origin may call with ``methods``
    and ``allow_headers``, reading ``expose_headers`` of the answer; browsers may keep a
    preflight's answer for a day."""
    headers = {
        **ANY_ORIGIN,
        "Access-Control-Allow-Methods": methods,
        "Access-Control-Allow-Headers": allow_headers,
        "Access-Control-Max-Age": "86400",
    }
    if expose_headers:
        headers["Access-Control-Expose-Headers"] = expose_headers
    return headers


# What nginx in front may keep (publish): answers and redirects, never an error.
FRONT_CACHED_STATUSES = frozenset({200, 203, 301, 302, 303, 307, 308})


def cache_control(max_age: int) -> str:
    """Anyone (browsers and shared caches) may keep the answer for ``max_age`` seconds."""
    return f"public, max-age={max_age}"


def publish(
    response: HttpResponseBase,
    *,
    max_age: int | None = None,
    cors: Mapping[str, str] | None = None,
) -> HttpResponseBase:
    """Mark ``response`` as public data: cacheable by anyone for ``max_age`` seconds (if
    given), and by nginx in front for at most ``REGISTRY_FRONT_CACHE_SECONDS`` of them
    (``X-Accel-Expires``, read by nginx only), with the CORS headers ``cors`` (if given).
    Headers the view set itself stand: an answer it made private is not kept in front, nor
    is an error, or a streamed download (a whole register would push the popular entries
    out of nginx's cache for the few seconds it is kept)."""
    if max_age is not None:
        response.headers.setdefault("Cache-Control", cache_control(max_age))
        front = min(max_age, settings.REGISTRY_FRONT_CACHE_SECONDS)
        if (
            front > 0
            and response.status_code in FRONT_CACHED_STATUSES
            and not response.streaming
            and response.headers["Cache-Control"].startswith("public")
        ):
            response.headers.setdefault("X-Accel-Expires", str(front))
    for header, value in (cors or {}).items():
        response.headers.setdefault(header, value)
    return response
