"""The campaign pages (点单季): the organizer's list, form, overview and
preview, and each community's ranking and result. Thin: what a user sees
comes from ``matching.campaign_selectors`` (a foreign id is a 404), every
change from ``matching.campaign_services``, through the forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from matching.campaign_forms import (
    CampaignForm,
    CampaignMechanismForm,
    CampaignRankForm,
)
from matching.campaign_selectors import (
    campaign_managed_by,
    campaign_preview,
    campaign_ranking_count,
    campaign_session_candidates,
    campaign_sessions,
    campaign_visible_to,
    campaigns_visible_to,
    community_choices,
    community_seats,
    is_campaign_community,
    is_campaign_organizer,
)
from matching.campaign_services import (
    CampaignError,
    campaign_close,
    campaign_open,
    campaign_publish,
)
from matching.models import Campaign, CampaignState


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    organizer = is_campaign_organizer(user)
    if not organizer and not is_campaign_community(user):
        raise Http404
    return render(
        request,
        "matching/campaigns/campaign_list.html",
        {"campaigns": list(campaigns_visible_to(user)), "organizer": organizer},
    )


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not is_campaign_organizer(user):
        raise Http404
    return _campaign_form(request, None)


@login_required
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_managed_by(user=request.user, campaign_id=campaign_id)
    if campaign.state != CampaignState.DRAFT:
        messages.info(request, _("Only a draft campaign can be changed."))
        return redirect("campaign_detail", campaign.pk)
    return _campaign_form(request, campaign)


def _campaign_form(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    user = request.user
    form = CampaignForm(
        request.POST if request.method == "POST" else None,
        user=user,
        candidates=campaign_session_candidates(area=user.department.region),
        campaign=campaign,
    )
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            messages.success(request, _("The campaign has been saved as a draft."))
            return redirect("campaign_detail", saved.pk)
    return render(
        request,
        "matching/campaigns/campaign_form.html",
        {"form": form, "campaign": campaign},
    )


@login_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    user = request.user
    campaign = campaign_visible_to(user=user, campaign_id=campaign_id)
    sessions = campaign_sessions(campaign)
    if is_campaign_organizer(user):
        return render(
            request,
            "matching/campaigns/campaign_detail.html",
            {
                "campaign": campaign,
                "sessions": sessions,
                "ranking": campaign_ranking_count(campaign),
                "events": campaign.events.select_related("actor"),
            },
        )
    return _community_page(request, campaign, sessions)


def _community_page(request: HttpRequest, campaign: Campaign, sessions) -> HttpResponse:
    user = request.user
    chosen = community_choices(campaign=campaign, community_id=user.region_id)
    today = timezone.localdate()
    ranking_open = (
        campaign.state == CampaignState.OPEN
        and campaign.opens_on <= today <= campaign.closes_on
    )
    form = None
    if ranking_open:
        form = CampaignRankForm(
            request.POST if request.method == "POST" else None,
            user=user,
            campaign=campaign,
            sessions=sessions,
            chosen=[choice.session_id for choice in chosen],
        )
        if request.method == "POST" and form.is_valid() and form.save():
            count = len(form.cleaned_data["ranked"])
            messages.success(
                request,
                ngettext(
                    "Your ranking of %(count)s session is saved. You may change "
                    "it until the campaign closes.",
                    "Your ranking of %(count)s sessions is saved. You may change "
                    "it until the campaign closes.",
                    count,
                )
                % {"count": count},
            )
            return redirect("campaign_detail", campaign.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return render(
        request,
        "matching/campaigns/campaign_community.html",
        {
            "campaign": campaign,
            "sessions": sessions,
            "chosen": chosen,
            "form": form,
            "ranking_open": ranking_open,
            "ranking_not_started": today < campaign.opens_on,
            "seats": community_seats(campaign=campaign, community_id=user.region_id),
        },
    )


_ACTIONS = {
    "open": campaign_open,
    "close": campaign_close,
    "publish": campaign_publish,
}


@login_required
@require_POST
def campaign_act(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    campaign = campaign_managed_by(user=request.user, campaign_id=campaign_id)
    service = _ACTIONS.get(action)
    if service is None:
        raise Http404
    try:
        result = service(user=request.user, campaign_id=campaign.pk)
    except CampaignError as error:
        messages.error(request, str(error))
        return redirect("campaign_detail", campaign.pk)
    if action == "open":
        messages.success(request, _("The campaign is open: its communities are told."))
        return redirect("campaign_detail", campaign.pk)
    if action == "close":
        messages.success(
            request,
            _("The campaign is closed and its seats allocated: check the preview."),
        )
        return redirect("campaign_preview", campaign.pk)
    if result.already_published:
        messages.info(request, _("The campaign had already been published."))
        return redirect("campaign_preview", campaign.pk)
    messages.success(
        request,
        ngettext(
            "Published: %(count)s order was created.",
            "Published: %(count)s orders were created.",
            len(result.orders),
        )
        % {"count": len(result.orders)},
    )
    if result.not_seated:
        messages.warning(
            request,
            ngettext(
                "%(count)s seat could not become an order: it was booked or "
                "already ordered since the close.",
                "%(count)s seats could not become orders: they were booked or "
                "already ordered since the close.",
                result.not_seated,
            )
            % {"count": result.not_seated},
        )
    return redirect("campaign_preview", campaign.pk)


@login_required
def campaign_preview_page(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_managed_by(user=request.user, campaign_id=campaign_id)
    if campaign.state not in (CampaignState.CLOSED, CampaignState.PUBLISHED):
        raise Http404
    form = CampaignMechanismForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        campaign=campaign,
    )
    if request.method == "POST" and form.is_valid() and form.save():
        messages.success(request, _("The allocation to publish has been switched."))
        return redirect("campaign_preview", campaign.pk)
    return render(
        request,
        "matching/campaigns/campaign_preview.html",
        {
            "campaign": campaign,
            "preview": campaign_preview(campaign),
            "mechanism_form": form,
        },
    )
