"""Everything that changes reverse evaluation: questionnaire versions, rounds
and their lifecycle, answers, results, comments and rectification items. Each
change is one transaction; every state change but an answer writes an event
(DESIGN.md, invariant 5: answers are anonymous, so nothing records who sent
which)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments import scoring
from assessments.lifecycle import (
    RECTIFICATION_TRANSITIONS,
    ROUND_TRANSITIONS,
    Actor,
    Transition,
    acts_as,
)
from assessments.models import (
    MIN_RESPONSES_FLOOR,
    Answer,
    Comment,
    CommentState,
    DepartmentResult,
    Dimension,
    EvaluationRound,
    Participation,
    Question,
    Questionnaire,
    QuestionResult,
    Rectification,
    RectificationEvent,
    RespondentClass,
    RespondentScope,
    Response,
    RoundEvent,
    RoundResult,
    RoundState,
)
from assessments.questionnaires import answers_check, formula_for
from assessments.tasks import round_results
from matching.selectors import communities_served
from portal.models import Department, DepartmentKind, Region, RegionLevel, Role, User
from portal.services import notify

# ``_`` is lazy: these messages are module constants, and must speak the
# language of the request that shows them, not the one active at import.
ERROR_NOT_ORGANIZER = _("Only the organization department runs evaluation rounds.")
ERROR_FROZEN = _(
    "This questionnaire is used by a round and can no longer change: "
    "make a new version of it."
)
ERROR_WEIGHTS = _("The weights of communities and street offices must add up to 1.")
ERROR_MIN_RESPONSES = _(
    "A round needs at least %(count)s answers before it shows figures."
)
ERROR_DATES = _("A round closes on or after the day it opens.")
ERROR_PERIOD = _("The period evaluated ends on or after the day it starts.")
ERROR_NO_DEPARTMENTS = _("Choose the departments to evaluate.")
ERROR_FOREIGN_DEPARTMENT = _(
    "Only departments serving the round's area can be evaluated."
)
ERROR_STATE = _("This cannot be done in the round's present state.")
ERROR_NOBODY_ASKED = _("Nobody would be asked: no unit of the area qualifies.")
ERROR_NO_RESULTS = _("The results are not computed yet.")
ERROR_ALREADY_ANSWERED = _(
    "Your unit has already sent its evaluation of this department."
)
ERROR_NOT_OPEN = _("This round is not open for answers.")
ERROR_ROUND_OVER = _("This round closed on %(date)s.")
ERROR_NOTE_REQUIRED = _("Please write a note.")
ERROR_PLAN_REQUIRED = _("Please write the plan.")
ERROR_REMINDED_TODAY = _("The units were reminded today already.")

# Which units answer for each class.
RESPONDENT_ROLES = {
    RespondentClass.COMMUNITY: Role.COMMUNITY_OPERATOR,
    RespondentClass.STREET: Role.STREET_OFFICE,
}
RESPONDENT_LEVELS = {
    RespondentClass.COMMUNITY: RegionLevel.COMMUNITY,
    RespondentClass.STREET: RegionLevel.STREET,
}
PARTICIPATION_BATCH = 2000
# The schedule reminds the units of a round this many days before it closes.
REMIND_DAYS_BEFORE = 3


class EvaluationError(Exception):
    """Why something cannot be done, in words for the user."""


# Questionnaires -----------------------------------------------------------------


def questionnaire_check_editable(questionnaire: Questionnaire) -> None:
    """Raise ``EvaluationError`` if ``questionnaire`` is frozen: a round uses
    it, so its questions must stay what its answers answered."""
    if (
        questionnaire.pk
        and Questionnaire.objects.filter(
            pk=questionnaire.pk, frozen_at__isnull=False
        ).exists()
    ):
        raise EvaluationError(ERROR_FROZEN)


@transaction.atomic
def questionnaire_new_version(*, questionnaire: Questionnaire) -> Questionnaire:
    """A new, editable version of ``questionnaire`` (of its lineage, numbered
    after the last), with copies of its dimensions and questions."""
    latest = (
        Questionnaire.objects.select_for_update()
        .filter(lineage=questionnaire.lineage)
        .order_by("-version")
        .first()
    )
    copy = Questionnaire.objects.create(
        title=questionnaire.title,
        description=questionnaire.description,
        lineage=questionnaire.lineage,
        version=latest.version + 1,
        based_on=questionnaire,
    )
    Dimension.objects.bulk_create(
        Dimension(
            questionnaire=copy,
            sort_order=d.sort_order,
            code=d.code,
            name=d.name,
            description=d.description,
            weight=d.weight,
        )
        for d in questionnaire.dimensions.all()
    )
    Question.objects.bulk_create(
        Question(
            questionnaire=copy,
            sort_order=q.sort_order,
            dimension_code=q.dimension_code,
            code=q.code,
            text=q.text,
            help_text=q.help_text,
            kind=q.kind,
            weight=q.weight,
            direction=q.direction,
            required=q.required,
            options=q.options,
            scale_max=q.scale_max,
            show_if=q.show_if,
            show_if_values=q.show_if_values,
        )
        for q in questionnaire.questions.all()
    )
    return copy


# Rounds -------------------------------------------------------------------------


def _organizer(user: User) -> Department:
    if user.role not in (Role.ORGANIZATION_DEPARTMENT, Role.ADMINISTRATOR) or not (
        user.department_id
    ):
        raise PermissionDenied(ERROR_NOT_ORGANIZER)
    return user.department


def round_problems(
    *,
    area: Region,
    departments: Iterable[Department],
    period_start: date,
    period_end: date,
    opens_on: date,
    closes_on: date,
    community_weight: Decimal,
    street_weight: Decimal,
    min_responses: int,
) -> dict[str, str]:
    """What is wrong with a round's settings, by field name (empty: nothing)."""
    problems = {}
    if community_weight + street_weight != 1:
        problems["community_weight"] = str(ERROR_WEIGHTS)
    if min_responses < MIN_RESPONSES_FLOOR:
        problems["min_responses"] = ERROR_MIN_RESPONSES % {"count": MIN_RESPONSES_FLOOR}
    if closes_on < opens_on:
        problems["closes_on"] = str(ERROR_DATES)
    if period_end < period_start:
        problems["period_end"] = str(ERROR_PERIOD)
    departments = list(departments)
    if not departments:
        problems["departments"] = str(ERROR_NO_DEPARTMENTS)
    elif any(
        d.kind != DepartmentKind.FUNCTIONAL
        or not Region.objects.subtree(area).filter(pk=d.region_id).exists()
        for d in departments
    ):
        problems["departments"] = str(ERROR_FOREIGN_DEPARTMENT)
    return problems


