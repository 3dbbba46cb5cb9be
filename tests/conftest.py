import pytest
from django.conf import settings
from django.core.cache import cache

from portal.models import Role
from tests.factories import (
    CommunityFactory,
    DepartmentFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)

PASSWORD = "correct-horse-battery"


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
