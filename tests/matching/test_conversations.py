"""Conversations (in place of WeChat groups): one thread per order and per
need, read and written only by the community and the department(s)
answering; everyone else — another community, another department, the street
office that follows the need — neither reads nor posts."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from matching.models import Message, NeedResponseKind
from matching.need_selectors import may_converse, thread_conversation
from matching.need_services import (
    ERROR_MESSAGE_EMPTY,
    NeedError,
    message_post,
    need_respond,
)
from matching.services import order_place
from tests.factories import StreetFactory
from tests.matching.helpers import operator_of, scheduled_offering
from tests.matching.need_helpers import department_of, post, published, staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def fire(street, django_capture_on_commit_callbacks):
    brigade = department_of("消防", street.district, name="区消防救援支队")
    published(django_capture_on_commit_callbacks, brigade)
    return brigade


@pytest.fixture
def need(operator, fire):
    return post(operator)


@pytest.fixture
def order(operator, department):
    page, session = scheduled_offering(department)
    return order_place(
        user=operator,
        offering=page,
        session=session,
        participants=10,
        contact_name="王丽",
        contact_phone="13800000001",
    )


def test_the_community_and_a_suggested_department_talk_about_a_need(
    operator, fire, need
):
    staff = staff_of(fire)
    message_post(thread=need, user=operator, body="能否下周来现场看看？")
    message_post(thread=need, user=staff, body="周三上午可以。")
    conversation = thread_conversation(user=staff, thread=need)
    assert [
        (e.message.body, e.own, e.from_community) for e in conversation.entries
    ] == [
        ("能否下周来现场看看？", False, True),
        ("周三上午可以。", True, False),
    ]


def test_a_department_joins_the_conversation_by_answering(operator, street, need):
    latecomer = staff_of(department_of("消防", street.district, name="新消防站"))
    assert not may_converse(latecomer, need)
    need_respond(
        need_id=need.pk,
        user=latecomer,
        kind=NeedResponseKind.DECLINE,
        note="本站辖区不含该社区",
    )
    assert may_converse(latecomer, need)


def test_another_community_cannot_read_the_conversation(client, street, need):
    stranger = operator_of(street)
    assert thread_conversation(user=stranger, thread=need) is None
    client.force_login(stranger)
    response = client.post(
        reverse("need_message_post", args=[need.pk]), {"body": "我也想要"}
    )
    assert response.status_code == 404
    assert not Message.objects.exists()


def test_the_street_office_sees_the_need_but_not_the_conversation(
    client, operator, street_officer, need
):
    message_post(thread=need, user=operator, body="内部沟通")
    client.force_login(street_officer)
    page = client.get(reverse("need_detail", args=[need.pk])).content.decode()
    assert "楼道电动自行车飞线充电隐患排查" in page and "内部沟通" not in page
    response = client.post(
        reverse("need_message_post", args=[need.pk]), {"body": "街道插一句"}
    )
    assert response.status_code == 403


def test_another_department_cannot_post_to_an_order(order, street):
    outsider = staff_of(department_of("民政", street.district, name="另一个局"))
    with pytest.raises(PermissionDenied):
        message_post(thread=order, user=outsider, body="我们也能做")


def test_the_order_conversation_through_its_page(client, operator, publisher, order):
    client.force_login(operator)
    response = client.post(
        reverse("order_message_post", args=[order.pk]), {"body": "联系人改为李老师"}
    )
    assert response.status_code == 302
    assert response.url == reverse("order_detail", args=[order.pk]) + "#conversation"
    client.force_login(publisher)
    client.post(reverse("order_message_post", args=[order.pk]), {"body": "收到"})
    assert list(order.messages.values_list("author", "body")) == [
        (operator.pk, "联系人改为李老师"),
        (publisher.pk, "收到"),
    ]


def test_a_foreign_order_conversation_is_a_404(client, order):
    client.force_login(operator_of(StreetFactory()))
    response = client.post(
        reverse("order_message_post", args=[order.pk]), {"body": "你好"}
    )
    assert response.status_code == 404


def test_an_empty_message_is_refused(operator, need):
    with pytest.raises(NeedError) as error:
        message_post(thread=need, user=operator, body="  \n ")
    assert str(error.value) == str(ERROR_MESSAGE_EMPTY)


def test_a_message_belongs_to_exactly_one_thread(operator, need, order):
    with pytest.raises(IntegrityError):
        Message.objects.create(order=order, need=need, author=operator, body="两处")


def test_the_conversation_tag_renders_for_participants_only(
    operator, street_officer, order
):
    message_post(thread=order, user=operator, body="请带投影仪")
    template = Template("{% load conversations %}{% conversation order %}")
    for user, shown in ((operator, True), (street_officer, False)):
        request = RequestFactory().get("/")
        request.user = user
        html = template.render(Context({"request": request, "order": order}))
        assert ("请带投影仪" in html) is shown
        assert 'id="conversation"' in html
