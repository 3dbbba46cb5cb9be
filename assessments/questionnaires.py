"""What a questionnaire version asks and how its answers are read: its
structure checked as a whole (the CMS form and the services share this), the
questions a unit sees given its answers so far, answers checked against their
questions, and the scoring formula of a round.

Answers come in as ``{question code: value}``: an int for a scale, yes/no (1
or 0), a number or one choice (option number from 1); a list of option
numbers for several choices; a string for free text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from assessments import scoring
from assessments.models import (
    Dimension,
    EvaluationRound,
    Question,
    QuestionKind,
    Questionnaire,
)

TEXT_LIMIT = 2000
COUNT_LIMIT = 999
# Options a "several choices" question may have: one bit each in an answer.
MAX_OPTIONS = 20
CONDITION_KINDS = (QuestionKind.YES_NO, QuestionKind.LIKERT, QuestionKind.SINGLE)
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a questionnaire: which question or dimension (its
    position from 1, or None for the whole), and why, in words."""

    what: str
    position: int | None
    message: str


def questionnaire_problems(
    dimensions: Sequence[Dimension], questions: Sequence[Question]
) -> list[Problem]:
    """Everything that would keep a questionnaire from being answered and
    scored: duplicate codes, a question in a dimension that does not exist,
    choices without options, a number without its scale, a condition on a
    later or unsuitable question."""
    problems: list[Problem] = []
    codes = [d.code for d in dimensions]
    for n, dimension in enumerate(dimensions, start=1):
        if codes.count(dimension.code) > 1:
            problems.append(
                Problem(
                    "dimension",
                    n,
                    _("Two dimensions have the code “%s”.") % dimension.code,
                )
            )
    seen: dict[str, Question] = {}
    for n, question in enumerate(questions, start=1):
        if question.code in seen:
            problems.append(
                Problem(
                    "question",
                    n,
                    _("Two questions have the code “%s”.") % question.code,
                )
            )
        if question.dimension_code not in codes:
            problems.append(
                Problem(
                    "question",
                    n,
                    _("No dimension has the code “%s”.") % question.dimension_code,
                )
            )
        problems += [
            Problem("question", n, m) for m in _question_problems(question, seen)
        ]
        seen[question.code] = question
    if not any(question.is_scored for question in questions):
        problems.append(Problem("questionnaire", None, _("No question is scored.")))
    return problems


def _question_problems(
    question: Question, earlier: Mapping[str, Question]
) -> list[str]:
    problems = []
    try:
        options = scoring.parse_options(question.options)
    except ValueError:
        return [_("An option's score must be a number from 0 to 100.")]
    if question.kind in CHOICE_KINDS:
        if len(options) < 2:
            problems.append(_("A choice needs at least two options, one a line."))
        if len(options) > MAX_OPTIONS:
            problems.append(_("A choice has at most %d options.") % MAX_OPTIONS)
        if (
            question.kind == QuestionKind.SINGLE
            and question.weight > 0
            and not any(score is not None for _label, score in options)
        ):
            problems.append(
                _("Give the options scores (“option|score”) or the question weight 0.")
            )
    elif options:
        problems.append(_("Only choices have options."))
    if (
        question.kind == QuestionKind.COUNT
        and question.weight > 0
        and not question.scale_max
    ):
        problems.append(_("A scored number needs the number that scores fully."))
    if question.show_if:
        condition = earlier.get(question.show_if)
        if condition is None:
            problems.append(
                _("The display condition must name an earlier question's code.")
            )
        elif condition.kind not in CONDITION_KINDS:
            problems.append(
                _("A display condition can only follow a scale, yes/no or one choice.")
            )
        else:
            try:
                values = scoring.condition_values(question.show_if_values)
            except ValueError:
                values = []
            if not values or any(
                not _valid_value(condition, value) for value in values
            ):
                problems.append(
                    _("Give the answers that show the question, e.g. 1 for yes.")
                )
    elif question.show_if_values:
        problems.append(_("Name the question the display condition depends on."))
    return problems


def _valid_value(question: Question, value: int) -> bool:
    if question.kind == QuestionKind.YES_NO:
        return value in (0, 1)
    if question.kind == QuestionKind.LIKERT:
        return 1 <= value <= 5
    if question.kind == QuestionKind.SINGLE:
        return 1 <= value <= len(scoring.parse_options(question.options))
    return False


