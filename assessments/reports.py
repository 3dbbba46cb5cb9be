"""PDF reports of published rounds (WeasyPrint): a department's report card
and the round's bulletin.

Both are drawn from what was computed at close (``DepartmentResult``,
``QuestionResult``, ``RoundResult``) and from released comments, never from a
``Response`` or an ``Answer``: a PDF shows no more than the result pages do,
figures only where at least k units answered and "样本不足" otherwise
(DESIGN.md, invariant 2).

Each PDF is made once and kept in a ``Report`` row, its file in the
``reports`` storage (var/reports, outside MEDIA_ROOT), which only
``assessments.report_views`` serves, to those ``report_for`` lets through.
The bulletin is made in a background task once a round is published
(``report_request``); a card, small, when it is first asked for. A kept PDF
is made again when what it shows changed after it was made: a comment
reviewed, a step of a rectification item, results computed again.

Reports are written in Chinese whatever language the person asking for one
reads the site in: one file serves everyone.
"""

from __future__ import annotations

import logging
import re
import statistics
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import weasyprint
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404
from django.template.defaultfilters import date as date_format
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django_tasks import task
from weasyprint.urls import URLFetcher

from assessments import scoring
from assessments.models import (
    Comment,
    CommentState,
    DepartmentResult,
    EvaluationRound,
    QuestionKind,
    QuestionResult,
    Rectification,
    RectificationEvent,
    Report,
    ReportKind,
    ReportState,
    RespondentClass,
    RoundEvent,
    RoundResult,
    RoundState,
)
from assessments.report_charts import (
    Point,
    band_css,
    position_chart,
    score_band,
    score_legend,
    trend_chart,
)
from assessments.selectors import (
    DimensionRow,
    comments_released,
    department_result_of,
    department_trend,
    flag_text,
    result_breakdown,
    round_completion,
    round_managed_by,
)
from portal.charts import Bar, bar_chart
from portal.models import Department, User

logger = logging.getLogger(__name__)

CARD_TEMPLATE = "pdf/assessments/card.html"
BULLETIN_TEMPLATE = "pdf/assessments/bulletin.html"
STYLESHEET = Path(__file__).parent / "static" / "assessments" / "pdf.css"
# A card prints at most this many comments, each cut to this many characters,
# so that it stays within four pages; the result page shows them all.
CARD_COMMENTS = 12
COMMENT_LENGTH = 240
# How many departments each highlight of the bulletin names at most.
HIGHLIGHTS = 5
# A report still pending after this long was lost (its worker stopped):
# asked for again, it is made again.
PENDING_TIMEOUT = timedelta(minutes=10)
# The end of the traceback kept with a report that failed.
ERROR_LENGTH = 4000
# The classes of respondents as the reports name them (a class, not a count).
CLASS_LABELS = {
    RespondentClass.COMMUNITY: pgettext_lazy("respondent class", "Communities"),
    RespondentClass.STREET: pgettext_lazy("respondent class", "Street offices"),
}
# Indentation of the rendered markup, which WeasyPrint would parse for nothing.
INDENTATION = re.compile(r"\n\s+")
# PDFs take nothing from outside: no file, no address (the markup holds text
# written by users, and a report must not reach the network or the disk).
NO_FETCHING = URLFetcher(allowed_protocols=())


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int


# Figures -----------------------------------------------------------------------


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _change(value: float | None) -> str:
    """A change of total as written: +3.2, −1.5 (a real minus sign), 0.0."""
    if value is None:
        return ""
    if round(value, 1) == 0:
        return "0.0"
    return f"+{value:.1f}" if value > 0 else f"−{-value:.1f}"


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def _day(value: datetime | Any) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return date_format(value, "DATE_FORMAT")


def _class_weights(evaluation_round: EvaluationRound) -> dict[str, float]:
    """The class weights the results were computed with (stored with them),
    else the round's."""
    stored = getattr(getattr(evaluation_round, "result", None), "weights", None)
    if stored and stored.get("classes"):
        return {name: float(w) for name, w in stored["classes"].items()}
    return {name: float(w) for name, w in evaluation_round.class_weights().items()}


