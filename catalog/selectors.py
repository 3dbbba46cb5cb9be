"""Read queries of the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import (
    QuerySet,
)
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.browsing import (
    AreaChoice,
    BrowseQuery,
    BrowseResults,
    browse_engine,
)
from catalog.filters import (
    FREE,
    PAID,
    SEATS_OPEN,
    OfferingFilter,
)
from catalog.models import (
    FACET_LABELS,
    CatalogCollectionPage,
    CatalogEntry,
    CatalogIndexPage,
    Category,
    CollectionIndexPage,
    DeliveryMode,
    DepartmentPage,
    OfferingKind,
    OfferingPage,
    OfferingSession,
    OfferingStatus,
)
from portal.models import (
    CommunityType,
    Region,
    RegionLevel,
    Role,
    User,
)
from portal.selectors import user_anchor_region


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


def offering_orderable_by(*, offering: OfferingPage, user: User) -> bool:
    """Whether ``user`` orders for a community that may order ``offering`` now
    (see ``orderable_entry``). The offering page asks this to offer its order
    link."""
    return orderable_entry(offering=offering, user=user) is not None


def orderable_entry(*, offering: OfferingPage, user: User) -> CatalogEntry | None:
    """The offering's catalog entry if ``user`` orders for a community that may
    order it now: the offering is in the catalog (published and open, so it
    has an entry) and serves the community's region or a region containing
    it; else None. ``matching`` places orders with the entry's department."""
    if not (
        user.is_authenticated
        and user.is_active
        and user.role == Role.COMMUNITY_OPERATOR
        and user.region_id
    ):
        return None
    # Each area served that contains the community gives a row of the same
    # entry: the first will do, with no DISTINCT or ORDER BY (every order
    # placed asks this).
    served = CatalogEntry.objects.filter(
        pk=offering.pk, areas__in=[user.region_id, *user.region.ancestor_ids()]
    )
    return next(iter(served.order_by()[:1]), None)


# Catalog browsing ------------------------------------------------------------

BROWSE_PAGE_SIZE = 20
# With hundreds of departments, list the busiest; a family choice narrows them.
DEPARTMENTS_LISTED = 15
LOOKUPS_CACHE_KEY = "catalog:lookups"
# A safety net only: every change to what the lookups hold forgets them at once.
LOOKUPS_CACHE_SECONDS = 60 * 60


@dataclass(frozen=True)
class DepartmentRow:
    department_id: int
    title: str
    family_id: int | None
    family_name: str


@dataclass(frozen=True)
class CategoryRow:
    category_id: int
    name: str
    parent_name: str


@dataclass(frozen=True)
class CollectionCard:
    title: str
    url: str
    teaser: str


@dataclass(frozen=True)
class CatalogLookups:
    """The small, rarely changing tables browsing labels its counts with, read
    once and kept in the cache until something in them changes
    (``catalog_lookups_forget``)."""

    index_url: str | None
    # Ordered by family, then title: the order the department facet lists them.
    departments: dict[int, DepartmentRow]
    # Subcategories ordered under their top categories.
    categories: list[CategoryRow]
    # The live collections (专题) the catalog leads to, and their own page.
    collections: list[CollectionCard]
    collection_index_url: str | None


def catalog_lookups() -> CatalogLookups:
    lookups = cache.get(LOOKUPS_CACHE_KEY)
    if lookups is None:
        lookups = _catalog_lookups_read()
        cache.set(LOOKUPS_CACHE_KEY, lookups, LOOKUPS_CACHE_SECONDS)
    return lookups


def catalog_lookups_forget() -> None:
    """Drop the cached lookups once the current transaction commits, so that no
    request in between caches the old rows again."""
    transaction.on_commit(lambda: cache.delete(LOOKUPS_CACHE_KEY))


def _catalog_lookups_read() -> CatalogLookups:
    index = CatalogIndexPage.objects.live().first()
    departments = DepartmentPage.objects.order_by(
        "department__family__sort_order", "department__family__name", "title"
    ).values_list(
        "department_id", "title", "department__family_id", "department__family__name"
    )
    categories = (
        Category.objects.filter(parent__isnull=False)
        .order_by("parent__sort_order", "parent__name", "sort_order", "name")
        .values_list("pk", "name", "parent__name")
    )
    collection_index = CollectionIndexPage.objects.live().first()
    collections = CatalogCollectionPage.objects.live().order_by("path")
    return CatalogLookups(
        index_url=index.url if index else None,
        collections=[
            CollectionCard(page.title, page.url, page.introduction_text)
            for page in collections
        ],
        collection_index_url=collection_index.url if collection_index else None,
        departments={
            department_id: DepartmentRow(department_id, title, family_id, family or "")
            for department_id, title, family_id, family in departments
        },
        categories=[CategoryRow(*row) for row in categories],
    )


