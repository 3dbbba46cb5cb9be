"""Downloading the PDF reports: a round's bulletin and a department's report
card. Thin: who may read which comes from ``assessments.reports.report_for``
(scoped by the selectors, a foreign id is a 404); the file from the
``reports`` storage, which nothing else serves.

A report being made answers 202 with a page that refreshes itself; one that
failed, an error page with a button to try again."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_http_methods

from assessments.models import Report, ReportState
from assessments.reports import report_filename, report_for, report_retry
from assessments.selectors import department_result_of, round_managed_by
from portal.exports import attachment_header

PDF_CONTENT_TYPE = "application/pdf"
# How often the page of a report being made reloads itself, in seconds.
REFRESH_SECONDS = 5


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def round_bulletin_pdf(request: HttpRequest, round_id: int) -> HttpResponse:
    """The bulletin of a published round, for the organization department
    running it."""
    evaluation_round = round_managed_by(user=request.user, round_id=round_id)
    if request.method == "POST":
        report_retry(user=request.user, evaluation_round=evaluation_round)
        return redirect(request.path)
    report = report_for(user=request.user, evaluation_round=evaluation_round)
    return _served(request, report)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def department_card_pdf(
    request: HttpRequest, round_id: int, department_id: int
) -> HttpResponse:
    """A department's report card of a published round, for the department
    itself and the organization department running the round."""
    result = department_result_of(
        user=request.user, round_id=round_id, department_id=department_id
    )
    if request.method == "POST":
        report_retry(
            user=request.user,
            evaluation_round=result.round,
            department=result.department,
        )
        return redirect(request.path)
    report = report_for(
        user=request.user, evaluation_round=result.round, department=result.department
    )
    return _served(request, report)


def _served(request: HttpRequest, report: Report) -> HttpResponse:
    if report.state == ReportState.READY:
        response = FileResponse(report.file.open("rb"), content_type=PDF_CONTENT_TYPE)
        response["Content-Disposition"] = attachment_header(report_filename(report))
    else:
        pending = report.state == ReportState.PENDING
        response = render(
            request,
            "assessments/report_status.html",
            {
                "report": report,
                "pending": pending,
                "refresh_seconds": REFRESH_SECONDS,
                "back_url": _back_url(report),
            },
            status=202 if pending else 500,
        )
        if pending:
            response["Retry-After"] = str(REFRESH_SECONDS)
    # Reports name departments and their scores: kept by no shared cache,
    # and always asked for again (a newer one may have been made).
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


def _back_url(report: Report) -> str:
    if report.department_id is None:
        return reverse("round_results", args=[report.round_id])
    return reverse("department_result", args=[report.round_id, report.department_id])
