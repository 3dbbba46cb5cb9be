"""After each order event the other side hears of it, in the portal's
language, with a link to the order — and only once the change is committed."""

from contextlib import suppress

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from matching.notifications import order_escalated_notify, order_event_notify
from matching.services import order_place, order_transition
from portal.models import Notification, Role
from tests.factories import UserFactory
from tests.matching.helpers import operator_of, scheduled_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the service defers to after commit, as a committed request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def place(user, page, session, participants=1):
    return order_place(
        user=user,
        offering=page,
        session=session,
        participants=participants,
        contact_name="王丽",
        contact_phone="13800000001",
    )


def told(**filters) -> set[int]:
    return set(
        Notification.objects.filter(**filters).values_list("recipient", flat=True)
    )


def in_portal_language(msgid: str, **values) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid) % values


def test_a_new_order_goes_to_the_departments_publishers_and_approvers(
    committed, operator, department, publisher, approver
):
    UserFactory(
        role=Role.DEPARTMENT_PUBLISHER,
        region=None,
        department=department,
        is_active=False,
    )
    page, session = scheduled_offering(department)
    with committed():
        order = place(operator, page, session)
    assert told() == {publisher.pk, approver.pk}
    notification = Notification.objects.filter(recipient=publisher).get()
    assert notification.url == f"/orders/{order.pk}/"
    assert page.title in notification.title


def test_the_texts_are_in_the_portals_language_whatever_the_actor_speaks(
    committed, operator, department, publisher
):
    page, session = scheduled_offering(department)
    with translation.override("en"), committed():
        order = place(operator, page, session)
    notification = Notification.objects.get(recipient=publisher)
    assert notification.title == in_portal_language(
        "New order from %(community)s: %(offering)s",
        community=order.community.name,
        offering=page.title,
    )


def test_answers_go_to_the_communitys_operators(
    committed, operator, community, department, publisher
):
    colleague = UserFactory(role=Role.COMMUNITY_OPERATOR, region=community)
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    with committed():
        order_transition(
            order_id=order.pk, user=publisher, action="reject", reason="场地维修"
        )
    assert told() == {operator.pk, colleague.pk}
    assert "场地维修" in Notification.objects.filter(recipient=operator).get().body


@pytest.mark.parametrize("action", ["accept", "cancel"])
def test_each_answer_is_told(committed, action, operator, department, publisher):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    with committed():
        order_transition(
            order_id=order.pk, user=publisher, action=action, reason="因故"
        )
    assert told() == {operator.pk}


def test_scheduling_and_delivery_are_told_and_confirmation_goes_back(
    committed, operator, department, publisher, approver
):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    order_transition(order_id=order.pk, user=publisher, action="accept")
    with committed():
        order_transition(
            order_id=order.pk,
            user=publisher,
            action="schedule",
            scheduled_at=session.starts_at,
            scheduled_place="社区活动室",
        )
    assert "社区活动室" in Notification.objects.get(recipient=operator).body
    Notification.objects.all().delete()
    with committed():
        order_transition(
            order_id=order.pk, user=publisher, action="deliver", attendance=12
        )
    assert told() == {operator.pk}
    Notification.objects.all().delete()
    with committed():
        order_transition(order_id=order.pk, user=operator, action="confirm")
    assert told() == {publisher.pk, approver.pk}


def test_a_withdrawal_goes_to_the_department(
    committed, operator, department, publisher
):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    with committed():
        order_transition(order_id=order.pk, user=operator, action="withdraw")
    assert told() == {publisher.pk}


def test_a_promotion_from_the_waiting_list_goes_to_the_waiting_community(
    committed, street, department, publisher
):
    page, session = scheduled_offering(department, seats=1)
    first = place(operator_of(street), page, session)
    waiting_operator = operator_of(street)
    place(waiting_operator, page, session)
    with committed():
        order_transition(
            order_id=first.pk, user=publisher, action="reject", reason="人手不足"
        )
    promoted = Notification.objects.filter(recipient=waiting_operator).get()
    assert page.title in promoted.title


def test_a_change_rolled_back_tells_nobody(committed, operator, department, publisher):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    with committed(), suppress(RuntimeError), transaction.atomic():
        order_transition(order_id=order.pk, user=publisher, action="accept")
        raise RuntimeError
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "action",
    [
        "place",
        "accept",
        "reject",
        "schedule",
        "cancel",
        "deliver",
        "confirm",
        "withdraw",
        "promote",
        "escalate",
    ],
)
def test_telling_reads_the_order_once_and_writes_once(
    committed,
    django_assert_num_queries,
    action,
    operator,
    department,
    publisher,
    street_officer,
):
    page, session = scheduled_offering(department)
    order = place(operator, page, session)
    order.scheduled_at = session.starts_at
    order.scheduled_place = "社区活动室"
    order.scheduled_people = "李明"
    order.save()
    # The order with the names its texts need, the recipients, their inboxes:
    # nothing the texts read is left to load one field at a time.
    with django_assert_num_queries(3), committed():
        if action == "escalate":
            order_escalated_notify(order)
        else:
            order_event_notify(order, action)
    assert Notification.objects.count() == 1
