"""Read queries of the catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator
from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from catalog.filters import (
    FREE,
    PAID,
    SEATS_OPEN,
    UPCOMING,
    OfferingFilter,
    department_path,
)
from catalog.models import (
    Category,
    DeliveryMode,
    DepartmentPage,
    OfferingKind,
    OfferingPage,
    OfferingSession,
    OfferingStatus,
)
from portal.models import CommunityType


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


def offerings_matching_text(
    queryset: QuerySet[OfferingPage], q: str
) -> QuerySet[OfferingPage]:
    """The offerings of ``queryset`` whose title or summary contain ``q``.

    The one place where the catalog's text box meets the data: the search
    issue replaces this plain substring match with the search engine.
    """
    if not q:
        return queryset
    return queryset.filter(Q(title__icontains=q) | Q(summary__icontains=q))


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

    @property
    def has_choices(self) -> bool:
        return bool(self.filterset.conditions() or self.filterset.text)


def offering_filter(*, params: Mapping[str, Any]) -> OfferingFilter:
    """The browsing choices in ``params`` (a GET QueryDict) bound to the open
    offerings, validated; bad values are dropped, never an error."""
    return OfferingFilter(params, queryset=offerings_open())


def offering_facets(*, params: Mapping[str, Any]) -> OfferingFacets:
    """Disjunctive facet counts for the choices in ``params``.

    Queries: one conditional aggregate for the small fixed facets (kind,
    community type, delivery mode, availability, price) and the total; one
    GROUP BY for categories; one GROUP BY department for departments and
    families together (two when either is chosen); and the category and
    department names. Never per offering, never ``.specific``.
    """
    filterset = offering_filter(params=params)
    return _offering_facets(filterset, _department_rows())


def catalog_browse(*, params: Mapping[str, Any], page_number: Any = 1) -> CatalogBrowse:
    """Everything the catalog page shows: the choices, the facet counts and one
    page of matching offerings, sorted as asked. The page's rows come with
    category, department title (``department_title``) and next session start
    (``next_session_at``) at a constant number of queries."""
    filterset = offering_filter(params=params)
    departments = _department_rows()
    facets = _offering_facets(filterset, departments)
    paginator = Paginator(_offerings_browsed(filterset), BROWSE_PAGE_SIZE)
    # The aggregate already counted the matches; spare the paginator its COUNT.
    paginator.count = facets.total
    page = paginator.get_page(page_number)
    page.object_list = list(page.object_list)
    _next_sessions_attach(page.object_list)
    for offering in page.object_list:
        row = departments.get(offering.path[: -Page.steplen])
        offering.department_title = row["title"] if row else ""
    return CatalogBrowse(filterset=filterset, facets=facets, page=page)


def _browse_base(filterset: OfferingFilter) -> QuerySet[OfferingPage]:
    return offerings_matching_text(filterset.queryset, filterset.text)


def _all(conditions: Mapping[str, Q], *, but: str | None = None) -> Q:
    combined = Q()
    for name, condition in conditions.items():
        if name != but:
            combined &= condition
    return combined


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition) if condition else Count("pk")


def _offerings_browsed(filterset: OfferingFilter) -> QuerySet[OfferingPage]:
    offerings = (
        _browse_base(filterset)
        .filter(_all(filterset.conditions()))
        .select_related("category__parent")
    )
    if filterset.sort == UPCOMING:
        # Only this order needs every offering's next session; otherwise the
        # page's own rows get theirs afterwards (_next_sessions_attach).
        upcoming = OfferingSession.objects.filter(
            offering=OuterRef("pk"), starts_at__gte=timezone.now()
        ).order_by("starts_at")
        return offerings.annotate(
            next_session_at=Subquery(upcoming.values("starts_at")[:1])
        ).order_by(
            F("next_session_at").asc(nulls_last=True),
            F("first_published_at").desc(nulls_last=True),
            "-pk",
        )
    return offerings.order_by(F("first_published_at").desc(nulls_last=True), "-pk")


def _next_sessions_attach(offerings: list[OfferingPage]) -> None:
    missing = [o for o in offerings if not hasattr(o, "next_session_at")]
    if not missing:
        return
    starts = dict(
        OfferingSession.objects.filter(
            offering__in=missing, starts_at__gte=timezone.now()
        )
        .values("offering")
        .annotate(first=Min("starts_at"))
        .values_list("offering", "first")
    )
    for offering in missing:
        offering.next_session_at = starts.get(offering.pk)


def _department_rows() -> dict[str, dict[str, Any]]:
    """Every department page by tree path, with its department and family."""
    rows = DepartmentPage.objects.order_by(
        "department__family__sort_order", "department__family__name", "title"
    ).values(
        "path",
        "title",
        "department_id",
        "department__family_id",
        "department__family__name",
    )
    return {row["path"]: row for row in rows}


# The facets whose values are a short fixed list, counted in one aggregate.
def _fixed_facet_values() -> dict[str, list[tuple[str, str]]]:
    return {
        "kind": list(OfferingKind.choices),
        "community": list(CommunityType.choices),
        "delivery": list(DeliveryMode.choices),
        "availability": [(SEATS_OPEN, _("Seats open in the next 30 days"))],
        "price": [(FREE, _("Free")), (PAID, _("Paid"))],
    }


FACET_LABELS = {
    "kind": _("Kind"),
    "category": _("Category"),
    "family": _("Department family"),
    "department": _("Department"),
    "community": _("For community type"),
    "delivery": _("Delivery mode"),
    "availability": _("Availability"),
    "price": _("Cost"),
}


def _offering_facets(
    filterset: OfferingFilter, departments: dict[str, dict[str, Any]]
) -> OfferingFacets:
    base = _browse_base(filterset)
    conditions = filterset.conditions()
    selected = filterset.selected()
    fixed = _fixed_facet_values()

    aggregates = {"total": _count(_all(conditions))}
    for name, choices in fixed.items():
        condition = filterset.filters[name].condition
        others = _all(conditions, but=name)
        for index, (value, _label) in enumerate(choices):
            aggregates[f"{name}_{index}"] = _count(condition([value]) & others)
    counted = base.aggregate(**aggregates)

    facets: dict[str, Facet] = {}
    for name, choices in fixed.items():
        values = [
            FacetValue(value, label, counted[f"{name}_{i}"], value in selected[name])
            for i, (value, label) in enumerate(choices)
        ]
        facets[name] = Facet(name, FACET_LABELS[name], [FacetGroup("", 0, values)])

    facets["category"] = _category_facet(
        base.filter(_all(conditions, but="category")), selected["category"]
    )
    facets.update(_department_facets(base, conditions, selected, departments))
    order = ("kind", "category", "family", "department", "community", "delivery")
    order += ("availability", "price")
    return OfferingFacets(
        total=counted["total"], facets=[facets[name] for name in order]
    )


def _category_facet(offerings: QuerySet[OfferingPage], selected: list[int]) -> Facet:
    counts = dict(
        offerings.order_by()
        .values("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    groups = []
    categories = Category.objects.filter(parent__isnull=False).select_related("parent")
    categories = categories.order_by(
        "parent__sort_order", "parent__name", "sort_order", "name"
    )
    for parent, children in groupby(categories, key=lambda c: c.parent):
        values = [
            FacetValue(c.pk, c.name, counts.get(c.pk, 0), c.pk in selected)
            for c in children
            if counts.get(c.pk) or c.pk in selected
        ]
        if values:
            groups.append(FacetGroup(parent.name, sum(v.count for v in values), values))
    return Facet("category", FACET_LABELS["category"], groups)


def _department_counts(offerings: QuerySet[OfferingPage]) -> dict[str, int]:
    return dict(
        offerings.order_by()
        .annotate(department_path=department_path())
        .values("department_path")
        .annotate(n=Count("pk"))
        .values_list("department_path", "n")
    )


def _department_facets(
    base: QuerySet[OfferingPage],
    conditions: Mapping[str, Q],
    selected: Mapping[str, list],
    departments: dict[str, dict[str, Any]],
) -> dict[str, Facet]:
    by_department = _department_counts(base.filter(_all(conditions, but="department")))
    if "department" in conditions or "family" in conditions:
        by_family_base = _department_counts(base.filter(_all(conditions, but="family")))
    else:
        by_family_base = by_department

    family_counts: dict[int, int] = {}
    family_names: dict[int, str] = {}
    for path, row in departments.items():
        family_id = row["department__family_id"]
        if family_id is None:
            continue
        family_names[family_id] = row["department__family__name"]
        family_counts[family_id] = family_counts.get(family_id, 0) + (
            by_family_base.get(path, 0)
        )
    family_values = [
        FacetValue(pk, name, family_counts[pk], pk in selected["family"])
        for pk, name in family_names.items()
        if family_counts[pk] or pk in selected["family"]
    ]

    chosen = set(selected["department"])
    busiest = sorted(
        (path for path in departments if by_department.get(path)),
        key=lambda path: -by_department[path],
    )
    listed = set(busiest[:DEPARTMENTS_LISTED]) | {
        path for path, row in departments.items() if row["department_id"] in chosen
    }
    department_groups = []
    # Department rows come ordered by family, so groupby sees each family once.
    for family_name, members in groupby(
        (item for item in departments.items() if item[0] in listed),
        key=lambda item: item[1]["department__family__name"] or "",
    ):
        values = [
            FacetValue(
                row["department_id"],
                row["title"],
                by_department.get(path, 0),
                row["department_id"] in chosen,
            )
            for path, row in members
        ]
        department_groups.append(
            FacetGroup(family_name, sum(v.count for v in values), values)
        )
    hidden = len(set(busiest) - listed)
    return {
        "family": Facet(
            "family", FACET_LABELS["family"], [FacetGroup("", 0, family_values)]
        ),
        "department": Facet(
            "department", FACET_LABELS["department"], department_groups, hidden
        ),
    }
