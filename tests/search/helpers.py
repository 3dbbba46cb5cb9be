"""Publishing the relevance corpus (tests/search/corpus.py) the way departments
do: a department, its corner of the CMS, and each offering added under it and
published through Wagtail, with its body and tags, so that the catalog entry
and the search index are written by the real receivers and task."""

from __future__ import annotations

from wagtail.rich_text import RichText

from catalog.models import Category, OfferingPage
from portal.models import Region
from tests.catalog.helpers import corner
from tests.factories import DepartmentFactory, FamilyFactory
from tests.search.corpus import DEPARTMENTS, OFFERINGS, CorpusOffering

DELIVERY_BY_KIND = {
    "venue": "at_department",
    "material": "online",
}


def corpus_publish(region: Region) -> dict[str, OfferingPage]:
    """Every corpus offering published under its department, the departments
    serving ``region``; returns the pages by title. Index writes are queued
    for after the commit, as in the CMS."""
    pages = {
        name: corner(
            DepartmentFactory(
                name=name, region=region, family=FamilyFactory(name=family)
            )
        )
        for name, family in DEPARTMENTS.items()
    }
    categories = {category.name: category for category in Category.objects.all()}
    return {
        item.title: offering_publish(pages[item.department], item, categories)
        for item in OFFERINGS
    }


def offering_publish(
    department_page, item: CorpusOffering, categories: dict[str, Category]
) -> OfferingPage:
    on_request = item.kind in ("venue", "equipment", "expert", "material")
    page = OfferingPage(
        title=item.title,
        kind=item.kind,
        category=categories[item.category],
        summary=item.summary,
        body=[("paragraph", RichText(f"<p>{item.body}</p>"))],
        delivery_mode=DELIVERY_BY_KIND.get(item.kind, "at_community"),
        availability="on_request" if on_request else "scheduled",
        monthly_capacity=5 if on_request else None,
    )
    page.tags.add(*item.tags)
    department_page.add_child(instance=page)
    page.save_revision().publish()
    return page
