"""Reverse evaluation's pages, mounted at /evaluations/: answering (units),
running rounds and reading results (the organization department and the
departments), reports."""

from django.urls import include, path

urlpatterns = [
    path("", include("assessments.answer_urls")),
    path("", include("assessments.review_urls")),
    path("", include("assessments.report_urls")),
]