@transaction.atomic
def round_save(
    *,
    user: User,
    evaluation_round: EvaluationRound | None = None,
    departments: Iterable[Department],
    **fields: Any,
) -> EvaluationRound:
    """Create a round (``evaluation_round`` None) or change a draft one, for
    the organization department of ``user`` over its area. ``fields`` are the
    round's own fields (name, questionnaire, dates, scope, weights, k,
    threshold). Raises ``PermissionDenied`` for anyone else, and
    ``EvaluationError`` for settings ``round_problems`` finds or a round that
    is no longer a draft."""
    organizer = _organizer(user)
    departments = list(departments)
    if evaluation_round is None:
        evaluation_round = EvaluationRound(
            organizer=organizer, area=organizer.region, created_by=user
        )
    elif evaluation_round.state != RoundState.DRAFT:
        raise EvaluationError(ERROR_STATE)
    for name, value in fields.items():
        setattr(evaluation_round, name, value)
    problems = round_problems(
        area=evaluation_round.area,
        departments=departments,
        period_start=evaluation_round.period_start,
        period_end=evaluation_round.period_end,
        opens_on=evaluation_round.opens_on,
        closes_on=evaluation_round.closes_on,
        community_weight=evaluation_round.community_weight,
        street_weight=evaluation_round.street_weight,
        min_responses=evaluation_round.min_responses,
    )
    if problems:
        raise EvaluationError(" ".join(problems.values()))
    created = evaluation_round.pk is None
    evaluation_round.save()
    evaluation_round.departments.set(departments)
    if created:
        RoundEvent.objects.create(
            round=evaluation_round,
            actor=user,
            action="create",
            from_state="",
            to_state=RoundState.DRAFT,
        )
    return evaluation_round


