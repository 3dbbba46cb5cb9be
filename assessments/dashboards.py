"""The workbench panels of reverse evaluation (see ``portal.dashboard``).
Thin, like views: figures come from ``assessments.selectors``, each scoped to
the user, in a fixed number of queries however many departments a round
evaluates.

- A community or street office: the open rounds it still has departments
  to evaluate in, with their deadline.
- The organization department: its open rounds' completion, closed rounds
  waiting to be published, comments waiting for review and rectification
  items reported done.
- A department: its latest published result and its open rectification
  items.
"""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from assessments.lifecycle import DEPARTMENT_ROLES
from assessments.models import RectificationState, RoundState
from assessments.selectors import (
    RESPONDENT_ROLES,
    comments_pending_for,
    evaluations_of,
    is_organizer,
    rectifications_visible_to,
    results_visible_to,
    rounds_managed_list,
)
from portal.dashboard import Panel
from portal.models import User

LIST_LENGTH = 6


def workbench_panels(request: HttpRequest) -> list[Panel]:
    user = request.user
    if user.role in RESPONDENT_ROLES:
        return _unit_panels(user)
    if is_organizer(user):
        return _organizer_panels(user)
    if user.role in DEPARTMENT_ROLES:
        return _department_panels(user)
    return []


def _unit_panels(user: User) -> list[Panel]:
    pending = evaluations_of(user)
    if not pending:
        return []
    return [
        Panel(
            title=gettext_lazy("Evaluations to answer"),
            template="assessments/panels/unit_evaluations.html",
            context={"rounds": pending},
            order=15,
        )
    ]


def _organizer_panels(user: User) -> list[Panel]:
    rounds = list(
        rounds_managed_list(user).filter(state__in=(RoundState.OPEN, RoundState.CLOSED))
    )
    comments = dict(
        comments_pending_for(user)
        .values_list("round_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    reported = list(
        rectifications_visible_to(user)
        .filter(
            state=RectificationState.REPORTED, round__organizer_id=user.department_id
        )
        .order_by("pk")[:LIST_LENGTH]
    )
    commented = (
        list(
            rounds_managed_list(user)
            .filter(pk__in=list(comments))
            .order_by("-opens_on")
        )
        if comments
        else []
    )
    return [
        Panel(
            title=gettext_lazy("Evaluation rounds"),
            template="assessments/panels/organizer_rounds.html",
            context={
                "open_rounds": [r for r in rounds if r.state == RoundState.OPEN],
                "closed_rounds": [r for r in rounds if r.state == RoundState.CLOSED],
            },
            order=12,
            wide=True,
        ),
        Panel(
            title=gettext_lazy("Waiting for your review"),
            template="assessments/panels/organizer_review.html",
            context={
                "commented": [(r, comments[r.pk]) for r in commented],
                "reported": reported,
            },
            order=13,
        ),
    ]


def _department_panels(user: User) -> list[Panel]:
    latest = results_visible_to(user).order_by("-round__opens_on", "-round_id").first()
    items = list(
        rectifications_visible_to(user)
        .exclude(state=RectificationState.CLOSED)
        .order_by("-created_at")[:LIST_LENGTH]
    )
    if latest is None and not items:
        return []
    return [
        Panel(
            title=gettext_lazy("Evaluation by the communities"),
            template="assessments/panels/department_result.html",
            context={"result": latest, "items": items},
            order=15,
        )
    ]
