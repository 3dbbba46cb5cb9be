"""Answering (units): the evaluations a community or street office has to
fill, and the form for one department. Thin: what a unit sees comes from
``assessments.selectors`` (a round or department it was not asked about is a
404), the one change from ``services.evaluation_submit``, called by the form.

Nothing here may link a unit to its answers (DESIGN.md, invariant 2):
no draft is stored on the server (the page keeps it in the browser), no
message or page repeats an answer once sent, and the form page is never
cached, so that going back after sending shows nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from assessments.answer_forms import EvaluationForm
from assessments.lifecycle import DEPARTMENT_ROLES, ORGANIZER_ROLES
from assessments.models import Participation
from assessments.selectors import (
    RESPONDENT_ROLES,
    evaluations_of,
    participation_of,
    questions_of,
)
from assessments.services import (
    ERROR_ALREADY_ANSWERED,
    ERROR_ROUND_OVER,
    EvaluationError,
)

# Drafts live in the browser under this prefix, then unit, round, department
# (assessments/static/assessments/evaluation.js reads the same keys).
DRAFT_KEY_PREFIX = "diandan.evaluation-draft.v1"


def draft_key(participation: Participation) -> str:
    return (
        f"{DRAFT_KEY_PREFIX}:{participation.unit_id}:"
        f"{participation.round_id}:{participation.department_id}"
    )


@login_required
def evaluation_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role not in RESPONDENT_ROLES or not user.region_id:
        # Only units answer; everyone else is told where their part is.
        return render(
            request,
            "assessments/evaluation_elsewhere.html",
            {
                "organizer": user.role in ORGANIZER_ROLES,
                "department": user.role in DEPARTMENT_ROLES,
            },
        )
    pending = evaluations_of(user)
    for evaluation in pending:
        for participation in evaluation.participations:
            participation.draft_key = draft_key(participation)
    return render(
        request,
        "assessments/evaluation_list.html",
        {
            "pending": pending,
            "draft_prefix": f"{DRAFT_KEY_PREFIX}:{user.region_id}:",
        },
    )


@never_cache
@login_required
def evaluation_form(
    request: HttpRequest, round_id: int, department_id: int
) -> HttpResponse:
    participation = participation_of(
        user=request.user, round_id=round_id, department_id=department_id
    )
    evaluation_round = participation.round
    department = participation.department
    if participation.answered_on is not None:
        if request.method == "POST":
            messages.info(request, ERROR_ALREADY_ANSWERED)
            return redirect("evaluation_list")
        return render(
            request,
            "assessments/evaluation_done.html",
            {
                "participation": participation,
                "round": evaluation_round,
                "department": department,
                "draft_key": draft_key(participation),
                "next_participation": _next_to_answer(request.user, participation),
            },
        )
    if timezone.localdate() > evaluation_round.closes_on:
        messages.error(
            request,
            ERROR_ROUND_OVER % {"date": evaluation_round.closes_on.isoformat()},
        )
        return redirect("evaluation_list")
    form = EvaluationForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        evaluation_round=evaluation_round,
        department=department,
        questions=questions_of(evaluation_round),
        dimensions=list(evaluation_round.questionnaire.dimensions.all()),
    )
    if request.method == "POST":
        try:
            sent = form.submit()
        except EvaluationError as error:
            messages.error(request, str(error))
            return redirect("evaluation_list")
        if sent:
            messages.success(
                request,
                _(
                    "Your evaluation of %(department)s has been sent, anonymously. "
                    "Thank you."
                )
                % {"department": department.name},
            )
            return redirect("evaluation_list")
    return render(
        request,
        "assessments/evaluation_form.html",
        {
            "form": form,
            "round": evaluation_round,
            "department": department,
            "participation": participation,
            "draft_key": draft_key(participation),
            "days_left": (evaluation_round.closes_on - timezone.localdate()).days,
        },
    )


def _next_to_answer(user, participation: Participation) -> Participation | None:
    """The next department the unit still has to evaluate in the round."""
    for evaluation in evaluations_of(user):
        if evaluation.round.pk != participation.round_id:
            continue
        for other in evaluation.participations:
            if other.answered_on is None:
                return other
    return None
