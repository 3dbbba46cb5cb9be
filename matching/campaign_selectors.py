"""Read queries of ordering campaigns (点单季), each scoped to what a user may
see (DESIGN.md, invariant 3): the organization department sees the campaigns
it runs, a community the campaigns open to its area (never a draft); anyone
else none. A foreign id is a 404."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from catalog.models import Availability, CatalogEntry, OfferingSession
from matching.models import (
    Campaign,
    CampaignAssignment,
    CampaignChoice,
    CampaignMechanism,
    CampaignSession,
    CampaignState,
)
from portal.models import CommunityType, DepartmentKind, Region, Role, User


def is_campaign_organizer(user: User) -> bool:
    """Whether ``user`` runs campaigns: an account of an organization
    department (组织部 / 减负办), which organizes them for its area."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role == Role.ORGANIZATION_DEPARTMENT
        and user.department_id
        and user.department.kind == DepartmentKind.ORGANIZATION
    )


def is_campaign_community(user: User) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.role == Role.COMMUNITY_OPERATOR
        and user.region_id
    )


def campaigns_visible_to(user: User) -> QuerySet[Campaign]:
    """The organizer's campaigns, in every state; for a community, the
    campaigns of an area containing it once they are open."""
    campaigns = Campaign.objects.select_related("organizer", "area")
    if is_campaign_organizer(user):
        return campaigns.filter(organizer_id=user.department_id)
    if is_campaign_community(user):
        return campaigns.filter(
            area_id__in=[user.region_id, *user.region.ancestor_ids()]
        ).exclude(state=CampaignState.DRAFT)
    return campaigns.none()


