"""Wagtail admin screens of the portal app: accounts and the bulk import."""

from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.users.views.users import CreateView as WagtailUserCreateView
from wagtail.users.views.users import UserViewSet

from portal.forms import AccountCreationForm, AccountEditForm, UnitsImportForm
from portal.import_views import ImportPreviewView
from portal.importers import example_workbook, import_units_file
from portal.models import ImportRun
from portal.services import account_invitation_url

IMPORT_PERMISSION = "portal.import_units"


class AccountCreateView(WagtailUserCreateView):
    def get_success_message(self, instance):
        return format_html(
            "{} <a href='{}'>{}</a>",
            _(
                "Account '%(name)s' created. Send its owner this one-time set-password link:"
            )
            % {"name": instance},
            account_invitation_url(instance),
            account_invitation_url(instance),
        )


class PortalUserViewSet(UserViewSet):
    add_view_class = AccountCreateView

    def get_form_class(self, for_update=False):
        return AccountEditForm if for_update else AccountCreationForm


class UnitsImportView(ImportPreviewView):
    template_name = "portal/admin/units_import.html"
    page_title = gettext_lazy("Import regions, departments and accounts")
    session_key = "portal_units_import"
    url_name = "portal_units_import"
    example_url_name = "portal_units_import_example"

    def check_permission(self, request: HttpRequest) -> None:
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied

    def get_form(self, *args) -> UnitsImportForm:
        return UnitsImportForm(*args)

    def run_import(self, path: Path, *, dry_run: bool, file_name: str, **options):
        return import_units_file(
            path, dry_run=dry_run, actor=self.request.user, file_name=file_name
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["recent_imports"] = ImportRun.objects.select_related("user")[:10]
        return context


def units_import_example(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied
    response = HttpResponse(
        example_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = "attachment; filename=diandan-units-example.xlsx"
    return response
