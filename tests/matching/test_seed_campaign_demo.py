"""seed_campaign_demo: one published and one open demo campaign of the demo
district, lived through the campaign services, whose pages show real content,
and a no-op when run again.

The whole demo is seeded once for the module, in a transaction rolled back
at its end (as in test_seed_orders_demo)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from matching.models import Campaign, CampaignState, Order
from portal.models import User

# The demo is the SQLite district of `make run`; seeding it does the same
# work on PostgreSQL, whose services the rest of the suite exercises.
pytestmark = [pytest.mark.django_db, pytest.mark.database_independent]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        for command in (
            "seed_demo",
            "seed_catalog_demo",
            "seed_matching_demo",
            "seed_orders_demo",
        ):
            call_command(command, stdout=StringIO())
        out = StringIO()
        call_command("seed_campaign_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_one_published_and_one_open_campaign_ranked_by_many_communities(seeded):
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


def test_the_demo_accounts_see_campaign_orders_on_both_sides(seeded):
    published = Campaign.objects.get(state=CampaignState.PUBLISHED)
    bumen = User.objects.get(username="bumen")
    shequ = User.objects.get(username="shequ")
    orders = Order.objects.filter(campaign_assignment__campaign=published)
    assert orders.filter(department_id=bumen.department_id).exists()
    assert published.choices.filter(community_id=shequ.region_id).exists()


def test_a_second_run_writes_nothing(seeded):
    before = (Campaign.objects.count(), Order.objects.count())
    call_command("seed_campaign_demo", stdout=StringIO())
    assert (Campaign.objects.count(), Order.objects.count()) == before


def test_the_demo_pages_show_the_campaigns(seeded, client):
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
