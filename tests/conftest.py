import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from portal.models import Role
from tests.factories import (
    CommunityFactory,
    DepartmentFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)

PASSWORD = "correct-horse-battery"


def migrated_copy(tmp_path_factory) -> Path:
    """Where ``django_db_setup`` keeps a copy of the SQLite test database as
    migrated, before any test wrote to it."""
    return tmp_path_factory.getbasetemp() / "migrated.sqlite3"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory):
    """pytest-django's, and on SQLite a copy of the database it migrated:
    benchmark smoke runs start from that copy instead of migrating one of
    their own, which took as long again (``tests/bench/conftest.py``)."""
    if connection.vendor == "sqlite":
        with django_db_blocker.unblock():
            connection.ensure_connection()
            with closing(sqlite3.connect(migrated_copy(tmp_path_factory))) as copy:
                connection.connection.backup(copy)


@pytest.fixture
def cache_on(settings):
    """The cache as served (the test settings turn it off): sessions and the
    catalog's lookups come from it. Emptied first, since in-memory caches of
    one name share their store across tests."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "tests",
        }
    }
    cache.clear()


@pytest.fixture
def street(db):
    return StreetFactory()


@pytest.fixture
def community(street):
    return CommunityFactory(parent=street)


@pytest.fixture
def department(street):
    return DepartmentFactory(region=street.district)


@pytest.fixture
def operator(community):
    return UserFactory(role=Role.COMMUNITY_OPERATOR, region=community)


@pytest.fixture
def street_officer(street):
    return UserFactory(role=Role.STREET_OFFICE, region=street)


@pytest.fixture
def publisher(department):
    return UserFactory(
        role=Role.DEPARTMENT_PUBLISHER, region=None, department=department
    )


@pytest.fixture
def approver(department):
    return UserFactory(
        role=Role.DEPARTMENT_APPROVER, region=None, department=department
    )


@pytest.fixture
def organization_officer(street):
    org = OrganizationDepartmentFactory(region=street.district)
    return UserFactory(role=Role.ORGANIZATION_DEPARTMENT, region=None, department=org)


@pytest.fixture
def administrator(street):
    org = OrganizationDepartmentFactory(code="ORG-ADMIN", region=street.district)
    return UserFactory(role=Role.ADMINISTRATOR, region=None, department=org)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``database_independent`` (benchmark smoke runs on their
    own SQLite files, the translation catalog, the production settings, the
    demo district that `make run` seeds on SQLite)
    would do the same work in the PostgreSQL pass of CI as in the SQLite
    one: they run in the SQLite pass only."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        return
    skip = pytest.mark.skip(reason="database-independent: run in the SQLite pass")
    for item in items:
        if "database_independent" in item.keywords:
            item.add_marker(skip)
