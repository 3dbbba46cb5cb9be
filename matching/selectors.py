"""Read queries of orders, each scoped to what a user may see (DESIGN.md,
invariant 3): views, exports and dashboards reach orders only through
``orders_visible_to``, so a foreign order is a 404."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from catalog.models import CatalogEntry, OfferingSession
from matching.calendar import working_days_between
from matching.filters import OrderFilter
from matching.lifecycle import TRANSITIONS, Actor
from matching.models import ACTIVE_STATES, Order, OrderEvent, OrderState
from portal.models import Region, Role, User
from portal.selectors import user_anchor_region


def orders_visible_to(user: User) -> QuerySet[Order]:
    """A community sees its own orders; a street office its communities';
    department staff their department's; the organization department and
    administrators those of the communities in their area (everything for a
    unit-less superuser)."""
    orders = Order.objects.select_related(
        "offering", "session", "community", "department"
    )
    if not user.is_authenticated:
        return orders.none()
    if user.role in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER):
        return orders.filter(department_id=user.department_id)
    anchor = user_anchor_region(user)
    if anchor is None:
        return orders if user.is_superuser else orders.none()
    return orders.filter(community__in=Region.objects.subtree(anchor))


def order_visible_to(*, user: User, order_id: int) -> Order:
    order = orders_visible_to(user).filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


# Worklists -------------------------------------------------------------------


def side_of(user: User) -> Actor | None:
    """The side ``user``'s role takes in every order they see: community
    operators see only their community's orders, department staff only their
    department's. None for those who watch without acting."""
    if user.role == Role.COMMUNITY_OPERATOR:
        return Actor.COMMUNITY
    if user.role in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER):
        return Actor.DEPARTMENT
    return None


def turn_states(side: Actor | None) -> list[str]:
    """The states in which an order waits for ``side``, in lifecycle order
    (a department answers, then schedules, then delivers). Rejecting and
    cancelling are possible nearly always, so they mark nobody's turn: an
    order on the waiting list waits for a seat, not for the department."""
    states: list[str] = []
    for transition in TRANSITIONS.values():
        if transition.actor != side or transition.target in (
            OrderState.REJECTED,
            OrderState.CANCELLED,
        ):
            continue
        states += [state for state in transition.sources if state not in states]
    return states


def order_worklist(*, user: User, params: Mapping[str, Any]) -> OrderFilter:
    """The orders ``user`` may see, filtered by ``params``: first those
    waiting for the user's side, by stage and then the longest-waiting first,
    each with ``waiting_since`` (its last change); then the rest, newest
    first; each with ``campaign_name``, that of the ordering campaign it came
    from (None for an ordinary order)."""
    orders = orders_visible_to(user).annotate(
        campaign_name=F("campaign_assignment__campaign__name")
    )
    turn = turn_states(side_of(user))
    if turn:
        orders = orders.annotate(
            turn=Case(
                *[
                    When(state=state, then=Value(rank))
                    for rank, state in enumerate(turn)
                ],
                default=Value(len(turn)),
                output_field=IntegerField(),
            ),
            waiting_since=Case(When(state__in=turn, then=F("changed_at"))),
        ).order_by("turn", "waiting_since", "-placed_at", "-pk")
    return OrderFilter(params, queryset=orders, user=user)


def order_state_counts(*, user: User) -> dict[str, int]:
    """How many of the orders ``user`` may see are in each state (one query)."""
    rows = (
        orders_visible_to(user)
        .order_by()
        .values_list("state")
        .annotate(count=Count("pk"))
    )
    return dict(rows)


def orders_under_way(*, user: User, offering_id: int) -> QuerySet[Order]:
    """The orders of ``offering_id`` still under way that ``user`` may see:
    on the order form, the sessions the community has already ordered."""
    return orders_visible_to(user).filter(
        offering_id=offering_id, state__in=ACTIVE_STATES
    )


def order_by_key(*, user: User, key: uuid.UUID) -> Order | None:
    """The order ``user`` placed with the order form's ``key``, if any: a
    submit that arrives twice finds the first one."""
    return orders_visible_to(user).filter(idempotency_key=key, placed_by=user).first()


# The answer clock (SLA): how long a department has had to answer an order,
# in working days of the Chinese calendar (matching.calendar).


def orders_answer_clock(orders: QuerySet[Order]) -> QuerySet[Order]:
    """``orders`` with ``answer_clock_from``: when the department's time to
    answer began — when the order was placed, or, for an order that waited for
    a seat, when it left the waiting list (it could not be accepted before)."""
    promoted_at = (
        OrderEvent.objects.filter(order=OuterRef("pk"), action="promote")
        .order_by("-at")
        .values("at")[:1]
    )
    return orders.annotate(
        answer_clock_from=Coalesce(Subquery(promoted_at), F("placed_at"))
    )


