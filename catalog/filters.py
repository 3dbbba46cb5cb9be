"""What a community picks when it browses the catalog, as conditions on entries.

Browsing reads ``CatalogEntry`` rows, one per orderable offering. Each facet
turns its chosen values into one condition: values within a facet are
alternatives (OR), facets narrow each other (AND). Facet counts are
disjunctive — a facet is counted with every other facet applied but not
itself — so ``OfferingFilter.conditions()`` hands each facet's condition out
separately for ``catalog.selectors`` to combine.

Conditions over sessions and service areas use uncorrelated IN subqueries
rather than joins, so an offering is never counted twice however many
sessions or areas it has, and the database evaluates each subquery once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import (
    Availability,
    CatalogEntry,
    DeliveryMode,
    OfferingKind,
    OfferingSession,
    community_type_bits,
)
from portal.models import CommunityType, Region

# "Seats open soon" looks this far ahead.
SEATS_OPEN_WINDOW = timedelta(days=30)
SEATS_OPEN = "soon"
FREE, PAID = "free", "paid"
NEWEST, UPCOMING, RELEVANCE = "newest", "upcoming", "relevance"
MOST_ORDERED = "popular"


def _kinds(values: list[str]) -> Q:
    return Q(kind__in=values)


def _categories(values: list[int]) -> Q:
    return Q(category_id__in=values)


def _departments(values: list[int]) -> Q:
    return Q(department_id__in=values)


def _families(values: list[int]) -> Q:
    return Q(family_id__in=values)


def _community_types(values: list[str]) -> Q:
    # An offering that names no community type is for every type of community.
    return Q(community_types=0) | Q(
        GreaterThan(F("community_types").bitand(community_type_bits(values)), 0)
    )


def _delivery_modes(values: list[str]) -> Q:
    return Q(delivery_mode__in=values)


def seats_open_soon(now=None) -> Q:
    """Offerings on request, or with a session starting within the window that
    still has a seat."""
    now = now or timezone.now()
    sessions = OfferingSession.objects.filter(
        starts_at__gte=now,
        starts_at__lt=now + SEATS_OPEN_WINDOW,
        seats_taken__lt=F("seats"),
    )
    return Q(availability=Availability.ON_REQUEST) | Q(
        pk__in=sessions.values("offering_id")
    )


def _availability(values: list[str]) -> Q:
    return seats_open_soon()


def _prices(values: list[str]) -> Q:
    condition = Q()
    if FREE in values:
        condition |= Q(is_free=True)
    if PAID in values:
        condition |= Q(is_free=False)
    return condition


def serving_any_of(regions: Iterable[int]) -> Q:
    """Entries that serve some part of these regions: their area is one of them,
    lies inside one, or contains one (a whole district serves its streets)."""
    regions = list(regions)
    chosen = Region.objects.filter(pk__in=regions)
    links = CatalogEntry.areas.through.objects.filter(
        Q(region_id__in=regions)
        | Q(region__city_id__in=regions)
        | Q(region__district_id__in=regions)
        | Q(region__street_id__in=regions)
        | Q(region_id__in=chosen.values("city_id"))
        | Q(region_id__in=chosen.values("district_id"))
        | Q(region_id__in=chosen.values("street_id"))
    )
    return Q(pk__in=links.values("catalogentry_id"))


class FacetValuesField(forms.Field):
    """The values picked in one facet. Unknown or malformed values are dropped
    rather than rejected, and nothing is looked up: an id that matches no row
    simply matches no offering."""

    widget = forms.MultipleHiddenInput

    def __init__(
        self,
        *,
        coerce: Callable[[str], Any] = str,
        allowed: Iterable[Any] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.coerce = coerce
        self.allowed = None if allowed is None else frozenset(allowed)

    def clean(self, value) -> list:
        values = []
        for raw in value or []:
            try:
                item = self.coerce(raw)
            except (TypeError, ValueError):
                continue
            if (self.allowed is None or item in self.allowed) and item not in values:
                values.append(item)
        return values


class FacetFilter(django_filters.Filter):
    """A facet: the values picked become one condition (OR within the facet)."""

    field_class = FacetValuesField

    def __init__(self, condition: Callable[[list], Q], **kwargs):
        self.condition = condition
        super().__init__(**kwargs)

    def filter(self, qs, value):
        return qs.filter(self.condition(value)) if value else qs


class BrowseForm(forms.Form):
    """The text box and the sort order, which are not facets."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            (RELEVANCE, _("Best match")),
            (NEWEST, _("Newest")),
            (UPCOMING, _("Upcoming session")),
            (MOST_ORDERED, _("Most ordered")),
        ],
    )


def _values(choices) -> list[str]:
    return [value for value, _label in choices]


class OfferingFilter(django_filters.FilterSet):
    """The facets of catalog browsing, in the order they are shown.

    ``areas`` are the regions offered in the service-area facet (ids); the
    facet takes no values when there are none to offer.
    """

    kind = FacetFilter(_kinds, allowed=_values(OfferingKind.choices))
    category = FacetFilter(_categories, coerce=int)
    family = FacetFilter(_families, coerce=int)
    department = FacetFilter(_departments, coerce=int)
    community = FacetFilter(_community_types, allowed=_values(CommunityType.choices))
    delivery = FacetFilter(_delivery_modes, allowed=_values(DeliveryMode.choices))
    area = FacetFilter(serving_any_of, coerce=int, allowed=[])
    availability = FacetFilter(_availability, allowed=[SEATS_OPEN])
    price = FacetFilter(_prices, allowed=[FREE, PAID])

    class Meta:
        model = CatalogEntry
        fields: list[str] = []
        form = BrowseForm

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *args,
        areas: Iterable[int] = (),
        **kwargs,
    ):
        super().__init__(data, *args, **kwargs)
        self.filters["area"].extra["allowed"] = list(areas)

    def selected(self) -> dict[str, list]:
        """The values picked in each facet (empty lists for untouched facets)."""
        data = self._cleaned()
        return {name: data.get(name) or [] for name in self.filters}

    def conditions(self) -> dict[str, Q]:
        """One condition per facet that has values picked."""
        return {
            name: self.filters[name].condition(values)
            for name, values in self.selected().items()
            if values
        }

    @property
    def text(self) -> str:
        return (self._cleaned().get("q") or "").strip()

    @property
    def sort(self) -> str:
        # Best matches first for a text search, otherwise the newest.
        return self._cleaned().get("sort") or (RELEVANCE if self.text else NEWEST)

    def _cleaned(self) -> dict:
        # An invalid field (an over-long query, an unknown sort) is left out of
        # cleaned_data; the rest of the form still applies.
        self.form.is_valid()
        return self.form.cleaned_data
