"""Pages of the org tree and accounts. Thin: scoping lives in selectors."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from portal.dashboard import rendered_for
from portal.forms import NotificationMailForm
from portal.models import CommunityType, Region
from portal.selectors import (
    departments_serving,
    notifications_of,
    notifications_unread_count,
    region_ancestors,
    region_child_summary,
    region_children,
    unit_members,
    unit_visible_to,
)
from portal.services import (
    notification_mail_set,
    notification_open,
    notifications_mark_all_read,
)

CHILDREN_PER_PAGE = 50
NOTIFICATIONS_PER_PAGE = 20


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


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    """The user's start page: the panels the apps give the user's role."""
    return render(request, "portal/workbench.html", {"panels": rendered_for(request)})


class AccountActivateView(auth_views.PasswordResetConfirmView):
    """Where a set-password link from an import lands; the link works once."""

    template_name = "registration/account_activate.html"
    success_url = reverse_lazy("account_activate_done")
    post_reset_login = True
    post_reset_login_backend = "portal.backends.UnitModelBackend"


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's notifications, unread first; and, where mail is sent, when
    they also come by e-mail."""
    user = request.user
    page = Paginator(notifications_of(user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    mail_form = (
        NotificationMailForm(initial={"notification_mail": user.notification_mail})
        if settings.PORTAL_MAIL_NOTIFICATIONS and user.email
        else None
    )
    return render(
        request,
        "portal/inbox.html",
        {
            "page_obj": page,
            "unread_count": notifications_unread_count(user),
            "mail_form": mail_form,
        },
    )


@login_required
def inbox_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark the notification read and go to what it is about."""
    notification = notification_open(user=request.user, notification_id=notification_id)
    if notification.url and url_has_allowed_host_and_scheme(
        notification.url,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ):
        return redirect(notification.url)
    return redirect("inbox")


@require_POST
@login_required
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications_mark_all_read(user=request.user)
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)s notification marked as read.",
                "%(count)s notifications marked as read.",
                count,
            )
            % {"count": count},
        )
    return redirect("inbox")


@require_POST
@login_required
def inbox_mail(request: HttpRequest) -> HttpResponse:
    form = NotificationMailForm(request.POST)
    if form.is_valid():
        notification_mail_set(
            user=request.user, preference=form.cleaned_data["notification_mail"]
        )
        messages.success(request, _("Your choice has been saved."))
    return redirect("inbox")
