"""The evaluation form a unit fills about one department: one field per
question of the round's questionnaire version, grouped by dimension.

The fields only collect what was sent; ``assessments.questionnaires.
answers_check`` decides what is required and valid, because that depends on
the display conditions (a required question that is not shown is not asked)
and must be the same rule the service applies. Nothing here stores anything
but through ``services.evaluation_submit``, and no draft ever reaches the
server: a stored draft would link a unit to its answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import (
    Dimension,
    EvaluationRound,
    Question,
    QuestionKind,
)
from assessments.questionnaires import (
    COUNT_LIMIT,
    TEXT_LIMIT,
    AnswerError,
    answers_check,
    question_options,
)
from assessments.scoring import condition_values
from assessments.services import evaluation_submit
from portal.models import Department, User

FIELD_PREFIX = "q-"
LIKERT_POINTS = (1, 2, 3, 4, 5)
# What each point of the scale means; the page writes the ends beside the
# scale and gives every point its words for screen readers.
LIKERT_LABELS = {
    1: gettext_lazy("Strongly disagree"),
    2: gettext_lazy("Disagree"),
    3: gettext_lazy("Neither agree nor disagree"),
    4: gettext_lazy("Agree"),
    5: gettext_lazy("Strongly agree"),
}
YES, NO = "1", "0"

ERROR_CONFIRM = gettext_lazy(
    "Tick the box to confirm: once sent, the evaluation cannot be changed."
)


def field_name(question: Question) -> str:
    return f"{FIELD_PREFIX}{question.code}"


@dataclass
class QuestionItem:
    """A question as the page shows it: its number on the form, its field,
    and, for a question shown only after some answers, which ones."""

    question: Question
    number: int
    field: forms.BoundField
    condition: Question | None = None
    condition_number: int | None = None
    condition_answers: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.question.kind

    @property
    def anchor(self) -> str:
        return f"question-{self.question.code}"

    @property
    def condition_text(self) -> str:
        if self.condition is None:
            return ""
        return _(
            "Answer only if your answer to question %(number)s was %(answers)s."
        ) % {
            "number": self.condition_number,
            "answers": _(" or ").join(f"“{label}”" for label in self.condition_answers),
        }

    @property
    def has_help(self) -> bool:
        return bool(
            self.question.help_text
            or self.condition
            or self.question.kind == QuestionKind.MULTIPLE
        )

    @property
    def described_by(self) -> str:
        """The ids of the help and errors that describe the answer."""
        ids = [f"{self.anchor}-help"] if self.has_help else []
        if self.question.kind == QuestionKind.TEXT:
            ids.append(f"{self.anchor}-counter")
        if self.field.errors:
            ids.append(f"{self.anchor}-error")
        return " ".join(ids)

    @property
    def likert_points(self) -> list[tuple[forms.boundfield.BoundWidget, str]]:
        """Each point of a scale with its meaning."""
        return [
            (radio, LIKERT_LABELS[point])
            for radio, point in zip(self.field, LIKERT_POINTS, strict=True)
        ]

    text_limit = TEXT_LIMIT
    count_limit = COUNT_LIMIT


@dataclass
class Section:
    """A dimension of the questionnaire and its questions, in order."""

    dimension: Dimension | None
    items: list[QuestionItem]


class EvaluationForm(forms.Form):
    """A unit's answers about one department in an open round."""

    confirm = forms.BooleanField(
        label=gettext_lazy(
            "I have checked my answers: once sent, they cannot be changed."
        ),
        required=False,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        user: User,
        evaluation_round: EvaluationRound,
        department: Department,
        questions: Sequence[Question],
        dimensions: Sequence[Dimension],
    ) -> None:
        super().__init__(data)
        self.user = user
        self.evaluation_round = evaluation_round
        self.department = department
        self.questions = list(questions)
        self.dimensions = list(dimensions)
        for question in self.questions:
            self.fields[field_name(question)] = _question_field(question)

    def answers(self) -> dict[str, Any]:
        """What was sent, as ``{question code: value}`` for ``answers_check``."""
        return {
            question.code: self.cleaned_data.get(field_name(question))
            for question in self.questions
        }

    def submit(self) -> bool:
        """Send the answers, once. False with the problems set on the
        questions (and nothing stored) when they cannot be taken. Raises
        ``services.EvaluationError`` when the unit answered already or the
        round is over."""
        if not self.is_valid():
            return False
        answers = self.answers()
        # Every problem of the answers first, so that the unit sees them all
        # at once, whether or not it ticked the confirmation.
        try:
            answers_check(self.questions, answers)
        except AnswerError as error:
            self._problems_show(error)
        if not self.cleaned_data.get("confirm"):
            self.add_error("confirm", ERROR_CONFIRM)
        if self.errors:
            return False
        try:
            evaluation_submit(
                user=self.user,
                evaluation_round=self.evaluation_round,
                department=self.department,
                answers=answers,
            )
        except AnswerError as error:
            self._problems_show(error)
            return False
        return True

    def _problems_show(self, error: AnswerError) -> None:
        for code, message in error.problems.items():
            name = f"{FIELD_PREFIX}{code}"
            self.add_error(name if name in self.fields else None, message)

    @cached_property
    def sections(self) -> list[Section]:
        """The questions grouped by dimension, in the questionnaire's order,
        numbered from 1 across the form."""
        numbers: dict[str, int] = {}
        items: dict[str, list[QuestionItem]] = {}
        by_code = {question.code: question for question in self.questions}
        for number, question in enumerate(self.questions, start=1):
            numbers[question.code] = number
            item = QuestionItem(
                question=question, number=number, field=self[field_name(question)]
            )
            condition = by_code.get(question.show_if)
            if condition is not None and condition.code in numbers:
                item.condition = condition
                item.condition_number = numbers[condition.code]
                item.condition_answers = _answer_labels(
                    condition, question.show_if_values
                )
            items.setdefault(question.dimension_code, []).append(item)
        sections = [
            Section(dimension=dimension, items=items.pop(dimension.code))
            for dimension in self.dimensions
            if dimension.code in items
        ]
        # Questions whose dimension is gone still show (the questionnaire
        # check refuses that, but an answer must never be lost to it).
        leftovers = [item for rest in items.values() for item in rest]
        if leftovers:
            sections.append(Section(dimension=None, items=leftovers))
        return sections

    @property
    def items(self) -> list[QuestionItem]:
        return [item for section in self.sections for item in section.items]

    @property
    def has_answer_errors(self) -> bool:
        return any(name.startswith(FIELD_PREFIX) for name in self.errors)