@dataclass(frozen=True)
class ClassColumn:
    """A respondent class of the round: its weight in the composite and how
    many of its units answered (``answered`` None where fewer than k did:
    a card does not say how few)."""

    name: str
    label: str
    weight: float
    asked: int
    answered: int | None

    @property
    def enough(self) -> bool:
        return self.answered is not None

    @property
    def share(self) -> str:
        return f"{100 * self.weight:.0f}%"


def _class_columns(result: DepartmentResult) -> list[ClassColumn]:
    k = result.round.min_responses
    columns = []
    for name, weight in _class_weights(result.round).items():
        answered = result.answered.get(name, 0)
        columns.append(
            ClassColumn(
                name=name,
                label=str(CLASS_LABELS[name]),
                weight=weight,
                asked=result.asked.get(name, 0),
                answered=answered if answered >= k else None,
            )
        )
    return columns


# The report card ---------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A question's figures in one class: nothing but ``enough`` False where
    fewer than k units answered it."""

    enough: bool
    answered: int = 0
    mean: str = ""
    score: str = ""


@dataclass(frozen=True)
class QuestionLine:
    text: str
    kind: str
    weight: str
    cells: list[Cell]


@dataclass(frozen=True)
class DimensionSection:
    name: str
    weight: str
    share: str
    scores: list[str]
    composite: str
    questions: list[QuestionLine]


def _mean_text(kind: str, figures: QuestionResult, options: list[str]) -> str:
    """What a question's answers came to, in words that suit its kind: the
    mean on a scale or of a number, the share answering yes, the option
    chosen most."""
    if kind == QuestionKind.LIKERT and figures.mean is not None:
        return f"{figures.mean:.1f} / 5"
    if kind == QuestionKind.COUNT and figures.mean is not None:
        return _("mean %(mean)s") % {"mean": f"{figures.mean:.1f}"}
    if kind == QuestionKind.YES_NO and figures.mean is not None:
        return _("yes %(share)s") % {"share": f"{100 * figures.mean:.0f}%"}
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and figures.distribution:
        option, count = max(
            figures.distribution.items(), key=lambda item: (item[1], -int(item[0]))
        )
        index = int(option) - 1
        label = options[index] if 0 <= index < len(options) else option
        return _("mostly “%(option)s” (%(share)s)") % {
            "option": label,
            "share": _share(count, figures.answered),
        }
    return "—"


def _cell(
    figures: QuestionResult | None, kind: str, options: list[str], k: int
) -> Cell:
    if figures is None or figures.answered < k:
        return Cell(enough=False)
    return Cell(
        enough=True,
        answered=figures.answered,
        mean=_mean_text(kind, figures, options),
        score=_score(figures.score) or "—",
    )


def _dimension_sections(
    result: DepartmentResult,
    breakdown: list[DimensionRow],
    columns: list[ClassColumn],
) -> list[DimensionSection]:
    k = result.round.min_responses
    stored = result.round.result.weights
    dimension_weights = stored.get("dimensions", {})
    question_weights = stored.get("questions", {})
    total_weight = sum(float(w) for w in dimension_weights.values()) or 1
    sections = []
    for row in breakdown:
        weight = float(dimension_weights.get(row.code, row.weight))
        lines = []
        for question_row in row.questions:
            question = question_row.question
            if question.kind == QuestionKind.TEXT:
                continue
            scored = question_weights.get(question.code)
            lines.append(
                QuestionLine(
                    text=question.text,
                    kind=str(QuestionKind(question.kind).label),
                    weight=f"{scored['weight']:g}" if scored else _("not scored"),
                    cells=[
                        _cell(
                            question_row.by_class.get(column.name),
                            question.kind,
                            question.choices,
                            k,
                        )
                        for column in columns
                    ],
                )
            )
        sections.append(
            DimensionSection(
                name=row.name,
                weight=f"{weight:g}",
                share=_share(weight, total_weight),
                scores=[_score(row.scores.get(column.name)) for column in columns],
                composite=_score(row.scores.get(scoring.COMPOSITE)),
                questions=lines,
            )
        )
    return sections


@dataclass(frozen=True)
class CommentLine:
    question: str
    text: str
    redacted: bool


def _comment_lines(
    result: DepartmentResult,
) -> tuple[list[tuple[str, tuple[list[CommentLine], list[CommentLine]]]], int]:
    """The released comments a card prints, by question, each question's in
    two columns read across (first, third … on the left), and how many more
    there are. Two lists in a fixed table, not CSS columns: WeasyPrint
    balances columns by laying them out again and again, which made a
    card's first rendering in a process take a third longer."""
    comments = list(comments_released(result))
    groups: dict[str, list[CommentLine]] = {}
    for comment in comments[:CARD_COMMENTS]:
        redacted = comment.state == CommentState.REDACTED
        text = (comment.released_text if redacted else comment.text).strip()
        if len(text) > COMMENT_LENGTH:
            text = text[: COMMENT_LENGTH - 1].rstrip() + "…"
        groups.setdefault(comment.question.text, []).append(
            CommentLine(comment.question.text, text, redacted)
        )
    columns = [
        (question, (lines[0::2], lines[1::2])) for question, lines in groups.items()
    ]
    return columns, max(len(comments) - CARD_COMMENTS, 0)


