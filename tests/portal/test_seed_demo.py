"""seed_demo: the demo district for `make run`, loaded through the bulk importer,
with a working login for every role, and a no-op when run again."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from portal.management.commands import seed_demo
from portal.management.commands.seed_demo import (
    ACCOUNT_ROWS,
    DEMO_PASSWORD,
    DISTRICT_CODE,
)
from portal.models import (
    CommunityType,
    Department,
    DepartmentKind,
    ImportRun,
    Region,
    RegionLevel,
    Role,
    User,
)

pytestmark = pytest.mark.django_db

MAIN_ACCOUNTS = {
    "shequ": Role.COMMUNITY_OPERATOR,
    "jiedao": Role.STREET_OFFICE,
    "bumen": Role.DEPARTMENT_PUBLISHER,
    "fuzeren": Role.DEPARTMENT_APPROVER,
    "zuzhibu": Role.ORGANIZATION_DEPARTMENT,
    "admin": Role.ADMINISTRATOR,
}


def run_seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """The demo district, loaded once for the module (it takes seconds)
    inside a transaction rolled back at the end; each test's own changes
    roll back to it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield run_seed_demo()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db) -> str:
    return seeded_once


def counts() -> tuple[int, ...]:
    return (
        Region.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        ImportRun.objects.count(),
    )


def test_seed_demo_builds_a_district_of_ten_streets_and_250_communities(seeded):
    district = Region.objects.get(code=DISTRICT_CODE)
    assert district.parent.name == "上海市"
    streets = Region.objects.filter(level=RegionLevel.STREET, district=district)
    assert streets.count() == 10
    communities = Region.objects.communities().filter(district=district)
    assert 240 <= communities.count() <= 260
    assert set(communities.values_list("community_type", flat=True)) == set(
        CommunityType.values
    )
    assert not communities.filter(households__isnull=True).exists()
    for community in communities:
        assert community.street.parent == district
        assert community.population > community.households > 0
    # Villages (村委会) are rural and numbered from 201, as in the statistical codes.
    villages = communities.filter(community_type=CommunityType.RURAL)
    assert all(v.name.endswith("村委会") and v.code[-3] == "2" for v in villages)


def test_seed_demo_creates_about_40_departments_and_the_organization_department(
    seeded,
):
    functional = Department.objects.filter(kind=DepartmentKind.FUNCTIONAL)
    assert 35 <= functional.count() <= 45
    assert functional.values("family").distinct().count() >= 20
    assert functional.filter(region__level=RegionLevel.STREET).exists()
    # Every one states its duties (职责): needs are routed by them.
    assert not functional.filter(duties="").exists()
    organization = Department.objects.get(kind=DepartmentKind.ORGANIZATION)
    assert organization.name == "中共普陀区委组织部"
    assert organization.family is None


def test_every_role_can_sign_in_with_the_demo_password(seeded, client):
    users = {user.username: user for user in User.objects.all()}
    for username, role in MAIN_ACCOUNTS.items():
        assert users[username].role == role
    assert {user.role for user in users.values()} == set(Role.values)
    for username in MAIN_ACCOUNTS:
        response = client.post(
            reverse("login"), {"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, username
        assert response.url == settings.LOGIN_REDIRECT_URL
        assert client.session["_auth_user_id"] == str(users[username].pk)
        client.logout()


def test_seed_demo_prints_every_demo_login(seeded):
    for username, *_rest in ACCOUNT_ROWS:
        assert username in seeded
    assert "天山新村第一居委会" in seeded
    assert DEMO_PASSWORD in seeded


def test_a_second_run_changes_nothing(seeded):
    before = counts()
    changed = Region.objects.order_by("-updated_at").values_list("updated_at")[0]
    output = run_seed_demo()
    assert counts() == before  # no duplicates and no second ImportRun
    assert (
        Region.objects.order_by("-updated_at").values_list("updated_at")[0] == changed
    )
    assert DEMO_PASSWORD in output


def test_a_second_run_keeps_a_changed_password(seeded):
    user = User.objects.get(username="shequ")
    user.set_password("my-own-password-42")
    user.save()
    run_seed_demo()
    user.refresh_from_db()
    assert user.check_password("my-own-password-42")


def test_rows_the_importer_rejects_fail_the_command_and_write_nothing(monkeypatch):
    monkeypatch.setattr(
        seed_demo,
        "DEPARTMENT_ROWS",
        [
            *seed_demo.DEPARTMENT_ROWS,
            ("PT-XX", "普陀区某局", "不存在的条线", DISTRICT_CODE),
        ],
    )
    before = counts()
    out = StringIO()
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("seed_demo", stdout=out)
    assert "不存在的条线" in out.getvalue()
    assert counts() == before
