"""The inbox (站内信) and the mail that follows it: notifications are written
after commit, each user sees only their own, and mail goes out at once or in a
daily digest as the user chose."""

import re
from contextlib import suppress
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.models import MailPreference, Notification, Role
from portal.services import notifications_digest_send, notify
from portal.tasks import notifications_digest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_on(settings):
    settings.PORTAL_MAIL_NOTIFICATIONS = True


def note(user, title="新点单", *, hours_ago=0, read=False, **fields):
    created = timezone.now() - timedelta(hours=hours_ago)
    return Notification.objects.create(
        recipient=user,
        title=title,
        created_at=created,
        read_at=created if read else None,
        **fields,
    )


def test_notifications_are_written_only_when_the_transaction_commits(
    operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        notify(users=[operator], title="点单已受理", body="详情", url="/orders/1/")
        assert not Notification.objects.exists()
    for callback in callbacks:
        callback()
    notification = Notification.objects.get()
    assert (notification.recipient, notification.title, notification.url) == (
        operator,
        "点单已受理",
        "/orders/1/",
    )
    assert notification.read_at is None


def test_a_rolled_back_change_notifies_nobody(
    operator, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        suppress(RuntimeError),
        transaction.atomic(),
    ):
        notify(users=[operator], title="点单已受理")
        raise RuntimeError
    assert not Notification.objects.exists()


def test_a_queryset_of_recipients_is_read_after_commit_and_once_per_user(
    operator, publisher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            users=[operator, operator, publisher],
            title="两人各一条",
        )
    assert sorted(Notification.objects.values_list("recipient", flat=True)) == sorted(
        [operator.pk, publisher.pk]
    )


def test_the_inbox_shows_the_users_own_notifications_unread_first(client, operator):
    someone_else = UserFactory(role=Role.COMMUNITY_OPERATOR)
    note(operator, "旧的已读", hours_ago=1, read=True)
    note(operator, "新的未读", hours_ago=2)
    note(someone_else, "别人的通知")
    client.force_login(operator)
    text = client.get(reverse("inbox")).text
    assert "别人的通知" not in text
    assert text.index("新的未读") < text.index("旧的已读")


def test_another_users_notification_is_a_404(client, operator):
    theirs = note(UserFactory(role=Role.COMMUNITY_OPERATOR), "别人的通知")
    client.force_login(operator)
    assert client.get(reverse("inbox_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, operator):
    notification = note(operator, url="/orders/7/")
    client.force_login(operator)
    response = client.get(reverse("inbox_open", args=[notification.pk]))
    assert response.status_code == 302
    assert response.url == "/orders/7/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_link_off_the_site_is_not_followed(client, operator):
    notification = note(operator, url="https://example.com/phish")
    client.force_login(operator)
    response = client.get(reverse("inbox_open", args=[notification.pk]))
    assert response.url == reverse("inbox")


def test_mark_all_read(client, operator):
    mine = [note(operator), note(operator)]
    theirs = note(UserFactory(role=Role.COMMUNITY_OPERATOR))
    client.force_login(operator)
    assert client.get(reverse("inbox_read_all")).status_code == 405
    client.post(reverse("inbox_read_all"))
    assert all(Notification.objects.get(pk=n.pk).read_at is not None for n in mine)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_inbox_is_paginated(client, operator):
    for number in range(23):
        note(operator, f"通知{number:02d}", hours_ago=number)
    client.force_login(operator)
    first = client.get(reverse("inbox")).text
    second = client.get(reverse("inbox") + "?page=2").text
    assert "通知00" in first and "通知19" in first and "通知20" not in first
    assert "通知20" in second and "通知22" in second and "通知00" not in second


def test_the_header_counts_unread_notifications(client, operator):
    note(operator)
    note(operator)
    note(operator, read=True)
    client.force_login(operator)
    text = client.get(reverse("my_unit")).text
    assert f'href="{reverse("inbox")}"' in text
    assert '<span class="nav-count">2<' in text


def test_the_header_shows_no_count_when_all_is_read(client, operator):
    note(operator, read=True)
    client.force_login(operator)
    assert "nav-count" not in client.get(reverse("my_unit")).text


def test_the_inbox_needs_signing_in(client):
    assert client.get(reverse("inbox")).status_code == 302


def test_mail_at_once_goes_out_on_commit(
    mail_on, operator, publisher, django_capture_on_commit_callbacks
):
    operator.notification_mail = MailPreference.IMMEDIATE
    operator.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[operator, publisher], title="点单已受理", url="/orders/3/")
        assert mail.outbox == []
    assert [message.to for message in mail.outbox] == [[operator.email]]
    assert "点单已受理" in mail.outbox[0].subject
    assert "http://127.0.0.1:8000/orders/3/" in mail.outbox[0].body
    assert Notification.objects.get(recipient=operator).mailed_at is not None
    assert Notification.objects.get(recipient=publisher).mailed_at is None


def test_no_mail_where_no_mail_server_is_configured(
    settings, operator, django_capture_on_commit_callbacks
):
    settings.PORTAL_MAIL_NOTIFICATIONS = False
    operator.notification_mail = MailPreference.IMMEDIATE
    operator.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify(users=[operator], title="点单已受理")
    assert mail.outbox == []
    assert notifications_digest_send() == 0
    assert Notification.objects.filter(recipient=operator).exists()


def test_the_digest_mails_each_user_their_unread_notifications_of_the_last_day(
    mail_on, operator, publisher
):
    note(operator, "昨天下午的通知", hours_ago=20)
    note(operator, "今天早上的通知", hours_ago=1)
    note(operator, "已经读过的通知", hours_ago=2, read=True)
    note(operator, "两天前的通知", hours_ago=49)
    note(publisher, "部门的通知", hours_ago=3)
    never = UserFactory(notification_mail=MailPreference.NEVER)
    note(never, "不要邮件")
    at_once = UserFactory(notification_mail=MailPreference.IMMEDIATE)
    note(at_once, "即时发送的通知")
    note(UserFactory(email=""), "没有邮箱")

    assert notifications_digest_send() == 2

    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {operator.email, publisher.email}
    body = by_address[operator.email].body
    assert "昨天下午的通知" in body and "今天早上的通知" in body
    assert "已经读过的通知" not in body and "两天前的通知" not in body
    assert body.index("昨天下午的通知") < body.index("今天早上的通知")
    assert "http://127.0.0.1:8000/inbox/" in body


def test_the_digest_sends_nothing_twice(mail_on, operator):
    note(operator, hours_ago=3)
    assert notifications_digest_send() == 1
    assert notifications_digest_send() == 0
    note(operator, "新来的", hours_ago=0)
    assert notifications_digest_send(now=timezone.now() + timedelta(minutes=1)) == 1
    assert "新来的" in mail.outbox[-1].body
    assert len(mail.outbox) == 2


def test_the_digest_command(mail_on, operator, capsys):
    note(operator, hours_ago=3)
    call_command("notifications_digest")
    assert len(mail.outbox) == 1
    assert "1" in capsys.readouterr().out


def test_the_user_chooses_when_mail_comes(mail_on, client, operator):
    client.force_login(operator)
    assert re.search(r'value="daily"[^>]* checked', client.get(reverse("inbox")).text)
    client.post(reverse("inbox_mail"), {"notification_mail": "immediate"})
    operator.refresh_from_db()
    assert operator.notification_mail == MailPreference.IMMEDIATE
    client.post(reverse("inbox_mail"), {"notification_mail": "hourly"})
    operator.refresh_from_db()
    assert operator.notification_mail == MailPreference.IMMEDIATE


def test_no_mail_choice_without_a_mail_server(client, operator):
    client.force_login(operator)
    assert "notification_mail" not in client.get(reverse("inbox")).text


def test_daily_digest_is_the_default():
    assert UserFactory().notification_mail == MailPreference.DAILY


def test_the_digest_task(mail_on, operator):
    note(operator, hours_ago=3)
    assert notifications_digest.enqueue().return_value == 1
