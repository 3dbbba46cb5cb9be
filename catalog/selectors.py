"""Read queries of the catalog."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import DepartmentPage, OfferingPage, OfferingSession, OfferingStatus


def department_pages_live() -> QuerySet[DepartmentPage]:
    return (
        DepartmentPage.objects.live()
        .select_related("department__family")
        .order_by("department__family__sort_order", "title")
    )


def offerings_open() -> QuerySet[OfferingPage]:
    """Offerings communities can order now: published and neither paused nor closed."""
    return OfferingPage.objects.live().filter(status=OfferingStatus.OPEN)


def department_offerings_open(
    department_page: DepartmentPage,
) -> QuerySet[OfferingPage]:
    return (
        offerings_open()
        .child_of(department_page)
        .select_related("category__parent")
        .order_by("-first_published_at")
    )


def offering_upcoming_sessions(offering: OfferingPage) -> QuerySet[OfferingSession]:
    return offering.sessions.filter(starts_at__gte=timezone.now()).order_by("starts_at")
