"""State changes of the org tree and accounts. Views, commands and importers call these."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.models import User
from portal.roles import ROLE_GROUP_NAMES, ROLE_PERMISSIONS


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
