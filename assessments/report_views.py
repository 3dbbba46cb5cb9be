"""PLACEHOLDER: to be written (never lands as is)."""

from django.http import Http404


def round_bulletin_pdf(request, **kwargs):
    raise Http404


def department_card_pdf(request, **kwargs):
    raise Http404
