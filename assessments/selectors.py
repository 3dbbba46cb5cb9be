"""Read queries of reverse evaluation, each scoped to what a user may see
(DESIGN.md, invariant 3): a foreign id is a 404.

None of them reads a ``Response`` or an ``Answer``: what a unit answered
reaches pages only as the figures computed at close, and only where enough
units answered (invariant 2). Who answered (``Participation``) is shown only
to the organization department, for completion tracking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments import scoring
from assessments.lifecycle import DEPARTMENT_ROLES, ORGANIZER_ROLES
from assessments.models import (
    Comment,
    CommentState,
    DepartmentResult,
    EvaluationRound,
    Participation,
    Question,
    QuestionResult,
    Rectification,
    RespondentClass,
    RoundState,
)
from assessments.questionnaires import question_options
from portal.models import Department, Region, RegionLevel, Role, User
from portal.selectors import user_anchor_region

RESULT_STATES = (RoundState.CLOSED, RoundState.PUBLISHED)
RESPONDENT_ROLES = (Role.COMMUNITY_OPERATOR, Role.STREET_OFFICE)


def is_organizer(user: User) -> bool:
    return user.is_authenticated and user.role in ORGANIZER_ROLES


# Rounds ---------------------------------------------------------------------------


def rounds_visible_to(user: User) -> QuerySet[EvaluationRound]:
    """The organization department and administrators see the rounds of their
    area; department staff the published rounds that evaluated them; units
    the rounds that asked them (from opening on)."""
    rounds = EvaluationRound.objects.select_related(
        "questionnaire", "organizer", "area"
    )
    if not user.is_authenticated:
        return rounds.none()
    if user.role in ORGANIZER_ROLES:
        anchor = user_anchor_region(user)
        if anchor is None:
            return rounds if user.is_superuser else rounds.none()
        return rounds.filter(area__in=Region.objects.subtree(anchor))
    if user.role in DEPARTMENT_ROLES:
        return rounds.filter(
            state=RoundState.PUBLISHED,
            department_results__department_id=user.department_id,
        )
    if user.role in RESPONDENT_ROLES and user.region_id:
        return rounds.filter(
            pk__in=Participation.objects.filter(unit_id=user.region_id).values(
                "round_id"
            )
        )
    return rounds.none()


def round_visible_to(*, user: User, round_id: int) -> EvaluationRound:
    evaluation_round = rounds_visible_to(user).filter(pk=round_id).first()
    if evaluation_round is None:
        raise Http404
    return evaluation_round


def round_managed_by(*, user: User, round_id: int) -> EvaluationRound:
    """A round ``user``'s organization department runs (404 otherwise)."""
    if not is_organizer(user):
        raise Http404
    evaluation_round = (
        rounds_visible_to(user)
        .filter(pk=round_id, organizer_id=user.department_id)
        .first()
    )
    if evaluation_round is None:
        raise Http404
    return evaluation_round


def departments_to_evaluate(user: User) -> QuerySet[Department]:
    """The functional departments serving ``user``'s area, which a round of
    its organization department may evaluate."""
    anchor = user_anchor_region(user)
    if not is_organizer(user) or anchor is None:
        return Department.objects.none()
    return (
        Department.objects.filter(
            kind="functional", region__in=Region.objects.subtree(anchor)
        )
        .select_related("family", "region")
        .order_by("family__sort_order", "code")
    )


# Answering ------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingRound:
    """An open round as a unit sees it: the departments it evaluates, each
    answered or not."""

    round: EvaluationRound
    participations: list[Participation]

    @property
    def answered(self) -> int:
        return sum(p.answered_on is not None for p in self.participations)

    @property
    def days_left(self) -> int:
        return (self.round.closes_on - timezone.localdate()).days