def campaign_visible_to(*, user: User, campaign_id: int) -> Campaign:
    campaign = campaigns_visible_to(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404
    return campaign


def campaign_managed_by(*, user: User, campaign_id: int) -> Campaign:
    """The campaign if ``user`` is its organizer; Http404 for anyone else,
    the communities taking part included."""
    if not is_campaign_organizer(user):
        raise Http404
    return campaign_visible_to(user=user, campaign_id=campaign_id)


def campaign_session_candidates(*, area: Region) -> list[OfferingSession]:
    """The sessions an organizer may put in a campaign of ``area``: upcoming
    sessions with seats left of the scheduled offerings in the catalog that
    serve the whole area (so every community taking part may order them),
    soonest first, each with ``department_id`` (the department that will
    answer the orders)."""
    entries = dict(
        CatalogEntry.objects.filter(
            areas__in=[area.pk, *area.ancestor_ids()],
            availability=Availability.SCHEDULED,
        ).values_list("offering_id", "department_id")
    )
    sessions = list(
        OfferingSession.objects.filter(
            offering_id__in=list(entries),
            starts_at__gt=timezone.now(),
            seats_taken__lt=F("seats"),
        )
        .select_related("offering")
        .order_by("starts_at", "pk")
    )
    for session in sessions:
        session.department_id = entries[session.offering_id]
    return sessions


def campaign_sessions(campaign: Campaign) -> list[CampaignSession]:
    """The campaign's sessions, soonest first, each with ``ranked`` (how many
    communities chose it) and ``first_choices``."""
    return list(
        campaign.sessions.select_related("session__offering", "department").annotate(
            ranked=Count("choices"),
            first_choices=Count("choices", filter=Q(choices__rank=1)),
        )
    )


def community_choices(*, campaign: Campaign, community_id: int) -> list[CampaignChoice]:
    """The community's choices in the campaign, first choice first."""
    return list(
        CampaignChoice.objects.filter(campaign=campaign, community_id=community_id)
        .select_related("session__session__offering")
        .order_by("rank")
    )


def campaign_ranking_count(campaign: Campaign) -> int:
    """How many communities have ranked at least one session."""
    return campaign.choices.values("community_id").distinct().count()


def community_seats(
    *, campaign: Campaign, community_id: int
) -> list[CampaignAssignment]:
    """What the community got under the campaign's mechanism, with the orders
    publishing created; nothing before the campaign is published."""
    if campaign.state != CampaignState.PUBLISHED:
        return []
    return list(
        campaign.assignments.filter(
            mechanism=campaign.mechanism, community_id=community_id
        )
        .select_related("session__session__offering", "order")
        .order_by("rank")
    )


# The preview -----------------------------------------------------------------


@dataclass
class CommunityRow:
    community: Region
    ranked: int
    # Per mechanism (in ``Preview.mechanisms`` order), its label and the
    # seats got: (campaign session, rank), best rank first.
    cells: list[tuple[str, list[tuple[CampaignSession, int]]]]


@dataclass
class FillRow:
    session: CampaignSession
    # Seats still free at close (the allocation gave at most these).
    available: int
    # Per mechanism, its label and the seats given, as a number and a share.
    cells: list[tuple[str, int, float]]


@dataclass
class MechanismFigures:
    mechanism: str
    label: str
    figures: dict
    chosen: bool


@dataclass
class Preview:
    mechanisms: list[MechanismFigures]
    # Seats per street and per community type: (label, seats per mechanism).
    by_street: list[tuple[str, list[int]]]
    by_type: list[tuple[str, list[int]]]
    communities: list[CommunityRow]
    sessions: list[FillRow]


def campaign_preview(campaign: Campaign) -> Preview:
    """What the allocations stored at close give, both mechanisms side by
    side (the campaign's own first): the figures of each, seats per street
    and community type, each ranking community's seats and each session's
    fill."""
    order = sorted(
        CampaignMechanism.choices, key=lambda choice: choice[0] != campaign.mechanism
    )
    mechanisms = [value for value, _label in order]
    statistics = [campaign.statistics.get(m, {}) for m in mechanisms]
    sessions = {cs.pk: cs for cs in campaign_sessions(campaign)}
    ranked = dict(
        campaign.choices.order_by()
        .values_list("community_id")
        .annotate(count=Count("pk"))
    )
    regions = Region.objects.select_related("street").in_bulk(list(ranked))
    labels = [str(label) for _value, label in order]
    rows = {
        pk: CommunityRow(
            community=regions[pk],
            ranked=count,
            cells=[(label, []) for label in labels],
        )
        for pk, count in ranked.items()
    }
    for mechanism, community_id, session_id, rank in campaign.assignments.order_by(
        "rank"
    ).values_list("mechanism", "community_id", "session_id", "rank"):
        rows[community_id].cells[mechanisms.index(mechanism)][1].append(
            (sessions[session_id], rank)
        )
    fills = [
        {entry["session"]: entry for entry in figures.get("fill", [])}
        for figures in statistics
    ]
    type_labels = dict(CommunityType.choices)
    return Preview(
        mechanisms=[
            MechanismFigures(
                mechanism=value,
                label=str(label),
                figures=figures,
                chosen=value == campaign.mechanism,
            )
            for (value, label), figures in zip(order, statistics, strict=True)
        ],
        by_street=_by_group(statistics, "by_street", {}),
        by_type=_by_group(statistics, "by_type", type_labels),
        communities=sorted(
            rows.values(),
            key=lambda row: (
                row.community.street.name if row.community.street else "",
                row.community.code,
            ),
        ),
        sessions=[_fill_row(cs, labels, fills) for cs in sessions.values()],
    )


def _fill_row(
    campaign_session: CampaignSession, labels: list[str], fills: list[dict]
) -> FillRow:
    pk = campaign_session.pk
    available = fills[0].get(pk, {}).get("seats", campaign_session.seats)
    cells = []
    for label, fill in zip(labels, fills, strict=True):
        taken = fill.get(pk, {}).get("taken", 0)
        cells.append((label, taken, taken / available if available else 0.0))
    return FillRow(session=campaign_session, available=available, cells=cells)


def _by_group(
    statistics: list[dict], name: str, labels: dict
) -> list[tuple[str, list[int]]]:
    seats: dict[str, list[int]] = defaultdict(lambda: [0] * len(statistics))
    for position, figures in enumerate(statistics):
        for key, count in figures.get(name, {}).items():
            seats[str(labels.get(key, key))][position] = count
    return sorted(seats.items())
