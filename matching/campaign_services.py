"""Everything that changes an ordering campaign (点单季): the only writer of
campaigns, their sessions, choices and allocations. Each change happens in
one transaction, is allowed only to the right person and records a
``CampaignEvent`` when the state changes.

The life of a campaign: the organization department drafts it (sessions and
their seats, quota, number of choices, priority rule, mechanism, dates) and
opens it; the communities of its area rank sessions until it closes; closing
runs both mechanisms of ``matching.allocation`` and stores their results and
figures, so the preview never changes; publishing turns the chosen
mechanism's seats into orders, taking the seats through the seat counter of
ordinary orders (``catalog.services.session_seats_take``), so nothing ever
overbooks. Nothing depends on who ranked first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.models import OfferingSession
from catalog.services import (
    offerings_demand_add,
    session_seats_take,
    sessions_lock,
)
from matching import allocation
from matching.campaign_notifications import (
    campaign_opened_notify,
    campaign_published_notify,
)
from matching.campaign_selectors import (
    campaign_session_candidates,
    is_campaign_community,
    is_campaign_organizer,
)
from matching.models import (
    ACTIVE_STATES,
    Campaign,
    CampaignAssignment,
    CampaignChoice,
    CampaignEvent,
    CampaignMechanism,
    CampaignPriority,
    CampaignSession,
    CampaignState,
    Need,
    NeedState,
    Order,
    OrderEvent,
    OrderState,
)
from portal.models import Region, Role, User

# More choices than this would make the ranking form a chore, and the
# allocation gains nothing from rank 11 of a short list of sessions.
MOST_CHOICES = 10
MOST_QUOTA = 20
# Each seat is one community's place at a session: its order is for one
# participant (the community's staff member who attends).
PARTICIPANTS_PER_SEAT = 1

NOT_EDITABLE = gettext_noop("Only a draft campaign can be changed.")
NOT_OPEN = gettext_noop("This campaign is not open for ranking.")
PUBLISH_BUSY = gettext_noop(
    "The seats are being booked by many at once right now: publish again in a moment."
)
# Tries of publishing's transaction when PostgreSQL breaks it off to resolve
# a deadlock; each one is short, and two in a row are already rare.
PUBLISH_ATTEMPTS = 3


class CampaignError(Exception):
    """Why a campaign cannot be changed this way, in words for the user."""


@dataclass(frozen=True)
class CampaignSettings:
    """What the organizer decides when drafting a campaign."""

    name: str
    description: str
    opens_on: date
    closes_on: date
    quota: int
    max_choices: int
    priority_rule: str
    mechanism: str
    # Seats offered per catalog session id; sessions left out are not offered.
    seats: Mapping[int, int]


def campaign_create(*, user: User, settings: CampaignSettings) -> Campaign:
    """Draft a campaign of ``user``'s organization department for its area.

    Raises ``PermissionDenied`` when ``user`` runs no campaigns,
    ``CampaignError`` when the settings do not hold together (dates, quota,
    choices, sessions not on offer or with too few seats left).
    """
    if not is_campaign_organizer(user):
        raise PermissionDenied
    with transaction.atomic():
        campaign = Campaign(
            organizer_id=user.department_id,
            area_id=user.department.region_id,
            created_by=user,
        )
        _settings_apply(campaign, settings)
        campaign.save()
        _sessions_set(campaign, settings.seats)
        _event(campaign, user, "create", "")
    return campaign


def campaign_update(
    *, user: User, campaign_id: int, settings: CampaignSettings
) -> Campaign:
    """Change a draft campaign of ``user``'s organization department; raises
    as ``campaign_create`` does, and ``CampaignError`` once it is open."""
    with transaction.atomic():
        campaign = _campaign_locked(campaign_id, user)
        if campaign.state != CampaignState.DRAFT:
            raise CampaignError(_(NOT_EDITABLE))
        _settings_apply(campaign, settings)
        campaign.save()
        _sessions_set(campaign, settings.seats)
    return campaign


def _settings_apply(campaign: Campaign, settings: CampaignSettings) -> None:
    if not settings.name.strip():
        raise CampaignError(_("Give the campaign a name."))
    if settings.closes_on < settings.opens_on:
        raise CampaignError(_("The campaign must close on or after the day it opens."))
    if not 1 <= settings.quota <= MOST_QUOTA:
        raise CampaignError(
            _("Give each community between 1 and %(most)s seats.")
            % {"most": MOST_QUOTA}
        )
    if not 1 <= settings.max_choices <= MOST_CHOICES:
        raise CampaignError(
            _("Let communities rank between 1 and %(most)s sessions.")
            % {"most": MOST_CHOICES}
        )
    if settings.priority_rule not in CampaignPriority.values:
        raise CampaignError(_("Choose one of the priority rules."))
    if settings.mechanism not in CampaignMechanism.values:
        raise CampaignError(_("Choose one of the allocation methods."))
    campaign.name = settings.name.strip()
    campaign.description = settings.description.strip()
    campaign.opens_on = settings.opens_on
    campaign.closes_on = settings.closes_on
    campaign.quota = settings.quota
    campaign.max_choices = settings.max_choices
    campaign.priority_rule = settings.priority_rule
    campaign.mechanism = settings.mechanism


def _sessions_set(campaign: Campaign, seats: Mapping[int, int]) -> None:
    """Replace the campaign's sessions by those of ``seats`` (a draft has no
    choices yet, so nothing hangs on the rows replaced)."""
    offered = {pk: count for pk, count in seats.items() if count}
    candidates = {
        session.pk: session
        for session in campaign_session_candidates(area=campaign.area)
    }
    rows = []
    for session_id, count in offered.items():
        session = candidates.get(session_id)
        if session is None:
            raise CampaignError(
                _("One of the sessions chosen can no longer be offered.")
            )
        if count < 0 or count > session.seats_left:
            raise CampaignError(
                _("“%(session)s” has %(left)s seats left.")
                % {"session": session, "left": session.seats_left}
            )
        if timezone.localtime(session.starts_at).date() <= campaign.closes_on:
            raise CampaignError(
                _("“%(session)s” starts before the campaign closes.")
                % {"session": session}
            )
        rows.append(
            CampaignSession(
                campaign=campaign,
                session=session,
                department_id=session.department_id,
                seats=count,
            )
        )
    campaign.sessions.all().delete()
    CampaignSession.objects.bulk_create(rows)


def campaign_open(*, user: User, campaign_id: int) -> Campaign:
    """Open a draft campaign: the communities of its area see it and may rank
    its sessions from ``opens_on`` until ``closes_on``; they are told after
    commit. Raises ``CampaignError`` for a campaign without sessions, one
    that would close in the past, or one no longer a draft."""
    with transaction.atomic():
        campaign = _campaign_locked(campaign_id, user)
        if campaign.state != CampaignState.DRAFT:
            raise CampaignError(_("This campaign has already been opened."))
        if not campaign.sessions.exists():
            raise CampaignError(_("Offer at least one session before opening."))
        if campaign.closes_on < timezone.localdate():
            raise CampaignError(_("The closing day has passed: change it first."))
        _state_set(campaign, user, "open", CampaignState.OPEN)
        campaign_opened_notify(campaign)
    return campaign


def campaign_choices_set(
    *, user: User, campaign_id: int, session_ids: Sequence[int]
) -> list[CampaignChoice]:
    """Replace ``user``'s community's ranking in the campaign by
    ``session_ids``, first choice first (ids of the campaign's sessions; an
    empty list withdraws from the campaign).

    The community may change its ranking as often as it likes while the
    campaign is open: only the ranking held at close counts, never when it
    was made. Raises ``PermissionDenied`` when ``user`` does not rank for a
    community of the campaign's area; ``CampaignError`` for a campaign not
    open for ranking today, more choices than allowed, a session twice or
    one not in the campaign.
    """
    if not is_campaign_community(user):
        raise PermissionDenied
    community = user.region
    with transaction.atomic():
        # Locked so that a close cannot slip between the check and the write.
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.area_id not in (community.pk, *community.ancestor_ids()):
            raise PermissionDenied
        today = timezone.localdate()
        if campaign.state != CampaignState.OPEN or not (
            campaign.opens_on <= today <= campaign.closes_on
        ):
            raise CampaignError(_(NOT_OPEN))
        if len(session_ids) > campaign.max_choices:
            raise CampaignError(
                _("Rank at most %(count)s sessions.") % {"count": campaign.max_choices}
            )
        if len(set(session_ids)) != len(session_ids):
            raise CampaignError(_("Rank each session once."))
        offered = set(campaign.sessions.values_list("pk", flat=True))
        if not set(session_ids) <= offered:
            raise CampaignError(_("Rank only the campaign's sessions."))
        CampaignChoice.objects.filter(campaign=campaign, community=community).delete()
        return CampaignChoice.objects.bulk_create(
            CampaignChoice(
                campaign=campaign, community=community, session_id=pk, rank=rank
            )
            for rank, pk in enumerate(session_ids, start=1)
        )


def campaign_close(*, campaign_id: int, user: User | None = None) -> Campaign:
    """Close an open campaign and allocate its seats with both mechanisms;
    store each one's seats and figures for the preview.

    ``user`` None is the portal itself (``campaigns_close``, past the closing
    day); otherwise only the organizer may close, also early. Each session
    offers at most the seats it still has: ordinary orders may have taken
    some since the campaign opened. Raises ``CampaignError`` when the
    campaign is not open.
    """
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update().get(pk=campaign_id)
            if user is None
            else _campaign_locked(campaign_id, user)
        )
        if campaign.state != CampaignState.OPEN:
            raise CampaignError(_("Only an open campaign can be closed."))
        _allocate(campaign)
        campaign.closed_at = timezone.now()
        _state_set(campaign, user, "close", CampaignState.CLOSED)
    return campaign


def _allocate(campaign: Campaign) -> None:
    sessions = list(campaign.sessions.select_related("session").order_by("pk"))
    index = {cs.pk: i for i, cs in enumerate(sessions)}
    seats = [min(cs.seats, cs.session.seats_left) for cs in sessions]
    ranked: dict[int, list[int]] = defaultdict(list)
    for community_id, session_id in campaign.choices.order_by(
        "community_id", "rank"
    ).values_list("community_id", "session_id"):
        ranked[community_id].append(index[session_id])
    communities = sorted(ranked)
    regions = Region.objects.select_related("street").in_bulk(communities)
    problem = allocation.Campaign(
        seats=seats,
        quotas=[campaign.quota] * len(communities),
        choices=[ranked[c] for c in communities],
        priority=_priority_classes(campaign, communities),
        seed=campaign.seed,
    )
    groups = {
        "by_street": [
            regions[c].street.name if regions[c].street else "" for c in communities
        ],
        "by_type": [regions[c].community_type for c in communities],
    }
    campaign.statistics = {}
    rows = []
    for mechanism in allocation.MECHANISMS:
        result = (
            allocation.allocate(problem, mechanism)
            if communities
            else allocation.Allocation(mechanism, [])
        )
        figures = allocation.allocation_statistics(problem, result, groups)
        taken = result.seats_taken(len(sessions))
        campaign.statistics[mechanism] = {
            "communities": figures.communities,
            "requested": figures.requested,
            "assigned": figures.assigned,
            "first_choice": figures.first_choice,
            "share_assigned": figures.share_assigned,
            "share_first_choice": figures.share_first_choice,
            "mean_rank": figures.mean_rank,
            "p90_rank": figures.p90_rank,
            "with_nothing": figures.with_nothing,
            "by_street": figures.by_group["by_street"],
            "by_type": figures.by_group["by_type"],
            "fill": [
                {"session": cs.pk, "seats": seats[i], "taken": taken[i]}
                for i, cs in enumerate(sessions)
            ],
        }
        for position, got in enumerate(result.assigned):
            choices = problem.choices[position]
            rows += [
                CampaignAssignment(
                    campaign=campaign,
                    mechanism=mechanism,
                    community_id=communities[position],
                    session_id=sessions[s].pk,
                    rank=choices.index(s) + 1,
                )
                for s in got
            ]
    CampaignAssignment.objects.bulk_create(rows)


def _priority_classes(campaign: Campaign, communities: list[int]) -> list[int]:
    """Each ranking community's priority class (0 first) under the
    campaign's rule; an empty list when every community is alike."""
    if campaign.priority_rule == CampaignPriority.LEAST_RECEIVED:
        # Seats that became orders in the organizer's earlier campaigns.
        received = Counter(
            CampaignAssignment.objects.filter(
                campaign__organizer_id=campaign.organizer_id,
                campaign__state=CampaignState.PUBLISHED,
                order__isnull=False,
                community_id__in=communities,
            )
            .exclude(campaign=campaign)
            .values_list("community_id", flat=True)
        )
        levels = sorted({received[c] for c in communities})
        return [levels.index(received[c]) for c in communities]
    if campaign.priority_rule == CampaignPriority.OPEN_NEEDS:
        categories = campaign.sessions.values("session__offering__category_id")
        needy = set(
            Need.objects.filter(
                state=NeedState.OPEN,
                community_id__in=communities,
                category_id__in=categories,
            ).values_list("community_id", flat=True)
        )
        return [0 if c in needy else 1 for c in communities]
    return []


