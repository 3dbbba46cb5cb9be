from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from portal import navigation
        from portal.signals import units_changed

        units_changed.connect(_follow_units, dispatch_uid="catalog_follow_units")
        navigation.register(_catalog_navigation)


def _catalog_navigation(request):
    from catalog.models import CatalogIndexPage

    index = CatalogIndexPage.objects.live().first()
    return [(_("Catalog"), index.url)] if index else []


def _follow_units(*, department_ids, user_ids, **kwargs) -> None:
    # Departments first, so that the groups the staff join exist.
    from catalog.services import department_catalog_sync, department_staff_groups_sync

    department_catalog_sync(department_ids=department_ids)
    department_staff_groups_sync(user_ids=user_ids)
