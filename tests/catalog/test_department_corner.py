"""Each department gets its own corner of the CMS: a page, a collection, a
publisher and an approver group with rights there only, and an approval workflow."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Collection, GroupPagePermission

from catalog.models import (
    Category,
    DepartmentPage,
    OfferingPage,
    OfferingSession,
    OfferingStatus,
)
from catalog.services import department_catalog_sync, department_staff_groups_sync
from portal.importers import import_units_file
from portal.models import Role
from tests.factories import (
    DepartmentFactory,
    OrganizationDepartmentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def corner(department):
    department_catalog_sync(department_ids=[department.pk])
    return DepartmentPage.objects.get(department=department)


def staff(department, role):
    user = UserFactory(role=role, region=None, department=department)
    department_staff_groups_sync(user_ids=[user.pk])
    return user


def offering(
    department_page, *, title="社区消防安全知识培训", status=OfferingStatus.OPEN
):
    page = OfferingPage(
        title=title,
        kind="training",
        category=Category.objects.get(name="消防安全"),
        summary="消防知识讲座和灭火器实操演练。",
        delivery_mode="at_community",
        status=status,
    )
    department_page.add_child(instance=page)
    page.save_revision().publish()
    return page


def test_importing_a_department_opens_its_corner_of_the_catalog(tmp_path: Path):
    path = tmp_path / "units.csv"
    path.write_text(
        "区划代码,区划名称,层级,上级区划代码\n"
        "310100000000,上海市,市,\n310107000000,普陀区,区县,310100000000\n",
        encoding="utf-8",
    )
    import_units_file(path, dry_run=False)
    departments = tmp_path / "departments.csv"
    departments.write_text(
        "部门代码,部门名称,条线,服务区域代码,单位类别\n"
        "PT-MZ,普陀区民政局,民政,310107000000,职能部门\n"
        "PT-ZZB,中共普陀区委组织部,,310107000000,组织部\n",
        encoding="utf-8",
    )
    import_units_file(departments, dry_run=False)
    page = DepartmentPage.objects.get()
    assert page.title == "普陀区民政局"
    assert page.live
    assert page.url.startswith("/catalog/")
    assert Collection.objects.filter(name="普陀区民政局").exists()
    assert page.publisher_group.name == "普陀区民政局·经办人"
    assert page.approver_group.name == "普陀区民政局·负责人"
    assert page.get_workflow().name == "普陀区民政局发布审核"


def test_a_renamed_department_renames_its_page_and_keeps_it(street):
    department = DepartmentFactory(region=street.district, name="旧名称局")
    page = corner(department)
    department.name = "新名称局"
    department.save()
    department_catalog_sync(department_ids=[department.pk])
    page.refresh_from_db()
    assert page.title == "新名称局"
    assert DepartmentPage.objects.count() == 1


def test_the_organization_department_has_no_catalog_page(street):
    organization = OrganizationDepartmentFactory(region=street.district)
    department_catalog_sync(department_ids=[organization.pk])
    assert not DepartmentPage.objects.exists()


def test_staff_join_their_own_departments_group_and_leave_it_when_they_move(street):
    first = DepartmentFactory(region=street.district)
    second = DepartmentFactory(region=street.district)
    first_page, second_page = corner(first), corner(second)
    user = staff(first, Role.DEPARTMENT_PUBLISHER)
    assert first_page.publisher_group in user.groups.all()
    user.department, user.role = second, Role.DEPARTMENT_APPROVER
    user.save()
    department_staff_groups_sync(user_ids=[user.pk])
    groups = set(user.groups.all())
    assert second_page.approver_group in groups
    assert first_page.publisher_group not in groups


def test_publishers_get_rights_on_their_own_subtree_only(street):
    page = corner(DepartmentFactory(region=street.district))
    rights = set(
        GroupPagePermission.objects.filter(group=page.publisher_group).values_list(
            "page_id", "permission__codename"
        )
    )
    assert rights == {(page.pk, "add_page"), (page.pk, "change_page")}


def test_a_publisher_of_another_department_cannot_open_the_draft(client, street):
    own = corner(DepartmentFactory(region=street.district))
    other = corner(DepartmentFactory(region=street.district))
    draft = offering(own)
    draft.title = "草稿：新的培训"
    draft.save_revision()
    outsider = staff(other.department, Role.DEPARTMENT_PUBLISHER)
    insider = staff(own.department, Role.DEPARTMENT_PUBLISHER)
    client.force_login(outsider)
    edit_url = reverse("wagtailadmin_pages:edit", args=[draft.pk])
    assert client.get(edit_url).status_code == 302
    explorer = client.get(reverse("wagtailadmin_explore", args=[own.pk]))
    assert "草稿：新的培训" not in explorer.text
    client.force_login(insider)
    assert client.get(edit_url).status_code == 200


def test_the_approver_of_the_department_publishes_what_a_publisher_submits(street):
    page = corner(DepartmentFactory(region=street.district))
    publisher = staff(page.department, Role.DEPARTMENT_PUBLISHER)
    approver = staff(page.department, Role.DEPARTMENT_APPROVER)
    draft = offering(page)
    draft.summary = "更新后的简介"
    draft.save_revision(user=publisher)
    state = draft.get_workflow().start(draft, publisher)
    task_state = state.current_task_state
    task = task_state.task.specific
    assert task.get_actions(draft, publisher) == []
    assert "approve" in [name for name, *_ in task.get_actions(draft, approver)]
    task.on_action(task_state, approver, "approve")
    draft.refresh_from_db()
    assert draft.summary == "更新后的简介"
    assert not draft.has_unpublished_changes


def test_offering_page_shows_upcoming_sessions_with_seats_left(
    client, operator, street
):
    page = offering(corner(DepartmentFactory(region=street.district)))
    start = timezone.now() + timedelta(days=10)
    session = OfferingSession.objects.create(
        offering=page,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="社区活动室",
        seats=30,
    )
    OfferingSession.objects.filter(pk=session.pk).update(seats_taken=12)
    client.force_login(operator)
    response = client.get(page.url)
    assert response.status_code == 200
    assert "社区活动室" in response.text
    assert "18 / 30" in response.text


def test_a_paused_offering_leaves_the_department_listing_but_keeps_its_page(
    client, operator, street
):
    department_page = corner(DepartmentFactory(region=street.district))
    paused = offering(department_page, title="暂停的服务", status=OfferingStatus.PAUSED)
    offering(department_page, title="开放的服务")
    client.force_login(operator)
    listing = client.get(department_page.url).text
    assert "开放的服务" in listing
    assert "暂停的服务" not in listing
    assert client.get(paused.url).status_code == 200


def test_the_catalog_is_for_signed_in_units(client, street):
    page = corner(DepartmentFactory(region=street.district))
    response = client.get(page.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_site_navigation_leads_to_the_catalog(client, operator, street):
    corner(DepartmentFactory(region=street.district))
    client.force_login(operator)
    response = client.get(reverse("my_unit"))
    assert 'href="/catalog/"' in response.text