def campaign_mechanism_set(*, user: User, campaign_id: int, mechanism: str) -> Campaign:
    """Choose which of the two allocations stored at close publishing turns
    into orders (before the close, the campaign's form sets it). Raises
    ``CampaignError`` unless the campaign is closed and not yet published."""
    if mechanism not in CampaignMechanism.values:
        raise CampaignError(_("Choose one of the allocation methods."))
    with transaction.atomic():
        campaign = _campaign_locked(campaign_id, user)
        if campaign.state != CampaignState.CLOSED:
            raise CampaignError(
                _("The allocation method can be switched between close and publishing.")
            )
        campaign.mechanism = mechanism
        campaign.save(update_fields=["mechanism"])
    return campaign


@dataclass(frozen=True)
class PublishResult:
    campaign: Campaign
    orders: list[Order]
    # Seats the allocation gave that could not become orders: booked by
    # ordinary orders since the close, or already ordered by the community.
    not_seated: int
    # Published before this call (a second click, another organizer): this
    # call changed nothing.
    already_published: bool = False


def campaign_publish(*, user: User, campaign_id: int) -> PublishResult:
    """Turn the closed campaign's seats under its mechanism into orders, in
    state scheduled where the session has a place (its date it always has),
    accepted otherwise, each with an ``allocate`` event by ``user``, and tell
    every ranking community what it got and every department its orders,
    after commit.

    Seats are taken through ``session_seats_take``, the path of ordinary
    orders: where a session has fewer seats left than the allocation gave
    (orders placed since the close, or placed right now), the best-ranked
    seats are kept and the others counted in ``not_seated``; so is a seat of
    a community that already has an order under way for the session. A
    campaign already published is left as it is (no second set of orders).
    Raises ``CampaignError`` before close, and when the database broke off
    every attempt (see below).
    """
    # Only a transaction of its own can be tried again: inside a caller's, a
    # deadlock has broken the caller's off as well.
    nested = transaction.get_connection().in_atomic_block
    for _attempt in range(1 if nested else PUBLISH_ATTEMPTS):
        try:
            return _publish(user, campaign_id)
        except OperationalError as error:
            # Publishing locks its rows in the order every writer of seats
            # follows, but an editor publishing an offering page saves its
            # sessions in the page's order, and PostgreSQL then breaks one of
            # the two off. Nothing was written: the campaign is still closed
            # and a new attempt sees the seats as they are now.
            if not _is_deadlock(error):
                raise
            broken_off = error
    raise CampaignError(_(PUBLISH_BUSY)) from broken_off


