"""Reads from PostgreSQL streaming replicas, writes (and a writer's own reads) on the primary.

With ``DATABASE_REPLICA_URLS`` set, ``config/settings.py`` adds one database alias per replica
(``replica1``, ``replica2``…), installs :class:`ReplicaRouter` and puts :class:`ReadRouting`
near the top of the middleware. Who reads where is decided once per request, so that every
query of one answer sees the same database:

- **A public read** (``GET``/``HEAD``/``OPTIONS``, or a POST to a view that only reads, such
  as a bulk lookup or a reconciliation batch; no credentials) goes to a healthy replica, the
  replicas taken in turn.
- **Everything else is on the primary**: every write request (any method but GET, HEAD and
  OPTIONS, unless its view is marked :func:`reads_only`), with all the reads it makes
  (a write that checks ``expected_version`` against a lagging copy would refuse or, worse,
  accept an edit on stale grounds); any request carrying credentials (a session cookie or an
  ``Authorization`` header: curators and automation read what they have just written); a
  request from a client that wrote within ``REGISTRY_PRIMARY_PIN_SECONDS`` (the
  ``registry_primary`` cookie set on the answer to every write, so the page a curator is
  redirected to after saving, or a token client's next read with its cookie jar, shows the
  edit); reads inside a transaction that is writing; and reads outside any request
  (commands, the reconciliation index built before the workers fork).
- **Health**: each process checks every replica once before its first request reads, then
  every ``REGISTRY_REPLICA_CHECK_SECONDS`` in a thread of its own (not on a request's time).
  A replica is out of rotation while it cannot be reached, is not a standby (promoted, or
  pointed at the wrong server), or has not replayed what the primary has written for more
  than ``REGISTRY_REPLICA_MAX_LAG_SECONDS``; it is back at the first check that finds it
  well. With no replica in rotation reads fall back to the primary.
- **A replica failing under a request**: a public read whose replica raises a connection
  error takes that replica out of rotation at once and, if it is a GET, HEAD or OPTIONS, is
  answered again from the primary, so a replica dying between two checks costs no such
  reader an error (a POST's body cannot be read twice: it is answered 503 with Retry-After).

Lag is measured as PostgreSQL's documentation suggests: a standby that has replayed the
primary's current WAL position (``pg_last_wal_replay_lsn()`` ≥ ``pg_current_wal_lsn()``) is
current, however long ago its last transaction was (an idle primary writes nothing to
replay); one behind is as stale as its last replayed transaction
(``now() - pg_last_xact_replay_timestamp()``). The decisions are pure functions
(:func:`request_reads`, :func:`read_alias`, :func:`judge`), table-tested in
``tests/registry/test_replicas.py``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
)

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "registry_primary"
# A replica a request saw fail stays out at least this long before a probe may restore it.
RETRY_SECONDS = 10.0

# The database this request reads from, chosen by ReadRouting (None outside a request).
_reads: contextvars.ContextVar[str | None] = contextvars.ContextVar("registry_reads", default=None)
# Set when a database error was raised while this request read from a replica.
_replica_failed: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "registry_replica_failed", default=False
)


# -- Decisions (pure) -----------------------------------------------------------------------


def request_reads(
    *,
    method: str,
    reads_only: bool,
    has_credentials: bool,
    pinned: bool,
    healthy: Sequence[str],
    turn: int,
) -> str:
    """The database alias a request reads from: the primary (``default``) for a request that
    may write (any method but GET, HEAD and OPTIONS, unless its view only reads), for a
    request with credentials, for a client pinned after its own write, or when no replica is
    healthy; else the healthy replica whose turn it is."""
    writes = method.upper() not in SAFE_METHODS and not reads_only
    if writes or has_credentials or pinned or not healthy:
        return DEFAULT_DB_ALIAS
    return healthy[turn % len(healthy)]


def reads_only(view):
    """Mark a view (a function, or a class) that answers POSTs without writing, such as a
    bulk lookup or a reconciliation batch: its public requests may read from a replica."""
    view.reads_only = True
    return view


def view_reads_only(view) -> bool:
    # DRF's as_view() keeps the class in .cls (and Django's in .view_class).
    return any(
        getattr(target, "reads_only", False)
        for target in (view, getattr(view, "cls", None), getattr(view, "view_class", None))
    )


def read_alias(*, request_alias: str | None, writing: bool) -> str:
    """Where one query reads: the primary inside a writing transaction or outside a request,
    else the request's database."""
    if writing or request_alias is None:
        return DEFAULT_DB_ALIAS
    return request_alias


def lsn(text: str | None) -> int | None:
    """A WAL position (``'16/B374D848'``) as a number, so positions compare."""
    if not text:
        return None
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass(frozen=True)
class Probe:
    """What one check saw of a replica (and of the primary's WAL position)."""

    error: str | None = None  # the replica could not be reached or queried
    in_recovery: bool = True  # pg_is_in_recovery(): false once promoted
    replay_lsn: int | None = None  # pg_last_wal_replay_lsn()
    replay_age: float | None = None  # seconds since pg_last_xact_replay_timestamp()
    primary_lsn: int | None = None  # pg_current_wal_lsn() on the primary; None if unreachable


