"""Wagtail admin screens of the catalog: the bulk import of offerings.

The upload → dry-run preview → confirm flow is the one of portal's
UnitsImportView, repeated here rather than shared (see the import docs).
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from catalog.forms import OfferingsImportForm
from catalog.importers import (
    example_workbook,
    import_offerings_file,
    offering_import_rights,
)
from portal.importers import ImportFileError

_SESSION_KEY = "catalog_offerings_import"


def _upload_dir() -> Path:
    path = settings.VAR_DIR / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class OfferingsImportView(WagtailAdminTemplateMixin, TemplateView):
    """Upload → dry-run preview with every row error → confirm → import, for a
    department's publishers and approvers (their own department only) and
    administrators. Whether to publish is chosen at upload and kept, with the
    file, until confirmation."""

    template_name = "catalog/admin/offerings_import.html"
    page_title = gettext_lazy("Import offerings")
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.rights = offering_import_rights(request.user)
        if self.rights is None:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, *args) -> OfferingsImportForm:
        return OfferingsImportForm(*args, may_publish=self.rights.may_publish)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.get_form())
        context["own_department"] = (
            self.request.user.department if self.rights.department_id else None
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if "confirm" in request.POST:
            return self._confirm(request)
        form = self.get_form(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        self._discard_pending(request)
        upload = form.cleaned_data["file"]
        publish = bool(form.cleaned_data.get("publish"))
        stored = _upload_dir() / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with stored.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        report = self._run(stored, dry_run=True, publish=publish)
        if report is None or not report.ok:
            stored.unlink(missing_ok=True)
        else:
            request.session[_SESSION_KEY] = {
                "path": stored.name,
                "name": upload.name,
                "publish": publish,
            }
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
            return redirect("catalog_offerings_import")
        try:
            report = self._run(stored, dry_run=False, publish=pending["publish"])
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

    def _run(self, path: Path, *, dry_run: bool, publish: bool):
        try:
            return import_offerings_file(
                path, dry_run=dry_run, publish=publish, actor=self.request.user
            )
        except ImportFileError as error:
            messages.error(self.request, str(error))
            return None


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