def _round_transition(
    evaluation_round: EvaluationRound, user: User, action: str
) -> Transition:
    """Lock the round and check that ``user`` may take ``action`` now."""
    transition = ROUND_TRANSITIONS[action]
    if acts_as(user) != Actor.ORGANIZER or _organizer(user).pk != (
        evaluation_round.organizer_id
    ):
        raise PermissionDenied(ERROR_NOT_ORGANIZER)
    state = (
        EvaluationRound.objects.select_for_update()
        .filter(pk=evaluation_round.pk)
        .values_list("state", flat=True)
        .get()
    )
    if state not in transition.sources:
        raise EvaluationError(ERROR_STATE)
    return transition


def _round_move(
    evaluation_round: EvaluationRound, user: User | None, transition: Transition
) -> None:
    RoundEvent.objects.create(
        round=evaluation_round,
        actor=user,
        action=transition.action,
        from_state=evaluation_round.state,
        to_state=transition.target,
    )
    evaluation_round.state = transition.target
    evaluation_round.save(update_fields=["state"])


@transaction.atomic
def round_open(*, evaluation_round: EvaluationRound, user: User) -> int:
    """Open a draft round: freeze its questionnaire version, ask every unit
    that qualifies (a ``Participation`` per unit and department) and tell
    them. Returns how many evaluations were asked for. Raises
    ``EvaluationError`` when no unit qualifies."""
    transition = _round_transition(evaluation_round, user, "open")
    participations = _participations(evaluation_round)
    if not participations:
        raise EvaluationError(ERROR_NOBODY_ASKED)
    Participation.objects.bulk_create(participations, batch_size=PARTICIPATION_BATCH)
    Questionnaire.objects.filter(
        pk=evaluation_round.questionnaire_id, frozen_at__isnull=True
    ).update(frozen_at=timezone.now())
    _round_move(evaluation_round, user, transition)
    unit_ids = {p.unit_id for p in participations}
    notify(
        users=User.objects.filter(
            region_id__in=unit_ids, role__in=RESPONDENT_ROLES.values(), is_active=True
        ),
        title=_("Evaluate the departments: %(round)s")
        % {"round": evaluation_round.name},
        body=_(
            "Your unit is asked how much the departments took off its burden. "
            "Answers are anonymous. Please answer by %(date)s."
        )
        % {"date": evaluation_round.closes_on.isoformat()},
        url=reverse("evaluation_list"),
    )
    return len(participations)


def _participations(evaluation_round: EvaluationRound) -> list[Participation]:
    """Who answers about whom: every street office of the area about every
    department evaluated (when street offices weigh); every community, or
    those the department delivered to in the period."""
    weights = evaluation_round.class_weights()
    department_ids = list(evaluation_round.departments.values_list("pk", flat=True))
    area_units = Region.objects.subtree(evaluation_round.area)
    pairs: list[tuple[int, int, str]] = []
    if RespondentClass.COMMUNITY in weights:
        communities = area_units.filter(level=RegionLevel.COMMUNITY)
        if evaluation_round.respondent_scope == RespondentScope.SERVED:
            served = communities_served(
                department_ids=department_ids,
                community_ids=communities.values("pk"),
                since=evaluation_round.period_start,
                until=evaluation_round.period_end,
            )
            pairs += [(c, d, RespondentClass.COMMUNITY) for c, d in sorted(served)]
        else:
            community_ids = list(communities.values_list("pk", flat=True))
            pairs += [
                (c, d, RespondentClass.COMMUNITY)
                for d in department_ids
                for c in community_ids
            ]
    if RespondentClass.STREET in weights:
        street_ids = list(
            area_units.filter(level=RegionLevel.STREET).values_list("pk", flat=True)
        )
        pairs += [
            (s, d, RespondentClass.STREET) for d in department_ids for s in street_ids
        ]
    return [
        Participation(
            round=evaluation_round,
            unit_id=unit_id,
            department_id=department_id,
            respondent_class=respondent_class,
        )
        for unit_id, department_id, respondent_class in pairs
    ]


