"""With CATALOG_ORGANIZATION_APPROVAL on, the organization department reviews
every offering its department approved, in the CMS, before it is published."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import GroupApprovalTask

from catalog.importers import offering_import_rights
from catalog.models import Category, OfferingPage
from catalog.services import (
    ORGANIZATION_REVIEW_TASK_NAME,
    department_staff_groups_sync,
    department_workflows_sync,
)
from portal.models import Role
from tests.catalog.helpers import corner
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def staff(department, role):
    user = UserFactory(role=role, region=None, department=department)
    department_staff_groups_sync(user_ids=[user.pk])
    return user


def submitted_offering(department_page, publisher) -> OfferingPage:
    """A new offering, never published, that its publisher submitted."""
    page = OfferingPage(
        title="社区应急疏散演练",
        kind="training",
        category=Category.objects.get(name="消防安全"),
        summary="指导居民按预案疏散并清点人数。",
        delivery_mode="at_community",
        live=False,
    )
    department_page.add_child(instance=page)
    page.save_revision(user=publisher)
    page.get_workflow().start(page, publisher)
    return page


def approve(page, user) -> None:
    task_state = page.current_workflow_task_state
    assert "approve" in [
        name for name, *_ in task_state.task.specific.get_actions(page, user)
    ]
    task_state.task.specific.on_action(task_state, user, "approve")


def workflow_steps(department_page) -> list[str]:
    return [task.name for task in department_page.get_workflow().tasks]


def test_with_organization_approval_an_offering_is_published_once_both_approved(
    client, settings, department, organization_officer
):
    settings.CATALOG_ORGANIZATION_APPROVAL = True
    department_page = corner(department)
    page = submitted_offering(
        department_page, staff(department, Role.DEPARTMENT_PUBLISHER)
    )
    edit_url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    client.force_login(organization_officer)
    assert client.get(edit_url).status_code == 302

    approve(page, staff(department, Role.DEPARTMENT_APPROVER))

    page.refresh_from_db()
    assert not page.live
    task_state = page.current_workflow_task_state
    assert task_state.task.name == ORGANIZATION_REVIEW_TASK_NAME
    approve_url = reverse(
        "wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk]
    )
    assert approve_url in client.get(reverse("wagtailadmin_home")).text
    assert client.get(edit_url).status_code == 200

    assert client.post(approve_url).status_code == 302

    page.refresh_from_db()
    assert page.live
    assert client.get(edit_url).status_code == 302


def test_the_organization_department_can_send_an_offering_back(
    client, settings, department, organization_officer
):
    settings.CATALOG_ORGANIZATION_APPROVAL = True
    page = submitted_offering(
        corner(department), staff(department, Role.DEPARTMENT_PUBLISHER)
    )
    approve(page, staff(department, Role.DEPARTMENT_APPROVER))
    task_state = page.current_workflow_task_state
    client.force_login(organization_officer)

    response = client.post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=[page.pk, "reject", task_state.pk],
        ),
        {"comment": "请补充服务对象和联系人。"},
    )

    assert response.status_code == 302
    page.refresh_from_db()
    assert not page.live
    assert page.current_workflow_state.status == "needs_changes"


def test_without_organization_approval_the_department_approval_publishes(
    settings, department
):
    settings.CATALOG_ORGANIZATION_APPROVAL = False
    department_page = corner(department)
    page = submitted_offering(
        department_page, staff(department, Role.DEPARTMENT_PUBLISHER)
    )

    approve(page, staff(department, Role.DEPARTMENT_APPROVER))

    page.refresh_from_db()
    assert page.live
    assert workflow_steps(department_page) == [f"{department.name}负责人审核"]


def test_switching_organization_approval_updates_existing_workflows(settings, street):
    settings.CATALOG_ORGANIZATION_APPROVAL = False
    first = corner(DepartmentFactory(region=street.district, name="区民政局"))
    second = corner(DepartmentFactory(region=street.district, name="区司法局"))

    settings.CATALOG_ORGANIZATION_APPROVAL = True
    department_workflows_sync()
    department_workflows_sync()

    assert workflow_steps(first) == [
        "区民政局负责人审核",
        ORGANIZATION_REVIEW_TASK_NAME,
    ]
    assert workflow_steps(second) == [
        "区司法局负责人审核",
        ORGANIZATION_REVIEW_TASK_NAME,
    ]
    assert (
        GroupApprovalTask.objects.filter(name=ORGANIZATION_REVIEW_TASK_NAME).count()
        == 1
    )

    settings.CATALOG_ORGANIZATION_APPROVAL = False
    department_workflows_sync()

    assert workflow_steps(first) == ["区民政局负责人审核"]
    assert workflow_steps(second) == ["区司法局负责人审核"]


def test_migrate_brings_existing_workflows_in_line_with_the_setting(
    settings, department
):
    settings.CATALOG_ORGANIZATION_APPROVAL = False
    department_page = corner(department)
    settings.CATALOG_ORGANIZATION_APPROVAL = True

    call_command("migrate", verbosity=0)

    assert workflow_steps(department_page)[-1] == ORGANIZATION_REVIEW_TASK_NAME


def test_with_organization_approval_approvers_cannot_publish_past_it(
    client, settings, department
):
    settings.CATALOG_ORGANIZATION_APPROVAL = True
    page = submitted_offering(
        corner(department), staff(department, Role.DEPARTMENT_PUBLISHER)
    )
    approver = staff(department, Role.DEPARTMENT_APPROVER)
    assert not page.permissions_for_user(approver).can_publish()
    assert not offering_import_rights(approver).may_publish

    settings.CATALOG_ORGANIZATION_APPROVAL = False
    department_workflows_sync()

    # A fresh request: Wagtail caches page rights on the user object.
    approver = type(approver).objects.get(pk=approver.pk)
    assert page.permissions_for_user(approver).can_publish()
    assert offering_import_rights(approver).may_publish
