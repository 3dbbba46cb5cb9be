"""seed_orders_demo: a few hundred demo orders of the demo district in every
state, lived through the ordering services by accounts of the right units,
consistent in time and in seats, and a no-op when run again. Then
seed_campaign_demo on top of them, as `make demo` runs it: one published and
one open campaign, lived through the campaign services, whose pages show real
content, and a no-op when run again.

Seeding the whole demo as `make run` does (district, catalog, needs, orders)
takes a while, so it happens once for the module, in a transaction rolled back
at its end; each test rolls back to it in turn. The campaigns are seeded once
too, in a savepoint, for the tests at the end of the module, which pytest runs
after the orders' (in file order). As everywhere in the suite nothing commits,
so no inbox notification is written."""

import re
import statistics
from collections import defaultdict
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from wagtail.models import Revision

from catalog.models import OfferingSession
from matching.calendar import working_days_between
from matching.lifecycle import TRANSITIONS, Actor
from matching.models import (
    Campaign,
    CampaignState,
    Message,
    Order,
    OrderEvent,
    OrderState,
)
from matching.selectors import (
    order_state_counts,
    orders_answer_clock,
    orders_visible_to,
)
from portal.models import ImportRun, User

# The demo is the SQLite district of `make run`; seeding it does the same
# work on PostgreSQL, whose services the rest of the suite exercises.
pytestmark = [pytest.mark.django_db, pytest.mark.database_independent]

S = OrderState


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        for command in ("seed_demo", "seed_catalog_demo", "seed_matching_demo"):
            call_command(command, stdout=StringIO())
        out, err = StringIO(), StringIO()
        call_command("seed_orders_demo", stdout=out, stderr=err)
        yield out.getvalue(), err.getvalue()
        transaction.set_rollback(True)


def user(username: str) -> User:
    return User.objects.get(username=username)


def test_a_few_hundred_orders_are_placed_without_a_refused_step(seeded):
    out, err = seeded
    assert err == ""
    loaded = int(re.search(r"\d+", out).group())
    assert 300 <= loaded <= 400
    assert Order.objects.count() - loaded < 20  # the needs' orders
    assert Order.objects.values("community").distinct().count() >= 60
    assert Order.objects.values("department").distinct().count() >= 25


def test_every_state_has_orders(seeded):
    counts = dict(Order.objects.order_by().values_list("state").annotate(n=Count("pk")))
    assert set(counts) == set(S.values)
    assert all(count >= 8 for count in counts.values()), counts
    submitted = Order.objects.filter(state=S.SUBMITTED)
    # Some still within the deadline, some past it and escalated.
    assert submitted.filter(escalated_at__isnull=True).count() >= 5
    assert submitted.filter(escalated_at__isnull=False).count() >= 5
    # Cancelled by the department with a reason, and withdrawn by communities.
    cancels = OrderEvent.objects.filter(action="cancel")
    assert cancels.count() >= 3
    assert not cancels.filter(note="").exists()
    assert OrderEvent.objects.filter(action="withdraw").count() >= 5
    assert not Order.objects.filter(state=S.REJECTED, reason="").exists()
    assert not Order.objects.filter(
        state__in=(S.DELIVERED, S.CONFIRMED), attendance__isnull=True
    ).exists()
    assert Message.objects.filter(order__isnull=False).count() >= 30


def test_the_waiting_lists_are_real(seeded):
    waiting = Order.objects.filter(state=S.WAITLISTED).select_related("session")
    assert waiting.count() >= 4
    for order in waiting:
        first_in_line = (
            Order.objects.filter(session=order.session, state=S.WAITLISTED)
            .order_by("placed_at", "pk")
            .first()
        )
        assert first_in_line.participants > order.session.seats_left
    assert OrderEvent.objects.filter(action="promote").exists()


def test_the_demo_accounts_units_have_orders_in_every_state(seeded):
    community = order_state_counts(user=user("shequ"))
    assert set(community) == set(S.values), community
    for username in ("bumen", "fuzeren"):
        department = order_state_counts(user=user(username))
        assert set(department) == set(S.values), department
    overdue = orders_visible_to(user("bumen")).filter(
        state=S.SUBMITTED, escalated_at__isnull=False
    )
    assert overdue.exists()
    street = orders_visible_to(user("jiedao"))
    assert street.values("community").distinct().count() >= 15
    assert sum(order_state_counts(user=user("jiedao")).values()) >= 60
    assert orders_visible_to(user("zuzhibu")).count() == Order.objects.count()


def test_seats_taken_are_those_of_the_orders_holding_them(seeded):
    held = dict(
        Order.objects.filter(holds_seats=True)
        .order_by()
        .values_list("session")
        .annotate(seats=Sum("participants"))
    )
    for session in OfferingSession.objects.all():
        assert session.seats_taken == held.get(session.pk, 0), session


def test_past_sessions_took_place_and_coming_ones_not_yet(seeded):
    now = timezone.now()
    past = OfferingSession.objects.filter(ends_at__lt=now, orders__isnull=False)
    assert past.distinct().count() >= 20
    for session in past.distinct():
        states = set(session.orders.values_list("state", flat=True))
        assert states & {S.DELIVERED, S.CONFIRMED}, session
        assert states <= {S.DELIVERED, S.CONFIRMED, S.REJECTED, S.CANCELLED}
    assert not Order.objects.filter(
        session__starts_at__gt=now, state__in=(S.DELIVERED, S.CONFIRMED)
    ).exists()
    scheduled = Order.objects.filter(session__isnull=False, scheduled_at__isnull=False)
    for order in scheduled.select_related("session"):
        assert order.scheduled_at == order.session.starts_at


