from django.apps import AppConfig
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from catalog.sections import catalog_sections
        from matching.dashboards import catalog_recommendations, workbench_panels
        from portal import dashboard, navigation

        navigation.register(_orders_navigation)
        navigation.register(_needs_navigation)
        navigation.register(_campaigns_navigation)
        dashboard.register(workbench_panels)
        catalog_sections.register(catalog_recommendations)


def _orders_navigation(request: HttpRequest) -> list[tuple[str, str]]:
    from matching.lifecycle import Actor
    from matching.selectors import side_of

    user = request.user
    # Only a unit's accounts (and a break-glass superuser) have orders to see.
    if user.unit is None and not user.is_superuser:
        return []
    label = {
        Actor.COMMUNITY: _("My orders"),
        Actor.DEPARTMENT: _("Orders to handle"),
    }.get(side_of(user), _("Orders"))
    return [(label, reverse("order_list"))]


def _needs_navigation(request: HttpRequest) -> list[tuple[str, str]]:
    user = request.user
    if user.unit is None and not user.is_superuser:
        return []
    return [(_("Needs"), reverse("need_list"))]


def _campaigns_navigation(request: HttpRequest) -> list[tuple[str, str]]:
    from matching.campaign_selectors import (
        is_campaign_community,
        is_campaign_organizer,
    )

    user = request.user
    if not (is_campaign_organizer(user) or is_campaign_community(user)):
        return []
    return [(_("Ordering campaigns"), reverse("campaign_list"))]
