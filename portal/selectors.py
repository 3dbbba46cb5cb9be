"""Read queries of the org tree and accounts, each scoped to what a user may see.

One rule decides the scope: a user sees the subtree of the region their unit
stands for (a community itself, a street office its street, a department or
the organization department the region it serves). Views, exports and APIs
reach regions, departments and members only through these functions, so a
code outside the scope is a 404, never someone else's data.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import Http404

from portal.models import (
    Department,
    DepartmentKind,
    Notification,
    Region,
    RegionLevel,
    Role,
    User,
)

_DEPARTMENT_STAFF = (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER)


def user_anchor_region(user: User) -> Region | None:
    """The region whose subtree ``user`` sees; None for a unit-less superuser."""
    if user.region_id:
        return user.region
    if user.department_id:
        return user.department.region
    return None


def regions_visible_to(user: User) -> QuerySet[Region]:
    if not user.is_authenticated:
        return Region.objects.none()
    anchor = user_anchor_region(user)
    if anchor is None:
        return Region.objects.all() if user.is_superuser else Region.objects.none()
    return Region.objects.subtree(anchor)


def departments_visible_to(user: User) -> QuerySet[Department]:
    """Department staff see their own department; the organization department and
    administrators the departments in their area; communities and street offices
    the departments that serve them (those of their region and its ancestors)."""
    departments = Department.objects.select_related("family", "region")
    if not user.is_authenticated:
        return departments.none()
    if user.role in _DEPARTMENT_STAFF and user.department_id:
        return departments.filter(pk=user.department_id)
    anchor = user_anchor_region(user)
    if anchor is None:
        return departments if user.is_superuser else departments.none()
    if user.region_id:
        return departments.filter(region_id__in=[anchor.pk, *anchor.ancestor_ids()])
    return departments.filter(region__in=Region.objects.subtree(anchor))


def unit_visible_to(*, user: User, code: str) -> Region | Department:
    """The region or department with ``code`` if ``user`` may see it; else Http404."""
    unit = (
        regions_visible_to(user).select_related("parent").filter(code=code).first()
        or departments_visible_to(user).filter(code=code).first()
    )
    if unit is None:
        raise Http404
    return unit


def region_ancestors(region: Region) -> list[Region]:
    """From the city down to the region's parent."""
    ancestors = Region.objects.in_bulk(region.ancestor_ids())
    return [ancestors[pk] for pk in region.ancestor_ids() if pk in ancestors]


def region_children(*, user: User, region: Region) -> QuerySet[Region]:
    """The visible regions directly under ``region``, each with its own number
    of children (``child_count``)."""
    return (
        regions_visible_to(user)
        .filter(parent=region)
        .annotate(child_count=Count("children"))
        .order_by("code")
    )


def region_child_summary(*, region: Region) -> dict[str, int]:
    """How many communities of each type lie below ``region``."""
    if region.level == RegionLevel.COMMUNITY:
        return {}
    rows = (
        Region.objects.subtree(region)
        .communities()
        .values("community_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["community_type"]: row["n"] for row in rows}


def unit_members(*, user: User, unit: Region | Department) -> QuerySet[User]:
    """The active accounts of ``unit`` — only when it is ``user``'s own unit."""
    own = (isinstance(unit, Region) and unit.pk == user.region_id) or (
        isinstance(unit, Department) and unit.pk == user.department_id
    )
    if not own:
        return User.objects.none()
    field = "region" if isinstance(unit, Region) else "department"
    return User.objects.filter(Q(**{field: unit}), is_active=True).order_by(
        "role", "name"
    )


def departments_serving(*, user: User, region: Region) -> QuerySet[Department]:
    return (
        departments_visible_to(user)
        .filter(region=region)
        .order_by("family__sort_order", "code")
    )


# Accounts to notify. Not scoped to a viewer: services pick the recipients of a
# notification with these; nothing here is shown to anyone but the recipient.


def unit_accounts(
    *,
    roles: Iterable[str],
    region_id: int | None = None,
    department_id: int | None = None,
) -> QuerySet[User]:
    """The active accounts with one of ``roles`` in the region unit or the
    department unit given."""
    if (region_id is None) == (department_id is None):
        raise ValueError("Give either region_id or department_id.")
    units = (
        Q(region_id=region_id)
        if region_id is not None
        else Q(department_id=department_id)
    )
    return User.objects.filter(units, role__in=list(roles), is_active=True)


def community_overseers(*, community: Region) -> QuerySet[User]:
    """Who oversees a community's work: the active accounts of its street
    office, and of each organization department whose area contains it (the
    district's 组织部, the city's …)."""
    return User.objects.filter(
        Q(role=Role.STREET_OFFICE, region_id=community.street_id)
        | Q(
            role=Role.ORGANIZATION_DEPARTMENT,
            department__kind=DepartmentKind.ORGANIZATION,
            department__region_id__in=[community.pk, *community.ancestor_ids()],
        ),
        is_active=True,
    )


# The inbox. The unread count shows in the header of every page, so it is
# cached per user and forgotten whenever it changes (portal.services).
UNREAD_COUNT_TIMEOUT = 300


def unread_count_cache_key(user_id: int) -> str:
    return f"portal:unread-notifications:{user_id}"


def notifications_of(user: User) -> QuerySet[Notification]:
    """``user``'s own notifications, the unread ones first, newest first."""
    return Notification.objects.filter(recipient_id=user.pk).order_by(
        Case(When(read_at__isnull=True, then=Value(0)), default=Value(1)),
        "-created_at",
        "-pk",
    )


def notification_of(*, user: User, notification_id: int) -> Notification:
    """One of ``user``'s notifications; Http404 for anyone else's."""
    notification = notifications_of(user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    return notification


def notifications_unread_count(user: User) -> int:
    """How many of ``user``'s notifications are unread (cached, see above)."""
    return cache.get_or_set(
        unread_count_cache_key(user.pk),
        lambda: Notification.objects.filter(
            recipient_id=user.pk, read_at__isnull=True
        ).count(),
        UNREAD_COUNT_TIMEOUT,
    )
