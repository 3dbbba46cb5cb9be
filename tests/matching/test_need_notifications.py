"""After each step on a need, and each message in a conversation, the other
side hears of it once — in the portal's language, with a link to the page —
and only once the change is committed. Nobody is told of their own doing, and
what an order already tells is not told again for its need."""

from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from catalog.models import OfferingSession
from matching.models import NeedResponseKind, NeedState, NeedUrgency
from matching.need_services import (
    message_post,
    need_accept_proposal,
    need_close,
    need_respond,
)
from matching.services import order_place, order_transition
from portal.models import Notification, Role
from tests.factories import UserFactory
from tests.matching.helpers import scheduled_offering
from tests.matching.need_helpers import department_of, post, published, staff_of

pytestmark = pytest.mark.django_db

TRAINING = "社区消防安全知识培训"  # scheduled: ordered for a session
INSPECTION = "老旧小区消防隐患上门排查"  # on request: ordered at once


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the service defers to after commit, as a committed request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def fire(street, django_capture_on_commit_callbacks):
    brigade = department_of("消防", street.district, name="区消防救援支队")
    published(django_capture_on_commit_callbacks, brigade, title=TRAINING)
    published(
        django_capture_on_commit_callbacks,
        brigade,
        title=INSPECTION,
        kind="service",
        summary="消防监督员对楼道堆物、飞线充电、消防通道占用等隐患逐楼排查。",
        availability="on_request",
    )
    return brigade


@pytest.fixture
def emergency(street, django_capture_on_commit_callbacks):
    bureau = department_of("应急管理", street.district, name="区应急管理局")
    published(
        django_capture_on_commit_callbacks,
        bureau,
        title="社区防汛防台应急处置培训",
        category="防汛防台",
        summary="讲解台风暴雨期间社区转移安置和低洼积水点巡查。",
    )
    return bureau


@pytest.fixture
def civil(street, django_capture_on_commit_callbacks):
    bureau = department_of("民政", street.district, name="区民政局")
    published(
        django_capture_on_commit_callbacks,
        bureau,
        title="社区助餐点运营指导",
        kind="service",
        category="养老服务",
        summary="养老服务专员上门指导助餐点的选址、运营和补贴申领。",
    )
    return bureau


@pytest.fixture
def fire_staff(fire):
    """The brigade's publisher, who answers needs, and its approver."""
    return [staff_of(fire), staff_of(fire, role=Role.DEPARTMENT_APPROVER)]


@pytest.fixture
def need(operator, fire, emergency, civil):
    # Suggested to 消防 and 应急管理, not to 民政 (tests/matching/test_needs.py).
    need = post(operator)
    assert {s.department for s in need.suggestions.all()} == {fire, emergency}
    return need


def told(**filters) -> set[int]:
    return set(
        Notification.objects.filter(**filters).values_list("recipient", flat=True)
    )


def pks(users) -> set[int]:
    return {user.pk for user in users}


def in_portal_language(msgid: str, **values) -> str:
    with translation.override("zh-hans"):
        return gettext(msgid) % values


def propose(need, proposer, title, note=""):
    offering = (
        proposer.department.catalog_page.get_children().specific().get(title=title)
    )
    return need_respond(
        need_id=need.pk,
        user=proposer,
        kind=NeedResponseKind.PROPOSAL,
        offering=offering.specific,
        note=note,
    )


def accept(response, user):
    today = timezone.localdate()
    return need_accept_proposal(
        response_id=response.pk,
        user=user,
        participants=30,
        contact_name="王丽",
        contact_phone="13800000001",
        wished_from=today + timedelta(days=20),
        wished_to=today + timedelta(days=30),
    )


# Steps on a need ------------------------------------------------------------------


def test_a_posted_need_goes_to_the_staff_of_the_suggested_departments(
    committed, operator, community, fire, fire_staff, emergency, civil
):
    UserFactory(role=Role.COMMUNITY_OPERATOR, region=community)
    staff_of(fire, is_active=False)
    emergency_staff = staff_of(emergency)
    staff_of(civil)
    with committed():
        need = post(operator, urgency=NeedUrgency.URGENT)
    assert told() == pks(fire_staff) | {emergency_staff.pk}
    notification = Notification.objects.get(recipient=emergency_staff)
    assert notification.url == f"/needs/{need.pk}/"
    assert notification.title == in_portal_language(
        "New need from %(community)s: %(need)s",
        community=community.name,
        need=need.title,
    )
    assert in_portal_language("The community marks it as urgent.") in (
        notification.body
    )


