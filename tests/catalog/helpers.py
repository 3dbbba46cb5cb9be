"""Building blocks for catalog tests: department pages and published offerings."""

from datetime import timedelta

from django.utils import timezone

from catalog.models import (
    Category,
    CommunityTypeOption,
    DepartmentPage,
    OfferingPage,
    OfferingSession,
    OfferingStatus,
)
from catalog.services import department_catalog_sync


def corner(department) -> DepartmentPage:
    department_catalog_sync(department_ids=[department.pk])
    return DepartmentPage.objects.get(department=department)


def offering(
    department_page,
    *,
    title="社区消防安全知识培训",
    status=OfferingStatus.OPEN,
    kind="training",
    category="消防安全",
    summary="消防知识讲座和灭火器实操演练。",
    delivery_mode="at_community",
    fee=0,
    availability="scheduled",
    community_types=(),
    sessions=(),
    published_days_ago=None,
) -> OfferingPage:
    """A published offering. ``sessions`` are (days from now, seats, seats taken)."""
    page = OfferingPage(
        title=title,
        kind=kind,
        category=Category.objects.get(name=category),
        summary=summary,
        delivery_mode=delivery_mode,
        fee=fee,
        availability=availability,
        monthly_capacity=5 if availability == "on_request" else None,
        status=status,
    )
    department_page.add_child(instance=page)
    page.target_community_types.set(
        CommunityTypeOption.objects.filter(code__in=community_types)
    )
    page.save_revision().publish()
    now = timezone.now()
    for days, seats, taken in sessions:
        start = now + timedelta(days=days)
        OfferingSession.objects.create(
            offering=page,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=seats,
            seats_taken=taken,
        )
    if published_days_ago is not None:
        OfferingPage.objects.filter(pk=page.pk).update(
            first_published_at=now - timedelta(days=published_days_ago)
        )
    return page