def _is_deadlock(error: OperationalError) -> bool:
    """Whether PostgreSQL broke the transaction off to resolve a deadlock or a
    serialization conflict, which a new attempt may not meet."""
    return getattr(error.__cause__, "sqlstate", None) in ("40P01", "40001")


def _publish(user: User, campaign_id: int) -> PublishResult:
    with transaction.atomic():
        campaign = _campaign_locked(campaign_id, user)
        if campaign.state == CampaignState.PUBLISHED:
            return PublishResult(campaign, [], 0, already_published=True)
        if campaign.state != CampaignState.CLOSED:
            raise CampaignError(_("Close the campaign before publishing it."))
        seats = list(
            campaign.assignments.filter(mechanism=campaign.mechanism)
            .select_related("session__session")
            .order_by("session__session_id", "rank", "community_id")
        )
        # The lock order of every writer of seats: sessions by id, then the
        # offerings' demand counters by id. An ordinary order takes one
        # session and then one counter, so whatever it holds, it waits for
        # nothing publishing holds, and it commits. Taking each session's
        # seats and counting its orders in turn deadlocked against such an
        # order of a later session of the same offering.
        left = sessions_lock(session_ids={seat.session.session_id for seat in seats})
        # Read with the sessions locked: an ordinary order of one of them
        # committed meanwhile is seen here, and any later one waits for this
        # transaction, so the orders below never clash with one.
        already = set(
            Order.objects.filter(
                state__in=ACTIVE_STATES,
                session_id__in=left,
                community_id__in={seat.community_id for seat in seats},
            ).values_list("community_id", "session_id")
        )
        wanted: dict[int, list[CampaignAssignment]] = defaultdict(list)
        for seat in seats:
            if (seat.community_id, seat.session.session_id) not in already:
                wanted[seat.session.session_id].append(seat)
        seated: list[CampaignAssignment] = []
        for session_id in sorted(wanted):
            # Best-ranked first (the order of ``seats``).
            kept = wanted[session_id][: left[session_id] // PARTICIPANTS_PER_SEAT]
            if kept and session_seats_take(
                session_id=session_id, seats=len(kept) * PARTICIPANTS_PER_SEAT
            ):
                seated += kept
        contacts = _contacts({seat.community_id for seat in seated})
        orders = Order.objects.bulk_create(
            [_order_for(campaign, user, seat, contacts) for seat in seated]
        )
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order=order,
                actor=user,
                action="allocate",
                from_state="",
                to_state=order.state,
                note=campaign.name,
            )
            for order in orders
        )
        for seat, order in zip(seated, orders, strict=True):
            seat.order = order
        CampaignAssignment.objects.bulk_update(seated, ["order"])
        campaign.published_at = timezone.now()
        _state_set(campaign, user, "publish", CampaignState.PUBLISHED)
        campaign_published_notify(campaign)
        # Last: the counters are shared with every order of these offerings.
        offerings_demand_add(orders=Counter(order.offering_id for order in orders))
    return PublishResult(campaign, orders, len(seats) - len(orders))


