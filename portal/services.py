"""State changes of the org tree and accounts. Views, commands and importers call these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from itertools import groupby

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import MailPreference, Notification, User
from portal.roles import ROLE_GROUP_NAMES, ROLE_PERMISSIONS
from portal.selectors import notification_of, unread_count_cache_key


def role_groups_sync(*, using: str = "default") -> None:
    """Create the group of every role and give it exactly the permissions in
    ``portal.roles.ROLE_PERMISSIONS``. Idempotent; runs after every migrate.

    Permissions that do not exist yet (an app not migrated) are skipped and
    picked up by the next run.
    """
    for role, group_name in ROLE_GROUP_NAMES.items():
        group, _created = Group.objects.using(using).get_or_create(name=group_name)
        wanted = []
        for dotted in ROLE_PERMISSIONS[role]:
            app_label, codename = dotted.split(".")
            wanted.extend(
                Permission.objects.using(using).filter(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)


def role_groups_assign(*, users: Iterable[User]) -> None:
    """Make each user's role group membership match its role, keeping any other
    groups (for example a department's own editor group)."""
    role_groups = {
        group.name: group
        for group in Group.objects.filter(name__in=ROLE_GROUP_NAMES.values())
    }
    memberships = User.groups.through
    users = list(users)
    memberships.objects.filter(user__in=users, group__in=role_groups.values()).delete()
    memberships.objects.bulk_create(
        [
            memberships(
                user_id=user.pk, group_id=role_groups[ROLE_GROUP_NAMES[user.role]].pk
            )
            for user in users
            if ROLE_GROUP_NAMES.get(user.role) in role_groups
        ]
    )


def account_invitation_url(user: User) -> str:
    """A one-time link with which the account's owner sets a password.

    The token is bound to the current password hash, so it stops working as
    soon as it has been used; it also expires after PASSWORD_RESET_TIMEOUT.
    """
    path = reverse(
        "account_activate",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return f"{settings.PORTAL_BASE_URL}{path}"


# Notifications. Every app tells users about their work through ``notify``;
# the rest of this part is the inbox and the mail that follows it.


def notify(*, users: Iterable[User], title: str, body: str = "", url: str = "") -> None:
    """Put a notification in the inbox of each of ``users`` once the current
    transaction commits (at once outside a transaction); nothing is written
    if it rolls back. ``users`` may be a queryset: it is read after the commit.

    Where mail is configured (``PORTAL_MAIL_NOTIFICATIONS``), those who chose
    mail at once get it through a task enqueued then; the others get it in the
    daily digest (``notifications_digest_send``) or not by mail at all.

    ``title`` and ``body`` are plain text in the language the recipients read
    (the portal's ``LANGUAGE_CODE``); ``url`` is a path inside the portal.
    """
    # robust: the change that caused the notification is committed already; a
    # failure here is logged instead of turning that success into an error page.
    transaction.on_commit(
        partial(_notifications_create, users, title, body, url), robust=True
    )


def _notifications_create(
    users: Iterable[User], title: str, body: str, url: str
) -> None:
    recipients = list({user.pk: user for user in users}.values())
    if not recipients:
        return
    now = timezone.now()
    created = Notification.objects.bulk_create(
        Notification(
            recipient=user,
            title=Truncator(title).chars(200),
            body=body,
            url=url,
            created_at=now,
        )
        for user in recipients
    )
    _unread_counts_forget([user.pk for user in recipients])
    if not settings.PORTAL_MAIL_NOTIFICATIONS:
        return
    at_once = [
        notification.pk
        for notification in created
        if notification.recipient.notification_mail == MailPreference.IMMEDIATE
        and notification.recipient.email
    ]
    if at_once:
        # Imported here: portal.tasks imports this module.
        from portal.tasks import notifications_mail

        notifications_mail.enqueue(notification_ids=at_once)


def notification_open(*, user: User, notification_id: int) -> Notification:
    """One of ``user``'s notifications, marked read if it was not yet.
    Raises Http404 for a notification of someone else."""
    notification = notification_of(user=user, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
        _unread_counts_forget([user.pk])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    """Mark all of ``user``'s notifications read; returns how many were unread."""
    count = Notification.objects.filter(
        recipient_id=user.pk, read_at__isnull=True
    ).update(read_at=timezone.now())
    if count:
        _unread_counts_forget([user.pk])
    return count


def notification_mail_set(*, user: User, preference: str) -> None:
    """Choose when ``user``'s notifications are e-mailed (a ``MailPreference``)."""
    if preference not in MailPreference.values:
        raise ValueError(preference)
    user.notification_mail = preference
    user.save(update_fields=["notification_mail"])


def notifications_mail_send(*, notification_ids: list[int]) -> int:
    """E-mail each of these notifications to its recipient, one message each,
    in the portal's language; those read or mailed in the meantime, and those
    of recipients without an address, are skipped. Returns the number sent."""
    pending = (
        Notification.objects.filter(
            pk__in=notification_ids, read_at__isnull=True, mailed_at__isnull=True
        )
        .exclude(recipient__email="")
        .select_related("recipient")
        .order_by("pk")
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE), get_connection() as mailer:
        for notification in pending:
            EmailMessage(
                _("[Diandan] %(title)s") % {"title": notification.title},
                render_to_string(
                    "portal/email/notification.txt",
                    {
                        "notification": notification,
                        "user": notification.recipient,
                        "link": _absolute(notification.url),
                        "inbox": _absolute(reverse("inbox")),
                    },
                ),
                settings.DEFAULT_FROM_EMAIL,
                [notification.recipient.email],
                connection=mailer,
            ).send()
            _mark_mailed([notification.pk])
            sent += 1
    return sent


def notifications_digest_send(*, now: datetime | None = None) -> int:
    """E-mail each user who chose the daily digest their notifications of the
    last 24 hours that are still unread and were not mailed yet: one message
    per user, in the portal's language. Returns the number of messages sent.

    Meant to run once a day (``manage.py notifications_digest``). Each
    notification is marked as mailed right after its message went out, so a
    second run the same day sends nothing again, and a run stopped by a mail
    server error sends only the rest when run again. Sends nothing where mail
    is not configured (``PORTAL_MAIL_NOTIFICATIONS``).
    """
    if not settings.PORTAL_MAIL_NOTIFICATIONS:
        return 0
    now = now or timezone.now()
    pending = (
        Notification.objects.filter(
            read_at__isnull=True,
            mailed_at__isnull=True,
            created_at__gt=now - timedelta(days=1),
            created_at__lte=now,
            recipient__notification_mail=MailPreference.DAILY,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .select_related("recipient")
        .order_by("recipient_id", "created_at", "pk")
    )
    sent = 0
    with translation.override(settings.LANGUAGE_CODE), get_connection() as mailer:
        for _recipient_id, group in groupby(pending, key=lambda n: n.recipient_id):
            notifications = list(group)
            user = notifications[0].recipient
            count = len(notifications)
            EmailMessage(
                ngettext(
                    "[Diandan] %(count)s new notification",
                    "[Diandan] %(count)s new notifications",
                    count,
                )
                % {"count": count},
                render_to_string(
                    "portal/email/notifications_digest.txt",
                    {
                        "user": user,
                        "items": [
                            (
                                notification.title,
                                # Indented under its title, line by line.
                                notification.body.replace("\n", "\n   "),
                                _absolute(notification.url),
                            )
                            for notification in notifications
                        ],
                        "inbox": _absolute(reverse("inbox")),
                    },
                ),
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
                connection=mailer,
            ).send()
            _mark_mailed([notification.pk for notification in notifications])
            sent += 1
    return sent


def _mark_mailed(notification_ids: list[int]) -> None:
    Notification.objects.filter(pk__in=notification_ids).update(
        mailed_at=timezone.now()
    )


def _absolute(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{path}" if path.startswith("/") else path


def _unread_counts_forget(user_ids: list[int]) -> None:
    keys = [unread_count_cache_key(user_id) for user_id in user_ids]
    transaction.on_commit(lambda: cache.delete_many(keys))