def _trend(result: DepartmentResult) -> tuple[list[DepartmentResult], str]:
    rounds = department_trend(result)
    chart = trend_chart(
        [Point(label=r.round.name, value=r.total) for r in rounds],
        title=_("Total score in each round"),
        missing=_("too few answers"),
        height=160,
    )
    return rounds, chart


@dataclass(frozen=True)
class Peers:
    family: str
    count: int
    best: str
    mean: str
    lowest: str
    chart: str


def _peers(result: DepartmentResult) -> Peers | None:
    if result.total is None or result.family_id is None:
        return None
    totals = list(
        DepartmentResult.objects.filter(
            round_id=result.round_id, family_id=result.family_id, total__isnull=False
        ).values_list("total", flat=True)
    )
    family = result.family.name
    return Peers(
        family=family,
        count=len(totals),
        best=_score(max(totals)),
        mean=_score(statistics.fmean(totals)),
        lowest=_score(min(totals)),
        chart=position_chart(
            totals,
            result.total,
            title=_("Totals of the departments of %(family)s") % {"family": family},
            label=_("this department %(total)s") % {"total": _score(result.total)},
        ),
    )


@dataclass(frozen=True)
class RectificationLine:
    total: str
    dimensions: list[str]
    state: str
    plan: str
    due_on: Any


@dataclass(frozen=True)
class RecheckLine:
    """An earlier round's rectification item, checked by this round's total."""

    department: str
    round: str
    before: str
    now: str
    met: bool | None


def _rectifications(
    result: DepartmentResult, dimension_names: dict[str, str]
) -> tuple[RectificationLine | None, list[RecheckLine]]:
    item = Rectification.objects.filter(
        round_id=result.round_id, department_id=result.department_id
    ).first()
    line = None
    if item is not None:
        line = RectificationLine(
            total=_score(item.total),
            dimensions=[dimension_names.get(code, code) for code in item.dimensions],
            state=item.get_state_display(),
            plan=item.plan,
            due_on=item.due_on,
        )
    rechecks = _rechecks(
        result.round,
        Rectification.objects.filter(
            department_id=result.department_id, recheck_round_id=result.round_id
        ),
    )
    return line, rechecks


def _rechecks(evaluation_round: EvaluationRound, items) -> list[RecheckLine]:
    threshold = float(evaluation_round.rectification_threshold)
    return [
        RecheckLine(
            department=item.department.name,
            round=item.round.name,
            before=_score(item.total),
            now=_score(item.recheck_total),
            met=None if item.recheck_total is None else item.recheck_total >= threshold,
        )
        for item in items.select_related("round", "department").order_by(
            "department__code", "round__opens_on"
        )
    ]


