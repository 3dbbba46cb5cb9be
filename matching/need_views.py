"""The need pages (需求): the list, posting a need, one need with its
suggested departments, answers and conversation, accepting a proposal, and
the organization department's demand–supply gap; and posting to the
conversation of an order. Thin: what a user sees comes from
``matching.need_selectors`` (a foreign id is a 404), every change from
``matching.need_services``, called by the forms."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from catalog.selectors import catalog_lookups
from matching.exports import (
    GAP_FILE,
    NEEDS_FILE,
    export_filename,
    export_url,
    gap_sheets,
    need_sheet,
)
from matching.models import (
    Need,
    NeedResponseKind,
    NeedState,
    NeedSuggestion,
)
from matching.need_forms import (
    MessageForm,
    NeedAcceptForm,
    NeedCloseForm,
    NeedDeclineForm,
    NeedPostForm,
    NeedProposeForm,
    ServiceForm,
)
from matching.need_lifecycle import NEED_TRANSITIONS, NeedSide, need_allows
from matching.need_selectors import (
    may_see_gap,
    need_history,
    need_responses,
    need_side,
    need_state_counts,
    need_suggestions_of,
    need_visible_to,
    need_worklist,
    proposable_offerings,
    unmet_needs_summary,
)
from matching.selectors import order_visible_to
from portal.exports import xlsx_response
from portal.models import Role

NEEDS_PER_PAGE = 25
# How a suggested department has answered, beside its name.
ANSWER_LABELS = {
    NeedResponseKind.PROPOSAL: NEED_TRANSITIONS["propose"].label,
    NeedResponseKind.DECLINE: NEED_TRANSITIONS["decline"].label,
}
# A family is named as a reason when at least this share of its offerings lie
# in the need's top category.
FAMILY_REASON_SHARE = 0.2


@dataclass(frozen=True)
class SuggestionRow:
    suggestion: NeedSuggestion
    reasons: list[str]
    # Whether the department has answered, and how.
    answer: str | Promise = ""


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str | Promise
    count: int


@login_required
def need_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    filterset = need_worklist(user=user, params=request.GET)
    page = Paginator(filterset.qs, NEEDS_PER_PAGE).get_page(request.GET.get("page"))
    counts = need_state_counts(user=user)
    return render(
        request,
        "matching/needs/need_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "state_counts": [
                StateCount(state, label, counts.get(state, 0))
                for state, label in NeedState.choices
            ],
            "chosen_state": filterset.form.data.get("state", ""),
            "can_post": user.role == Role.COMMUNITY_OPERATOR and user.region_id,
            "can_see_gap": may_see_gap(user),
            "is_department": user.role
            in (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER),
            "export_url": export_url("need_export", request.GET),
        },
    )


@login_required
def need_export(request: HttpRequest) -> HttpResponse:
    """Every need of the list, filtered as the list is, as an XLSX file."""
    return xlsx_response(
        filename=export_filename(NEEDS_FILE),
        sheets=[need_sheet(user=request.user, params=request.GET)],
    )


@login_required
def need_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role != Role.COMMUNITY_OPERATOR or not user.region_id:
        raise PermissionDenied
    form = NeedPostForm(request.POST if request.method == "POST" else None, user=user)
    if request.method == "POST" and form.is_valid():
        need = form.save()
        if need is not None:
            messages.success(request, _posted_message(need))
            return redirect("need_detail", need.pk)
    return render(
        request,
        "matching/needs/need_new.html",
        {"form": form, "catalog_url": catalog_lookups().index_url},
    )


def _posted_message(need: Need) -> str:
    count = need.suggestions.count()
    if not count:
        return _(
            "Your need has been posted. No department stands out for it yet: "
            "departments of the closest line of work will still see it."
        )
    return ngettext(
        "Your need has been posted and suggested to %(count)s department.",
        "Your need has been posted and suggested to %(count)s departments.",
        count,
    ) % {"count": count}


@login_required
def need_detail(request: HttpRequest, need_id: int) -> HttpResponse:
    need = need_visible_to(user=request.user, need_id=need_id)
    return _need_page(request, need)


@login_required
@require_POST
def need_respond(request: HttpRequest, need_id: int, kind: str) -> HttpResponse:
    need = need_visible_to(user=request.user, need_id=need_id)
    if kind not in NeedResponseKind.values:
        raise Http404
    # The service refuses this as well; asking first gives a 403 rather than a
    # form error to someone who may not answer at all.
    if need_side(request.user, need) != NeedSide.DEPARTMENT:
        raise PermissionDenied
    form_class = (
        NeedProposeForm if kind == NeedResponseKind.PROPOSAL else NeedDeclineForm
    )
    form = form_class(request.POST, need=need, user=request.user)
    if form.is_valid() and form.save() is not None:
        messages.success(
            request,
            _("Your proposal has been sent to the community.")
            if kind == NeedResponseKind.PROPOSAL
            else _("Your answer has been sent to the community."),
        )
        return redirect("need_detail", need.pk)
    return _need_page(request, need, failed=form)


@login_required
@require_POST
def need_close(request: HttpRequest, need_id: int) -> HttpResponse:
    need = need_visible_to(user=request.user, need_id=need_id)
    if need_side(request.user, need) != NeedSide.COMMUNITY:
        raise PermissionDenied
    form = NeedCloseForm(request.POST, need=need, user=request.user)
    if form.is_valid() and form.save() is not None:
        messages.success(request, _("The need has been closed."))
        return redirect("need_detail", need.pk)
    return _need_page(request, need, failed=form)


@login_required
def need_accept(request: HttpRequest, need_id: int, response_id: int) -> HttpResponse:
    """Accepting a proposal: a confirmation page, with the order's details
    for an offering on request."""
    user = request.user
    need = need_visible_to(user=user, need_id=need_id)
    response = get_object_or_404(
        need_responses(need), pk=response_id, kind=NeedResponseKind.PROPOSAL
    )
    if need_side(user, need) != NeedSide.COMMUNITY:
        raise PermissionDenied
    if not need_allows("accept", need.state):
        messages.info(request, _("This need is no longer open."))
        return redirect("need_detail", need.pk)
    form = NeedAcceptForm(
        request.POST if request.method == "POST" else None,
        response=response,
        user=user,
    )
    if request.method == "POST" and form.is_valid():
        acceptance = form.save()
        if acceptance is not None and acceptance.order is not None:
            messages.success(
                request,
                _(
                    "Proposal accepted: your order has been placed. The "
                    "department confirms it here."
                ),
            )
            return redirect("order_detail", acceptance.order.pk)
        if acceptance is not None:
            messages.info(
                request,
                _(
                    "Proposal accepted. Choose a session to place your order: "
                    "the need is matched once it is placed."
                ),
            )
            return redirect("order_new", response.offering_id)
    return render(
        request,
        "matching/needs/need_accept.html",
        {"need": need, "response": response, "form": form},
    )


@login_required
@require_POST
def need_message_post(request: HttpRequest, need_id: int) -> HttpResponse:
    need = need_visible_to(user=request.user, need_id=need_id)
    return _message_post(request, need, reverse("need_detail", args=[need.pk]))


@login_required
@require_POST
def message_post_view(request: HttpRequest, order_id: int) -> HttpResponse:
    """Post to an order's conversation (the form of
    ``templates/matching/conversation.html`` on the order page)."""
    order = order_visible_to(user=request.user, order_id=order_id)
    return _message_post(request, order, reverse("order_detail", args=[order.pk]))


def _message_post(request: HttpRequest, thread, page_url: str) -> HttpResponse:
    # message_post raises PermissionDenied (a 403) for someone who may see the
    # page but takes no part in the conversation (a street office).
    form = MessageForm(request.POST, thread=thread, user=request.user)
    if not (form.is_valid() and form.save() is not None):
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(f"{page_url}#conversation")


@login_required
def need_gap(request: HttpRequest) -> HttpResponse:
    if not may_see_gap(request.user):
        raise PermissionDenied
    return render(
        request,
        "matching/needs/need_gap.html",
        {"summary": unmet_needs_summary(request.user)},
    )


@login_required
def need_gap_export(request: HttpRequest) -> HttpResponse:
    """The gap page's three tables, as the three sheets of an XLSX file."""
    if not may_see_gap(request.user):
        raise PermissionDenied
    return xlsx_response(
        filename=export_filename(GAP_FILE), sheets=gap_sheets(user=request.user)
    )


