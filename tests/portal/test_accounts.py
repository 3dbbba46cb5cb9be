"""Signing in, lockout, set-password links and role groups."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse

from portal.models import Role, User
from portal.roles import ROLE_GROUP_NAMES
from portal.services import account_invitation_url, role_groups_sync
from tests.conftest import PASSWORD
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_unit_account_signs_in_and_lands_on_its_workbench(client, operator):
    response = sign_in(client, operator.username, PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("workbench")
    workbench = client.get(response.url)
    assert operator.region.name in workbench.text  # header shows the unit
    assert "工作台" in workbench.text


def test_wrong_password_shows_a_chinese_error_and_keeps_the_username(client, operator):
    response = sign_in(client, operator.username, "wrong-password")
    assert response.status_code == 200
    assert "请输入一个正确的" in response.text
    assert f'value="{operator.username}"' in response.text


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, operator):
    for _ in range(5):
        sign_in(client, operator.username, "wrong-password")
    response = sign_in(client, operator.username, PASSWORD)
    assert response.status_code == 429
    assert "账号已锁定" in response.text
    assert "_auth_user_id" not in client.session


def test_lockout_of_one_account_leaves_others_alone(client, operator, publisher):
    for _ in range(5):
        sign_in(client, operator.username, "wrong-password")
    assert sign_in(client, publisher.username, PASSWORD).status_code == 302


def test_there_is_no_self_registration(client):
    assert client.get("/accounts/signup/").status_code == 404
    assert client.get("/accounts/register/").status_code == 404


def test_set_password_link_works_once(client, operator):
    operator.set_unusable_password()
    operator.save()
    link = account_invitation_url(operator).removeprefix("http://127.0.0.1:8000")
    form_page = client.get(link, follow=True)
    assert "设置密码" in form_page.text
    new_password = "a-long-new-passphrase"
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert response.status_code == 302
    assert response.url == reverse("account_activate_done")
    client.logout()
    assert sign_in(client, operator.username, new_password).status_code == 302
    client.logout()
    again = client.get(link, follow=True)
    assert "链接无效" in again.text


def test_password_change_needs_the_old_password(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "not-it",
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 200
    assert "旧密码不正确" in response.text


def test_database_refuses_an_account_without_a_unit():
    with pytest.raises(IntegrityError):
        User.objects.create(username="nobody", role=Role.COMMUNITY_OPERATOR)


def test_every_role_has_a_group_created_by_code():
    Group.objects.all().delete()
    role_groups_sync()
    role_groups_sync()  # idempotent
    assert set(Group.objects.values_list("name", flat=True)) == set(
        ROLE_GROUP_NAMES.values()
    )
    administrators = Group.objects.get(name=ROLE_GROUP_NAMES[Role.ADMINISTRATOR])
    assert administrators.permissions.filter(codename="import_units").exists()
    operators = Group.objects.get(name=ROLE_GROUP_NAMES[Role.COMMUNITY_OPERATOR])
    assert not operators.permissions.exists()


def test_administrator_creates_an_account_and_gets_its_set_password_link(
    client, administrator, community
):
    client.force_login(administrator)
    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "username": "newcomer",
            "name": "新人",
            "email": "",
            "role": Role.COMMUNITY_OPERATOR,
            "unit_code": community.code,
        },
        follow=True,
    )
    user = User.objects.get(username="newcomer")
    assert user.region == community
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == [
        ROLE_GROUP_NAMES[Role.COMMUNITY_OPERATOR]
    ]
    assert "/accounts/activate/" in response.text


def test_admin_user_form_moves_an_account_to_another_unit(
    client, administrator, operator
):
    department = DepartmentFactory(region=administrator.department.region)
    client.force_login(administrator)
    url = reverse("wagtailusers_users:edit", args=[operator.pk])
    response = client.post(
        url,
        {
            "username": operator.username,
            "name": operator.name,
            "email": operator.email,
            "phone": "",
            "role": Role.DEPARTMENT_PUBLISHER,
            "unit_code": department.code,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    operator.refresh_from_db()
    assert operator.department == department
    assert operator.region is None
    assert list(operator.groups.values_list("name", flat=True)) == [
        ROLE_GROUP_NAMES[Role.DEPARTMENT_PUBLISHER]
    ]


def test_admin_user_form_rejects_a_role_that_does_not_fit(
    client, administrator, operator
):
    client.force_login(administrator)
    url = reverse("wagtailusers_users:edit", args=[operator.pk])
    response = client.post(
        url,
        {
            "username": operator.username,
            "name": operator.name,
            "email": operator.email,
            "role": Role.STREET_OFFICE,
            "unit_code": operator.region.code,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "街道（乡镇）账号必须属于街道或乡镇" in response.text


def test_administrator_prints_a_new_set_password_link_for_a_forgetful_user(
    client, operator
):
    out = StringIO()
    call_command("account_link", operator.username, stdout=out)
    link = re.search(r"http://127\.0\.0\.1:8000(\S+)", out.getvalue()).group(1)
    form_page = client.get(link, follow=True)
    new_password = "remembered-this-time"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    client.logout()
    assert sign_in(client, operator.username, new_password).status_code == 302


def test_account_link_refuses_unknown_usernames():
    with pytest.raises(CommandError, match="nobody"):
        call_command("account_link", "nobody")