@dataclass(frozen=True)
class Formula:
    version: str
    min_responses: int
    threshold: str
    classes: list[tuple[str, str]]
    steps: list[str]


def _formula(evaluation_round: EvaluationRound) -> Formula:
    stored = evaluation_round.result
    weights = stored.weights
    classes = _class_weights(evaluation_round)
    k = weights.get("min_responses", evaluation_round.min_responses)
    steps = [
        _(
            "Each answer to a scored question becomes 0 to 100: a scale of 1 "
            "to 5 evenly, yes or no as 100 or 0 (whichever way the question "
            "counts as better), a number against the number that scores "
            "fully, a choice by the score of its option."
        ),
        _(
            "A question scores the mean of its answers; a question fewer than "
            "%(k)s units answered has no score and counts for nothing."
        )
        % {"k": k},
        _(
            "A dimension scores the mean of its questions' scores, weighted "
            "by question weight."
        ),
        _("The total is the mean of the dimensions' scores, weighted by dimension."),
    ]
    if len(classes) > 1:
        steps.append(
            _(
                "Scores of communities and street offices are combined by "
                "their weights, over the classes of which at least %(k)s "
                "units answered."
            )
            % {"k": k}
        )
    steps.append(
        _(
            "Departments are ranked by total, within their family and overall; "
            "equal totals (to 0.01) share a rank."
        )
    )
    return Formula(
        version=stored.formula_version,
        min_responses=k,
        threshold=f"{float(weights.get('rectification_threshold', evaluation_round.rectification_threshold)):g}",
        classes=[
            (str(CLASS_LABELS[name]), f"{100 * weight:.0f}%")
            for name, weight in classes.items()
        ],
        steps=steps,
    )


def card_context(result: DepartmentResult) -> dict[str, Any]:
    """Everything a department's report card prints, from its result in a
    round: aggregates only, released comments only."""
    evaluation_round = result.round
    columns = _class_columns(result)
    breakdown = result_breakdown(result)
    dimension_names = {row.code: row.name for row in breakdown}
    enough = result.total is not None
    dimension_chart = ""
    if enough:
        dimension_chart = bar_chart(
            [
                Bar(row.name, value, _score(value))
                for row in breakdown
                if (value := row.scores.get(scoring.COMPOSITE)) is not None
            ],
            title=_("Score in each dimension"),
            width=640,
            label_width=130,
        )
    trend_rows, trend_svg = _trend(result)
    comments, more_comments = _comment_lines(result)
    rectification, rechecks = _rectifications(result, dimension_names)
    return {
        "result": result,
        "round": evaluation_round,
        "department": result.department,
        "family": result.family or result.department.family,
        "enough": enough,
        "total": _score(result.total),
        "change": _change(result.change),
        "change_sign": 0
        if result.change is None
        else (result.change > 0) - (result.change < 0),
        "previous_total": _score(result.previous_total),
        "columns": columns,
        "several_classes": len(columns) > 1,
        "dimensions": _dimension_sections(result, breakdown, columns) if enough else [],
        "dimension_chart": dimension_chart,
        "trend": [
            {"round": r.round.name, "total": _score(r.total), "rank": r.rank_overall}
            for r in trend_rows
        ],
        "trend_chart": trend_svg if len(trend_rows) > 1 else "",
        "peers": _peers(result),
        "flags": _flag_words(result.flags, dimension_names),
        "comments": comments,
        "more_comments": more_comments,
        "rectification": rectification,
        "rechecks": rechecks,
        "formula": _formula(evaluation_round),
        "k": evaluation_round.min_responses,
    }


def _flag_words(flags: list[dict], dimension_names: dict[str, str]) -> str:
    """A result's flags in one line: a drop since the previous round, the
    dimensions far below the other departments'."""
    words = [flag_text(flag) for flag in flags if flag.get("code") == scoring.FLAG_DROP]
    low = [
        dimension_names.get(flag.get("dimension", ""), flag.get("dimension", ""))
        for flag in flags
        if flag.get("code") == scoring.FLAG_LOW_DIMENSION
    ]
    if low:
        words.append(
            _("far below the other departments in %(dimensions)s")
            % {"dimensions": "、".join(low)}
        )
    return "；".join(words)


