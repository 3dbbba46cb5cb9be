"""Forms of the catalog's CMS screens."""

from datetime import datetime
from typing import Any

from django import forms
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm

IMPORT_SUFFIXES = (".csv", ".xlsx")


class OfferingsImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A .csv or .xlsx file in the documented format."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_SUFFIXES)}),
    )
    publish = forms.BooleanField(
        label=_("Publish at once"),
        required=False,
        help_text=_("Otherwise the offerings are saved as drafts for approval."),
    )

    def __init__(self, *args, may_publish: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_publish:
            del self.fields["publish"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(IMPORT_SUFFIXES):
            raise forms.ValidationError(_("Only .csv and .xlsx files can be imported."))
        return upload


# The same words as the offerings import uses for the same refusals.
ERROR_SEATS_BELOW_TAKEN = _(
    "The session at %(start)s already has %(taken)s seats taken."
)
ERROR_BOOKED_SESSION_REMOVED = _(
    "The session at %(start)s has seats taken and cannot be removed."
)


def _local_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


class OfferingPageForm(WagtailAdminPageForm):
    """The offering editor. Communities hold seats in its sessions, so it will
    not offer fewer seats than are taken, nor drop a session with seats taken.

    Seats taken are read from the database, not from the page being edited:
    that may be a draft or an old revision saved before the seats were taken.
    """

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        sessions = self.formsets.get("sessions")
        if sessions is not None and self.instance.pk is not None:
            self._check_booked_sessions(sessions)
        return cleaned_data

    def _check_booked_sessions(self, sessions) -> None:
        booked = {
            pk: (starts_at, taken)
            for pk, starts_at, taken in sessions.model.objects.filter(
                offering_id=self.instance.pk, seats_taken__gt=0
            ).values_list("pk", "starts_at", "seats_taken")
        }
        kept = set()
        for form in sessions.forms:
            if form.instance.pk not in booked:
                continue
            form.is_valid()  # fills cleaned_data, also when the form has errors
            if form.cleaned_data.get(DELETION_FIELD_NAME):
                continue
            kept.add(form.instance.pk)
            starts_at, taken = booked[form.instance.pk]
            seats = form.cleaned_data.get("seats")
            if seats is not None and seats < taken:
                form.add_error(
                    "seats",
                    ERROR_SEATS_BELOW_TAKEN
                    % {"start": _local_time(starts_at), "taken": taken},
                )
        for pk, (starts_at, _taken) in booked.items():
            if pk not in kept:
                self.add_error(
                    None,
                    ERROR_BOOKED_SESSION_REMOVED % {"start": _local_time(starts_at)},
                )
