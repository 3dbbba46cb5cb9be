"""The index follows the catalog: after a publish, unpublish, move or delete
commits, the offerings concerned are indexed again in the background; after
the dictionary changes, everything is; after a booking (seats taken or freed,
an order counted), only engines whose documents hold bookings index the
offering again, once per transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import post_delete
from wagtail.signals import page_published, page_unpublished, post_page_move

from catalog.models import CatalogEntry, OfferingPage
from catalog.signals import demand_changed, seats_changed
from portal.signals import units_changed
from search import analysis
from search.backends import indexing_engines
from search.tasks import bookings_index, index_replace, offerings_index


def connect() -> None:
    for signal in (page_published, page_unpublished, post_page_move, post_delete):
        signal.connect(_offering_changed, sender=OfferingPage)
    units_changed.connect(_units_changed, dispatch_uid="search_follow_units")
    analysis.dictionary_changed.connect(_dictionary_changed)
    # Elasticsearch stores which sessions have seats left and orders placed.
    seats_changed.connect(_seats_changed, dispatch_uid="search_follow_seats")
    demand_changed.connect(_demand_changed, dispatch_uid="search_follow_demand")


def offerings_index_after_commit(offering_ids: Iterable[int]) -> None:
    offering_ids = sorted(set(offering_ids))
    if offering_ids:
        transaction.on_commit(
            lambda: offerings_index.enqueue(offering_ids=offering_ids)
        )


def _offering_changed(*, instance: OfferingPage, **kwargs) -> None:
    offerings_index_after_commit([instance.pk])


def _units_changed(*, department_ids, **kwargs) -> None:
    # A renamed department changes the text of each of its offerings.
    offerings_index_after_commit(
        CatalogEntry.objects.filter(department_id__in=list(department_ids)).values_list(
            "pk", flat=True
        )
    )


def _dictionary_changed(**kwargs) -> None:
    # Sent after the commit: a changed word may cut indexed texts differently.
    index_replace.enqueue()


def _seats_changed(*, session_ids, **kwargs) -> None:
    _bookings_index_after_commit(session_ids=session_ids)


def _demand_changed(*, offering_ids, **kwargs) -> None:
    _bookings_index_after_commit(offering_ids=offering_ids)


class _BookingsIndex:
    """What bookings changed in the transaction under way, indexed again by
    one task once it commits. One order takes a seat and counts its
    offering's demand, one cancellation frees seats and promotes several
    waiting orders: each step sends a signal, and each would enqueue a task
    reindexing the same offering."""

    def __init__(self) -> None:
        self.offering_ids: set[int] = set()
        self.session_ids: set[int] = set()
        self.enqueued = False

    def __call__(self) -> None:
        self.enqueued = True
        bookings_index.enqueue(
            offering_ids=sorted(self.offering_ids),
            session_ids=sorted(self.session_ids),
        )


def _bookings_index_after_commit(
    *, offering_ids: Iterable[int] = (), session_ids: Iterable[int] = ()
) -> None:
    # The database engine reads seats and demand from the catalog's tables
    # when it answers: with it alone a booking has nothing to index, and
    # nothing is queued (rewriting its row would also take SQLite's write
    # lock once more after every booking).
    if not indexing_engines(bookings_only=True):
        return
    connection = transaction.get_connection()
    # This transaction's task, if a booking came earlier in it. Django drops
    # the callbacks of a savepoint that rolls back, so one found here will
    # run; ids added to it inside a savepoint that then rolls back are
    # indexed all the same, which only costs a document written again.
    pending = next(
        (
            callback
            for _savepoints, callback, _robust in connection.run_on_commit
            if isinstance(callback, _BookingsIndex) and not callback.enqueued
        ),
        None,
    )
    fresh = pending is None
    if fresh:
        pending = _BookingsIndex()
    pending.offering_ids.update(offering_ids)
    pending.session_ids.update(session_ids)
    if fresh:
        # Outside a transaction this runs at once, with the ids added above.
        transaction.on_commit(pending)
