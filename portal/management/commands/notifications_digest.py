from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from portal.services import notifications_digest_send


class Command(BaseCommand):
    help = (
        "E-mail each user who chose the daily digest their unread notifications "
        "of the last 24 hours, one message each. Run it once a day, e.g. from "
        "cron at 8:00; a second run the same day sends nothing twice."
    )

    def handle(self, *args, **options):
        if not settings.PORTAL_MAIL_NOTIFICATIONS:
            self.stdout.write(
                _("No mail server is configured (EMAIL_HOST): nothing was sent.")
            )
            return
        sent = notifications_digest_send()
        self.stdout.write(_("Digests sent: %(count)s") % {"count": sent})