def evaluations_of(user: User) -> list[PendingRound]:
    """The open rounds that asked ``user``'s unit, soonest closing first, with
    what it has answered so far."""
    if user.role not in RESPONDENT_ROLES or not user.region_id:
        return []
    participations = (
        Participation.objects.filter(
            unit_id=user.region_id, round__state=RoundState.OPEN
        )
        .select_related("round", "department__family")
        .order_by(
            "round__closes_on",
            "round_id",
            "department__family__sort_order",
            "department__code",
        )
    )
    grouped: dict[int, PendingRound] = {}
    for participation in participations:
        pending = grouped.get(participation.round_id)
        if pending is None:
            pending = grouped[participation.round_id] = PendingRound(
                round=participation.round, participations=[]
            )
        pending.participations.append(participation)
    return list(grouped.values())


def participation_of(*, user: User, round_id: int, department_id: int) -> Participation:
    """``user``'s unit's participation in an open round about a department;
    404 for a round or department it was not asked about."""
    if user.role not in RESPONDENT_ROLES or not user.region_id:
        raise Http404
    participation = (
        Participation.objects.filter(
            unit_id=user.region_id,
            round_id=round_id,
            department_id=department_id,
            round__state=RoundState.OPEN,
        )
        .select_related("round__questionnaire", "department")
        .first()
    )
    if participation is None:
        raise Http404
    return participation


def questions_of(evaluation_round: EvaluationRound) -> list[Question]:
    """The round's questions in order, each with ``choices`` (its options)."""
    questions = list(evaluation_round.questionnaire.questions.all())
    for question in questions:
        question.choices = question_options(question)
    return questions


# Completion -----------------------------------------------------------------------