@dataclass(frozen=True)
class Health:
    healthy: bool
    reason: str
    lag: float | None = None  # seconds behind the primary, when known


def judge(probe: Probe, max_lag: float) -> Health:
    """Whether a replica may serve reads, from what a check saw of it and of the primary."""
    if probe.error is not None:
        return Health(False, f"unreachable: {probe.error}")
    if not probe.in_recovery:
        return Health(False, "not a standby (promoted, or not a replica)")
    if probe.replay_lsn is None:
        return Health(False, "has replayed nothing yet")
    if probe.primary_lsn is None:
        # The primary cannot say how far ahead it is; a standby that answers is the best
        # copy there is, and writes fail anyway.
        return Health(True, "primary unreachable: lag unknown")
    if probe.replay_lsn >= probe.primary_lsn:
        return Health(True, "current", 0.0)
    lag = probe.replay_age if probe.replay_age is not None else float("inf")
    if lag > max_lag:
        return Health(False, f"lagging {lag:.1f} s (more than {max_lag:g} s)", lag)
    return Health(True, f"behind by {lag:.1f} s", lag)


# -- Checking the replicas ------------------------------------------------------------------


def _connect(alias: str, timeout: float):
    """A connection of its own (never Django's, which belongs to a request's thread) to the
    database ``alias`` names, autocommit, failing within ``timeout`` seconds."""
    import psycopg

    config = settings.DATABASES[alias]
    params = {
        "dbname": config.get("NAME") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": str(config["PORT"]) if config.get("PORT") else None,
    }
    return psycopg.connect(
        connect_timeout=max(1, round(timeout)),
        autocommit=True,
        application_name="registry-replica-check",
        **{key: value for key, value in params.items() if value is not None},
    )


def probe(alias: str, primary_lsn: int | None, timeout: float = 2.0) -> Probe:
    """Query the replica ``alias`` for what :func:`judge` needs."""
    try:
        with _connect(alias, timeout) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, "
                "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8"
            ).fetchone()
    except Exception as error:  # any failure to reach or query it takes it out
        return Probe(error=str(error).strip().splitlines()[0][:200] if str(error) else repr(error))
    in_recovery, replay, age = row
    return Probe(
        in_recovery=bool(in_recovery),
        replay_lsn=lsn(replay),
        replay_age=age,
        primary_lsn=primary_lsn,
    )


def primary_position(timeout: float = 2.0) -> int | None:
    """The primary's current WAL position, or None if it cannot be reached."""
    try:
        with _connect(DEFAULT_DB_ALIAS, timeout) as conn:
            return lsn(conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0])
    except Exception:
        return None


class Rotation:
    """The replicas of one process and their health: checked once before the first request
    uses them, then every ``interval`` seconds by a daemon thread (started in each process
    that reads, so after gunicorn forks its workers each has its own)."""

    def __init__(
        self,
        aliases: Sequence[str],
        *,
        interval: float,
        max_lag: float,
        check: Callable[[str, int | None], Probe] = probe,
        position: Callable[[], int | None] = primary_position,
    ):
        self.aliases = list(aliases)
        self.interval = interval
        self.max_lag = max_lag
        self._check = check
        self._position = position
        self.health: dict[str, Health] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pid: int | None = None
        self._turn = 0

    def check_now(self) -> dict[str, Health]:
        """Check every replica once and return what was found."""
        primary = self._position()
        found = {alias: judge(self._check(alias, primary), self.max_lag) for alias in self.aliases}
        for alias, health in found.items():
            before = self.health.get(alias)
            if before is None or before.healthy != health.healthy:
                # A warning when a replica goes out or comes back; info when first found well.
                level = logging.INFO if before is None and health.healthy else logging.WARNING
                log.log(
                    level,
                    "replica %s %s: %s",
                    alias,
                    "in rotation" if health.healthy else "out of rotation",
                    health.reason,
                )
        self.health = found
        return found

    def _run(self) -> None:
        while True:
            if self._wake.wait(self.interval):
                # Woken by a failure under a request: give the replica a moment before the
                # probe may put it back (a probe on a fresh connection can succeed at once
                # while the request's connections still fail).
                self._wake.clear()
                time.sleep(min(self.interval, RETRY_SECONDS))
            try:
                self.check_now()
            except Exception:  # the thread must outlive any one failed check
                log.exception("replica check failed")

    def start(self) -> None:
        """Make sure this process has checked once and has its checking thread."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self.check_now()
            threading.Thread(target=self._run, name="replica-check", daemon=True).start()
            self._pid = os.getpid()

    def healthy(self) -> list[str]:
        return [
            alias for alias in self.aliases if self.health.get(alias, Health(False, "")).healthy
        ]

    def next_turn(self) -> int:
        # Not locked: two threads taking the same turn only send two reads to one replica.
        self._turn += 1
        return self._turn

    def failed(self, alias: str, error: BaseException) -> None:
        """A request's query on ``alias`` failed: out of rotation now, and checked again soon."""
        if alias in self.aliases:
            self.health = {
                **self.health,
                alias: Health(False, f"failed under a request: {str(error).strip()[:200]}"),
            }
            log.warning("replica %s out of rotation: failed under a request: %s", alias, error)
            self._wake.set()


