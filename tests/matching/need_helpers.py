"""Building blocks for need tests: departments of a line of work with published
offerings (indexed for text search, as after a commit in the CMS), and
needs posted the way a community posts them."""

from __future__ import annotations

from catalog.models import Category
from matching.models import Need, NeedUrgency
from matching.need_services import need_post
from portal.models import Role
from tests.catalog.helpers import corner, offering
from tests.factories import DepartmentFactory, FamilyFactory, UserFactory


def department_of(family: str, region, **fields):
    return DepartmentFactory(region=region, family=FamilyFactory(name=family), **fields)


def staff_of(department, role=Role.DEPARTMENT_PUBLISHER, **fields):
    return UserFactory(role=role, region=None, department=department, **fields)


def published(capture, department, **fields):
    """An offering of ``department`` published and indexed (``capture`` is
    pytest-django's ``django_capture_on_commit_callbacks``)."""
    with capture(execute=True):
        return offering(corner(department), **fields)


def post(
    user, *, title="楼道电动自行车飞线充电隐患排查", category="消防安全", **fields
):
    fields.setdefault(
        "description",
        "小区楼道里电动自行车飞线充电很多，希望有部门上门排查隐患并给居民讲一讲。",
    )
    return need_post(
        user=user,
        title=title,
        category=Category.objects.get(name=category, parent__isnull=False),
        **fields,
    )


def need_row(community, user, *, category="消防安全", **fields) -> Need:
    """A need stored directly, without suggestions: for counting tests."""
    fields.setdefault("urgency", NeedUrgency.NORMAL)
    return Need.objects.create(
        community=community,
        posted_by=user,
        title=fields.pop("title", "一个需求"),
        description="说明",
        category=Category.objects.get(name=category, parent__isnull=False),
        **fields,
    )