@dataclass
class CompletionRow:
    region: Region
    asked: int = 0
    answered: int = 0

    @property
    def share(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


@dataclass
class Completion:
    asked: int
    answered: int
    by_class: dict[str, tuple[int, int]]
    streets: list[CompletionRow] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.answered / self.asked if self.asked else 0.0


def round_completion(evaluation_round: EvaluationRound) -> Completion:
    """How many evaluations were asked for and sent, in all, by respondent
    class and by street (participations only: who, never what)."""
    rows = (
        Participation.objects.filter(round=evaluation_round)
        .values("respondent_class", "unit__street_id", "unit_id", "unit__level")
        .annotate(
            asked=Count("pk"), answered=Count("pk", filter=Q(answered_on__isnull=False))
        )
        .order_by()
    )
    by_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_street: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        street_id = (
            row["unit_id"]
            if row["unit__level"] == RegionLevel.STREET
            else row["unit__street_id"]
        )
        for bucket in (by_class[row["respondent_class"]], by_street[street_id]):
            bucket[0] += row["asked"]
            bucket[1] += row["answered"]
    streets = {
        region.pk: region for region in Region.objects.filter(pk__in=list(by_street))
    }
    return Completion(
        asked=sum(asked for asked, _answered in by_class.values()),
        answered=sum(answered for _asked, answered in by_class.values()),
        by_class={
            name: (asked, answered) for name, (asked, answered) in by_class.items()
        },
        streets=sorted(
            (
                CompletionRow(region=streets[pk], asked=asked, answered=answered)
                for pk, (asked, answered) in by_street.items()
            ),
            key=lambda row: (row.share, row.region.code),
        ),
    )


def units_not_answered(
    evaluation_round: EvaluationRound, *, street_id: int | None = None
) -> QuerySet[Region]:
    """The units with departments left to evaluate, those with most left
    first, each with ``left`` and ``asked``."""
    units = (
        Region.objects.filter(participations__round=evaluation_round)
        .annotate(
            asked=Count(
                "participations", filter=Q(participations__round=evaluation_round)
            ),
            left=Count(
                "participations",
                filter=Q(
                    participations__round=evaluation_round,
                    participations__answered_on__isnull=True,
                ),
            ),
        )
        .filter(left__gt=0)
        .select_related("street")
    )
    if street_id is not None:
        units = units.filter(Q(street_id=street_id) | Q(pk=street_id))
    return units.order_by("-left", "code")


# Results --------------------------------------------------------------------------


def results_visible_to(user: User) -> QuerySet[DepartmentResult]:
    """The organization department and administrators see every result of
    their area's closed and published rounds; department staff their own
    department's, once published; nobody else any."""
    results = DepartmentResult.objects.select_related("department", "family", "round")
    if not user.is_authenticated:
        return results.none()
    if user.role in ORGANIZER_ROLES:
        return results.filter(
            round__in=rounds_visible_to(user), round__state__in=RESULT_STATES
        )
    if user.role in DEPARTMENT_ROLES:
        return results.filter(
            department_id=user.department_id, round__state=RoundState.PUBLISHED
        )
    return results.none()


def published_department_totals(department_ids: Sequence[int]) -> dict[int, float]:
    """Each department's total in its latest published round (by period),
    for those with one: a published figure, never an answer. Matching's
    recommendations read it through ``register_evaluation_totals``."""
    rows = (
        DepartmentResult.objects.filter(
            department_id__in=list(department_ids),
            round__state=RoundState.PUBLISHED,
            total__isnull=False,
        )
        .order_by("department_id", "-round__period_end", "-round_id")
        .values_list("department_id", "total")
    )
    totals: dict[int, float] = {}
    for department_id, total in rows:
        totals.setdefault(department_id, total)
    return totals


def round_ranking(
    *, user: User, evaluation_round: EvaluationRound
) -> list[DepartmentResult]:
    """The round's departments, best total first, those without enough
    answers last (organization department only: 404 for others)."""
    if not is_organizer(user):
        raise Http404
    results = results_visible_to(user).filter(round=evaluation_round)
    return sorted(
        results,
        key=lambda r: (r.total is None, r.rank_overall or 0, r.department.code),
    )


def department_result_of(
    *, user: User, round_id: int, department_id: int
) -> DepartmentResult:
    result = (
        results_visible_to(user)
        .filter(round_id=round_id, department_id=department_id)
        .select_related("round__questionnaire", "round__result")
        .first()
    )
    if result is None:
        raise Http404
    return result


@dataclass
class QuestionRow:
    """One question of a department's results, with its figures by class."""

    question: Question
    by_class: dict[str, QuestionResult]


@dataclass
class DimensionRow:
    code: str
    name: str
    weight: float
    scores: dict[str, float]
    questions: list[QuestionRow]


def result_breakdown(result: DepartmentResult) -> list[DimensionRow]:
    """A department's result by dimension, each with its questions and their
    figures by respondent class (null figures where too few answered)."""
    questionnaire = result.round.questionnaire
    figures: dict[int, dict[str, QuestionResult]] = defaultdict(dict)
    for row in QuestionResult.objects.filter(
        round_id=result.round_id, department_id=result.department_id
    ):
        figures[row.question_id][row.respondent_class] = row
    questions = questionnaire.questions.all()
    rows = []
    for dimension in questionnaire.dimensions.all():
        rows.append(
            DimensionRow(
                code=dimension.code,
                name=dimension.name,
                weight=float(dimension.weight),
                scores=result.dimensions.get(dimension.code, {}),
                questions=[
                    QuestionRow(question=q, by_class=figures.get(q.pk, {}))
                    for q in questions
                    if q.dimension_code == dimension.code
                ],
            )
        )
    for row in rows:
        for question_row in row.questions:
            question_row.question.choices = question_options(question_row.question)
    return rows


def department_trend(result: DepartmentResult) -> list[DepartmentResult]:
    """The department's totals in the organizer's published rounds up to this
    one, oldest first (for the trend chart)."""
    return list(
        DepartmentResult.objects.filter(
            department_id=result.department_id,
            round__organizer_id=result.round.organizer_id,
            round__opens_on__lte=result.round.opens_on,
        )
        .filter(Q(round__state=RoundState.PUBLISHED) | Q(round_id=result.round_id))
        .select_related("round")
        .order_by("round__opens_on", "round_id")
    )


def comments_for(*, user: User, result: DepartmentResult) -> QuerySet[Comment]:
    """The free-text comments about a department that ``user`` may read: to
    the organization department all of them (to review); to the department
    those released, as released."""
    if not is_organizer(user):
        return comments_released(result)
    return (
        Comment.objects.filter(
            round_id=result.round_id, department_id=result.department_id
        )
        .select_related("question")
        .order_by("question__sort_order", "state", "id")
    )


def comments_to_review(evaluation_round: EvaluationRound) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(round=evaluation_round)
        .select_related("department", "question")
        .order_by("state", "department__code", "question__sort_order", "id")
    )


