"""Background work of the portal app; enqueued after the transaction that caused it."""

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks import task

from portal.models import User
from portal.services import account_invitation_url


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
