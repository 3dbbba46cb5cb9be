"""What the order list can be narrowed by. The choices offered are those of
the orders the user may see, and each role gets the filters that tell its
orders apart: a community's orders all share the community, a department's
all share the department."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from matching.models import Order, OrderState
from portal.models import Department, Region, Role, User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PlacedFilter(django_filters.FilterSet):
    """Orders placed in a period; and whether anything narrows the list."""

    placed_from = django_filters.DateFilter(
        label=_("Placed from"),
        field_name="placed_at",
        lookup_expr="date__gte",
        widget=DATE_INPUT,
    )
    placed_to = django_filters.DateFilter(
        label=_("Placed until"),
        field_name="placed_at",
        lookup_expr="date__lte",
        widget=DATE_INPUT,
    )

    class Meta:
        model = Order
        fields: list[str] = []

    @property
    def is_filtered(self) -> bool:
        """Whether the list is narrowed: it then offers to clear the filters."""
        return self.is_bound and any(self.data.get(name) for name in self.filters)


class OrderSource(models.TextChoices):
    """Where an order came from: a seat published by an ordering campaign
    (linked to it through ``CampaignAssignment.order``), or a community
    ordering itself."""

    CAMPAIGN = "campaign", _("Ordering campaign")
    ORDINARY = "ordinary", _("Ordinary order")


class OrderFilter(PlacedFilter):
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=OrderState.choices, empty_label=_("Any state")
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"),
        choices=OrderSource.choices,
        empty_label=_("Any source"),
        method="filter_source",
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"),
        queryset=Department.objects.none(),
        empty_label=_("Any department"),
    )
    community = django_filters.ModelChoiceFilter(
        label=_("Community"),
        queryset=Region.objects.none(),
        empty_label=_("Any community"),
    )

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Order] | None = None,
        *,
        user: User,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        # Choices come from the visible orders, so a foreign unit is never
        # listed, and an id typed into the address is an invalid choice.
        visible = self.queryset.order_by()
        if user.role == Role.COMMUNITY_OPERATOR:
            del self.filters["community"]
        else:
            self.filters["community"].queryset = Region.objects.filter(
                pk__in=visible.values("community_id")
            ).order_by("code")
        if user.role in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER):
            del self.filters["department"]
        else:
            self.filters["department"].queryset = Department.objects.filter(
                pk__in=visible.values("department_id")
            ).order_by("name")

    def filter_source(
        self, queryset: QuerySet[Order], name: str, value: str
    ) -> QuerySet[Order]:
        return queryset.filter(
            campaign_assignment__isnull=value != OrderSource.CAMPAIGN
        )
