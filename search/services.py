"""Keeping the search index true to the catalog."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from search import analysis
from search.backends import indexing_engines
from search.backends.base import Progress, SearchUnavailable
from search.documents import offering_documents, orderable_offering_ids

logger = logging.getLogger("search")


def offerings_reindex(*, offering_ids: Iterable[int]) -> int:
    """Index these offerings as they are now in every indexing engine: write
    the orderable ones, drop the others (paused, closed, unpublished,
    deleted). Returns how many documents were written to each engine."""
    offering_ids = list(offering_ids)
    documents = list(offering_documents(offering_ids))
    gone = set(offering_ids) - {document.offering_id for document in documents}
    for engine in indexing_engines():
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