@transaction.atomic
def round_remind(*, evaluation_round: EvaluationRound, user: User | None) -> int:
    """Remind the units of an open round that have not answered every
    department yet; once a day at most. ``user`` None: the scheduled reminder.
    Returns how many units were reminded."""
    if user is not None:
        _organizer(user)
        if evaluation_round.organizer_id != user.department_id:
            raise PermissionDenied(ERROR_NOT_ORGANIZER)
    locked = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
    if locked.state != RoundState.OPEN:
        raise EvaluationError(ERROR_STATE)
    today = timezone.localdate()
    if locked.reminded_at and timezone.localdate(locked.reminded_at) == today:
        raise EvaluationError(ERROR_REMINDED_TODAY)
    unit_ids = set(
        Participation.objects.filter(
            round=evaluation_round, answered_on__isnull=True
        ).values_list("unit_id", flat=True)
    )
    notify(
        users=User.objects.filter(
            region_id__in=unit_ids, role__in=RESPONDENT_ROLES.values(), is_active=True
        ),
        title=_("Reminder: %(round)s closes on %(date)s")
        % {
            "round": evaluation_round.name,
            "date": evaluation_round.closes_on.isoformat(),
        },
        body=_("Your unit has departments left to evaluate. Answers are anonymous."),
        url=reverse("evaluation_list"),
    )
    EvaluationRound.objects.filter(pk=evaluation_round.pk).update(
        reminded_at=timezone.now()
    )
    return len(unit_ids)


@transaction.atomic
def round_close(*, evaluation_round: EvaluationRound, user: User | None) -> None:
    """Close an open round: no more answers; its results are computed after
    the commit, in the background (``assessments.tasks.round_results``).
    ``user`` None: closed by the schedule after its last day."""
    if user is None:
        transition = ROUND_TRANSITIONS["close"]
        locked = EvaluationRound.objects.select_for_update().get(pk=evaluation_round.pk)
        if locked.state not in transition.sources:
            raise EvaluationError(ERROR_STATE)
    else:
        transition = _round_transition(evaluation_round, user, "close")
    _round_move(evaluation_round, user, transition)
    round_id = evaluation_round.pk
    transaction.on_commit(lambda: round_results.enqueue(round_id=round_id))


@transaction.atomic
def round_publish(*, evaluation_round: EvaluationRound, user: User) -> None:
    """Publish a closed round's results to the departments: each sees its own
    scores, rank and released comments; those below the threshold get a
    rectification item; open items of earlier rounds get this round's total
    as their check; the departments are told, and the bulletin is made."""
    transition = _round_transition(evaluation_round, user, "publish")
    if not RoundResult.objects.filter(round=evaluation_round).exists():
        raise EvaluationError(ERROR_NO_RESULTS)
    results = list(DepartmentResult.objects.filter(round=evaluation_round))
    threshold = float(evaluation_round.rectification_threshold)
    Rectification.objects.bulk_create(
        Rectification(
            round=evaluation_round,
            department_id=result.department_id,
            total=result.total,
            dimensions=[
                code
                for code, scores in result.dimensions.items()
                if scores.get(scoring.COMPOSITE, 100) < threshold
            ],
        )
        for result in results
        if result.total is not None and result.total < threshold
    )
    totals = {result.department_id: result.total for result in results}
    for item in Rectification.objects.filter(
        department_id__in=list(totals),
        round__opens_on__lt=evaluation_round.opens_on,
        recheck_round__isnull=True,
    ):
        item.recheck_round = evaluation_round
        item.recheck_total = totals[item.department_id]
        item.save(update_fields=["recheck_round", "recheck_total"])
    _round_move(evaluation_round, user, transition)
    notify(
        users=User.objects.filter(
            department_id__in=list(totals),
            role__in=(Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER),
            is_active=True,
        ),
        title=_("Evaluation results published: %(round)s")
        % {"round": evaluation_round.name},
        body=_("See how the communities scored your department, and what follows."),
        url=reverse("evaluation_results_mine"),
    )
    from assessments.reports import report_request

    round_id = evaluation_round.pk
    transaction.on_commit(lambda: report_request(round_id=round_id))


# Answers ------------------------------------------------------------------------


