"""The order pages as people use them: placing an order through the form,
double submits, the waiting list, refusals shown as form errors, every action
through the order page, and the order list's filters and worklist order."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import trans_real

from catalog.models import OfferingPage
from matching.models import Order, OrderState
from matching.services import order_place, order_transition
from tests.catalog.helpers import corner, offering
from tests.factories import DepartmentFactory
from tests.matching.helpers import operator_of, scheduled_offering

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# The page's Chinese for strings this change adds, until the project's .po
# carries them (then the .po's own wording is used and this adds nothing).
PENDING_TRANSLATIONS = {
    "Your order has been placed. The department will answer it here.": (
        "点单已提交，部门将在这里答复。"
    ),
    "The session is full: your order is on its waiting list, and moves up by "
    "itself when seats are freed.": "该场次已满：您的点单已进入候补名单，有名额空出时将自动递补。",
    "Done: the order is now “%(state)s”.": "操作成功：点单现为“%(state)s”。",
    "Accepted": "已接单",
    "Scheduled": "已排期",
    "Delivered": "已服务",
    "Confirmed": "已确认",
}


@pytest.fixture
def chinese(monkeypatch):
    catalog = trans_real.translation("zh-hans")._catalog
    for msgid, msgstr in PENDING_TRANSLATIONS.items():
        if msgid not in catalog:
            monkeypatch.setitem(catalog._catalogs[0], msgid, msgstr)


def form_page(client, page, **params):
    response = client.get(reverse("order_new", args=[page.pk]), params)
    assert response.status_code == 200
    return response


def order_data(response, **fields):
    """What the form sends: its fresh idempotency key and a valid order."""
    form = response.context["form"]
    data = {
        "idempotency_key": str(form.initial["idempotency_key"]),
        "participants": 3,
        "contact_name": "王丽",
        "contact_phone": "13800000001",
        "note": "",
    }
    if "session" in form.fields:
        data["session"] = form.fields["session"].queryset.first().pk
    data.update(fields)
    return data


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def place(user, page, session, participants=1):
    return order_place(
        user=user,
        offering=page,
        session=session,
        participants=participants,
        contact_name="王丽",
        contact_phone="13800000001",
    )


# Placing an order ----------------------------------------------------------


def test_placing_an_order_takes_its_seats_and_says_so_in_chinese(
    client, operator, department, chinese
):
    page, session = scheduled_offering(department, seats=10)
    client.force_login(operator)
    response = client.post(
        reverse("order_new", args=[page.pk]),
        order_data(form_page(client, page), participants=4),
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("order_detail", args=[order.pk])
    session.refresh_from_db()
    assert (order.state, order.participants, session.seats_taken) == (
        OrderState.SUBMITTED,
        4,
        4,
    )
    [message] = message_texts(client.get(response["Location"]))
    assert CHINESE.search(message), message


def test_the_form_is_prefilled_from_the_account(client, street, department):
    page, _session = scheduled_offering(department)
    operator = operator_of(street, name="李娜", phone="13900000002")
    client.force_login(operator)
    form = form_page(client, page).context["form"]
    assert (form["contact_name"].value(), form["contact_phone"].value()) == (
        "李娜",
        "13900000002",
    )


def test_a_double_submit_places_one_order(client, operator, department):
    page, session = scheduled_offering(department, seats=10)
    client.force_login(operator)
    data = order_data(form_page(client, page), participants=2)
    first = client.post(reverse("order_new", args=[page.pk]), data)
    second = client.post(reverse("order_new", args=[page.pk]), data)
    session.refresh_from_db()
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert session.seats_taken == 2


def test_each_showing_of_the_form_has_its_own_key(client, operator, department):
    page, _session = scheduled_offering(department)
    client.force_login(operator)
    assert (
        order_data(form_page(client, page))["idempotency_key"]
        != (order_data(form_page(client, page))["idempotency_key"])
    )


def test_a_full_session_can_be_chosen_and_the_order_waits(
    client, street, operator, department, chinese
):
    page, session = scheduled_offering(department, seats=2)
    place(operator_of(street), page, session, participants=2)
    client.force_login(operator)
    form = form_page(client, page)
    assert "候补" in form.text or "waiting list" in form.text
    response = client.post(
        reverse("order_new", args=[page.pk]), order_data(form, participants=1)
    )
    order = Order.objects.get(community=operator.region)
    assert order.state == OrderState.WAITLISTED
    [message] = message_texts(client.get(response["Location"]))
    assert "候补" in message


def test_a_refusal_is_a_form_error_and_nothing_is_saved(client, operator, department):
    page, session = scheduled_offering(department, seats=50)
    OfferingPage.objects.filter(pk=page.pk).update(max_participants=5)
    client.force_login(operator)
    response = client.post(
        reverse("order_new", args=[page.pk]),
        order_data(form_page(client, page), participants=6),
    )
    session.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert (Order.objects.count(), session.seats_taken) == (0, 0)


def test_a_second_order_for_the_same_session_is_refused(client, operator, department):
    page, session = scheduled_offering(department)
    earlier = place(operator, page, session)
    client.force_login(operator)
    response = form_page(client, page)
    # The form shows the session as ordered, with a link to the order …
    assert reverse("order_detail", args=[earlier.pk]) in response.text
    # … and a submit that still names it is refused, keeping the form.
    response = client.post(reverse("order_new", args=[page.pk]), order_data(response))
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Order.objects.count() == 1


def test_an_invalid_form_keeps_its_key(client, operator, department):
    page, _session = scheduled_offering(department)
    client.force_login(operator)
    data = order_data(form_page(client, page), participants="")
    response = client.post(reverse("order_new", args=[page.pk]), data)
    assert response.context["form"].errors["participants"]
    assert f'value="{data["idempotency_key"]}"' in response.text


def test_an_offering_on_request_is_ordered_for_dates(client, operator, department):
    page = offering(corner(department), availability="on_request")
    client.force_login(operator)
    response = form_page(client, page)
    assert "session" not in response.context["form"].fields
    start = timezone.localdate() + timedelta(days=page.lead_time_days + 3)
    data = order_data(
        response,
        wished_from=start.isoformat(),
        wished_to=(start + timedelta(days=7)).isoformat(),
    )
    assert client.post(reverse("order_new", args=[page.pk]), data).status_code == 302
    order = Order.objects.get()
    assert (order.session, order.wished_from) == (None, start)


def test_dates_too_soon_are_a_form_error(client, operator, department):
    page = offering(corner(department), availability="on_request")
    client.force_login(operator)
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("order_new", args=[page.pk]),
        order_data(form_page(client, page), wished_from=today, wished_to=today),
    )
    assert response.context["form"].non_field_errors()
    assert not Order.objects.exists()


def test_the_last_day_cannot_come_before_the_first(client, operator, department):
    page = offering(corner(department), availability="on_request")
    client.force_login(operator)
    start = timezone.localdate() + timedelta(days=30)
    response = client.post(
        reverse("order_new", args=[page.pk]),
        order_data(
            form_page(client, page),
            wished_from=start.isoformat(),
            wished_to=(start - timedelta(days=1)).isoformat(),
        ),
    )
    assert response.context["form"].errors["wished_to"]


def test_the_offering_page_links_to_the_form_for_communities_only(
    client, operator, publisher, department
):
    page, session = scheduled_offering(department)
    form_url = reverse("order_new", args=[page.pk])
    client.force_login(operator)
    text = client.get(page.url).text
    assert f'href="{form_url}"' in text
    assert f'href="{form_url}?session={session.pk}"' in text
    client.force_login(publisher)
    assert form_url not in client.get(page.url).text


def test_a_session_link_comes_chosen(client, operator, department):
    page, session = scheduled_offering(department)
    client.force_login(operator)
    response = form_page(client, page, session=session.pk)
    assert response.context["form"]["session"].value() == str(session.pk)


# Acting on an order ----------------------------------------------------------


def act(client, order, action, **data):
    return client.post(reverse("order_act", args=[order.pk, action]), data)


def test_an_order_goes_through_its_whole_lifecycle_on_its_page(
    client, operator, publisher, department, chinese
):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    client.force_login(publisher)
    steps = [
        ("accept", {}),
        (
            "schedule",
            {
                "schedule-scheduled_at": (
                    timezone.localtime() + timedelta(days=9)
                ).strftime("%Y-%m-%dT%H:%M"),
                "schedule-scheduled_place": "居委会会议室",
                "schedule-scheduled_people": "张老师",
            },
        ),
        ("deliver", {"deliver-attendance": 28, "deliver-delivery_note": "效果良好"}),
    ]
    for action, data in steps:
        response = act(client, order, action, **data)
        assert response.status_code == 302, response.context and [
            f.errors for f in response.context["action_forms"]
        ]
    client.force_login(operator)
    response = act(client, order, "confirm")
    order.refresh_from_db()
    assert (order.state, order.scheduled_place, order.attendance) == (
        OrderState.CONFIRMED,
        "居委会会议室",
        28,
    )
    message = message_texts(client.get(response["Location"]))[-1]
    assert CHINESE.search(message) and "已确认" in message
    history = client.get(reverse("order_detail", args=[order.pk])).context["history"]
    assert [row.event.action for row in history] == [
        "place",
        "accept",
        "schedule",
        "deliver",
        "confirm",
    ]


@pytest.mark.parametrize(
    ("side", "action", "target"),
    [
        ("department", "reject", OrderState.REJECTED),
        ("department", "cancel", OrderState.CANCELLED),
        ("community", "withdraw", OrderState.CANCELLED),
    ],
)
def test_ending_an_order_keeps_the_reason_and_frees_the_seats(
    client, operator, publisher, department, side, action, target
):
    page, session = scheduled_offering(department, seats=5)
    order = place(operator, page, session, participants=5)
    client.force_login(publisher if side == "department" else operator)
    response = act(client, order, action, **{f"{action}-reason": "时间冲突"})
    assert response.status_code == 302
    order.refresh_from_db()
    session.refresh_from_db()
    assert (order.state, order.reason, session.seats_taken) == (target, "时间冲突", 0)
    assert order.events.last().note == "时间冲突"


def test_a_rejection_needs_a_reason(client, operator, publisher, department):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    client.force_login(publisher)
    response = act(client, order, "reject", **{"reject-reason": ""})
    assert response.status_code == 200
    [failed] = [f for f in response.context["action_forms"] if f.is_bound]
    assert failed.errors["reason"]
    assert 'id="id_reject-reason_error"' in response.text
    order.refresh_from_db()
    assert order.state == OrderState.SUBMITTED


def test_an_action_overtaken_by_another_shows_why(
    client, operator, publisher, approver, department
):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    order_transition(order_id=order.pk, user=approver, action="accept")
    client.force_login(publisher)
    # The publisher's page still offered "accept": the service says why not.
    response = act(client, order, "accept")
    assert response.status_code == 200
    assert response.context["stray_errors"]
    order.refresh_from_db()
    assert order.events.count() == 2


def test_a_schedule_in_the_past_is_a_form_error(
    client, operator, publisher, department
):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    order_transition(order_id=order.pk, user=publisher, action="accept")
    client.force_login(publisher)
    response = act(
        client,
        order,
        "schedule",
        **{
            "schedule-scheduled_at": "2020-01-01T09:00",
            "schedule-scheduled_place": "会议室",
        },
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.state == OrderState.ACCEPTED


def test_each_side_is_offered_only_its_own_actions(
    client, operator, publisher, department
):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    url = reverse("order_detail", args=[order.pk])
    client.force_login(operator)
    offered = [f.transition.action for f in client.get(url).context["action_forms"]]
    assert offered == ["withdraw"]
    client.force_login(publisher)
    offered = [f.transition.action for f in client.get(url).context["action_forms"]]
    assert offered == ["accept", "reject", "cancel"]


def test_a_scheduling_form_starts_from_the_session(
    client, operator, publisher, department
):
    page, session = scheduled_offering(department)
    session.place = "街道文化中心"
    session.save()
    order = place(operator, page, session)
    order_transition(order_id=order.pk, user=publisher, action="accept")
    client.force_login(publisher)
    response = client.get(reverse("order_detail", args=[order.pk]))
    [form] = response.context["action_forms"][:1]
    assert form.transition.action == "schedule"
    assert form["scheduled_place"].value() == "街道文化中心"


# The order list --------------------------------------------------------------


@pytest.fixture
def orders(street, department, operator):
    """Orders of two communities from two departments, in several states."""
    other_department = DepartmentFactory(region=department.region)
    neighbour = operator_of(street)
    page, session = scheduled_offering(department, title="消防培训")
    other_page, other_session = scheduled_offering(other_department, title="法律讲座")
    return {
        "first": place(operator, page, session),
        "second": place(neighbour, page, session),
        "elsewhere": place(operator, other_page, other_session),
        "other_department": other_department,
        "neighbour": neighbour,
    }


def listed(client, **params) -> list[Order]:
    response = client.get(reverse("order_list"), params)
    assert response.status_code == 200
    return list(response.context["page_obj"])


def test_a_community_lists_its_own_orders_and_filters_by_department(
    client, operator, department, orders
):
    client.force_login(operator)
    assert {o.pk for o in listed(client)} == {
        orders["first"].pk,
        orders["elsewhere"].pk,
    }
    assert listed(client, department=department.pk) == [orders["first"]]
    form = client.get(reverse("order_list")).context["filterset"].form
    assert "community" not in form.fields


def test_a_department_lists_what_waits_for_it_first_oldest_first(
    client, operator, publisher, orders
):
    first, second = orders["first"], orders["second"]
    order_transition(order_id=first.pk, user=publisher, action="accept")
    client.force_login(publisher)
    # Submitted orders (to answer) come before accepted ones (to schedule).
    assert listed(client) == [second, first]
    response = client.get(reverse("order_list"))
    assert "department" not in response.context["filterset"].form.fields
    assert listed(client, community=orders["neighbour"].region_id) == [second]


def test_orders_waiting_longest_come_first(client, operator, publisher, orders):
    first, second = orders["first"], orders["second"]
    Order.objects.filter(pk=second.pk).update(
        changed_at=timezone.now() - timedelta(days=3)
    )
    client.force_login(publisher)
    page = listed(client)
    assert page == [second, first]
    assert page[0].next_step and page[0].waiting_since < page[1].waiting_since


def test_the_list_filters_by_state_and_date(client, street_officer, publisher, orders):
    order_transition(
        order_id=orders["first"].pk, user=publisher, action="reject", reason="满员"
    )
    client.force_login(street_officer)
    assert listed(client, state="rejected") == [orders["first"]]
    today = timezone.localdate()
    assert len(listed(client, placed_from=today.isoformat())) == 3
    assert listed(client, placed_to=(today - timedelta(days=1)).isoformat()) == []


def test_a_foreign_unit_in_a_filter_is_not_applied(
    client, operator, orders, department
):
    stranger = DepartmentFactory()
    client.force_login(operator)
    response = client.get(reverse("order_list"), {"department": stranger.pk})
    assert response.context["filterset"].form.errors["department"]
    assert stranger.name not in response.text


def test_the_list_counts_what_waits_for_the_community(
    client, operator, publisher, orders
):
    order = orders["first"]
    for action, fields in [
        ("accept", {}),
        (
            "schedule",
            {
                "scheduled_at": timezone.now() + timedelta(days=3),
                "scheduled_place": "会议室",
            },
        ),
        ("deliver", {"attendance": 20}),
    ]:
        order_transition(order_id=order.pk, user=publisher, action=action, **fields)
    client.force_login(operator)
    response = client.get(reverse("order_list"))
    first = response.context["highlights"][0]
    assert (first.state, first.count, first.your_turn) == ("delivered", 1, True)
    assert response.context["page_obj"][0] == order


@pytest.mark.parametrize(
    ("role", "label"),
    [
        ("operator", "My orders"),
        ("publisher", "Orders to handle"),
        ("street_officer", "Orders"),
    ],
)
def test_the_navigation_names_the_list_for_each_role(client, request, role, label):
    client.force_login(request.getfixturevalue(role))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("order_list"))
    with translation.override("en"):
        items = {str(item["label"]): item for item in response.context["nav_items"]}
    assert items[label]["url"] == reverse("order_list")
    assert items[label]["current"]


def test_the_list_costs_the_same_however_many_orders_it_shows(
    client, street, department, publisher
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client.get(reverse("order_list"))
        return len(captured.captured_queries)

    page, session = scheduled_offering(department, seats=50)
    client.force_login(publisher)
    place(operator_of(street), page, session)
    few = queries()
    for _ in range(5):
        place(operator_of(street), page, session)
    assert queries() == few
