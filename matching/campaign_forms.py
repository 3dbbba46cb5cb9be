"""Forms of the campaign pages. They check the shape of what was typed and
hand it to ``matching.campaign_services``; what the services refuse comes
back as a form error, with nothing saved."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import OfferingSession
from matching.campaign_services import (
    MOST_CHOICES,
    MOST_QUOTA,
    CampaignError,
    CampaignSettings,
    campaign_choices_set,
    campaign_create,
    campaign_mechanism_set,
    campaign_update,
)
from matching.forms import DATE_INPUT
from matching.models import (
    Campaign,
    CampaignMechanism,
    CampaignPriority,
    CampaignSession,
)
from portal.models import User

SEATS_PREFIX = "seats_"


class CampaignForm(forms.Form):
    """A campaign's settings, and the seats it offers of each candidate
    session (a number field per session; 0 or empty: not offered)."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    opens_on = forms.DateField(label=_("Ranking opens on"), widget=DATE_INPUT)
    closes_on = forms.DateField(label=_("Ranking closes on"), widget=DATE_INPUT)
    quota = forms.IntegerField(
        label=_("Seats per community"),
        min_value=1,
        max_value=MOST_QUOTA,
        initial=3,
        help_text=_("The most seats one community can get in the campaign."),
    )
    max_choices = forms.IntegerField(
        label=_("Choices per community"),
        min_value=1,
        max_value=MOST_CHOICES,
        initial=5,
        help_text=_("How many sessions a community may rank."),
    )
    priority_rule = forms.ChoiceField(
        label=_("Priority"),
        choices=CampaignPriority.choices,
        initial=CampaignPriority.NONE,
        help_text=_("Who gets a session first when more communities want it."),
    )
    mechanism = forms.ChoiceField(
        label=_("Allocation"),
        choices=CampaignMechanism.choices,
        initial=CampaignMechanism.WELFARE,
        help_text=_("It can still be switched in the preview, before publishing."),
    )

    def __init__(
        self,
        data: Any = None,
        *,
        user: User,
        candidates: Sequence[OfferingSession],
        campaign: Campaign | None = None,
    ) -> None:
        initial: dict[str, Any] = {}
        offered: dict[int, int] = {}
        if campaign is not None:
            initial = {
                name: getattr(campaign, name)
                for name in (
                    "name",
                    "description",
                    "opens_on",
                    "closes_on",
                    "quota",
                    "max_choices",
                    "priority_rule",
                    "mechanism",
                )
            }
            offered = dict(campaign.sessions.values_list("session_id", "seats"))
        super().__init__(data, initial=initial)
        self.user = user
        self.campaign = campaign
        self.candidates = list(candidates)
        for session in self.candidates:
            self.fields[f"{SEATS_PREFIX}{session.pk}"] = forms.IntegerField(
                label=_("Seats offered of %(session)s") % {"session": session},
                min_value=0,
                max_value=session.seats_left,
                required=False,
                initial=offered.get(session.pk),
            )

    def session_rows(self) -> list[tuple[OfferingSession, forms.BoundField]]:
        return [
            (session, self[f"{SEATS_PREFIX}{session.pk}"])
            for session in self.candidates
        ]

    def save(self) -> Campaign | None:
        """Create or change the campaign; None (with the reason as a form
        error) when the service refuses."""
        data = self.cleaned_data
        settings = CampaignSettings(
            name=data["name"],
            description=data["description"],
            opens_on=data["opens_on"],
            closes_on=data["closes_on"],
            quota=data["quota"],
            max_choices=data["max_choices"],
            priority_rule=data["priority_rule"],
            mechanism=data["mechanism"],
            seats={
                session.pk: data.get(f"{SEATS_PREFIX}{session.pk}") or 0
                for session in self.candidates
            },
        )
        try:
            if self.campaign is None:
                return campaign_create(user=self.user, settings=settings)
            return campaign_update(
                user=self.user, campaign_id=self.campaign.pk, settings=settings
            )
        except CampaignError as error:
            self.add_error(None, str(error))
            return None


class CampaignRankForm(forms.Form):
    """A community's ranking: one select per rank, from first choice down
    (works without JavaScript). Empty ranks are skipped, so a gap in the
    middle simply moves the later choices up."""

    def __init__(
        self,
        data: Any = None,
        *,
        user: User,
        campaign: Campaign,
        sessions: Sequence[CampaignSession],
        chosen: Sequence[int] = (),
    ) -> None:
        super().__init__(data)
        self.user = user
        self.campaign = campaign
        choices = [("", _("— none —"))] + [
            (str(cs.pk), str(cs.session)) for cs in sessions
        ]
        for rank in range(1, campaign.max_choices + 1):
            self.fields[f"choice_{rank}"] = forms.ChoiceField(
                label=_("Choice %(rank)s") % {"rank": rank},
                choices=choices,
                required=False,
                initial=str(chosen[rank - 1]) if rank <= len(chosen) else "",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        ranked = [int(data[name]) for name in self.fields if data.get(name)]
        if len(set(ranked)) != len(ranked):
            raise forms.ValidationError(_("Rank each session once."))
        data["ranked"] = ranked
        return data

    def save(self) -> bool:
        try:
            campaign_choices_set(
                user=self.user,
                campaign_id=self.campaign.pk,
                session_ids=self.cleaned_data["ranked"],
            )
        except CampaignError as error:
            self.add_error(None, str(error))
            return False
        return True


class CampaignMechanismForm(forms.Form):
    mechanism = forms.ChoiceField(
        label=_("Allocation to publish"),
        choices=CampaignMechanism.choices,
        widget=forms.RadioSelect,
    )

    def __init__(self, data: Any = None, *, user: User, campaign: Campaign) -> None:
        super().__init__(data, initial={"mechanism": campaign.mechanism})
        self.user = user
        self.campaign = campaign

    def save(self) -> bool:
        try:
            campaign_mechanism_set(
                user=self.user,
                campaign_id=self.campaign.pk,
                mechanism=self.cleaned_data["mechanism"],
            )
        except CampaignError as error:
            self.add_error(None, str(error))
            return False
        return True
