"""What the catalog does when pages, units or taxonomy change elsewhere."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_unpublished, post_page_move

from catalog.models import (
    CatalogCollectionPage,
    CatalogIndexPage,
    Category,
    CollectionIndexPage,
    DepartmentPage,
    OfferingPage,
)
from catalog.selectors import catalog_lookups_forget
from catalog.services import (
    catalog_entries_sync,
    department_catalog_sync,
    department_entries_sync,
    department_staff_groups_sync,
)
from portal.models import Department, DepartmentFamily
from portal.signals import units_changed

# The pages whose titles and addresses catalog_lookups holds.
LOOKUP_PAGES = (
    CatalogIndexPage,
    CollectionIndexPage,
    CatalogCollectionPage,
    DepartmentPage,
)


def connect() -> None:
    for signal in (page_published, page_unpublished, post_page_move):
        signal.connect(_offering_changed, sender=OfferingPage)
        for sender in LOOKUP_PAGES:
            signal.connect(_lookups_changed, sender=sender)
    for signal in (post_save, post_delete):
        for sender in (Category, Department, DepartmentFamily, *LOOKUP_PAGES):
            signal.connect(_lookups_changed, sender=sender)
    units_changed.connect(_units_changed, dispatch_uid="catalog_follow_units")


def _offering_changed(*, instance: OfferingPage, **kwargs) -> None:
    # In the publishing transaction: the listing never disagrees with the page.
    catalog_entries_sync(offering_ids=[instance.pk])


def _lookups_changed(**kwargs) -> None:
    catalog_lookups_forget()


def _units_changed(*, department_ids, user_ids, **kwargs) -> None:
    # Departments first, so that the groups the staff join exist.
    department_catalog_sync(department_ids=department_ids)
    department_staff_groups_sync(user_ids=user_ids)
    department_entries_sync(department_ids=department_ids)
    catalog_lookups_forget()
