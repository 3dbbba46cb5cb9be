"""Building blocks for catalog tests: department pages and published offerings."""

from datetime import timedelta

from django.utils import timezone
from wagtail.rich_text import RichText

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
    streets=(),
    sessions=(),
    published_days_ago=None,
    body="",
) -> OfferingPage:
    """A published offering. ``sessions`` are (days from now, seats, seats taken);
    ``streets``, when given, replace the department's whole area."""
    now = timezone.now()
    page = OfferingPage(
        title=title,
        kind=kind,
        category=Category.objects.get(name=category),
        summary=summary,
        body=[("paragraph", RichText(body))] if body else [],
        delivery_mode=delivery_mode,
        fee=fee,
        availability=availability,
        monthly_capacity=5 if availability == "on_request" else None,
        status=status,
        whole_area=not streets,
        # Publishing keeps a first publication date that is already set.
        first_published_at=(
            None
            if published_days_ago is None
            else now - timedelta(days=published_days_ago)
        ),
    )
    department_page.add_child(instance=page)
    page.target_community_types.set(
        CommunityTypeOption.objects.filter(code__in=community_types)
    )
    page.service_streets.set(streets)
    page.save_revision().publish()
    for days, seats, taken in sessions:
        start = now + timedelta(days=days)
        session = OfferingSession.objects.create(
            offering=page,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=seats,
        )
        # Seats are taken the way the ordering app takes them, never by save().
        OfferingSession.objects.filter(pk=session.pk).update(seats_taken=taken)
    return page
