"""Bookings and the index: seats taken or freed and orders counted index the
offering again only where documents hold them (Elasticsearch), once per
transaction; the database engine, which reads them live, is left alone."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

import search.backends
from catalog.models import OfferingSession
from catalog.services import (
    offering_demand_add,
    session_seats_release,
    session_seats_take,
)
from search.backends.database import DatabaseEngine
from search.models import IndexedOffering
from tests.catalog.helpers import corner, offering

pytestmark = pytest.mark.django_db


class RecordingEngine:
    """Stands in for the Elasticsearch engine: keeps what it is sent."""

    name = "elasticsearch"
    stores_bookings = True

    def __init__(self):
        self.written = []

    def index(self, documents):
        documents = list(documents)
        self.written.append(documents)
        return len(documents)

    def remove(self, offering_ids):
        self.written.append([("removed", offering_ids)])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the change defers to after commit, as a committed request would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def page(department, committed):
    with committed():
        page = offering(corner(department))
    start = timezone.now() + timedelta(days=3)
    OfferingSession.objects.create(
        offering=page, starts_at=start, ends_at=start + timedelta(hours=2), seats=1
    )
    return page


@pytest.fixture
def database_writes(monkeypatch):
    """Documents the database engine was asked to write."""
    written = []
    original = DatabaseEngine.index

    def index(self, documents):
        documents = list(documents)
        written.extend(documents)
        return original(self, documents)

    monkeypatch.setattr(DatabaseEngine, "index", index)
    return written


@pytest.fixture
def elasticsearch(settings, monkeypatch):
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    settings.SEARCH_ENGINE = "elasticsearch"
    engine = RecordingEngine()
    monkeypatch.setattr(search.backends, "_elasticsearch_engine", lambda url: engine)
    return engine


def book(page):
    """What placing an order does to the catalog: a seat and a count."""
    session = page.sessions.get()
    with transaction.atomic():
        taken = session_seats_take(session_id=session.pk, seats=1)
        offering_demand_add(offering_id=page.pk)
    return taken


def test_with_the_database_engine_alone_a_booking_indexes_nothing(
    page, committed, database_writes
):
    indexed = IndexedOffering.objects.get(pk=page.pk)
    with committed() as callbacks:
        assert book(page)
    assert callbacks == []
    assert database_writes == []
    assert IndexedOffering.objects.get(pk=page.pk).title == indexed.title


def test_elasticsearch_gets_the_booked_offering_once_per_transaction(
    page, committed, database_writes, elasticsearch
):
    with committed():
        assert book(page)
    [documents] = elasticsearch.written
    [document] = documents
    # The one session is full now, and the offering was ordered once.
    assert (document.offering_id, document.orders_placed) == (page.pk, 1)
    assert document.open_session_starts == ()
    assert len(document.session_starts) == 1
    assert database_writes == []


def test_an_order_that_takes_no_seat_still_counts_in_elasticsearch(
    page, committed, elasticsearch
):
    with committed():
        book(page)
    with committed():
        # The session is full: the order waits, but the offering was ordered.
        assert not book(page)
    assert [docs[0].orders_placed for docs in elasticsearch.written] == [1, 2]


def test_freed_seats_reach_elasticsearch(page, committed, elasticsearch):
    with committed():
        book(page)
    session = page.sessions.get()
    with committed():
        session_seats_release(session_id=session.pk, seats=1)
    assert len(elasticsearch.written) == 2
    assert elasticsearch.written[-1][0].open_session_starts == (session.starts_at,)


def test_a_booking_rolled_back_indexes_nothing(page, committed, elasticsearch):
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        book(page)
        raise RuntimeError
    assert elasticsearch.written == []
