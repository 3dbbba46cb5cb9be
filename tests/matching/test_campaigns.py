"""Ordering campaigns (点单季) end to end: drafting, opening, ranking, closing
with both allocations, the preview, publishing into orders that take seats
without overbooking, who may do what, and the whole flow through the pages."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from catalog.models import OfferingSession
from matching.campaign_services import (
    CampaignError,
    CampaignSettings,
    campaign_choices_set,
    campaign_close,
    campaign_create,
    campaign_mechanism_set,
    campaign_open,
    campaign_publish,
    campaigns_close_due,
)
from matching.models import (
    Campaign,
    CampaignMechanism,
    CampaignPriority,
    CampaignState,
    Need,
    Order,
    OrderState,
)
from matching.services import order_place
from matching.statistics import order_statistics
from portal.models import Notification, Role
from tests.catalog.helpers import corner, offering
from tests.factories import (
    DistrictFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)
from tests.matching.helpers import exported, operator_of, scheduled_offering

pytestmark = pytest.mark.django_db


def settings_for(sessions, **fields) -> CampaignSettings:
    """A campaign open from today for a week; ``sessions``: {session: seats}."""
    today = timezone.localdate()
    values = {
        "name": "春季点单季",
        "description": "",
        "opens_on": today,
        "closes_on": today + timedelta(days=7),
        "quota": 1,
        "max_choices": 3,
        "priority_rule": CampaignPriority.NONE,
        "mechanism": CampaignMechanism.WELFARE,
        "seats": {session.pk: seats for session, seats in sessions.items()},
    }
    values.update(fields)
    return CampaignSettings(**values)


def open_campaign(organizer, sessions, **fields) -> Campaign:
    campaign = campaign_create(
        user=organizer, settings=settings_for(sessions, **fields)
    )
    return campaign_open(user=organizer, campaign_id=campaign.pk)


def rank(operator, campaign, *sessions):
    """``operator``'s community ranks the campaign's rows of ``sessions``."""
    rows = dict(campaign.sessions.values_list("session_id", "pk"))
    return campaign_choices_set(
        user=operator,
        campaign_id=campaign.pk,
        session_ids=[rows[session.pk] for session in sessions],
    )


def got(campaign, operator, mechanism=None) -> list[int]:
    """The catalog sessions the community got under ``mechanism``."""
    return list(
        campaign.assignments.filter(
            mechanism=mechanism or campaign.mechanism,
            community_id=operator.region_id,
        )
        .order_by("rank")
        .values_list("session__session_id", flat=True)
    )


def closed_campaign(organizer, street, session, *, seats, rankers=1) -> Campaign:
    """A campaign offering ``seats`` of ``session``, ranked by ``rankers`` new
    communities of ``street``, and closed."""
    campaign = open_campaign(organizer, {session: seats})
    for _ in range(rankers):
        rank(operator_of(street), campaign, session)
    return campaign_close(user=organizer, campaign_id=campaign.pk)


def ordered_meanwhile(street, page, session, participants=1):
    """An ordinary order of a new community of ``street``."""
    return order_place(
        user=operator_of(street),
        offering=page,
        session=session,
        participants=participants,
        contact_name="王丽",
        contact_phone="13800000001",
    )


@pytest.fixture
def sessions(department):
    """Two sessions 30 days ahead: a popular one with a place, one without."""
    _page, popular = scheduled_offering(department, seats=10, days=30)
    OfferingSession.objects.filter(pk=popular.pk).update(place="区社区学院")
    popular.refresh_from_db()
    _page, other = scheduled_offering(department, seats=10, days=31)
    return popular, other


# Services ----------------------------------------------------------------------


def test_closing_allocates_with_both_mechanisms_and_stores_their_figures(
    organization_officer, street, sessions
):
    popular, other = sessions
    campaign = open_campaign(organization_officer, {popular: 1, other: 1})
    first, second, third = (operator_of(street) for _ in range(3))
    rank(first, campaign, popular, other)
    rank(second, campaign, popular, other)
    rank(third, campaign, popular)

    campaign = campaign_close(user=organization_officer, campaign_id=campaign.pk)

    assert campaign.state == CampaignState.CLOSED
    for mechanism in CampaignMechanism.values:
        figures = campaign.statistics[mechanism]
        assert figures["communities"] == 3
        assert figures["assigned"] == 2
        assert figures["with_nothing"] == 1
        assert sum(figures["by_street"].values()) == 2
        assert campaign.assignments.filter(mechanism=mechanism).count() == 2
    # Nothing is an order before publishing.
    assert not Order.objects.exists()


def test_a_community_gets_at_most_its_quota(organization_officer, street, sessions):
    popular, other = sessions
    campaign = open_campaign(organization_officer, {popular: 5, other: 5}, quota=1)
    operator = operator_of(street)
    rank(operator, campaign, popular, other)
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    assert got(campaign, operator) == [popular.pk]


def test_a_community_ranks_at_most_k_sessions_each_once(
    organization_officer, street, department, sessions
):
    popular, other = sessions
    _page, third = scheduled_offering(department, seats=5, days=32)
    campaign = open_campaign(
        organization_officer, {popular: 1, other: 1, third: 1}, max_choices=2
    )
    operator = operator_of(street)
    with pytest.raises(CampaignError):
        rank(operator, campaign, popular, other, third)
    with pytest.raises(CampaignError):
        rank(operator, campaign, popular, popular)
    rank(operator, campaign, other, popular)
    # Changing the ranking replaces it.
    rank(operator, campaign, popular)
    assert list(campaign.choices.values_list("session__session_id", "rank")) == [
        (popular.pk, 1)
    ]


def test_who_ranked_first_plays_no_part(organization_officer, street, sessions):
    """The same rankings made in opposite orders, with the same lottery, give
    the one seat to the same community."""
    popular, _other = sessions
    early, late = operator_of(street), operator_of(street)
    winners = []
    for order in ((early, late), (late, early)):
        campaign = open_campaign(organization_officer, {popular: 1})
        Campaign.objects.filter(pk=campaign.pk).update(seed=7)
        for operator in order:
            rank(operator, campaign, popular)
        campaign_close(user=organization_officer, campaign_id=campaign.pk)
        winners.append(
            [op.username for op in (early, late) if got(campaign, op)],
        )
    assert winners[0] == winners[1]
    assert len(winners[0]) == 1


def test_priority_to_those_that_received_least_before(
    organization_officer, street, department, sessions
):
    popular, other = sessions
    served, unserved = operator_of(street), operator_of(street)
    earlier = open_campaign(organization_officer, {other: 1})
    rank(served, earlier, other)
    campaign_close(user=organization_officer, campaign_id=earlier.pk)
    campaign_publish(user=organization_officer, campaign_id=earlier.pk)

    for seed in range(5):
        campaign = open_campaign(
            organization_officer,
            {popular: 1},
            priority_rule=CampaignPriority.LEAST_RECEIVED,
        )
        Campaign.objects.filter(pk=campaign.pk).update(seed=seed)
        rank(served, campaign, popular)
        rank(unserved, campaign, popular)
        campaign_close(user=organization_officer, campaign_id=campaign.pk)
        for mechanism in CampaignMechanism.values:
            assert got(campaign, unserved, mechanism) == [popular.pk]


def test_priority_to_those_with_open_needs_in_the_sessions_categories(
    organization_officer, street, sessions
):
    popular, _other = sessions
    needy, other_community = operator_of(street), operator_of(street)
    Need.objects.create(
        community_id=needy.region_id,
        posted_by=needy,
        title="消防培训",
        description="需要消防培训",
        category_id=popular.offering.category_id,
    )
    for seed in range(5):
        campaign = open_campaign(
            organization_officer,
            {popular: 1},
            priority_rule=CampaignPriority.OPEN_NEEDS,
        )
        Campaign.objects.filter(pk=campaign.pk).update(seed=seed)
        rank(other_community, campaign, popular)
        rank(needy, campaign, popular)
        campaign_close(user=organization_officer, campaign_id=campaign.pk)
        assert got(campaign, needy) == [popular.pk]


def test_only_sessions_serving_the_whole_area_can_be_offered(
    organization_officer, street, department
):
    page = offering(corner(department), streets=[street], sessions=[(30, 10, 0)])
    with pytest.raises(CampaignError):
        campaign_create(
            user=organization_officer, settings=settings_for({page.sessions.get(): 1})
        )


def test_a_session_starting_before_the_close_is_refused_at_its_local_time(
    organization_officer, department
):
    _page, session = scheduled_offering(department, title="人民调解员培训", days=3)
    # 06:00 UTC is 14:00 in Shanghai, the time the organizer's list shows.
    starts = timezone.localtime(session.starts_at).replace(hour=14, minute=0)
    OfferingSession.objects.filter(pk=session.pk).update(
        starts_at=starts, ends_at=starts + timedelta(hours=2)
    )
    session.refresh_from_db()
    with translation.override("zh-hans"), pytest.raises(CampaignError) as refused:
        campaign_create(user=organization_officer, settings=settings_for({session: 1}))
    local = f"{starts:%Y-%m-%d} 14:00"
    assert str(refused.value) == f"“人民调解员培训 · {local}”在点单季截止前就开始了。"


def test_publishing_creates_orders_takes_seats_and_tells_everyone(
    organization_officer,
    street,
    publisher,
    sessions,
    django_capture_on_commit_callbacks,
):
    popular, other = sessions
    campaign = open_campaign(organization_officer, {popular: 2, other: 2}, quota=2)
    lucky, empty_handed = operator_of(street), operator_of(street)
    rank(lucky, campaign, popular, other)
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    # A community of the area that did not rank hears nothing of the result.
    with django_capture_on_commit_callbacks(execute=True):
        result = campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    orders = {order.session_id: order for order in Order.objects.all()}
    assert len(result.orders) == 2
    # The session with a place is scheduled there; the other accepted.
    assert orders[popular.pk].state == OrderState.SCHEDULED
    assert orders[popular.pk].scheduled_place == "区社区学院"
    assert orders[other.pk].state == OrderState.ACCEPTED
    for order in orders.values():
        assert order.community_id == lucky.region_id
        assert order.holds_seats
        event = order.events.get()
        assert (event.action, event.actor) == ("allocate", organization_officer)
    popular.refresh_from_db()
    assert popular.seats_taken == 1
    assert Notification.objects.filter(recipient=lucky).count() == 1
    assert Notification.objects.filter(recipient=publisher).count() == 1
    assert not Notification.objects.filter(recipient=empty_handed).exists()
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.PUBLISHED


def test_campaign_orders_leave_the_departments_answer_figures_alone(
    organization_officer, street, publisher, sessions
):
    popular, _other = sessions
    campaign = open_campaign(organization_officer, {popular: 1})
    rank(operator_of(street), campaign, popular)
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    totals = order_statistics(user=publisher, params={}).totals

    assert (totals.orders, totals.answered, totals.acceptance_rate) == (1, 0, None)


def test_seats_booked_since_the_close_are_never_overbooked(
    organization_officer, street, department
):
    page, session = scheduled_offering(department, seats=3, days=30)
    campaign = closed_campaign(
        organization_officer, street, session, seats=3, rankers=3
    )
    # An ordinary order takes two of the three seats before publishing.
    ordered_meanwhile(street, page, session, participants=2)

    result = campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    session.refresh_from_db()
    assert session.seats_taken == session.seats == 3
    assert (len(result.orders), result.not_seated) == (1, 2)


def test_a_second_publish_does_nothing(organization_officer, street, sessions):
    popular, _other = sessions
    campaign = closed_campaign(organization_officer, street, popular, seats=2)
    campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    again = campaign_publish(user=organization_officer, campaign_id=campaign.pk)

    popular.refresh_from_db()
    assert again.orders == []
    assert Order.objects.count() == 1
    assert popular.seats_taken == 1


def test_publishing_through_the_page_says_what_came_of_it(
    client, organization_officer, street, department
):
    page, session = scheduled_offering(department, seats=2, days=30)
    campaign = closed_campaign(
        organization_officer, street, session, seats=2, rankers=2
    )
    # An ordinary order takes one of the two seats before publishing.
    ordered_meanwhile(street, page, session)
    client.force_login(organization_officer)
    publish = reverse("campaign_act", args=[campaign.pk, "publish"])

    first = client.post(publish, follow=True)
    again = client.post(publish, follow=True)

    assert [str(m) for m in first.context["messages"]] == [
        "已发布：生成了 1 个点单。",
        "有 1 个名额未能生成点单：截止后已被预订，或该社区已点过该场次。",
    ]
    assert [str(m) for m in again.context["messages"]] == ["本点单季此前已经发布。"]


def test_publishing_a_campaign_nobody_ranked_says_no_order_was_made(
    client, organization_officer, sessions
):
    popular, _other = sessions
    campaign = open_campaign(organization_officer, {popular: 2})
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    client.force_login(organization_officer)

    response = client.post(
        reverse("campaign_act", args=[campaign.pk, "publish"]), follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "已发布：生成了 0 个点单。"
    ]
    assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.PUBLISHED


def test_the_mechanism_switched_before_publishing_is_the_one_published(
    organization_officer, street, sessions
):
    popular, other = sessions
    campaign = open_campaign(organization_officer, {popular: 1, other: 1})
    rank(operator_of(street), campaign, popular, other)
    with pytest.raises(CampaignError):
        campaign_mechanism_set(
            user=organization_officer,
            campaign_id=campaign.pk,
            mechanism=CampaignMechanism.DEFERRED_ACCEPTANCE,
        )
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    campaign_mechanism_set(
        user=organization_officer,
        campaign_id=campaign.pk,
        mechanism=CampaignMechanism.DEFERRED_ACCEPTANCE,
    )
    campaign_publish(user=organization_officer, campaign_id=campaign.pk)
    published = campaign.assignments.filter(order__isnull=False).get()
    assert published.mechanism == CampaignMechanism.DEFERRED_ACCEPTANCE


def test_ranking_ends_at_close(organization_officer, street, sessions):
    popular, _other = sessions
    campaign = open_campaign(organization_officer, {popular: 1})
    operator = operator_of(street)
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    with pytest.raises(CampaignError):
        rank(operator, campaign, popular)


def test_the_daily_command_closes_campaigns_past_their_closing_day(
    organization_officer, street, sessions
):
    popular, _other = sessions
    due = open_campaign(organization_officer, {popular: 1})
    running = open_campaign(organization_officer, {popular: 1})
    rank(operator_of(street), due, popular)
    yesterday = timezone.localdate() - timedelta(days=1)
    Campaign.objects.filter(pk=due.pk).update(opens_on=yesterday, closes_on=yesterday)

    call_command("campaigns_close", verbosity=0)

    due.refresh_from_db()
    running.refresh_from_db()
    assert due.state == CampaignState.CLOSED
    assert due.events.last().actor is None
    assert running.state == CampaignState.OPEN
    assert campaigns_close_due() == []


# Who may do what -----------------------------------------------------------------


@pytest.fixture
def other_organizer(db):
    district = DistrictFactory()
    org = OrganizationDepartmentFactory(code="ORG-OTHER", region=district)
    return UserFactory(role=Role.ORGANIZATION_DEPARTMENT, region=None, department=org)


def test_only_the_campaigns_organizer_changes_it(
    organization_officer, other_organizer, publisher, operator, sessions
):
    popular, _other = sessions
    campaign = campaign_create(
        user=organization_officer, settings=settings_for({popular: 1})
    )
    for someone in (other_organizer, publisher, operator):
        with pytest.raises(PermissionDenied):
            campaign_open(user=someone, campaign_id=campaign.pk)
    with pytest.raises(PermissionDenied):
        campaign_create(user=publisher, settings=settings_for({popular: 1}))
    campaign_open(user=organization_officer, campaign_id=campaign.pk)
    with pytest.raises(PermissionDenied):
        campaign_close(user=other_organizer, campaign_id=campaign.pk)
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    with pytest.raises(PermissionDenied):
        campaign_publish(user=other_organizer, campaign_id=campaign.pk)


def test_only_communities_of_the_area_rank(organization_officer, sessions):
    popular, _other = sessions
    campaign = open_campaign(organization_officer, {popular: 1})
    outsider = operator_of(StreetFactory())
    with pytest.raises(PermissionDenied):
        rank(outsider, campaign, popular)


def test_foreign_campaigns_are_404(
    client, organization_officer, other_organizer, publisher, operator, sessions
):
    popular, _other = sessions
    draft = campaign_create(
        user=organization_officer, settings=settings_for({popular: 1})
    )
    outsider = operator_of(StreetFactory())
    for someone, url in (
        (other_organizer, reverse("campaign_detail", args=[draft.pk])),
        (other_organizer, reverse("campaign_edit", args=[draft.pk])),
        # A draft is the organizer's alone.
        (operator, reverse("campaign_detail", args=[draft.pk])),
        (publisher, reverse("campaign_list")),
    ):
        client.force_login(someone)
        assert client.get(url).status_code == 404
    client.force_login(other_organizer)
    response = client.post(reverse("campaign_act", args=[draft.pk, "open"]))
    assert response.status_code == 404
    campaign_open(user=organization_officer, campaign_id=draft.pk)
    client.force_login(outsider)
    assert client.get(reverse("campaign_detail", args=[draft.pk])).status_code == 404
    client.force_login(operator)
    preview = reverse("campaign_preview", args=[draft.pk])
    assert client.get(preview).status_code == 404


# The pages ---------------------------------------------------------------------


def test_a_campaign_runs_end_to_end_through_the_pages(
    client, organization_officer, street, publisher, sessions
):
    popular, other = sessions
    today = timezone.localdate()
    client.force_login(organization_officer)
    form = client.get(reverse("campaign_new"))
    assert form.status_code == 200
    response = client.post(
        reverse("campaign_new"),
        {
            "name": "冬季点单季",
            "description": "集中点单",
            "opens_on": today.isoformat(),
            "closes_on": (today + timedelta(days=5)).isoformat(),
            "quota": 1,
            "max_choices": 2,
            "priority_rule": CampaignPriority.NONE,
            "mechanism": CampaignMechanism.WELFARE,
            f"seats_{popular.pk}": 1,
            f"seats_{other.pk}": 1,
        },
    )
    campaign = Campaign.objects.get()
    assert response.url == reverse("campaign_detail", args=[campaign.pk])
    client.post(reverse("campaign_act", args=[campaign.pk, "open"]))
    assert Campaign.objects.get().state == CampaignState.OPEN

    rows = dict(campaign.sessions.values_list("session_id", "pk"))
    operators = [operator_of(street) for _ in range(3)]
    for operator in operators:
        client.force_login(operator)
        page = client.get(reverse("campaign_detail", args=[campaign.pk]))
        assert "choice_2" in page.context["form"].fields
        client.post(
            reverse("campaign_detail", args=[campaign.pk]),
            {"choice_1": rows[popular.pk], "choice_2": rows[other.pk]},
        )
    assert campaign.choices.count() == 6

    client.force_login(organization_officer)
    closed = client.post(reverse("campaign_act", args=[campaign.pk, "close"]))
    assert closed.url == reverse("campaign_preview", args=[campaign.pk])
    preview = client.get(closed.url)
    assert preview.status_code == 200
    assert [m.mechanism for m in preview.context["preview"].mechanisms] == [
        CampaignMechanism.WELFARE,
        CampaignMechanism.DEFERRED_ACCEPTANCE,
    ]
    assert len(preview.context["preview"].communities) == 3
    client.post(closed.url, {"mechanism": CampaignMechanism.DEFERRED_ACCEPTANCE})
    assert Campaign.objects.get().mechanism == CampaignMechanism.DEFERRED_ACCEPTANCE
    client.post(reverse("campaign_act", args=[campaign.pk, "publish"]))
    assert Campaign.objects.get().state == CampaignState.PUBLISHED

    orders = list(Order.objects.all())
    assert len(orders) == 2
    for order in orders:
        winner = next(op for op in operators if op.region_id == order.community_id)
        client.force_login(winner)
        result = client.get(reverse("campaign_detail", args=[campaign.pk]))
        assert [seat.order for seat in result.context["seats"]] == [order]
        # The orders are ordinary orders on both sides.
        listed = client.get(reverse("order_list"))
        assert listed.context["page_obj"].paginator.count == 1
    client.force_login(publisher)
    listed = client.get(reverse("order_list"))
    assert listed.context["page_obj"].paginator.count == 2
    detail = client.get(reverse("order_detail", args=[orders[0].pk]))
    assert "冬季点单季" in detail.content.decode()


def test_order_lists_tell_campaign_orders_from_ordinary_ones(
    client, organization_officer, street, publisher, street_officer, department
):
    page, session = scheduled_offering(department, seats=5, days=30)
    campaign = open_campaign(organization_officer, {session: 1})
    winner = operator_of(street)
    rank(winner, campaign, session)
    campaign_close(user=organization_officer, campaign_id=campaign.pk)
    (allocated,) = campaign_publish(
        user=organization_officer, campaign_id=campaign.pk
    ).orders
    ordinary = ordered_meanwhile(street, page, session)
    listed = {
        "": {allocated, ordinary},
        "campaign": {allocated},
        "ordinary": {ordinary},
    }

    for user in (publisher, organization_officer, street_officer):
        client.force_login(user)
        for source, orders in listed.items():
            response = client.get(reverse("order_list"), {"source": source})
            assert set(response.context["page_obj"]) == orders
        html = client.get(reverse("order_list")).content.decode()
        assert "来源" in html
        assert '<option value="campaign">点单季</option>' in html
        assert '<option value="ordinary">普通点单</option>' in html
        # The campaign order's row names its campaign; the ordinary one's none.
        assert html.count("点单季：春季点单季") == 1
        header, *rows = exported(client, "order_export", source="campaign")
        assert [(row[0], row[header.index("点单季")]) for row in rows] == [
            (allocated.pk, "春季点单季")
        ]
        header, *rows = exported(client, "order_export", source="ordinary")
        assert [(row[0], row[header.index("点单季")]) for row in rows] == [
            (ordinary.pk, None)
        ]
    client.force_login(winner)
    response = client.get(reverse("order_list"), {"source": "campaign"})
    assert set(response.context["page_obj"]) == {allocated}
    client.force_login(publisher)
    detail = client.get(reverse("order_detail", args=[allocated.pk])).content.decode()
    assert "春季点单季" in detail
    assert "第 1 志愿" in detail
    detail = client.get(reverse("order_detail", args=[ordinary.pk])).content.decode()
    assert "春季点单季" not in detail


def test_an_unknown_source_is_a_filter_error_not_a_list(client, publisher):
    client.force_login(publisher)

    response = client.get(reverse("order_list"), {"source": "lottery"})

    assert response.status_code == 200
    assert "source" in response.context["filterset"].form.errors


def test_opening_tells_the_communities_of_the_area(
    organization_officer, operator, sessions, django_capture_on_commit_callbacks
):
    popular, _other = sessions
    outsider = operator_of(StreetFactory())
    with django_capture_on_commit_callbacks(execute=True):
        campaign = open_campaign(organization_officer, {popular: 1})
    notification = Notification.objects.get(recipient=operator)
    assert notification.url == reverse("campaign_detail", args=[campaign.pk])
    assert not Notification.objects.filter(recipient=outsider).exists()


def test_workbench_and_navigation_lead_organizer_and_community_to_campaigns(
    client, organization_officer, operator, publisher, sessions
):
    popular, _other = sessions
    open_campaign(organization_officer, {popular: 1}, name="秋季点单季")
    for user in (organization_officer, operator):
        client.force_login(user)
        page = client.get(reverse("workbench")).content.decode()
        assert "秋季点单季" in page
        assert f'href="{reverse("campaign_list")}"' in page
    client.force_login(publisher)
    page = client.get(reverse("workbench")).content.decode()
    assert f'href="{reverse("campaign_list")}"' not in page


def test_a_campaign_page_marks_only_the_campaigns_item_of_the_navigation(
    client, operator
):
    client.force_login(operator)
    response = client.get(reverse("campaign_list"))
    current = [item["url"] for item in response.context["nav_items"] if item["current"]]
    # /orders/campaigns/ lies under /orders/ too; the longer address wins.
    assert current == [reverse("campaign_list")]
