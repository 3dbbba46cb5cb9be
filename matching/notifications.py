"""Who hears about what happens to an order, and in which words.

After each event the order's other side is told: the department's publishers
and approvers of a new order, a confirmation or a withdrawal; the community's
operators of an answer, a date, a cancellation, a delivery or a freed seat.
An escalation goes to those who oversee the community. ``matching.services``
calls these where it records the events; ``portal.services.notify`` writes the
inboxes and sends the mail.

The texts are written after the transaction commits, so an order that was
rolled back tells nobody, and reading the offering, the community and the
department's names adds nothing to a transaction that holds seat locks. They
are in the portal's language (Chinese), whatever language the actor uses:
they are read by others, later, and by mail.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from matching.models import Order, OrderState
from portal.models import Role, User
from portal.selectors import community_overseers, unit_accounts
from portal.services import notify

_DEPARTMENT_STAFF = (Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER)


def order_event_notify(order: Order, action: str) -> None:
    """Tell the other side of ``order`` about ``action`` (the action of the
    ``OrderEvent`` just recorded) once the transaction commits. Actions that
    concern nobody else — being put on the waiting list, which the new order's
    notification already says — are ignored."""
    if action in _MESSAGES:
        transaction.on_commit(partial(_send, order.pk, action), robust=True)


def order_escalated_notify(order: Order) -> None:
    """Tell the street office of the order's community and the organization
    departments over it that the order went unanswered too long (after
    commit)."""
    transaction.on_commit(partial(_send, order.pk, "escalate"), robust=True)


def order_url(order: Order) -> str:
    return reverse("order_detail", args=[order.pk])


# What the texts and the recipients read of an order. The offering is a Wagtail
# page of 47 columns over two tables: loading all of it was most of the time
# telling anybody took.
_READ = (
    "participants",
    "state",
    "reason",
    "wished_from",
    "wished_to",
    "scheduled_at",
    "scheduled_place",
    "scheduled_people",
    "placed_at",
    "offering__title",
    "session__starts_at",
    "community__name",
    # community_overseers: the street and the areas over the community.
    "community__city",
    "community__district",
    "community__street",
    "department__name",
)


def _send(order_id: int, action: str) -> None:
    order = (
        Order.objects.select_related("offering", "session", "community", "department")
        .only(*_READ)
        .get(pk=order_id)
    )
    with translation.override(settings.LANGUAGE_CODE):
        title, body = _MESSAGES[action](order)
    notify(
        users=_recipients(order, action),
        title=title,
        body=body,
        url=order_url(order),
    )


def _recipients(order: Order, action: str) -> QuerySet[User]:
    if action == "escalate":
        return community_overseers(community=order.community)
    if action in ("place", "confirm", "withdraw"):
        return unit_accounts(roles=_DEPARTMENT_STAFF, department_id=order.department_id)
    return unit_accounts(roles=[Role.COMMUNITY_OPERATOR], region_id=order.community_id)


def _names(order: Order) -> dict[str, str]:
    return {
        "offering": order.offering.title,
        "community": order.community.name,
        "department": order.department.name,
        "reason": order.reason,
    }


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _placed(order: Order) -> tuple[str, str]:
    names = _names(order)
    lines = [
        _("%(community)s ordered “%(offering)s” for %(participants)s participants.")
        % {**names, "participants": order.participants}
    ]
    if order.session is not None:
        lines.append(
            _("Session: %(when)s.") % {"when": _local(order.session.starts_at)}
        )
    elif order.wished_from and order.wished_to:
        lines.append(
            _("Wished dates: %(first)s to %(last)s.")
            % {
                "first": order.wished_from.isoformat(),
                "last": order.wished_to.isoformat(),
            }
        )
    if order.state == OrderState.WAITLISTED:
        lines.append(
            _("The session is full: the order waits on the waiting list for a seat.")
        )
    else:
        days = settings.ORDER_ANSWER_WORKING_DAYS
        lines.append(
            ngettext(
                "Please answer within %(days)s working day.",
                "Please answer within %(days)s working days.",
                days,
            )
            % {"days": days}
        )
    return _("New order from %(community)s: %(offering)s") % names, "\n".join(lines)


def _accepted(order: Order) -> tuple[str, str]:
    names = _names(order)
    return (
        _("Order accepted: %(offering)s") % names,
        _("%(department)s accepted your order and will tell you the date and place.")
        % names,
    )


def _rejected(order: Order) -> tuple[str, str]:
    names = _names(order)
    return (
        _("Order declined: %(offering)s") % names,
        _("%(department)s declined your order. Reason: %(reason)s") % names,
    )


def _scheduled(order: Order) -> tuple[str, str]:
    names = _names(order)
    body = _("%(department)s scheduled your order: %(when)s, %(place)s.") % {
        **names,
        "when": _local(order.scheduled_at),
        "place": order.scheduled_place,
    }
    if order.scheduled_people:
        body += "\n" + _("Coming: %(people)s") % {"people": order.scheduled_people}
    return _("Order scheduled: %(offering)s") % names, body


def _cancelled(order: Order) -> tuple[str, str]:
    names = _names(order)
    return (
        _("Order cancelled by the department: %(offering)s") % names,
        _("%(department)s cancelled your order. Reason: %(reason)s") % names,
    )


def _delivered(order: Order) -> tuple[str, str]:
    names = _names(order)
    return (
        _("Order delivered: %(offering)s") % names,
        _("%(department)s reports your order delivered. Please confirm it.") % names,
    )


def _confirmed(order: Order) -> tuple[str, str]:
    names = _names(order)
    return (
        _("Delivery confirmed: %(offering)s") % names,
        _("%(community)s confirmed that the order was delivered.") % names,
    )


def _withdrawn(order: Order) -> tuple[str, str]:
    names = _names(order)
    return (
        _("Order withdrawn: %(offering)s") % names,
        _("%(community)s withdrew its order.") % names,
    )


def _promoted(order: Order) -> tuple[str, str]:
    names = _names(order)
    return (
        _("A seat is free: %(offering)s") % names,
        _(
            "A seat was freed: your order has left the waiting list and now "
            "waits for %(department)s to answer."
        )
        % names,
    )


def _escalated(order: Order) -> tuple[str, str]:
    days = settings.ORDER_ANSWER_WORKING_DAYS
    values = {
        **_names(order),
        "days": days,
        "date": timezone.localtime(order.placed_at).date().isoformat(),
    }
    return (
        ngettext(
            "Unanswered for %(days)s working day: %(offering)s",
            "Unanswered for %(days)s working days: %(offering)s",
            days,
        )
        % values,
        ngettext(
            "%(community)s ordered “%(offering)s” from %(department)s on "
            "%(date)s. The department has not answered within %(days)s "
            "working day.",
            "%(community)s ordered “%(offering)s” from %(department)s on "
            "%(date)s. The department has not answered within %(days)s "
            "working days.",
            days,
        )
        % values,
    )


_MESSAGES: dict[str, Callable[[Order], tuple[str, str]]] = {
    "place": _placed,
    "accept": _accepted,
    "reject": _rejected,
    "schedule": _scheduled,
    "cancel": _cancelled,
    "deliver": _delivered,
    "confirm": _confirmed,
    "withdraw": _withdrawn,
    "promote": _promoted,
    "escalate": _escalated,
}
