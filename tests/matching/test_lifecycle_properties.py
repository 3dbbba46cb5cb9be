"""Random use of the order lifecycle keeps the books straight.

A Hypothesis state machine places orders and takes random actions on them as
random people, and after every step checks what must always hold: legal
states, frozen final states, seats taken equal to the seats orders hold,
nobody who fits left waiting, an unbroken history per order, one order under
way per community and session. Each example runs inside a savepoint that is
rolled back afterwards, so the examples share one catalog built once.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from catalog.models import OfferingPage, OfferingSession
from matching.lifecycle import TERMINAL_STATES, TRANSITIONS, Actor
from matching.models import ACTIVE_STATES, Order, OrderEvent, OrderState
from matching.services import OrderError, order_place, order_transition
from portal.models import Role, User
from tests.catalog.helpers import corner, offering
from tests.factories import (
    CommunityFactory,
    DepartmentFactory,
    StreetFactory,
    UserFactory,
)
from tests.matching.helpers import operator_of

pytestmark = pytest.mark.django_db

S = OrderState

# Who may turn up: names of the world's users, so that a failing run reads
# "user='outsider'" rather than a primary key.
USERS = (
    "operator_a1",
    "colleague_a1",  # a second operator of operator_a1's community
    "operator_a2",
    "operator_a3",
    "operator_b1",
    "operator_b2",
    "operator_b3",
    "operator_a4",
    "street_officer",
    "publisher",
    "approver",
    "outsider",  # a publisher of another department
)
OPERATORS = USERS[:8]
DEPARTMENT_STAFF = ("publisher", "approver")
# What may be ordered: a session of an offering open to the whole district, a
# session of one served in street A only, and an offering on request. Few
# sessions, so that orders crowd into them and waiting lists form.
TARGETS = ("talk", "street_a_only", "on_request")
SESSION_TARGETS = TARGETS[:2]
# Now and then a placement sends an earlier form again.
FORMS = ("new", "new", "new", "sent again")

# Orders of a session that count their participants in its seats taken. A
# confirmed order keeps its seats: its people took them, and freeing them
# would reopen a session that has taken place and pull waiting orders into it.
SEAT_HOLDING_STATES = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.SCHEDULED, S.DELIVERED, S.CONFIRMED}
)
# Where an order lets go of its seats and the waiting list moves up.
LEAVING_STATES = frozenset({S.REJECTED, S.CANCELLED})


@dataclass(frozen=True)
class World:
    """What every example starts from, built once for the test."""

    users: dict[str, User]
    offerings: dict[str, OfferingPage]
    street_a_id: int


@dataclass(frozen=True)
class Placement:
    """An order the machine placed, and how: to place it again."""

    order_id: int
    key: uuid.UUID
    user: str


class OrderRow(NamedTuple):
    state: str
    holds_seats: bool
    participants: int
    session_id: int | None
    community_id: int
    department_id: int
    placed_at: datetime
    reason: str
    scheduled_place: str
    attendance: int | None
    answered_at: datetime | None


class EventRow(NamedTuple):
    actor_id: int | None
    action: str
    from_state: str
    to_state: str


@dataclass(frozen=True)
class Books:
    """Everything the services may change, as plain values to compare."""

    orders: dict[int, OrderRow]
    events: dict[int, tuple[EventRow, ...]]
    seats_taken: dict[int, int]


def books_read(session_ids) -> Books:
    orders = {
        pk: OrderRow(*row)
        for pk, *row in Order.objects.values_list("pk", *OrderRow._fields)
    }
    events = defaultdict(list)
    for order_id, *row in OrderEvent.objects.order_by("at", "pk").values_list(
        "order_id", *EventRow._fields
    ):
        events[order_id].append(EventRow(*row))
    seats_taken = dict(
        OfferingSession.objects.filter(pk__in=session_ids).values_list(
            "pk", "seats_taken"
        )
    )
    return Books(
        orders=orders,
        events={pk: tuple(events[pk]) for pk in orders},
        seats_taken=seats_taken,
    )


class OrderLifecycle(RuleBasedStateMachine):
    def __init__(self, world: World):
        super().__init__()
        self.world = world
        self.sessions: dict[str, OfferingSession] = {}
        self.placed: list[Placement] = []
        # Orders seen in a final state, as first seen: they must never change.
        self.frozen: dict[int, tuple[OrderRow, tuple[EventRow, ...]]] = {}
        # One savepoint per example, rolled back in teardown: the next example
        # finds the world as it was built.
        self.example = transaction.atomic()
        self.example.__enter__()

    def teardown(self):
        transaction.set_rollback(True)
        self.example.__exit__(None, None, None)

    @initialize(seats=st.tuples(*[st.integers(2, 4)] * len(SESSION_TARGETS)))
    def open_sessions(self, seats):
        offerings = self.world.offerings
        for days, (target, count) in enumerate(
            zip(SESSION_TARGETS, seats, strict=True), start=10
        ):
            start = timezone.now() + timedelta(days=days)
            self.sessions[target] = OfferingSession.objects.create(
                offering=offerings[target],
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                seats=count,
            )

    # ---- rules -------------------------------------------------------------

    @rule(data=st.data())
    def place(self, data):
        before = self.books()
        # Lean towards sessions, and towards communities with no order under
        # way in the session: orders crowd in and waiting lists form.
        what = data.draw(mostly(SESSION_TARGETS, TARGETS), label="what")
        user = data.draw(mostly(self.newcomers(what, before), USERS), label="user")
        participants = data.draw(st.integers(1, 3), label="participants")
        dates_ok = what != "on_request" or data.draw(st.booleans(), label="dates ok")
        form = data.draw(st.sampled_from(FORMS), label="form") if self.placed else "new"
        if form == "sent again":
            # A form sent again (a double click, a reload) finds its order,
            # whatever it says now; nobody else may use the form's key.
            mine = [placement for placement in self.placed if placement.user == user]
            placement = data.draw(mostly(mine, self.placed), label="sent before")
            if placement.user == user:
                order = self.order_place(
                    user, what, participants, dates_ok, placement.key
                )
                assert order.pk == placement.order_id
            else:
                with pytest.raises(PermissionDenied):
                    self.order_place(user, what, participants, dates_ok, placement.key)
            assert self.books() == before, "a form sent again changed something"
            return

        session = self.sessions.get(what)
        expected = self.placing_outcome(user, what, participants, before)
        if not dates_ok and expected is not PermissionDenied:
            expected = OrderError
        key = uuid.uuid4()
        if isinstance(expected, type):
            with pytest.raises(expected):
                self.order_place(user, what, participants, dates_ok, key)
            assert self.books() == before, "a refused order changed something"
            return
        order = self.order_place(user, what, participants, dates_ok, key)
        self.placed.append(Placement(order_id=order.pk, key=key, user=user))
        after = self.books()
        assert order.pk not in before.orders
        assert (order.state, order.holds_seats) == expected
        assert {pk: row for pk, row in after.orders.items() if pk != order.pk} == (
            before.orders
        ), "placing an order changed another one"
        seats = dict(before.seats_taken)
        if order.holds_seats:
            seats[session.pk] += participants
        assert after.seats_taken == seats

    @precondition(lambda self: self.placed)
    @rule(data=st.data())
    def act(self, data):
        before = self.books()
        # Random actions on random orders by random users would mostly be
        # refused: lean towards orders still under way, actions their state
        # allows and people on the action's side, so that orders get far into
        # their lifecycle and waiting lists move.
        live = [
            placement
            for placement in self.placed
            if before.orders[placement.order_id].state not in TERMINAL_STATES
        ]
        placement = data.draw(mostly(live, self.placed), label="order")
        row = before.orders[placement.order_id]
        possible = [
            action
            for action, t in TRANSITIONS.items()
            if row.state in t.sources and t.actor != Actor.PORTAL
        ]
        action = data.draw(mostly(possible, sorted(TRANSITIONS)), label="action")
        transition = TRANSITIONS[action]
        own_side = self.side_users(transition.actor, row)
        user = data.draw(mostly(own_side, USERS), label="user")
        with_details = data.draw(st.sampled_from((True, True, False)), label="details")

        expected = self.acting_outcome(user, action, with_details, row)
        details = {}
        if with_details:
            details = {
                "reason": "人手不足，改期再约",
                "scheduled_at": timezone.now() + timedelta(days=12),
                "scheduled_place": "居委会会议室",
                "attendance": row.participants * 10,
            }
        call = {
            "order_id": placement.order_id,
            "user": self.world.users[user],
            "action": action,
            **details,
        }
        if expected is not None:
            with pytest.raises(expected):
                order_transition(**call)
            assert self.books() == before, f"a refused {action} changed something"
            return

        order = order_transition(**call)
        after = self.books()
        assert order.state == transition.target
        assert after.orders[order.pk].state == transition.target
        assert after.events[order.pk] == (
            *before.events[order.pk],
            EventRow(self.world.users[user].pk, action, row.state, transition.target),
        )
        leaves = transition.target in LEAVING_STATES
        if leaves:
            assert not after.orders[order.pk].holds_seats
        else:
            assert after.orders[order.pk].holds_seats == row.holds_seats
        # Nobody else's order changes, but for promotions from the session's
        # waiting list when this one leaves it or gives up its seats.
        for pk, old in before.orders.items():
            new = after.orders[pk]
            if pk == order.pk or new == old:
                continue
            assert leaves and old.session_id == row.session_id, (
                f"{action} on #{order.pk} changed #{pk}"
            )
            assert (old.state, new) == (
                S.WAITLISTED,
                old._replace(state=S.SUBMITTED, holds_seats=True),
            )
            assert after.events[pk] == (
                *before.events[pk],
                EventRow(None, "promote", S.WAITLISTED, S.SUBMITTED),
            )
        for session_id, taken in before.seats_taken.items():
            if session_id != row.session_id:
                assert after.seats_taken[session_id] == taken

    # ---- invariants ----------------------------------------------------------

    @invariant()
    def the_books_balance(self):
        books = self.books()
        for pk, row in books.orders.items():
            assert row.state in S.values, f"#{pk} is in no known state"
            history_is_unbroken(pk, row, books.events[pk])
            if row.state in TERMINAL_STATES:
                now = (row, books.events[pk])
                assert self.frozen.setdefault(pk, now) == now, (
                    f"#{pk} changed after reaching {row.state}"
                )
            if row.session_id is None:
                assert not row.holds_seats, f"#{pk} on request holds seats"
            else:
                assert row.holds_seats == (row.state in SEAT_HOLDING_STATES), (
                    f"#{pk} is {row.state} with holds_seats={row.holds_seats}"
                )
        assert set(self.frozen) <= set(books.orders)
        for session in self.sessions.values():
            orders = [
                row for row in books.orders.values() if row.session_id == session.pk
            ]
            taken = books.seats_taken[session.pk]
            assert taken == sum(row.participants for row in orders if row.holds_seats)
            assert taken <= session.seats
            waiting = sorted(
                (row.placed_at, row.participants)
                for row in orders
                if row.state == S.WAITLISTED
            )
            if waiting:
                # First come, first served: the first in line waits only while
                # it does not fit; those behind it wait for it.
                assert waiting[0][1] > session.seats - taken, (
                    f"an order that fits waits for session {session.pk}"
                )
                # And it waits for something that can come: an order larger
                # than the session would hold up everyone behind it for good.
                assert max(participants for _, participants in waiting) <= (
                    session.seats
                ), f"an order waits for more seats than session {session.pk} has"
            active = [row.community_id for row in orders if row.state in ACTIVE_STATES]
            assert len(active) == len(set(active)), "two orders under way"

    # ---- helpers -------------------------------------------------------------

    def books(self) -> Books:
        return books_read([session.pk for session in self.sessions.values()])

    def order_place(self, user, what, participants, dates_ok, key) -> Order:
        today = timezone.localdate()
        wished = {}
        if what == "on_request":
            # The offering needs 7 days' notice (the default lead time).
            first = today + timedelta(days=10 if dates_ok else 1)
            wished = {"wished_from": first, "wished_to": first + timedelta(days=2)}
        session = self.sessions.get(what)
        return order_place(
            user=self.world.users[user],
            offering=self.world.offerings[what],
            session=session,
            participants=participants,
            contact_name="王丽",
            contact_phone="13800000001",
            idempotency_key=key,
            **wished,
        )

    def placing_outcome(self, user, what, participants, books):
        """The exception a new order must raise, or its (state, holds_seats)."""
        person = self.world.users[user]
        if person.role != Role.COMMUNITY_OPERATOR:
            return PermissionDenied
        if (
            what == "street_a_only"
            and person.region.street_id != self.world.street_a_id
        ):
            return OrderError
        session = self.sessions.get(what)
        if session is None:
            return (S.SUBMITTED, False)
        if participants > session.seats:
            return OrderError
        rows = [row for row in books.orders.values() if row.session_id == session.pk]
        if any(
            row.community_id == person.region_id and row.state in ACTIVE_STATES
            for row in rows
        ):
            return OrderError
        if participants <= session.seats - books.seats_taken[session.pk]:
            return (S.SUBMITTED, True)
        return (S.WAITLISTED, False)

    def acting_outcome(self, user, action, with_details, row):
        """The exception taking ``action`` must raise, or None."""
        transition = TRANSITIONS[action]
        if transition.actor == Actor.PORTAL or self.side(user, row) != transition.actor:
            return PermissionDenied
        if row.state not in transition.sources:
            return OrderError
        needs_details = transition.reason_required or action in ("schedule", "deliver")
        if needs_details and not with_details:
            return OrderError
        return None

    def first_in_line(self, books: Books) -> list[Placement]:
        firsts = {}
        for pk, row in sorted(
            books.orders.items(), key=lambda item: (item[1].placed_at, item[0])
        ):
            if row.state == S.WAITLISTED:
                firsts.setdefault(row.session_id, pk)
        return [p for p in self.placed if p.order_id in firsts.values()]

    def newcomers(self, what: str, books: Books) -> list[str]:
        """Operators who may order ``what`` and have no order under way in it."""
        session = self.sessions.get(what)
        busy = {
            row.community_id
            for row in books.orders.values()
            if session and row.session_id == session.pk and row.state in ACTIVE_STATES
        }
        return [
            user
            for user in OPERATORS
            if self.world.users[user].region_id not in busy
            and (
                what != "street_a_only"
                or self.world.users[user].region.street_id == self.world.street_a_id
            )
        ]

    def side(self, user: str, row: OrderRow) -> Actor | None:
        """The side ``user`` is on for the order, as the product defines it."""
        person = self.world.users[user]
        if person.role == Role.COMMUNITY_OPERATOR:
            return Actor.COMMUNITY if person.region_id == row.community_id else None
        if user in DEPARTMENT_STAFF and person.department_id == row.department_id:
            return Actor.DEPARTMENT
        return None

    def side_users(self, actor: Actor, row: OrderRow) -> list[str]:
        return [user for user in USERS if self.side(user, row) == actor]


def mostly(preferred, anything) -> st.SearchStrategy:
    """Draws from ``preferred`` three times in four (when it has something),
    else from ``anything``."""
    anything = st.sampled_from(list(anything))
    if not preferred:
        return anything
    return st.one_of(*[st.sampled_from(list(preferred))] * 3, anything)


def history_is_unbroken(pk: int, row: OrderRow, events: tuple[EventRow, ...]):
    """Placed first, then one legal transition after another, ending where the
    order is."""
    assert events, f"#{pk} has no history"
    assert events[0][1:] == ("place", "", S.SUBMITTED), f"#{pk} was not placed first"
    for previous, event in itertools.pairwise(events):
        transition = TRANSITIONS[event.action]
        assert event.from_state == previous.to_state, f"#{pk}: a gap in its history"
        assert event.from_state in transition.sources, f"#{pk}: illegal {event}"
        assert event.to_state == transition.target, f"#{pk}: illegal {event}"
        assert (event.actor_id is None) == (transition.actor == Actor.PORTAL)
    assert events[-1].to_state == row.state, f"#{pk}: its history ends elsewhere"


@pytest.fixture
def world(street, department):
    street_b = StreetFactory(parent=street.district)
    community_a1 = CommunityFactory(parent=street)
    users = {
        "operator_a1": UserFactory(role=Role.COMMUNITY_OPERATOR, region=community_a1),
        "colleague_a1": UserFactory(role=Role.COMMUNITY_OPERATOR, region=community_a1),
        "operator_a2": operator_of(street),
        "operator_a3": operator_of(street),
        "operator_b1": operator_of(street_b),
        "operator_b2": operator_of(street_b),
        "operator_b3": operator_of(street_b),
        "operator_a4": operator_of(street),
        "street_officer": UserFactory(role=Role.STREET_OFFICE, region=street),
        "publisher": UserFactory(
            role=Role.DEPARTMENT_PUBLISHER, region=None, department=department
        ),
        "approver": UserFactory(
            role=Role.DEPARTMENT_APPROVER, region=None, department=department
        ),
        "outsider": UserFactory(
            role=Role.DEPARTMENT_PUBLISHER,
            region=None,
            department=DepartmentFactory(region=street.district),
        ),
    }
    page = corner(department)
    offerings = {
        "talk": offering(page, title="社区消防安全知识培训"),
        "street_a_only": offering(
            page, title="老旧小区电动车充电安全", streets=[street]
        ),
        "on_request": offering(
            page, title="家庭急救技能上门", availability="on_request"
        ),
    }
    return World(users=users, offerings=offerings, street_a_id=street.pk)


def test_random_use_keeps_the_order_books_straight(world):
    run_state_machine_as_test(
        lambda: OrderLifecycle(world),
        settings=settings(
            max_examples=int(__import__("os").environ.get("PROP_N", 40)),
            stateful_step_count=int(__import__("os").environ.get("PROP_S", 40)),
            deadline=None,
            # Nothing written to the repository; failures print their steps.
            database=None,
            # Explaining a failure replays it many times over: slow with a
            # database, and the printed steps already tell the story.
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
