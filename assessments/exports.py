"""The spreadsheet of a round's results: aggregates only (DESIGN.md,
invariant 2). Three sheets — the ranking, the dimension scores, and the
question figures where at least k units answered — built from the figures
computed at close; never a response, an answer or a comment. Where too few
units answered a department, its cells say 样本不足 and hold no number."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from assessments import scoring
from assessments.models import (
    DepartmentResult,
    Dimension,
    EvaluationRound,
    QuestionResult,
    RespondentClass,
)
from assessments.selectors import flag_text
from portal.exports import Sheet

RESULTS_FILE = pgettext_lazy("export file name", "evaluation-results")
# Who answered, as the review pages name them ("社区", "街道").
RESPONDENT_LABELS = {
    RespondentClass.COMMUNITY: pgettext_lazy("respondents", "Communities"),
    RespondentClass.STREET: pgettext_lazy("respondents", "Street offices"),
}


def respondent_label(name: str) -> str:
    return str(RESPONDENT_LABELS.get(name, name))


def _thin() -> str:
    return _("Too few answers")


def _figure(value: float | None) -> float | str:
    return round(value, 2) if value is not None else _thin()


def results_sheets(
    *,
    evaluation_round: EvaluationRound,
    dimensions: Sequence[Dimension],
    ranking: Iterable[DepartmentResult],
    questions: Iterable[QuestionResult],
) -> list[Sheet]:
    """The ranking (with the units that answered by class), the dimension
    scores by class and composite, and the question figures: n, mean and
    score, only where at least ``min_responses`` units answered."""
    classes = list(evaluation_round.class_weights())
    class_labels = [str(respondent_label(name)) for name in classes]
    ranking = list(ranking)
    names = {d.code: d.name for d in dimensions}
    ranking_headers = [
        _("Rank"),
        _("Department"),
        _("Department family"),
        _("Rank in family"),
        _("Total"),
        _("Previous total"),
        _("Change"),
    ]
    for label in class_labels:
        ranking_headers += [
            _("%(class)s answered") % {"class": label},
            _("%(class)s asked") % {"class": label},
        ]
    ranking_headers.append(_("Flags"))
    dimension_headers = [_("Department")]
    for dimension in dimensions:
        for label in class_labels:
            dimension_headers.append(f"{dimension.name}（{label}）")
        if len(classes) > 1:
            dimension_headers.append(f"{dimension.name}（{_('Composite')}）")
    return [
        Sheet(
            title=_("Ranking"),
            headers=ranking_headers,
            rows=[_ranking_row(result, classes, names) for result in ranking],
        ),
        Sheet(
            title=_("Dimensions"),
            headers=dimension_headers,
            rows=[_dimension_row(result, classes, dimensions) for result in ranking],
        ),
        Sheet(
            title=_("Questions"),
            headers=[
                _("Department"),
                _("Respondents"),
                _("Dimension"),
                _("Question"),
                _("Units answered"),
                _("Mean answer"),
                _("Score (0–100)"),
            ],
            rows=(
                [
                    figures.department.name,
                    str(respondent_label(figures.respondent_class)),
                    names.get(figures.question.dimension_code, ""),
                    figures.question.text,
                    figures.answered,
                    round(figures.mean, 2) if figures.mean is not None else None,
                    round(figures.score, 2) if figures.score is not None else None,
                ]
                for figures in questions
                if figures.answered >= evaluation_round.min_responses
            ),
        ),
    ]


def _ranking_row(
    result: DepartmentResult, classes: list[str], names: dict[str, str]
) -> list[Any]:
    thin = result.total is None
    row: list[Any] = [
        result.rank_overall,
        result.department.name,
        result.family.name if result.family else "",
        result.rank_in_family,
        _figure(result.total),
        None
        if thin or result.previous_total is None
        else round(result.previous_total, 2),
        None if result.change is None else round(result.change, 2),
    ]
    for name in classes:
        row += [result.answered.get(name, 0), result.asked.get(name, 0)]
    row.append("；".join(flags_in_words(result.flags, names)))
    return row


def flags_in_words(flags: Iterable[dict], names: Mapping[str, str]) -> list[str]:
    """The flags found at close, in words: the dimensions far below the
    other departments together, then a drop since the previous round."""
    low = [
        names.get(flag.get("dimension"), flag.get("dimension", ""))
        for flag in flags
        if flag.get("code") == scoring.FLAG_LOW_DIMENSION
    ]
    words = []
    if low:
        words.append(
            _("Far below the other departments: %(dimensions)s")
            % {"dimensions": "、".join(low)}
        )
    words += [
        flag_text(flag)
        for flag in flags
        if flag.get("code") != scoring.FLAG_LOW_DIMENSION
    ]
    return words


def _dimension_row(
    result: DepartmentResult, classes: list[str], dimensions: Sequence[Dimension]
) -> list[Any]:
    row: list[Any] = [result.department.name]
    for dimension in dimensions:
        scores = result.dimensions.get(dimension.code, {})
        for name in classes:
            row.append(_figure(scores.get(name)))
        if len(classes) > 1:
            row.append(_figure(scores.get(scoring.COMPOSITE)))
    return row
