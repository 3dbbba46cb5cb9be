"""PLACEHOLDER: to be written (never lands as is)."""

from django.http import Http404


def rectification_list(request, **kwargs):
    raise Http404


def rectification_detail(request, **kwargs):
    raise Http404
