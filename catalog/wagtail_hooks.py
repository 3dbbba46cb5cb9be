from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from catalog.admin_views import OfferingsImportView, offerings_import_example
from catalog.importers import offering_import_rights
from catalog.models import Category


class CategoryViewSet(SnippetViewSet):
    """The two-level subject taxonomy, kept as data that administrators extend."""

    model = Category
    icon = "list-ul"
    menu_label = _("Categories")
    list_display = ["name", "parent", "sort_order"]
    list_filter = ["parent"]
    search_fields = ["name"]
    search_backend_name = None
    ordering = ["parent__sort_order", "sort_order"]


register_snippet(CategoryViewSet)


@hooks.register("register_admin_urls")
def register_offerings_import_urls():
    return [
        path(
            "catalog/offerings/import/",
            OfferingsImportView.as_view(),
            name="catalog_offerings_import",
        ),
        path(
            "catalog/offerings/import/example.xlsx",
            offerings_import_example,
            name="catalog_offerings_import_example",
        ),
    ]


class _OfferingsImportMenuItem(MenuItem):
    def is_shown(self, request):
        return offering_import_rights(request.user) is not None


@hooks.register("register_menu_item")
def register_offerings_import_menu_item():
    return _OfferingsImportMenuItem(
        _("Import offerings"),
        reverse("catalog_offerings_import"),
        icon_name="upload",
        order=260,
    )
