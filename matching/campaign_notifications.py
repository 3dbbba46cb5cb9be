"""Who hears about an ordering campaign, and in which words: the communities
of its area when it opens; when it is published, each ranking community of
what it got (or that it got nothing) and each department of the orders on
its sessions. Written after the transaction commits, in the portal's
language, like ``matching.notifications``."""

from __future__ import annotations

from collections import defaultdict
from functools import partial

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from matching.models import Campaign, CampaignAssignment
from portal.models import Region, Role, User
from portal.selectors import unit_accounts
from portal.services import notify

_DEPARTMENT_STAFF = (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER)


def campaign_opened_notify(campaign: Campaign) -> None:
    """Tell the operators of every community of the campaign's area that it is
    open for ranking (after commit)."""
    transaction.on_commit(partial(_opened, campaign.pk), robust=True)


def campaign_published_notify(campaign: Campaign) -> None:
    """Tell each ranking community what it got and each department how many
    orders the campaign gave it (after commit)."""
    transaction.on_commit(partial(_published, campaign.pk), robust=True)


def _url(campaign: Campaign) -> str:
    return reverse("campaign_detail", args=[campaign.pk])


def _opened(campaign_id: int) -> None:
    campaign = Campaign.objects.select_related("area").get(pk=campaign_id)
    communities = Region.objects.subtree(campaign.area).communities()
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Ordering campaign open: %(name)s") % {"name": campaign.name}
        body = ngettext(
            "Rank up to %(count)s session from %(first)s to %(last)s. Seats are "
            "allocated after the close; the order of ranking plays no part.",
            "Rank up to %(count)s sessions from %(first)s to %(last)s. Seats are "
            "allocated after the close; the order of ranking plays no part.",
            campaign.max_choices,
        ) % {
            "count": campaign.max_choices,
            "first": campaign.opens_on.isoformat(),
            "last": campaign.closes_on.isoformat(),
        }
    notify(
        users=User.objects.filter(
            role=Role.COMMUNITY_OPERATOR, region__in=communities, is_active=True
        ),
        title=title,
        body=body,
        url=_url(campaign),
    )


def _published(campaign_id: int) -> None:
    campaign = Campaign.objects.get(pk=campaign_id)
    ranking = set(campaign.choices.values_list("community_id", flat=True))
    got: dict[int, list[str]] = defaultdict(list)
    per_department: dict[int, int] = defaultdict(int)
    for seat in CampaignAssignment.objects.filter(
        campaign=campaign, mechanism=campaign.mechanism, order__isnull=False
    ).select_related("session__session__offering"):
        got[seat.community_id].append(seat.session.session.offering.title)
        per_department[seat.session.department_id] += 1
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Ordering campaign results: %(name)s") % {"name": campaign.name}
        for community_id in ranking:
            titles = got.get(community_id)
            body = (
                _("Your community got: %(titles)s. The orders are in your list.")
                % {"titles": "、".join(titles)}
                if titles
                else _("Your community got no seat in this campaign.")
            )
            notify(
                users=unit_accounts(
                    roles=[Role.COMMUNITY_OPERATOR], region_id=community_id
                ),
                title=title,
                body=body,
                url=_url(campaign),
            )
        for department_id, count in per_department.items():
            notify(
                users=unit_accounts(
                    roles=_DEPARTMENT_STAFF, department_id=department_id
                ),
                title=title,
                body=ngettext(
                    "The campaign gave your sessions %(count)s order.",
                    "The campaign gave your sessions %(count)s orders.",
                    count,
                )
                % {"count": count},
                url=reverse("order_list"),
            )
