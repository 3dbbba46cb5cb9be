"""Keeping the search index true to the catalog."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from catalog.models import OfferingSession
from search import analysis
from search.backends import indexing_engines
from search.backends.base import Progress, SearchUnavailable
from search.documents import offering_documents, orderable_offering_ids

logger = logging.getLogger("search")


def offerings_reindex(
    *, offering_ids: Iterable[int], bookings_only: bool = False
) -> int:
    """Index these offerings as they are now in every indexing engine, or with
    ``bookings_only`` in those whose documents hold seats and orders placed
    (none unless Elasticsearch answers): write the orderable ones, drop the
    others (paused, closed, unpublished, deleted). Returns how many documents
    were written to each engine."""
    engines = indexing_engines(bookings_only=bookings_only)
    if not engines:
        return 0
    offering_ids = list(offering_ids)
    documents = list(offering_documents(offering_ids))
    gone = set(offering_ids) - {document.offering_id for document in documents}
    for engine in engines:
        try:
            engine.index(documents)
            if gone:
                engine.remove(sorted(gone))
        except SearchUnavailable as error:
            # The database engine's index is written all the same and answers
            # meanwhile; the catalog must not fail because a server is down.
            logger.error(
                "%s not updated for offerings %s (%s); run "
                "`manage.py search_index update` once it is back.",
                engine.name,
                offering_ids,
                error,
            )
    return len(documents)


def bookings_reindex(
    *, offering_ids: Iterable[int] = (), session_ids: Iterable[int] = ()
) -> int:
    """Index again, in the engines whose documents hold seats and orders
    placed, the offerings whose bookings changed: ``offering_ids`` and the
    offerings of ``session_ids``. Returns how many documents were written to
    each engine (0 when no engine stores bookings)."""
    if not indexing_engines(bookings_only=True):
        return 0
    offering_ids = set(offering_ids)
    session_ids = list(session_ids)
    if session_ids:
        offering_ids.update(
            OfferingSession.objects.filter(pk__in=session_ids).values_list(
                "offering_id", flat=True
            )
        )
    return offerings_reindex(offering_ids=sorted(offering_ids), bookings_only=True)


def index_rebuild(*, progress: Progress | None = None) -> int:
    """Replace every indexing engine's index with documents of every orderable
    offering; searches keep answering from the old index meanwhile."""
    # Segment with the dictionary as it is now, not as this process read it.
    analysis.reload()
    written = 0
    for engine in indexing_engines():
        written = engine.rebuild(
            offering_documents(orderable_offering_ids()), progress=progress
        )
    return written