def evaluation_submit(
    *,
    user: User,
    evaluation_round: EvaluationRound,
    department: Department,
    answers: Mapping[str, Any],
) -> None:
    """Store ``user``'s unit's answers about ``department``, once.

    The participation is marked answered (the day only) and the response with
    its answers and comments written in one transaction; nothing links the
    two. Nothing else records the answers: no event, no log line, no
    notification. Raises ``AnswerError`` (assessments.questionnaires) for
    answers that do not suit the questions, ``EvaluationError`` when the unit
    answered already or the round is not open, ``PermissionDenied`` when the
    unit was not asked."""
    if user.role not in RESPONDENT_ROLES.values() or not user.region_id:
        raise PermissionDenied
    if evaluation_round.state != RoundState.OPEN:
        raise EvaluationError(ERROR_NOT_OPEN)
    if timezone.localdate() > evaluation_round.closes_on:
        raise EvaluationError(
            ERROR_ROUND_OVER % {"date": evaluation_round.closes_on.isoformat()}
        )
    questions = list(evaluation_round.questionnaire.questions.all())
    checked = answers_check(questions, answers)
    with transaction.atomic():
        participation = Participation.objects.filter(
            round=evaluation_round, unit_id=user.region_id, department=department
        ).first()
        if participation is None:
            raise PermissionDenied
        # The conditional update is the guard: of two submits at once, the
        # second finds the day set (PostgreSQL re-reads the row after the
        # first commits; SQLite's IMMEDIATE transactions run one at a time).
        marked = Participation.objects.filter(
            pk=participation.pk, answered_on__isnull=True
        ).update(answered_on=timezone.localdate())
        if not marked:
            raise EvaluationError(ERROR_ALREADY_ANSWERED)
        response = Response.objects.create(
            round=evaluation_round,
            department=department,
            respondent_class=participation.respondent_class,
        )
        Answer.objects.bulk_create(
            Answer(response=response, question_id=question_id, value=value)
            for question_id, value in checked.values.items()
        )
        Comment.objects.bulk_create(
            Comment(
                round=evaluation_round,
                department=department,
                question_id=question_id,
                text=text,
            )
            for question_id, text in checked.texts.items()
        )


# Results ------------------------------------------------------------------------