def test_histories_are_in_order_and_in_the_past(seeded):
    now = timezone.now()
    events = defaultdict(list)
    # In the order they were written: each later one happened later.
    for event in OrderEvent.objects.order_by("pk"):
        events[event.order_id].append(event)
    for order in Order.objects.all():
        history = events[order.pk]
        moments = [event.at for event in history]
        assert moments == sorted(moments), order
        assert history[0].action == "place"
        assert history[0].at == order.placed_at
        assert order.changed_at == moments[-1] <= now
        answers = [e.at for e in history if e.action in ("accept", "reject", "cancel")]
        assert order.answered_at == (answers[0] if answers else None)
        if order.escalated_at:
            assert order.placed_at < order.escalated_at <= now
    for message in Message.objects.filter(order__isnull=False).select_related("order"):
        assert message.order.placed_at < message.created_at <= now


def test_escalated_orders_are_those_left_unanswered_too_long(seeded):
    now = timezone.now()
    days = settings.ORDER_ANSWER_WORKING_DAYS
    for order in orders_answer_clock(Order.objects.filter(state=S.SUBMITTED)):
        waited = working_days_between(
            timezone.localtime(order.answer_clock_from), timezone.localtime(now)
        )
        # On the day an order falls due, whether it is escalated yet depends
        # on the hour.
        if waited > days:
            assert order.escalated_at is not None, order
        if waited < days:
            assert order.escalated_at is None, order


def test_each_step_is_taken_by_someone_of_the_right_unit(seeded):
    for event in OrderEvent.objects.select_related("order", "actor"):
        if event.actor is None:
            assert event.action in ("waitlist", "promote")
        elif event.action == "place" or TRANSITIONS[event.action].actor == (
            Actor.COMMUNITY
        ):
            assert event.actor.region_id == event.order.community_id
        else:
            assert event.actor.department_id == event.order.department_id


def test_departments_answer_at_different_speeds(seeded):
    hours = defaultdict(list)
    answered = orders_answer_clock(Order.objects.filter(answered_at__isnull=False))
    for order in answered:
        waited = order.answered_at - order.answer_clock_from
        hours[order.department_id].append(waited.total_seconds() / 3600)
    medians = [statistics.median(h) for h in hours.values() if len(h) >= 5]
    assert len(medians) >= 10
    assert min(medians) < 8
    assert max(medians) > 48


def test_a_second_run_writes_nothing(seeded):
    def counts():
        return (
            Order.objects.count(),
            OrderEvent.objects.count(),
            Message.objects.count(),
            OfferingSession.objects.count(),
            User.objects.count(),
            Revision.objects.count(),
            ImportRun.objects.count(),
            Order.objects.aggregate(Max("changed_at")),
        )

    before = counts()
    out = StringIO()
    call_command("seed_orders_demo", stdout=out, stderr=StringIO())
    assert gettext("The demo orders are already loaded.") in out.getvalue()
    assert counts() == before


# Campaigns (seed_campaign_demo), on top of the orders ------------------------


@pytest.fixture(scope="module")
def campaigns(seeded, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("seed_campaign_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_one_published_and_one_open_campaign_ranked_by_many_communities(campaigns):
    published = Campaign.objects.get(state=CampaignState.PUBLISHED)
    current = Campaign.objects.get(state=CampaignState.OPEN)
    assert current.choices.values("community_id").distinct().count() >= 50
    orders = Order.objects.filter(campaign_assignment__campaign=published)
    assert (
        orders.count()
        == published.assignments.filter(
            mechanism=published.mechanism, order__isnull=False
        ).count()
    )
    assert orders.count() >= 10
    # Some communities got nothing: the seats were scarce.
    assert published.statistics[published.mechanism]["with_nothing"] > 0
    # The published campaign's history is dated as it happened, before today.
    assert published.published_at.date() < current.opens_on


def test_the_demo_accounts_see_campaign_orders_on_both_sides(campaigns):
    published = Campaign.objects.get(state=CampaignState.PUBLISHED)
    bumen = User.objects.get(username="bumen")
    shequ = User.objects.get(username="shequ")
    orders = Order.objects.filter(campaign_assignment__campaign=published)
    assert orders.filter(department_id=bumen.department_id).exists()
    assert published.choices.filter(community_id=shequ.region_id).exists()


def test_a_second_campaign_run_writes_nothing(campaigns):
    before = (Campaign.objects.count(), Order.objects.count())
    call_command("seed_campaign_demo", stdout=StringIO())
    assert (Campaign.objects.count(), Order.objects.count()) == before


def test_the_demo_pages_show_the_campaigns(campaigns, client):
    published = Campaign.objects.get(state=CampaignState.PUBLISHED)
    current = Campaign.objects.get(state=CampaignState.OPEN)
    client.force_login(User.objects.get(username="zuzhibu"))
    preview = client.get(reverse("campaign_preview", args=[published.pk]))
    assert preview.status_code == 200
    assert len(preview.context["preview"].communities) >= 20
    client.force_login(User.objects.get(username="shequ"))
    page = client.get(reverse("campaign_detail", args=[current.pk]))
    assert page.status_code == 200
    assert page.context["form"] is not None
