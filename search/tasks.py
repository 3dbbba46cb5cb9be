"""Background work of the search app; enqueued after the transaction that caused it."""

from django_tasks import task

from search.services import bookings_reindex, index_rebuild, offerings_reindex


@task()
def offerings_index(*, offering_ids: list[int]) -> int:
    """Bring the index of these offerings in line with the catalog."""
    return offerings_reindex(offering_ids=offering_ids)


@task()
def bookings_index(*, offering_ids: list[int], session_ids: list[int]) -> int:
    """Index again, where documents hold seats and orders placed, the
    offerings whose bookings changed: these and those of these sessions."""
    return bookings_reindex(offering_ids=offering_ids, session_ids=session_ids)


@task()
def index_replace() -> int:
    """Index every orderable offering anew, e.g. after the dictionary changed
    how texts are cut; searches keep answering from the old index meanwhile."""
    return index_rebuild()
