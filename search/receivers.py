"""The index follows the catalog: after a publish, unpublish, move or delete
commits, the offerings concerned are indexed again in the background; after
the dictionary changes, everything is."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import post_delete
from wagtail.signals import page_published, page_unpublished, post_page_move

from catalog.models import CatalogEntry, OfferingPage
from catalog.signals import seats_changed
from portal.signals import units_changed
from search import analysis
from search.tasks import index_replace, offerings_index


def connect() -> None:
    for signal in (page_published, page_unpublished, post_page_move, post_delete):
        signal.connect(_offering_changed, sender=OfferingPage)
    units_changed.connect(_units_changed, dispatch_uid="search_follow_units")
    analysis.dictionary_changed.connect(_dictionary_changed)
    # Elasticsearch stores which sessions have seats left.
    seats_changed.connect(_seats_changed, dispatch_uid="search_follow_seats")


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


def _seats_changed(*, offering_ids, **kwargs) -> None:
    offerings_index_after_commit(offering_ids)
