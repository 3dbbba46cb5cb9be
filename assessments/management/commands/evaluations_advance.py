"""The daily schedule of reverse evaluation (``services.rounds_advance``)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from assessments.services import rounds_advance


class Command(BaseCommand):
    help = (
        "Open the evaluation rounds whose first day has come, remind the units "
        "of rounds closing within three days and close the rounds past their "
        "last day, computing their results. Run it once a day, e.g. from cron; "
        "a second run on the same day does nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = rounds_advance()
        self.stdout.write(
            _(
                "Evaluation rounds opened: %(opened)s, reminded: %(reminded)s, "
                "closed: %(closed)s"
            )
            % done
        )
