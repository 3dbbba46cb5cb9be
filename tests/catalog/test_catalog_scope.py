"""Who sees which offerings, the service-area facet, and how the catalog's
listing follows publishing, pausing, deleting and department changes."""

import pytest
from django.http import QueryDict

from catalog.models import CatalogEntry, OfferingStatus
from catalog.selectors import catalog_browse, offering_facets
from catalog.services import catalog_index_page
from portal.models import Role
from portal.signals import units_changed
from tests.catalog.helpers import corner, offering
from tests.factories import (
    DepartmentFactory,
    DistrictFactory,
    FamilyFactory,
    StreetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def titles(user, query: str = "") -> set[str]:
    browse = catalog_browse(params=QueryDict(query), user=user)
    return {o.title for o in browse.page.object_list}


@pytest.fixture
def areas(street):
    """Offerings with four service areas, seen from the district of ``street``.

    | offering | department       | serves                    |
    | 全区培训 | district         | the whole district        |
    | 二街服务 | district         | only the second street    |
    | 全市讲座 | city             | the whole city            |
    | 邻区场地 | other district   | the whole other district  |
    """
    district, city = street.district, street.city
    second = StreetFactory(parent=district)
    other = DistrictFactory(parent=city)
    local = corner(DepartmentFactory(region=district))
    offering(local, title="全区培训")
    offering(local, title="二街服务", streets=[second])
    offering(corner(DepartmentFactory(region=city)), title="全市讲座")
    offering(corner(DepartmentFactory(region=other)), title="邻区场地")
    return {"second": second, "other": other, "local": local}


def test_a_community_sees_what_its_area_can_order(operator, areas):
    assert titles(operator) == {"全区培训", "全市讲座"}
    assert offering_facets(params=QueryDict(), user=operator).total == 2


def test_a_street_office_sees_what_its_street_can_order(areas):
    officer = UserFactory(role=Role.STREET_OFFICE, region=areas["second"])
    assert titles(officer) == {"全区培训", "二街服务", "全市讲座"}


def test_departments_see_everything_and_count_it_by_street(publisher, street, areas):
    assert titles(publisher) == {"全区培训", "二街服务", "全市讲座", "邻区场地"}
    facets = offering_facets(params=QueryDict(), user=publisher)
    second = areas["second"]
    # Streets of the publisher's district; the district and the city serve both.
    assert facets.counts("area") == {street.pk: 2, second.pk: 3}
    chosen = QueryDict(f"area={second.pk}")
    assert titles(publisher, chosen.urlencode()) == {"全区培训", "二街服务", "全市讲座"}
    # The facet's own choice does not change its counts.
    assert offering_facets(params=chosen, user=publisher).counts("area") == {
        street.pk: 2,
        second.pk: 3,
    }


def test_the_whole_tree_is_counted_by_district(street, areas):
    superuser = UserFactory(
        role=Role.ADMINISTRATOR, region=None, department=None, is_superuser=True
    )
    facets = offering_facets(params=QueryDict(), user=superuser)
    # One city: its districts are the values.
    assert facets.counts("area") == {street.district_id: 3, areas["other"].pk: 2}


def test_communities_get_no_service_area_facet(operator, areas):
    facets = offering_facets(params=QueryDict(), user=operator)
    assert "area" not in {facet.name for facet in facets.facets}
    # A chosen area from a crafted link is ignored rather than an error.
    assert titles(operator, f"area={areas['other'].pk}") == {"全区培训", "全市讲座"}


def test_pausing_closing_and_unpublishing_take_an_offering_out(operator, department):
    page = offering(corner(department), title="消防演练")
    assert titles(operator) == {"消防演练"}
    for status in (OfferingStatus.PAUSED, OfferingStatus.CLOSED):
        page.status = status
        page.save_revision().publish()
        assert titles(operator) == set()
    page.status = OfferingStatus.OPEN
    page.save_revision().publish()
    assert titles(operator) == {"消防演练"}
    page.unpublish()
    assert titles(operator) == set()


def test_a_deleted_offering_leaves_the_listing(operator, department):
    page = offering(corner(department), title="消防演练")
    page.delete()
    assert titles(operator) == set()
    assert not CatalogEntry.objects.exists()


def test_changing_streets_served_moves_the_offering(operator, community, department):
    page = offering(corner(department), title="上门服务", streets=[community.street])
    assert titles(operator) == {"上门服务"}
    page.service_streets.set([StreetFactory(parent=department.region)])
    page.save_revision().publish()
    assert titles(operator) == set()


def test_a_department_moved_to_another_family_is_counted_there(publisher, department):
    offering(corner(department), title="消防演练")
    department.family = FamilyFactory(name="应急")
    department.save()
    units_changed.send(sender=None, department_ids=[department.pk], user_ids=[])
    facets = offering_facets(params=QueryDict(), user=publisher)
    assert facets.counts("family") == {department.family_id: 1}


def test_a_renamed_department_shows_its_new_name_with_the_cache_on(
    client, operator, department, cache_on, django_capture_on_commit_callbacks
):
    offering(corner(department), title="消防演练")
    client.force_login(operator)
    url = catalog_index_page().url
    assert department.name in client.get(url).text
    with django_capture_on_commit_callbacks(execute=True):
        department.name = "普陀区应急管理局"
        department.save()
        units_changed.send(sender=None, department_ids=[department.pk], user_ids=[])
    assert "普陀区应急管理局" in client.get(url).text
