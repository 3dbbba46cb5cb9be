"""Everything that changes a need (需求) and its answers, and the only writer
of conversation messages. Each change happens in one transaction, with the
need's row locked, fires only what ``matching.need_lifecycle`` allows for the
right side, and records a ``NeedEvent``.

A need reaches an order through ``matching.services.order_place``, never
around it: accepting a proposal of an offering on request places the order
here; for a scheduled offering the community places it on the order form, and
``need_order_placed`` (called by ``order_place``) links it to the proposal.
``need_order_changed`` (called by ``order_transition``) then fulfils the need
when the order is confirmed, and reopens it when the order is rejected or
cancelled.

After commit the other side hears of each step and message
(``matching.need_notifications``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Availability, Category, OfferingPage
from catalog.selectors import offering_orderable_by
from matching import recommend
from matching.models import (
    Message,
    Need,
    NeedEvent,
    NeedResponse,
    NeedResponseKind,
    NeedState,
    NeedSuggestion,
    NeedUrgency,
    Order,
    OrderState,
)
from matching.need_lifecycle import NEED_TRANSITIONS, NeedSide, need_allows
from matching.need_notifications import message_notify, need_event_notify
from matching.need_selectors import (
    may_converse,
    need_side,
    proposable_offerings,
    proposals_awaiting_order,
)
from matching.services import OrderError, order_place
from portal.models import Role, User

ERROR_TITLE_MISSING = _("Say in a few words what your community needs.")
ERROR_DESCRIPTION_MISSING = _(
    "Describe the need: who it is for, what should happen, and why the catalog "
    "does not cover it."
)
ERROR_TOP_CATEGORY = _("Choose a subcategory, not a whole top category.")
ERROR_PERIOD_ORDER = _("The preferred period ends before it starts.")
ERROR_PERIOD_OVER = _("The preferred period is already over.")
ERROR_NOT_OPEN = _(
    "This need is “%(state)s”: it can no longer be answered or changed this way."
)
ERROR_OFFERING_NOT_PROPOSABLE = _(
    "Propose one of your department's open offerings that this community may "
    "order, and that you have not proposed yet."
)
ERROR_DECLINE_REASON = _("Give a reason for declining: the community will read it.")
ERROR_DECLINED_ALREADY = _("Your department has already declined this need.")
ERROR_NOT_A_PROPOSAL = _("Only a proposal of an offering can be accepted.")
ERROR_OFFERING_GONE = _(
    "This offering can no longer be ordered by your community: ask the "
    "department in the conversation, or accept another proposal."
)
ERROR_CLOSE_REASON = _("Give a reason for closing the need.")
ERROR_MESSAGE_EMPTY = _("Write a message first.")
ERROR_MESSAGE_LONG = _("A message holds at most %(count)s characters.")
MESSAGE_MAX_LENGTH = 2000

# The order states in which a need's order has failed: the need reopens.
_ORDER_FAILED = (OrderState.REJECTED, OrderState.CANCELLED)


class NeedError(Exception):
    """Why a need cannot be posted, answered or changed, in words for the user."""


@transaction.atomic
def need_post(
    *,
    user: User,
    title: str,
    description: str,
    category: Category,
    urgency: str = NeedUrgency.NORMAL,
    preferred_from: date | None = None,
    preferred_to: date | None = None,
) -> Need:
    """Post ``user``'s community's need and suggest up to five departments to
    answer it (``matching.recommend``), kept with the need so that the
    suggestion — and the departments' view of the need — does not shift as
    the catalog changes.

    Raises ``PermissionDenied`` when ``user`` does not act for a community,
    ``NeedError`` when a field is missing or inconsistent.
    """
    if user.role != Role.COMMUNITY_OPERATOR or not user.region_id:
        raise PermissionDenied
    title, description = title.strip(), description.strip()
    if not title:
        raise NeedError(ERROR_TITLE_MISSING)
    if not description:
        raise NeedError(ERROR_DESCRIPTION_MISSING)
    if category.parent_id is None:
        raise NeedError(ERROR_TOP_CATEGORY)
    if preferred_from and preferred_to and preferred_to < preferred_from:
        raise NeedError(ERROR_PERIOD_ORDER)
    if preferred_to and preferred_to < timezone.localdate():
        raise NeedError(ERROR_PERIOD_OVER)
    need = Need.objects.create(
        community=user.region,
        posted_by=user,
        title=title,
        description=description,
        category=category,
        urgency=urgency,
        preferred_from=preferred_from,
        preferred_to=preferred_to,
    )
    need_event_notify(_event(need, user, "post", ""))
    suggestions = recommend.need_suggestions(
        community=user.region,
        category=category,
        title=title,
        description=description,
    )
    NeedSuggestion.objects.bulk_create(
        NeedSuggestion(
            need=need,
            department_id=suggestion.department_id,
            rank=rank,
            score=suggestion.score,
            same_category=suggestion.signals.same_category,
            same_top_category=suggestion.signals.same_top_category,
            family_affinity=suggestion.signals.family_affinity,
            similar_titles=list(suggestion.signals.similar_titles),
            duty_phrases=list(suggestion.signals.duty_phrases),
            similar_needs=list(suggestion.signals.similar_needs),
        )
        for rank, suggestion in enumerate(suggestions, start=1)
    )
    return need


@transaction.atomic
def need_respond(
    *,
    need_id: int,
    user: User,
    kind: str,
    offering: OfferingPage | None = None,
    note: str = "",
) -> NeedResponse:
    """Answer an open need for ``user``'s department: propose one of its open
    offerings that the community may order (``kind`` proposal), or decline
    with a reason (``kind`` decline). A department may propose several
    offerings, each once, and decline once.

    Raises ``PermissionDenied`` when ``user``'s department is not among those
    that may answer the need (``matching.need_selectors``), ``NeedError`` when
    the need is no longer open or the answer is incomplete.
    """
    need = _locked(need_id)
    if user.role not in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER):
        raise PermissionDenied
    if need_side(user, need) != NeedSide.DEPARTMENT:
        raise PermissionDenied
    if kind not in NeedResponseKind.values:
        raise PermissionDenied
    action = "propose" if kind == NeedResponseKind.PROPOSAL else "decline"
    _check_allowed(need, action)
    note = note.strip()
    department = user.department
    if kind == NeedResponseKind.PROPOSAL:
        if (
            offering is None
            or not proposable_offerings(department=department, need=need)
            .filter(pk=offering.pk)
            .exists()
        ):
            raise NeedError(ERROR_OFFERING_NOT_PROPOSABLE)
    else:
        offering = None
        if not note:
            raise NeedError(ERROR_DECLINE_REASON)
        if need.responses.filter(
            department=department, kind=NeedResponseKind.DECLINE
        ).exists():
            raise NeedError(ERROR_DECLINED_ALREADY)
    response = NeedResponse.objects.create(
        need=need,
        department=department,
        responded_by=user,
        kind=kind,
        offering=offering,
        note=note,
    )
    need_event_notify(
        _event(need, user, action, need.state, response=response, note=note)
    )
    return response


@dataclass(frozen=True)
class Acceptance:
    """What accepting a proposal led to: the order placed, or None when the
    community is still to choose a session of the (scheduled) offering on
    the order form."""

    response: NeedResponse
    order: Order | None


@transaction.atomic
def need_accept_proposal(
    *,
    response_id: int,
    user: User,
    participants: int = 0,
    contact_name: str = "",
    contact_phone: str = "",
    wished_from: date | None = None,
    wished_to: date | None = None,
    note: str = "",
    idempotency_key: uuid.UUID | None = None,
) -> Acceptance:
    """Accept a department's proposal for ``user``'s community's open need.

    For an offering on request the order is placed at once through
    ``order_place`` (with the wished dates, participants and contact given),
    and the need becomes matched. For a scheduled offering the proposal is
    marked accepted and nothing is ordered yet: the community chooses a
    session on the order form, and the order placed there matches the need.
    Accepting the same proposal again is harmless.

    Raises ``PermissionDenied`` when ``user`` is not an operator of the
    need's community, ``NeedError`` when the need is not open, the answer is
    not a proposal, or the order cannot be placed (the service's reason).
    """
    need_id = (
        NeedResponse.objects.filter(pk=response_id)
        .values_list("need_id", flat=True)
        .first()
    )
    if need_id is None:
        raise PermissionDenied
    need = _locked(need_id)
    response = NeedResponse.objects.select_related("offering").get(pk=response_id)
    if need_side(user, need) != NeedSide.COMMUNITY:
        raise PermissionDenied
    _check_allowed(need, "accept")
    if response.kind != NeedResponseKind.PROPOSAL:
        raise NeedError(ERROR_NOT_A_PROPOSAL)
    offering = response.offering
    if not offering_orderable_by(offering=offering, user=user):
        raise NeedError(ERROR_OFFERING_GONE)
    if response.accepted_at is None:
        response.accepted_at = timezone.now()
        response.save(update_fields=["accepted_at"])
        need_event_notify(_event(need, user, "accept", need.state, response=response))
    if offering.availability == Availability.SCHEDULED:
        return Acceptance(response, None)
    try:
        # order_place calls need_order_placed, which links the order to this
        # proposal (the latest accepted for the offering) and matches the need.
        order = order_place(
            user=user,
            offering=offering,
            participants=participants,
            contact_name=contact_name,
            contact_phone=contact_phone,
            wished_from=wished_from,
            wished_to=wished_to,
            note=note,
            idempotency_key=idempotency_key,
        )
    except OrderError as error:
        # Raised out of the transaction: the acceptance is undone with it.
        raise NeedError(str(error)) from error
    response.refresh_from_db()
    return Acceptance(response, order)


@transaction.atomic
def need_close(*, need_id: int, user: User, reason: str) -> Need:
    """Close ``user``'s community's open need, saying why (solved another way,
    no longer needed…).

    Raises ``PermissionDenied`` when ``user`` is not an operator of the
    need's community, ``NeedError`` when the need is not open or no reason is
    given.
    """
    need = _locked(need_id)
    if need_side(user, need) != NeedSide.COMMUNITY:
        raise PermissionDenied
    _check_allowed(need, "close")
    reason = reason.strip()
    if not reason:
        raise NeedError(ERROR_CLOSE_REASON)
    previous = need.state
    need.state = NeedState.CLOSED
    need.closed_reason = reason
    need.save(update_fields=["state", "closed_reason", "changed_at"])
    need_event_notify(_event(need, user, "close", previous, note=reason))
    return need


# Following the order placed from a proposal ------------------------------------


def need_order_placed(*, order: Order, actor: User | None) -> Need | None:
    """Link a newly placed order to the proposal it answers, if any, and match
    its need. Called by ``order_place`` inside its transaction, when
    ``proposals_awaiting_order`` found a proposal before it began.

    The proposal is the community's accepted, not yet ordered proposal of the
    same offering for an open need — the latest accepted one if several,
    read again here, under the transaction.
    Returns the matched need, or None when the order answers no need.
    """
    response = proposals_awaiting_order(
        community_id=order.community_id, offering_id=order.offering_id
    ).first()
    if response is None:
        return None
    need = _locked(response.need_id)
    if not need_allows("match", need.state):
        return None
    response.order = order
    response.save(update_fields=["order"])
    previous = need.state
    need.state = NeedState.MATCHED
    need.save(update_fields=["state", "changed_at"])
    _event(need, actor, "match", previous, response=response, order=order)
    return need


def need_order_changed(*, order: Order, actor: User | None) -> Need | None:
    """Follow a change of an order placed from a proposal: the need is
    fulfilled when the order is confirmed, and reopens (the proposal may be
    accepted again, or another) when it is rejected or cancelled. Called by
    ``order_transition`` inside its transaction; returns the need changed."""
    need_id = (
        NeedResponse.objects.filter(order=order)
        .values_list("need_id", flat=True)
        .first()
    )
    if need_id is None:
        return None
    if order.state == OrderState.CONFIRMED:
        return need_fulfil(need_id=need_id, order=order, actor=actor)
    if order.state in _ORDER_FAILED:
        return _need_reopen(need_id=need_id, order=order)
    return None


def need_fulfil(*, need_id: int, order: Order, actor: User | None) -> Need | None:
    """Mark the need fulfilled: its order was delivered and the community
    confirmed it. Returns None (and changes nothing) unless the need is
    matched."""
    need = _locked(need_id)
    if not need_allows("fulfil", need.state):
        return None
    previous = need.state
    need.state = NeedState.FULFILLED
    need.save(update_fields=["state", "changed_at"])
    _event(need, actor, "fulfil", previous, order=order)
    return need


def _need_reopen(*, need_id: int, order: Order) -> Need | None:
    need = _locked(need_id)
    if not need_allows("reopen", need.state):
        return None
    NeedResponse.objects.filter(order=order).update(order=None, accepted_at=None)
    previous = need.state
    need.state = NeedState.OPEN
    need.save(update_fields=["state", "changed_at"])
    # By the portal, on the order's behalf: whoever rejected or cancelled the
    # order did not act on the need.
    _event(need, None, "reopen", previous, order=order, note=order.reason)
    return need


# Conversations ----------------------------------------------------------------


def message_post(*, thread: Order | Need, user: User, body: str) -> Message:
    """Add ``user``'s message to the conversation of an order or a need.

    Only the participants may post (``need_selectors.may_converse``): the
    community's operators and the staff of the answering department — for a
    need, of the departments it was suggested to or that answered it.
    Raises ``PermissionDenied`` for anyone else, ``NeedError`` for an empty
    or overlong message.
    """
    if not may_converse(user, thread):
        raise PermissionDenied
    body = body.strip()
    if not body:
        raise NeedError(ERROR_MESSAGE_EMPTY)
    if len(body) > MESSAGE_MAX_LENGTH:
        raise NeedError(ERROR_MESSAGE_LONG % {"count": MESSAGE_MAX_LENGTH})
    if isinstance(thread, Order):
        message = Message.objects.create(order=thread, author=user, body=body)
    else:
        message = Message.objects.create(need=thread, author=user, body=body)
    message_notify(message)
    return message


# ------------------------------------------------------------------------------


def _locked(need_id: int) -> Need:
    """The need's row, locked until the transaction ends: answers, acceptance
    and closing of one need happen one after another."""
    return (
        Need.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(pk=need_id)
    )


def _check_allowed(need: Need, action: str) -> None:
    if not need_allows(action, need.state):
        raise NeedError(ERROR_NOT_OPEN % {"state": need.get_state_display()})


def _event(
    need: Need,
    actor: User | None,
    action: str,
    from_state: str,
    *,
    response: NeedResponse | None = None,
    order: Order | None = None,
    note: str = "",
) -> NeedEvent:
    assert action in NEED_TRANSITIONS, action  # noqa: S101 (a typo is a bug)
    return NeedEvent.objects.create(
        need=need,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=need.state,
        response=response,
        order=order,
        note=note,
    )
