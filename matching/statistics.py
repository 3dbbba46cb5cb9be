"""Figures about orders for those who oversee an area (the organization
department, administrators): per department, how many orders it got, how
many it answered and accepted, how fast, how many it left unanswered past
the deadline and how many it delivered; and per month, orders placed and
delivered. Read queries only, scoped by ``orders_visible_to``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import django_filters
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from matching.calendar import working_days_between
from matching.filters import PlacedFilter
from matching.models import Order, OrderEvent, OrderState
from matching.selectors import orders_answer_clock, orders_visible_to
from portal.models import Department, DepartmentFamily, User

DELIVERED_STATES = (OrderState.DELIVERED, OrderState.CONFIRMED)


class OrderStatisticsFilter(PlacedFilter):
    """Which orders the figures count: placed in a period, answered by the
    departments of a family."""

    family = django_filters.ModelChoiceFilter(
        label=_("Department family"),
        field_name="department__family",
        queryset=DepartmentFamily.objects.none(),
        empty_label=_("Every family"),
    )

    def __init__(self, data: Any = None, queryset: Any = None, **kwargs: Any) -> None:
        super().__init__(data, queryset, **kwargs)
        self.filters["family"].queryset = DepartmentFamily.objects.filter(
            pk__in=self.queryset.order_by().values("department__family_id")
        ).order_by("name")


@dataclass(frozen=True)
class DepartmentFigures:
    department: Department | None  # None: the totals row
    orders: int
    answered: int
    accepted: int
    # Answered within ORDER_ANSWER_WORKING_DAYS working days.
    answered_in_time: int
    # Still unanswered and past the deadline (escalated).
    overdue: int
    deliveries: int
    people_reached: int
    median_answer_hours: float | None

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among answered orders, in percent."""
        return _percent(self.accepted, self.answered)

    @property
    def in_time_rate(self) -> float | None:
        return _percent(self.answered_in_time, self.answered)


@dataclass(frozen=True)
class MonthFigures:
    month: date
    placed: int
    delivered: int


@dataclass(frozen=True)
class OrderStatistics:
    filterset: OrderStatisticsFilter
    departments: list[DepartmentFigures]
    totals: DepartmentFigures
    months: list[MonthFigures]


def order_statistics(
    *, user: User, params: Mapping[str, Any], months: int = 6
) -> OrderStatistics:
    """The figures of the orders ``user`` may see, narrowed by ``params``
    (``OrderStatisticsFilter``), one row per department with orders, busiest
    first; and orders placed and delivered in each of the last ``months``
    months (or the months of the chosen period). Five queries."""
    filterset = OrderStatisticsFilter(params, queryset=orders_visible_to(user))
    # Invalid filters are shown as errors and applied as none, like the lists.
    orders = (filterset.qs if filterset.is_valid() else filterset.queryset).order_by()
    accepted = OrderEvent.objects.filter(order=OuterRef("pk"), action="accept")
    rows = (
        orders.annotate(was_accepted=Exists(accepted))
        .values("department_id")
        .annotate(
            orders=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            accepted=Count("pk", filter=Q(was_accepted=True)),
            overdue=Count(
                "pk",
                filter=Q(state=OrderState.SUBMITTED, escalated_at__isnull=False),
            ),
            session_deliveries=Count(
                "session",
                distinct=True,
                filter=Q(state__in=DELIVERED_STATES, session__isnull=False),
            ),
            request_deliveries=Count(
                "pk", filter=Q(state__in=DELIVERED_STATES, session__isnull=True)
            ),
            people_reached=Sum("attendance", filter=Q(state__in=DELIVERED_STATES)),
        )
    )
    answer_times = _answer_times(orders)
    departments = Department.objects.select_related("family").in_bulk(
        [row["department_id"] for row in rows]
    )
    figures = [
        _figures(
            departments[row["department_id"]], row, answer_times[row["department_id"]]
        )
        for row in rows
    ]
    figures.sort(key=lambda f: (-f.orders, f.department.name))
    totals = _figures(
        None,
        {
            name: sum(row[name] or 0 for row in rows)
            for name in (
                "orders",
                "answered",
                "accepted",
                "overdue",
                "session_deliveries",
                "request_deliveries",
                "people_reached",
            )
        },
        [time for times in answer_times.values() for time in times],
    )
    return OrderStatistics(
        filterset=filterset,
        departments=figures,
        totals=totals,
        months=_months(orders, filterset, months),
    )


