"""The navigation each role sees in the site header."""

from functools import partial

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.navigation import registered_items
from portal.roles import role_edits_content
from portal.selectors import notifications_unread_count


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Home"), "/"), (_("Workbench"), reverse("workbench"))]
    unit = user.unit
    if unit is not None:
        items.append((_("My unit"), reverse("my_unit")))
    items.extend(registered_items(request))
    inbox = reverse("inbox")
    items.append((_("Inbox"), inbox))
    if role_edits_content(user.role) or user.is_superuser:
        items.append((_("Content management"), reverse("wagtailadmin_home")))
    path = request.path
    # The item whose address is the longest start of the path is the page's
    # own: /orders/campaigns/ is under 点单季, not also under 我的点单.
    current = (
        "/"
        if path == "/"
        else max(
            (url for _label, url in items if url != "/" and path.startswith(url)),
            key=len,
            default=None,
        )
    )
    # A callable, so that the count is read only when the header shows it.
    unread = partial(notifications_unread_count, user)
    return {
        "nav_items": [
            {
                "label": label,
                "url": url,
                "current": url == current,
                "count": unread if url == inbox else None,
            }
            for label, url in items
        ]
    }
