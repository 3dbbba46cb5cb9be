"""Pages of the org tree and accounts. Thin: scoping lives in selectors."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from portal.models import CommunityType, Region
from portal.selectors import (
    departments_serving,
    region_ancestors,
    region_child_summary,
    region_children,
    unit_members,
    unit_visible_to,
)

CHILDREN_PER_PAGE = 50


def _unit_page(request: HttpRequest, unit) -> HttpResponse:
    context = {"unit": unit, "members": unit_members(user=request.user, unit=unit)}
    if isinstance(unit, Region):
        children = Paginator(
            region_children(user=request.user, region=unit), CHILDREN_PER_PAGE
        )
        summary = region_child_summary(region=unit)
        context.update(
            ancestors=region_ancestors(unit),
            children=children.get_page(request.GET.get("page")),
            community_types=[
                (label, summary.get(value, 0)) for value, label in CommunityType.choices
            ]
            if summary
            else [],
            departments=departments_serving(user=request.user, region=unit),
        )
    else:
        context["ancestors"] = [*region_ancestors(unit.region), unit.region]
    return render(request, "portal/unit_detail.html", context)


@login_required
def my_unit(request: HttpRequest) -> HttpResponse:
    unit = request.user.unit
    if unit is None:
        return render(request, "portal/no_unit.html")
    return _unit_page(request, unit)


@login_required
def unit_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _unit_page(request, unit_visible_to(user=request.user, code=code))


class AccountActivateView(auth_views.PasswordResetConfirmView):
    """Where a set-password link from an import lands; the link works once."""

    template_name = "registration/account_activate.html"
    success_url = reverse_lazy("account_activate_done")
    post_reset_login = True
    post_reset_login_backend = "portal.backends.UnitModelBackend"
