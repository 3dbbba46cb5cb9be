from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from portal.admin_views import IMPORT_PERMISSION, UnitsImportView, units_import_example


@hooks.register("register_admin_urls")
def register_units_import_urls():
    return [
        path("units/import/", UnitsImportView.as_view(), name="portal_units_import"),
        path(
            "units/import/example.xlsx",
            units_import_example,
            name="portal_units_import_example",
        ),
    ]


class _ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.has_perm(IMPORT_PERMISSION)


@hooks.register("register_settings_menu_item")
def register_units_import_menu_item():
    return _ImportMenuItem(
        _("Import units and accounts"),
        reverse("portal_units_import"),
        icon_name="upload",
        order=150,
    )