def _figures(
    department: Department | None,
    row: Mapping[str, Any],
    answer_times: list[tuple[float, bool]],
) -> DepartmentFigures:
    hours = [time for time, _in_time in answer_times]
    return DepartmentFigures(
        department=department,
        orders=row["orders"],
        answered=row["answered"],
        accepted=row["accepted"],
        answered_in_time=sum(in_time for _time, in_time in answer_times),
        overdue=row["overdue"],
        deliveries=row["session_deliveries"] + row["request_deliveries"],
        people_reached=row["people_reached"] or 0,
        median_answer_hours=round(statistics.median(hours), 1) if hours else None,
    )


def _answer_times(orders: QuerySet[Order]) -> dict[int, list[tuple[float, bool]]]:
    """Per department, for each answered order: hours from when the answer
    clock started (``orders_answer_clock``) to the answer, and whether the
    answer came within the working days allowed."""
    limit = settings.ORDER_ANSWER_WORKING_DAYS
    times: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    answered = orders_answer_clock(orders.filter(answered_at__isnull=False))
    for department_id, started, answered_at in answered.values_list(
        "department_id", "answer_clock_from", "answered_at"
    ):
        # An order promoted after it was answered (accepted, then cancelled
        # while another waited) started its clock before the answer.
        started = min(started, answered_at)
        waited = working_days_between(
            timezone.localtime(started), timezone.localtime(answered_at)
        )
        times[department_id].append(
            ((answered_at - started).total_seconds() / 3600, waited < limit)
        )
    return times


def _months(
    orders: QuerySet[Order], filterset: OrderStatisticsFilter, count: int
) -> list[MonthFigures]:
    """Orders placed, and orders delivered (by the month of the delivery
    event), in each month of the chosen period, or of the last ``count``
    months when the period is open."""
    chosen = filterset.form.cleaned_data if filterset.is_valid() else {}
    last = chosen.get("placed_to") or timezone.localdate()
    first = chosen.get("placed_from") or _month_start(last, back=count - 1)
    months = _month_range(first, last)
    start = timezone.make_aware(datetime.combine(months[0], datetime.min.time()))
    placed = dict(
        orders.filter(placed_at__gte=start)
        .annotate(month=TruncMonth("placed_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )
    delivered = dict(
        OrderEvent.objects.filter(
            order__in=orders.values("pk"), action="deliver", at__gte=start
        )
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )
    return [
        MonthFigures(
            month=month,
            placed=_in_month(placed, month),
            delivered=_in_month(delivered, month),
        )
        for month in months
    ]


def _in_month(counts: Mapping[Any, int], month: date) -> int:
    # TruncMonth gives aware datetimes on PostgreSQL and dates or datetimes
    # elsewhere, depending on the field; compare by the month alone.
    return sum(
        n
        for key, n in counts.items()
        if (key.year, key.month) == (month.year, month.month)
    )


def _month_start(day: date, *, back: int = 0) -> date:
    month = day.year * 12 + day.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


def _month_range(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s, at most
    24 of them (the most recent)."""
    months = []
    month = _month_start(last)
    while month >= _month_start(first) and len(months) < 24:
        months.append(month)
        month = _month_start(month - timedelta(days=1))
    return months[::-1] or [_month_start(last)]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def format_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def format_hours(hours: float | None) -> str:
    """An answer time in words: hours under two days, days beyond."""
    if hours is None:
        return "—"
    if hours < 48:
        return gettext("%(hours)s h") % {"hours": _short(hours)}
    return gettext("%(days)s days") % {"days": _short(hours / 24)}


def _short(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
