"""The workbench panels of orders and needs, for each role (see
``portal.dashboard``). Thin, like views: figures come from the selectors,
each scoped to what the user may see.

- A community: its orders by state, what to do next, deliveries to confirm,
  its needs.
- A department: orders to answer against the working-day deadline, its
  sessions of the coming weeks with their rosters, needs in its line of work.
- A street office: its communities' orders, those escalated, and each
  community's orders and needs.
- The organization department and administrators: the area's figures of the
  last months, orders by department, unmet needs by category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from matching.campaign_selectors import (
    campaigns_visible_to,
    is_campaign_community,
    is_campaign_organizer,
)
from matching.lifecycle import Actor
from matching.models import (
    ACTIVE_STATES,
    CampaignChoice,
    CampaignState,
    NeedResponseKind,
    NeedState,
    OrderState,
)
from matching.need_selectors import (
    may_see_gap,
    need_state_counts,
    needs_visible_to,
    unmet_needs_summary,
)
from matching.offering_recommend import recommendations_for
from matching.selectors import (
    department_sessions_upcoming,
    order_state_counts,
    orders_answer_clock,
    orders_visible_to,
    side_of,
    turn_states,
    working_days_waiting,
)
from matching.statistics import (
    MonthFigures,
    format_hours,
    format_percent,
    order_statistics,
)
from portal.charts import Bar, Series, bar_chart, column_chart
from portal.dashboard import Panel
from portal.models import Region, Role, User

LIST_LENGTH = 6
# The organization department's summary looks at the last quarter or so.
OVERSIGHT_DAYS = 90


@dataclass(frozen=True)
class Tile:
    """One figure of a panel, linking to what it counts."""

    value: int | str
    label: str | Promise
    url: str = ""
    # Something waits for the user: shown in the accent colour.
    turn: bool = False


@dataclass(frozen=True)
class Step:
    """A suggested next step of a community: what, why, where."""

    text: str
    url: str
    action: str | Promise


def workbench_panels(request: HttpRequest) -> list[Panel]:
    user = request.user
    side = side_of(user)
    if side == Actor.COMMUNITY:
        return [*_community_panels(user), _campaigns_panel(user, order=25)]
    if side == Actor.DEPARTMENT:
        return _department_panels(user)
    if user.role == Role.STREET_OFFICE:
        return _street_panels(user)
    if may_see_gap(user):
        panels = _oversight_panels(user)
        if is_campaign_organizer(user):
            panels.append(_campaigns_panel(user, order=15))
        return panels
    return []


def _campaigns_panel(user: User, *, order: int) -> Panel:
    """The ordering campaigns the user takes part in or runs, those under
    way first: for a community, whether it has ranked in each open one."""
    campaigns = list(
        campaigns_visible_to(user).exclude(
            state=CampaignState.PUBLISHED,
            published_at__lt=timezone.now() - timedelta(days=OVERSIGHT_DAYS),
        )[:LIST_LENGTH]
    )
    if is_campaign_community(user):
        ranked = set(
            CampaignChoice.objects.filter(
                community_id=user.region_id, campaign__in=campaigns
            ).values_list("campaign_id", flat=True)
        )
        for campaign in campaigns:
            campaign.ranked = campaign.pk in ranked
    return Panel(
        title=gettext_lazy("Ordering campaigns"),
        template="matching/workbench/campaigns.html",
        context={
            "campaigns": campaigns,
            "organizer": is_campaign_organizer(user),
            "more_url": reverse("campaign_list"),
        },
        order=order,
    )


# Shared ------------------------------------------------------------------------


def _order_tiles(user: User) -> Panel:
    """The user's orders by state, those waiting for the user's side marked."""
    counts = order_state_counts(user=user)
    turn = turn_states(side_of(user))
    tiles = [
        Tile(
            value=counts.get(state, 0),
            label=label,
            url=_orders_url(state=state),
            turn=state in turn and counts.get(state, 0) > 0,
        )
        for state, label in OrderState.choices
        if counts.get(state) or state in turn
    ]
    return Panel(
        title=gettext_lazy("Orders by state"),
        template="matching/workbench/tiles.html",
        context={
            "tiles": tiles,
            "more_url": reverse("order_list"),
            "more_label": gettext_lazy("All orders"),
            "empty": gettext_lazy("No orders yet."),
        },
        order=10,
        wide=True,
    )


def _orders_url(**params: str) -> str:
    return f"{reverse('order_list')}?{urlencode(params)}"


def _needs_url(**params: str) -> str:
    return (
        f"{reverse('need_list')}?{urlencode(params)}"
        if params
        else reverse("need_list")
    )


def _open_needs(user: User, *, title: str | Promise, order: int) -> Panel:
    counts = need_state_counts(user=user)
    needs = (
        needs_visible_to(user)
        .filter(state=NeedState.OPEN)
        .annotate(
            proposals=Count(
                "responses", filter=Q(responses__kind=NeedResponseKind.PROPOSAL)
            )
        )
        .order_by("-created_at", "-pk")[:LIST_LENGTH]
    )
    return Panel(
        title=title,
        template="matching/workbench/needs.html",
        context={
            "tiles": [
                Tile(
                    value=counts.get(state, 0),
                    label=label,
                    url=_needs_url(state=state),
                )
                for state, label in NeedState.choices
                if state != NeedState.CLOSED
            ],
            "needs": list(needs),
            "more_url": _needs_url(state=NeedState.OPEN),
        },
        order=order,
    )


# Communities -------------------------------------------------------------------


def _community_panels(user: User) -> list[Panel]:
    to_confirm = list(
        orders_visible_to(user)
        .filter(state=OrderState.DELIVERED)
        .order_by("changed_at")[:LIST_LENGTH]
    )
    return [
        _order_tiles(user),
        Panel(
            title=gettext_lazy("Next steps"),
            template="matching/workbench/steps.html",
            context={"steps": _community_steps(user)},
            order=20,
        ),
        Panel(
            title=gettext_lazy("Recommended for you"),
            template="matching/workbench/recommendations.html",
            context={
                "recommendations": recommendations_for(user),
                "more_url": "/catalog/",
            },
            order=25,
        ),
        Panel(
            title=gettext_lazy("Deliveries to confirm"),
            template="matching/workbench/orders.html",
            context={
                "orders": to_confirm,
                "empty": gettext_lazy("Nothing to confirm."),
                "more_url": _orders_url(state=OrderState.DELIVERED),
                "show": "delivery",
            },
            order=30,
        ),
        _open_needs(user, title=gettext_lazy("My needs"), order=40),
    ]


def _community_steps(user: User) -> list[Step]:
    """What the community could do now, most pressing first."""
    steps: list[Step] = []
    orders = orders_visible_to(user)
    delivered = orders.filter(state=OrderState.DELIVERED).count()
    if delivered:
        steps.append(
            Step(
                text=ngettext(
                    "%(count)s delivered order waits for your confirmation.",
                    "%(count)s delivered orders wait for your confirmation.",
                    delivered,
                )
                % {"count": delivered},
                url=_orders_url(state=OrderState.DELIVERED),
                action=gettext_lazy("Confirm"),
            )
        )
    proposed = (
        needs_visible_to(user)
        .filter(state=NeedState.OPEN, responses__kind=NeedResponseKind.PROPOSAL)
        .distinct()
        .order_by("created_at")
    )
    for need in proposed[:3]:
        steps.append(
            Step(
                text=_("Departments proposed offerings for your need “%(title)s”.")
                % {"title": need.title},
                url=reverse("need_detail", args=[need.pk]),
                action=gettext_lazy("Choose one"),
            )
        )
    soon = (
        orders.filter(
            state=OrderState.SCHEDULED,
            scheduled_at__gte=timezone.now(),
            scheduled_at__lt=timezone.now() + timedelta(days=14),
        )
        .order_by("scheduled_at")
        .first()
    )
    if soon is not None:
        steps.append(
            Step(
                text=_("“%(title)s” comes on %(when)s at %(place)s.")
                % {
                    "title": soon.offering.title,
                    "when": timezone.localtime(soon.scheduled_at).strftime(
                        "%m-%d %H:%M"
                    ),
                    "place": soon.scheduled_place,
                },
                url=reverse("order_detail", args=[soon.pk]),
                action=gettext_lazy("See the arrangements"),
            )
        )
    if not orders.filter(state__in=ACTIVE_STATES).exists():
        steps.append(
            Step(
                text=_("Your community has no order under way."),
                url="/catalog/",
                action=gettext_lazy("Browse the catalog"),
            )
        )
    steps.append(
        Step(
            text=_("Cannot find what your community needs in the catalog?"),
            url=reverse("need_new"),
            action=gettext_lazy("Post a need"),
        )
    )
    return steps


# Departments -------------------------------------------------------------------


@dataclass(frozen=True)
class ClockRow:
    order: object
    waited: int
    # Working days left before the order is escalated; negative: late.
    left: int


def _department_panels(user: User) -> list[Panel]:
    limit = settings.ORDER_ANSWER_WORKING_DAYS
    now = timezone.now()
    to_answer = orders_answer_clock(
        orders_visible_to(user).filter(state=OrderState.SUBMITTED)
    ).order_by("answer_clock_from", "pk")
    total = to_answer.count()
    rows = []
    for order in to_answer[: LIST_LENGTH * 2]:
        waited = working_days_waiting(order, now)
        rows.append(ClockRow(order=order, waited=waited, left=limit - waited))
    sessions = list(department_sessions_upcoming(department_id=user.department_id))
    return [
        _order_tiles(user),
        Panel(
            title=gettext_lazy("Orders to answer"),
            template="matching/workbench/answer_clock.html",
            context={
                "rows": rows,
                "total": total,
                "limit": limit,
                "late": sum(row.left <= 0 for row in rows),
                "more_url": _orders_url(state=OrderState.SUBMITTED),
            },
            order=20,
            wide=True,
        ),
        Panel(
            title=gettext_lazy("Sessions of the next 30 days"),
            template="matching/workbench/sessions.html",
            context={"sessions": sessions},
            order=30,
            wide=True,
        ),
        _open_needs(user, title=gettext_lazy("Needs in your line of work"), order=40),
    ]


# Street offices ----------------------------------------------------------------


def _street_panels(user: User) -> list[Panel]:
    escalated = list(
        orders_visible_to(user)
        .filter(state=OrderState.SUBMITTED, escalated_at__isnull=False)
        .order_by("placed_at")[:LIST_LENGTH]
    )
    return [
        _order_tiles(user),
        Panel(
            title=gettext_lazy("Orders left unanswered"),
            template="matching/workbench/orders.html",
            context={
                "orders": escalated,
                "empty": gettext_lazy(
                    "No order of your communities has gone unanswered too long."
                ),
                "show": "escalated",
            },
            order=20,
        ),
        _open_needs(user, title=gettext_lazy("Needs of your communities"), order=30),
        Panel(
            title=gettext_lazy("Your communities"),
            template="matching/workbench/communities.html",
            context={"communities": _community_rows(user)},
            order=40,
            wide=True,
        ),
    ]


def _community_rows(user: User) -> list[Region]:
    """The street's communities with their orders under way, deliveries and
    open needs; those that have never ordered first, so that the street
    office sees whom to reach out to."""
    communities = (
        Region.objects.subtree(user.region)
        .communities()
        .annotate(
            active=Count(
                "orders", filter=Q(orders__state__in=ACTIVE_STATES), distinct=True
            ),
            delivered=Count(
                "orders",
                filter=Q(
                    orders__state__in=(OrderState.DELIVERED, OrderState.CONFIRMED)
                ),
                distinct=True,
            ),
            last_order=Max("orders__placed_at"),
            open_needs=Count(
                "needs", filter=Q(needs__state=NeedState.OPEN), distinct=True
            ),
        )
    )
    return sorted(
        communities,
        key=lambda c: (c.last_order is not None, c.last_order or 0, c.code),
    )


# The organization department ---------------------------------------------------


def _oversight_panels(user: User) -> list[Panel]:
    since = timezone.localdate() - timedelta(days=OVERSIGHT_DAYS)
    params = {"placed_from": since.isoformat()}
    figures = order_statistics(user=user, params=params)
    totals = figures.totals
    gap = unmet_needs_summary(user)
    statistics_url = f"{reverse('order_statistics')}?{urlencode(params)}"
    tiles = [
        Tile(totals.orders, gettext_lazy("Orders placed"), statistics_url),
        Tile(
            format_percent(totals.acceptance_rate),
            gettext_lazy("Acceptance rate"),
            statistics_url,
        ),
        Tile(
            format_hours(totals.median_answer_hours),
            gettext_lazy("Median time to answer"),
            statistics_url,
        ),
        Tile(
            totals.overdue,
            gettext_lazy("Unanswered past the deadline"),
            _orders_url(state=OrderState.SUBMITTED),
            turn=totals.overdue > 0,
        ),
        Tile(totals.deliveries, gettext_lazy("Sessions delivered"), statistics_url),
        Tile(gap.open_needs, gettext_lazy("Unmet needs"), reverse("need_gap")),
    ]
    months = figures.months
    busiest = figures.departments[:8]
    return [
        Panel(
            title=gettext_lazy("The last %(days)s days") % {"days": OVERSIGHT_DAYS},
            template="matching/workbench/tiles.html",
            context={
                "tiles": tiles,
                "more_url": statistics_url,
                "more_label": gettext_lazy("Order statistics"),
            },
            order=10,
            wide=True,
        ),
        Panel(
            title=gettext_lazy("Orders by month"),
            template="matching/workbench/chart.html",
            context={
                "chart": months_chart(months, label="{d.month}月"),
            },
            order=20,
        ),
        Panel(
            title=gettext_lazy("Busiest departments"),
            template="matching/workbench/chart.html",
            context={
                "chart": bar_chart(
                    [
                        Bar(
                            row.department.name,
                            row.orders,
                            _("%(orders)s · accepted %(rate)s")
                            % {
                                "orders": row.orders,
                                "rate": format_percent(row.acceptance_rate),
                            },
                        )
                        for row in busiest
                    ],
                    title=_("Orders by department"),
                    label_width=150,
                ),
                "more_url": statistics_url,
                "more_label": gettext_lazy("Every department"),
            },
            order=30,
        ),
        Panel(
            title=gettext_lazy("Unmet needs by category"),
            template="matching/workbench/chart.html",
            context={
                "chart": bar_chart(
                    [Bar(row.label, row.open_needs) for row in gap.by_category[:8]],
                    title=_("Open needs by category"),
                    label_width=120,
                )
                if gap.by_category
                else None,
                "empty": gettext_lazy("No open needs."),
                "more_url": reverse("need_gap"),
                "more_label": gettext_lazy("The demand–supply gap"),
            },
            order=40,
        ),
    ]


def months_chart(months: list[MonthFigures], *, label: str) -> SafeString:
    """Orders placed and delivered in each month, each month labelled by
    formatting its first day as ``label`` (e.g. "{d.month}月")."""
    return column_chart(
        [label.format(d=month.month) for month in months],
        [
            Series(
                pgettext("chart series", "Placed"), [month.placed for month in months]
            ),
            Series(_("Delivered"), [month.delivered for month in months]),
        ],
        title=_("Orders placed and delivered by month"),
    )


def catalog_recommendations(request: HttpRequest) -> list[Panel]:
    """为您推荐 above the catalog, for a community with something to
    recommend (registered with ``catalog.sections``)."""
    recommendations = recommendations_for(request.user)
    if not recommendations:
        return []
    return [
        Panel(
            title=gettext_lazy("Recommended for you"),
            template="matching/includes/recommendations.html",
            context={"recommendations": recommendations},
        )
    ]