def _need_page(
    request: HttpRequest, need: Need, failed: ServiceForm | None = None
) -> HttpResponse:
    """The need page, with the form that just failed in place of its blank
    one."""
    user = request.user
    side = need_side(user, need)
    is_open = need.state == NeedState.OPEN
    responses = list(need_responses(need))
    context: dict = {
        "need": need,
        "side": side,
        "responses": responses,
        "proposals": [r for r in responses if r.kind == NeedResponseKind.PROPOSAL],
        "declines": [r for r in responses if r.kind == NeedResponseKind.DECLINE],
        "suggestions": _suggestion_rows(need, responses),
        "history": [
            (event, NEED_TRANSITIONS[event.action].label)
            for event in need_history(need)
        ],
        "failed": failed,
    }
    if side == NeedSide.DEPARTMENT and is_open:
        declined = any(
            r.kind == NeedResponseKind.DECLINE and r.department_id == user.department_id
            for r in responses
        )
        context.update(
            propose_form=_kept(failed, NeedProposeForm)
            or NeedProposeForm(need=need, user=user),
            decline_form=None
            if declined
            else _kept(failed, NeedDeclineForm)
            or NeedDeclineForm(need=need, user=user),
            has_offerings=proposable_offerings(
                department=user.department, need=need
            ).exists(),
            own_responses=[
                r for r in responses if r.department_id == user.department_id
            ],
        )
    if side == NeedSide.COMMUNITY and is_open:
        context["close_form"] = _kept(failed, NeedCloseForm) or NeedCloseForm(
            need=need, user=user
        )
    shown = (
        context.get(name) for name in ("propose_form", "decline_form", "close_form")
    )
    if failed is not None and failed not in shown:
        # Someone else changed the need meanwhile: its form is gone, not its error.
        context["stray_errors"] = [
            error for errors in failed.errors.values() for error in errors
        ]
    return render(request, "matching/needs/need_detail.html", context)


