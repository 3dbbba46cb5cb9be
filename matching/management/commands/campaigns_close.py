from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from matching.campaign_services import campaigns_close_due


class Command(BaseCommand):
    help = (
        "Close the ordering campaigns whose closing day has passed and allocate "
        "their seats for the organizer's preview. Run it daily, e.g. from cron; "
        "a campaign is closed only once."
    )

    def handle(self, *args, **options):
        closed = campaigns_close_due()
        self.stdout.write(
            _("Campaigns closed and allocated: %(count)s") % {"count": len(closed)}
        )
