"""What the search index holds of the catalog: one document per orderable
offering (one with a catalog entry), built from its page and entry."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from html import unescape
from itertools import islice

from django.utils import timezone
from django.utils.html import strip_tags

from catalog.models import CatalogEntry, OfferingDemand, OfferingSession, OfferingTag
from portal.models import CommunityType
from search.analysis import index_tokens
from search.backends.base import SearchDocument

BATCH_SIZE = 500


def orderable_offering_ids() -> Iterator[int]:
    """Every offering the index should hold, in id order."""
    return CatalogEntry.objects.order_by("pk").values_list("pk", flat=True).iterator()


def offering_documents(offering_ids: Iterable[int]) -> Iterator[SearchDocument]:
    """The documents of these offerings that are orderable (others are skipped:
    the index must drop them), read in batches at six queries a batch."""
    ids = iter(offering_ids)
    while batch := list(islice(ids, BATCH_SIZE)):
        yield from _documents(batch)


def body_text(raw_blocks: list[dict]) -> str:
    """The words of an offering's StreamField body: headings, paragraphs and
    attachment descriptions, without markup."""
    parts = []
    for block in raw_blocks or []:
        value = block.get("value")
        if block.get("type") == "paragraph" and isinstance(value, str):
            parts.append(unescape(strip_tags(value)))
        elif block.get("type") == "heading" and isinstance(value, str):
            parts.append(value)
        elif block.get("type") == "attachment" and isinstance(value, dict):
            parts.append(value.get("description") or "")
    return "\n".join(part.strip() for part in parts if part and part.strip())


def _tokens(text: str) -> str:
    return " ".join(index_tokens(text))


def _documents(ids: list[int]) -> list[SearchDocument]:
    entries = CatalogEntry.objects.filter(pk__in=ids).select_related(
        "offering", "department", "category__parent"
    )
    tags = defaultdict(list)
    for offering_id, name in OfferingTag.objects.filter(
        content_object_id__in=ids
    ).values_list("content_object_id", "tag__name"):
        tags[offering_id].append(name)
    areas = defaultdict(set)
    ancestors = defaultdict(set)
    for offering_id, region_id, *region_ancestors in (
        CatalogEntry.areas.through.objects.filter(catalogentry_id__in=ids)
    ).values_list(
        "catalogentry_id",
        "region_id",
        "region__city_id",
        "region__district_id",
        "region__street_id",
    ):
        areas[offering_id].add(region_id)
        ancestors[offering_id].update(pk for pk in region_ancestors if pk)
    open_starts = defaultdict(list)
    starts = defaultdict(list)
    for offering_id, starts_at, seats, taken in (
        OfferingSession.objects.filter(
            offering_id__in=ids, starts_at__gte=timezone.now()
        )
        .order_by("starts_at")
        .values_list("offering_id", "starts_at", "seats", "seats_taken")
    ):
        starts[offering_id].append(starts_at)
        if taken < seats:
            open_starts[offering_id].append(starts_at)

    orders_placed = dict(
        OfferingDemand.objects.filter(offering_id__in=ids).values_list(
            "offering_id", "orders_placed"
        )
    )
    documents = []
    for entry in entries:
        offering = entry.offering
        category = entry.category
        keywords = " ".join(
            [*tags[offering.pk], category.name, category.parent.name]
            if category.parent_id
            else [*tags[offering.pk], category.name]
        )
        body = body_text(offering.body.raw_data)
        documents.append(
            SearchDocument(
                offering_id=offering.pk,
                title=offering.title,
                summary=offering.summary,
                body=body,
                department=entry.department.name,
                keywords=keywords,
                title_tokens=_tokens(offering.title),
                summary_tokens=_tokens(offering.summary),
                body_tokens=_tokens(body),
                department_tokens=_tokens(entry.department.name),
                keywords_tokens=_tokens(keywords),
                kind=entry.kind,
                category_id=entry.category_id,
                family_id=entry.family_id,
                department_id=entry.department_id,
                delivery_mode=entry.delivery_mode,
                availability=entry.availability,
                is_free=entry.is_free,
                community_types=tuple(
                    code
                    for index, code in enumerate(CommunityType.values)
                    if entry.community_types & (1 << index)
                ),
                area_ids=tuple(sorted(areas[offering.pk])),
                area_ancestor_ids=tuple(sorted(ancestors[offering.pk])),
                published_at=entry.published_at,
                open_session_starts=tuple(open_starts[offering.pk]),
                session_starts=tuple(starts[offering.pk]),
                orders_placed=orders_placed.get(offering.pk, 0),
            )
        )
    return documents
