"""What the review lists can be narrowed by: the units that have not
answered a round yet (by street), and the rectification items (by state,
department and round). The choices offered come from what the user may see,
so a foreign id typed into the address is an invalid choice."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from assessments.lifecycle import ORGANIZER_ROLES
from assessments.models import EvaluationRound, Rectification, RectificationState
from portal.models import Department, Region, RegionLevel, User


class ReviewFilter(django_filters.FilterSet):
    @property
    def is_filtered(self) -> bool:
        """Whether the list is narrowed: it then offers to clear the filters."""
        return self.is_bound and any(self.data.get(name) for name in self.filters)


class UnitsLeftFilter(ReviewFilter):
    """The units with evaluations left in a round, narrowed to a street (its
    communities and the street office itself)."""

    street = django_filters.ModelChoiceFilter(
        label=_("Street / town"),
        queryset=Region.objects.none(),
        empty_label=_("Every street"),
        method="filter_street",
    )

    class Meta:
        model = Region
        fields: list[str] = []

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Region] | None = None,
        *,
        evaluation_round: EvaluationRound,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        self.filters["street"].queryset = (
            Region.objects.subtree(evaluation_round.area)
            .filter(level=RegionLevel.STREET)
            .order_by("code")
        )

    def filter_street(
        self, queryset: QuerySet[Region], name: str, value: Region | None
    ) -> QuerySet[Region]:
        if value is None:
            return queryset
        return queryset.filter(Q(street=value) | Q(pk=value.pk))


class RectificationFilter(ReviewFilter):
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=RectificationState.choices,
        empty_label=_("Any state"),
    )
    department = django_filters.ModelChoiceFilter(
        label=_("Department"),
        queryset=Department.objects.none(),
        empty_label=_("Any department"),
    )
    round = django_filters.ModelChoiceFilter(
        label=_("Round"),
        queryset=EvaluationRound.objects.none(),
        empty_label=_("Any round"),
    )

    class Meta:
        model = Rectification
        fields: list[str] = []

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Rectification] | None = None,
        *,
        user: User,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        visible = self.queryset.order_by()
        if user.role in ORGANIZER_ROLES:
            self.filters["department"].queryset = Department.objects.filter(
                pk__in=visible.values("department_id")
            ).order_by("code")
        else:
            # A department's items are all its own.
            del self.filters["department"]
        self.filters["round"].queryset = EvaluationRound.objects.filter(
            pk__in=visible.values("round_id")
        ).order_by("-opens_on", "-pk")
