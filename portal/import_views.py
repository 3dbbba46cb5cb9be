"""The upload → dry-run preview → confirm page that every import in the CMS
uses (regions and accounts here, offerings in the catalog)."""

import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from portal.importers import ImportFileError


def _upload_dir() -> Path:
    path = settings.VAR_DIR / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ImportPreviewView(WagtailAdminTemplateMixin, TemplateView):
    """Upload → dry-run preview with every row error → confirm → import.

    The uploaded file waits on disk between preview and confirmation, under a
    random name remembered only in the uploader's session, together with the
    options chosen at upload. Subclasses say who may import, which form to
    show and how to run their import.
    """

    header_icon = "upload"
    session_key: str
    url_name: str
    example_url_name: str

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.check_permission(request)
        return super().dispatch(request, *args, **kwargs)

    def check_permission(self, request: HttpRequest) -> None:
        raise NotImplementedError

    def get_form(self, *args):
        raise NotImplementedError

    def import_options(self, form) -> dict:
        """Choices made on the upload form that the confirmed import keeps."""
        return {}

    def run_import(self, path: Path, *, dry_run: bool, file_name: str, **options):
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", self.get_form())
        context["example_url"] = reverse(self.example_url_name)
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        if "confirm" in request.POST:
            return self._confirm(request)
        form = self.get_form(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        self._discard_pending(request)
        upload = form.cleaned_data["file"]
        options = self.import_options(form)
        stored = _upload_dir() / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
        with stored.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        report = self._run(stored, dry_run=True, file_name=upload.name, **options)
        if report is None or not report.ok:
            stored.unlink(missing_ok=True)
        else:
            request.session[self.session_key] = {
                "path": stored.name,
                "name": upload.name,
                "options": options,
            }
        return self.render_to_response(
            self.get_context_data(form=form, report=report, file_name=upload.name)
        )

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        pending = request.session.pop(self.session_key, None)
        stored = _upload_dir() / pending["path"] if pending else None
        if stored is None or not stored.exists():
            messages.error(
                request, _("The preview has expired; upload the file again.")
            )
            return redirect(self.url_name)
        try:
            report = self._run(
                stored, dry_run=False, file_name=pending["name"], **pending["options"]
            )
        finally:
            stored.unlink(missing_ok=True)
        return self.render_to_response(
            self.get_context_data(report=report, file_name=pending["name"])
        )

    def _discard_pending(self, request: HttpRequest) -> None:
        """A new upload replaces the preview waiting for confirmation, if any."""
        pending = request.session.pop(self.session_key, None)
        if pending:
            (_upload_dir() / pending["path"]).unlink(missing_ok=True)

    def _run(self, path: Path, **kwargs):
        try:
            return self.run_import(path, **kwargs)
        except ImportFileError as error:
            messages.error(self.request, str(error))
            return None
