"""Forms of the order pages. They check the shape of what was typed and hand
it to ``matching.services``; what the services refuse comes back as a form
error, with nothing saved."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from catalog.models import Availability, OfferingPage, OfferingSession
from catalog.selectors import offering_upcoming_sessions
from matching.lifecycle import Transition
from matching.models import Order, OrderState
from matching.services import OrderError, order_place, order_transition
from portal.models import User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# PositiveSmallIntegerField's ceiling, so an absurd number is a form error
# rather than a database error.
MOST_PEOPLE = 32767


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OfferingSession) -> str:
        starts = timezone.localtime(obj.starts_at)
        ends = timezone.localtime(obj.ends_at)
        return f"{starts:%Y-%m-%d %H:%M} – {ends:%H:%M}"


@dataclass(frozen=True)
class SessionChoice:
    """A session as the order form offers it: its radio button, and the order
    the community already has under way for it (then it cannot be chosen)."""

    radio: forms.boundfield.BoundWidget
    session: OfferingSession
    ordered: Order | None

    @property
    def is_full(self) -> bool:
        return self.session.seats_left < 1


class OrderPlaceForm(forms.Form):
    """A community operator's order of one offering: a session of a scheduled
    offering, or the dates that would suit for one on request."""

    session = SessionChoiceField(
        label=_("Session"),
        queryset=OfferingSession.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose a session."),
            "invalid_choice": _(
                "That session can no longer be ordered: choose another."
            ),
        },
    )
    wished_from = forms.DateField(label=_("From"), widget=DATE_INPUT)
    wished_to = forms.DateField(label=_("Until"), widget=DATE_INPUT)
    participants = forms.IntegerField(
        label=_("Participants"),
        min_value=1,
        max_value=MOST_PEOPLE,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    contact_name = forms.CharField(
        label=_("Contact person"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Anything the department should know: who will take part, the room, "
            "special needs."
        ),
    )
    # One per form shown: a double click, or a submit the browser sends again,
    # finds the order the first one placed instead of placing a second.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        offering: OfferingPage,
        user: User,
        ordered: Mapping[int | None, Order] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offering = offering
        self.user = user
        self.ordered = ordered or {}
        if offering.availability == Availability.SCHEDULED:
            del self.fields["wished_from"], self.fields["wished_to"]
            self.fields["session"].queryset = offering_upcoming_sessions(offering)
        else:
            del self.fields["session"]
            # A hint for the date pickers; the service has the last word.
            earliest = timezone.localdate() + timedelta(days=offering.lead_time_days)
            for name in ("wished_from", "wished_to"):
                self.fields[name].widget.attrs["min"] = earliest.isoformat()
        participants = self.fields["participants"]
        participants.widget.attrs["min"] = 1
        if offering.max_participants:
            participants.widget.attrs["max"] = offering.max_participants
        self.initial.setdefault("contact_name", user.get_full_name())
        self.initial.setdefault("contact_phone", user.phone)
        self.initial.setdefault("idempotency_key", uuid.uuid4())

    def session_choices(self) -> list[SessionChoice]:
        """The upcoming sessions to choose from, full ones included: an order
        for a full session waits on its waiting list."""
        if "session" not in self.fields:
            return []
        choices = []
        for radio in self["session"]:
            session = radio.data["value"].instance
            choices.append(SessionChoice(radio, session, self.ordered.get(session.pk)))
        return choices

    @property
    def earliest_date(self) -> str | None:
        """The first day an order on request may wish for, for the page's hint."""
        if "wished_from" not in self.fields:
            return None
        return self.fields["wished_from"].widget.attrs["min"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("wished_from"), cleaned.get("wished_to")
        if start and end and end < start:
            self.add_error("wished_to", _("The last day comes before the first."))
        return cleaned

    def place(self) -> Order | None:
        """Place the order; None, with the service's refusal added to the
        form's errors, when it cannot be placed. Call after ``is_valid()``.
        ``PermissionDenied`` from the service passes through."""
        data = self.cleaned_data
        try:
            return order_place(
                user=self.user,
                offering=self.offering,
                session=data.get("session"),
                wished_from=data.get("wished_from"),
                wished_to=data.get("wished_to"),
                participants=data["participants"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                note=data["note"],
                idempotency_key=data["idempotency_key"],
            )
        except OrderError as error:
            self.add_error(None, str(error))
            return None


class OrderActionForm(forms.Form):
    """One action on an order; this base needs nothing but the click (accept,
    confirm). Each form on the order page has its action as prefix, so the
    ids of their fields never collide."""

    def __init__(
        self, *args: Any, transition: Transition, order: Order, **kwargs: Any
    ) -> None:
        kwargs.setdefault("prefix", transition.action)
        super().__init__(*args, **kwargs)
        self.transition = transition
        self.order = order

    @property
    def help(self) -> str | Promise | None:
        """What the action does, in a line above its button."""
        return ACTION_HELP.get(self.transition.action)

    @property
    def ends_order(self) -> bool:
        """Whether the action ends the order unserved: the page sets it apart."""
        return self.transition.target in (OrderState.REJECTED, OrderState.CANCELLED)

    def act(self, *, user: User) -> Order | None:
        """Take the action; None, with the service's refusal added to the
        form's errors, when it is refused. Call after ``is_valid()``;
        ``PermissionDenied`` passes through."""
        try:
            return order_transition(
                order_id=self.order.pk,
                user=user,
                action=self.transition.action,
                **self.cleaned_data,
            )
        except OrderError as error:
            self.add_error(None, str(error))
            return None


class OrderReasonForm(OrderActionForm):
    """Reject, cancel (a reason is required) or withdraw (one is welcome)."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Both the community and the department see it in the history."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = self.transition.reason_required


class OrderScheduleForm(OrderActionForm):
    """The date, place and people a department fixes for an accepted order;
    an order for a session starts from the session's own time and place."""

    scheduled_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
    )
    scheduled_place = forms.CharField(label=_("Place"), max_length=200)
    scheduled_people = forms.CharField(
        label=_("Who will come"),
        max_length=200,
        required=False,
        help_text=_(
            "Names of the trainers or staff, so the community can expect them."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        session = self.order.session
        if session is not None:
            self.initial.setdefault("scheduled_at", session.starts_at)
            self.initial.setdefault("scheduled_place", session.place)

    def clean_scheduled_at(self):
        moment = self.cleaned_data["scheduled_at"]
        if moment <= timezone.now():
            raise forms.ValidationError(_("Choose a time that is still to come."))
        return moment


class OrderDeliverForm(OrderActionForm):
    attendance = forms.IntegerField(
        label=_("People who took part"), min_value=0, max_value=MOST_PEOPLE
    )
    delivery_note = forms.CharField(
        label=_("Delivery note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was done, and anything the community should follow up."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("attendance", self.order.participants)


ACTION_HELP = {
    "accept": _("Take the order on; then fix the date, place and people."),
    "reject": _("Turn the order down, and say why."),
    "schedule": _("Fix the date, place and people; the community sees them here."),
    "deliver": _(
        "Once the service has taken place, record it; the community then confirms it."
    ),
    "confirm": _(
        "Confirm that the service took place as recorded; the order is then complete."
    ),
    "withdraw": _("Your community no longer needs it: possible until a date is fixed."),
    "cancel": _("Call the order off, even after a date is fixed, and say why."),
}

ACTION_FORMS: dict[str, type[OrderActionForm]] = {
    "accept": OrderActionForm,
    "reject": OrderReasonForm,
    "schedule": OrderScheduleForm,
    "deliver": OrderDeliverForm,
    "confirm": OrderActionForm,
    "withdraw": OrderReasonForm,
    "cancel": OrderReasonForm,
}


def action_form(
    transition: Transition, order: Order, data: Any = None
) -> OrderActionForm:
    """The form that takes ``transition`` on ``order``, bound to ``data`` if
    given. An action the lifecycle gains without a form of its own is a click."""
    form_class = ACTION_FORMS.get(transition.action, OrderActionForm)
    return form_class(data, transition=transition, order=order)
