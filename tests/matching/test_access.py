"""Who may open and post what among the order pages: every order URL against
the order's own community and department, a community and a department that
have nothing to do with it, street offices, and visitors who are not signed
in. Someone who may see an order but not take an action gets 403; someone
who may not see it gets 404, exactly as for an id that does not exist."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import OfferingPage
from matching.models import Order, OrderState
from matching.services import order_place, order_transition
from portal.models import Role
from tests.factories import DepartmentFactory, StreetFactory, UserFactory
from tests.matching.helpers import operator_of, scheduled_offering

pytestmark = pytest.mark.django_db

LOGIN = "login"
USERS = (
    "own_community",
    "other_community",
    "own_department",
    "other_department",
    "own_street_office",
    "other_street_office",
    "anonymous",
)
STRANGERS = ("other_community", "other_department", "other_street_office")

# What each action needs: the state it starts from, and a valid form.
ACTIONS = {
    "accept": ("department", OrderState.SUBMITTED, {}),
    "reject": ("department", OrderState.SUBMITTED, {"reject-reason": "人手不足"}),
    # A time still to come is filled in when the test runs.
    "schedule": ("department", OrderState.ACCEPTED, {}),
    "deliver": ("department", OrderState.SCHEDULED, {"deliver-attendance": 20}),
    "confirm": ("community", OrderState.DELIVERED, {}),
    "withdraw": ("community", OrderState.SUBMITTED, {}),
    "cancel": ("department", OrderState.SUBMITTED, {"cancel-reason": "场地检修"}),
}
# How an order gets to each state, from the department's side.
STEPS = {
    OrderState.ACCEPTED: ("accept", {}),
    OrderState.SCHEDULED: (
        "schedule",
        {"scheduled_at_days": 5, "scheduled_place": "居委会会议室"},
    ),
    OrderState.DELIVERED: ("deliver", {"attendance": 20}),
}
PATH = (OrderState.ACCEPTED, OrderState.SCHEDULED, OrderState.DELIVERED)


@pytest.fixture
def world():
    """Two streets of one district; the offering serves only the first."""
    street = StreetFactory()
    other_street = StreetFactory(parent=street.district)
    department = DepartmentFactory(region=street.district)
    other_department = DepartmentFactory(region=street.district)
    page, session = scheduled_offering(department, streets=[street])
    users = {
        "own_community": operator_of(street, name="王丽"),
        "other_community": operator_of(other_street),
        "own_department": UserFactory(
            role=Role.DEPARTMENT_PUBLISHER, region=None, department=department
        ),
        "other_department": UserFactory(
            role=Role.DEPARTMENT_PUBLISHER, region=None, department=other_department
        ),
        "own_street_office": UserFactory(role=Role.STREET_OFFICE, region=street),
        "other_street_office": UserFactory(
            role=Role.STREET_OFFICE, region=other_street
        ),
        "anonymous": None,
    }
    return {"page": page, "session": session, "users": users}


def order_in(world, state: str) -> Order:
    users = world["users"]
    order = order_place(
        user=users["own_community"],
        offering=world["page"],
        session=world["session"],
        participants=2,
        contact_name="王丽",
        contact_phone="13800000001",
    )
    if state == OrderState.SUBMITTED:
        return order
    for step in PATH[: PATH.index(state) + 1]:
        action, fields = STEPS[step]
        fields = dict(fields)
        if days := fields.pop("scheduled_at_days", None):
            fields["scheduled_at"] = timezone.now() + timedelta(days=days)
        order = order_transition(
            order_id=order.pk, user=users["own_department"], action=action, **fields
        )
    return order


def as_user(client, world, who: str):
    user = world["users"][who]
    if user is not None:
        client.force_login(user)
    return client


def assert_status(response, expected) -> None:
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("who", USERS)
def test_the_order_list(client, world, who):
    order = order_in(world, OrderState.SUBMITTED)
    response = as_user(client, world, who).get(reverse("order_list"))
    assert_status(response, LOGIN if who == "anonymous" else 200)
    if who != "anonymous":
        listed = order in response.context["page_obj"]
        assert listed == (who not in STRANGERS)


@pytest.mark.parametrize("who", USERS)
def test_the_order_page(client, world, who):
    order = order_in(world, OrderState.SUBMITTED)
    response = as_user(client, world, who).get(reverse("order_detail", args=[order.pk]))
    expected = {"anonymous": LOGIN, **dict.fromkeys(STRANGERS, 404)}.get(who, 200)
    assert_status(response, expected)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("who", USERS)
def test_each_action(client, world, who, action):
    side, state, data = ACTIONS[action]
    order = order_in(world, state)
    if action == "schedule":
        data = {
            "schedule-scheduled_at": (timezone.localtime() + timedelta(days=5))
            .replace(second=0, microsecond=0)
            .strftime("%Y-%m-%dT%H:%M"),
            "schedule-scheduled_place": "居委会会议室",
        }
    response = as_user(client, world, who).post(
        reverse("order_act", args=[order.pk, action]), data
    )
    expected = {
        "anonymous": LOGIN,
        **dict.fromkeys(STRANGERS, 404),
        f"own_{side}": 302,
    }.get(who, 403)
    assert_status(response, expected)
    order.refresh_from_db()
    assert (order.state != state) == (expected == 302)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("who", USERS)
def test_the_order_form(client, world, who, method):
    url = reverse("order_new", args=[world["page"].pk])
    client = as_user(client, world, who)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(
            url,
            {
                "session": world["session"].pk,
                "participants": 2,
                "contact_name": "王丽",
                "contact_phone": "13800000001",
                "idempotency_key": "5d1c6a7e-0000-4000-8000-00000000a11c",
            },
        )
    # The other community may read the offering but not order it: it serves
    # the first street only.
    expected = {"anonymous": LOGIN, "own_community": 200}.get(who, 403)
    if method == "post" and who == "own_community":
        expected = 302
    assert_status(response, expected)
    assert Order.objects.exists() == (expected == 302)


@pytest.mark.parametrize("who", ["own_community", "own_department"])
def test_an_order_that_does_not_exist_is_a_404(client, world, who):
    order = order_in(world, OrderState.SUBMITTED)
    client = as_user(client, world, who)
    missing = order.pk + 1000
    assert client.get(reverse("order_detail", args=[missing])).status_code == 404
    url = reverse("order_act", args=[missing, "withdraw"])
    assert client.post(url).status_code == 404


def test_an_offering_that_is_not_published_is_a_404(client, world):
    client = as_user(client, world, "own_community")
    OfferingPage.objects.filter(pk=world["page"].pk).update(live=False)
    url = reverse("order_new", args=[world["page"].pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("order_new", args=[999999])).status_code == 404


@pytest.mark.parametrize("action", ["waitlist", "promote", "delete"])
def test_actions_only_the_portal_takes_are_no_urls(client, world, action):
    order = order_in(world, OrderState.SUBMITTED)
    client = as_user(client, world, "own_department")
    response = client.post(reverse("order_act", args=[order.pk, action]))
    assert response.status_code == 404


def test_actions_are_posted_never_fetched(client, world):
    order = order_in(world, OrderState.SUBMITTED)
    client = as_user(client, world, "own_department")
    response = client.get(reverse("order_act", args=[order.pk, "accept"]))
    assert response.status_code == 405
    order.refresh_from_db()
    assert order.state == OrderState.SUBMITTED
