from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from portal.models import User
from portal.services import account_invitation_url


class Command(BaseCommand):
    help = (
        "Print a one-time set-password link for each account named, e.g. for "
        "someone who forgot their password. The current password keeps working "
        "until the link is used."
    )

    def add_arguments(self, parser):
        parser.add_argument("usernames", nargs="+")

    def handle(self, *args, usernames: list[str], **options):
        users = {
            user.username: user for user in User.objects.filter(username__in=usernames)
        }
        unknown = [name for name in usernames if name not in users]
        if unknown:
            raise CommandError(
                _("Unknown user: %(user)s") % {"user": "、".join(unknown)}
            )
        for username in usernames:
            user = users[username]
            self.stdout.write(
                _("Set-password link for %(username)s (%(name)s): %(url)s")
                % {
                    "username": username,
                    "name": user.name,
                    "url": account_invitation_url(user),
                }
            )
