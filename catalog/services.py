"""State changes of the catalog: each department's corner of the CMS."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
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

from catalog.models import (
    CatalogEntry,
    CatalogIndexPage,
    CollectionIndexPage,
    DepartmentPage,
    OfferingDemand,
    OfferingPage,
    OfferingSession,
    OfferingStatus,
    community_type_bits,
)
from catalog.signals import demand_changed, seats_changed
from portal.models import Department, DepartmentKind, Role, User
from portal.roles import ROLE_GROUP_NAMES

CATALOG_TITLE = "服务目录"
# The collections' (专题) own page, below the catalog index: /catalog/topics/.
COLLECTION_INDEX_TITLE = "专题"
COLLECTION_INDEX_SLUG = "topics"
COLLECTION_INDEX_INTRODUCTION = (
    "组织部围绕一个主题，把各部门可以送进社区的服务汇集在一起；"
    "各部门上新、暂停或下架服务时，专题随之更新。"
)
# The image and document collection for collections' (专题) cover pictures.
COLLECTIONS_MEDIA_NAME = "专题"
COLLECTION_EDITOR_ROLES = (Role.ORGANIZATION_DEPARTMENT, Role.ADMINISTRATOR)
COLLECTION_EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page")

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
    under the default site's home page, with the collections' page below it."""
    index = CatalogIndexPage.objects.first()
    if index is not None:
        return index
    home = Site.objects.get(is_default_site=True).root_page
    index = CatalogIndexPage(title=CATALOG_TITLE, slug="catalog")
    home.add_child(instance=index)
    index.save_revision().publish()
    collection_editors_sync()
    return index


def collection_index_page() -> CollectionIndexPage:
    """The collections' (专题) page, /catalog/topics/, made with the catalog
    index (see ``collection_editors_sync``)."""
    catalog_index_page()
    topics = CollectionIndexPage.objects.first()
    if topics is None:
        collection_editors_sync()
        topics = CollectionIndexPage.objects.get()
    return topics


@transaction.atomic
def collection_editors_sync() -> None:
    """Give collections (专题) their own page below the catalog index, and let
    the organization department and administrators add, edit and publish
    collections there: page rights on that page only, and an image and
    document collection of their own for cover pictures.

    Idempotent; runs after every migrate, and is a no-op until the catalog
    index exists (its creation calls this again). Rights these groups once
    held on the catalog index itself are taken away: there they would cover
    every department's offerings too. Functional departments' groups get
    nothing here: their rights stay on their own department page.
    """
    index = CatalogIndexPage.objects.first()
    if index is None:
        return
    topics = CollectionIndexPage.objects.first()
    if topics is None:
        topics = CollectionIndexPage(
            title=COLLECTION_INDEX_TITLE,
            slug=COLLECTION_INDEX_SLUG,
            introduction=COLLECTION_INDEX_INTRODUCTION,
        )
        index.add_child(instance=topics)
        topics.save_revision().publish()
    groups = [
        Group.objects.get_or_create(name=ROLE_GROUP_NAMES[role])[0]
        for role in COLLECTION_EDITOR_ROLES
    ]
    page_permissions = list(
        Permission.objects.filter(
            content_type__app_label="wagtailcore",
            codename__in=COLLECTION_EDITOR_PAGE_PERMISSIONS,
        )
    )
    GroupPagePermission.objects.filter(
        group__in=groups, page=index, permission__in=page_permissions
    ).delete()
    media = Collection.objects.filter(name=COLLECTIONS_MEDIA_NAME, depth=2).first()
    if media is None:
        media = Collection.get_first_root_node().add_child(name=COLLECTIONS_MEDIA_NAME)
    for group in groups:
        for permission in page_permissions:
            GroupPagePermission.objects.get_or_create(
                group=group, page=topics, permission=permission
            )
        for app_label, codename in COLLECTION_PERMISSIONS:
            GroupCollectionPermission.objects.get_or_create(
                group=group,
                collection=media,
                permission=Permission.objects.get(
                    content_type__app_label=app_label, codename=codename
                ),
            )


