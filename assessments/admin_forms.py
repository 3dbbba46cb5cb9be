"""The questionnaire editor's form in the CMS: the questionnaire with its
dimensions and questions edited inline, checked as a whole by
``questionnaires.questionnaire_problems`` — the same check the services
rely on — with every problem shown at the dimension or question (and, where
it can tell, the field) it is about. A frozen version is refused outright."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminModelForm

from assessments.models import Dimension, Question, Questionnaire
from assessments.questionnaires import MAX_OPTIONS, Problem, questionnaire_problems
from assessments.services import ERROR_FROZEN

# Which field of a dimension or question each problem of
# ``questionnaire_problems`` is about: its message, as that function words it
# (in the language of the request), and the field. A message not found here
# still shows, at the top of its dimension or question.
DIMENSION_FIELDS: list[tuple[Callable[[Dimension], str], str]] = [
    (lambda d: _("Two dimensions have the code “%s”.") % d.code, "code"),
]
QUESTION_FIELDS: list[tuple[Callable[[Question], str], str]] = [
    (lambda q: _("Two questions have the code “%s”.") % q.code, "code"),
    (
        lambda q: _("No dimension has the code “%s”.") % q.dimension_code,
        "dimension_code",
    ),
    (lambda q: _("An option's score must be a number from 0 to 100."), "options"),
    (lambda q: _("A choice needs at least two options, one a line."), "options"),
    (lambda q: _("A choice has at most %d options.") % MAX_OPTIONS, "options"),
    (
        lambda q: _(
            "Give the options scores (“option|score”) or the question weight 0."
        ),
        "options",
    ),
    (lambda q: _("Only choices have options."), "options"),
    (
        lambda q: _("A scored number needs the number that scores fully."),
        "scale_max",
    ),
    (
        lambda q: _("The display condition must name an earlier question's code."),
        "show_if",
    ),
    (
        lambda q: _(
            "A display condition can only follow a scale, yes/no or one choice."
        ),
        "show_if",
    ),
    (
        lambda q: _("Give the answers that show the question, e.g. 1 for yes."),
        "show_if_values",
    ),
    (
        lambda q: _("Name the question the display condition depends on."),
        "show_if",
    ),
]


def _field_of(problem: Problem, instance, table) -> str | None:
    for message, name in table:
        if message(instance) == problem.message:
            return name
    return None


class QuestionnaireAdminForm(WagtailAdminModelForm):
    """A questionnaire version and its inline dimensions and questions."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.instance.pk and (
            Questionnaire.objects.filter(
                pk=self.instance.pk, frozen_at__isnull=False
            ).exists()
        ):
            self.add_error(None, ERROR_FROZEN)
            return False
        # The whole is checked once every part is valid on its own: a
        # dimension without its code would only add confusing problems.
        return valid and self._questionnaire_check()

    def _questionnaire_check(self) -> bool:
        dimension_forms = _kept_forms(self.formsets["dimensions"])
        question_forms = _kept_forms(self.formsets["questions"])
        problems = questionnaire_problems(
            [form.instance for form in dimension_forms],
            [form.instance for form in question_forms],
        )
        for problem in problems:
            if problem.what == "dimension" and problem.position:
                form = dimension_forms[problem.position - 1]
                form.add_error(
                    _field_of(problem, form.instance, DIMENSION_FIELDS),
                    problem.message,
                )
            elif problem.what == "question" and problem.position:
                form = question_forms[problem.position - 1]
                form.add_error(
                    _field_of(problem, form.instance, QUESTION_FIELDS),
                    problem.message,
                )
            else:
                self.add_error(None, problem.message)
        return not problems


def _kept_forms(formset: forms.BaseFormSet) -> list[forms.Form]:
    """The forms of an inline formset that will be saved, in the order the
    editor put them: not deleted, not left empty."""
    kept = [
        form
        for form in formset.forms
        if not (formset.can_delete and formset._should_delete_form(form))
        and (form.instance.pk or form.has_changed())
    ]
    if formset.can_order:
        # A form without an order (added without the editor's script) goes
        # last, as it shows.
        kept.sort(
            key=lambda form: (
                form.cleaned_data.get("ORDER") is None,
                form.cleaned_data.get("ORDER") or 0,
            )
        )
    return kept
