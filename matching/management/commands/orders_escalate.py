from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from matching.services import orders_escalate


class Command(BaseCommand):
    help = (
        "Escalate the orders left unanswered for ORDER_ANSWER_WORKING_DAYS "
        "working days to the street office and the organization department. "
        "Run it every hour, e.g. from cron; an order is escalated only once."
    )

    def handle(self, *args, **options):
        escalated = orders_escalate()
        self.stdout.write(
            _("Orders escalated (unanswered for %(days)s working days): %(count)s")
            % {"days": settings.ORDER_ANSWER_WORKING_DAYS, "count": len(escalated)}
        )