@transaction.atomic
def department_catalog_sync(*, department_ids: Iterable[int]) -> None:
    """Give each functional department its page, its image and document
    collection, a publisher and an approver group with rights on those only,
    and an approval workflow in which its approvers publish (after which the
    organization department reviews too, see ``department_workflows_sync``).

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
    _approver_publishing_sync(pages=[page])
    workflow = Workflow.objects.create(name=f"{department.name}发布审核")
    task = GroupApprovalTask.objects.create(name=f"{department.name}负责人审核")
    task.groups.set([page.approver_group])
    WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.create(workflow=workflow, page=page)
    _organization_review_sync(workflow_ids=[workflow.pk])
    return page


# The organization department's review (CATALOG_ORGANIZATION_APPROVAL): one
# task shared by every department's workflow, after the department approver's.
ORGANIZATION_REVIEW_TASK_NAME = "组织部审核"


@transaction.atomic
def department_workflows_sync() -> None:
    """Bring every department's approval workflow in line with
    ``settings.CATALOG_ORGANIZATION_APPROVAL``: when it is on, the organization
    department reviews what the department approver approved, and the offering
    is published when it approves too; when it is off, the department
    approver's approval publishes.

    Idempotent; runs after every migrate, so a changed setting reaches the
    existing workflows at the next deploy. Offerings under review at that
    moment go on from the step they are at: one already waiting for the
    organization department when the setting goes off is still reviewed, and
    published, by it.
    """
    _organization_review_sync(
        workflow_ids=WorkflowPage.objects.filter(
            page__in=DepartmentPage.objects.all()
        ).values_list("workflow_id", flat=True)
    )
    _approver_publishing_sync(pages=DepartmentPage.objects.all())


def _approver_publishing_sync(*, pages: Iterable[DepartmentPage]) -> None:
    """Department approvers publish directly only while the organization
    department does not review: with its review on, publishing from the editor
    or an import would skip it, so approvers approve their step and the
    organization department's approval publishes."""
    publish = Permission.objects.get(
        content_type__app_label="wagtailcore", codename="publish_page"
    )
    for page in pages:
        if settings.CATALOG_ORGANIZATION_APPROVAL:
            GroupPagePermission.objects.filter(
                group_id=page.approver_group_id, page=page, permission=publish
            ).delete()
        elif page.approver_group_id:
            GroupPagePermission.objects.get_or_create(
                group_id=page.approver_group_id, page=page, permission=publish
            )


def _organization_review_sync(*, workflow_ids: Iterable[int]) -> None:
    workflow_ids = set(workflow_ids)
    if not settings.CATALOG_ORGANIZATION_APPROVAL:
        WorkflowTask.objects.filter(
            workflow_id__in=workflow_ids, task__name=ORGANIZATION_REVIEW_TASK_NAME
        ).delete()
        return
    task = _organization_review_task()
    reviewed = set(
        WorkflowTask.objects.filter(task=task).values_list("workflow_id", flat=True)
    )
    last_steps = dict(
        WorkflowTask.objects.filter(workflow_id__in=workflow_ids)
        .values("workflow_id")
        .annotate(last=Max("sort_order"))
        .values_list("workflow_id", "last")
    )
    WorkflowTask.objects.bulk_create(
        WorkflowTask(
            workflow_id=workflow_id,
            task=task,
            sort_order=(last_steps.get(workflow_id) or 0) + 1,
        )
        for workflow_id in workflow_ids - reviewed
    )


def _organization_review_task() -> GroupApprovalTask:
    task = (
        GroupApprovalTask.objects.filter(name=ORGANIZATION_REVIEW_TASK_NAME)
        .order_by("pk")
        .first()
    ) or GroupApprovalTask.objects.create(name=ORGANIZATION_REVIEW_TASK_NAME)
    if not task.active:
        task.active = True
        task.save(update_fields=["active"])
    group, _created = Group.objects.get_or_create(
        name=ROLE_GROUP_NAMES[Role.ORGANIZATION_DEPARTMENT]
    )
    task.groups.set([group])
    return task


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


@transaction.atomic
def catalog_entries_sync(*, offering_ids: Iterable[int]) -> None:
    """Bring the catalog entries of these offerings in line with their pages:
    one entry for each published open offering, none for the others."""
    offering_ids = list(offering_ids)
    CatalogEntry.objects.filter(pk__in=offering_ids).delete()
    offerings = list(
        OfferingPage.objects.live()
        .filter(pk__in=offering_ids, status=OfferingStatus.OPEN)
        .prefetch_related("target_community_types", "service_streets")
    )
    department_pages = {
        page.path: page
        for page in DepartmentPage.objects.filter(
            path__in={offering.path[: -Page.steplen] for offering in offerings}
        ).select_related("department")
    }
    entries, areas = [], []
    area_link = CatalogEntry.areas.through
    for offering in offerings:
        department_page = department_pages.get(offering.path[: -Page.steplen])
        if department_page is None:
            continue
        department = department_page.department
        entries.append(
            CatalogEntry(
                offering=offering,
                department=department,
                family_id=department.family_id,
                category_id=offering.category_id,
                kind=offering.kind,
                delivery_mode=offering.delivery_mode,
                availability=offering.availability,
                is_free=offering.is_free,
                community_types=community_type_bits(
                    option.code for option in offering.target_community_types.all()
                ),
                published_at=offering.first_published_at,
            )
        )
        served = (
            [department.region_id]
            if offering.whole_area
            else [street.pk for street in offering.service_streets.all()]
        )
        areas.extend(
            area_link(catalogentry_id=offering.pk, region_id=region_id)
            for region_id in served
        )
    CatalogEntry.objects.bulk_create(entries)
    area_link.objects.bulk_create(areas)


def department_entries_sync(*, department_ids: Iterable[int]) -> None:
    """Refresh the entries of these departments' offerings, whose family and
    service area come from the department."""
    catalog_entries_sync(
        offering_ids=CatalogEntry.objects.filter(
            department_id__in=list(department_ids)
        ).values_list("pk", flat=True)
    )


