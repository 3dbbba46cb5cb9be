"""The workbench (工作台) of each role, the order statistics of the
organization department and a session's roster, as their users see them:
what each shows, to whom, and that nobody sees another unit's orders."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from matching.models import Order, OrderState
from matching.services import order_place, order_transition
from portal.models import Role
from tests.factories import (
    DepartmentFactory,
    FamilyFactory,
    StreetFactory,
    UserFactory,
)
from tests.matching.helpers import operator_of, scheduled_offering

pytestmark = pytest.mark.django_db


def place(user, page, session=None, participants=2, **fields):
    return order_place(
        user=user,
        offering=page,
        session=session,
        participants=participants,
        contact_name="王丽",
        contact_phone="13800000001",
        **fields,
    )


def act(order, user, action, **fields):
    return order_transition(order_id=order.pk, user=user, action=action, **fields)


def answered_after(order, user, action, hours, **fields):
    """``action`` taken ``hours`` after the order was placed (the clock of the
    statistics), by moving the placement back."""
    order = act(order, user, action, **fields)
    Order.objects.filter(pk=order.pk).update(
        placed_at=order.answered_at - timedelta(hours=hours)
    )
    return order


def deliver(order, publisher, attendance):
    act(order, publisher, "accept")
    act(
        order,
        publisher,
        "schedule",
        scheduled_at=timezone.now() + timedelta(days=1),
        scheduled_place="社区活动室",
    )
    return act(order, publisher, "deliver", attendance=attendance)


def panel_titles(response) -> list[str]:
    return [str(panel.title) for panel, _body in response.context["panels"]]


def workbench(client, user):
    client.force_login(user)
    response = client.get(reverse("workbench"))
    assert response.status_code == 200
    return response


# The workbench of each role ---------------------------------------------------


def test_signing_in_leads_to_the_workbench_and_anonymous_visitors_to_sign_in(
    client, operator
):
    response = client.get(reverse("workbench"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "工作台" in workbench(client, operator).text


def test_a_community_sees_its_orders_by_state_and_what_to_confirm(
    client, operator, department, publisher
):
    page, session = scheduled_offering(department, title="防汛应急演练")
    other = operator_of(operator.region.parent)
    delivered = deliver(place(operator, page, session), publisher, attendance=18)
    place(other, page, session)  # another community's order: never shown

    response = workbench(client, operator)

    tiles = {
        tile.url.rsplit("=", 1)[-1]: tile.value
        for panel, _body in response.context["panels"]
        for tile in panel.context.get("tiles", [])
        if panel.template.endswith("tiles.html")
    }
    # Its own orders only: the one delivered.
    assert tiles == {"delivered": 1}
    text = response.text
    assert reverse("order_detail", args=[delivered.pk]) in text
    assert other.region.name not in text
    # The first next step is the confirmation, with a link to those orders.
    [steps] = [
        panel.context["steps"]
        for panel, _body in response.context["panels"]
        if "steps" in panel.context
    ]
    assert steps[0].url == f"{reverse('order_list')}?state=delivered"
    assert steps[-1].url == reverse("need_new")


def test_a_department_sees_its_orders_against_the_answer_deadline(
    client, department, publisher, street, settings
):
    settings.ORDER_ANSWER_WORKING_DAYS = 3
    page, session = scheduled_offering(department, title="反诈宣传进楼组")
    fresh = place(operator_of(street), page, session)
    late = place(operator_of(street), page, session)
    # Placed two weeks ago: well past three working days, whatever the holidays.
    Order.objects.filter(pk=late.pk).update(
        placed_at=timezone.now() - timedelta(days=14)
    )
    foreign_page, foreign_session = scheduled_offering(
        DepartmentFactory(region=street.district), title="别的部门的培训"
    )
    place(operator_of(street), foreign_page, foreign_session)

    response = workbench(client, publisher)

    [clock] = [
        panel.context
        for panel, _body in response.context["panels"]
        if panel.template.endswith("answer_clock.html")
    ]
    assert [row.order.pk for row in clock["rows"]] == [late.pk, fresh.pk]
    assert clock["rows"][0].left <= 0 and clock["rows"][1].left == 3
    assert (clock["total"], clock["late"]) == (2, 1)
    assert "已超时" in response.text or "Overdue" in response.text
    assert "别的部门的培训" not in response.text
    # The session of the coming weeks with its roster link.
    assert reverse("session_roster", args=[session.pk]) in response.text
    assert reverse("session_roster", args=[foreign_session.pk]) not in response.text


def test_a_street_office_sees_escalated_orders_and_communities_that_never_ordered(
    client, department, street, street_officer
):
    page, session = scheduled_offering(department)
    ordering = operator_of(street)
    quiet = operator_of(street)
    escalated = place(ordering, page, session)
    Order.objects.filter(pk=escalated.pk).update(escalated_at=timezone.now())
    elsewhere = operator_of(StreetFactory(parent=street.district))
    place(elsewhere, page, session)

    response = workbench(client, street_officer)

    panels = {
        panel.template.rsplit("/", 1)[-1]: panel.context
        for panel, _body in response.context["panels"]
    }
    assert [o.pk for o in panels["orders.html"]["orders"]] == [escalated.pk]
    communities = panels["communities.html"]["communities"]
    assert quiet.region in communities and ordering.region in communities
    # Those that never ordered come first: whom the street should call.
    assert communities.index(quiet.region) < communities.index(ordering.region)
    assert elsewhere.region not in communities
    assert elsewhere.region.name not in response.text


def test_the_organization_department_sees_figures_and_charts(
    client, organization_officer, department, publisher, street
):
    page, session = scheduled_offering(department, title="老年人防诈骗讲座")
    answered_after(place(operator_of(street), page, session), publisher, "accept", 4)

    response = workbench(client, organization_officer)

    titles = panel_titles(response)
    assert "Orders by month" in titles or "按月点单" in titles or len(titles) == 4
    text = response.text
    assert text.count('role="img"') >= 2  # the month and department charts
    assert department.name in text
    assert reverse("order_statistics") in text


def test_the_workbench_takes_a_bounded_number_of_queries(
    client, department, publisher, street, organization_officer
):
    page, session = scheduled_offering(department, seats=200)

    def count(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("workbench")).status_code == 200
        return len(queries)

    place(operator_of(street), page, session)
    before = {user: count(user) for user in (publisher, organization_officer)}
    for _ in range(8):
        order = place(operator_of(street), page, session)
        answered_after(order, publisher, "accept", 2)
    after = {user: count(user) for user in (publisher, organization_officer)}
    assert after == before


# Order statistics --------------------------------------------------------------


@pytest.fixture
def two_departments(department, publisher, street):
    """Department A: accepted in 2 h, rejected in 10 h, one left unanswered
    past the deadline, one delivered to 18 people. Department B: accepted in
    30 h."""
    page, session = scheduled_offering(department, seats=50, title="消防培训")
    answered_after(place(operator_of(street), page, session), publisher, "accept", 2)
    answered_after(
        place(operator_of(street), page, session),
        publisher,
        "reject",
        10,
        reason="本期已满",
    )
    late = place(operator_of(street), page, session)
    Order.objects.filter(pk=late.pk).update(escalated_at=timezone.now())
    deliver(place(operator_of(street), page, session), publisher, attendance=18)
    other = DepartmentFactory(
        region=street.district, name="区卫健委", family=FamilyFactory(name="卫生健康")
    )
    other_publisher = UserFactory(
        role=Role.DEPARTMENT_PUBLISHER, region=None, department=other
    )
    other_page, other_session = scheduled_offering(other, title="健康讲座")
    answered_after(
        place(operator_of(street), other_page, other_session),
        other_publisher,
        "accept",
        30,
    )
    return department, other


def test_statistics_count_answers_acceptance_and_deliveries_per_department(
    client, organization_officer, two_departments
):
    first, second = two_departments
    client.force_login(organization_officer)
    response = client.get(reverse("order_statistics"))
    assert response.status_code == 200
    figures = response.context["figures"]
    rows = {row.department: row for row in figures.departments}
    a, b = rows[first], rows[second]
    assert (a.orders, a.answered, a.accepted, a.overdue) == (4, 3, 2, 1)
    assert a.acceptance_rate == pytest.approx(66.7)
    assert a.deliveries == 1 and a.people_reached == 18
    assert (b.orders, b.accepted, b.median_answer_hours) == (1, 1, 30.0)
    totals = figures.totals
    assert (totals.orders, totals.answered, totals.accepted) == (5, 4, 3)
    assert totals.acceptance_rate == 75.0
    # The busiest department first.
    assert figures.departments[0].department == first
    assert "66.7%" in response.text and "30 小时" in response.text


def test_statistics_narrow_by_period_and_family_and_export_the_same_rows(
    client, organization_officer, two_departments
):
    first, _second = two_departments
    client.force_login(organization_officer)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    empty = client.get(reverse("order_statistics"), {"placed_from": tomorrow})
    assert empty.context["figures"].departments == []

    params = {"family": first.family_id}
    page = client.get(reverse("order_statistics"), params)
    assert [r.department for r in page.context["figures"].departments] == [first]

    export = client.get(reverse("order_statistics_export"), params)
    assert export.status_code == 200
    sheet = load_workbook(BytesIO(export.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == [first.name, "全部部门"]
    assert rows[1][2:5] == (4, 3, 2)


def test_statistics_are_for_those_overseeing_an_area(
    client, operator, publisher, street_officer
):
    for user in (operator, publisher, street_officer):
        client.force_login(user)
        assert client.get(reverse("order_statistics")).status_code == 403
        assert client.get(reverse("order_statistics_export")).status_code == 403


def test_statistics_count_only_the_orders_of_the_area(
    client, organization_officer, department, street
):
    page, session = scheduled_offering(department)
    place(operator_of(street), page, session)
    elsewhere = StreetFactory()  # another district altogether
    far_page, far_session = scheduled_offering(
        DepartmentFactory(region=elsewhere.district)
    )
    place(operator_of(elsewhere), far_page, far_session)
    client.force_login(organization_officer)
    figures = client.get(reverse("order_statistics")).context["figures"]
    assert figures.totals.orders == 1


def test_invalid_filters_show_an_error_and_count_everything(
    client, organization_officer, two_departments
):
    client.force_login(organization_officer)
    response = client.get(reverse("order_statistics"), {"placed_from": "昨天"})
    assert response.status_code == 200
    assert response.context["filterset"].form.errors
    assert response.context["figures"].totals.orders == 5


# Rosters -------------------------------------------------------------------------


def test_a_roster_lists_who_comes_then_the_waiting_list_and_exports(
    client, department, publisher, street
):
    page, session = scheduled_offering(department, seats=4, title="急救培训")
    coming = place(operator_of(street), page, session, participants=3)
    act(coming, publisher, "accept")
    unanswered = place(operator_of(street), page, session, participants=1)
    waiting = place(operator_of(street), page, session, participants=3)
    assert waiting.state == OrderState.WAITLISTED
    client.force_login(publisher)

    response = client.get(reverse("session_roster", args=[session.pk]))
    assert response.status_code == 200
    roster = response.context["roster"]
    assert [o.pk for o in roster.orders] == [coming.pk]
    # Seats held by an order the department has still to answer show apart.
    assert [o.pk for o in roster.unanswered] == [unanswered.pk]
    assert [o.pk for o in roster.waiting] == [waiting.pk]
    assert roster.people == 3
    assert coming.community.name in response.text
    assert "data-print" in response.text

    export = client.get(reverse("session_roster_export", args=[session.pk]))
    book = load_workbook(BytesIO(export.content))
    coming_rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert coming_rows[1][1:5] == (coming.community.name, 3, "王丽", "13800000001")
    unanswered_rows = list(book.worksheets[1].iter_rows(values_only=True))
    assert unanswered_rows[1][1] == unanswered.community.name
    waiting_rows = list(book.worksheets[2].iter_rows(values_only=True))
    assert waiting_rows[1][1] == waiting.community.name


def test_rosters_are_the_departments_own(
    client, department, street, operator, street_officer
):
    page, session = scheduled_offering(department)
    place(operator, page, session)
    other_staff = UserFactory(
        role=Role.DEPARTMENT_PUBLISHER,
        region=None,
        department=DepartmentFactory(region=street.district),
    )
    for user in (operator, street_officer, other_staff):
        client.force_login(user)
        url = reverse("session_roster", args=[session.pk])
        assert client.get(url).status_code == 404, user
        export = reverse("session_roster_export", args=[session.pk])
        assert client.get(export).status_code == 404, user
    client.logout()
    assert client.get(reverse("session_roster", args=[session.pk])).status_code == 302
