"""PLACEHOLDER: to be written (never lands as is)."""

from django.http import Http404


def round_results(request, **kwargs):
    raise Http404


def round_results_export(request, **kwargs):
    raise Http404


def department_result(request, **kwargs):
    raise Http404


def results_mine(request, **kwargs):
    raise Http404