def session_seats_take(*, session_id: int, seats: int) -> bool:
    """Take ``seats`` seats of a session if that many are left, and say whether
    they were taken.

    One conditional UPDATE: the database checks and takes in one step, so two
    takers can never both get the last seat, and no lock is held beyond the
    row's own write. The ``session_never_overbooked`` check constraint is the
    backstop. When too few seats are left, the row is locked and counted
    again before saying no (see below). Call inside the transaction that
    records why; a refused caller holds the row until it commits. Sends
    ``seats_changed`` when the seats were taken.
    """
    session = OfferingSession.objects.filter(pk=session_id)
    taken = session.filter(seats_taken__lte=F("seats") - seats).update(
        seats_taken=F("seats_taken") + seats
    )
    if not taken and connection.features.has_select_for_update:
        # PostgreSQL's UPDATE above judged the row by its last committed
        # version without waiting, so it missed seats that a cancellation is
        # freeing right now; and that cancellation's waiting-list promotion
        # cannot see this caller's order, not yet committed either: the order
        # would wait beside a free seat. Locking the row waits for such a
        # transaction and holds off the next one until this caller commits,
        # whose promotion then finds the order. (SQLite needs none of this:
        # its IMMEDIATE transactions already hold the whole database.)
        counts = session.select_for_update().values_list("seats", "seats_taken")
        for offered, held in counts:
            if held + seats <= offered:
                taken = session.update(seats_taken=F("seats_taken") + seats)
    if taken:
        _seats_changed(session_id)
    return bool(taken)


def sessions_lock(*, session_ids: Iterable[int]) -> dict[int, int]:
    """Lock the rows of the sessions ``session_ids`` in the order of their ids,
    until the caller's transaction ends, and say how many seats each has left.

    For a caller that takes the seats of several sessions in one transaction
    (publishing a campaign): taken one after another, each session's row is
    held while the next is waited for, and two such callers going through
    their sessions in different orders would deadlock. Lock them all here
    first, then take their seats with ``session_seats_take``, which then
    waits for nothing and cannot fall short of the count returned. Call
    inside a transaction, before ``offerings_demand_add``: every writer locks
    sessions before demand counters, as an ordinary order does.
    """
    rows = (
        OfferingSession.objects.filter(pk__in=list(session_ids))
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "seats", "seats_taken")
    )
    return {pk: offered - taken for pk, offered, taken in rows}


def session_seats_release(*, session_id: int, seats: int) -> None:
    """Give back ``seats`` seats taken earlier with ``session_seats_take``, and
    send ``seats_changed``."""
    OfferingSession.objects.filter(pk=session_id, seats_taken__gte=seats).update(
        seats_taken=F("seats_taken") - seats
    )
    _seats_changed(session_id)


def _seats_changed(session_id: int) -> None:
    seats_changed.send(sender=OfferingSession, session_ids=[session_id])


def offering_demand_add(*, offering_id: int) -> None:
    """Count one more order of an offering (the "most ordered" sort), and send
    ``demand_changed``.

    The counter row is shared by every order of the offering: on PostgreSQL
    the UPDATE locks it until the caller commits, so call this last in the
    transaction, when little is left to do before the commit.
    """
    counted = OfferingDemand.objects.filter(offering_id=offering_id).update(
        orders_placed=F("orders_placed") + 1
    )
    if not counted:
        try:
            with transaction.atomic():
                OfferingDemand.objects.create(offering_id=offering_id, orders_placed=1)
        except IntegrityError:
            # Another order created the row meanwhile: count on it.
            OfferingDemand.objects.filter(offering_id=offering_id).update(
                orders_placed=F("orders_placed") + 1
            )
    demand_changed.send(sender=OfferingDemand, offering_ids=[offering_id])


def offerings_demand_add(*, orders: Mapping[int, int]) -> None:
    """Count ``orders[offering_id]`` more orders of each offering, and send
    ``demand_changed`` once.

    For a caller placing orders of several offerings in one transaction
    (publishing a campaign). The counter rows are locked in the order of the
    offerings' ids, so two such callers never wait for each other in a
    circle; call this after taking seats and last in the transaction, as
    ``offering_demand_add``.
    """
    counts = {pk: count for pk, count in orders.items() if count}
    if not counts:
        return
    offering_ids = sorted(counts)
    with transaction.atomic():
        # Counters never created yet are created empty first, in id order; one
        # another order is creating right now is waited for and left to it.
        OfferingDemand.objects.bulk_create(
            [OfferingDemand(offering_id=pk) for pk in offering_ids],
            ignore_conflicts=True,
        )
        rows = list(
            OfferingDemand.objects.filter(offering_id__in=offering_ids)
            .order_by("offering_id")
            .select_for_update()
        )
        for row in rows:
            row.orders_placed += counts[row.offering_id]
        OfferingDemand.objects.bulk_update(rows, ["orders_placed"])
    demand_changed.send(sender=OfferingDemand, offering_ids=offering_ids)