def question_options(question: Question) -> list[str]:
    """The labels of a choice's options, in order (option 1 first)."""
    return [label for label, _score in scoring.parse_options(question.options)]


def is_shown(question: Question, answers: Mapping[str, Any]) -> bool:
    """Whether a unit with ``answers`` so far sees ``question``: always,
    unless it has a display condition the answers do not meet."""
    if not question.show_if:
        return True
    try:
        values = scoring.condition_values(question.show_if_values)
    except ValueError:
        return True
    return answers.get(question.show_if) in values


class AnswerError(ValueError):
    """Answers that cannot be taken: ``problems`` maps question codes to why."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(problems)
        self.problems = dict(problems)


@dataclass(frozen=True)
class CheckedAnswers:
    """Answers ready to store: {question id: value} and {question id: text}."""

    values: dict[int, int]
    texts: dict[int, str]


def answers_check(
    questions: Sequence[Question], answers: Mapping[str, Any]
) -> CheckedAnswers:
    """The answers to store for ``questions`` given what a unit sent: every
    question it sees that is required must be answered, each answer must suit
    its question, and answers to questions it does not see are dropped.
    Raises ``AnswerError`` listing every problem."""
    problems: dict[str, str] = {}
    values: dict[int, int] = {}
    texts: dict[int, str] = {}
    kept: dict[str, Any] = {}
    for question in questions:
        if not is_shown(question, kept):
            continue
        raw = answers.get(question.code)
        if raw in (None, "", []):
            if question.required:
                problems[question.code] = _("Please answer this question.")
            continue
        try:
            value = _answer_value(question, raw)
        except ValueError as error:
            problems[question.code] = str(error)
            continue
        if question.kind == QuestionKind.TEXT:
            texts[question.pk] = value
        else:
            values[question.pk] = value
        kept[question.code] = value
    if problems:
        raise AnswerError(problems)
    return CheckedAnswers(values=values, texts=texts)


def _answer_value(question: Question, raw: Any) -> int | str:
    kind = question.kind
    if kind == QuestionKind.TEXT:
        text = str(raw).strip()
        if len(text) > TEXT_LIMIT:
            raise ValueError(_("At most %d characters.") % TEXT_LIMIT)
        return text
    if kind == QuestionKind.MULTIPLE:
        chosen = raw if isinstance(raw, list | tuple) else [raw]
        count = len(question_options(question))
        bits = 0
        for option in chosen:
            number = _integer(option)
            if not 1 <= number <= count:
                raise ValueError(_("Choose among the options shown."))
            bits |= 1 << (number - 1)
        return bits
    value = _integer(raw)
    if kind == QuestionKind.LIKERT and not 1 <= value <= 5:
        raise ValueError(_("Choose a value from 1 to 5."))
    if kind == QuestionKind.YES_NO and value not in (0, 1):
        raise ValueError(_("Answer yes or no."))
    if kind == QuestionKind.COUNT and not 0 <= value <= COUNT_LIMIT:
        raise ValueError(_("Give a whole number from 0 to %d.") % COUNT_LIMIT)
    if kind == QuestionKind.SINGLE and not 1 <= value <= len(
        question_options(question)
    ):
        raise ValueError(_("Choose among the options shown."))
    return value


def _integer(raw: Any) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(_("Give a whole number.")) from None


def formula_for(evaluation_round: EvaluationRound) -> scoring.Formula:
    """The scoring formula of a round: its questionnaire's weights and the
    round's class weights and minimum number of answers."""
    questionnaire: Questionnaire = evaluation_round.questionnaire
    return scoring.Formula(
        dimensions=tuple(
            scoring.DimensionSpec(code=d.code, weight=float(d.weight))
            for d in questionnaire.dimensions.all()
        ),
        questions=tuple(
            scoring.QuestionSpec(
                id=q.pk,
                code=q.code,
                dimension=q.dimension_code,
                kind=q.kind,
                weight=float(q.weight),
                direction=q.direction,
                option_scores=tuple(
                    score for _label, score in scoring.parse_options(q.options)
                ),
                scale_max=q.scale_max,
            )
            for q in questionnaire.questions.all()
        ),
        class_weights={
            name: float(weight)
            for name, weight in evaluation_round.class_weights().items()
        },
        min_responses=evaluation_round.min_responses,
    )
