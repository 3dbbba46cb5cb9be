from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from portal.admin_views import IMPORT_PERMISSION, UnitsImportView, units_import_example
from portal.models import Department, DepartmentFamily, Region


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


class RegionViewSet(ModelViewSet):
    """Browse the org tree. Its structure changes only through the import, which
    keeps the ancestor columns right; here only descriptive fields are editable."""

    model = Region
    icon = "site"
    menu_label = _("Regions")
    list_display = ["name", "code", "level", "parent", "community_type"]
    list_filter = ["level", "community_type"]
    search_fields = ["name", "code"]
    search_backend_name = None
    form_fields = ["name", "households", "population"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "code",
        "name",
        "level",
        "parent",
        "community_type",
        "households",
        "population",
    ]


class DepartmentViewSet(ModelViewSet):
    model = Department
    icon = "group"
    menu_label = _("Departments")
    list_display = ["name", "code", "kind", "family", "region"]
    list_filter = ["kind", "family"]
    search_fields = ["name", "code"]
    search_backend_name = None
    form_fields = ["name", "family", "duties"]
    inspect_view_enabled = True
    inspect_view_fields = ["code", "name", "kind", "family", "region", "duties"]


class DepartmentFamilyViewSet(ModelViewSet):
    """The lines of work used for peer-group ranking; administrators extend them."""

    model = DepartmentFamily
    icon = "tag"
    menu_label = _("Department families")
    list_display = ["name", "sort_order"]
    search_fields = ["name"]
    search_backend_name = None
    form_fields = ["name", "sort_order"]


class OrgTreeViewSetGroup(ModelViewSetGroup):
    menu_label = _("Org tree")
    menu_icon = "site"
    menu_order = 250
    items = (RegionViewSet, DepartmentViewSet, DepartmentFamilyViewSet)


@hooks.register("register_admin_viewset")
def register_org_tree_viewsets():
    return OrgTreeViewSetGroup()
