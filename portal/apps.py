from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from wagtail.users.apps import WagtailUsersAppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Org tree and accounts")

    def ready(self) -> None:
        # Permissions are created by each app's own post_migrate, after ours for
        # apps listed later, so the (cheap, idempotent) sync runs after every
        # app's signal and the last run sees them all.
        post_migrate.connect(_sync_role_groups, dispatch_uid="portal_role_groups")


def _sync_role_groups(**kwargs) -> None:
    from portal.services import role_groups_sync

    role_groups_sync(using=kwargs.get("using", "default"))


class PortalUsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's user admin, with forms that know about units and roles."""

    user_viewset = "portal.admin_views.PortalUserViewSet"
