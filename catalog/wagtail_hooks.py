from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

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