def service_area_choices(user: User | None) -> list[Region]:
    """The regions of the service-area facet: the districts or streets one
    level below the user's own area. Communities and street offices, who see
    only what serves them, and street-level departments get none."""
    if user is not None and user.is_authenticated and user.region_id:
        return []
    anchor = user_anchor_region(user) if user and user.is_authenticated else None
    if anchor is None:
        roots = list(Region.objects.filter(parent__isnull=True).order_by("code"))
        if len(roots) != 1:
            return roots
        anchor = roots[0]
    if anchor.level >= RegionLevel.STREET:
        return []
    return list(Region.objects.filter(parent=anchor).order_by("code"))


@dataclass(frozen=True)
class FacetValue:
    value: str | int
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class FacetGroup:
    """Values shown under one heading (a top category, a department family);
    facets without headings have a single group with an empty label."""

    label: str
    count: int
    values: list[FacetValue]


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    groups: list[FacetGroup]
    # Values with matches that are not listed (only the busiest are shown).
    hidden: int = 0

    @property
    def selected_count(self) -> int:
        return sum(v.selected for group in self.groups for v in group.values)


@dataclass(frozen=True)
class OfferingFacets:
    """How many offerings match the current choices (``total``) and, for every
    value of every facet, how many would match with that facet's own choice
    replaced by that value (disjunctive counts)."""

    total: int
    facets: list[Facet]

    def facet(self, name: str) -> Facet:
        return next(facet for facet in self.facets if facet.name == name)

    def counts(self, name: str) -> dict:
        """``{value: count}`` of one facet, for tests and callers that need
        numbers rather than display groups."""
        return {v.value: v.count for g in self.facet(name).groups for v in g.values}


@dataclass(frozen=True)
class Suggestion:
    """Another search to try when nothing matched: its label, how many it
    finds and its link (a query string, relative to the page)."""

    label: str
    count: int
    url: str


@dataclass(frozen=True)
class CatalogBrowse:
    filterset: OfferingFilter
    facets: OfferingFacets
    page: DjangoPage
    lookups: CatalogLookups
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def has_choices(self) -> bool:
        return bool(self.has_facet_choices or self.filterset.text)

    @property
    def has_facet_choices(self) -> bool:
        return any(self.filterset.selected().values())


def _browse_query(
    params: Mapping[str, Any], user: User | None
) -> tuple[OfferingFilter, BrowseQuery, list[Region]]:
    areas = service_area_choices(user)
    filterset = OfferingFilter(
        params,
        queryset=CatalogEntry.objects.none(),
        areas=[region.pk for region in areas],
    )
    query = BrowseQuery(
        text=filterset.text,
        filters=filterset.selected(),
        sort=filterset.sort,
        scope=browse_scope(user),
        areas=tuple(
            AreaChoice(region.pk, region.level, tuple(region.ancestor_ids()))
            for region in areas
        ),
    )
    return filterset, query, areas


def browse_scope(user: User | None) -> tuple[int, ...] | None:
    """The regions an offering must serve for ``user`` to browse it: a
    community or street office sees what its own area can order (offerings
    serving its region or a region containing it); departments, the
    organization department, administrators and (with CATALOG_PUBLIC)
    visitors see every offering."""
    if user is not None and user.is_authenticated and user.region_id:
        return (user.region_id, *user.region.ancestor_ids())
    return None


def offering_facets(
    *, params: Mapping[str, Any], user: User | None = None
) -> OfferingFacets:
    """Disjunctive facet counts for the choices in ``params``."""
    filterset, query, areas = _browse_query(params, user)
    results = browse_engine().browse(replace(query, stop=0))
    return _offering_facets(results, filterset, areas, catalog_lookups())