def _kept(failed: ServiceForm | None, form_class: type) -> ServiceForm | None:
    return failed if isinstance(failed, form_class) else None


def _suggestion_rows(need: Need, responses) -> list[SuggestionRow]:
    answers = {}
    for response in responses:
        # A proposal says more than a decline of the same department.
        if answers.get(response.department_id) != NeedResponseKind.PROPOSAL:
            answers[response.department_id] = response.kind
    top = need.category.parent.name if need.category.parent_id else need.category.name
    return [
        SuggestionRow(
            suggestion,
            suggestion_reasons(suggestion, top_name=top),
            ANSWER_LABELS.get(answers.get(suggestion.department_id), ""),
        )
        for suggestion in need_suggestions_of(need)
    ]


def suggestion_reasons(suggestion: NeedSuggestion, *, top_name: str) -> list[str]:
    """Why a department was suggested, in the reader's language."""
    reasons = []
    if suggestion.same_category:
        reasons.append(
            ngettext(
                "Has %(count)s offering in this category",
                "Has %(count)s offerings in this category",
                suggestion.same_category,
            )
            % {"count": suggestion.same_category}
        )
    if suggestion.same_top_category:
        reasons.append(
            ngettext(
                "%(count)s more offering in %(top)s",
                "%(count)s more offerings in %(top)s",
                suggestion.same_top_category,
            )
            % {"count": suggestion.same_top_category, "top": top_name}
        )
    family = suggestion.department.family
    if family is not None and suggestion.family_affinity >= FAMILY_REASON_SHARE:
        reasons.append(
            _("%(family)s departments often serve %(top)s")
            % {"family": family.name, "top": top_name}
        )
    if suggestion.similar_titles:
        reasons.append(
            _("Similar offerings: %(titles)s")
            % {"titles": "、".join(suggestion.similar_titles)}
        )
    if suggestion.duty_phrases:
        reasons.append(
            _("Its duties include %(phrases)s")
            % {"phrases": _quoted(suggestion.duty_phrases)}
        )
    if suggestion.similar_needs:
        reasons.append(
            _("Has answered similar needs %(titles)s")
            % {"titles": _quoted(suggestion.similar_needs)}
        )
    return reasons


def _quoted(texts: list[str]) -> str:
    """Each of ``texts`` in the reader's quotation marks, one after another."""
    return "".join(_("“%(text)s”") % {"text": text} for text in texts)