def test_a_proposal_goes_to_the_communitys_operators(
    committed, operator, community, fire, fire_staff, need
):
    colleague = UserFactory(role=Role.COMMUNITY_OPERATOR, region=community)
    with committed():
        propose(need, fire_staff[0], INSPECTION, note="下周可以安排")
    assert told() == {operator.pk, colleague.pk}
    notification = Notification.objects.get(recipient=colleague)
    assert notification.title == in_portal_language(
        "Proposal for your need: %(need)s", need=need.title
    )
    assert notification.body.splitlines() == [
        in_portal_language(
            "%(department)s proposes “%(offering)s” for your need.",
            department=fire.name,
            offering=INSPECTION,
        ),
        in_portal_language("Note: %(note)s", note="下周可以安排"),
    ]
    assert notification.url == f"/needs/{need.pk}/"


def test_a_decline_goes_to_the_community_with_its_reason(
    committed, operator, emergency, need
):
    with committed():
        need_respond(
            need_id=need.pk,
            user=staff_of(emergency),
            kind=NeedResponseKind.DECLINE,
            note="建议找消防救援支队",
        )
    assert told() == {operator.pk}
    assert Notification.objects.get().body == in_portal_language(
        "%(department)s will not answer your need. Reason: %(note)s",
        department=emergency.name,
        note="建议找消防救援支队",
    )


def test_accepting_a_scheduled_proposal_tells_the_proposing_department_once(
    committed, operator, fire, fire_staff, emergency, need
):
    staff_of(emergency)
    response = propose(need, fire_staff[0], TRAINING)
    with committed():
        accept(response, operator)
    assert told() == pks(fire_staff)
    notification = Notification.objects.filter(recipient__in=fire_staff).first()
    assert notification.title == in_portal_language(
        "Proposal accepted: %(offering)s", offering=TRAINING
    )
    assert notification.url == f"/needs/{need.pk}/"
    # Accepting again changes nothing, and says nothing.
    with committed():
        accept(response, operator)
    assert Notification.objects.count() == len(fire_staff)


def test_the_order_for_an_accepted_session_is_told_as_an_order(
    committed, operator, fire, fire_staff, need
):
    response = propose(need, fire_staff[0], TRAINING)
    accept(response, operator)
    start = timezone.now() + timedelta(days=10)
    session = OfferingSession.objects.create(
        offering=response.offering,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        seats=50,
    )
    with committed():
        order = order_place(
            user=operator,
            offering=response.offering,
            session=session,
            participants=20,
            contact_name="王丽",
            contact_phone="13800000001",
        )
    need.refresh_from_db()
    assert need.state == NeedState.MATCHED
    assert [n.url for n in Notification.objects.all()] == [f"/orders/{order.pk}/"] * 2


def test_accepting_a_proposal_on_request_tells_the_department_only_of_the_order(
    committed, operator, community, fire, fire_staff, need
):
    response = propose(need, fire_staff[0], INSPECTION)
    with committed():
        order = accept(response, operator).order
    assert told() == pks(fire_staff)
    for user in fire_staff:
        notification = Notification.objects.get(recipient=user)
        assert notification.url == f"/orders/{order.pk}/"
        assert notification.title == in_portal_language(
            "New order from %(community)s: %(offering)s",
            community=community.name,
            offering=INSPECTION,
        )


@pytest.mark.parametrize("action", ["reject", "cancel"])
def test_a_failed_order_reopens_the_need_and_the_community_hears_once(
    committed, action, operator, fire_staff, need
):
    order = accept(propose(need, fire_staff[0], INSPECTION), operator).order
    with committed():
        order_transition(
            order_id=order.pk, user=fire_staff[0], action=action, reason="人手不足"
        )
    need.refresh_from_db()
    assert need.state == NeedState.OPEN
    # The order's own notification, which gives the reason; no second one for
    # the need.
    notification = Notification.objects.get()
    assert (notification.recipient, notification.url) == (
        operator,
        f"/orders/{order.pk}/",
    )
    assert "人手不足" in notification.body


def test_a_withdrawn_order_reopens_the_need_and_only_the_department_hears(
    committed, operator, fire, fire_staff, need
):
    order = accept(propose(need, fire_staff[0], INSPECTION), operator).order
    with committed():
        order_transition(order_id=order.pk, user=operator, action="withdraw")
    need.refresh_from_db()
    assert need.state == NeedState.OPEN
    assert told() == pks(fire_staff)
    assert Notification.objects.count() == len(fire_staff)