def catalog_browse(
    *, params: Mapping[str, Any], page_number: Any = 1, user: User | None = None
) -> CatalogBrowse:
    """Everything the catalog page shows: the choices, the facet counts and one
    page of matching offerings, sorted as asked, from the registered browse
    engine (``catalog.browsing``). Each offering also gets
    ``department_title`` and, for a text search, ``highlights``."""
    filterset, query, areas = _browse_query(params, user)
    page_number = _page_number(page_number)
    start = (page_number - 1) * BROWSE_PAGE_SIZE
    engine = browse_engine()
    results = engine.browse(replace(query, start=start, stop=start + BROWSE_PAGE_SIZE))
    if not results.offerings and page_number > 1 and results.total:
        # Past the last page (an old link): show the last page instead.
        page_number = -(-results.total // BROWSE_PAGE_SIZE)
        start = (page_number - 1) * BROWSE_PAGE_SIZE
        results = engine.browse(
            replace(query, start=start, stop=start + BROWSE_PAGE_SIZE)
        )
    lookups = catalog_lookups()
    paginator = Paginator(range(results.total), BROWSE_PAGE_SIZE)
    page = paginator.get_page(page_number)
    page.object_list = results.offerings
    for offering in page.object_list:
        row = lookups.departments.get(offering.catalog_entry.department_id)
        offering.department_title = row.title if row else ""
        offering.highlights = results.highlights.get(offering.pk, {})
    return CatalogBrowse(
        filterset=filterset,
        facets=_offering_facets(results, filterset, areas, lookups),
        page=page,
        lookups=lookups,
        suggestions=(
            _suggestions(engine, query, results, params)
            if query.text and not results.total
            else []
        ),
    )


def _suggestions(
    engine, query: BrowseQuery, results: BrowseResults, params: Mapping[str, Any]
) -> list[Suggestion]:
    """Searches that find something when the asked one found nothing: the
    engine's shorter texts under the same choices, and the same text in the
    whole catalog when facets were chosen."""

    def link(text: str, *, keep_choices: bool) -> str:
        if keep_choices:
            changed = QueryDict(mutable=True)
            changed.update(params)
            changed.setlist("q", [text])
            changed.pop("page", None)
            return "?" + changed.urlencode()
        return "?" + urlencode({"q": text})

    suggestions = [
        Suggestion(
            _("Search “%(text)s”") % {"text": text},
            count,
            link(text, keep_choices=True),
        )
        for text, count in results.suggestions
    ]
    if any(query.filters.values()):
        unfiltered = engine.browse(replace(query, filters={}, stop=0)).total
        if unfiltered:
            suggestions.append(
                Suggestion(
                    _("“%(text)s” in the whole catalog") % {"text": query.text},
                    unfiltered,
                    link(query.text, keep_choices=False),
                )
            )
    return suggestions


def _page_number(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _flat_facet(
    name: str, choices: list[tuple[Any, str]], counts: Mapping[Any, int], selected
) -> Facet:
    values = [
        FacetValue(value, label, counts.get(value, 0), value in selected)
        for value, label in choices
    ]
    return Facet(name, FACET_LABELS[name], [FacetGroup("", 0, values)])


def _offering_facets(
    results: BrowseResults,
    filterset: OfferingFilter,
    areas: list[Region],
    lookups: CatalogLookups,
) -> OfferingFacets:
    counts = results.counts
    selected = filterset.selected()

    def by_id(name: str) -> dict[int, int]:
        return {int(value): n for value, n in counts.get(name, {}).items() if value}

    facets = [
        _flat_facet(
            "kind", OfferingKind.choices, counts.get("kind", {}), selected["kind"]
        ),
        _category_facet(by_id("category"), selected["category"], lookups),
        *_department_facets(
            by_id("family"), by_id("department"), selected, lookups.departments
        ),
        _flat_facet(
            "community",
            CommunityType.choices,
            counts.get("community", {}),
            selected["community"],
        ),
        _flat_facet(
            "delivery",
            DeliveryMode.choices,
            counts.get("delivery", {}),
            selected["delivery"],
        ),
    ]
    if areas:
        area_counts = by_id("area")
        facets.append(
            _flat_facet(
                "area",
                [(region.pk, region.name) for region in areas],
                area_counts,
                selected["area"],
            )
        )
    facets += [
        _flat_facet(
            "availability",
            [(SEATS_OPEN, _("Seats open in the next 30 days"))],
            counts.get("availability", {}),
            selected["availability"],
        ),
        _flat_facet(
            "price",
            [(FREE, _("Free")), (PAID, _("Paid"))],
            counts.get("price", {}),
            selected["price"],
        ),
    ]
    return OfferingFacets(total=results.total, facets=facets)


def _category_facet(
    counts: Mapping[int, int], selected: list[int], lookups: CatalogLookups
) -> Facet:
    groups = []
    for parent_name, children in groupby(
        lookups.categories, key=lambda c: c.parent_name
    ):
        values = [
            FacetValue(
                c.category_id,
                c.name,
                counts.get(c.category_id, 0),
                c.category_id in selected,
            )
            for c in children
            if counts.get(c.category_id) or c.category_id in selected
        ]
        if values:
            groups.append(FacetGroup(parent_name, sum(v.count for v in values), values))
    return Facet("category", FACET_LABELS["category"], groups)


def _department_facets(
    family_counts: Mapping[int, int],
    department_counts: Mapping[int, int],
    selected: Mapping[str, list],
    departments: Mapping[int, DepartmentRow],
) -> list[Facet]:
    family_names = {
        row.family_id: row.family_name
        for row in departments.values()
        if row.family_id is not None
    }
    family_values = [
        FacetValue(pk, name, family_counts.get(pk, 0), pk in selected["family"])
        for pk, name in family_names.items()
        if family_counts.get(pk) or pk in selected["family"]
    ]

    chosen = set(selected["department"])
    busiest = sorted(
        (pk for pk in departments if department_counts.get(pk)),
        key=lambda pk: -department_counts[pk],
    )
    listed = set(busiest[:DEPARTMENTS_LISTED]) | (chosen & departments.keys())
    department_groups = []
    # Department rows come ordered by family, so groupby sees each family once.
    for family_name, members in groupby(
        (row for pk, row in departments.items() if pk in listed),
        key=lambda row: row.family_name,
    ):
        values = [
            FacetValue(
                row.department_id,
                row.title,
                department_counts.get(row.department_id, 0),
                row.department_id in chosen,
            )
            for row in members
        ]
        department_groups.append(
            FacetGroup(family_name, sum(v.count for v in values), values)
        )
    return [
        Facet("family", FACET_LABELS["family"], [FacetGroup("", 0, family_values)]),
        Facet(
            "department",
            FACET_LABELS["department"],
            department_groups,
            hidden=len(set(busiest) - listed),
        ),
    ]
