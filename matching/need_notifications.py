"""Who hears about what happens to a need and in its conversations, and in
which words.

After each step taken on a need the other side is told: the departments the
portal suggested of a new need; the community's operators of a proposal or a
decline; the proposing department of an accepted proposal; the departments
taking part in the need's conversation of its closing. A message in the
conversation of an order or of a need goes to the other side of that thread.
``matching.need_services`` calls these where it records the events and writes
the messages; ``portal.services.notify`` writes the inboxes and sends the mail.

Some steps are told by the order they come with (``matching.notifications``),
so that nobody hears of one thing twice: accepting a proposal of an offering
on request places the order at once, and the department hears of that order;
a need is matched, fulfilled or reopened because its order was placed,
confirmed, or rejected, cancelled or withdrawn — which the order's own
notifications tell the same people, or which they did themselves.

As for orders, the texts are written after the transaction commits, in the
portal's language (Chinese), whatever language the actor uses.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from matching.models import (
    Message,
    Need,
    NeedEvent,
    NeedResponse,
    NeedSuggestion,
    NeedUrgency,
)
from matching.need_selectors import DEPARTMENT_STAFF
from matching.notifications import order_url
from portal.models import Role, User
from portal.selectors import unit_accounts
from portal.services import notify

# How much of a message its notification quotes: enough to tell what it is
# about, as a chat list's preview does; the rest is read on the thread's page.
MESSAGE_PREVIEW_LENGTH = 60
# The conversation's place on the order and need pages
# (templates/matching/conversation.html).
CONVERSATION_ANCHOR = "#conversation"


def need_event_notify(event: NeedEvent) -> None:
    """Tell the other side of the need about ``event``, a step the community
    or a department took (post, propose, decline, accept, close), once the
    transaction commits. The steps the portal takes following an order are
    told by the order (see the module docstring)."""
    transaction.on_commit(partial(_send, event.pk), robust=True)


def message_notify(message: Message) -> None:
    """Tell the other side of the message's thread about ``message`` once the
    transaction commits: the department(s) of a community's message, the
    community of a department's — never the author's own side."""
    transaction.on_commit(partial(_send_message, message.pk), robust=True)


def need_url(need: Need) -> str:
    return reverse("need_detail", args=[need.pk])


def _send(event_id: int) -> None:
    event = NeedEvent.objects.select_related(
        "need__community",
        "need__category",
        "response__department",
        "response__offering",
    ).get(pk=event_id)
    if event.action == "accept" and event.response.order_id is not None:
        # The acceptance placed the order (an offering on request): the
        # department's notification of that order says all this one would.
        return
    with translation.override(settings.LANGUAGE_CODE):
        title, body = _MESSAGES[event.action](event)
    notify(
        users=_recipients(event),
        title=title,
        body=body,
        url=need_url(event.need),
    )


def _recipients(event: NeedEvent) -> QuerySet[User]:
    need = event.need
    if event.action == "post":
        return _staff_of(Q(department__in=need.suggestions.values("department")))
    if event.action == "accept":
        return unit_accounts(
            roles=DEPARTMENT_STAFF, department_id=event.response.department_id
        )
    if event.action == "close":
        return _conversing_staff(need)
    return unit_accounts(roles=[Role.COMMUNITY_OPERATOR], region_id=need.community_id)


def _conversing_staff(need: Need) -> QuerySet[User]:
    """The department side of the need's conversation
    (``need_selectors.may_converse``): the staff of the departments it was
    suggested to or that answered it."""
    return _staff_of(
        Q(department__in=NeedSuggestion.objects.filter(need=need).values("department"))
        | Q(department__in=NeedResponse.objects.filter(need=need).values("department"))
    )


def _staff_of(departments: Q) -> QuerySet[User]:
    return User.objects.filter(departments, role__in=DEPARTMENT_STAFF, is_active=True)


def _names(event: NeedEvent) -> dict[str, str]:
    need = event.need
    names = {
        "need": need.title,
        "community": need.community.name,
        "category": need.category.name,
        "note": event.note,
    }
    response = event.response
    if response is not None:
        names["department"] = response.department.name
        if response.offering is not None:
            names["offering"] = response.offering.title
    return names


def _posted(event: NeedEvent) -> tuple[str, str]:
    names = _names(event)
    lines = [
        _(
            "%(community)s posted the need “%(need)s” (%(category)s), and the "
            "portal suggests your department to answer it."
        )
        % names
    ]
    if event.need.urgency == NeedUrgency.URGENT:
        lines.append(_("The community marks it as urgent."))
    lines.append(_("Propose one of your offerings, or decline with a reason."))
    return _("New need from %(community)s: %(need)s") % names, "\n".join(lines)


def _proposed(event: NeedEvent) -> tuple[str, str]:
    names = _names(event)
    lines = [_("%(department)s proposes “%(offering)s” for your need.") % names]
    if event.note:
        lines.append(_("Note: %(note)s") % names)
    return _("Proposal for your need: %(need)s") % names, "\n".join(lines)


def _declined(event: NeedEvent) -> tuple[str, str]:
    names = _names(event)
    return (
        _("Declined by %(department)s: %(need)s") % names,
        _("%(department)s will not answer your need. Reason: %(note)s") % names,
    )


def _accepted(event: NeedEvent) -> tuple[str, str]:
    names = _names(event)
    return (
        _("Proposal accepted: %(offering)s") % names,
        _(
            "%(community)s accepted your proposal “%(offering)s” for its need "
            "“%(need)s” and will choose a session on the order form."
        )
        % names,
    )


def _closed(event: NeedEvent) -> tuple[str, str]:
    names = _names(event)
    return (
        _("Need closed: %(need)s") % names,
        _("%(community)s closed its need. Reason: %(note)s") % names,
    )


_MESSAGES: dict[str, Callable[[NeedEvent], tuple[str, str]]] = {
    "post": _posted,
    "propose": _proposed,
    "decline": _declined,
    "accept": _accepted,
    "close": _closed,
}


# Conversations ----------------------------------------------------------------


def _send_message(message_id: int) -> None:
    message = Message.objects.select_related(
        "author__region", "author__department", "order__offering", "need"
    ).get(pk=message_id)
    with translation.override(settings.LANGUAGE_CODE):
        # Whitespace folded: a preview reads as one line. (Its ellipsis is in
        # the portal's language too.)
        preview = Truncator(" ".join(message.body.split())).chars(
            MESSAGE_PREVIEW_LENGTH
        )
        if message.order is not None:
            title = _("New message about the order “%(offering)s”") % {
                "offering": message.order.offering.title
            }
        else:
            title = _("New message about the need “%(need)s”") % {
                "need": message.need.title
            }
        body = _("%(unit)s: %(message)s") % {
            "unit": str(message.author.unit or ""),
            "message": preview,
        }
    page = order_url(message.order) if message.order else need_url(message.need)
    notify(
        users=_other_side(message),
        title=title,
        body=body,
        url=page + CONVERSATION_ANCHOR,
    )


def _other_side(message: Message) -> QuerySet[User]:
    thread = message.order or message.need
    if message.author.role != Role.COMMUNITY_OPERATOR:
        # A department writes to the community: the other departments
        # answering the same need read it on the page but are not pinged.
        return unit_accounts(
            roles=[Role.COMMUNITY_OPERATOR], region_id=thread.community_id
        )
    if message.order is not None:
        return unit_accounts(
            roles=DEPARTMENT_STAFF, department_id=message.order.department_id
        )
    return _conversing_staff(message.need)
