"""The order lifecycle as data: which action leads from which states to which,
who may take it, and what it needs. ``matching.services`` applies it; views
and templates read it to offer only the actions that are possible."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from matching.models import Order, OrderState
from portal.models import Role, User

S = OrderState


class Actor(StrEnum):
    COMMUNITY = "community"
    DEPARTMENT = "department"
    # The portal itself: placing on the waiting list, promoting from it.
    PORTAL = "portal"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    actor: Actor
    label: str | Promise
    reason_required: bool = False


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", (S.SUBMITTED,), S.ACCEPTED, Actor.DEPARTMENT, _("Accept")),
        Transition(
            "reject",
            (S.SUBMITTED, S.WAITLISTED),
            S.REJECTED,
            Actor.DEPARTMENT,
            _("Reject"),
            reason_required=True,
        ),
        Transition(
            "schedule", (S.ACCEPTED,), S.SCHEDULED, Actor.DEPARTMENT, _("Schedule")
        ),
        Transition(
            "deliver",
            (S.SCHEDULED,),
            S.DELIVERED,
            Actor.DEPARTMENT,
            _("Record the delivery"),
        ),
        Transition(
            "confirm", (S.DELIVERED,), S.CONFIRMED, Actor.COMMUNITY, _("Confirm")
        ),
        # The community may change its mind until a date is fixed.
        Transition(
            "withdraw",
            (S.SUBMITTED, S.WAITLISTED, S.ACCEPTED),
            S.CANCELLED,
            Actor.COMMUNITY,
            _("Cancel the order"),
        ),
        Transition(
            "cancel",
            (S.SUBMITTED, S.WAITLISTED, S.ACCEPTED, S.SCHEDULED),
            S.CANCELLED,
            Actor.DEPARTMENT,
            _("Cancel"),
            reason_required=True,
        ),
        Transition(
            "waitlist", (S.SUBMITTED,), S.WAITLISTED, Actor.PORTAL, _("Waitlist")
        ),
        Transition(
            "promote", (S.WAITLISTED,), S.SUBMITTED, Actor.PORTAL, _("Seat freed")
        ),
    )
}

# States no action leaves.
TERMINAL_STATES = frozenset(S.values) - {
    source for t in TRANSITIONS.values() for source in t.sources
}


def acts_as(user: User, order: Order) -> Actor | None:
    """The side ``user`` is on for ``order``: its community's operators, or the
    answering department's publishers and approvers; None for anyone else."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role == Role.COMMUNITY_OPERATOR and user.region_id == order.community_id:
        return Actor.COMMUNITY
    if (
        user.role in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER)
        and user.department_id == order.department_id
    ):
        return Actor.DEPARTMENT
    return None


def actions_for(user: User, order: Order) -> list[Transition]:
    """The actions ``user`` may take on ``order`` now."""
    side = acts_as(user, order)
    return [
        t for t in TRANSITIONS.values() if t.actor == side and order.state in t.sources
    ]
