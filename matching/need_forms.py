"""Forms of the need pages and of conversations. They check the shape of what
was typed and hand it to ``matching.need_services``; what the services refuse
comes back as a form error, with nothing saved."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import CATEGORY_ORDER, Availability, Category, OfferingPage
from matching.models import Message, Need, NeedResponse, NeedResponseKind, NeedUrgency
from matching.need_selectors import proposable_offerings
from matching.need_services import (
    MESSAGE_MAX_LENGTH,
    Acceptance,
    NeedError,
    message_post,
    need_accept_proposal,
    need_close,
    need_post,
    need_respond,
)
from matching.services import OrderError
from portal.models import User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# PositiveSmallIntegerField's ceiling, so an absurd number is a form error.
MOST_PEOPLE = 32767


class ServiceForm(forms.Form):
    """A form whose ``save`` calls a service: the service's refusal becomes a
    form error and ``save`` returns None."""

    def call(self, service, **kwargs: Any) -> Any:
        try:
            return service(**kwargs)
        except (NeedError, OrderError) as error:
            self.add_error(None, str(error))
            return None


def subcategory_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Subcategories grouped under their top category, read when a form is
    made (not at import)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    subcategories = Category.objects.filter(parent__isnull=False).select_related(
        "parent"
    )
    for category in subcategories.order_by(*CATEGORY_ORDER):
        groups.setdefault(category.parent.name, []).append(
            (str(category.pk), category.name)
        )
    return [("", _("Choose the closest category")), *groups.items()]


class NeedPostForm(ServiceForm):
    title = forms.CharField(
        label=_("What does your community need?"),
        max_length=100,
        help_text=_("In a few words, e.g. “老旧小区加装电梯政策宣讲”."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Who it is for, how many people, what should happen, and why nothing "
            "in the catalog fits. The departments suggested read this first."
        ),
    )
    category = forms.ChoiceField(label=_("Category"), choices=subcategory_choices)
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=NeedUrgency.choices,
        initial=NeedUrgency.NORMAL,
        widget=forms.RadioSelect,
    )
    preferred_from = forms.DateField(
        label=_("Preferred from"), required=False, widget=DATE_INPUT
    )
    preferred_to = forms.DateField(
        label=_("Preferred until"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Leave both dates empty when any time suits."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        today = timezone.localdate().isoformat()
        for name in ("preferred_from", "preferred_to"):
            self.fields[name].widget.attrs["min"] = today

    def clean_category(self) -> Category:
        category = Category.objects.filter(
            pk=self.cleaned_data["category"], parent__isnull=False
        ).first()
        if category is None:
            raise forms.ValidationError(_("Choose the closest category"))
        return category

    def save(self) -> Need | None:
        return self.call(need_post, user=self.user, **self.cleaned_data)


class NeedProposeForm(ServiceForm):
    """A department proposes one of its open offerings."""

    offering = forms.ModelChoiceField(
        label=_("Offering"),
        queryset=OfferingPage.objects.none(),
        empty_label=_("Choose one of your offerings"),
    )
    note = forms.CharField(
        label=_("Message to the community"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the offering meets the need, and when you could deliver it."),
    )
    prefix = "propose"

    def __init__(self, *args: Any, need: Need, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need, self.user = need, user
        self.fields["offering"].queryset = proposable_offerings(
            department=user.department, need=need
        )

    def save(self) -> NeedResponse | None:
        return self.call(
            need_respond,
            need_id=self.need.pk,
            user=self.user,
            kind=NeedResponseKind.PROPOSAL,
            offering=self.cleaned_data["offering"],
            note=self.cleaned_data["note"],
        )


class NeedDeclineForm(ServiceForm):
    reason = forms.CharField(
        label=_("Reason for declining"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "The community reads it: say what stands in the way, and who might help."
        ),
    )
    prefix = "decline"

    def __init__(self, *args: Any, need: Need, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need, self.user = need, user

    def save(self) -> NeedResponse | None:
        return self.call(
            need_respond,
            need_id=self.need.pk,
            user=self.user,
            kind=NeedResponseKind.DECLINE,
            note=self.cleaned_data["reason"],
        )


class NeedCloseForm(ServiceForm):
    reason = forms.CharField(
        label=_("Reason for closing"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. solved another way, or no longer needed."),
    )
    prefix = "close"

    def __init__(self, *args: Any, need: Need, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need, self.user = need, user

    def save(self) -> Need | None:
        return self.call(
            need_close,
            need_id=self.need.pk,
            user=self.user,
            reason=self.cleaned_data["reason"],
        )


class NeedAcceptForm(ServiceForm):
    """Accepting a proposal. For an offering on request it places the order, so
    it asks what the order form would; for a scheduled one it is a click, and
    the session is chosen on the order form."""

    wished_from = forms.DateField(label=_("From"), widget=DATE_INPUT)
    wished_to = forms.DateField(label=_("Until"), widget=DATE_INPUT)
    participants = forms.IntegerField(
        label=_("Participants"), min_value=1, max_value=MOST_PEOPLE
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=50)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # A double click finds the order the first click placed.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, response: NeedResponse, user: User, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.response, self.user = response, user
        offering = response.offering
        self.places_order = offering.availability == Availability.ON_REQUEST
        if not self.places_order:
            for name in list(self.fields):
                del self.fields[name]
            return
        need = response.need
        earliest = timezone.localdate() + timedelta(days=offering.lead_time_days)
        for name in ("wished_from", "wished_to"):
            self.fields[name].widget.attrs["min"] = earliest.isoformat()
        if offering.max_participants:
            self.fields["participants"].widget.attrs["max"] = offering.max_participants
        self.initial.setdefault("wished_from", need.preferred_from)
        self.initial.setdefault("wished_to", need.preferred_to)
        self.initial.setdefault("participants", offering.min_participants)
        self.initial.setdefault("contact_name", user.get_full_name())
        self.initial.setdefault("contact_phone", user.phone)
        self.initial.setdefault("idempotency_key", uuid.uuid4())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("wished_from"), cleaned.get("wished_to")
        if start and end and end < start:
            self.add_error("wished_to", _("The last day comes before the first."))
        return cleaned

    def save(self) -> Acceptance | None:
        return self.call(
            need_accept_proposal,
            response_id=self.response.pk,
            user=self.user,
            **self.cleaned_data,
        )


class MessageForm(ServiceForm):
    body = forms.CharField(
        label=_("Message"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, thread: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.thread, self.user = thread, user

    def save(self) -> Message | None:
        return self.call(
            message_post,
            thread=self.thread,
            user=self.user,
            body=self.cleaned_data["body"],
        )
