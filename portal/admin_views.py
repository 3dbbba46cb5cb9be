"""Wagtail admin screens of the portal app: accounts and the bulk import."""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.users.views.users import CreateView as WagtailUserCreateView
from wagtail.users.views.users import UserViewSet

from portal.forms import AccountCreationForm, AccountEditForm, UnitsImportForm
from portal.importers import ImportFileError, example_workbook, import_units_file
from portal.models import ImportRun
from portal.services import account_invitation_url

IMPORT_PERMISSION = "portal.import_units"
_SESSION_KEY = "portal_units_import"


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


def _upload_dir() -> Path:
    path = settings.VAR_DIR / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class UnitsImportView(WagtailAdminTemplateMixin, TemplateView):
    """Upload → dry-run preview with every row error → confirm → import.

    The uploaded file waits on disk between preview and confirmation, under a
    random name remembered only in the uploader's session.
    """

    template_name = "portal/admin/units_import.html"
    page_title = gettext_lazy("Import regions, departments and accounts")
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(IMPORT_PERMISSION):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", UnitsImportForm())
        context["recent_imports"] = ImportRun.objects.select_related("user")[:10]
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if "confirm" in request.POST:
            return self._confirm(request)
        form = UnitsImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        self._discard_pending(request)
        upload = form.cleaned_data["file"]
        stored = _upload_dir() / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with stored.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        report = self._run(stored, dry_run=True, file_name=upload.name)
        if report is None or not report.ok:
            stored.unlink(missing_ok=True)
        else:
            request.session[_SESSION_KEY] = {"path": stored.name, "name": upload.name}
        return self.render_to_response(
            self.get_context_data(form=form, report=report, file_name=upload.name)
        )

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        pending = request.session.pop(_SESSION_KEY, None)
        stored = _upload_dir() / pending["path"] if pending else None
        if stored is None or not stored.exists():
            messages.error(
                request, _("The preview has expired; upload the file again.")
            )
            return redirect("portal_units_import")
        try:
            report = self._run(stored, dry_run=False, file_name=pending["name"])
        finally:
            stored.unlink(missing_ok=True)
        return self.render_to_response(
            self.get_context_data(report=report, file_name=pending["name"])
        )

    @staticmethod
    def _discard_pending(request: HttpRequest) -> None:
        """A new upload replaces the preview waiting for confirmation, if any."""
        pending = request.session.pop(_SESSION_KEY, None)
        if pending:
            (_upload_dir() / pending["path"]).unlink(missing_ok=True)

    def _run(self, path: Path, *, dry_run: bool, file_name: str):
        try:
            return import_units_file(
                path, dry_run=dry_run, actor=self.request.user, file_name=file_name
            )
        except ImportFileError as error:
            messages.error(self.request, str(error))
            return None


def units_import_example(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied
    response = HttpResponse(
        example_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = "attachment; filename=diandan-units-example.xlsx"
    return response