def _contacts(community_ids: set[int]) -> dict[int, User]:
    """A contact person for each community's orders: its first operator."""
    contacts: dict[int, User] = {}
    for operator in User.objects.filter(
        role=Role.COMMUNITY_OPERATOR, region_id__in=community_ids, is_active=True
    ).order_by("pk"):
        contacts.setdefault(operator.region_id, operator)
    return contacts


def _order_for(
    campaign: Campaign,
    user: User,
    seat: CampaignAssignment,
    contacts: dict[int, User],
) -> Order:
    """The unsaved order of a seat taken at publishing."""
    session: OfferingSession = seat.session.session
    contact = contacts.get(seat.community_id)
    # No ``answered_at``: the campaign, not the department, said yes, so the
    # order counts neither for nor against its answer times and acceptance
    # rate (matching.statistics). No note either: the note is the
    # community's, and the campaign shows through the seat's link.
    return Order(
        offering_id=session.offering_id,
        session=session,
        community_id=seat.community_id,
        department_id=seat.session.department_id,
        placed_by=user,
        participants=PARTICIPANTS_PER_SEAT,
        contact_name=contact.name if contact else "",
        contact_phone=contact.phone if contact else "",
        state=OrderState.SCHEDULED if session.place else OrderState.ACCEPTED,
        holds_seats=True,
        scheduled_at=session.starts_at if session.place else None,
        scheduled_place=session.place,
    )


