"""Read queries of the catalog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.filters import (
    FREE,
    PAID,
    SEATS_OPEN,
    UPCOMING,
    OfferingFilter,
    seats_open_soon,
    serving_region,
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
    community_type_bits,
)
from portal.models import (
    ANCESTOR_FIELDS,
    CommunityType,
    Region,
    RegionLevel,
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


def catalog_entries_visible_to(user: User | None) -> QuerySet[CatalogEntry]:
    """The entries ``user`` may browse: a community or street office sees what
    its own area can order; departments, the organization department,
    administrators and (with CATALOG_PUBLIC) visitors see every entry."""
    entries = CatalogEntry.objects.all()
    if user is not None and user.is_authenticated and user.region_id:
        return entries.filter(serving_region(user.region))
    return entries


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


def offerings_matching_text(
    entries: QuerySet[CatalogEntry], q: str
) -> QuerySet[CatalogEntry]:
    """The entries of ``entries`` whose offering's title or summary contain ``q``.

    The one place where the catalog's text box meets the data: the search
    issue replaces this plain substring match with the search engine.
    """
    if not q:
        return entries
    return entries.filter(
        Q(offering__title__icontains=q) | Q(offering__summary__icontains=q)
    )


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
class CatalogBrowse:
    filterset: OfferingFilter
    facets: OfferingFacets
    page: DjangoPage
    lookups: CatalogLookups

    @property
    def has_choices(self) -> bool:
        return bool(self.filterset.conditions() or self.filterset.text)


@dataclass(frozen=True)
class _Browsing:
    filterset: OfferingFilter
    areas: list[Region]

    @property
    def entries(self) -> QuerySet[CatalogEntry]:
        return offerings_matching_text(self.filterset.queryset, self.filterset.text)


def _browsing(params: Mapping[str, Any], user: User | None) -> _Browsing:
    areas = service_area_choices(user)
    filterset = OfferingFilter(
        params,
        queryset=catalog_entries_visible_to(user),
        areas=[region.pk for region in areas],
    )
    return _Browsing(filterset, areas)


def offering_facets(
    *, params: Mapping[str, Any], user: User | None = None
) -> OfferingFacets:
    """Disjunctive facet counts for the choices in ``params``: one query, a
    UNION ALL of one GROUP BY per facet over the narrow entry table, each with
    every other facet's condition applied. Never per offering."""
    return _offering_facets(_browsing(params, user), catalog_lookups())


def catalog_browse(
    *, params: Mapping[str, Any], page_number: Any = 1, user: User | None = None
) -> CatalogBrowse:
    """Everything the catalog page shows: the choices, the facet counts and one
    page of matching offerings, sorted as asked, in two queries (the counts;
    the page's offerings with category, entry and next session start as
    ``next_session_at``). Each offering also gets ``department_title``."""
    browsing = _browsing(params, user)
    lookups = catalog_lookups()
    facets = _offering_facets(browsing, lookups)
    filterset = browsing.filterset
    matching = browsing.entries.filter(_all(filterset.conditions()))
    paginator = Paginator(matching.order_by("-published_at"), BROWSE_PAGE_SIZE)
    # The facet query already counted the matches; spare the paginator its COUNT.
    paginator.count = facets.total
    page = paginator.get_page(page_number)
    first = (page.number - 1) * BROWSE_PAGE_SIZE
    page.object_list = _offerings_page(
        matching, filterset.sort, first, first + BROWSE_PAGE_SIZE
    )
    for offering in page.object_list:
        row = lookups.departments.get(offering.catalog_entry.department_id)
        offering.department_title = row.title if row else ""
    return CatalogBrowse(filterset=filterset, facets=facets, page=page, lookups=lookups)


def _all(conditions: Mapping[str, Q], *, but: str | None = None) -> Q:
    combined = Q()
    for name, condition in conditions.items():
        if name != but:
            combined &= condition
    return combined


def _next_session_start(offering: str) -> Subquery:
    upcoming = OfferingSession.objects.filter(
        offering=OuterRef(offering), starts_at__gte=timezone.now()
    ).order_by("starts_at")
    return Subquery(upcoming.values("starts_at")[:1])


def _offerings_page(
    entries: QuerySet[CatalogEntry], sort: str, start: int, stop: int
) -> list[OfferingPage]:
    """The offerings of ``entries[start:stop]`` in ``sort`` order: the entry
    table picks the slice, the page rows are read for that slice only."""
    newest = (
        F("published_at").desc(nulls_last=True),
        F("pk").desc(),
    )
    if sort == UPCOMING:
        entries = entries.annotate(next_session_at=_next_session_start("pk"))
        order = (F("next_session_at").asc(nulls_last=True), *newest)
    else:
        order = newest
    chosen = entries.order_by(*order).values("pk")[start:stop]
    offerings = (
        OfferingPage.objects.filter(pk__in=chosen)
        .select_related("category__parent", "catalog_entry")
        .annotate(
            next_session_at=_next_session_start("pk"),
            published_at=F("catalog_entry__published_at"),
        )
    )
    return list(offerings.order_by(*order))


