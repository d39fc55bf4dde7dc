"""The test session's databases: the loaded registry, built once and copied; and an empty one.

Loading the reference data takes most of a minute (and four times as long once the registry
grows), so it happens once for each state of the things that decide what the load holds. The
first session after such a change migrates and loads its test database as before and keeps it
as a *template*; every later session, and every pytest-xdist worker, copies the template
instead of loading. A template is keyed by a digest of its inputs (:func:`digest`), and since a
stale template is worse than a slow run the digest is conservative: every file under
``registry/``, ``geography/`` and ``config/`` (models, migrations, the loader, the importers,
services, snapshots, validation, rules, settings), the app and migration modules of ``api/``,
the fixtures, this module (which says what the load is), every installed package's version,
the versions of Python and SQLite, the settings the data depends on, and whether the server
offers PostGIS.

Each template is two databases: the migrated database before the load (the *empty* one) and
after it (the loaded one).

* SQLite: two files, ``var/test-template/sqlite-<digest>/{empty,registry}.sqlite3``, which
  sqlite3's backup API copies from the session's in-memory database and, in later sessions,
  back into theirs.
* PostgreSQL: two databases, ``test_<NAME>_tpl_<digest>`` and ``…_empty``, from which each
  session's test databases are created (Django's ``TEST["TEMPLATE"]``: ``CREATE DATABASE …
  TEMPLATE …``).

Beside them, ``load.txt`` keeps the output of the load that built the template (a load into an
empty, migrated database), which the loader's dry-run test compares a dry run with. A build is
done under a lock (``var/test-template/.lock``), so concurrent workers load once between them.
Delete ``var/test-template/`` to force a fresh load.

The second database, alias ``empty``, is the migrated one without the load:
:func:`use_empty_database` makes it the default one for the tests that need an empty registry.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import importlib.metadata
import io
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "var" / "test-template"
# Everything in these folders can change what a migrated and loaded database holds.
SOURCE_DIRS = ("registry", "geography", "config")
# From api/, only what could add tables or rows: its app configuration and migrations.
API_FILES = ("api/apps.py", "api/models.py", "api/migrations")
# The module that builds the template (this one: load_reference_data below).
TEST_FILES = ("tests/databases.py",)
# Settings read by the migrations, the loader or what they write.
SETTINGS = (
    "INSTALLED_APPS",
    "AUTH_USER_MODEL",
    "PASSWORD_HASHERS",
    "MIGRATION_MODULES",
    "DEFAULT_AUTO_FIELD",
    "TIME_ZONE",
    "USE_TZ",
    "REGISTRY_URI_BASE",
    "REGISTRY_FIXTURES_DIR",
)
EMPTY = "empty"
BROWSER_CURATOR = ("browser-curator", "a-long-browser-test-password")


def load_reference_data() -> str:
    """What a session's database holds beyond its migrations, loaded into it when there is
    no template yet: the reference data, by the real loader, and a curator for the browser
    tests. Returns the load's output."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    out = io.StringIO()
    call_command("load_reference_data", stdout=out)
    # Committed here, outside any test's transaction, so that a live server on its own
    # database connection (PostgreSQL) can log this curator in.
    username, password = BROWSER_CURATOR
    user = get_user_model().objects.create_user(username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    return out.getvalue()


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        for found in sorted(path.rglob("*")):
            if found.is_file() and "__pycache__" not in found.parts:
                yield found


def digest(vendor: str, server: str = "") -> str:
    """A digest of everything that determines the content of the loaded test database;
    ``server`` is what the database server offers that the migrations use (:func:`features`)."""
    h = hashlib.blake2b(digest_size=16)

    def add(label: str, data: bytes) -> None:
        h.update(f"{label}\0{len(data)}\0".encode())
        h.update(data)

    fixtures = Path(settings.REGISTRY_FIXTURES_DIR).resolve()
    paths = [ROOT / name for name in (*SOURCE_DIRS, *API_FILES, *TEST_FILES)]
    for base in [*paths, fixtures]:
        for path in _files(base):
            label = str(path.relative_to(fixtures if base == fixtures else ROOT))
            add(("fixtures/" if base == fixtures else "") + label, path.read_bytes())
    add("vendor", vendor.encode())
    add("server", server.encode())
    add("python", sys.version.encode())
    add("sqlite", sqlite3.sqlite_version.encode())
    packages = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()
    )
    add("packages", "\n".join(packages).encode())
    for name in SETTINGS:
        add(f"settings.{name}", repr(getattr(settings, name, None)).encode())
    return h.hexdigest()


def features(connection) -> str:
    """What the server offers that changes what the migrations build: whether PostGIS can be
    created (migration geography.0002 adds the boundaries' PostGIS column only then), so a
    template built before PostGIS was installed is not reused after."""
    from geography import postgis

    return "postgis" if postgis.can_create_extension(connection) else ""


