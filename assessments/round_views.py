"""The organization department's round pages: its rounds, a round's
settings, its state and history with the actions possible now, completion
tracking (who has answered — participations, never answers), the units
still to answer and the moderation of free-text comments.

Thin: reads come from ``assessments.selectors`` (a round another department
runs is a 404), what may be done from ``assessments.lifecycle``, and every
change from ``assessments.services``, called by the forms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.exports import respondent_label
from assessments.filters import UnitsLeftFilter
from assessments.lifecycle import ROUND_TRANSITIONS, available
from assessments.models import (
    Comment,
    CommentState,
    EvaluationRound,
    RoundEvent,
    RoundState,
)
from assessments.review_forms import (
    REMIND,
    CommentReviewForm,
    RoundActionForm,
    RoundForm,
)
from assessments.selectors import (
    RESULT_STATES,
    comments_to_review,
    is_organizer,
    results_visible_to,
    round_completion,
    round_managed_by,
    rounds_managed_list,
    units_not_answered,
)
from portal.models import Department, RegionLevel, User

ROUNDS_PER_PAGE = 20
UNITS_PER_PAGE = 25

# Each event of a round's history, in words of what was done.
HISTORY_LABELS = {
    "create": gettext_lazy("Created the round"),
    "open": gettext_lazy("Opened the round"),
    "close": gettext_lazy("Closed the round"),
    "publish": gettext_lazy("Published the results"),
}
# What each step does, said on its button's confirmation.
ACTION_CONSEQUENCES = {
    "open": gettext_lazy(
        "The questionnaire version is frozen, every unit asked gets a "
        "notification, and answering starts. The settings can no longer change."
    ),
    "close": gettext_lazy(
        "No more answers are taken, and the results are computed. Departments "
        "see nothing until you publish them."
    ),
    "publish": gettext_lazy(
        "Every department evaluated sees its own results, rank and released "
        "comments, and is notified. Departments below the threshold get a "
        "rectification item. This cannot be undone."
    ),
    REMIND: gettext_lazy(
        "Every unit that still has departments to evaluate gets a reminder in "
        "its inbox. Units can be reminded once a day."
    ),
}
ACTION_LABELS = {REMIND: gettext_lazy("Remind the units")}


def _organizer_only(user: User) -> None:
    if not is_organizer(user):
        raise PermissionDenied


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _organizer_only(user)
    page = Paginator(rounds_managed_list(user), ROUNDS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "assessments/round_list.html",
        {"page_obj": page, "may_create": bool(user.department_id)},
    )


@login_required
def round_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    _organizer_only(user)
    if not user.department_id:
        raise PermissionDenied
    form = RoundForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        evaluation_round = form.save()
        if evaluation_round is not None:
            messages.success(
                request,
                _("The round “%(name)s” is saved as a draft.")
                % {"name": evaluation_round.name},
            )
            return redirect("round_detail", evaluation_round.pk)
    return render(request, "assessments/round_form.html", {"form": form})


@login_required
def round_edit(request: HttpRequest, round_id: int) -> HttpResponse:
    user = request.user
    evaluation_round = round_managed_by(user=user, round_id=round_id)
    if evaluation_round.state != RoundState.DRAFT:
        messages.info(
            request, _("Only a draft round can change: this one has been opened.")
        )
        return redirect("round_detail", evaluation_round.pk)
    form = RoundForm(request.POST or None, user=user, evaluation_round=evaluation_round)
    if request.method == "POST" and form.is_valid() and form.save() is not None:
        messages.success(request, _("The round's settings are saved."))
        return redirect("round_detail", evaluation_round.pk)
    return render(
        request,
        "assessments/round_form.html",
        {"form": form, "round": evaluation_round},
    )


@dataclass(frozen=True)
class HistoryRow:
    event: RoundEvent
    label: str | Promise


@dataclass(frozen=True)
class ClassRow:
    label: str | Promise
    asked: int
    answered: int

    @property
    def share(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


@dataclass
class ActionButton:
    action: str
    label: str | Promise
    consequence: str | Promise
    danger: bool = False


@dataclass
class RoundPage:
    """What the round page shows beside the round itself."""

    actions: list[ActionButton] = field(default_factory=list)
    may_remind: bool = False
    reminded_today: bool = False


@login_required
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    user = request.user
    evaluation_round = round_managed_by(user=user, round_id=round_id)
    return render(
        request,
        "assessments/round_detail.html",
        _round_context(evaluation_round, user),
    )


def _round_context(evaluation_round: EvaluationRound, user: User) -> dict:
    state = evaluation_round.state
    page = RoundPage(
        actions=[
            ActionButton(
                action=t.action,
                label=t.label,
                consequence=ACTION_CONSEQUENCES[t.action],
                danger=t.action == "publish",
            )
            for t in available(ROUND_TRANSITIONS, state, user)
        ]
    )
    if state == RoundState.OPEN:
        reminded = evaluation_round.reminded_at
        page.reminded_today = bool(
            reminded and timezone.localdate(reminded) == timezone.localdate()
        )
        page.may_remind = not page.reminded_today
    completion = (
        round_completion(evaluation_round) if state != RoundState.DRAFT else None
    )
    events = evaluation_round.events.select_related(
        "actor__department", "actor__region"
    )
    departments = list(
        evaluation_round.departments.select_related("family").order_by(
            "family__sort_order", "code"
        )
    )
    has_results = state in RESULT_STATES and hasattr(evaluation_round, "result")
    return {
        "round": evaluation_round,
        "page": page,
        "completion": completion,
        "class_rows": _class_rows(completion) if completion else [],
        "history": [
            HistoryRow(event, HISTORY_LABELS.get(event.action, event.action))
            for event in events
        ],
        "departments": departments,
        "has_results": has_results,
        "computing": state in RESULT_STATES and not has_results,
        "pending_comments": (
            comments_to_review(evaluation_round)
            .filter(state=CommentState.PENDING)
            .count()
            if state in RESULT_STATES
            else None
        ),
    }


def _class_rows(completion) -> list[ClassRow]:
    return [
        ClassRow(respondent_label(name), asked, answered)
        for name, (asked, answered) in sorted(completion.by_class.items())
    ]


@login_required
def round_act(request: HttpRequest, round_id: int, action: str) -> HttpResponse:
    """A step of the round's life, or the reminder: the first post shows what
    it does and asks to confirm; the confirmed post takes it."""
    if request.method != "POST":
        return redirect("round_detail", round_id)
    user = request.user
    evaluation_round = round_managed_by(user=user, round_id=round_id)
    if action == REMIND:
        if evaluation_round.state != RoundState.OPEN:
            raise Http404
        label = ACTION_LABELS[REMIND]
    else:
        transition = ROUND_TRANSITIONS.get(action)
        if transition is None:
            raise Http404
        if transition not in available(ROUND_TRANSITIONS, evaluation_round.state, user):
            messages.error(
                request,
                _("This cannot be done in the round's present state."),
            )
            return redirect("round_detail", evaluation_round.pk)
        label = transition.label
    form = RoundActionForm(
        request.POST, evaluation_round=evaluation_round, action=action
    )
    if not form.is_confirmed:
        return render(
            request,
            "assessments/round_confirm.html",
            {
                "round": evaluation_round,
                "action": action,
                "label": label,
                "consequence": ACTION_CONSEQUENCES[action],
                "danger": action == "publish",
                "facts": _confirm_facts(evaluation_round, action, user),
            },
        )
    error = form.act(user=user)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _done_message(action, evaluation_round))
    return redirect("round_detail", evaluation_round.pk)


def _confirm_facts(
    evaluation_round: EvaluationRound, action: str, user: User
) -> list[str]:
    """Figures that say what the step will touch."""
    if action == "publish":
        threshold = float(evaluation_round.rectification_threshold)
        results = results_visible_to(user).filter(round=evaluation_round)
        below = results.filter(total__lt=threshold).count()
        return [
            _("%(count)s departments will see their results.")
            % {"count": results.count()},
            _(
                "%(count)s departments fall below %(threshold)s and will get a "
                "rectification item."
            )
            % {"count": below, "threshold": f"{threshold:g}"},
        ]
    if action in ("close", REMIND):
        completion = round_completion(evaluation_round)
        return [
            _("%(answered)s of %(asked)s evaluations have been sent (%(share)s).")
            % {
                "answered": completion.answered,
                "asked": completion.asked,
                "share": f"{completion.share:.0%}",
            }
        ]
    return [
        _("%(count)s departments are evaluated.")
        % {"count": evaluation_round.departments.count()}
    ]


def _done_message(action: str, evaluation_round: EvaluationRound) -> str:
    evaluation_round.refresh_from_db()
    if action == "open":
        return _("The round is open: the units have been asked to answer.")
    if action == "close":
        if hasattr(evaluation_round, "result"):
            return _("The round is closed and its results are computed.")
        return _("The round is closed; its results are being computed.")
    if action == "publish":
        return _("The results are published to the departments.")
    return _("The units with evaluations left have been reminded.")


@login_required
def round_units(request: HttpRequest, round_id: int) -> HttpResponse:
    """The units that have not answered every department yet: counts of
    participations, never anything they answered."""
    evaluation_round = round_managed_by(user=request.user, round_id=round_id)
    filterset = UnitsLeftFilter(
        request.GET or None,
        queryset=units_not_answered(evaluation_round),
        evaluation_round=evaluation_round,
    )
    page = Paginator(filterset.qs, UNITS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "assessments/round_units.html",
        {
            "round": evaluation_round,
            "filterset": filterset,
            "page_obj": page,
            "street_level": RegionLevel.STREET,
        },
    )


@dataclass
class CommentGroup:
    department: Department
    pending: list[tuple[Comment, CommentReviewForm]] = field(default_factory=list)
    reviewed: list[tuple[Comment, CommentReviewForm]] = field(default_factory=list)


@login_required
def round_comments(request: HttpRequest, round_id: int) -> HttpResponse:
    """The free-text comments of a closed round, by department, each to
    release, release with changes or withhold. No comment says who wrote it,
    and while the round is open none is shown: arriving beside the
    participations of the day, it could be told whose it is."""
    user = request.user
    evaluation_round = round_managed_by(user=user, round_id=round_id)
    if evaluation_round.state not in RESULT_STATES:
        return render(
            request,
            "assessments/round_comments.html",
            {"round": evaluation_round, "too_early": True},
        )
    comments = comments_to_review(evaluation_round)
    failed: CommentReviewForm | None = None
    if request.method == "POST":
        comment_id = request.POST.get("comment", "")
        comment = (
            comments.filter(pk=comment_id).first() if _is_uuid(comment_id) else None
        )
        if comment is None:
            raise Http404
        form = CommentReviewForm(request.POST, comment=comment)
        if form.is_valid() and form.review(user=user, comment=comment) is not None:
            messages.success(request, _comment_message(form.cleaned_data["decision"]))
            url = reverse("round_comments", args=[evaluation_round.pk])
            return redirect(f"{url}#department-{comment.department_id}")
        failed = form
    groups: dict[int, CommentGroup] = {}
    for comment in comments:
        group = groups.setdefault(
            comment.department_id, CommentGroup(department=comment.department)
        )
        form = (
            failed
            if failed is not None and failed.comment.pk == comment.pk
            else CommentReviewForm(comment=comment)
        )
        if comment.state == CommentState.PENDING:
            group.pending.append((comment, form))
        else:
            group.reviewed.append((comment, form))
    ordered = sorted(groups.values(), key=lambda g: (not g.pending, g.department.code))
    return render(
        request,
        "assessments/round_comments.html",
        {
            "round": evaluation_round,
            "groups": ordered,
            "pending": sum(len(g.pending) for g in ordered),
            "failed": failed,
        },
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _comment_message(decision: str) -> str:
    if decision == CommentState.WITHHELD:
        return _("The comment is withheld: the department will not read it.")
    if decision == CommentState.REDACTED:
        return _("The comment is released with your changes.")
    return _("The comment is released as written.")
