"""The spreadsheets behind the lists' "Export to Excel" links: every order or
need the list holds under the same filters (all its pages, not only the one
shown), and the demand–supply gap's three tables.

Rows come from the lists' own selectors (``order_worklist``, ``need_worklist``,
``unmet_needs_summary``), so an export shows exactly what its page may show
(DESIGN.md, invariant 3) and ignores a filter value the page would not apply.
Read queries only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Model, Prefetch
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from catalog.models import Category
from matching.models import Need, NeedResponse, NeedResponseKind, Order
from matching.need_selectors import GapRow, need_worklist, unmet_needs_summary
from matching.selectors import Roster, order_worklist
from matching.statistics import DepartmentFigures, OrderStatistics
from portal.exports import Sheet
from portal.models import RegionLevel, User

# Rows fetched per query: one chunk is in memory at a time, so an export of
# any length stays flat in memory, at one query per chunk (two for needs,
# whose answers are fetched with each chunk).
CHUNK_SIZE = 1000
# What the downloaded files are called, before the date.
ORDERS_FILE = pgettext_lazy("export file name", "orders")
NEEDS_FILE = pgettext_lazy("export file name", "needs")
GAP_FILE = pgettext_lazy("export file name", "demand-supply-gap")
STATISTICS_FILE = pgettext_lazy("export file name", "order-statistics")
# Between the names of several departments in one cell.
NAME_SEPARATOR = "、"


def export_filename(name: str | Promise) -> str:
    """``name``, dated today (local time), as an XLSX file name."""
    return f"{name}-{timezone.localdate():%Y-%m-%d}.xlsx"


def export_url(url_name: str, params: QueryDict) -> str:
    """The export of a list narrowed as the list is: its query string
    without the page number, since an export holds every page."""
    query = params.copy()
    query.pop("page", None)
    url = reverse(url_name)
    return f"{url}?{query.urlencode()}" if query else url


def _label(model: type[Model], field: str) -> str:
    # The model's own field names, which the site's translations carry.
    return str(capfirst(model._meta.get_field(field).verbose_name))


# Orders ----------------------------------------------------------------------


def order_sheet(*, user: User, params: Mapping[str, Any]) -> Sheet:
    """The orders of the order list as ``user`` sees it filtered by
    ``params``, in the list's order: one query per ``CHUNK_SIZE`` orders."""
    orders = (
        order_worklist(user=user, params=params)
        .qs.select_related("community__street")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return Sheet(
        title=_("Orders"),
        headers=[
            _("Order no."),
            _("Ordering campaign"),
            _label(Order, "offering"),
            _label(Order, "department"),
            _label(Order, "community"),
            str(RegionLevel.STREET.label),
            _label(Order, "session"),
            _label(Order, "wished_from"),
            _label(Order, "wished_to"),
            _label(Order, "participants"),
            _label(Order, "state"),
            _label(Order, "placed_at"),
            _label(Order, "changed_at"),
            _label(Order, "attendance"),
            _label(Order, "contact_name"),
            _label(Order, "contact_phone"),
        ],
        rows=(_order_row(order) for order in orders),
    )


def _order_row(order: Order) -> list[Any]:
    street = order.community.street
    return [
        order.pk,
        # Empty for an ordinary order: the list's source filter tells them apart.
        order.campaign_name,
        order.offering.title,
        order.department.name,
        order.community.name,
        street.name if street else None,
        # A scheduled offering's session, or the period wished for one on request.
        order.session.starts_at if order.session else None,
        order.wished_from,
        order.wished_to,
        order.participants,
        order.get_state_display(),
        order.placed_at,
        order.changed_at,
        order.attendance,
        order.contact_name,
        order.contact_phone,
    ]


# Needs -----------------------------------------------------------------------


def need_sheet(*, user: User, params: Mapping[str, Any]) -> Sheet:
    """The needs of the need list as ``user`` sees it filtered by ``params``,
    in the list's order, with the departments that answered each: two queries
    per ``CHUNK_SIZE`` needs."""
    answers = NeedResponse.objects.select_related("department", "offering").order_by(
        "created_at", "pk"
    )
    needs = (
        need_worklist(user=user, params=params)
        .qs.select_related("community__street")
        .prefetch_related(Prefetch("responses", answers, to_attr="answers"))
        .iterator(chunk_size=CHUNK_SIZE)
    )
    return Sheet(
        title=_("Needs"),
        headers=[
            _label(Need, "title"),
            _label(Category, "parent"),
            _label(Need, "category"),
            _label(Need, "urgency"),
            _label(Need, "community"),
            str(RegionLevel.STREET.label),
            _label(Need, "state"),
            _label(Need, "created_at"),
            _("Departments that proposed"),
            _("Departments that declined"),
            _("Accepted offering"),
        ],
        rows=(_need_row(need) for need in needs),
    )


def _need_row(need: Need) -> list[Any]:
    answers: list[NeedResponse] = need.answers
    category, street = need.category, need.community.street
    accepted = [answer for answer in answers if answer.accepted_at is not None]
    return [
        need.title,
        category.parent.name if category.parent_id else None,
        category.name,
        need.get_urgency_display(),
        need.community.name,
        street.name if street else None,
        need.get_state_display(),
        need.created_at,
        _names(a for a in answers if a.kind == NeedResponseKind.PROPOSAL),
        _names(a for a in answers if a.kind == NeedResponseKind.DECLINE),
        # Several may stand accepted: an order is matched with the latest
        # (need_services), and a failed order unaccepts its proposal.
        max(accepted, key=lambda a: a.accepted_at).offering.title if accepted else None,
    ]


def _names(answers: Iterable[NeedResponse]) -> str | None:
    # A department proposing two offerings is named once, where it first did.
    names = dict.fromkeys(answer.department.name for answer in answers)
    return NAME_SEPARATOR.join(names) or None


# The demand–supply gap -------------------------------------------------------


def gap_sheets(*, user: User) -> list[Sheet]:
    """The gap page's three tables, by category, district and community type,
    for ``user`` (who must pass ``may_see_gap``): the queries of
    ``unmet_needs_summary``, however many rows."""
    summary = unmet_needs_summary(user)
    counts = [_("Open needs"), _("Urgent"), _("Without a proposal")]
    area_counts = [*counts, _("Communities waiting"), _("Communities in all")]
    return [
        Sheet(
            title=_("By category"),
            headers=[
                _label(Category, "parent"),
                _label(Need, "category"),
                *counts,
                _("Communities"),
                _("Offerings in the catalog"),
            ],
            rows=[
                [row.group or None, *_gap_numbers(row)] for row in summary.by_category
            ],
        ),
        Sheet(
            title=_("By district"),
            headers=[_("District"), *area_counts],
            rows=[_gap_numbers(row) for row in summary.by_district],
        ),
        Sheet(
            title=_("By community type"),
            headers=[_("Community type"), *area_counts],
            rows=[_gap_numbers(row) for row in summary.by_community_type],
        ),
    ]


def _gap_numbers(row: GapRow) -> list[Any]:
    return [
        row.label,
        row.open_needs,
        row.urgent,
        row.unanswered,
        row.communities,
        row.supply,
    ]


# Order statistics --------------------------------------------------------------


def statistics_sheets(figures: OrderStatistics) -> list[Sheet]:
    """The statistics page's department table (with its totals row) and its
    months, as two sheets."""
    return [
        Sheet(
            title=_("By department"),
            headers=[
                _("Department"),
                _("Department family"),
                _("Orders"),
                _("Answered"),
                _("Accepted"),
                _("Acceptance rate (%)"),
                _("Answered in time (%)"),
                _("Median time to answer (hours)"),
                _("Unanswered past the deadline"),
                _("Sessions delivered"),
                _("People reached"),
            ],
            rows=[_figure_cells(row) for row in [*figures.departments, figures.totals]],
        ),
        Sheet(
            title=_("By month"),
            headers=[_("Month"), pgettext("chart series", "Placed"), _("Delivered")],
            rows=[
                (f"{month.month:%Y-%m}", month.placed, month.delivered)
                for month in figures.months
            ],
        ),
    ]


def _figure_cells(row: DepartmentFigures) -> list[Any]:
    department = row.department
    return [
        department.name if department else _("All departments"),
        department.family.name if department and department.family_id else "",
        row.orders,
        row.answered,
        row.accepted,
        row.acceptance_rate,
        row.in_time_rate,
        row.median_answer_hours,
        row.overdue,
        row.deliveries,
        row.people_reached,
    ]


# Rosters -----------------------------------------------------------------------


def roster_filename(roster: Roster) -> str:
    """The roster's file name: the offering and the session's day."""
    starts = timezone.localtime(roster.session.starts_at)
    return f"{_('Roster')}-{roster.session.offering.title}-{starts:%Y-%m-%d}.xlsx"


def roster_sheets(roster: Roster) -> list[Sheet]:
    """Who comes, who holds seats unanswered, and the waiting list: three
    sheets with the same columns."""
    headers = [
        str(RegionLevel.STREET.label),
        _label(Order, "community"),
        _label(Order, "participants"),
        _label(Order, "contact_name"),
        _label(Order, "contact_phone"),
        _label(Order, "state"),
        _("Order no."),
        _label(Order, "note"),
    ]
    return [
        Sheet(title=_("Roster"), headers=headers, rows=map(_roster_row, roster.orders)),
        Sheet(
            title=_("Not answered yet"),
            headers=headers,
            rows=map(_roster_row, roster.unanswered),
        ),
        Sheet(
            title=_("Waiting list"),
            headers=headers,
            rows=map(_roster_row, roster.waiting),
        ),
    ]


def _roster_row(order: Order) -> list[Any]:
    community = order.community
    return [
        community.street.name if community.street_id else "",
        community.name,
        order.participants,
        order.contact_name,
        order.contact_phone,
        order.get_state_display(),
        order.pk,
        order.note,
    ]