class Template:
    """The databases of one digest, as kept between sessions: the loaded registry, and the
    same migrations without the load (for the ``empty`` alias)."""

    def __init__(self) -> None:
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.key = digest(self.connection.vendor, features(self.connection))
        self.directory = TEMPLATES / f"{self.connection.vendor}-{self.key}"
        # The configured database's name, before the test database's replaces it.
        self.name = self.connection.settings_dict["NAME"]
        self.output = ""
        self._lock: int | None = None

    @classmethod
    def for_session(cls) -> Template:
        """The template of this code and data; if it has yet to be built, the lock is taken
        (and held until :meth:`fill` has built it), so that only one session builds it."""
        vendor = connections[DEFAULT_DB_ALIAS].vendor
        if vendor not in TEMPLATE_CLASSES:
            raise RuntimeError(f"tests/databases.py knows no template for {vendor} databases.")
        template = TEMPLATE_CLASSES[vendor]()
        if not template.exists():
            template.lock()
            if template.exists():  # built by another worker while this one waited
                template.unlock()
        return template

    @property
    def building(self) -> bool:
        return self._lock is not None

    def lock(self) -> None:
        TEMPLATES.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(TEMPLATES / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self._lock, fcntl.LOCK_EX)

    def unlock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def exists(self) -> bool:
        return (self.directory / "load.txt").is_file()

    def configure(self) -> None:
        """Adjust the database settings before the test databases are created."""

    def fill(self) -> None:
        """After the session's test databases are created and migrated: make them hold what
        the template holds, by copying it or, if it has yet to be built, by building it: the
        migrated database is kept as the empty one, then loaded (:func:`load_reference_data`)
        and kept as the loaded one."""
        try:
            if self.building:
                TEMPLATES.mkdir(parents=True, exist_ok=True)
                building = Path(tempfile.mkdtemp(prefix="building-", dir=TEMPLATES))
                self.keep(building, EMPTY)
                self.output = load_reference_data()
                self.keep(building, DEFAULT_DB_ALIAS)
                (building / "load.txt").write_text(self.output, encoding="utf-8")
                if self.directory.exists():
                    shutil.rmtree(self.directory)
                # A rename, so that a directory with load.txt in it is always complete.
                building.rename(self.directory)
                self.prune()
            else:
                self.restore(DEFAULT_DB_ALIAS)
                self.output = (self.directory / "load.txt").read_text(encoding="utf-8")
            if empty_database_is_set_up():
                # Copied, though Django has just migrated it: the data migrations write
                # through the default connection whichever database is being migrated, so
                # the empty one would lack the curation groups (and on PostgreSQL, where the
                # default one is loaded already, every name there would be refolded).
                self.restore(EMPTY)
        finally:
            self.unlock()
        from django.contrib.contenttypes.models import ContentType

        # Content types cached while migrating name rows of the databases just replaced.
        ContentType.objects.clear_cache()

    def keep(self, directory: Path, which: str) -> None:
        """Keep the session's default database as the template ``which`` (``default`` for
        the loaded one, ``empty``), writing files into ``directory`` (being built)."""
        raise NotImplementedError

    def restore(self, alias: str) -> None:
        """Make the session's database ``alias`` a copy of its template, if it is not one."""
        raise NotImplementedError

    def prune(self) -> None:
        """Delete the templates of other digests."""
        for other in TEMPLATES.iterdir():
            ours = other.name.startswith((f"{self.connection.vendor}-", "building-"))
            if other.is_dir() and other != self.directory and ours:
                shutil.rmtree(other, ignore_errors=True)


class SQLiteTemplate(Template):
    def file(self, which: str, directory: Path | None = None) -> Path:
        name = "registry.sqlite3" if which == DEFAULT_DB_ALIAS else f"{which}.sqlite3"
        return (directory or self.directory) / name

    def exists(self) -> bool:
        return super().exists() and all(
            self.file(which).is_file() for which in (DEFAULT_DB_ALIAS, EMPTY)
        )

    def keep(self, directory: Path, which: str) -> None:
        self.connection.ensure_connection()
        target = sqlite3.connect(self.file(which, directory))
        try:
            self.connection.connection.backup(target)
        finally:
            target.close()

    def restore(self, alias: str) -> None:
        # The backup API replaces every page of the in-memory database, schema and all;
        # other connections to it (a live server's) see the copy at once.
        connection = connections[alias]
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{self.file(alias)}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()


