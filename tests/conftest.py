"""Shared fixtures: one test database per run, loaded once with the full reference data.

Loading takes tens of seconds, so it happens once per session in ``django_db_setup``; each
test then runs in a transaction that is rolled back, so tests may change data freely.
"""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from registry.models import Entry

BROWSER_CURATOR = ("browser-curator", "a-long-browser-test-password")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_reference_data", verbosity=0, stdout=StringIO())
        # Committed here, outside any test's transaction, so that a live server on its own
        # database connection (PostgreSQL) can log this curator in.
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        username, password = BROWSER_CURATOR
        user = get_user_model().objects.create_user(username, password=password, is_staff=True)
        user.groups.add(Group.objects.get(name="curator"))


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
