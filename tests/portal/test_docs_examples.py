"""The example files in docs/ import as the documentation says."""

from pathlib import Path

import pytest
from django.conf import settings

from portal.importers import import_units_file
from portal.models import Department, Region, User

pytestmark = pytest.mark.django_db

EXAMPLES = Path(settings.BASE_DIR) / "docs" / "examples"


def test_documented_example_files_import_in_order_into_an_empty_database():
    for kind in ("regions", "departments", "accounts"):
        report = import_units_file(EXAMPLES / f"{kind}.csv", dry_run=False)
        assert report.ok, report.errors
    community = Region.objects.get(code="310107015001")
    assert community.street.name == "长风新村街道"
    assert community.district.name == "普陀区"
    assert Department.objects.get(code="PT-MZ").family.name == "民政"
    assert User.objects.get(username="tianshan1").region == community
