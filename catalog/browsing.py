"""How catalog browsing finds offerings: the question a browse asks, the answer
an engine gives, and the engine the catalog has of its own.

An engine answers a ``BrowseQuery`` with the number of matches, the disjunctive
facet counts and one page of offerings in order. The catalog's own engine,
``EntryEngine``, reads the narrow ``CatalogEntry`` table and matches text with
a plain substring test. The search app registers an engine with real Chinese
text search (``register_engine``); the catalog asks whichever is registered
(``browse_engine``) and never knows which one answered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
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

from catalog.filters import (
    FREE,
    MOST_ORDERED,
    PAID,
    RELEVANCE,
    SEATS_OPEN,
    UPCOMING,
    OfferingFilter,
    seats_open_soon,
)
from catalog.models import (
    CatalogEntry,
    OfferingPage,
    OfferingSession,
    community_type_bits,
)
from portal.models import ANCESTOR_FIELDS, CommunityType


@dataclass(frozen=True)
class AreaChoice:
    """A value of the service-area facet: a region, its level and its ancestors."""

    region_id: int
    level: int
    ancestor_ids: tuple[int, ...]


@dataclass(frozen=True)
class BrowseQuery:
    """What a browse asks for.

    ``filters`` holds the values chosen in each facet (alternatives within a
    facet, facets narrowing each other); ``scope``, when set, keeps only the
    offerings serving a unit of that region (the region and its ancestors);
    ``areas`` are the values of the service-area facet, empty for no facet.
    ``facets`` false asks for the number of matches and the page alone — no
    facet counts, highlights or suggestions: what a caller that ranks the
    matches for itself wants (need routing, recommendations), at a fraction
    of the cost.
    """

    text: str = ""
    filters: Mapping[str, Sequence] = field(default_factory=dict)
    sort: str = ""
    start: int = 0
    stop: int = 20
    scope: tuple[int, ...] | None = None
    areas: tuple[AreaChoice, ...] = ()
    facets: bool = True


@dataclass
class BrowseResults:
    """An engine's answer: ``counts`` maps each facet to ``{value as text:
    count}`` with every other facet applied but not its own (``total`` is the
    number of matches, and all there is when the query asks for no facets);
    ``offerings`` is the asked-for slice, in order, each with
    ``next_session_at``; ``highlights`` maps an offering to HTML snippets of
    its matching fields, matches in ``<mark>``; ``suggestions`` offers other
    texts when nothing matches."""

    total: int
    counts: dict[str, dict[str, int]]
    offerings: list[OfferingPage]
    highlights: dict[int, dict[str, str]] = field(default_factory=dict)
    # When nothing matches a text: shorter texts that would, with their counts.
    suggestions: list[tuple[str, int]] = field(default_factory=list)


def total_only(total: int) -> dict[str, dict[str, int]]:
    """The counts of a browse that asked for no facets: the matches alone."""
    return {"total": {"": total}}


class BrowseEngine(Protocol):
    def browse(self, query: BrowseQuery) -> BrowseResults: ...


_engine_factory: Callable[[], BrowseEngine] | None = None


def register_engine(factory: Callable[[], BrowseEngine]) -> None:
    """Answer browsing with the engine ``factory`` returns (called per browse,
    so that it may follow settings)."""
    global _engine_factory
    _engine_factory = factory


def browse_engine() -> BrowseEngine:
    return _engine_factory() if _engine_factory else EntryEngine()


def facet_conditions(filters: Mapping[str, Sequence]) -> dict[str, Q]:
    """One condition on entries per facet with values chosen."""
    return {
        name: OfferingFilter.base_filters[name].condition(list(values))
        for name, values in filters.items()
        if values
    }


def all_but(conditions: Mapping[str, Q], name: str | None = None) -> Q:
    """Every condition but the one of facet ``name``."""
    combined = Q()
    for other, condition in conditions.items():
        if other != name:
            combined &= condition
    return combined


def next_session_start(offering: str = "pk") -> Subquery:
    upcoming = OfferingSession.objects.filter(
        offering=OuterRef(offering), starts_at__gte=timezone.now()
    ).order_by("starts_at")
    return Subquery(upcoming.values("starts_at")[:1])


def offerings_in_order(offering_ids: Sequence[int]) -> list[OfferingPage]:
    """The offerings ``offering_ids`` in that order, as listings show them, in
    one query (for engines that rank outside the database)."""
    offerings = _listed(OfferingPage.objects.filter(pk__in=offering_ids))
    by_id = {offering.pk: offering for offering in offerings}
    return [by_id[pk] for pk in offering_ids if pk in by_id]


def _listed(offerings: QuerySet[OfferingPage]) -> QuerySet[OfferingPage]:
    return offerings.select_related("category__parent", "catalog_entry").annotate(
        next_session_at=next_session_start(),
        published_at=F("catalog_entry__published_at"),
        orders_placed=F("demand__orders_placed"),
    )


_NEWEST = (F("published_at").desc(nulls_last=True), F("pk").desc())
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


class EntryEngine:
    """Browsing over ``CatalogEntry`` in the database: the facet counts in one
    query (a UNION ALL of one GROUP BY per facet, each with every other facet's
    condition), the page in one more. Text is matched by ``text_condition``,
    ranked by ``ranked_ids`` and highlighted by ``highlights``, which text
    engines override."""

    def browse(self, query: BrowseQuery) -> BrowseResults:
        entries = CatalogEntry.objects.all()
        if query.scope is not None:
            entries = entries.filter(
                serving_one_of(query.scope, entry_by_entry=bool(query.text))
            )
        conditions = facet_conditions(query.filters)
        # The scope and the facets without the text: a text engine ranks its
        # own matches among them, and searches its index once doing so.
        candidates = entries.filter(all_but(conditions))
        if query.text:
            entries = entries.filter(self.text_condition(query.text))
        matching = entries.filter(all_but(conditions))
        if query.facets:
            counts = self._counts(entries, conditions, query.areas)
        else:
            counts = total_only(matching.count())
        offerings = self._page(matching, candidates, query)
        return BrowseResults(
            total=counts["total"].get("", 0),
            counts=counts,
            offerings=offerings,
            highlights=(
                self.highlights(offerings, query.text)
                if query.text and query.facets
                else {}
            ),
        )

    # What text engines override ------------------------------------------------

    def text_condition(self, text: str) -> Q:
        """Entries whose offering's title or summary contain ``text``."""
        return Q(offering__title__icontains=text) | Q(offering__summary__icontains=text)

    def ranked_ids(
        self, candidates: QuerySet[CatalogEntry], query: BrowseQuery
    ) -> list[int]:
        """The ids of the entries among ``candidates`` (the scope and facets
        applied, not the text) that match ``query.text``, best matches first,
        sliced by ``query.start`` and ``query.stop``: here offerings whose
        title contains the text before those whose summary does, then the
        newest."""
        title_first = Case(
            When(offering__title__icontains=query.text, then=Value(0)),
            default=Value(1),
        )
        matching = candidates.filter(self.text_condition(query.text))
        chosen = matching.order_by(title_first.asc(), *_NEWEST)
        return list(chosen.values_list("pk", flat=True)[query.start : query.stop])

    def highlights(
        self, offerings: Sequence[OfferingPage], text: str
    ) -> dict[int, dict[str, str]]:
        return {}

    # ---------------------------------------------------------------------------

    def _page(
        self,
        matching: QuerySet[CatalogEntry],
        candidates: QuerySet[CatalogEntry],
        query: BrowseQuery,
    ) -> list[OfferingPage]:
        """The entry table picks the slice; page rows are read for it only."""
        if query.sort == UPCOMING:
            matching = matching.annotate(next_session_at=next_session_start())
            order = (F("next_session_at").asc(nulls_last=True), *_NEWEST)
        elif query.sort == MOST_ORDERED:
            matching = matching.annotate(
                orders_placed=F("offering__demand__orders_placed")
            )
            order = (F("orders_placed").desc(nulls_last=True), *_NEWEST)
        elif query.sort == RELEVANCE and query.text:
            return offerings_in_order(self.ranked_ids(candidates, query))
        else:
            order = _NEWEST
        chosen = matching.order_by(*order).values("pk")[query.start : query.stop]
        return list(
            _listed(OfferingPage.objects.filter(pk__in=chosen)).order_by(*order)
        )

    def _counts(
        self,
        entries: QuerySet[CatalogEntry],
        conditions: Mapping[str, Q],
        areas: Sequence[AreaChoice],
    ) -> dict[str, dict[str, int]]:
        parts = [_grouped(entries.filter(all_but(conditions)), "total", Value(""))]
        for name, column in _GROUPED_FACETS.items():
            parts.append(
                _grouped(entries.filter(all_but(conditions, name)), name, column)
            )
        parts.append(
            _grouped(
                entries.filter(all_but(conditions, "availability") & seats_open_soon()),
                "availability",
                Value(SEATS_OPEN),
            )
        )
        if areas:
            parts += _area_parts(entries.filter(all_but(conditions, "area")), areas)
        counts: dict[str, dict[str, int]] = defaultdict(dict)
        for facet, value, n in parts[0].union(*parts[1:], all=True):
            counts[facet][value] = n
        counts["community"] = _community_counts(counts["community"])
        if areas:
            counts["area"] = _area_counts(
                areas, counts["area"], counts.pop("area_above", {})
            )
        return counts


