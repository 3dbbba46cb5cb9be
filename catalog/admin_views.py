"""Wagtail admin screens of the catalog: the bulk import of offerings.

The upload → dry-run preview → confirm flow is portal's ImportPreviewView.
"""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from catalog.forms import OfferingsImportForm
from catalog.importers import (
    example_workbook,
    import_offerings_file,
    offering_import_rights,
)
from portal.import_views import ImportPreviewView


class OfferingsImportView(ImportPreviewView):
    """For a department's publishers and approvers (their own department only)
    and administrators. Whether to publish is chosen at upload."""

    template_name = "catalog/admin/offerings_import.html"
    page_title = gettext_lazy("Import offerings")
    session_key = "catalog_offerings_import"
    url_name = "catalog_offerings_import"
    example_url_name = "catalog_offerings_import_example"

    def check_permission(self, request: HttpRequest) -> None:
        self.rights = offering_import_rights(request.user)
        if self.rights is None:
            raise PermissionDenied

    def get_form(self, *args) -> OfferingsImportForm:
        return OfferingsImportForm(*args, may_publish=self.rights.may_publish)

    def import_options(self, form) -> dict:
        return {"publish": bool(form.cleaned_data.get("publish"))}

    def run_import(
        self, path: Path, *, dry_run: bool, file_name: str, publish: bool = False
    ):
        return import_offerings_file(
            path, dry_run=dry_run, publish=publish, actor=self.request.user
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["own_department"] = (
            self.request.user.department if self.rights.department_id else None
        )
        return context


def offerings_import_example(request: HttpRequest) -> HttpResponse:
    if offering_import_rights(request.user) is None:
        raise PermissionDenied
    response = HttpResponse(
        example_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        "attachment; filename=diandan-offerings-example.xlsx"
    )
    return response
