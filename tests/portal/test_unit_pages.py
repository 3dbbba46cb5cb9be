"""My unit and unit pages: each user sees their own corner of the org tree, and a
code outside it is a 404."""

import pytest
from django.urls import reverse

from portal.models import Role
from tests.factories import (
    CommunityFactory,
    DepartmentFactory,
    StreetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def unit_url(unit):
    return reverse("unit_detail", args=[unit.code])


def test_my_unit_requires_sign_in(client):
    response = client.get(reverse("my_unit"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_my_unit_shows_the_unit_its_place_in_the_tree_and_its_members(client, operator):
    colleague = UserFactory(region=operator.region, name="李红")
    client.force_login(operator)
    response = client.get(reverse("my_unit"))
    page = response.text
    assert response.status_code == 200
    assert operator.region.name in page
    assert operator.region.parent.name in page  # breadcrumb: the street
    assert operator.region.district.name in page
    assert colleague.name in page


def test_members_of_another_unit_are_never_listed(client, operator, street_officer):
    client.force_login(street_officer)
    response = client.get(unit_url(operator.region))
    assert response.status_code == 200  # the street office sees its community…
    assert operator.name not in response.text  # …but not who works there


def test_community_operator_gets_404_for_a_neighbouring_community(client, operator):
    neighbour = CommunityFactory(parent=operator.region.parent)
    client.force_login(operator)
    assert client.get(unit_url(neighbour)).status_code == 404
    assert client.get(unit_url(operator.region.parent)).status_code == 404


def test_street_office_sees_its_communities_but_not_another_street(
    client, street_officer, community
):
    other_community = CommunityFactory(
        parent=StreetFactory(parent=street_officer.region.parent)
    )
    client.force_login(street_officer)
    own = client.get(reverse("my_unit"))
    assert community.name in own.text
    assert client.get(unit_url(community)).status_code == 200
    assert client.get(unit_url(other_community)).status_code == 404
    assert client.get(unit_url(other_community.parent)).status_code == 404


def test_department_staff_see_their_own_department_only(client, publisher):
    other = DepartmentFactory(region=publisher.department.region)
    client.force_login(publisher)
    assert client.get(unit_url(publisher.department)).status_code == 200
    assert client.get(unit_url(other)).status_code == 404


def test_organization_department_sees_the_whole_district(
    client, organization_officer, community, department
):
    client.force_login(organization_officer)
    assert client.get(unit_url(community)).status_code == 200
    assert client.get(unit_url(department)).status_code == 200
    elsewhere = CommunityFactory()
    assert client.get(unit_url(elsewhere)).status_code == 404


def test_district_page_counts_communities_by_type(client, organization_officer, street):
    CommunityFactory.create_batch(2, parent=street, community_type="rural")
    CommunityFactory(parent=street, community_type="new_urban")
    client.force_login(organization_officer)
    response = client.get(unit_url(street.district))
    assert response.context["community_types"] == [
        ("新城区", 1),
        ("老城区", 0),
        ("村改居", 0),
        ("农村", 2),
    ]


def test_unknown_code_is_404(client, operator):
    client.force_login(operator)
    assert client.get(reverse("unit_detail", args=["999999999999"])).status_code == 404


@pytest.mark.parametrize(
    ("role", "sees_cms_link"),
    [
        (Role.COMMUNITY_OPERATOR, False),
        (Role.STREET_OFFICE, False),
        (Role.DEPARTMENT_PUBLISHER, True),
        (Role.ADMINISTRATOR, True),
    ],
)
def test_navigation_offers_the_cms_only_to_roles_that_edit_content(
    client, role, sees_cms_link, operator, street_officer, publisher, administrator
):
    user = {
        Role.COMMUNITY_OPERATOR: operator,
        Role.STREET_OFFICE: street_officer,
        Role.DEPARTMENT_PUBLISHER: publisher,
        Role.ADMINISTRATOR: administrator,
    }[role]
    client.force_login(user)
    response = client.get(reverse("my_unit"))
    assert ('href="/cms/"' in response.text) is sees_cms_link


def test_cms_is_closed_to_community_operators(client, operator, publisher):
    client.force_login(operator)
    assert client.get("/cms/").status_code == 302
    client.force_login(publisher)
    assert client.get("/cms/").status_code == 200