def _card(evaluation_round: EvaluationRound, department: Department) -> Rendered:
    result = DepartmentResult.objects.select_related(
        "department__family",
        "family",
        "round__questionnaire",
        "round__result",
        "round__organizer",
        "round__area",
    ).get(round=evaluation_round, department=department)
    with translation.override(settings.LANGUAGE_CODE):
        context = card_context(result)
        title = _("%(department)s: report card of %(round)s") % {
            "department": result.department.name,
            "round": evaluation_round.name,
        }
        return _render(
            CARD_TEMPLATE,
            context,
            title=title,
            author=evaluation_round.organizer.name,
        )


def card_pdf(*, evaluation_round: EvaluationRound, department: Department) -> bytes:
    """A department's report card for a round, as PDF (2 to 4 A4 pages): its
    total, ranks and change since the previous round; its dimension scores
    (chart and table), its trend over the organizer's rounds and where it
    stands among its peers; per question n, mean and score ("样本不足" below
    k); the released comments, its rectification item and how the score was
    computed. Raises ``DepartmentResult.DoesNotExist`` for a department the
    round's results leave out. Permission is the caller's (``report_for``)."""
    return _card(evaluation_round, department).pdf


# The bulletin ------------------------------------------------------------------


@dataclass
class RankingRow:
    result: DepartmentResult
    total: str
    change: str
    change_sign: int
    answered: list[str]
    cells: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class FamilyRanking:
    name: str
    rows: list[RankingRow]


@dataclass(frozen=True)
class Best:
    dimension: str
    departments: list[str]
    score: str


def _answered_text(result: DepartmentResult, classes: list[str]) -> list[str]:
    """How many units answered of those asked, per class: the bulletin is the
    organization department's, which tracks completion anyway."""
    return [
        f"{result.answered.get(name, 0)}/{result.asked.get(name, 0)}"
        for name in classes
    ]


