"""The lives of a round and of a rectification item as data: which action
leads from which state to which, and who takes it. ``assessments.services``
applies them; pages read them to offer only what is possible."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from assessments.models import RectificationState, RoundState
from portal.models import Role, User


class Actor(StrEnum):
    # The organization department running the round (and administrators).
    ORGANIZER = "organizer"
    # The department evaluated.
    DEPARTMENT = "department"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    actor: Actor
    label: str | Promise
    note_required: bool = False


R = RoundState
ROUND_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("open", (R.DRAFT,), R.OPEN, Actor.ORGANIZER, _("Open the round")),
        Transition("close", (R.OPEN,), R.CLOSED, Actor.ORGANIZER, _("Close the round")),
        Transition(
            "publish",
            (R.CLOSED,),
            R.PUBLISHED,
            Actor.ORGANIZER,
            _("Publish the results"),
        ),
    )
}

S = RectificationState
RECTIFICATION_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        # The plan: what the department will change, by when.
        Transition(
            "plan", (S.OPEN,), S.UNDER_WAY, Actor.DEPARTMENT, _("Submit the plan")
        ),
        # A progress note keeps the state.
        Transition(
            "progress",
            (S.UNDER_WAY,),
            S.UNDER_WAY,
            Actor.DEPARTMENT,
            _("Report progress"),
            note_required=True,
        ),
        Transition(
            "report",
            (S.UNDER_WAY,),
            S.REPORTED,
            Actor.DEPARTMENT,
            _("Report it done"),
            note_required=True,
        ),
        Transition(
            "return",
            (S.REPORTED,),
            S.UNDER_WAY,
            Actor.ORGANIZER,
            _("Send back"),
            note_required=True,
        ),
        Transition(
            "close", (S.REPORTED,), S.CLOSED, Actor.ORGANIZER, _("Accept and close")
        ),
    )
}

ORGANIZER_ROLES = (Role.ORGANIZATION_DEPARTMENT, Role.ADMINISTRATOR)
DEPARTMENT_ROLES = (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER)


def acts_as(user: User) -> Actor | None:
    if user.role in ORGANIZER_ROLES:
        return Actor.ORGANIZER
    if user.role in DEPARTMENT_ROLES:
        return Actor.DEPARTMENT
    return None


def available(
    transitions: dict[str, Transition], state: str, user: User
) -> list[Transition]:
    """The actions ``user`` may take from ``state`` (scoping aside)."""
    side = acts_as(user)
    return [t for t in transitions.values() if state in t.sources and t.actor == side]
