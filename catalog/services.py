"""State changes of the catalog: each department's corner of the CMS."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from catalog.models import CatalogIndexPage, DepartmentPage
from portal.models import Department, DepartmentKind, Role, User

CATALOG_TITLE = "服务目录"

# What each of a department's groups may do on its own subtree and collection.
PUBLISHER_PAGE_PERMISSIONS = ("add_page", "change_page")
APPROVER_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page", "lock_page")
COLLECTION_PERMISSIONS = (
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
)


def catalog_index_page() -> CatalogIndexPage:
    """The catalog's root page, created (published, at /catalog/) on first use
    under the default site's home page."""
    index = CatalogIndexPage.objects.first()
    if index is not None:
        return index
    home = Site.objects.get(is_default_site=True).root_page
    index = CatalogIndexPage(title=CATALOG_TITLE, slug="catalog")
    home.add_child(instance=index)
    index.save_revision().publish()
    return index


@transaction.atomic
def department_catalog_sync(*, department_ids: Iterable[int]) -> None:
    """Give each functional department its page, its image and document
    collection, a publisher and an approver group with rights on those only,
    and an approval workflow in which its approvers publish.

    Idempotent: an existing page keeps its content and only follows a renamed
    department. The organization department gets no catalog page.
    """
    departments = Department.objects.filter(
        pk__in=list(department_ids), kind=DepartmentKind.FUNCTIONAL
    ).select_related("catalog_page")
    for department in departments:
        page = getattr(department, "catalog_page", None)
        if page is None:
            page = _department_page_create(department)
        elif page.title != department.name:
            page.title = department.name
            page.save_revision().publish()


def _department_page_create(department: Department) -> DepartmentPage:
    page = DepartmentPage(title=department.name, department=department)
    catalog_index_page().add_child(instance=page)
    page.collection = Collection.get_first_root_node().add_child(name=department.name)
    page.publisher_group = Group.objects.create(name=f"{department.name}·经办人")
    page.approver_group = Group.objects.create(name=f"{department.name}·负责人")
    page.save()
    page.save_revision().publish()
    _grant(page.publisher_group, page, PUBLISHER_PAGE_PERMISSIONS)
    _grant(page.approver_group, page, APPROVER_PAGE_PERMISSIONS)
    workflow = Workflow.objects.create(name=f"{department.name}发布审核")
    task = GroupApprovalTask.objects.create(name=f"{department.name}负责人审核")
    task.groups.set([page.approver_group])
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.create(workflow=workflow, page=page)
    return page


def _grant(group: Group, page: Page, page_codenames: Iterable[str]) -> None:
    for codename in page_codenames:
        GroupPagePermission.objects.create(
            group=group,
            page=page,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    for app_label, codename in COLLECTION_PERMISSIONS:
        GroupCollectionPermission.objects.create(
            group=group,
            collection=page.collection,
            permission=Permission.objects.get(
                content_type__app_label=app_label, codename=codename
            ),
        )


@transaction.atomic
def department_staff_groups_sync(*, user_ids: Iterable[int]) -> None:
    """Put each publisher and approver in their own department's group, and in no
    other department's: moving to another unit or role takes the rights along."""
    users = list(User.objects.filter(pk__in=list(user_ids)))
    pages = DepartmentPage.objects.all()
    department_groups = {
        group_id
        for pair in pages.values_list("publisher_group_id", "approver_group_id")
        for group_id in pair
        if group_id
    }
    memberships = User.groups.through
    memberships.objects.filter(user__in=users, group_id__in=department_groups).delete()
    own_groups = {
        page.department_id: {
            Role.DEPARTMENT_PUBLISHER: page.publisher_group_id,
            Role.DEPARTMENT_APPROVER: page.approver_group_id,
        }
        for page in pages.filter(department_id__in={u.department_id for u in users})
    }
    memberships.objects.bulk_create(
        [
            memberships(user_id=user.pk, group_id=group_id)
            for user in users
            if (group_id := own_groups.get(user.department_id, {}).get(user.role))
        ]
    )
