"""Figures and rosters: the order statistics of those overseeing an area, and
a session's roster for the department that runs it, each as a page (the
roster prints) and as an XLSX download of the same rows. Thin: the figures
come from ``matching.statistics`` and the roster from ``matching.selectors``,
both scoped to what the user may see."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from matching.dashboards import months_chart
from matching.exports import (
    STATISTICS_FILE,
    export_filename,
    export_url,
    roster_filename,
    roster_sheets,
    statistics_sheets,
)
from matching.need_selectors import may_see_gap
from matching.selectors import session_roster
from matching.statistics import format_percent, order_statistics
from portal.charts import Bar, bar_chart
from portal.exports import xlsx_response


@login_required
def order_statistics_page(request: HttpRequest) -> HttpResponse:
    if not may_see_gap(request.user):
        raise PermissionDenied
    figures = order_statistics(user=request.user, params=request.GET)
    return render(
        request,
        "matching/order_statistics.html",
        {
            "figures": figures,
            "filterset": figures.filterset,
            "answer_limit": settings.ORDER_ANSWER_WORKING_DAYS,
            "export_url": export_url("order_statistics_export", request.GET),
            "months_chart": months_chart(figures.months, label="{d:%Y-%m}"),
            "acceptance_chart": bar_chart(
                [
                    Bar(
                        row.department.name,
                        row.acceptance_rate or 0,
                        format_percent(row.acceptance_rate),
                    )
                    for row in figures.departments
                    if row.answered
                ],
                title=_("Acceptance rate by department"),
            ),
        },
    )


@login_required
def order_statistics_export(request: HttpRequest) -> HttpResponse:
    if not may_see_gap(request.user):
        raise PermissionDenied
    figures = order_statistics(user=request.user, params=request.GET)
    return xlsx_response(
        filename=export_filename(STATISTICS_FILE), sheets=statistics_sheets(figures)
    )


@login_required
def session_roster_page(request: HttpRequest, session_id: int) -> HttpResponse:
    roster = session_roster(user=request.user, session_id=session_id)
    return render(request, "matching/session_roster.html", {"roster": roster})


@login_required
def session_roster_export(request: HttpRequest, session_id: int) -> HttpResponse:
    roster = session_roster(user=request.user, session_id=session_id)
    return xlsx_response(filename=roster_filename(roster), sheets=roster_sheets(roster))
