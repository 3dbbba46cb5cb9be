"""PLACEHOLDER: to be written (never lands as is)."""

from django.http import Http404


def round_list(request, **kwargs):
    raise Http404


def round_new(request, **kwargs):
    raise Http404


def round_detail(request, **kwargs):
    raise Http404


def round_edit(request, **kwargs):
    raise Http404


def round_units(request, **kwargs):
    raise Http404


def round_comments(request, **kwargs):
    raise Http404


def round_act(request, **kwargs):
    raise Http404