class PostgreSQLTemplate(Template):
    def database(self, which: str) -> str:
        name = f"{self.prefix}{self.key[:16]}"
        return name if which == DEFAULT_DB_ALIAS else f"{name}_{which}"

    @property
    def prefix(self) -> str:
        return f"test_{self.name}"[:36] + "_tpl_"

    def _cursor(self):
        # The maintenance database: a database being copied must have no connections.
        return self.connection._nodb_cursor()

    def _on_server(self) -> set[str]:
        with self._cursor() as cursor:
            cursor.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [self.prefix]
            )
            return {name for (name,) in cursor.fetchall()}

    def exists(self) -> bool:
        wanted = {self.database(DEFAULT_DB_ALIAS), self.database(EMPTY)}
        return super().exists() and wanted <= self._on_server()

    def configure(self) -> None:
        if not self.building:
            for alias in (DEFAULT_DB_ALIAS, EMPTY):
                test = settings.DATABASES[alias].setdefault("TEST", {})
                test["TEMPLATE"] = self.database(alias)

    def _copy(self, source: str, target: str) -> None:
        quote = self.connection.ops.quote_name
        connections.close_all()
        with self._cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")
            cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(source)}")

    def keep(self, directory: Path, which: str) -> None:
        self._copy(self.connection.settings_dict["NAME"], self.database(which))

    def restore(self, alias: str) -> None:
        # A session's databases are created from the templates (configure()); only the
        # session that builds them has an empty database made by migrating it.
        if self.building and alias == EMPTY:
            self._copy(self.database(EMPTY), connections[EMPTY].settings_dict["NAME"])

    def prune(self) -> None:
        super().prune()
        quote = self.connection.ops.quote_name
        ours = {self.database(DEFAULT_DB_ALIAS), self.database(EMPTY)}
        with self._cursor() as cursor:
            for name in sorted(self._on_server() - ours):
                # One in use (by a session of other code) is left for a later run.
                with contextlib.suppress(DatabaseError):
                    cursor.execute(f"DROP DATABASE {quote(name)}")


TEMPLATE_CLASSES: dict[str, type[Template]] = {
    "sqlite": SQLiteTemplate,
    "postgresql": PostgreSQLTemplate,
}


# -- The empty database ------------------------------------------------------------------


def add_empty_database() -> None:
    """Add the alias ``empty``: a test database like the default one, migrated but never
    loaded. pytest-django creates it only in a session that runs a test asking for it."""
    default = settings.DATABASES[DEFAULT_DB_ALIAS]
    empty = copy.deepcopy(default)
    test = empty.setdefault("TEST", {})
    test.pop("TEMPLATE", None)
    if test.get("NAME") or default["ENGINE"] != "django.db.backends.sqlite3":
        test["NAME"] = f"{test.get('NAME') or 'test_' + default['NAME']}_{EMPTY}"
    # SQLite without a test name: its own in-memory database, named after the alias.
    settings.DATABASES[EMPTY] = empty
    _configured_names[EMPTY] = empty["NAME"]


REPLICA = "replica-mirror"


def add_replica_mirror() -> None:
    """Add the alias ``replica-mirror``: a second connection to the default test database, as
    a streaming replica is a second copy of the primary (``TEST["MIRROR"]``), for the tests of
    the read router (``tests/registry/test_replicas.py``). It sees what is committed, which
    is the loaded data, not a test's own uncommitted rows."""
    mirror = copy.deepcopy(settings.DATABASES[DEFAULT_DB_ALIAS])
    mirror["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
    settings.DATABASES[REPLICA] = mirror


_configured_names: dict[str, str] = {}


def empty_database_is_set_up() -> bool:
    """Whether this session created the empty test database (pytest-django creates it only
    when a test asks for it); Django renames a database it sets up for tests."""
    names = settings.DATABASES.get(EMPTY, {})
    return EMPTY in _configured_names and names.get("NAME") != _configured_names[EMPTY]


def _process_caches() -> list[tuple[object, str, Callable[[object], object]]]:
    """The process caches of database contents (module, attribute, how to empty it), each
    described in its module: set aside while the default database is another one."""
    from api import reference
    from api.reconcile import index
    from registry import statistics

    return [
        (statistics, "_registers", lambda old: (0.0, {})),
        (reference, "_cache", lambda old: {}),
        (index, "_current", lambda old: None),
    ]


@contextmanager
def use_empty_database() -> Iterator[None]:
    """Inside, the default database is the empty one: every query, transaction and cursor of
    the code under test goes through ``connections["default"]``, so all of them reach it, as
    a dry run's rollback must. Caches of the other database's contents are set aside and put
    back afterwards. The test must have both databases (``django_db(databases=…)``)."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    loaded = connections[DEFAULT_DB_ALIAS]
    caches = _process_caches()
    saved = [getattr(module, name) for module, name, _ in caches]
    connections[DEFAULT_DB_ALIAS] = connections[EMPTY]
    for module, name, emptied in caches:
        setattr(module, name, emptied(getattr(module, name)))
    cache.clear()
    ContentType.objects.clear_cache()
    try:
        yield
    finally:
        connections[DEFAULT_DB_ALIAS] = loaded
        for (module, name, _), value in zip(caches, saved, strict=True):
            setattr(module, name, value)
        cache.clear()
        ContentType.objects.clear_cache()
