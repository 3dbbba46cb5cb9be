"""Forms of the portal app: the upload form of the import page and the account
forms of Wagtail's user admin, which know about units and roles."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.users.forms import UserCreationForm, UserEditForm

from portal.models import Department, MailPreference, Region, Role, User
from portal.roles import role_unit_error
from portal.services import role_groups_assign
from portal.signals import units_changed

IMPORT_SUFFIXES = (".csv", ".xlsx")


class UnitsImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A .csv or .xlsx file in the documented format."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_SUFFIXES)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(IMPORT_SUFFIXES):
            raise forms.ValidationError(_("Only .csv and .xlsx files can be imported."))
        return upload


class NotificationMailForm(forms.Form):
    notification_mail = forms.ChoiceField(
        label=_("Send me my notifications by e-mail"),
        choices=MailPreference.choices,
        widget=forms.RadioSelect,
    )


class AccountUnitFields(forms.ModelForm):
    """Full name, phone, role and unit instead of Wagtail's first/last name."""

    first_name = None
    last_name = None
    email = forms.EmailField(label=_("E-mail"), required=False)
    name = forms.CharField(label=_("Full name"), max_length=50)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    unit_code = forms.CharField(
        label=_("Unit code"),
        max_length=32,
        help_text=_(
            "The 12-digit code of the community or street, or the code of the department."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        unit = self.instance.unit if self.instance.pk else None
        if unit is not None:
            self.initial.setdefault("unit_code", unit.code)

    def clean(self):
        cleaned = super().clean()
        code, role = cleaned.get("unit_code"), cleaned.get("role")
        if not code or not role:
            return cleaned
        unit = (
            Region.objects.filter(code=code).first()
            or Department.objects.filter(code=code).first()
        )
        if unit is None:
            self.add_error("unit_code", _("Unknown unit code."))
            return cleaned
        error = role_unit_error(role, unit)
        if error:
            self.add_error("role", error)
            return cleaned
        self.instance.region = unit if isinstance(unit, Region) else None
        self.instance.department = unit if isinstance(unit, Department) else None
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            role_groups_assign(users=[user])
            units_changed.send(sender=User, department_ids=[], user_ids=[user.pk])
        return user


class AccountCreationForm(AccountUnitFields, UserCreationForm):
    """Accounts get no password here: the owner sets it through a one-time link."""

    def save(self, commit=True):
        if not self.cleaned_data.get("password1"):
            self.instance.set_unusable_password()
        return super().save(commit=commit)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = {
            "username",
            "email",
            "is_superuser",
            "groups",
            "name",
            "phone",
            "role",
        }


class AccountEditForm(AccountUnitFields, UserEditForm):
    class Meta(UserEditForm.Meta):
        model = User
        fields = {
            "username",
            "email",
            "is_active",
            "is_superuser",
            "groups",
            "name",
            "phone",
            "role",
        }
