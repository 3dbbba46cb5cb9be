"""Seats under real concurrency: many communities ordering the last seats of a
session at the same moment, cancellations racing new orders, and a form sent
twice at once. Each thread stands for one request: its own database
connection, closed when it ends, and data committed for all to see."""

import logging
import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connections, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_finished

from catalog.models import OfferingDemand, OfferingSession
from matching import campaign_services
from matching.campaign_services import (
    PUBLISH_ATTEMPTS,
    CampaignSettings,
    campaign_choices_set,
    campaign_close,
    campaign_create,
    campaign_open,
    campaign_publish,
)
from matching.models import (
    ACTIVE_STATES,
    CampaignAssignment,
    CampaignMechanism,
    CampaignPriority,
    CampaignState,
    Order,
    OrderState,
)
from matching.services import OrderError, order_place, order_transition
from portal.models import Notification
from tests.matching.helpers import operator_of, scheduled_offering

# Committed data, visible to every thread; the database is emptied after each
# test and what the migrations loaded (taxonomies, the site) is put back.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 64


@pytest.fixture(scope="module", autouse=True)
def migrated_rows_put_back(django_db_blocker):
    """A transactional test ends by emptying every table, and the next one
    here puts what the migrations loaded back before it starts. After the
    last one, put it back too: under pytest-xdist, tests that expect those
    rows (content types, Wagtail's root page and site) may run after this
    module in the same process."""
    yield
    with django_db_blocker.unblock():
        connection = connections["default"]
        connection.creation.deserialize_db_from_string(
            connection._test_serialized_contents
        )
        ContentType.objects.clear_cache()


