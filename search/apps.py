from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from catalog import browsing
        from search import analysis, receivers
        from search.backends import answering_engine

        analysis.connect()
        receivers.connect()
        browsing.register_engine(answering_engine)
