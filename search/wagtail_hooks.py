from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from search.models import DomainTerm, SynonymGroup


class DomainTermViewSet(SnippetViewSet):
    """Words the search keeps whole; administrators add the ones of their work."""

    model = DomainTerm
    icon = "pilcrow"
    menu_label = _("Domain terms")
    list_display = ["word", "note"]
    search_fields = ["word", "note"]
    search_backend_name = None


class SynonymGroupViewSet(SnippetViewSet):
    """Words a search treats as one; administrators add the ones users type."""

    model = SynonymGroup
    icon = "link"
    menu_label = _("Synonyms")
    list_display = ["words", "note"]
    search_fields = ["words", "note"]
    search_backend_name = None


class SearchDictionaryViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Search dictionary")
    menu_icon = "search"
    menu_order = 270
    items = (DomainTermViewSet, SynonymGroupViewSet)


register_snippet(SearchDictionaryViewSetGroup)
