"""Building blocks for order tests: an orderable offering with one session,
its operator, and the rows of an export."""

from datetime import timedelta
from io import BytesIO

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from catalog.models import OfferingSession
from portal.exports import XLSX_CONTENT_TYPE
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


def sheets(response) -> dict[str, list[list]]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    workbook = load_workbook(BytesIO(response.content))
    return {
        sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }


def exported(client, url_name, **params) -> list[list]:
    """The rows (header first) of a one-sheet export."""
    (rows,) = sheets(client.get(reverse(url_name), params)).values()
    return rows