def test_closing_tells_the_departments_suggested_or_answering(
    committed, operator, street, fire, fire_staff, emergency, civil, need
):
    emergency_staff = staff_of(emergency)
    staff_of(civil)
    # Of the right line of work but not suggested: it joins by answering.
    latecomer = staff_of(department_of("消防", street.district, name="新建消防站"))
    need_respond(
        need_id=need.pk,
        user=latecomer,
        kind=NeedResponseKind.DECLINE,
        note="本站辖区不含该社区",
    )
    with committed():
        need_close(need_id=need.pk, user=operator, reason="街道已协调解决")
    assert told() == pks(fire_staff) | {emergency_staff.pk, latecomer.pk}
    notification = Notification.objects.get(recipient=latecomer)
    assert notification.title == in_portal_language(
        "Need closed: %(need)s", need=need.title
    )
    assert "街道已协调解决" in notification.body


def test_a_step_rolled_back_tells_nobody(committed, operator, fire, fire_staff):
    with committed(), suppress(RuntimeError), transaction.atomic():
        need = post(operator)
        propose(need, fire_staff[0], INSPECTION)
        raise RuntimeError
    assert not Notification.objects.exists()


# Messages ---------------------------------------------------------------------


def test_a_communitys_message_on_a_need_goes_to_the_departments_in_its_conversation(
    committed, operator, community, fire, fire_staff, emergency, civil, need
):
    UserFactory(role=Role.COMMUNITY_OPERATOR, region=community)
    emergency_staff = staff_of(emergency)
    staff_of(civil)
    with committed():
        message_post(thread=need, user=operator, body="能否下周来现场看看？")
    assert told() == pks(fire_staff) | {emergency_staff.pk}
    notification = Notification.objects.get(recipient=emergency_staff)
    assert notification.title == in_portal_language(
        "New message about the need “%(need)s”", need=need.title
    )
    assert notification.body == in_portal_language(
        "%(unit)s: %(message)s", unit=community.name, message="能否下周来现场看看？"
    )
    assert notification.url == f"/needs/{need.pk}/#conversation"


def test_a_departments_message_on_a_need_goes_to_the_community_only(
    committed, operator, community, fire, fire_staff, emergency, need
):
    colleague = UserFactory(role=Role.COMMUNITY_OPERATOR, region=community)
    staff_of(emergency)
    with committed():
        message_post(thread=need, user=fire_staff[0], body="周三上午可以。")
    assert told() == {operator.pk, colleague.pk}
    assert Notification.objects.get(recipient=operator).body == in_portal_language(
        "%(unit)s: %(message)s", unit=fire.name, message="周三上午可以。"
    )


def test_order_messages_go_to_the_other_side_of_the_order(
    committed, operator, department, publisher, approver
):
    page, session = scheduled_offering(department)
    order = order_place(
        user=operator,
        offering=page,
        session=session,
        participants=10,
        contact_name="王丽",
        contact_phone="13800000001",
    )
    with committed():
        message_post(thread=order, user=operator, body="请带投影仪")
    assert told() == {publisher.pk, approver.pk}
    notification = Notification.objects.get(recipient=approver)
    assert notification.title == in_portal_language(
        "New message about the order “%(offering)s”", offering=page.title
    )
    assert notification.url == f"/orders/{order.pk}/#conversation"
    Notification.objects.all().delete()
    with committed():
        message_post(thread=order, user=publisher, body="好的")
    assert told() == {operator.pk}


def test_a_long_message_is_quoted_by_its_first_characters_on_one_line(
    committed, operator, community, fire_staff, need
):
    body = "第一行说明情况。\n\n" + "具体要求如下" * 20
    with committed():
        message_post(thread=need, user=operator, body=body)
    quoted = Notification.objects.first().body.removeprefix(
        in_portal_language("%(unit)s: %(message)s", unit=community.name, message="")
    )
    assert len(quoted) == 60
    assert quoted.startswith("第一行说明情况。 具体要求如下")


def test_a_message_rolled_back_tells_nobody(committed, operator, fire_staff, need):
    with committed(), suppress(RuntimeError), transaction.atomic():
        message_post(thread=need, user=operator, body="这条不算")
        raise RuntimeError
    assert not Notification.objects.exists()
