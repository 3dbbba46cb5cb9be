"""Building blocks for order tests: an orderable offering with one session."""

from datetime import timedelta

from django.utils import timezone

from catalog.models import OfferingSession
from portal.models import Role
from tests.catalog.helpers import corner, offering
from tests.factories import CommunityFactory, UserFactory


def scheduled_offering(department, *, seats: int = 10, days: int = 10, **fields):
    """A published offering of ``department`` with one session ``days`` ahead."""
    page = offering(corner(department), **fields)
    start = timezone.now() + timedelta(days=days)
    session = OfferingSession.objects.create(
        offering=page, starts_at=start, ends_at=start + timedelta(hours=2), seats=seats
    )
    return page, session


def operator_of(street, **fields):
    """A community operator of a new community in ``street``."""
    return UserFactory(
        role=Role.COMMUNITY_OPERATOR, region=CommunityFactory(parent=street), **fields
    )