def _question_field(question: Question) -> forms.Field:
    """The field of one question. It takes whatever was sent, unchecked and
    not required (see the module docstring): even an option that is not one
    comes back with the questionnaire's own words, beside every other
    problem of the form."""
    kind = question.kind
    if kind == QuestionKind.LIKERT:
        choices = [(str(point), str(point)) for point in LIKERT_POINTS]
    elif kind == QuestionKind.YES_NO:
        choices = [(YES, _("Yes")), (NO, _("No"))]
    elif kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        choices = _option_choices(question)
    elif kind == QuestionKind.TEXT:
        return forms.CharField(required=False, widget=forms.Textarea)
    else:
        return forms.CharField(required=False)
    if kind == QuestionKind.MULTIPLE:
        return forms.Field(
            required=False, widget=forms.CheckboxSelectMultiple(choices=choices)
        )
    return forms.CharField(required=False, widget=forms.RadioSelect(choices=choices))


def _option_choices(question: Question) -> list[tuple[str, str]]:
    # ``selectors.questions_of`` has read them already.
    choices = getattr(question, "choices", None)
    if choices is None:
        choices = question_options(question)
    return [(str(number), label) for number, label in enumerate(choices, start=1)]


def _answer_labels(question: Question, values_text: str) -> list[str | Promise]:
    """The answers of ``question`` a display condition names, in words."""
    try:
        values = condition_values(values_text)
    except ValueError:
        return []
    if question.kind == QuestionKind.YES_NO:
        words = {1: _("Yes"), 0: _("No")}
        return [words.get(value, str(value)) for value in values]
    if question.kind == QuestionKind.SINGLE:
        labels = dict(_option_choices(question))
        return [labels.get(str(value), str(value)) for value in values]
    return [
        _("%(value)s (%(meaning)s)")
        % {"value": value, "meaning": LIKERT_LABELS.get(value, "")}
        for value in values
    ]