def _grouped(
    entries: QuerySet, facet: str, value: Any, *, count: str = "pk"
) -> QuerySet:
    """One part of the facet query: (facet, value, count) rows, value as text so
    that every part has the same column types."""
    return (
        entries.order_by()
        .annotate(facet=Value(facet), value=Cast(value, CharField()))
        .values("facet", "value")
        .annotate(n=Count(count, distinct=count != "pk"))
        .values_list("facet", "value", "n")
    )


_PRICE = Case(When(is_free=True, then=Value(FREE)), default=Value(PAID))
# The facets counted by grouping on one column of the entry.
_GROUPED_FACETS = {
    "kind": "kind",
    "category": "category_id",
    "family": "family_id",
    "department": "department_id",
    "community": "community_types",
    "delivery": "delivery_mode",
    "price": _PRICE,
}


def _facet_counts(browsing: _Browsing) -> dict[str, dict[str, int]]:
    """``{facet: {value as text: count}}`` in one query; ``total`` under
    ``counts["total"][""]``. Service-area counts come in two parts,
    ``area`` (areas at or below the facet's level, by the facet's region) and
    ``area_above`` (larger areas, by region), that ``_area_facet`` adds up."""
    entries = browsing.entries
    conditions = browsing.filterset.conditions()
    parts = [_grouped(entries.filter(_all(conditions)), "total", Value(""))]
    for name, column in _GROUPED_FACETS.items():
        parts.append(_grouped(entries.filter(_all(conditions, but=name)), name, column))
    parts.append(
        _grouped(
            entries.filter(_all(conditions, but="availability") & seats_open_soon()),
            "availability",
            Value(SEATS_OPEN),
        )
    )
    if browsing.areas:
        level = browsing.areas[0].level
        links = CatalogEntry.areas.through.objects.filter(
            catalogentry_id__in=entries.filter(_all(conditions, but="area")).values(
                "pk"
            )
        )
        within = Case(
            When(region__level=level, then=F("region_id")),
            default=F(f"region__{ANCESTOR_FIELDS[level]}_id"),
        )
        parts.append(
            _grouped(
                links.filter(region__level__gte=level),
                "area",
                within,
                count="catalogentry_id",
            )
        )
        parts.append(
            _grouped(
                links.filter(region__level__lt=level),
                "area_above",
                "region_id",
                count="catalogentry_id",
            )
        )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for facet, value, n in parts[0].union(*parts[1:], all=True):
        counts[facet][value] = n
    return counts


def _flat_facet(
    name: str, choices: list[tuple[Any, str]], counts: Mapping[Any, int], selected
) -> Facet:
    values = [
        FacetValue(value, label, counts.get(value, 0), value in selected)
        for value, label in choices
    ]
    return Facet(name, FACET_LABELS[name], [FacetGroup("", 0, values)])


def _offering_facets(browsing: _Browsing, lookups: CatalogLookups) -> OfferingFacets:
    counts = _facet_counts(browsing)
    selected = browsing.filterset.selected()

    def by_id(name: str) -> dict[int, int]:
        return {int(value): n for value, n in counts[name].items() if value}

    community_bits = by_id("community")
    facets = [
        _flat_facet("kind", OfferingKind.choices, counts["kind"], selected["kind"]),
        _category_facet(by_id("category"), selected["category"], lookups),
        *_department_facets(
            by_id("family"), by_id("department"), selected, lookups.departments
        ),
        _flat_facet(
            "community",
            CommunityType.choices,
            {
                code: sum(
                    n
                    for bits, n in community_bits.items()
                    if not bits or bits & community_type_bits([code])
                )
                for code in CommunityType.values
            },
            selected["community"],
        ),
        _flat_facet(
            "delivery", DeliveryMode.choices, counts["delivery"], selected["delivery"]
        ),
    ]
    if browsing.areas:
        facets.append(_area_facet(browsing.areas, counts, selected["area"]))
    facets += [
        _flat_facet(
            "availability",
            [(SEATS_OPEN, _("Seats open in the next 30 days"))],
            counts["availability"],
            selected["availability"],
        ),
        _flat_facet(
            "price",
            [(FREE, _("Free")), (PAID, _("Paid"))],
            counts["price"],
            selected["price"],
        ),
    ]
    return OfferingFacets(total=counts["total"].get("", 0), facets=facets)


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


def _area_facet(
    areas: list[Region], counts: Mapping[str, Mapping[str, int]], selected: list[int]
) -> Facet:
    """A region's count: entries whose area lies in it, plus entries whose area
    contains it (a whole city serves each of its districts). An entry's areas
    are either one region or streets, never both, so nothing counts twice."""
    within = counts["area"]
    above = counts["area_above"]
    values = [
        FacetValue(
            region.pk,
            region.name,
            within.get(str(region.pk), 0)
            + sum(above.get(str(pk), 0) for pk in region.ancestor_ids()),
            region.pk in selected,
        )
        for region in areas
    ]
    return Facet("area", FACET_LABELS["area"], [FacetGroup("", 0, values)])
