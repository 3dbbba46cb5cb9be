"""Which engine answers and which engines are kept up to date, from settings.

``SEARCH_ENGINE`` names the engine that answers (``database`` or
``elasticsearch``; by default ``elasticsearch`` when ``ELASTICSEARCH_URL`` is
set). The database engine's index is always kept too: when Elasticsearch
cannot be reached, the database engine answers and a warning is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache

from django.conf import settings

from catalog.browsing import BrowseQuery, BrowseResults
from search.backends.base import SearchEngine, SearchUnavailable

logger = logging.getLogger("search")


def answering_engine() -> SearchEngine | FallbackEngine:
    """The engine that answers searches."""
    database = _database_engine()
    if _engine_name() == "elasticsearch":
        return FallbackEngine(
            _elasticsearch_engine(settings.ELASTICSEARCH_URL), database
        )
    return database


def indexing_engines(*, bookings_only: bool = False) -> list[SearchEngine]:
    """The engines whose index follows the catalog: the database engine
    always, Elasticsearch too when it answers. ``bookings_only``: only those
    whose documents hold what bookings change (``stores_bookings``), which
    may be none."""
    engines: list[SearchEngine] = [_database_engine()]
    if _engine_name() == "elasticsearch":
        engines.append(_elasticsearch_engine(settings.ELASTICSEARCH_URL))
    if bookings_only:
        return [engine for engine in engines if engine.stores_bookings]
    return engines


def _engine_name() -> str:
    name = settings.SEARCH_ENGINE or (
        "elasticsearch" if settings.ELASTICSEARCH_URL else "database"
    )
    if name not in ("database", "elasticsearch"):
        raise ValueError(f"Unknown SEARCH_ENGINE {name!r}")
    return name


@cache
def _database_engine() -> SearchEngine:
    from search.backends.database import DatabaseEngine

    return DatabaseEngine()


@cache
def _elasticsearch_engine(url: str) -> SearchEngine:
    # One client (and connection pool) per process and address.
    from search.backends.elasticsearch import ElasticsearchEngine

    return ElasticsearchEngine(url)


class FallbackEngine:
    """Answers from ``primary``; when it cannot be reached, from ``fallback``,
    with a warning in the log — a search never fails because a server is
    down."""

    def __init__(self, primary: SearchEngine, fallback: SearchEngine) -> None:
        self.primary = primary
        self.fallback = fallback

    def browse(self, query: BrowseQuery) -> BrowseResults:
        try:
            return self.primary.browse(query)
        except SearchUnavailable as error:
            logger.warning(
                "%s unavailable, answering from the database: %s",
                self.primary.name,
                error,
            )
            return self.fallback.browse(query)

    def autocomplete(self, prefix: str, *, limit: int = 8) -> list[str]:
        try:
            return self.primary.autocomplete(prefix, limit=limit)
        except SearchUnavailable as error:
            logger.warning(
                "%s unavailable, answering from the database: %s",
                self.primary.name,
                error,
            )
            return self.fallback.autocomplete(prefix, limit=limit)


__all__: Sequence[str] = ["FallbackEngine", "answering_engine", "indexing_engines"]
