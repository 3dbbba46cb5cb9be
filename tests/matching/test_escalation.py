"""Orders left unanswered for N working days go up to the street office and
the organization department: counted on the Chinese calendar, once each."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from matching.models import Order, OrderState
from matching.selectors import orders_answer_clock, working_days_waiting
from matching.services import order_place, order_transition, orders_escalate
from matching.tasks import unanswered_orders_escalate
from portal.models import Notification, Role
from tests.factories import (
    DistrictFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)
from tests.matching.helpers import operator_of, scheduled_offering

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The last working day before the National Day holiday (1–7 October 2026).
BEFORE_NATIONAL_DAY = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)


def at(month, day, hour=9, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def place(user, department, *, placed_at=BEFORE_NATIONAL_DAY, seats=10, **fields):
    page, session = scheduled_offering(department, seats=seats)
    order = order_place(
        user=user,
        offering=page,
        session=session,
        participants=fields.pop("participants", 1),
        contact_name="王丽",
        contact_phone="13800000001",
    )
    Order.objects.filter(pk=order.pk).update(placed_at=placed_at)
    order.refresh_from_db()
    return order


def escalate(now, capture):
    with capture(execute=True):
        return orders_escalate(now=now)


def test_an_order_placed_before_national_day_waits_out_the_holiday(
    operator, department, django_capture_on_commit_callbacks
):
    order = place(operator, department)
    # Calendar days alone would have escalated it on 3 October.
    assert escalate(at(10, 7, 23), django_capture_on_commit_callbacks) == []
    assert escalate(at(10, 9, 18), django_capture_on_commit_callbacks) == []
    # 8, 9 and (调休) Saturday 10 October are the three working days.
    assert escalate(at(10, 10, 23, 59), django_capture_on_commit_callbacks) == []
    escalated = escalate(at(10, 11, 0, 5), django_capture_on_commit_callbacks)
    assert [o.pk for o in escalated] == [order.pk]
    order.refresh_from_db()
    assert order.escalated_at == at(10, 11, 0, 5)
    assert order.state == OrderState.SUBMITTED


def test_escalation_is_idempotent(
    operator, department, django_capture_on_commit_callbacks
):
    order = place(operator, department)
    assert len(escalate(at(10, 12), django_capture_on_commit_callbacks)) == 1
    before = Notification.objects.count()
    assert escalate(at(10, 12, 10), django_capture_on_commit_callbacks) == []
    assert escalate(at(10, 20), django_capture_on_commit_callbacks) == []
    assert Notification.objects.count() == before
    order.refresh_from_db()
    assert order.escalated_at == at(10, 12)


def test_escalation_records_no_event(
    operator, department, django_capture_on_commit_callbacks
):
    order = place(operator, department)
    escalate(at(10, 12), django_capture_on_commit_callbacks)
    assert [e.action for e in order.events.all()] == ["place"]


def test_the_street_office_and_the_organization_departments_are_told(
    operator,
    street,
    department,
    publisher,
    street_officer,
    organization_officer,
    django_capture_on_commit_callbacks,
):
    city_organization = UserFactory(
        role=Role.ORGANIZATION_DEPARTMENT,
        region=None,
        department=OrganizationDepartmentFactory(region=street.city),
    )
    other_street_office = UserFactory(
        role=Role.STREET_OFFICE, region=StreetFactory(parent=street.district)
    )
    other_district_organization = UserFactory(
        role=Role.ORGANIZATION_DEPARTMENT,
        region=None,
        department=OrganizationDepartmentFactory(region=DistrictFactory()),
    )
    retired_street_officer = UserFactory(
        role=Role.STREET_OFFICE, region=street, is_active=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = place(operator, department)
    Notification.objects.all().delete()

    escalate(at(10, 12), django_capture_on_commit_callbacks)

    told = set(Notification.objects.values_list("recipient", flat=True))
    assert told == {street_officer.pk, organization_officer.pk, city_organization.pk}
    for nobody in (
        other_street_office,
        other_district_organization,
        retired_street_officer,
        operator,
        publisher,
    ):
        assert nobody.pk not in told
    notification = Notification.objects.filter(recipient=street_officer).get()
    assert notification.url == f"/orders/{order.pk}/"
    assert order.offering.title in notification.title


def test_an_answered_order_is_not_escalated(
    operator, department, publisher, django_capture_on_commit_callbacks
):
    order = place(operator, department)
    order_transition(order_id=order.pk, user=publisher, action="accept")
    assert escalate(at(10, 20), django_capture_on_commit_callbacks) == []


def test_a_withdrawn_order_is_not_escalated(
    operator, department, django_capture_on_commit_callbacks
):
    order = place(operator, department)
    order_transition(order_id=order.pk, user=operator, action="withdraw")
    assert escalate(at(10, 20), django_capture_on_commit_callbacks) == []


def test_the_clock_of_a_promoted_order_starts_when_it_leaves_the_waiting_list(
    street, department, publisher, django_capture_on_commit_callbacks
):
    first = place(operator_of(street), department, seats=1)
    session = first.session
    waiting = order_place(
        user=operator_of(street),
        offering=first.offering,
        session=session,
        participants=1,
        contact_name="李明",
        contact_phone="13800000002",
    )
    assert waiting.state == OrderState.WAITLISTED
    Order.objects.filter(pk=waiting.pk).update(placed_at=at(9, 1))
    order_transition(
        order_id=first.pk, user=publisher, action="reject", reason="人手不足"
    )
    waiting.refresh_from_db()
    assert waiting.state == OrderState.SUBMITTED
    # Placed a month ago, but promoted just now: not overdue yet.
    assert waiting.pk not in [
        o.pk for o in escalate(at(10, 12), django_capture_on_commit_callbacks)
    ]


def test_the_number_of_working_days_is_a_setting(
    settings, operator, department, django_capture_on_commit_callbacks
):
    settings.ORDER_ANSWER_WORKING_DAYS = 1
    place(operator, department, placed_at=at(10, 8, 15))
    assert escalate(at(10, 9, 18), django_capture_on_commit_callbacks) == []
    assert len(escalate(at(10, 10, 0, 1), django_capture_on_commit_callbacks)) == 1


def test_the_answer_clock_in_working_days(operator, department):
    order = place(operator, department)
    assert working_days_waiting(order, at(10, 7)) == 0
    assert working_days_waiting(order, at(10, 9, 17)) == 1
    assert working_days_waiting(order, at(10, 12, 9)) == 3
    annotated = orders_answer_clock(Order.objects.filter(pk=order.pk)).get()
    assert annotated.answer_clock_from == BEFORE_NATIONAL_DAY
    assert working_days_waiting(annotated, at(10, 12, 9)) == 3


def test_the_escalation_command(operator, department, capsys):
    place(operator, department, placed_at=at(1, 5))
    call_command("orders_escalate")
    assert Order.objects.get().escalated_at is not None
    assert "1" in capsys.readouterr().out


def test_the_escalation_task(operator, department):
    place(operator, department, placed_at=at(1, 5))
    assert unanswered_orders_escalate.enqueue().return_value == 1
