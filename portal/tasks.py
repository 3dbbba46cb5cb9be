"""Background work of the portal app; enqueued after the transaction that caused it."""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from portal.models import User
from portal.services import (
    account_invitation_url,
    notifications_digest_send,
    notifications_mail_send,
)


@task()
def invitations_mail(*, usernames: list[str]) -> int:
    """E-mail a set-password link to each of these accounts that has an address.

    Accounts that set a password in the meantime are skipped. Returns the
    number of messages sent.
    """
    with translation.override(settings.LANGUAGE_CODE):
        messages = [
            (
                _("Your Diandan account"),
                render_to_string(
                    "portal/email/invitation.txt",
                    {"user": user, "url": account_invitation_url(user)},
                ),
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
            )
            for user in User.objects.filter(username__in=usernames).exclude(email="")
            if not user.has_usable_password()
        ]
    return send_mass_mail(messages, fail_silently=False)


@task()
def notifications_mail(*, notification_ids: list[int]) -> int:
    """E-mail these notifications at once, one message each (users who chose
    mail at once). Returns the number of messages sent."""
    return notifications_mail_send(notification_ids=notification_ids)


@task()
def notifications_digest() -> int:
    """The daily digest of unread notifications, one message per user; for a
    scheduler that runs tasks (cron runs ``manage.py notifications_digest``)."""
    return notifications_digest_send()