# Rectification --------------------------------------------------------------------


def rectifications_visible_to(user: User) -> QuerySet[Rectification]:
    """The organization department and administrators see the items of their
    area's rounds; department staff their own department's."""
    items = Rectification.objects.select_related(
        "round", "department", "recheck_round"
    ).prefetch_related(Prefetch("events"))
    if not user.is_authenticated:
        return items.none()
    if user.role in ORGANIZER_ROLES:
        return items.filter(round__in=rounds_visible_to(user))
    if user.role in DEPARTMENT_ROLES:
        return items.filter(department_id=user.department_id)
    return items.none()


def rectification_of(*, user: User, rectification_id: int) -> Rectification:
    item = rectifications_visible_to(user).filter(pk=rectification_id).first()
    if item is None:
        raise Http404
    return item


def class_label(name: str) -> str:
    return RespondentClass(name).label


def flag_text(flag: dict) -> str:
    """A flag found at close, in words."""
    if flag.get("code") == scoring.FLAG_DROP:
        return _("%(points)s points below the previous round") % {
            "points": flag["points"]
        }
    return _("Far below the other departments in this dimension")


# Review pages ---------------------------------------------------------------------


def rounds_managed_list(user: User) -> QuerySet[EvaluationRound]:
    """The rounds ``user``'s organization department runs, newest first, each
    with ``asked`` and ``answered`` (evaluations asked for and sent: counts
    of participations, never of answers). Nobody else runs any."""
    if not is_organizer(user) or not user.department_id:
        return EvaluationRound.objects.none()
    return (
        rounds_visible_to(user)
        .filter(organizer_id=user.department_id)
        .annotate(
            asked=Count("participations"),
            answered=Count(
                "participations", filter=Q(participations__answered_on__isnull=False)
            ),
        )
        .order_by("-opens_on", "-pk")
    )


def round_question_results(
    *, user: User, evaluation_round: EvaluationRound
) -> QuerySet[QuestionResult]:
    """The question figures of a round with results, for the organization
    department's export: only those at least ``min_responses`` units
    answered (the others hold no figure anyway). 404 for anyone else."""
    if not is_organizer(user) or evaluation_round.state not in RESULT_STATES:
        raise Http404
    if not rounds_visible_to(user).filter(pk=evaluation_round.pk).exists():
        raise Http404
    return (
        QuestionResult.objects.filter(
            round=evaluation_round, answered__gte=evaluation_round.min_responses
        )
        .select_related("department", "question")
        .order_by("department__code", "question__sort_order", "respondent_class")
    )


def comments_pending_for(user: User) -> QuerySet[Comment]:
    """The comments waiting for review in the rounds ``user``'s organization
    department runs, once a round is closed: while it is open, comments
    arriving beside the participations of the day could be told apart."""
    if not is_organizer(user) or not user.department_id:
        return Comment.objects.none()
    return Comment.objects.filter(
        round__organizer_id=user.department_id,
        round__state__in=RESULT_STATES,
        state=CommentState.PENDING,
    )


def comments_released(result: DepartmentResult) -> QuerySet[Comment]:
    """The comments about a department the organization department released,
    in question order: what the department reads (``comments_for``), and the
    only ones its PDF report card prints, whoever downloads it."""
    return (
        Comment.objects.filter(
            round_id=result.round_id,
            department_id=result.department_id,
            state__in=(CommentState.RELEASED, CommentState.REDACTED),
        )
        .select_related("question")
        .order_by("question__sort_order", "id")
    )
