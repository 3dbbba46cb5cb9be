"""Rectification items (整改): the list (the organization department's area,
or a department's own) and an item's page — why it was made, the plan, its
progress, the check by the next round, and the actions the user may take
now. Reads from ``assessments.selectors`` (a foreign id is a 404), what may
be done from ``assessments.lifecycle``, changes through the forms, which call
``assessments.services.rectification_act``."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.filters import RectificationFilter
from assessments.lifecycle import (
    DEPARTMENT_ROLES,
    ORGANIZER_ROLES,
    RECTIFICATION_TRANSITIONS,
    Actor,
    Transition,
    acts_as,
    available,
)
from assessments.models import Rectification, RectificationEvent, RectificationState
from assessments.review_forms import RectificationActionForm, rectification_form
from assessments.selectors import rectification_of, rectifications_visible_to
from portal.models import User

ITEMS_PER_PAGE = 25

HISTORY_LABELS = {
    "plan": gettext_lazy("Submitted the plan"),
    "progress": gettext_lazy("Reported progress"),
    "report": gettext_lazy("Reported the work done"),
    "return": gettext_lazy("Sent it back"),
    "close": gettext_lazy("Accepted and closed it"),
}

# How the next round's total compares with the threshold.
RECHECK_PASSED = "passed"
RECHECK_FAILED = "failed"
RECHECK_PENDING = "pending"
RECHECK_THIN = "thin"
RECHECK_LABELS = {
    RECHECK_PASSED: gettext_lazy("Up to standard"),
    RECHECK_FAILED: gettext_lazy("Still below the standard"),
    RECHECK_PENDING: gettext_lazy("Waiting for the next round"),
    RECHECK_THIN: gettext_lazy("Too few answers in the next round"),
}


def recheck_of(item: Rectification) -> str:
    """Whether the next published round found the department above the
    threshold of the round that made the item."""
    if item.recheck_round_id is None:
        return RECHECK_PENDING
    if item.recheck_total is None:
        return RECHECK_THIN
    threshold = float(item.round.rectification_threshold)
    return RECHECK_PASSED if item.recheck_total >= threshold else RECHECK_FAILED


@dataclass(frozen=True)
class ItemRow:
    item: Rectification
    recheck: str
    recheck_label: str | Promise


def _may_see_rectifications(user: User) -> None:
    if user.role not in (*ORGANIZER_ROLES, *DEPARTMENT_ROLES):
        raise PermissionDenied


@login_required
def rectification_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    _may_see_rectifications(user)
    filterset = RectificationFilter(
        request.GET or None, queryset=rectifications_visible_to(user), user=user
    )
    page = Paginator(filterset.qs, ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        ItemRow(item, recheck_of(item), RECHECK_LABELS[recheck_of(item)])
        for item in page
    ]
    return render(
        request,
        "assessments/rectification_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "rows": rows,
            "organizer": acts_as(user) == Actor.ORGANIZER,
            "open_states": (RectificationState.OPEN, RectificationState.UNDER_WAY),
        },
    )


@dataclass(frozen=True)
class HistoryRow:
    event: RectificationEvent
    label: str | Promise


def _actions(item: Rectification, user: User) -> list[Transition]:
    """What ``user`` may do now: the department on its own items, the
    organization department on the items of the rounds it runs."""
    side = acts_as(user)
    if side == Actor.ORGANIZER and item.round.organizer_id != user.department_id:
        return []
    if side == Actor.DEPARTMENT and item.department_id != user.department_id:
        return []
    return available(RECTIFICATION_TRANSITIONS, item.state, user)


@login_required
def rectification_detail(request: HttpRequest, rectification_id: int) -> HttpResponse:
    item = rectification_of(user=request.user, rectification_id=rectification_id)
    return _item_page(request, item)


@login_required
def rectification_act(
    request: HttpRequest, rectification_id: int, action: str
) -> HttpResponse:
    if request.method != "POST":
        return redirect("rectification_detail", rectification_id)
    user = request.user
    item = rectification_of(user=user, rectification_id=rectification_id)
    transition = RECTIFICATION_TRANSITIONS.get(action)
    if transition is None:
        raise Http404
    if transition not in _actions(item, user):
        if acts_as(user) != transition.actor:
            raise PermissionDenied
        messages.error(request, _("This cannot be done in the item's present state."))
        return redirect("rectification_detail", item.pk)
    form = rectification_form(transition, item, request.POST)
    if form.is_valid() and form.act(user=user) is not None:
        messages.success(
            request,
            _("Done: %(action)s.") % {"action": transition.label},
        )
        return redirect("rectification_detail", item.pk)
    return _item_page(request, item, failed=form)


def _item_page(
    request: HttpRequest,
    item: Rectification,
    failed: RectificationActionForm | None = None,
) -> HttpResponse:
    user = request.user
    forms = [
        failed
        if failed is not None and failed.transition.action == transition.action
        else rectification_form(transition, item)
        for transition in _actions(item, user)
    ]
    dimensions = {d.code: d.name for d in item.round.questionnaire.dimensions.all()}
    events = item.events.select_related("actor__department", "actor__region")
    recheck = recheck_of(item)
    return render(
        request,
        "assessments/rectification_detail.html",
        {
            "item": item,
            "threshold": float(item.round.rectification_threshold),
            "low_dimensions": [dimensions.get(code, code) for code in item.dimensions],
            "history": [
                HistoryRow(event, HISTORY_LABELS.get(event.action, event.action))
                for event in events
            ],
            "action_forms": forms,
            "recheck": recheck,
            "recheck_label": RECHECK_LABELS[recheck],
            "organizer": acts_as(user) == Actor.ORGANIZER,
        },
    )
