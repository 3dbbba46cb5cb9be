"""How answers become scores: plain Python, no Django, so that the formula can
be read, tested and benchmarked on its own.

For each department and respondent class:

1. each scored answer becomes 0–100 (``answer_score``);
2. a question's score is the mean of its answers' scores, over the units that
   answered it; a question answered by fewer than ``min_responses`` units
   gets no score and takes no part in what follows (its few answers could
   otherwise be worked out from the dimension's score);
3. a dimension's score is the weighted mean of its questions' scores, by
   question weight;
4. the class total is the weighted mean of its dimensions' scores, by
   dimension weight.

The composite (e.g. Pudong's "7+3") weighs each class's dimension scores and
totals by the class weights, over the classes with enough answers (their
weights scaled up to 1). Departments are then ranked by composite total, in
their family (peer group) and overall, equal totals sharing a rank.

``FORMULA_VERSION`` is stored with every result; change it whenever any of
this changes, so that old results say how they were computed.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

FORMULA_VERSION = "2026.1"

LIKERT = "likert"
YES_NO = "yes_no"
COUNT = "count"
SINGLE = "single"
MULTIPLE = "multiple"
TEXT = "text"
LOWER_BETTER = "lower"

COMPOSITE = "composite"

# Flags found at close, by code; the pages say them in words.
FLAG_LOW_DIMENSION = "low_dimension"
FLAG_DROP = "drop"
FLAGS = (FLAG_LOW_DIMENSION, FLAG_DROP)
# A dimension this many standard deviations below the departments' mean is
# flagged, when at least OUTLIER_MIN_PEERS departments have that dimension.
OUTLIER_SIGMAS = 1.5
OUTLIER_MIN_PEERS = 5
# A total this many points below the previous round's is flagged.
DROP_POINTS = 10.0


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    code: str
    dimension: str
    kind: str
    weight: float
    direction: str = "higher"
    # One choice: each option's score, None for an option not scored.
    option_scores: tuple[float | None, ...] = ()
    scale_max: int | None = None

    @property
    def scored(self) -> bool:
        return self.kind in (LIKERT, YES_NO, COUNT, SINGLE) and self.weight > 0


@dataclass(frozen=True)
class DimensionSpec:
    code: str
    weight: float


@dataclass(frozen=True)
class Formula:
    dimensions: tuple[DimensionSpec, ...]
    questions: tuple[QuestionSpec, ...]
    class_weights: Mapping[str, float]
    min_responses: int

    def weights(self) -> dict:
        """Everything the scores depend on, to be stored beside them."""
        return {
            "formula_version": FORMULA_VERSION,
            "min_responses": self.min_responses,
            "classes": dict(self.class_weights),
            "dimensions": {d.code: d.weight for d in self.dimensions},
            "questions": {
                q.code: {"dimension": q.dimension, "weight": q.weight}
                for q in self.questions
                if q.scored
            },
        }


@dataclass
class QuestionFigures:
    answered: int
    mean: float | None = None
    score: float | None = None
    # {value: count} (several choices: {option number: count}); empty below k.
    distribution: dict[int, int] = field(default_factory=dict)


@dataclass
class ClassScores:
    answered: int
    questions: dict[int, QuestionFigures] = field(default_factory=dict)
    dimensions: dict[str, float] = field(default_factory=dict)
    total: float | None = None


@dataclass
class DepartmentScores:
    classes: dict[str, ClassScores]
    # {dimension code: composite score}, over the classes with enough answers.
    dimensions: dict[str, float]
    total: float | None


def answer_score(question: QuestionSpec, value: int) -> float | None:
    """One answer as 0–100, or None for an answer that is not scored."""
    lower = question.direction == LOWER_BETTER
    if question.kind == LIKERT:
        share = (value - 1) / 4
    elif question.kind == YES_NO:
        share = float(value)
    elif question.kind == COUNT:
        if not question.scale_max:
            return None
        share = min(value, question.scale_max) / question.scale_max
    elif question.kind == SINGLE:
        scores = question.option_scores
        if not 1 <= value <= len(scores) or scores[value - 1] is None:
            return None
        return float(scores[value - 1])
    else:
        return None
    return 100 * (1 - share if lower else share)


def question_figures(
    question: QuestionSpec, counts: Mapping[int, int], min_responses: int
) -> QuestionFigures:
    """A question's figures from how many units gave each answer: nothing but
    the number answered when fewer than ``min_responses`` did."""
    answered = sum(counts.values())
    if answered < min_responses:
        return QuestionFigures(answered=answered)
    if question.kind == MULTIPLE:
        options: dict[int, int] = {}
        for bits, n in counts.items():
            option = 1
            while bits:
                if bits & 1:
                    options[option] = options.get(option, 0) + n
                bits >>= 1
                option += 1
        return QuestionFigures(
            answered=answered, distribution=dict(sorted(options.items()))
        )
    figures = QuestionFigures(
        answered=answered,
        mean=sum(value * n for value, n in counts.items()) / answered,
        distribution=dict(sorted(counts.items())),
    )
    if question.scored:
        scored = [(answer_score(question, value), n) for value, n in counts.items()]
        scored = [(score, n) for score, n in scored if score is not None]
        weight = sum(n for _score, n in scored)
        if weight:
            figures.score = sum(score * n for score, n in scored) / weight
    return figures


def class_scores(
    formula: Formula, answered: int, counts: Mapping[int, Mapping[int, int]]
) -> ClassScores:
    """One respondent class's scores for one department: ``answered`` units
    answered; ``counts`` maps a question id to {answer value: units}."""
    scores = ClassScores(answered=answered)
    if answered < formula.min_responses:
        return scores
    for question in formula.questions:
        if question.kind == TEXT:
            continue
        scores.questions[question.id] = question_figures(
            question, counts.get(question.id, {}), formula.min_responses
        )
    for dimension in formula.dimensions:
        weighted = [
            (figures.score, question.weight)
            for question in formula.questions
            if question.dimension == dimension.code
            and question.scored
            and (figures := scores.questions.get(question.id)) is not None
            and figures.score is not None
        ]
        if weighted:
            scores.dimensions[dimension.code] = _weighted_mean(weighted)
    scores.total = _dimensions_total(formula, scores.dimensions)
    return scores


def department_scores(
    formula: Formula,
    answered: Mapping[str, int],
    counts: Mapping[str, Mapping[int, Mapping[int, int]]],
) -> DepartmentScores:
    """A department's scores in every class and their composite. ``answered``
    and ``counts`` are by respondent class, as ``class_scores`` takes them."""
    classes = {
        name: class_scores(formula, answered.get(name, 0), counts.get(name, {}))
        for name in formula.class_weights
    }
    dimensions = {}
    for dimension in formula.dimensions:
        weighted = [
            (scores.dimensions[dimension.code], formula.class_weights[name])
            for name, scores in classes.items()
            if dimension.code in scores.dimensions
        ]
        if weighted:
            dimensions[dimension.code] = _weighted_mean(weighted)
    totals = [
        (scores.total, formula.class_weights[name])
        for name, scores in classes.items()
        if scores.total is not None
    ]
    return DepartmentScores(
        classes=classes,
        dimensions=dimensions,
        total=_weighted_mean(totals) if totals else None,
    )


def competition_ranks(totals: Mapping[int, float | None]) -> dict[int, int]:
    """Rank by total, highest first; equal totals (to 0.01) share a rank and
    the next rank skips ("1224"). Departments without a total are unranked."""
    ordered = sorted(
        ((round(total, 2), key) for key, total in totals.items() if total is not None),
        key=lambda item: -item[0],
    )
    ranks: dict[int, int] = {}
    for position, (total, key) in enumerate(ordered, start=1):
        if position > 1 and total == ordered[position - 2][0]:
            ranks[key] = ranks[ordered[position - 2][1]]
        else:
            ranks[key] = position
    return ranks


def low_dimension_outliers(
    dimensions: Mapping[int, Mapping[str, float]],
) -> dict[int, list[str]]:
    """For each department, its dimensions more than ``OUTLIER_SIGMAS``
    standard deviations below the mean of every department's score in it."""
    flagged: dict[int, list[str]] = {}
    codes = {code for scores in dimensions.values() for code in scores}
    for code in sorted(codes):
        values = {
            key: scores[code] for key, scores in dimensions.items() if code in scores
        }
        if len(values) < OUTLIER_MIN_PEERS:
            continue
        mean = statistics.fmean(values.values())
        spread = statistics.pstdev(values.values())
        if not spread:
            continue
        for key, value in values.items():
            if value < mean - OUTLIER_SIGMAS * spread:
                flagged.setdefault(key, []).append(code)
    return flagged


def _weighted_mean(pairs: Iterable[tuple[float, float]]) -> float:
    pairs = list(pairs)
    weight = sum(w for _value, w in pairs)
    return sum(value * w for value, w in pairs) / weight


def _dimensions_total(
    formula: Formula, dimensions: Mapping[str, float]
) -> float | None:
    weighted = [
        (dimensions[d.code], d.weight)
        for d in formula.dimensions
        if d.code in dimensions
    ]
    return _weighted_mean(weighted) if weighted else None


def parse_options(text: str) -> list[tuple[str, float | None]]:
    """Options as editors write them, one a line, a score after a bar:
    ``每月一次以上|20``. Raises ValueError for a score that is not 0–100."""
    options = []
    for line in text.splitlines():
        label, _bar, score = line.partition("|")
        label, score = label.strip(), score.strip()
        if not label:
            continue
        if score:
            value = float(score)
            if not 0 <= value <= 100:
                raise ValueError(score)
            options.append((label, value))
        else:
            options.append((label, None))
    return options


def condition_values(text: str) -> Sequence[int]:
    """The answers of ``show_if_values``: integers separated by commas.
    Raises ValueError for anything else."""
    return [int(part) for part in text.replace("，", ",").split(",") if part.strip()]