def serving_one_of(region_ids: Sequence[int], *, entry_by_entry: bool = False) -> Q:
    """Entries serving one of the regions.

    Asked ``entry_by_entry``, each entry's links are looked up on their own
    (an EXISTS), which is what a text search wants: its matches are few, and
    SQLite would otherwise first list every entry of the regions, which at a
    city's 200,000 offerings costs more than the whole search (175 ms against
    2). Browsing the whole catalog reads every entry anyway, and there one pass
    over the regions' links (the IN) is the cheaper.
    """
    links = CatalogEntry.areas.through.objects.filter(region_id__in=list(region_ids))
    if entry_by_entry:
        return Q(Exists(links.filter(catalogentry_id=OuterRef("pk"))))
    return Q(pk__in=links.values("catalogentry_id"))


def _grouped(entries: QuerySet, facet: str, value: Any, *, count: str = "pk"):
    """One part of the facet query: (facet, value, count) rows, value as text so
    that every part has the same column types."""
    return (
        entries.order_by()
        .annotate(facet=Value(facet), value=Cast(value, CharField()))
        .values("facet", "value")
        .annotate(n=Count(count, distinct=count != "pk"))
        .values_list("facet", "value", "n")
    )


def _area_parts(entries: QuerySet[CatalogEntry], areas: Sequence[AreaChoice]):
    """Service areas counted in two parts: ``area``, areas at or below the
    facet's level by the facet region they lie in, and ``area_above``, larger
    areas by region, which ``_area_counts`` adds to each region they contain."""
    level = areas[0].level
    links = CatalogEntry.areas.through.objects.filter(
        catalogentry_id__in=entries.values("pk")
    )
    within = Case(
        When(region__level=level, then=F("region_id")),
        default=F(f"region__{ANCESTOR_FIELDS[level]}_id"),
    )
    return [
        _grouped(
            links.filter(region__level__gte=level),
            "area",
            within,
            count="catalogentry_id",
        ),
        _grouped(
            links.filter(region__level__lt=level),
            "area_above",
            "region_id",
            count="catalogentry_id",
        ),
    ]


def _area_counts(
    areas: Sequence[AreaChoice],
    within: Mapping[str, int],
    above: Mapping[str, int],
) -> dict[str, int]:
    # An entry's areas are either one region or streets, never both, so an
    # entry is not counted twice for one region.
    return {
        str(area.region_id): within.get(str(area.region_id), 0)
        + sum(above.get(str(pk), 0) for pk in area.ancestor_ids)
        for area in areas
    }


def _community_counts(by_bits: Mapping[str, int]) -> dict[str, int]:
    """Counts by community type from counts by target bits: an offering that
    names no type (bits 0) is for every type."""
    counts = {}
    for code in CommunityType.values:
        bit = community_type_bits([code])
        counts[code] = sum(
            n for bits, n in by_bits.items() if not int(bits) or int(bits) & bit
        )
    return counts