def campaigns_close_due(*, today: date | None = None) -> list[Campaign]:
    """Close every open campaign whose closing day has passed and allocate
    its seats (the daily ``campaigns_close``). Safe to run twice: a closed
    campaign is not closed again."""
    today = today or timezone.localdate()
    closed = []
    for campaign_id in Campaign.objects.filter(
        state=CampaignState.OPEN, closes_on__lt=today
    ).values_list("pk", flat=True):
        try:
            closed.append(campaign_close(campaign_id=campaign_id))
        except CampaignError:
            # Closed by its organizer meanwhile.
            continue
    return closed


def _campaign_locked(campaign_id: int, user: User) -> Campaign:
    """The campaign's row, locked, if ``user`` is its organizer; else
    ``PermissionDenied``."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
    if not is_campaign_organizer(user) or campaign.organizer_id != user.department_id:
        raise PermissionDenied
    return campaign


def _state_set(campaign: Campaign, user: User | None, action: str, state: str) -> None:
    previous = campaign.state
    campaign.state = state
    campaign.save()
    _event(campaign, user, action, previous)


def _event(campaign: Campaign, user: User | None, action: str, previous: str) -> None:
    CampaignEvent.objects.create(
        campaign=campaign,
        actor=user,
        action=action,
        from_state=previous,
        to_state=campaign.state,
    )