@transaction.atomic
def round_results_compute(*, evaluation_round: EvaluationRound) -> RoundResult:
    """Compute (again) a closed round's results from its answers: every
    department's scores by class and composite, question figures, ranks in
    the family and overall, the change since the organizer's previous round,
    and flags. Figures below ``min_responses`` answers are not stored."""
    formula = formula_for(evaluation_round)
    departments = list(evaluation_round.departments.select_related("family"))
    answered: dict[int, dict[str, int]] = defaultdict(dict)
    for department_id, respondent_class, n in (
        Response.objects.filter(round=evaluation_round)
        .values_list("department_id", "respondent_class")
        .annotate(n=Count("id"))
        .order_by()
    ):
        answered[department_id][respondent_class] = n
    asked: dict[int, dict[str, int]] = defaultdict(dict)
    for department_id, respondent_class, n in (
        Participation.objects.filter(round=evaluation_round)
        .values_list("department_id", "respondent_class")
        .annotate(n=Count("id"))
        .order_by()
    ):
        asked[department_id][respondent_class] = n
    counts: dict[int, dict[str, dict[int, dict[int, int]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(dict))
    )
    for department_id, respondent_class, question_id, value, n in (
        Answer.objects.filter(response__round=evaluation_round)
        .values_list(
            "response__department_id",
            "response__respondent_class",
            "question_id",
            "value",
        )
        .annotate(n=Count("value"))
        .order_by()
    ):
        counts[department_id][respondent_class][question_id][value] = n
    scores = {
        d.pk: scoring.department_scores(formula, answered[d.pk], counts[d.pk])
        for d in departments
    }
    totals = {pk: s.total for pk, s in scores.items()}
    overall = scoring.competition_ranks(totals)
    families: dict[int | None, list[int]] = defaultdict(list)
    for department in departments:
        families[department.family_id].append(department.pk)
    in_family = {
        pk: (rank, len([m for m in members if totals[m] is not None]))
        for members in families.values()
        for pk, rank in scoring.competition_ranks(
            {m: totals[m] for m in members}
        ).items()
    }
    previous = _previous_totals(evaluation_round)
    outliers = scoring.low_dimension_outliers(
        {pk: s.dimensions for pk, s in scores.items() if s.total is not None}
    )
    DepartmentResult.objects.filter(round=evaluation_round).delete()
    QuestionResult.objects.filter(round=evaluation_round).delete()
    ranked = len(overall)
    DepartmentResult.objects.bulk_create(
        DepartmentResult(
            round=evaluation_round,
            department=department,
            family_id=department.family_id,
            answered=answered[department.pk],
            asked=asked[department.pk],
            class_totals={
                name: c.total
                for name, c in scores[department.pk].classes.items()
                if c.total is not None
            },
            dimensions=_dimension_scores(scores[department.pk]),
            total=totals[department.pk],
            rank_overall=overall.get(department.pk),
            ranked_overall=ranked if department.pk in overall else None,
            rank_in_family=in_family.get(department.pk, (None, None))[0],
            ranked_in_family=in_family.get(department.pk, (None, None))[1],
            previous_total=previous.get(department.pk),
            flags=_flags(
                totals[department.pk],
                previous.get(department.pk),
                outliers.get(department.pk, []),
            ),
        )
        for department in departments
    )
    QuestionResult.objects.bulk_create(
        (
            QuestionResult(
                round=evaluation_round,
                department_id=department_pk,
                question_id=question_id,
                respondent_class=name,
                answered=figures.answered,
                mean=figures.mean,
                score=figures.score,
                distribution={str(k): v for k, v in figures.distribution.items()},
            )
            for department_pk, department_scores in scores.items()
            for name, class_scores in department_scores.classes.items()
            for question_id, figures in class_scores.questions.items()
        ),
        batch_size=1000,
    )
    result, _created = RoundResult.objects.update_or_create(
        round=evaluation_round,
        defaults={
            "formula_version": scoring.FORMULA_VERSION,
            "weights": {
                **formula.weights(),
                "rectification_threshold": float(
                    evaluation_round.rectification_threshold
                ),
            },
            "computed_at": timezone.now(),
            "responses": sum(sum(by_class.values()) for by_class in answered.values()),
        },
    )
    return result


def _dimension_scores(scores: scoring.DepartmentScores) -> dict[str, dict[str, float]]:
    dimensions: dict[str, dict[str, float]] = defaultdict(dict)
    for name, class_scores in scores.classes.items():
        for code, value in class_scores.dimensions.items():
            dimensions[code][name] = value
    for code, value in scores.dimensions.items():
        dimensions[code][scoring.COMPOSITE] = value
    return dict(dimensions)


def _flags(
    total: float | None, previous: float | None, low_dimensions: list[str]
) -> list[dict[str, Any]]:
    flags: list[dict[str, Any]] = [
        {"code": scoring.FLAG_LOW_DIMENSION, "dimension": code}
        for code in low_dimensions
    ]
    if (
        total is not None
        and previous is not None
        and previous - total >= scoring.DROP_POINTS
    ):
        flags.append({"code": scoring.FLAG_DROP, "points": round(previous - total, 1)})
    return flags


def _previous_totals(evaluation_round: EvaluationRound) -> dict[int, float]:
    """Each department's total in the organizer's last round before this one
    whose results were published."""
    previous = (
        EvaluationRound.objects.filter(
            organizer_id=evaluation_round.organizer_id,
            state=RoundState.PUBLISHED,
            opens_on__lt=evaluation_round.opens_on,
        )
        .order_by("-opens_on", "-pk")
        .first()
    )
    if previous is None:
        return {}
    return dict(
        DepartmentResult.objects.filter(
            round=previous, total__isnull=False
        ).values_list("department_id", "total")
    )


# Comments -----------------------------------------------------------------------


@transaction.atomic
def comment_review(
    *, comment: Comment, user: User, state: str, released_text: str = ""
) -> Comment:
    """The organization department's decision on a free-text comment: release
    it as written, release ``released_text`` instead (with what could tell
    the unit taken out), or withhold it."""
    if _organizer(user).pk != comment.round.organizer_id:
        raise PermissionDenied(ERROR_NOT_ORGANIZER)
    if state == CommentState.REDACTED and not released_text.strip():
        raise EvaluationError(ERROR_NOTE_REQUIRED)
    comment.state = state
    comment.released_text = (
        released_text.strip() if state == CommentState.REDACTED else ""
    )
    comment.reviewed_by = user
    comment.reviewed_at = timezone.now()
    comment.save(update_fields=["state", "released_text", "reviewed_by", "reviewed_at"])
    return comment


# Rectification ------------------------------------------------------------------


@transaction.atomic
def rectification_act(
    *,
    rectification: Rectification,
    user: User,
    action: str,
    note: str = "",
    plan: str = "",
    due_on: date | None = None,
) -> Rectification:
    """Take ``action`` on a rectification item: the department submits its
    plan (``plan``, ``due_on``), reports progress or the work done (``note``);
    the organizer sends it back or closes it. Raises ``PermissionDenied`` for
    the wrong side or unit, ``EvaluationError`` for an action not possible
    now or a missing plan or note."""
    transition = RECTIFICATION_TRANSITIONS[action]
    side = acts_as(user)
    if side != transition.actor:
        raise PermissionDenied
    if side == Actor.DEPARTMENT and user.department_id != rectification.department_id:
        raise PermissionDenied
    if side == Actor.ORGANIZER and (
        _organizer(user).pk != rectification.round.organizer_id
    ):
        raise PermissionDenied
    locked = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if locked.state not in transition.sources:
        raise EvaluationError(ERROR_STATE)
    if action == "plan":
        if not plan.strip():
            raise EvaluationError(ERROR_PLAN_REQUIRED)
        locked.plan = plan.strip()
        locked.due_on = due_on
    elif transition.note_required and not note.strip():
        raise EvaluationError(ERROR_NOTE_REQUIRED)
    RectificationEvent.objects.create(
        rectification=locked,
        actor=user,
        action=action,
        note=note.strip(),
        from_state=locked.state,
        to_state=transition.target,
    )
    locked.state = transition.target
    locked.save(update_fields=["state", "plan", "due_on"])
    if side == Actor.DEPARTMENT:
        recipients = User.objects.filter(
            department_id=locked.round.organizer_id,
            role__in=(Role.ORGANIZATION_DEPARTMENT,),
            is_active=True,
        )
    else:
        recipients = User.objects.filter(
            department_id=locked.department_id,
            role__in=(Role.DEPARTMENT_PUBLISHER, Role.DEPARTMENT_APPROVER),
            is_active=True,
        )
    notify(
        users=recipients,
        title=_("Rectification of %(department)s: %(action)s")
        % {"department": locked.department.name, "action": transition.label},
        body=note.strip() or plan.strip(),
        url=reverse("rectification_detail", args=[locked.pk]),
    )
    return locked


# Scheduled work -------------------------------------------------------------------


def rounds_advance(*, today: date | None = None) -> dict[str, int]:
    """What the schedule does each day: open draft rounds whose first day has
    come, remind the units of rounds closing within three days, close rounds
    past their last day. Returns how many rounds it opened, reminded and
    closed. A round that cannot open (nobody qualifies) stays a draft."""
    today = today or timezone.localdate()
    done = {"opened": 0, "reminded": 0, "closed": 0}
    for evaluation_round in EvaluationRound.objects.filter(
        state=RoundState.DRAFT, opens_on__lte=today, closes_on__gte=today
    ):
        opener = evaluation_round.created_by
        try:
            round_open(evaluation_round=evaluation_round, user=opener)
        except (EvaluationError, PermissionDenied):
            continue
        done["opened"] += 1
    for evaluation_round in EvaluationRound.objects.filter(
        state=RoundState.OPEN, closes_on__lt=today
    ):
        round_close(evaluation_round=evaluation_round, user=None)
        done["closed"] += 1
    for evaluation_round in EvaluationRound.objects.filter(
        Q(reminded_at__isnull=True) | Q(reminded_at__date__lt=today),
        state=RoundState.OPEN,
        closes_on__gte=today,
        closes_on__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
    ):
        try:
            round_remind(evaluation_round=evaluation_round, user=None)
        except EvaluationError:
            continue
        done["reminded"] += 1
    return done