def bulletin_context(evaluation_round: EvaluationRound) -> dict[str, Any]:
    """Everything the bulletin of a round prints: completion, the ranking
    overall and by family, the dimension overview and the highlights."""
    k = evaluation_round.min_responses
    classes = _class_weights(evaluation_round)
    dimensions = list(evaluation_round.questionnaire.dimensions.all())
    results = sorted(
        DepartmentResult.objects.filter(round=evaluation_round).select_related(
            "department", "family"
        ),
        key=lambda r: (r.total is None, r.rank_overall or 0, r.department.code),
    )
    rows = []
    for result in results:
        row = RankingRow(
            result=result,
            total=_score(result.total),
            change=_change(result.change),
            change_sign=0
            if result.change is None
            else (result.change > 0) - (result.change < 0),
            answered=_answered_text(result, list(classes)),
        )
        for dimension in dimensions:
            value = result.dimensions.get(dimension.code, {}).get(scoring.COMPOSITE)
            row.cells.append((_score(value), score_band(value)))
        row.cells.append((row.total, score_band(result.total)))
        rows.append(row)

    families: dict[int | None, list[RankingRow]] = defaultdict(list)
    for row in rows:
        families[row.result.family_id].append(row)
    family_rankings = [
        FamilyRanking(
            name=members[0].result.family.name if members[0].result.family else "—",
            rows=sorted(
                members,
                key=lambda r: (
                    r.result.total is None,
                    r.result.rank_in_family or 0,
                    r.result.department.code,
                ),
            ),
        )
        for members in sorted(
            families.values(),
            key=lambda members: (
                members[0].result.family.sort_order if members[0].result.family else 0,
                members[0].result.family.name if members[0].result.family else "",
            ),
        )
    ]

    scored = [r for r in results if r.total is not None]
    improved = sorted(
        (r for r in scored if r.change is not None and r.change > 0),
        key=lambda r: -r.change,
    )[:HIGHLIGHTS]
    best = []
    averages = []
    for dimension in dimensions:
        values = {
            r.department.name: value
            for r in scored
            if (value := r.dimensions.get(dimension.code, {}).get(scoring.COMPOSITE))
            is not None
        }
        if not values:
            continue
        top = round(max(values.values()), 1)
        best.append(
            Best(
                dimension=dimension.name,
                departments=[n for n, v in values.items() if round(v, 1) == top],
                score=f"{top:.1f}",
            )
        )
        averages.append(
            Bar(
                dimension.name,
                statistics.fmean(values.values()),
                _score(statistics.fmean(values.values())),
            )
        )
    dimension_names = {d.code: d.name for d in dimensions}
    flagged = [(r, _flag_words(r.flags, dimension_names)) for r in results if r.flags]
    rectifications = list(
        Rectification.objects.filter(round=evaluation_round)
        .select_related("department")
        .order_by("total", "department__code")
    )
    rechecks = _rechecks(
        evaluation_round,
        Rectification.objects.filter(recheck_round=evaluation_round),
    )
    published = (
        RoundEvent.objects.filter(round=evaluation_round, to_state=RoundState.PUBLISHED)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    completion = round_completion(evaluation_round)
    return {
        "round": evaluation_round,
        "published": published,
        "completion": completion,
        "completion_share": _share(completion.answered, completion.asked),
        "by_class": [
            (str(CLASS_LABELS[name]), asked, answered, _share(answered, asked))
            for name, (asked, answered) in sorted(completion.by_class.items())
        ],
        "streets": [
            (row.region.name, row.asked, row.answered, _share(row.answered, row.asked))
            for row in sorted(completion.streets, key=lambda row: row.region.code)
        ],
        "classes": [str(CLASS_LABELS[name]) for name in classes],
        "departments": len(results),
        "ranked": len(scored),
        "mean_total": _score(statistics.fmean(r.total for r in scored))
        if scored
        else "",
        "rows": rows,
        "families": family_rankings,
        "dimensions": dimensions,
        "legend": score_legend(),
        "improved": [(r, _change(r.change)) for r in improved],
        "best": best,
        "averages_chart": bar_chart(
            averages,
            title=_("Mean score of the departments in each dimension"),
            width=640,
            label_width=130,
        )
        if averages
        else "",
        "flagged": flagged,
        "rectifications": [
            (
                item,
                _score(item.total),
                [dimension_names.get(code, code) for code in item.dimensions],
            )
            for item in rectifications
        ],
        "rechecks": rechecks,
        "formula": _formula(evaluation_round),
        "k": k,
    }


def _bulletin(evaluation_round: EvaluationRound) -> Rendered:
    evaluation_round = EvaluationRound.objects.select_related(
        "questionnaire", "result", "organizer", "area"
    ).get(pk=evaluation_round.pk)
    with translation.override(settings.LANGUAGE_CODE):
        context = bulletin_context(evaluation_round)
        title = _("%(round)s: evaluation bulletin") % {"round": evaluation_round.name}
        return _render(
            BULLETIN_TEMPLATE,
            context,
            title=title,
            author=evaluation_round.organizer.name,
        )


def bulletin_pdf(*, evaluation_round: EvaluationRound) -> bytes:
    """The bulletin of a round, as PDF: how many answered (by class and
    street), the ranking overall and within each family, the dimension
    overview (a table tinted by score), and the highlights: most improved,
    best in each dimension, departments flagged, rectification items made
    and earlier ones checked again. Permission is the caller's
    (``report_for``: the organization department only)."""
    return _bulletin(evaluation_round).pdf


# Rendering ---------------------------------------------------------------------


@cache
def _stylesheet() -> weasyprint.CSS:
    # Parsed once per process: every report uses it unchanged.
    return weasyprint.CSS(string=STYLESHEET.read_text(), url_fetcher=NO_FETCHING)


def _css_string(text: str) -> str:
    """``text`` as a CSS string; ``<`` escaped too, so that nothing a user
    wrote can close the style element it is printed in."""
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("<", "\\3c ")
        .replace("\n", " ")
    )
    return f'"{escaped}"'


