"""PLACEHOLDER: to be written (never lands as is)."""

from django.http import Http404


def evaluation_list(request, **kwargs):
    raise Http404


def evaluation_form(request, **kwargs):
    raise Http404
