"""Results pages: the organization department's dashboard of a round (the
ranking overall and by family, the dimension heatmap, the totals chart and
the export), the drill-down of one department (which the department itself
reads once the round is published), and a department's own list of results.

Only figures computed at close reach these pages (``DepartmentResult``,
``QuestionResult``), and they are null wherever fewer than the round's k units
answered: the pages then say 样本不足 and show no number. Reads come from
``assessments.selectors``, each scoped to the user (a foreign id is a 404)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import scoring
from assessments.exports import (
    RESULTS_FILE,
    flags_in_words,
    respondent_label,
    results_sheets,
)
from assessments.lifecycle import DEPARTMENT_ROLES
from assessments.models import (
    DepartmentResult,
    Dimension,
    EvaluationRound,
    QuestionKind,
    QuestionResult,
    RoundResult,
    RoundState,
)
from assessments.selectors import (
    RESULT_STATES,
    DimensionRow,
    comments_for,
    department_result_of,
    department_trend,
    is_organizer,
    rectifications_visible_to,
    result_breakdown,
    results_visible_to,
    round_managed_by,
    round_question_results,
    round_ranking,
)
from matching.exports import export_filename
from portal.charts import (
    Bar,
    LineSeries,
    Series,
    bar_chart,
    column_chart,
    heat_colour,
    line_chart,
)
from portal.exports import xlsx_response

COMPOSITE_LABEL = gettext_lazy("Composite")
# The heatmap's legend: one swatch per step of the scale.
LEGEND_STEPS = (0, 20, 40, 60, 80, 100)


@dataclass(frozen=True)
class HeatCell:
    """One score of the heatmap, with the colours it is drawn in; None
    where too few units answered."""

    score: float | None
    background: str = ""
    ink: str = ""


def heat_cell(score: float | None) -> HeatCell:
    if score is None:
        return HeatCell(None)
    background, ink = heat_colour(score)
    return HeatCell(score, background, ink)


@dataclass(frozen=True)
class ClassCount:
    label: str | Promise
    answered: int
    asked: int


@dataclass
class RankingRow:
    """A department of the ranking: its result, the units that answered by
    class, its flags in words and its heatmap row."""

    result: DepartmentResult
    counts: list[ClassCount]
    flags: list[str]
    cells: list[HeatCell] = field(default_factory=list)

    @property
    def total_cell(self) -> HeatCell:
        return heat_cell(self.result.total)


@dataclass
class FamilyGroup:
    name: str
    rows: list[RankingRow]


def _class_counts(result: DepartmentResult, classes: Iterable[str]) -> list[ClassCount]:
    return [
        ClassCount(
            respondent_label(name),
            result.answered.get(name, 0),
            result.asked.get(name, 0),
        )
        for name in classes
    ]


def _flags_in_words(
    result: DepartmentResult, dimension_names: Mapping[str, str]
) -> list[str]:
    return flags_in_words(result.flags, dimension_names)


def _round_classes(evaluation_round: EvaluationRound) -> list[str]:
    return list(evaluation_round.class_weights())


@login_required
def round_results(request: HttpRequest, round_id: int) -> HttpResponse:
    user = request.user
    evaluation_round = round_managed_by(user=user, round_id=round_id)
    if evaluation_round.state not in RESULT_STATES:
        messages.info(request, _("The round has no results before it closes."))
        return redirect("round_detail", evaluation_round.pk)
    round_result = RoundResult.objects.filter(round=evaluation_round).first()
    if round_result is None:
        return render(
            request,
            "assessments/result_round.html",
            {"round": evaluation_round, "computing": True},
        )
    dimensions = list(evaluation_round.questionnaire.dimensions.all())
    names = {d.code: d.name for d in dimensions}
    classes = _round_classes(evaluation_round)
    rows = [
        RankingRow(
            result=result,
            counts=_class_counts(result, classes),
            flags=_flags_in_words(result, names),
            cells=[
                heat_cell(result.dimensions.get(d.code, {}).get(scoring.COMPOSITE))
                for d in dimensions
            ],
        )
        for result in round_ranking(user=user, evaluation_round=evaluation_round)
    ]
    ranked = [row for row in rows if row.result.total is not None]
    threshold = float(evaluation_round.rectification_threshold)
    return render(
        request,
        "assessments/result_round.html",
        {
            "round": evaluation_round,
            "round_result": round_result,
            "rows": rows,
            "families": _families(rows),
            "dimensions": dimensions,
            "classes": [respondent_label(name) for name in classes],
            "summary": {
                "departments": len(rows),
                "ranked": len(ranked),
                "thin": len(rows) - len(ranked),
                "below": sum(row.result.total < threshold for row in ranked),
                "responses": round_result.responses,
            },
            "threshold": threshold,
            "legend": [(step, heat_cell(step)) for step in LEGEND_STEPS],
            "totals_chart": bar_chart(
                [
                    Bar(row.result.department.name, row.result.total, _score(row))
                    for row in ranked
                ],
                title=_("Total score by department"),
                label_width=170,
            )
            if ranked
            else None,
            "dimension_averages": _dimension_averages(dimensions, ranked),
        },
    )


def _score(row: RankingRow) -> str:
    return f"{row.result.total:.1f}"


def _families(rows: list[RankingRow]) -> list[FamilyGroup]:
    """The ranking by peer group: each family's departments by their rank
    in it, those with too few answers last."""
    groups: dict[Any, FamilyGroup] = {}
    for row in rows:
        family = row.result.family
        key = (family.sort_order, family.name) if family else (10**6, "")
        group = groups.setdefault(
            key, FamilyGroup(family.name if family else _("No family"), [])
        )
        group.rows.append(row)
    for group in groups.values():
        group.rows.sort(
            key=lambda r: (
                r.result.rank_in_family is None,
                r.result.rank_in_family or 0,
                r.result.department.code,
            )
        )
    return [groups[key] for key in sorted(groups)]


def _dimension_averages(
    dimensions: list[Dimension], ranked: list[RankingRow]
) -> list[HeatCell]:
    """The mean of the departments' scores in each dimension (the heatmap's
    last row), over those with a score in it."""
    cells = []
    for index in range(len(dimensions)):
        scores = [
            row.cells[index].score
            for row in ranked
            if row.cells[index].score is not None
        ]
        cells.append(heat_cell(sum(scores) / len(scores) if scores else None))
    return cells


@login_required
def round_results_export(request: HttpRequest, round_id: int) -> HttpResponse:
    """The round's aggregates as an XLSX file: the ranking, the dimension
    scores and the question figures where enough units answered."""
    user = request.user
    evaluation_round = round_managed_by(user=user, round_id=round_id)
    if evaluation_round.state not in RESULT_STATES:
        messages.info(request, _("The round has no results before it closes."))
        return redirect("round_detail", evaluation_round.pk)
    dimensions = list(evaluation_round.questionnaire.dimensions.all())
    return xlsx_response(
        filename=export_filename(f"{RESULTS_FILE}-{evaluation_round.name}"),
        sheets=results_sheets(
            evaluation_round=evaluation_round,
            dimensions=dimensions,
            ranking=round_ranking(user=user, evaluation_round=evaluation_round),
            questions=round_question_results(
                user=user, evaluation_round=evaluation_round
            ),
        ),
    )


# One department ------------------------------------------------------------------


@dataclass(frozen=True)
class DistributionBar:
    label: str
    count: int
    share: float


@dataclass
class ClassFigures:
    """One question's figures for one respondent class; ``thin`` where fewer
    than k units answered it (nothing else is then shown, not even n)."""

    label: str | Promise
    thin: bool
    figures: QuestionResult | None = None
    bars: list[DistributionBar] = field(default_factory=list)
    # (what, figure): "平均" 3.25, or "是" 40%.
    mean: tuple[str, str] | None = None


@dataclass
class QuestionLine:
    text: str
    kind: str
    kind_label: str | Promise
    weight: float
    scored: bool
    lower_better: bool
    classes: list[ClassFigures]


@dataclass
class DimensionBlock:
    code: str
    name: str
    weight: float
    cells: list[HeatCell]
    questions: list[QuestionLine]


# A number question with more answers than this shows them in ranges.
MOST_NUMBER_BARS = 8
NUMBER_RANGES = 6


def _bars(question, figures: QuestionResult) -> list[DistributionBar]:
    """The distribution of a question's answers in words: 是/否, the options'
    labels, the scale's points (its ends named) or the numbers given, in
    ranges when there are many."""
    counts = {int(value): n for value, n in figures.distribution.items()}
    if not counts:
        return []
    if question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        labels = {n: label for n, label in enumerate(question.choices, start=1)}
    elif question.kind == QuestionKind.YES_NO:
        labels = {1: _("Yes"), 0: _("No")}
    elif question.kind == QuestionKind.LIKERT:
        labels = {n: str(n) for n in range(1, 6)}
        labels[1] = _("1 (strongly disagree)")
        labels[5] = _("5 (strongly agree)")
    elif len(counts) > MOST_NUMBER_BARS:
        return _number_ranges(counts, figures.answered)
    else:
        labels = {n: str(n) for n in sorted(counts)}
    # Several choices: shares of the units that answered (options add up to more).
    base = figures.answered or 1
    return [
        DistributionBar(str(label), counts.get(key, 0), counts.get(key, 0) / base)
        for key, label in labels.items()
    ]


def _number_ranges(counts: Mapping[int, int], answered: int) -> list[DistributionBar]:
    """Numbers given, in ranges of equal width from the least to the most."""
    low, high = min(counts), max(counts)
    width = max(-(-(high - low + 1) // NUMBER_RANGES), 1)
    bars = []
    for start in range(low, high + 1, width):
        end = min(start + width - 1, high)
        n = sum(v for value, v in counts.items() if start <= value <= end)
        label = str(start) if start == end else f"{start}–{end}"
        bars.append(DistributionBar(label, n, n / (answered or 1)))
    return bars


def _mean_text(question, figures: QuestionResult) -> tuple[str, str] | None:
    """How the mean answer reads: the mean of a scale or a number, the share
    of yes; nothing for choices, whose option numbers have no mean."""
    if figures.mean is None:
        return None
    if question.kind == QuestionKind.YES_NO:
        return _("Answered yes"), f"{figures.mean:.0%}"
    if question.kind in (QuestionKind.LIKERT, QuestionKind.COUNT):
        return _("Mean"), f"{figures.mean:.2f}"
    return None


def _dimension_blocks(
    result: DepartmentResult, rows: list[DimensionRow], classes: list[str]
) -> list[DimensionBlock]:
    k = result.round.min_responses
    blocks = []
    for row in rows:
        lines = []
        for question_row in row.questions:
            question = question_row.question
            if question.kind == QuestionKind.TEXT:
                continue
            per_class = []
            for name in classes:
                figures = question_row.by_class.get(name)
                thin = figures is None or figures.answered < k
                per_class.append(
                    ClassFigures(
                        label=respondent_label(name),
                        thin=thin,
                        figures=None if thin else figures,
                        bars=[] if thin else _bars(question, figures),
                        mean=None if thin else _mean_text(question, figures),
                    )
                )
            lines.append(
                QuestionLine(
                    text=question.text,
                    kind=question.kind,
                    kind_label=question.get_kind_display(),
                    weight=float(question.weight),
                    scored=question.is_scored,
                    lower_better=question.direction == "lower",
                    classes=per_class,
                )
            )
        blocks.append(
            DimensionBlock(
                code=row.code,
                name=row.name,
                weight=row.weight,
                cells=[heat_cell(row.scores.get(name)) for name in classes]
                + (
                    [heat_cell(row.scores.get(scoring.COMPOSITE))]
                    if len(classes) > 1
                    else []
                ),
                questions=lines,
            )
        )
    return blocks


def _dimension_chart(
    result: DepartmentResult, blocks: list[DimensionBlock], classes: list[str]
):
    """The dimension scores as grouped columns: each class with a score in
    every dimension, and the composite when several classes weigh."""
    if result.total is None:
        return None
    names = [block.name for block in blocks]
    series = []
    for name in classes:
        values = [result.dimensions.get(b.code, {}).get(name) for b in blocks]
        if all(value is not None for value in values):
            series.append(Series(str(respondent_label(name)), values))
    if len(classes) > 1:
        values = [
            result.dimensions.get(b.code, {}).get(scoring.COMPOSITE) for b in blocks
        ]
        if all(value is not None for value in values):
            series.append(Series(str(COMPOSITE_LABEL), values))
    if not series:
        return None
    return column_chart(
        names,
        [Series(s.name, [round(v, 1) for v in s.values]) for s in series],
        title=_("Scores by dimension"),
        height=260,
        top=100,
    )


@dataclass(frozen=True)
class WeightRow:
    name: str
    weight: float
    share: float


def _explanation(result: DepartmentResult, round_result: RoundResult | None) -> dict:
    """How the score was computed, from the weights stored with the result."""
    if round_result is None:
        return {}
    weights = round_result.weights
    questionnaire = result.round.questionnaire
    dimensions = list(questionnaire.dimensions.all())
    dimension_weights = weights.get("dimensions", {})
    total_weight = sum(dimension_weights.values()) or 1
    class_weights = weights.get("classes", {})
    question_weights = weights.get("questions", {})
    texts = {q.code: q.text for q in questionnaire.questions.all()}
    return {
        "formula_version": round_result.formula_version,
        "min_responses": weights.get("min_responses"),
        "threshold": weights.get("rectification_threshold"),
        "classes": [
            WeightRow(str(respondent_label(name)), weight, weight)
            for name, weight in class_weights.items()
        ],
        "dimensions": [
            WeightRow(
                d.name,
                dimension_weights.get(d.code, 0),
                dimension_weights.get(d.code, 0) / total_weight,
            )
            for d in dimensions
            if d.code in dimension_weights
        ],
        "questions": [
            (d.name, _question_weights(question_weights, d.code, texts))
            for d in dimensions
        ],
        "computed_at": round_result.computed_at,
    }


def _question_weights(
    weights: Mapping[str, Mapping[str, Any]], dimension: str, texts: Mapping[str, str]
) -> list[WeightRow]:
    """The scored questions of a dimension with their weights and shares."""
    rows = [
        (code, spec["weight"])
        for code, spec in weights.items()
        if spec["dimension"] == dimension
    ]
    total = sum(weight for _code, weight in rows) or 1
    return [
        WeightRow(texts.get(code, code), weight, weight / total)
        for code, weight in rows
    ]


@login_required
def department_result(
    request: HttpRequest, round_id: int, department_id: int
) -> HttpResponse:
    user = request.user
    result = department_result_of(
        user=user, round_id=round_id, department_id=department_id
    )
    evaluation_round = result.round
    classes = _round_classes(evaluation_round)
    blocks = _dimension_blocks(result, result_breakdown(result), classes)
    trend = department_trend(result)
    round_result = getattr(evaluation_round, "result", None)
    organizer = is_organizer(user)
    rectification = (
        rectifications_visible_to(user)
        .filter(round=evaluation_round, department_id=result.department_id)
        .first()
    )
    names = {block.code: block.name for block in blocks}
    return render(
        request,
        "assessments/result_department.html",
        {
            "result": result,
            "round": evaluation_round,
            "department": result.department,
            "organizer": organizer,
            "counts": _class_counts(result, classes),
            "flags": _flags_in_words(result, names),
            "class_labels": [respondent_label(name) for name in classes]
            + ([COMPOSITE_LABEL] if len(classes) > 1 else []),
            "several_classes": len(classes) > 1,
            "class_totals": [
                (respondent_label(name), heat_cell(result.class_totals.get(name)))
                for name in classes
            ],
            "blocks": blocks,
            "dimension_chart": _dimension_chart(result, blocks, classes),
            "trend": trend,
            "trend_chart": line_chart(
                [r.round.name for r in trend],
                [LineSeries(_("Total"), [r.total for r in trend])],
                title=_("Total score, round by round"),
                top=100,
            )
            if sum(r.total is not None for r in trend) > 1
            else None,
            "explanation": _explanation(result, round_result),
            "comments": list(comments_for(user=user, result=result)),
            "rectification": rectification,
            "threshold": float(evaluation_round.rectification_threshold),
            "published": evaluation_round.state == RoundState.PUBLISHED,
        },
    )


@login_required
def results_mine(request: HttpRequest) -> HttpResponse:
    """A department's results, round by round (published rounds only), and
    its rectification items."""
    user = request.user
    if is_organizer(user):
        return redirect("round_list")
    if user.role not in DEPARTMENT_ROLES:
        raise PermissionDenied
    results = list(results_visible_to(user).order_by("-round__opens_on", "-round_id"))
    return render(
        request,
        "assessments/result_mine.html",
        {
            "results": results,
            "rectifications": list(
                rectifications_visible_to(user).order_by("-created_at")
            ),
            "department": user.department,
        },
    )
