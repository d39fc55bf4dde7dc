"""Shared fixtures: one loaded test database per session, copied from a cached template.

The session's database is migrated and loaded with the full reference data by the real loader,
once for each state of the code and the data: ``tests/databases.py`` keeps the result as a
template and copies it into later sessions' (and every pytest-xdist worker's) databases, so a
run with nothing changed loads nothing. Each test then runs in a transaction that is rolled
back, so tests may change data freely.

Tests that need an empty registry ask for ``empty_registry`` (the whole test) or
``empty_database`` (``with empty_database(): …``): a second test database, migrated and never
loaded, stands in for the default one. Those tests are given both databases automatically.
``factory`` builds registers, entries and change events (``tests/factories.py``).
"""

import copy
import datetime as dt
import threading

import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.test import override_settings

from registry.models import Entry
from tests import databases
from tests.factories import Factory

BROWSER_CURATOR = databases.BROWSER_CURATOR
EMPTY_FIXTURES = {"empty_database", "empty_registry"}


def pytest_collection_modifyitems(items):
    for item in items:
        if EMPTY_FIXTURES & set(getattr(item, "fixturenames", ())):
            # First, so that it is the mark pytest-django reads.
            item.add_marker(
                pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, databases.EMPTY]), append=False
            )


@pytest.fixture(scope="session", autouse=True)
def throttle_cache_of_this_session(tmp_path_factory):
    """Throttles count, and rendered answers are kept, in file-based caches that processes
    share (``var/throttle``, ``var/cache``): each session, and so each pytest-xdist worker,
    gets its own, so that a test clearing one cannot reset another worker's count (nor a
    developer's server's), nor read a body another database rendered."""
    caches = copy.deepcopy(settings.CACHES)
    caches["throttle"]["LOCATION"] = str(tmp_path_factory.mktemp("throttle"))
    caches["default"]["LOCATION"] = str(tmp_path_factory.mktemp("render"))
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(autouse=True)
def no_index_build_outlives_its_test():
    """A test that reads the reconciliation manifest starts the index build in a background
    thread (``index.warm``); it is waited for here, so that it cannot read a table while the
    next test writes it ("database table is locked" on SQLite's shared in-memory database)."""
    yield
    for thread in threading.enumerate():
        if thread.name == "reconcile-index":
            thread.join()


@pytest.fixture(scope="session", autouse=True)
def no_sparql_store_unless_asked(tmp_path_factory):
    """No test writes to a developer's SPARQL store (``var/oxigraph``) or to the session's
    shared one: writes update a store only in tests that give them one of their own."""
    with override_settings(
        REGISTRY_SPARQL_STORE=tmp_path_factory.mktemp("no-sparql-store"),
        REGISTRY_SPARQL_UPDATES=False,
    ):
        yield


@pytest.fixture(scope="session")
def sparql_store(django_db_setup, django_db_blocker, db_template, no_sparql_store_unless_asked):
    """The SPARQL store of the loaded test database, built once per template (beside it, in
    ``var/test-template/…/oxigraph``, under the templates' lock) and shared read-only by every
    session and worker; the settings point at it for the rest of the session."""
    from registry import sparql

    directory = db_template.directory / "oxigraph"
    with override_settings(REGISTRY_SPARQL_STORE=directory):
        db_template.lock()
        try:
            if not sparql.exists() or sparql.stale():
                with django_db_blocker.unblock():
                    sparql.build()
        finally:
            db_template.unlock()
        yield directory


@pytest.fixture(scope="session", autouse=True)
def checker_results_of_this_session(tmp_path_factory):
    """Files checked through the checker's form are kept in a folder of the session's own,
    not the developer's ``var/checker-results``."""
    with override_settings(REGISTRY_CHECKER_RESULTS_DIR=tmp_path_factory.mktemp("checked")):
        yield


@pytest.fixture(scope="session")
def db_template(django_db_modify_db_settings_parallel_suffix, django_db_blocker):
    databases.add_empty_database()
    databases.add_replica_mirror()
    with django_db_blocker.unblock():
        return databases.Template.for_session()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(db_template):
    db_template.configure()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, db_template):
    with django_db_blocker.unblock():
        db_template.fill()


@pytest.fixture(scope="session")
def reference_load(django_db_setup, db_template) -> str:
    """The output of ``load_reference_data`` loading the fixtures into an empty, migrated
    database: the load that built the session's database (from the same code and data,
    whichever session it ran in)."""
    return db_template.output


@pytest.fixture
def empty_database(db):
    """``with empty_database(): …`` runs its block on an empty, migrated registry."""
    return databases.use_empty_database


@pytest.fixture
def empty_registry(empty_database):
    """The whole test runs on an empty, migrated registry."""
    with empty_database():
        yield


@pytest.fixture(params=["shapely", "postgis"])
def spatial_engine(request, settings, db):
    """Each point-lookup engine in turn (``REGISTRY_SPATIAL_ENGINE``): shapely on every
    database; postgis where the test database has the boundaries' PostGIS column (PostgreSQL
    with the extension), skipped elsewhere, saying why."""
    from django.db import connection

    from geography import postgis, spatial

    if request.param == "postgis" and not postgis.installed(connection):
        pytest.skip(f"no PostGIS on this {connection.vendor} test database")
    settings.REGISTRY_SPATIAL_ENGINE = request.param
    engine = spatial.engine()
    assert engine.name == request.param
    return engine


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def area(db):
    """Look up an area entry by GSS code."""

    def get(code: str) -> Entry:
        return Entry.objects.select_related("register").get(
            register__slug="statistical-geography", key=code
        )

    return get


@pytest.fixture
def council(db):
    def get(code: str) -> Entry:
        return Entry.objects.select_related("register").get(
            register__slug="local-authority", key=code
        )

    return get


def d(value: str) -> dt.date:
    return dt.date.fromisoformat(value)
