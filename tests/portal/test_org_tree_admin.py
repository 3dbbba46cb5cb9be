"""The org tree in the CMS: administrators browse it and extend the families."""

import pytest
from django.urls import reverse

from portal.models import DepartmentFamily

pytestmark = pytest.mark.django_db


def test_administrator_adds_a_department_family(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("departmentfamily:add"), {"name": "网信", "sort_order": 99}
    )
    assert response.status_code == 302
    assert DepartmentFamily.objects.filter(name="网信").exists()


def test_administrator_finds_a_region_by_name(client, administrator, community):
    client.force_login(administrator)
    response = client.get(reverse("region:index"), {"q": community.name[:3]})
    assert response.status_code == 200
    assert community.name in response.text


def test_organization_department_browses_but_cannot_add_families(
    client, organization_officer
):
    client.force_login(organization_officer)
    assert client.get(reverse("department:index")).status_code == 200
    assert client.get(reverse("departmentfamily:add")).status_code == 302


def test_publishers_do_not_see_the_org_tree_in_the_cms(client, publisher):
    client.force_login(publisher)
    assert client.get(reverse("region:index")).status_code == 302
    assert client.get(reverse("portal_units_import")).status_code in (302, 403)


def test_administrator_states_a_departments_duties(client, administrator, department):
    client.force_login(administrator)
    duties = "负责全区河道管理、排水管网和防汛排涝设施运行维护。"
    response = client.post(
        reverse("department:edit", args=[department.pk]),
        {"name": department.name, "family": department.family_id, "duties": duties},
    )
    assert response.status_code == 302
    department.refresh_from_db()
    assert department.duties == duties
