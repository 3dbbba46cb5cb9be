"""What the need list can be narrowed by. Choices come from what the user may
see (districts of the visible needs), so a foreign unit is never listed; the
category choice takes a top category (all its subcategories) or one
subcategory; department staff can also keep the needs suggested to their
department, or those it has not answered yet."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from catalog.models import CATEGORY_ORDER, Category
from matching.models import (
    Need,
    NeedResponse,
    NeedState,
    NeedSuggestion,
    NeedUrgency,
)
from portal.models import Region, Role, User

SUGGESTED, UNANSWERED = "suggested", "unanswered"


def category_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Subcategories grouped under their top category, each group led by the
    top category itself (all of it)."""
    groups: dict[int, tuple[Category, list[tuple[str, str]]]] = {}
    subcategories = Category.objects.filter(parent__isnull=False).select_related(
        "parent"
    )
    for category in subcategories.order_by(*CATEGORY_ORDER):
        top = category.parent
        _top, members = groups.setdefault(
            top.pk, (top, [(str(top.pk), _("All of %(top)s") % {"top": top.name})])
        )
        members.append((str(category.pk), category.name))
    return [(top.name, members) for top, members in groups.values()]


class NeedFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=NeedState.choices, empty_label=_("Any state")
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"),
        choices=category_choices,
        empty_label=_("Any category"),
        method="filter_category",
    )
    urgency = django_filters.ChoiceFilter(
        label=_("Urgency"), choices=NeedUrgency.choices, empty_label=_("Any urgency")
    )
    district = django_filters.ModelChoiceFilter(
        label=_("District"),
        field_name="community__district",
        queryset=Region.objects.none(),
        empty_label=_("Any district"),
    )
    mine = django_filters.ChoiceFilter(
        label=_("My department"),
        choices=[
            (SUGGESTED, _("Suggested to us")),
            (UNANSWERED, _("Not answered by us yet")),
        ],
        empty_label=_("All we may answer"),
        method="filter_mine",
    )

    class Meta:
        model = Need
        fields: list[str] = []

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Need] | None = None,
        *,
        user: User,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        self.user = user
        visible = self.queryset.order_by()
        if user.role == Role.COMMUNITY_OPERATOR:
            del self.filters["district"]
        else:
            self.filters["district"].queryset = Region.objects.filter(
                pk__in=visible.values("community__district_id")
            ).order_by("code")
        if user.role not in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER):
            del self.filters["mine"]

    def filter_category(
        self, queryset: QuerySet[Need], name: str, value: str
    ) -> QuerySet[Need]:
        return queryset.filter(Q(category_id=value) | Q(category__parent_id=value))

    def filter_mine(
        self, queryset: QuerySet[Need], name: str, value: str
    ) -> QuerySet[Need]:
        department_id = self.user.department_id
        if value == SUGGESTED:
            return queryset.filter(
                pk__in=NeedSuggestion.objects.filter(
                    department_id=department_id
                ).values("need_id")
            )
        return queryset.exclude(
            pk__in=NeedResponse.objects.filter(department_id=department_id).values(
                "need_id"
            )
        )

    @property
    def is_filtered(self) -> bool:
        """Whether the list is narrowed: it then offers to clear the filters."""
        return self.is_bound and any(self.data.get(name) for name in self.filters)