def _page_css(footer: str) -> str:
    """The page footer: ``footer`` on the left, "第 X 页 / 共 Y 页" on the
    right (WeasyPrint's page counters, placed where the translation puts the
    numbers)."""
    words = _("Page %(page)s of %(pages)s")
    parts = re.split(r"(%\(pages?\)s)", words)
    numbers = " ".join(
        "counter(pages)"
        if part == "%(pages)s"
        else "counter(page)"
        if part == "%(page)s"
        else _css_string(part)
        for part in parts
        if part
    )
    return (
        f"@page {{ @bottom-left {{ content: {_css_string(footer)}; }} "
        f"@bottom-right {{ content: {numbers}; }} }}" + band_css()
    )


def _render(
    template: str, context: dict[str, Any], *, title: str, author: str
) -> Rendered:
    generated = timezone.now()
    footer = _("%(title)s · made on %(date)s") % {
        "title": title,
        "date": _day(generated),
    }
    html = render_to_string(
        template,
        {
            **context,
            "title": title,
            "author": author,
            "generated": generated,
            "page_css": _page_css(footer),
        },
    )
    html = INDENTATION.sub("\n", html)
    document = weasyprint.HTML(string=html, url_fetcher=NO_FETCHING).render(
        stylesheets=[_stylesheet()]
    )
    return Rendered(pdf=document.write_pdf(), pages=len(document.pages))


# Stored reports ----------------------------------------------------------------


def _stale(report: Report) -> bool:
    """Whether what ``report`` shows changed after it was made: results
    computed again, or (a card) a comment reviewed or a rectification step."""
    made = report.generated_at
    if made is None:
        return True
    if RoundResult.objects.filter(
        round_id=report.round_id, computed_at__gt=made
    ).exists():
        return True
    if report.department_id is None:
        return False
    return (
        Comment.objects.filter(
            round_id=report.round_id,
            department_id=report.department_id,
            reviewed_at__gt=made,
        ).exists()
        or RectificationEvent.objects.filter(
            rectification__round_id=report.round_id,
            rectification__department_id=report.department_id,
            at__gt=made,
        ).exists()
    )


def _file_name(report: Report) -> str:
    if report.department_id is None:
        name = f"round-{report.round_id}-bulletin.pdf"
    else:
        name = f"round-{report.round_id}-card-{report.department_id}.pdf"
    return report.file.field.generate_filename(report, name)


def _generate(report: Report) -> Report:
    """Make ``report``'s PDF now and keep it, in place of an older one;
    a failure is kept with the report (``ReportState.FAILED``), not raised."""
    started = timezone.now()
    storage = report.file.storage
    try:
        if report.department_id is None:
            rendered = _bulletin(report.round)
        else:
            rendered = _card(report.round, report.department)
        name = storage.save(_file_name(report), ContentFile(rendered.pdf))
    except Exception:
        logger.exception("Report %s could not be made", report.pk)
        Report.objects.filter(pk=report.pk).update(
            state=ReportState.FAILED, error=traceback.format_exc()[-ERROR_LENGTH:]
        )
        report.refresh_from_db()
        return report
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.generated_at is not None and locked.generated_at > started:
            # Another request made a newer one meanwhile: keep that.
            transaction.on_commit(lambda: storage.delete(name))
            return locked
        previous = locked.file.name
        locked.file.name = name
        locked.state = ReportState.READY
        locked.pages = rendered.pages
        # When making started: what changed while it was being made makes
        # it stale at once.
        locked.generated_at = started
        locked.error = ""
        locked.save(update_fields=["file", "state", "pages", "generated_at", "error"])
        if previous and previous != name:
            transaction.on_commit(lambda: storage.delete(previous))
    return locked


@task()
def report_generate(*, report_id: int) -> None:
    """Make a report asked for (the bulletin of a round just published, one
    made again); a report gone, or ready and up to date, is left alone."""
    report = (
        Report.objects.select_related("round", "department")
        .filter(pk=report_id)
        .first()
    )
    if report is None or (report.state == ReportState.READY and not _stale(report)):
        return
    _generate(report)