def working_days_waiting(order: Order, now: datetime | None = None) -> int:
    """Whole working days the department has had to answer ``order`` by
    ``now`` (the day the clock started not counted, see matching.calendar):
    from ``answer_clock_from`` where the list was annotated with it
    (``orders_answer_clock``), else from when the order was placed. The order
    is escalated once this reaches ``ORDER_ANSWER_WORKING_DAYS``."""
    start = getattr(order, "answer_clock_from", None) or order.placed_at
    return working_days_between(
        timezone.localtime(start), timezone.localtime(now or timezone.now())
    )


# Sessions and their rosters ----------------------------------------------------

# Orders that bring people to a session: they hold its seats, or held them
# until the delivery was recorded.
ROSTER_STATES = (
    OrderState.ACCEPTED,
    OrderState.SCHEDULED,
    OrderState.DELIVERED,
    OrderState.CONFIRMED,
)


def department_sessions_upcoming(
    *, department_id: int, days: int = 30
) -> QuerySet[OfferingSession]:
    """The department's sessions starting in the next ``days`` days, soonest
    first: those of its offerings in the catalog, and any other that has one
    of its orders (an offering paused since). Each with ``attending`` (people
    of roster orders) and ``waiting`` (orders on the waiting list)."""
    now = timezone.now()
    its_offerings = CatalogEntry.objects.filter(department_id=department_id).values(
        "offering_id"
    )
    ordered = Order.objects.filter(department_id=department_id).values("session_id")
    return (
        OfferingSession.objects.filter(
            Q(offering_id__in=its_offerings) | Q(pk__in=ordered),
            starts_at__gte=now,
            starts_at__lt=now + timedelta(days=days),
        )
        .select_related("offering")
        .annotate(
            attending=Coalesce(
                Sum("orders__participants", filter=Q(orders__state__in=ROSTER_STATES)),
                0,
            ),
            waiting=Count("orders", filter=Q(orders__state=OrderState.WAITLISTED)),
        )
        .order_by("starts_at", "pk")
    )


@dataclass(frozen=True)
class Roster:
    session: OfferingSession
    # Orders coming, by community; those holding seats but not yet answered;
    # then the waiting list, first come first.
    orders: list[Order]
    unanswered: list[Order]
    waiting: list[Order]

    @property
    def people(self) -> int:
        return sum(order.participants for order in self.orders)


def session_roster(*, user: User, session_id: int) -> Roster:
    """Who comes to the session: the orders ``user`` may see of it. Rosters
    are the answering department's (and those overseeing the area, who see
    the orders of their communities); for anyone else, and for a session
    without any order the user may see, Http404."""
    if side_of(user) == Actor.COMMUNITY or user.role == Role.STREET_OFFICE:
        raise Http404
    session = (
        OfferingSession.objects.select_related("offering").filter(pk=session_id).first()
    )
    if session is None:
        raise Http404
    orders = list(
        orders_visible_to(user)
        .filter(session=session)
        .filter(state__in=(*ROSTER_STATES, OrderState.SUBMITTED, OrderState.WAITLISTED))
        .select_related("community__street", "placed_by")
        .order_by("community__street__name", "community__name", "placed_at")
    )
    entry = CatalogEntry.objects.filter(offering_id=session.offering_id).first()
    owner = entry.department_id if entry else None
    if not orders and not (
        side_of(user) == Actor.DEPARTMENT and user.department_id == owner
    ):
        raise Http404
    return Roster(
        session=session,
        orders=[order for order in orders if order.state in ROSTER_STATES],
        unanswered=[order for order in orders if order.state == OrderState.SUBMITTED],
        waiting=sorted(
            (order for order in orders if order.state == OrderState.WAITLISTED),
            key=lambda order: (order.placed_at, order.pk),
        ),
    )


# For other apps -----------------------------------------------------------------


def communities_served(
    *,
    department_ids: list[int],
    community_ids: QuerySet[Region],
    since: date,
    until: date,
) -> set[tuple[int, int]]:
    """(community, department) pairs where the department delivered an order
    to the community between the two dates (inclusive): who has something to
    say about a department's service (the reverse evaluation asks them)."""
    delivered = OrderEvent.objects.filter(
        action="deliver",
        at__date__gte=since,
        at__date__lte=until,
        order__department_id__in=department_ids,
        order__community_id__in=community_ids,
    )
    return set(
        delivered.values_list("order__community_id", "order__department_id").distinct()
    )