_rotation: Rotation | None = None
_rotation_lock = threading.Lock()


def rotation() -> Rotation:
    """This process's :class:`Rotation` of ``settings.REGISTRY_REPLICAS``."""
    global _rotation
    aliases = list(getattr(settings, "REGISTRY_REPLICAS", []))
    if _rotation is None or _rotation.aliases != aliases:
        with _rotation_lock:
            if _rotation is None or _rotation.aliases != aliases:
                _rotation = Rotation(
                    aliases,
                    interval=settings.REGISTRY_REPLICA_CHECK_SECONDS,
                    max_lag=settings.REGISTRY_REPLICA_MAX_LAG_SECONDS,
                )
    return _rotation


def writing() -> bool:
    """Whether the primary's connection is inside a transaction of the code's own (one a
    test case wraps every test in does not count, as Django's own durable check reasons)."""
    return any(not block._from_testcase for block in connections[DEFAULT_DB_ALIAS].atomic_blocks)


def reading():
    """The connection a raw query that reads should use: the one the router would choose."""
    return connections[read_alias(request_alias=_reads.get(), writing=writing())]


# -- Django's hooks -------------------------------------------------------------------------


class ReplicaRouter:
    """Reads where the request's decision says (:func:`read_alias`), writes and migrations on
    the primary only."""

    def db_for_read(self, model, **hints):
        return read_alias(request_alias=_reads.get(), writing=writing())

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replicas are copies of the primary: every object is in both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


def _has_credentials(request) -> bool:
    return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


def choose(request, *, reads_only: bool = False) -> str:
    """The database ``request`` reads from (:func:`request_reads` with this process's
    replicas and the request's credentials and pin)."""
    replicas = rotation()
    replicas.start()
    return request_reads(
        method=request.method,
        reads_only=reads_only,
        has_credentials=_has_credentials(request),
        pinned=PIN_COOKIE in request.COOKIES or getattr(request, "registry_primary_only", False),
        healthy=replicas.healthy(),
        turn=replicas.next_turn(),
    )


@contextlib.contextmanager
def routed(request):
    """Reads in the block go where :func:`choose` says: for code that answers a request
    before Django's middleware runs (``api/early.py``). A replica's connection error met in
    the block takes that replica out (:func:`note_failure`) before it is raised."""
    reads, failed = _reads.set(choose(request)), _replica_failed.set(False)
    try:
        yield
    except DatabaseError as error:
        note_failure(error)
        raise
    finally:
        _reads.reset(reads)
        _replica_failed.reset(failed)


class ReadRouting:
    """Chooses the request's database (:func:`request_reads`) once its view is known, pins a
    writer to the primary for ``REGISTRY_PRIMARY_PIN_SECONDS`` after each write, and answers
    a public read again from the primary if its replica failed under it. Queries made before
    the view is chosen (none, in the middleware as configured) read from the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reads, failed = _reads.set(None), _replica_failed.set(False)
        request.registry_writes = request.method.upper() not in SAFE_METHODS
        try:
            response = self.get_response(request)
            alias = getattr(request, "registry_reads", None)
            if (
                alias not in (None, DEFAULT_DB_ALIAS)
                and _replica_failed.get()
                and request.method.upper() in SAFE_METHODS  # a body cannot be read twice
            ):
                # Its replica failed under it (now out of rotation): answer from the primary.
                request.registry_primary_only = True
                with contextlib.suppress(DatabaseError):
                    connections[alias].close()  # broken: the next request connects anew
                response = self.get_response(request)
        finally:
            _reads.reset(reads)
            _replica_failed.reset(failed)
        if request.registry_writes:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REGISTRY_PRIMARY_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        only = view_reads_only(view_func)
        request.registry_writes = request.method.upper() not in SAFE_METHODS and not only
        alias = choose(request, reads_only=only)
        request.registry_reads = alias
        _reads.set(alias)
        _replica_failed.set(False)
        return None


def note_failure(error: BaseException | None) -> bool:
    """Called with a database error a request met: if the request reads from a replica and
    the error is a connection's, that replica is out of rotation and :class:`ReadRouting`
    answers the request again from the primary. Whether it was so."""
    alias = _reads.get()
    if alias and alias != DEFAULT_DB_ALIAS and isinstance(error, OperationalError | InterfaceError):
        _replica_failed.set(True)
        rotation().failed(alias, error)
        return True
    return False


def _on_request_exception(sender, request=None, **kwargs) -> None:
    note_failure(sys.exc_info()[1])


got_request_exception.connect(_on_request_exception, dispatch_uid="registry.replicas")
