"""The order pages: placing an order, the order list, one order and its
actions. Thin: what a user sees comes from ``matching.selectors`` (a foreign
id is a 404), what they may do from ``matching.lifecycle``, and every change
from ``matching.services``, called by the forms."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.models import OfferingPage
from catalog.selectors import offering_orderable_by
from matching.exports import ORDERS_FILE, export_filename, export_url, order_sheet
from matching.forms import OrderActionForm, OrderPlaceForm, action_form
from matching.lifecycle import (
    TERMINAL_STATES,
    TRANSITIONS,
    Actor,
    actions_for,
    acts_as,
)
from matching.models import ACTIVE_STATES, Order, OrderEvent, OrderState
from matching.selectors import (
    order_by_key,
    order_state_counts,
    order_visible_to,
    order_worklist,
    orders_under_way,
    side_of,
    turn_states,
)
from portal.exports import xlsx_response

ORDERS_PER_PAGE = 25

# What the side whose turn it is does next, by state: the list's headline
# counts and the "your turn" mark of its rows.
NEXT_STEP = {
    OrderState.SUBMITTED: gettext_lazy("To answer"),
    OrderState.ACCEPTED: gettext_lazy("To schedule"),
    OrderState.SCHEDULED: gettext_lazy("To deliver"),
    OrderState.DELIVERED: gettext_lazy("To confirm"),
}
# Each event of the history, in words of what was done.
HISTORY_LABELS = {
    "place": gettext_lazy("Placed the order"),
    "accept": gettext_lazy("Accepted the order"),
    "reject": gettext_lazy("Turned the order down"),
    "schedule": gettext_lazy("Fixed the date"),
    "deliver": gettext_lazy("Recorded the delivery"),
    "confirm": gettext_lazy("Confirmed the delivery"),
    "withdraw": gettext_lazy("Withdrew the order"),
    "cancel": gettext_lazy("Called the order off"),
    "waitlist": gettext_lazy("Put on the waiting list"),
    "promote": gettext_lazy("Moved up from the waiting list"),
    "allocate": gettext_lazy("Allocated in an ordering campaign"),
}


@dataclass(frozen=True)
class Highlight:
    """One count above the order list, linking to the orders it counts."""

    state: str
    label: str | Promise
    count: int
    your_turn: bool


@dataclass(frozen=True)
class HistoryRow:
    event: OrderEvent
    label: str | Promise


@login_required
def order_new(request: HttpRequest, offering_id: int) -> HttpResponse:
    offering = get_object_or_404(OfferingPage.objects.live(), pk=offering_id)
    user = request.user
    # Only communities order (the service refuses anyone else as well).
    if side_of(user) != Actor.COMMUNITY or not user.region_id:
        raise PermissionDenied
    context = {
        "offering": offering,
        "department_page": offering.get_parent(),
    }
    if not offering_orderable_by(offering=offering, user=user):
        # Signed-in communities may read every offering page, but order only
        # those serving them: say why rather than show a bare 403.
        return render(request, "matching/order_new.html", context, status=403)
    under_way = list(orders_under_way(user=user, offering_id=offering.pk))
    form = OrderPlaceForm(
        request.POST if request.method == "POST" else None,
        offering=offering,
        user=user,
        ordered={order.session_id: order for order in under_way},
        # The offering page links each session here: it comes chosen.
        initial={"session": request.GET.get("session")},
    )
    if request.method == "POST" and form.is_valid():
        earlier = order_by_key(user=user, key=form.cleaned_data["idempotency_key"])
        if earlier is not None:
            messages.info(
                request,
                _("This order had already been placed; it was not placed twice."),
            )
            return redirect("order_detail", earlier.pk)
        order = form.place()
        if order is not None:
            # Waiting is not yet success: the page says so in the neutral colour.
            notify = (
                messages.info
                if order.state == OrderState.WAITLISTED
                else messages.success
            )
            notify(request, _placed_message(order))
            return redirect("order_detail", order.pk)
    context.update(form=form, orders_under_way=under_way)
    return render(request, "matching/order_new.html", context)


def _placed_message(order: Order) -> str:
    if order.state == OrderState.WAITLISTED:
        return _(
            "The session is full: your order is on its waiting list, and moves up "
            "by itself when seats are freed."
        )
    return _("Your order has been placed. The department will answer it here.")


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    filterset = order_worklist(user=user, params=request.GET)
    page = Paginator(filterset.qs, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    side = side_of(user)
    for order in page:
        # Set by the worklist on the orders waiting for the user's side.
        order.next_step = (
            NEXT_STEP.get(order.state)
            if getattr(order, "waiting_since", None)
            else None
        )
    return render(
        request,
        "matching/order_list.html",
        {
            "filterset": filterset,
            "page_obj": page,
            "side": side,
            "highlights": _highlights(user, side),
            "chosen_state": filterset.form.data.get("state", ""),
            "export_url": export_url("order_export", request.GET),
        },
    )


@login_required
def order_export(request: HttpRequest) -> HttpResponse:
    """Every order of the list, filtered as the list is, as an XLSX file."""
    return xlsx_response(
        filename=export_filename(ORDERS_FILE),
        sheets=[order_sheet(user=request.user, params=request.GET)],
    )


def _highlights(user, side: Actor | None) -> list[Highlight]:
    """The counts above the list: what waits for the user's side first, then
    the other states of orders under way."""
    counts = order_state_counts(user=user)
    turn = turn_states(side)
    return [
        Highlight(
            state,
            NEXT_STEP.get(state, OrderState(state).label),
            counts.get(state, 0),
            your_turn=True,
        )
        for state in turn
    ] + [
        Highlight(state, OrderState(state).label, counts.get(state, 0), your_turn=False)
        for state in ACTIVE_STATES
        if state not in turn
    ]


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = order_visible_to(user=request.user, order_id=order_id)
    return _order_page(request, order)


@login_required
@require_POST
def order_act(request: HttpRequest, order_id: int, action: str) -> HttpResponse:
    order = order_visible_to(user=request.user, order_id=order_id)
    transition = TRANSITIONS.get(action)
    if transition is None or transition.actor == Actor.PORTAL:
        raise Http404
    # The service refuses this as well; asking first means someone who may
    # not take the action at all gets a 403, never a form error about it.
    if acts_as(request.user, order) != transition.actor:
        raise PermissionDenied
    form = action_form(transition, order, request.POST)
    if form.is_valid():
        changed = form.act(user=request.user)
        if changed is not None:
            messages.success(
                request,
                _("Done: the order is now “%(state)s”.")
                % {"state": changed.get_state_display()},
            )
            return redirect("order_detail", order.pk)
    return _order_page(request, order, failed=form)


def _order_page(
    request: HttpRequest, order: Order, failed: OrderActionForm | None = None
) -> HttpResponse:
    """The order page, with the form of an action that just failed in place
    of its blank one; when the action is no longer offered (someone else
    changed the order meanwhile), its errors stand above the actions."""
    action_forms = [
        failed
        if failed is not None and failed.transition.action == transition.action
        else action_form(transition, order)
        for transition in actions_for(request.user, order)
    ]
    stray_errors = (
        failed.non_field_errors()
        if failed is not None and failed not in action_forms
        else []
    )
    events = order.events.select_related("actor__region", "actor__department")
    side = acts_as(request.user, order)
    return render(
        request,
        "matching/order_detail.html",
        {
            "order": order,
            "action_forms": action_forms,
            "stray_errors": stray_errors,
            "history": [HistoryRow(event, _event_label(event)) for event in events],
            "side": side,
            "finished": order.state in TERMINAL_STATES,
            "next_step": NEXT_STEP.get(order.state)
            if order.state in turn_states(side)
            else None,
        },
    )


def _event_label(event: OrderEvent) -> str | Promise:
    # An action the lifecycle gains later shows by its button's label.
    transition = TRANSITIONS.get(event.action)
    return HISTORY_LABELS.get(event.action) or (
        transition.label if transition else event.action
    )
