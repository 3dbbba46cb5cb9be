"""Everything that changes an order: the only writer of order state. Each
change happens in one transaction, fires only a legal transition for the
right person, and records an ``OrderEvent``."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Availability, OfferingPage, OfferingSession
from catalog.selectors import orderable_entry
from catalog.services import (
    offering_demand_add,
    session_seats_release,
    session_seats_take,
)
from matching.calendar import add_working_days
from matching.lifecycle import TRANSITIONS, Actor, acts_as
from matching.models import ACTIVE_STATES, Order, OrderEvent, OrderState
from matching.need_selectors import proposals_awaiting_order
from matching.notifications import order_escalated_notify, order_event_notify
from matching.selectors import orders_answer_clock
from portal.models import Role, User


class OrderError(Exception):
    """Why an order cannot be placed or changed, in words for the user."""


def order_place(
    *,
    user: User,
    offering: OfferingPage,
    participants: int,
    contact_name: str,
    contact_phone: str,
    session: OfferingSession | None = None,
    wished_from: date | None = None,
    wished_to: date | None = None,
    note: str = "",
    idempotency_key: uuid.UUID | None = None,
) -> Order:
    """Place ``user``'s community's order and take its seats.

    When the session has too few seats left, the order waits on the session's
    waiting list and is promoted when seats are freed. A second call with the
    same ``idempotency_key`` (a double-clicked submit) returns the first order.

    Everything that needs no lock is read and checked before the write
    transaction, which then only takes the seats, writes the order, its
    events (and the need it answers) and counts the offering's demand. The
    department is told after the commit.

    Raises ``OrderError`` when the offering cannot be ordered this way, or the
    community already has an order under way for the session;
    ``PermissionDenied`` when ``user`` does not order for a community.
    """
    # Compared with the stored keys in Python below, so a key given as text
    # becomes a UUID first.
    key = uuid.UUID(str(idempotency_key)) if idempotency_key else uuid.uuid4()
    # Checked before the transaction: on SQLite it holds the whole database's
    # write lock from its first statement, on PostgreSQL the session's row
    # from the seat UPDATE, so every query and line of Python inside keeps
    # the other bookers waiting. None of these checks needs a lock. The key
    # and the one order under way per community and session are held by
    # unique constraints until the commit (see the IntegrityError below); the
    # seats by the conditional UPDATE. The catalog entry would be no surer
    # read inside: on PostgreSQL each statement sees what was committed when
    # it started, so an offering paused meanwhile could always slip through.
    earlier = _orders_earlier(user=user, session=session, key=key)
    repeated = next((order for order in earlier if order.idempotency_key == key), None)
    if repeated is not None:
        if repeated.placed_by_id != user.pk:
            raise PermissionDenied
        return repeated
    if user.role != Role.COMMUNITY_OPERATOR or not user.region_id:
        raise PermissionDenied
    entry = orderable_entry(offering=offering, user=user)
    if entry is None:
        raise OrderError(_("This offering cannot be ordered by your community now."))
    _check_request(offering, session, participants, wished_from, wished_to)
    if earlier:
        raise OrderError(
            _("Your community already has an order under way for this session.")
        )
    order = Order(
        offering=offering,
        session=session,
        community_id=user.region_id,
        department_id=entry.department_id,
        placed_by=user,
        participants=participants,
        wished_from=wished_from,
        wished_to=wished_to,
        contact_name=contact_name,
        contact_phone=contact_phone,
        note=note,
        idempotency_key=key,
    )
    # Almost no order answers a need: look first, and lock the need only then.
    # A proposal accepted while this order is placed may miss it, as it
    # always could on PostgreSQL, where the transaction would not see it
    # either; the community accepts before it orders.
    answers_need = proposals_awaiting_order(
        community_id=user.region_id, offering_id=offering.pk
    ).exists()
    try:
        _order_record(order, answers_need=answers_need)
    except IntegrityError:
        # Lost a race: to the same form submitted twice (the key), or to
        # another order of the community for the session. Both were placed
        # after the checks above read, and their constraints held.
        existing = Order.objects.filter(idempotency_key=key).first()
        if existing is not None and existing.placed_by_id == user.pk:
            return existing
        raise OrderError(
            _("Your community already has an order under way for this session.")
        ) from None
    order_event_notify(order, "place")
    return order


def _orders_earlier(
    *, user: User, session: OfferingSession | None, key: uuid.UUID
) -> list[Order]:
    """In one query, the orders a new one may not repeat: the one placed with
    ``key`` (the same form sent again), and the community's order under way
    for ``session``."""
    earlier = Q(idempotency_key=key)
    if session is not None and user.region_id:
        earlier |= Q(
            community_id=user.region_id, session=session, state__in=ACTIVE_STATES
        )
    return list(Order.objects.filter(earlier).order_by()[:2])


@transaction.atomic
def _order_record(order: Order, *, answers_need: bool) -> None:
    """Take the seats of a checked, unsaved ``order`` and write it with its
    events, link the need it answers and count its offering's demand.

    The rows other bookers wait for are taken late: the session's first
    (the order's state depends on it), then two inserts, the need's row in
    the rare order answering one, and the offering's demand counter, which
    all the offering's sessions share, just before the commit.
    """
    if order.session_id is not None:
        order.holds_seats = session_seats_take(
            session_id=order.session_id, seats=order.participants
        )
        if not order.holds_seats:
            order.state = OrderState.WAITLISTED
    order.save()
    events = [
        OrderEvent(
            order=order,
            actor=order.placed_by,
            action="place",
            from_state="",
            to_state=OrderState.SUBMITTED,
        )
    ]
    if order.state == OrderState.WAITLISTED:
        events.append(
            OrderEvent(
                order=order,
                actor=None,
                action="waitlist",
                from_state=OrderState.SUBMITTED,
                to_state=OrderState.WAITLISTED,
            )
        )
    OrderEvent.objects.bulk_create(events)
    if answers_need:
        # An order placed from an accepted proposal matches the community's
        # need. Imported here: matching.need_services places orders through
        # this module.
        from matching.need_services import need_order_placed

        need_order_placed(order=order, actor=order.placed_by)
    offering_demand_add(offering_id=order.offering_id)


def _check_request(
    offering: OfferingPage,
    session: OfferingSession | None,
    participants: int,
    wished_from: date | None,
    wished_to: date | None,
) -> None:
    if participants < 1:
        raise OrderError(_("Order for at least one participant."))
    if offering.max_participants and participants > offering.max_participants:
        raise OrderError(
            _("At most %(count)s participants can take part.")
            % {"count": offering.max_participants}
        )
    if offering.availability == Availability.SCHEDULED:
        if session is None or session.offering_id != offering.pk:
            raise OrderError(_("Choose one of the offering's sessions."))
        if session.starts_at <= timezone.now():
            raise OrderError(_("This session has already started."))
        # An order larger than the whole session could never be seated: on
        # the waiting list it would wait for good, and since the list moves
        # first come first served, so would every order placed after it.
        if participants > session.seats:
            raise OrderError(
                _("At most %(count)s participants can take part.")
                % {"count": session.seats}
            )
        return
    if session is not None:
        raise OrderError(_("This offering is on request: give the dates you wish."))
    if wished_from is None or wished_to is None or wished_to < wished_from:
        raise OrderError(_("Give the first and last day that would suit you."))
    earliest = timezone.localdate() + timedelta(days=offering.lead_time_days)
    if wished_to < earliest:
        raise OrderError(
            _("The department needs %(days)s days' notice: choose dates from %(date)s.")
            % {"days": offering.lead_time_days, "date": earliest.isoformat()}
        )


@transaction.atomic
def order_transition(
    *,
    order_id: int,
    user: User,
    action: str,
    reason: str = "",
    scheduled_at: datetime | None = None,
    scheduled_place: str = "",
    scheduled_people: str = "",
    attendance: int | None = None,
    delivery_note: str = "",
) -> Order:
    """Take ``action`` on an order as ``user``.

    The order row is locked for the change. Rejecting or cancelling frees the
    order's seats, or its place on the waiting list, and promotes the
    session's waiting list, first come first served. Raises ``PermissionDenied`` when ``user`` is not on the side the
    action belongs to, ``OrderError`` when the order's state does not allow
    it or something it needs is missing.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    transition = TRANSITIONS.get(action)
    if transition is None or transition.actor == Actor.PORTAL:
        raise PermissionDenied
    if acts_as(user, order) != transition.actor:
        raise PermissionDenied
    if order.state not in transition.sources:
        raise OrderError(
            _("This order is %(state)s: it can no longer be changed this way.")
            % {"state": order.get_state_display()}
        )
    reason = reason.strip()
    if transition.reason_required and not reason:
        raise OrderError(_("Give a reason: the community will read it."))
    if action == "schedule":
        if scheduled_at is None or not scheduled_place.strip():
            raise OrderError(_("Give the date, time and place."))
        order.scheduled_at = scheduled_at
        order.scheduled_place = scheduled_place.strip()
        order.scheduled_people = scheduled_people.strip()
    elif action == "deliver":
        if attendance is None:
            raise OrderError(_("Say how many people took part."))
        order.attendance = attendance
        order.delivery_note = delivery_note.strip()
    if reason:
        order.reason = reason
    if action in ("accept", "reject", "cancel") and order.answered_at is None:
        order.answered_at = timezone.now()
    previous = order.state
    order.state = transition.target
    freed = order.holds_seats and transition.target in (
        OrderState.REJECTED,
        OrderState.CANCELLED,
    )
    if freed:
        order.holds_seats = False
    order.save()
    _event(order, user, action, previous, note=reason)
    order_event_notify(order, action)
    # A need answered by this order is fulfilled or reopened with it.
    from matching.need_services import need_order_changed

    need_order_changed(order=order, actor=user)
    if freed:
        session_seats_release(session_id=order.session_id, seats=order.participants)
    # A waiting order that leaves the list moves it up as freed seats do: it
    # may have been first in line and too large for the seats left, holding
    # up smaller orders behind it that fit in them.
    if freed or previous == OrderState.WAITLISTED:
        waiting_list_promote(session_id=order.session_id)
    return order


def waiting_list_promote(*, session_id: int) -> list[Order]:
    """Give freed seats to the session's waiting list in order of placing;
    stops at the first order that does not fit, so nobody is skipped."""
    promoted = []
    while True:
        first = (
            Order.objects.select_for_update()
            .filter(session_id=session_id, state=OrderState.WAITLISTED)
            .order_by("placed_at", "pk")
            .first()
        )
        if first is None or not session_seats_take(
            session_id=session_id, seats=first.participants
        ):
            return promoted
        first.state = OrderState.SUBMITTED
        first.holds_seats = True
        first.save(update_fields=["state", "holds_seats", "changed_at"])
        _event(first, None, "promote", OrderState.WAITLISTED)
        order_event_notify(first, "promote")
        promoted.append(first)


def _event(
    order: Order, actor: User | None, action: str, from_state: str, note: str = ""
) -> None:
    OrderEvent.objects.create(
        order=order,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=order.state,
        note=note,
    )


def orders_escalate(*, now: datetime | None = None) -> list[Order]:
    """Escalate the orders the department has not answered for
    ``ORDER_ANSWER_WORKING_DAYS`` working days (``working_days_waiting``):
    set their ``escalated_at`` and, after commit, tell the street office of
    the community's street and the organization departments over the
    community. Escalating changes no state, so it records no event.

    Idempotent: an order is escalated once, also when runs overlap or the
    department answers meanwhile. Returns the orders this call escalated.
    """
    now = now or timezone.now()
    # Waited at least N whole working days <=> the clock started before the
    # N-th working day back from today (the day it started is not counted).
    nth_day_back = add_working_days(
        timezone.localdate(now), -settings.ORDER_ANSWER_WORKING_DAYS
    )
    cutoff = timezone.make_aware(datetime.combine(nth_day_back, time.min))
    due = (
        orders_answer_clock(Order.objects.all())
        .filter(
            state=OrderState.SUBMITTED,
            escalated_at__isnull=True,
            answer_clock_from__lt=cutoff,
        )
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)
    )
    escalated = []
    with transaction.atomic():
        for order_id in list(due):
            # Conditional, so that a concurrent run or answer wins cleanly.
            if Order.objects.filter(
                pk=order_id, state=OrderState.SUBMITTED, escalated_at__isnull=True
            ).update(escalated_at=now):
                order = Order.objects.get(pk=order_id)
                order_escalated_notify(order)
                escalated.append(order)
    return escalated
