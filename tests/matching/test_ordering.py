"""Placing orders and taking them through their lifecycle: seats taken and
freed, the waiting list, double submits, and who may do what."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import matching.services
from catalog.selectors import catalog_browse
from matching.models import Order, OrderState
from matching.services import OrderError, order_place, order_transition
from tests.matching.helpers import operator_of, scheduled_offering

pytestmark = pytest.mark.django_db


def place(user, page, session, participants=1, **fields):
    return order_place(
        user=user,
        offering=page,
        session=session,
        participants=participants,
        contact_name="王丽",
        contact_phone="13800000001",
        **fields,
    )


def test_an_order_takes_its_seats(operator, department):
    page, session = scheduled_offering(department, seats=10)
    order = place(operator, page, session, participants=4)
    session.refresh_from_db()
    assert (order.state, order.holds_seats, session.seats_taken) == (
        OrderState.SUBMITTED,
        True,
        4,
    )
    assert [e.action for e in order.events.all()] == ["place"]


def test_a_full_session_puts_the_order_on_the_waiting_list(street, department):
    page, session = scheduled_offering(department, seats=3)
    first = place(operator_of(street), page, session, participants=3)
    second = place(operator_of(street), page, session, participants=2)
    session.refresh_from_db()
    assert first.state == OrderState.SUBMITTED
    assert (second.state, second.holds_seats) == (OrderState.WAITLISTED, False)
    assert session.seats_taken == 3


def test_a_freed_seat_promotes_the_first_waiting_order(street, department, publisher):
    page, session = scheduled_offering(department, seats=2)
    first = place(operator_of(street), page, session, participants=2)
    waiting = place(operator_of(street), page, session, participants=1)
    later = place(operator_of(street), page, session, participants=1)
    order_transition(
        order_id=first.pk, user=publisher, action="reject", reason="人手不足"
    )
    waiting.refresh_from_db()
    later.refresh_from_db()
    session.refresh_from_db()
    assert waiting.state == later.state == OrderState.SUBMITTED
    assert session.seats_taken == 2
    assert [e.action for e in waiting.events.all()] == ["place", "waitlist", "promote"]


def test_a_double_submit_creates_one_order(operator, department):
    page, session = scheduled_offering(department)
    first = place(
        operator, page, session, idempotency_key="5d1c6a7e-0000-4000-8000-000000000001"
    )
    again = place(
        operator, page, session, idempotency_key="5d1c6a7e-0000-4000-8000-000000000001"
    )
    session.refresh_from_db()
    assert first.pk == again.pk
    assert session.seats_taken == 1


def test_one_active_order_per_community_and_session(operator, department):
    page, session = scheduled_offering(department)
    place(operator, page, session)
    with pytest.raises(OrderError):
        place(operator, page, session)


def test_a_waiting_order_records_both_events(street, department):
    page, session = scheduled_offering(department, seats=1)
    place(operator_of(street), page, session)
    waiting = place(operator_of(street), page, session)
    assert [
        (e.action, e.from_state, e.to_state, e.actor) for e in waiting.events.all()
    ] == [
        ("place", "", "submitted", waiting.placed_by),
        ("waitlist", "submitted", "waitlisted", None),
    ]


def test_an_order_reads_before_it_writes_and_counts_demand_last(street, department):
    page, session = scheduled_offering(department)
    place(operator_of(street), page, session)
    operator = operator_of(street)
    with CaptureQueriesContext(connection) as queries:
        place(operator, page, session)
    statements = [
        (query["sql"].split()[0], _table(query["sql"]))
        for query in queries.captured_queries
    ]
    # Three reads (an earlier order, the catalog entry, a need to answer),
    # then the transaction (a savepoint in the test's): the seat, the order,
    # its event, and the offering's counter that every order of it waits for.
    assert statements == [
        ("SELECT", "matching_order"),
        ("SELECT", "catalog_catalogentry"),
        ("SELECT", "matching_needresponse"),
        ("SAVEPOINT", None),
        ("UPDATE", "catalog_offeringsession"),
        ("INSERT", "matching_order"),
        ("INSERT", "matching_orderevent"),
        ("UPDATE", "catalog_offeringdemand"),
        ("RELEASE", None),
    ]


def _table(sql: str) -> str | None:
    for word in ("FROM", "INTO", "UPDATE"):
        if f"{word} " in sql:
            return sql.split(f"{word} ", 1)[1].split()[0].strip('"')
    return None


@pytest.fixture
def checks_missed(monkeypatch):
    """The checks before the transaction find nothing, as when a racing
    order commits right after they read."""
    monkeypatch.setattr(matching.services, "_orders_earlier", lambda **kwargs: [])


def test_losing_the_race_to_another_order_of_the_community_takes_no_seat(
    operator, department, checks_missed
):
    page, session = scheduled_offering(department)
    first = place(operator, page, session)
    with pytest.raises(OrderError):
        place(operator, page, session)
    session.refresh_from_db()
    assert session.seats_taken == 1
    assert list(Order.objects.filter(session=session)) == [first]


def test_losing_the_race_to_the_same_form_returns_the_first_order(
    operator, department, checks_missed
):
    page, session = scheduled_offering(department)
    key = "5d1c6a7e-0000-4000-8000-000000000002"
    first = place(operator, page, session, idempotency_key=key)
    again = place(operator, page, session, idempotency_key=key)
    session.refresh_from_db()
    assert (again.pk, session.seats_taken) == (first.pk, 1)


def test_the_whole_lifecycle(operator, publisher, department):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    order_transition(order_id=order.pk, user=publisher, action="accept")
    order_transition(
        order_id=order.pk,
        user=publisher,
        action="schedule",
        scheduled_at=timezone.now() + timedelta(days=10),
        scheduled_place="居委会会议室",
    )
    order_transition(order_id=order.pk, user=publisher, action="deliver", attendance=25)
    order = order_transition(order_id=order.pk, user=operator, action="confirm")
    assert order.state == OrderState.CONFIRMED
    assert [(e.from_state, e.to_state) for e in order.events.all()] == [
        ("", "submitted"),
        ("submitted", "accepted"),
        ("accepted", "scheduled"),
        ("scheduled", "delivered"),
        ("delivered", "confirmed"),
    ]


def test_only_the_right_side_may_act(street, operator, publisher, department):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    with pytest.raises(PermissionDenied):
        order_transition(order_id=order.pk, user=operator, action="accept")
    with pytest.raises(PermissionDenied):
        order_transition(order_id=order.pk, user=operator_of(street), action="withdraw")
    with pytest.raises(OrderError):
        order_transition(order_id=order.pk, user=publisher, action="reject")
    with pytest.raises(OrderError):
        order_transition(order_id=order.pk, user=operator, action="confirm")


def test_withdrawing_frees_the_seats(operator, department):
    page, session = scheduled_offering(department, seats=5)
    order = place(operator, page, session, participants=5)
    order_transition(order_id=order.pk, user=operator, action="withdraw")
    session.refresh_from_db()
    assert session.seats_taken == 0


def test_the_catalog_sorts_by_most_ordered(street, department):
    popular, popular_session = scheduled_offering(department, title="社区急救培训")
    scheduled_offering(department, title="垃圾分类讲座")
    for _ in range(2):
        place(operator_of(street), popular, popular_session)
    browse = catalog_browse(params=QueryDict("sort=popular"))
    assert [o.title for o in browse.page.object_list] == [
        "社区急救培训",
        "垃圾分类讲座",
    ]
    assert browse.page.object_list[0].orders_placed == 2
