"""Read queries of needs and conversations, each scoped to what a user may see
(DESIGN.md, invariant 3): the need pages, the gap table and the conversation
threads reach needs only through ``needs_visible_to``, so a foreign need is a
404, and messages only through ``thread_conversation``.

Which departments see and answer a need is decided here once
(``_department_scope``), for the list, the page and the services alike: the
departments it was suggested to, those that answered it, and those whose
family publishes offerings in the need's top category and that serve the
need's community. Any of them may answer an open need — not only the five
suggested: the suggestion is a help to the community, not a gate, and a
department of the right line of work that the text search missed should not
be kept out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from catalog.models import CatalogEntry, Category, OfferingPage
from catalog.selectors import offerings_open
from matching.lifecycle import acts_as
from matching.models import (
    Message,
    Need,
    NeedResponse,
    NeedResponseKind,
    NeedState,
    NeedSuggestion,
    NeedUrgency,
    Order,
)
from matching.need_filters import NeedFilter
from matching.need_lifecycle import NeedSide
from portal.models import CommunityType, Department, Region, Role, User
from portal.selectors import user_anchor_region

DEPARTMENT_STAFF = (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER)
# Who sees the demand–supply gap of their area.
GAP_ROLES = (Role.ORGANIZATION_DEPARTMENT, Role.ADMINISTRATOR)


def needs_visible_to(user: User) -> QuerySet[Need]:
    """A community sees its own needs; a street office its communities';
    department staff the needs their department may answer or has answered
    (see the module docstring); the organization department and
    administrators the needs of the communities in their area (everything for
    a unit-less superuser)."""
    needs = Need.objects.select_related("community", "category__parent", "posted_by")
    if not user.is_authenticated or not user.is_active:
        return needs.none()
    if user.role in DEPARTMENT_STAFF:
        if not user.department_id:
            return needs.none()
        return needs.filter(_department_scope(user.department))
    anchor = user_anchor_region(user)
    if anchor is None:
        return needs if user.is_superuser else needs.none()
    return needs.filter(community__in=Region.objects.subtree(anchor))


def need_visible_to(*, user: User, need_id: int) -> Need:
    """The need ``need_id`` if ``user`` may see it; else Http404."""
    need = needs_visible_to(user).filter(pk=need_id).first()
    if need is None:
        raise Http404
    return need


def _department_scope(department: Department) -> Q:
    suggested = NeedSuggestion.objects.filter(department=department).values("need_id")
    answered = NeedResponse.objects.filter(department=department).values("need_id")
    scope = Q(pk__in=suggested) | Q(pk__in=answered)
    if department.family_id:
        # The top categories the department's line of work publishes in.
        tops = CatalogEntry.objects.filter(family_id=department.family_id).values(
            "category__parent_id"
        )
        scope |= Q(
            category__parent_id__in=tops,
            community__in=Region.objects.subtree(department.region),
        )
    return scope


def department_may_answer(*, department: Department, need: Need) -> bool:
    """Whether ``department`` is among those that may answer ``need`` (whatever
    the need's state)."""
    return (
        Need.objects.filter(pk=need.pk).filter(_department_scope(department)).exists()
    )


def need_side(user: User, need: Need) -> NeedSide | None:
    """The side ``user`` is on for ``need``: its community's operators, or the
    staff of a department that may answer it; None for anyone else (street
    offices and the organization department only look)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role == Role.COMMUNITY_OPERATOR and user.region_id == need.community_id:
        return NeedSide.COMMUNITY
    if (
        user.role in DEPARTMENT_STAFF
        and user.department_id
        and department_may_answer(department=user.department, need=need)
    ):
        return NeedSide.DEPARTMENT
    return None


def proposable_offerings(
    *, department: Department, need: Need
) -> QuerySet[OfferingPage]:
    """The department's open offerings that the need's community may order and
    that it has not proposed for this need yet."""
    community = need.community
    serving = CatalogEntry.objects.filter(
        department=department,
        areas__in=[community.pk, *community.ancestor_ids()],
    ).values("pk")
    proposed = NeedResponse.objects.filter(
        need=need, kind=NeedResponseKind.PROPOSAL
    ).values("offering_id")
    return (
        offerings_open()
        .filter(pk__in=serving)
        .exclude(pk__in=proposed)
        .select_related("category")
        .order_by("title")
    )


def proposals_awaiting_order(
    *, community_id: int, offering_id: int
) -> QuerySet[NeedResponse]:
    """The community's accepted proposals of the offering, for its open needs,
    that no order answers yet, the latest accepted first: an order of that
    offering placed now answers the first (``need_order_placed``)."""
    return NeedResponse.objects.filter(
        kind=NeedResponseKind.PROPOSAL,
        offering_id=offering_id,
        need__community_id=community_id,
        need__state=NeedState.OPEN,
        accepted_at__isnull=False,
        order__isnull=True,
    ).order_by("-accepted_at", "-pk")


def need_responses(need: Need) -> QuerySet[NeedResponse]:
    return need.responses.select_related(
        "department", "responded_by", "offering", "order"
    )


def need_suggestions_of(need: Need) -> QuerySet[NeedSuggestion]:
    return need.suggestions.select_related("department__family")


def need_history(need: Need):
    return need.events.select_related(
        "actor__region", "actor__department", "response__department"
    )


def need_worklist(*, user: User, params: Mapping[str, Any]) -> NeedFilter:
    """The needs ``user`` may see, narrowed by the list's filters; open and
    urgent needs first, then the newest."""
    needs = needs_visible_to(user).annotate(
        proposal_count=Count(
            "responses", filter=Q(responses__kind=NeedResponseKind.PROPOSAL)
        ),
        open_first=Case(When(state=NeedState.OPEN, then=Value(0)), default=Value(1)),
        urgent_first=Case(
            When(urgency=NeedUrgency.URGENT, then=Value(0)),
            When(urgency=NeedUrgency.NORMAL, then=Value(1)),
            default=Value(2),
        ),
    )
    if user.role in DEPARTMENT_STAFF:
        # Marks on the department's list: what the portal asked of it, and
        # what it has answered already.
        needs = needs.annotate(
            suggested_to_us=Exists(
                NeedSuggestion.objects.filter(
                    need=OuterRef("pk"), department_id=user.department_id
                )
            ),
            answered_by_us=Exists(
                NeedResponse.objects.filter(
                    need=OuterRef("pk"), department_id=user.department_id
                )
            ),
        )
    needs = needs.order_by("open_first", "urgent_first", "-created_at", "-pk")
    return NeedFilter(params, queryset=needs, user=user)


def need_state_counts(*, user: User) -> dict[str, int]:
    rows = needs_visible_to(user).order_by().values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


# Conversations ----------------------------------------------------------------


def may_converse(user: User, thread: Order | Need) -> bool:
    """Whether ``user`` may read and write the conversation of ``thread``: for
    an order, its community's operators and the answering department's staff;
    for a need, its community's operators and the staff of the departments it
    was suggested to or that answered it."""
    if not user.is_authenticated or not user.is_active:
        return False
    if isinstance(thread, Order):
        return acts_as(user, thread) is not None
    if user.role == Role.COMMUNITY_OPERATOR:
        return user.region_id == thread.community_id
    if user.role in DEPARTMENT_STAFF and user.department_id:
        return (
            NeedSuggestion.objects.filter(
                need=thread, department_id=user.department_id
            ).exists()
            or NeedResponse.objects.filter(
                need=thread, department_id=user.department_id
            ).exists()
        )
    return False


@dataclass(frozen=True)
class ConversationEntry:
    message: Message
    # The author's unit, as the other side knows it.
    unit_name: str
    own: bool
    from_community: bool


@dataclass(frozen=True)
class Conversation:
    thread: Order | Need
    entries: list[ConversationEntry]


def thread_conversation(*, user: User, thread: Order | Need) -> Conversation | None:
    """The conversation of ``thread`` for ``user``, oldest message first; None
    when ``user`` takes no part in it."""
    if not may_converse(user, thread):
        return None
    messages = Message.objects.filter(
        **{"order" if isinstance(thread, Order) else "need": thread}
    ).select_related("author__region", "author__department")
    return Conversation(
        thread,
        [
            ConversationEntry(
                message,
                unit_name=str(message.author.unit or ""),
                own=message.author_id == user.pk,
                from_community=message.author.role == Role.COMMUNITY_OPERATOR,
            )
            for message in messages
        ],
    )


# The demand–supply gap --------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    """Open needs of one category, district or community type."""

    label: str
    open_needs: int
    urgent: int
    # Open needs no department has proposed anything for yet.
    unanswered: int
    communities: int
    # Category rows: open offerings of that category serving the area.
    # District and type rows: all communities of that district or type.
    supply: int
    group: str = ""
    # Category rows: the category, for a link to the list filtered by it.
    key: int | str | None = None


@dataclass(frozen=True)
class GapSummary:
    open_needs: int
    urgent: int
    unanswered: int
    communities: int
    oldest_days: int | None
    by_category: list[GapRow]
    by_district: list[GapRow]
    by_community_type: list[GapRow]


def unmet_needs_summary(user: User) -> GapSummary:
    """The open needs ``user`` may see, counted by category (beside the open
    offerings of that category serving the area: the demand–supply gap), by
    district and by community type (beside how many communities there are).

    Every row counts open needs, urgent ones, those without any proposal yet,
    and the communities they come from. Seven grouped queries.
    """
    proposed = NeedResponse.objects.filter(
        need=OuterRef("pk"), kind=NeedResponseKind.PROPOSAL
    )
    open_needs = (
        needs_visible_to(user)
        .filter(state=NeedState.OPEN)
        .annotate(proposed=Exists(proposed))
        .order_by()
    )
    counts = {
        "open_needs": Count("pk"),
        "urgent": Count("pk", filter=Q(urgency=NeedUrgency.URGENT)),
        "unanswered": Count("pk", filter=Q(proposed=False)),
        "communities": Count("community", distinct=True),
    }
    totals = open_needs.aggregate(**counts)
    oldest = open_needs.order_by("created_at").values_list("created_at", flat=True)
    first = oldest.first()
    area = _area_communities(user)
    return GapSummary(
        **totals,
        oldest_days=(timezone.now() - first).days if first else None,
        by_category=_category_rows(open_needs, counts, user),
        by_district=_district_rows(open_needs, counts, area),
        by_community_type=_type_rows(open_needs, counts, area),
    )


def _row_counts(row: Mapping[str, Any]) -> dict[str, int]:
    return {
        name: row[name]
        for name in ("open_needs", "urgent", "unanswered", "communities")
    }


def _category_rows(
    open_needs: QuerySet[Need], counts: dict, user: User
) -> list[GapRow]:
    rows = open_needs.values("category_id").annotate(**counts)
    categories = Category.objects.select_related("parent").in_bulk(
        [row["category_id"] for row in rows]
    )
    supply = dict(
        _area_entries(user)
        .filter(category_id__in=list(categories))
        .values("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    result = [
        GapRow(
            label=categories[row["category_id"]].name,
            group=categories[row["category_id"]].parent.name
            if categories[row["category_id"]].parent_id
            else "",
            supply=supply.get(row["category_id"], 0),
            key=row["category_id"],
            **_row_counts(row),
        )
        for row in rows
    ]
    # The widest gap first: most needs, then the thinnest supply.
    result.sort(key=lambda r: (-r.open_needs, r.supply, r.group, r.label))
    return result


def _district_rows(
    open_needs: QuerySet[Need], counts: dict, area: QuerySet[Region]
) -> list[GapRow]:
    rows = open_needs.values("community__district_id").annotate(**counts)
    district_ids = [row["community__district_id"] for row in rows]
    names = dict(Region.objects.filter(pk__in=district_ids).values_list("pk", "name"))
    sizes = dict(
        area.filter(district_id__in=district_ids)
        .values("district_id")
        .annotate(n=Count("pk"))
        .values_list("district_id", "n")
    )
    result = [
        GapRow(
            label=names.get(row["community__district_id"], ""),
            supply=sizes.get(row["community__district_id"], 0),
            key=row["community__district_id"],
            **_row_counts(row),
        )
        for row in rows
    ]
    result.sort(key=lambda r: (-r.open_needs, r.label))
    return result


def _type_rows(
    open_needs: QuerySet[Need], counts: dict, area: QuerySet[Region]
) -> list[GapRow]:
    found = {
        row["community__community_type"]: row
        for row in open_needs.values("community__community_type").annotate(**counts)
    }
    sizes = dict(
        area.values("community_type")
        .annotate(n=Count("pk"))
        .values_list("community_type", "n")
    )
    # Every type, in its declared order, so that a type without needs shows
    # as such rather than vanishing.
    return [
        GapRow(
            label=str(CommunityType(code).label),
            supply=sizes.get(code, 0),
            key=code,
            **_row_counts(
                found.get(
                    code,
                    {"open_needs": 0, "urgent": 0, "unanswered": 0, "communities": 0},
                )
            ),
        )
        for code in CommunityType.values
        if code in found or sizes.get(code)
    ]


def _area_communities(user: User) -> QuerySet[Region]:
    """The communities in ``user``'s area."""
    anchor = user_anchor_region(user)
    if anchor is None:
        regions = Region.objects.all() if user.is_superuser else Region.objects.none()
    else:
        regions = Region.objects.subtree(anchor)
    return regions.communities().order_by()


def _area_entries(user: User) -> QuerySet[CatalogEntry]:
    """Open offerings that serve some community of ``user``'s area: those
    serving a region in the area, or one containing it."""
    anchor = user_anchor_region(user)
    if anchor is None:
        return (
            CatalogEntry.objects.all()
            if user.is_superuser
            else CatalogEntry.objects.none()
        )
    regions = Region.objects.subtree(anchor).values("pk")
    links = CatalogEntry.areas.through.objects.filter(
        Q(region_id__in=regions) | Q(region_id__in=anchor.ancestor_ids())
    )
    return CatalogEntry.objects.filter(pk__in=links.values("catalogentry_id"))


def may_see_gap(user: User) -> bool:
    """Whether ``user`` sees the demand–supply gap: the organization
    department and administrators of an area, and unit-less superusers."""
    return user.is_authenticated and (
        user.role in GAP_ROLES or (user.is_superuser and not user.region_id)
    )