def race(calls):
    """Run each call in a thread of its own, all let go at once, and return
    (results, errors) in the order of ``calls``; a thread that raised has its
    exception in ``errors`` and None in ``results``."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            results[index] = call()
        except Exception as error:
            errors[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, call))
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


class _Errors(logging.Handler):
    def __init__(self, failed):
        super().__init__(level=logging.ERROR)
        self.failed = failed

    def emit(self, record):
        self.failed.append(record.getMessage())


@pytest.fixture
def failed_after_commit():
    """Work done after an order commits (indexing the offering, notifying the
    other side) that failed: neither raises to the caller. The immediate task
    backend records a failed task; a robust on_commit callback logs."""
    failed = []

    def record(*, task_result, **kwargs):
        if task_result.status == TaskResultStatus.FAILED:
            failed.append(task_result.errors[-1].traceback)

    handler = _Errors(failed)
    task_finished.connect(record, weak=False)
    logging.getLogger().addHandler(handler)
    yield failed
    logging.getLogger().removeHandler(handler)
    task_finished.disconnect(record)


def place(user, page, session, participants=1, **fields):
    return lambda: order_place(
        user=user,
        offering=page,
        session=session,
        participants=participants,
        contact_name="王丽",
        contact_phone="13800000001",
        **fields,
    )


def withdraw(order):
    return lambda: order_transition(
        order_id=order.pk, user=order.placed_by, action="withdraw"
    )


def seats_held(session):
    """Seats the session counts as taken and seats its orders hold."""
    session.refresh_from_db()
    held = Order.objects.filter(session=session, holds_seats=True).aggregate(
        seats=Sum("participants")
    )["seats"]
    return session.seats_taken, held or 0


def test_the_last_ten_seats_go_to_ten_communities_and_the_rest_wait(
    street, department, failed_after_commit
):
    page, session = scheduled_offering(department, seats=30)
    for _ in range(4):
        place(operator_of(street), page, session, participants=5)()
    racers = [operator_of(street) for _ in range(THREADS)]

    orders, errors = race([place(user, page, session) for user in racers])

    assert errors == [None] * THREADS
    assert failed_after_commit == []
    holding = [order for order in orders if order.holds_seats]
    assert len(holding) == 10
    assert {order.state for order in holding} == {OrderState.SUBMITTED}
    waiting = [order for order in orders if not order.holds_seats]
    assert {order.state for order in waiting} == {OrderState.WAITLISTED}
    assert len({order.community_id for order in orders}) == THREADS
    assert seats_held(session) == (30, 30)
    # What the threads were told is what was stored.
    stored = dict(
        Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("pk", "state")
    )
    assert stored == {order.pk: order.state for order in orders}


def test_cancellations_racing_new_orders_hand_every_freed_seat_on(
    street, department, failed_after_commit
):
    page, session = scheduled_offering(department, seats=10)
    held = [place(operator_of(street), page, session)() for _ in range(10)]
    waiting = [place(operator_of(street), page, session)() for _ in range(3)]
    newcomers = [operator_of(street) for _ in range(THREADS - len(held))]

    results, errors = race(
        [withdraw(order) for order in held]
        + [place(user, page, session) for user in newcomers]
    )

    assert errors == [None] * THREADS
    assert failed_after_commit == []
    # Ten seats freed, three waiting before and 54 new orders: the session is
    # full again, and the three that waited longest got their seats first.
    assert seats_held(session) == (10, 10)
    for order in waiting:
        order.refresh_from_db()
        assert (order.state, order.holds_seats) == (OrderState.SUBMITTED, True)
    assert [order.state for order in results[: len(held)]] == [
        OrderState.CANCELLED
    ] * len(held)
    assert not Order.objects.filter(
        state=OrderState.CANCELLED, holds_seats=True
    ).exists()
    # The seven seats left went to seven newcomers; the others wait.
    placed = Order.objects.filter(pk__in=[o.pk for o in results[len(held) :]])
    assert placed.filter(holds_seats=True).count() == 7
    assert placed.filter(state=OrderState.WAITLISTED).count() == len(newcomers) - 7


def test_a_seat_freed_while_another_community_orders_goes_to_it(
    street, department, failed_after_commit
):
    # One race per session, all at once: the community holding the only seat
    # cancels while another community orders it.
    races = []
    for _ in range(THREADS // 2):
        page, session = scheduled_offering(department, seats=1)
        held = place(operator_of(street), page, session)()
        races.append((session, held, place(operator_of(street), page, session)))

    results, errors = race(
        [call for _session, held, order in races for call in (withdraw(held), order)]
    )

    assert errors == [None] * THREADS
    assert failed_after_commit == []
    # Whichever came first, the newcomer has the seat: either it was free, or
    # the newcomer waited and was promoted when it was freed. Never does it
    # wait beside an empty seat.
    for (session, _held, _order), newcomer in zip(races, results[1::2], strict=True):
        newcomer.refresh_from_db()
        assert (newcomer.state, newcomer.holds_seats) == (OrderState.SUBMITTED, True)
        assert seats_held(session) == (1, 1)


def test_a_form_sent_twice_at_once_makes_one_order(
    street, department, failed_after_commit
):
    page, session = scheduled_offering(department, seats=20)
    users = [operator_of(street) for _ in range(THREADS // 2)]
    keys = [uuid.uuid4() for _ in users]

    orders, errors = race(
        [
            place(user, page, session, idempotency_key=key)
            for user, key in zip(users, keys, strict=True)
            for _twice in range(2)
        ]
    )

    assert errors == [None] * THREADS
    assert failed_after_commit == []
    for first, again in zip(orders[::2], orders[1::2], strict=True):
        assert first.pk == again.pk
    assert Order.objects.filter(session=session).count() == len(users)
    assert seats_held(session) == (20, 20)
    assert (
        Order.objects.filter(session=session, state=OrderState.WAITLISTED).count()
        == len(users) - 20
    )


def closed_campaign(organizer, rankings):
    """A campaign offering all seats of the sessions ranked, closed after each
    (operator, sessions) of ``rankings`` ranked those sessions, best first."""
    sessions = {
        session.pk: session for _operator, ranked in rankings for session in ranked
    }
    today = timezone.localdate()
    campaign = campaign_create(
        user=organizer,
        settings=CampaignSettings(
            name="并发点单季",
            description="",
            opens_on=today,
            closes_on=today,
            quota=1,
            max_choices=max(len(ranked) for _operator, ranked in rankings),
            priority_rule=CampaignPriority.NONE,
            mechanism=CampaignMechanism.WELFARE,
            seats={pk: session.seats for pk, session in sessions.items()},
        ),
    )
    campaign_open(user=organizer, campaign_id=campaign.pk)
    rows = dict(campaign.sessions.values_list("session_id", "pk"))
    for operator, ranked in rankings:
        campaign_choices_set(
            user=operator,
            campaign_id=campaign.pk,
            session_ids=[rows[session.pk] for session in ranked],
        )
    return campaign_close(user=organizer, campaign_id=campaign.pk)


def test_publishing_racing_ordinary_orders_never_overbooks(
    street, department, organization_officer, failed_after_commit
):
    page, session = scheduled_offering(department, seats=8)
    campaign = closed_campaign(
        organization_officer, [(operator_of(street), [session]) for _ in range(8)]
    )
    racers = [operator_of(street) for _ in range(8)]

    _results, errors = race(
        [
            lambda: campaign_publish(
                user=organization_officer, campaign_id=campaign.pk
            ),
            *(place(user, page, session) for user in racers),
        ]
    )

    assert errors == [None] * 9
    assert failed_after_commit == []
    assert seats_held(session) == (8, 8)


def test_two_publishes_at_once_make_one_set_of_orders(
    street, department, organization_officer, failed_after_commit
):
    _page, session = scheduled_offering(department, seats=4)
    campaign = closed_campaign(
        organization_officer, [(operator_of(street), [session]) for _ in range(4)]
    )

    def publish():
        return campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    results, errors = race([publish, publish])

    assert errors == [None, None]
    assert sorted(len(result.orders) for result in results) == [0, 4]
    assert seats_held(session) == (4, 4)


def test_publishing_many_sessions_of_one_offering_racing_their_orders(
    street, department, organization_officer, failed_after_commit
):
    # Publishing takes the seats of every session and counts the offering's
    # demand; each ordinary order takes one session's seats and then counts
    # the same demand. Taken in different orders, the two deadlock.
    page, first = scheduled_offering(department, seats=3)
    sessions = [first] + [
        OfferingSession.objects.create(
            offering=page,
            starts_at=first.starts_at + timedelta(days=day),
            ends_at=first.ends_at + timedelta(days=day),
            seats=3,
        )
        for day in range(1, 8)
    ]
    # Five communities put each even session first, one each odd session,
    # and all the next session second: the two left over at each even session
    # get their second choice, so an odd session's seats are of ranks 1, 2, 2.
    rankings = [
        (operator_of(street), [session, sessions[(i + 1) % len(sessions)]])
        for i, session in enumerate(sessions)
        for _ in range(5 if i % 2 == 0 else 1)
    ]
    campaign = closed_campaign(organization_officer, rankings)
    seats = list(
        CampaignAssignment.objects.filter(
            campaign=campaign, mechanism=campaign.mechanism
        )
    )
    assert len(seats) == sum(session.seats for session in sessions)
    racers = [(operator_of(street), session) for session in sessions for _ in (1, 2)]
    # And a community with a campaign seat orders the same session itself.
    twice, _ranked = next(r for r in rankings if r[1][0] == sessions[1])
    started = timezone.now()

    results, errors = race(
        [
            lambda: campaign_publish(
                user=organization_officer, campaign_id=campaign.pk
            ),
            *(place(user, page, session) for user, session in racers),
            place(twice, page, sessions[1]),
        ]
    )

    # The community ordering twice was refused if publishing came first, or
    # kept its ordinary order and publishing left its campaign seat.
    *errors, refused = errors
    assert refused is None or isinstance(refused, OrderError)
    assert (
        Order.objects.filter(
            community=twice.region, session=sessions[1], state__in=ACTIVE_STATES
        ).count()
        == 1
    )
    assert errors == [None] * (1 + len(racers))
    assert failed_after_commit == []
    published, *ordinary, _twice = results
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.PUBLISHED
    assert campaign.events.filter(action="publish").count() == 1
    # Every seat is held by an order, and no session holds more than it has.
    for session in sessions:
        taken, held = seats_held(session)
        assert taken == held <= session.seats
    # An ordinary order got a seat or waits for one, nothing in between.
    for order in ordinary:
        order.refresh_from_db()
        assert (order.state, order.holds_seats) in {
            (OrderState.SUBMITTED, True),
            (OrderState.WAITLISTED, False),
        }
    # Each seat of the allocation became an order or is counted as lost.
    made = {seat.pk: seat.order_id for seat in campaign.assignments.all()}
    assert len(published.orders) == sum(1 for seat in seats if made[seat.pk])
    assert published.not_seated == len(seats) - len(published.orders)
    assert Order.objects.filter(campaign_assignment__campaign=campaign).count() == (
        len(published.orders)
    )
    # Where a session lost seats to ordinary orders, the best-ranked were kept
    # (the seat left to the community's own order is not one of those).
    for row in campaign.sessions.all():
        ranks = [
            seat
            for seat in seats
            if seat.session_id == row.pk
            and not (refused is None and seat.community_id == twice.region_id)
        ]
        kept = [seat.rank for seat in ranks if made[seat.pk]]
        lost = [seat.rank for seat in ranks if not made[seat.pk]]
        if kept and lost:
            assert max(kept) <= min(lost)
    # The demand counter counts every order once.
    demand = OfferingDemand.objects.get(offering=page).orders_placed
    assert demand == len(published.orders) + len(ordinary) + (refused is None)
    # Told after the commit, once: every community that ranked.
    told = Notification.objects.filter(
        url=reverse("campaign_detail", args=[campaign.pk]), created_at__gte=started
    )
    assert told.count() == told.values("recipient__region").distinct().count()
    assert told.count() == len(rankings)


class _Deadlock(Exception):
    """What psycopg raises when PostgreSQL breaks a transaction off."""

    sqlstate = "40P01"


def deadlocking(times, monkeypatch):
    """Make publishing's first ``times`` transactions break off as a deadlock
    does, when they lock the sessions; returns a list, one item per try."""
    tried = []
    lock = campaign_services.sessions_lock

    def sessions_lock(**kwargs):
        tried.append(1)
        if len(tried) <= times:
            raise OperationalError("deadlock detected") from _Deadlock()
        return lock(**kwargs)

    monkeypatch.setattr(campaign_services, "sessions_lock", sessions_lock)
    return tried


def test_publishing_broken_off_by_a_deadlock_is_tried_again(
    street, department, organization_officer, monkeypatch, failed_after_commit
):
    _page, session = scheduled_offering(department, seats=2)
    campaign = closed_campaign(organization_officer, [(operator_of(street), [session])])
    tried = deadlocking(PUBLISH_ATTEMPTS - 1, monkeypatch)

    result = campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    assert len(tried) == PUBLISH_ATTEMPTS
    assert len(result.orders) == Order.objects.count() == 1
    assert campaign.events.filter(action="publish").count() == 1
    assert seats_held(session) == (1, 1)
    assert failed_after_commit == []


def test_publishing_broken_off_every_time_says_so_and_stays_closed(
    client, street, department, organization_officer, monkeypatch
):
    _page, session = scheduled_offering(department, seats=2)
    campaign = closed_campaign(organization_officer, [(operator_of(street), [session])])
    tried = deadlocking(PUBLISH_ATTEMPTS, monkeypatch)
    client.force_login(organization_officer)

    response = client.post(
        reverse("campaign_act", args=[campaign.pk, "publish"]), follow=True
    )

    assert len(tried) == PUBLISH_ATTEMPTS
    assert [str(m) for m in response.context["messages"]] == [
        "此刻有许多人同时在预订这些名额：请稍后再发布一次。"
    ]
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CLOSED
    assert not Order.objects.exists()
    assert seats_held(session) == (0, 0)


def test_a_seat_taken_while_publishing_waits_is_lost_by_the_worst_ranked(
    street, department, organization_officer, failed_after_commit
):
    page, wanted = scheduled_offering(department, seats=3)
    _page, scarce = scheduled_offering(department, seats=1)
    first = operator_of(street)
    others = [operator_of(street) for _ in range(3)]
    # ``wanted`` gets one first choice and two second choices.
    campaign = closed_campaign(
        organization_officer,
        [(first, [wanted]), *((operator, [scarce, wanted]) for operator in others)],
    )
    held, release = threading.Event(), threading.Event()

    def hold():
        # An ordinary order that has taken its seat and not yet committed.
        with transaction.atomic():
            order = place(operator_of(street), page, wanted)()
            held.set()
            release.wait(timeout=30)
        return order

    def publish():
        held.wait(timeout=30)
        threading.Timer(0.5, release.set).start()
        return campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    (order, published), errors = race([hold, publish])

    assert errors == [None, None]
    assert failed_after_commit == []
    assert (order.state, order.holds_seats) == (OrderState.SUBMITTED, True)
    assert seats_held(wanted) == (3, 3)
    assert (len(published.orders), published.not_seated) == (3, 1)
    lost = campaign.assignments.get(mechanism=campaign.mechanism, order=None)
    assert (lost.session.session_id, lost.rank) == (wanted.pk, 2)
    kept = campaign.assignments.get(
        mechanism=campaign.mechanism, community=first.region
    )
    assert kept.order is not None
