"""Model fields of the catalog."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

ERROR_NOT_A_LIST = _("Choose values from the list.")
ERROR_UNKNOWN_CHOICE = _("%(value)s is not one of the available choices.")


class ChoiceListField(models.JSONField):
    """Several values of a fixed choice list (``TextChoices.choices``), stored
    as a JSON array of the values.

    A JSON array works alike on SQLite and PostgreSQL, where an ArrayField would
    tie the catalog to PostgreSQL and a link table would make rows of values
    that live in code. Editors tick checkboxes; the model field rejects values
    outside the choices however the row is saved.
    """

    def __init__(self, *args: Any, item_choices: Any = (), **kwargs: Any) -> None:
        self.item_choices = list(item_choices)
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs["item_choices"] = self.item_choices
        return name, path, args, kwargs

    def validate(self, value: Any, model_instance: models.Model | None) -> None:
        super().validate(value, model_instance)
        if not isinstance(value, list):
            raise ValidationError(ERROR_NOT_A_LIST, code="invalid")
        allowed = {choice for choice, _label in self.item_choices}
        for item in value:
            if item not in allowed:
                raise ValidationError(
                    ERROR_UNKNOWN_CHOICE, code="invalid_choice", params={"value": item}
                )

    def formfield(self, **kwargs: Any) -> forms.Field:
        # Not JSONField's text box of JSON: a list of checkboxes whose cleaned
        # value is the plain list the model stores.
        return models.Field.formfield(
            self,
            **{
                "form_class": forms.MultipleChoiceField,
                "choices": self.item_choices,
                "widget": forms.CheckboxSelectMultiple,
                **kwargs,
            },
        )