def _enqueue(report: Report) -> None:
    """Mark ``report`` pending and make it in the background after commit."""
    Report.objects.filter(pk=report.pk).update(
        state=ReportState.PENDING, requested_at=timezone.now()
    )
    report_id = report.pk
    transaction.on_commit(lambda: report_generate.enqueue(report_id=report_id))


def report_request(*, round_id: int) -> None:
    """Ask for the bulletin of a round just published (called after the
    commit that published it): its ``Report`` row, pending, and the task
    that makes it. A round no longer published is left alone."""
    evaluation_round = EvaluationRound.objects.filter(
        pk=round_id, state=RoundState.PUBLISHED
    ).first()
    if evaluation_round is None:
        return
    report, _created = Report.objects.get_or_create(
        round=evaluation_round, department=None, defaults={"kind": ReportKind.BULLETIN}
    )
    _enqueue(report)


def _allowed_round(
    user: User, evaluation_round: EvaluationRound, department: Department | None
) -> EvaluationRound:
    """The round, if ``user`` may read the report asked for: the bulletin the
    organization department running it; a card the organization department
    too, or the department itself; only once the round is published."""
    if department is None:
        allowed = round_managed_by(user=user, round_id=evaluation_round.pk)
    else:
        allowed = department_result_of(
            user=user, round_id=evaluation_round.pk, department_id=department.pk
        ).round
    if allowed.state != RoundState.PUBLISHED:
        raise Http404
    return allowed


def report_for(
    *,
    user: User,
    evaluation_round: EvaluationRound,
    department: Department | None = None,
) -> Report:
    """The report ``user`` may download: the round's bulletin (``department``
    None; the organization department running the round) or a department's
    report card (that organization department, or the department itself),
    of a published round. Raises ``Http404`` for anyone else.

    A report missing, or stale since made (``_stale``), is made: a card at
    once, the bulletin in a background task (the report returned is then
    pending, or ready where tasks run at once). A pending one is returned as
    it is, unless lost (pending for ``PENDING_TIMEOUT``); a failed one too
    (``report_retry`` tries again)."""
    evaluation_round = _allowed_round(user, evaluation_round, department)
    report, created = Report.objects.select_related(
        "round", "department"
    ).get_or_create(
        round=evaluation_round,
        department=department,
        defaults={"kind": ReportKind.CARD if department else ReportKind.BULLETIN},
    )
    if report.state == ReportState.READY and not _stale(report):
        return report
    if report.state == ReportState.FAILED:
        return report
    if (
        report.state == ReportState.PENDING
        and not created
        and timezone.now() - report.requested_at < PENDING_TIMEOUT
    ):
        return report
    return _make(report)


def report_retry(
    *,
    user: User,
    evaluation_round: EvaluationRound,
    department: Department | None = None,
) -> Report:
    """Make again a report that failed (same permission as ``report_for``);
    a report not failed is returned as ``report_for`` returns it."""
    evaluation_round = _allowed_round(user, evaluation_round, department)
    report = (
        Report.objects.select_related("round", "department")
        .filter(round=evaluation_round, department=department)
        .first()
    )
    if report is None or report.state != ReportState.FAILED:
        return report_for(
            user=user, evaluation_round=evaluation_round, department=department
        )
    Report.objects.filter(pk=report.pk).update(
        state=ReportState.PENDING, requested_at=timezone.now(), error=""
    )
    report.refresh_from_db()
    return _make(report)


def _make(report: Report) -> Report:
    if report.department_id is not None:
        return _generate(report)
    _enqueue(report)
    report.refresh_from_db()
    return report


def report_filename(report: Report) -> str:
    """What a downloaded report is called, in Chinese: the department (a
    card) and the round."""
    with translation.override(settings.LANGUAGE_CODE):
        if report.department_id is None:
            name = _("%(round)s evaluation bulletin") % {"round": report.round.name}
        else:
            name = _("%(department)s %(round)s report card") % {
                "department": report.department.name,
                "round": report.round.name,
            }
    return re.sub(r'[\\/:*?"<>|\s]+', "-", name).strip("-") + ".pdf"
