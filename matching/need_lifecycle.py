"""The need lifecycle as data: which action leads from which states to which,
and which side takes it. ``matching.need_services`` applies it; the need page
reads it to offer only what is possible.

    open ──accept (on request)──▶ matched ──order confirmed──▶ fulfilled
      │  ◀──order rejected or cancelled──┘
      └──close (with a reason)──▶ closed

Departments answer (propose, decline) while a need is open; answers do not
change its state. A proposal of a scheduled offering is accepted first and
matched when the community has placed its order for a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from matching.models import NeedState

S = NeedState


class NeedSide(StrEnum):
    COMMUNITY = "community"
    DEPARTMENT = "department"
    # The portal itself, following the order placed from a proposal.
    PORTAL = "portal"


@dataclass(frozen=True)
class NeedTransition:
    action: str
    sources: tuple[str, ...]
    # None: the action leaves the state as it is (an answer).
    target: str | None
    side: NeedSide
    # What the need's history says of it.
    label: str | Promise
    reason_required: bool = False


NEED_TRANSITIONS: dict[str, NeedTransition] = {
    t.action: t
    for t in (
        NeedTransition("post", (), S.OPEN, NeedSide.COMMUNITY, _("Posted the need")),
        NeedTransition(
            "propose",
            (S.OPEN,),
            None,
            NeedSide.DEPARTMENT,
            _("Proposed an offering"),
        ),
        NeedTransition(
            "decline",
            (S.OPEN,),
            None,
            NeedSide.DEPARTMENT,
            _("Declined"),
            reason_required=True,
        ),
        NeedTransition(
            "accept",
            (S.OPEN,),
            None,
            NeedSide.COMMUNITY,
            _("Accepted a proposal"),
        ),
        NeedTransition(
            "match",
            (S.OPEN,),
            S.MATCHED,
            NeedSide.PORTAL,
            _("Order placed"),
        ),
        NeedTransition(
            "reopen",
            (S.MATCHED,),
            S.OPEN,
            NeedSide.PORTAL,
            _("Reopened: the order did not go ahead"),
        ),
        NeedTransition(
            "fulfil",
            (S.MATCHED,),
            S.FULFILLED,
            NeedSide.PORTAL,
            _("Fulfilled: the order was confirmed"),
        ),
        NeedTransition(
            "close",
            (S.OPEN,),
            S.CLOSED,
            NeedSide.COMMUNITY,
            _("Closed the need"),
            reason_required=True,
        ),
    )
}

# States no action leaves.
NEED_TERMINAL_STATES = frozenset(S.values) - {
    source for t in NEED_TRANSITIONS.values() for source in t.sources
}


def need_allows(action: str, state: str) -> bool:
    """Whether ``action`` may be taken on a need in ``state``."""
    transition = NEED_TRANSITIONS.get(action)
    return transition is not None and state in transition.sources
