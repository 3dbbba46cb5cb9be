"""seed_assessments_demo: two published quarters and an open one over the demo
district, lived through the evaluation services with dates inside each
round, departments that differ enough for rankings, flags, trends and
rectification to mean something, and a no-op when run again.

Seeding the district and the evaluations takes a while, so it happens once for
the module, in a transaction rolled back at its end; each test rolls back to
it in turn. Nothing commits, so no inbox notification is written."""

import re
import statistics
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from assessments.management.commands.seed_assessments_demo import (
    DemoEvaluations,
    round_specs,
)
from assessments.models import (
    Answer,
    Comment,
    CommentState,
    DepartmentResult,
    EvaluationRound,
    Participation,
    QuestionResult,
    Rectification,
    RectificationEvent,
    RectificationState,
    RespondentClass,
    Response,
    RoundEvent,
    RoundState,
)
from portal.models import Department, DepartmentKind, Region, User

# The demo is the SQLite district of `make run`; seeding it does the same
# work on PostgreSQL, whose services the rest of the suite exercises.
pytestmark = [pytest.mark.django_db, pytest.mark.database_independent]

Q2, Q3, Q4 = "2026年第二季度", "2026年第三季度", "2026年第四季度"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        out, err = StringIO(), StringIO()
        call_command("seed_assessments_demo", stdout=out, stderr=err)
        yield out.getvalue(), err.getvalue()
        transaction.set_rollback(True)


def rounds() -> dict[str, EvaluationRound]:
    return {r.name: r for r in EvaluationRound.objects.all()}


def results(name: str) -> dict[str, DepartmentResult]:
    return {
        r.department.code: r
        for r in DepartmentResult.objects.filter(round__name=name).select_related(
            "department"
        )
    }


def test_two_published_quarters_and_an_open_one_evaluate_the_district_seven_plus_three(
    seeded,
):
    out, err = seeded
    assert err == ""
    for name in (Q2, Q3, Q4):
        assert name in out
    by_name = rounds()
    assert [by_name[n].state for n in (Q2, Q3, Q4)] == [
        RoundState.PUBLISHED,
        RoundState.PUBLISHED,
        RoundState.OPEN,
    ]
    district_departments = set(
        Department.objects.filter(
            kind=DepartmentKind.FUNCTIONAL, region__code="310107000000"
        ).values_list("pk", flat=True)
    )
    for evaluation_round in by_name.values():
        weights = (evaluation_round.community_weight, evaluation_round.street_weight)
        assert weights == (Decimal("0.7"), Decimal("0.3"))
        assert evaluation_round.organizer.code == "PT-ZZB"
        assert (
            set(evaluation_round.departments.values_list("pk", flat=True))
            == district_departments
        )
    # Each round's history reads as the organization department and the
    # schedule made it: created, opened, and the past ones closed by the
    # schedule and published.
    history = RoundEvent.objects.filter(round=by_name[Q3]).order_by("at")
    assert [(e.action, e.actor.username if e.actor else None) for e in history] == [
        ("create", "zuzhibu"),
        ("open", "zuzhibu"),
        ("close", None),
        ("publish", "zuzhibu"),
    ]


def test_most_communities_and_street_offices_answered_the_published_rounds(seeded):
    for name in (Q2, Q3):
        participations = Participation.objects.filter(round__name=name)
        answered = participations.filter(answered_on__isnull=False)
        assert 0.75 <= answered.count() / participations.count() <= 0.95
        communities = answered.filter(respondent_class=RespondentClass.COMMUNITY)
        assert communities.values("unit").distinct().count() >= 220
        streets = answered.filter(respondent_class=RespondentClass.STREET)
        assert streets.values("unit").distinct().count() == 10
        # What was answered matches who answered, and nothing more.
        assert Response.objects.filter(round__name=name).count() == answered.count()


def test_departments_differ_enough_for_a_ranking_with_a_top_and_a_bottom(seeded):
    totals = sorted(
        (r.total for r in results(Q3).values() if r.total is not None), reverse=True
    )
    assert len(totals) >= 28
    assert totals[1] >= 88  # a couple excellent
    assert totals[-2] < 55  # a couple clearly burdensome
    between = [t for t in totals if 60 <= t < 88]
    assert len(between) >= 0.7 * len(totals)
    assert statistics.pstdev(totals) > 8
    # The dimensions differ too: the heatmap has cold and warm cells.
    cells = [
        scores["composite"]
        for r in results(Q3).values()
        for scores in r.dimensions.values()
    ]
    assert min(cells) < 35 and max(cells) > 90


def test_burdensome_departments_get_rectification_one_with_its_plan_under_way(
    seeded,
):
    items = {
        (item.round.name, item.department.code): item
        for item in Rectification.objects.select_related("round", "department")
    }
    below = {code for code, r in results(Q3).items() if r.total and r.total < 60}
    assert {code for name, code in items if name == Q3} == below == {"PT-YJ", "PT-CG"}
    under_way = items[Q3, "PT-YJ"]
    assert under_way.state == RectificationState.UNDER_WAY
    assert under_way.plan and under_way.due_on
    assert [e.action for e in under_way.events.order_by("at")] == ["plan", "progress"]
    assert items[Q3, "PT-CG"].state == RectificationState.OPEN
    # The second quarter's items were worked through, closed and checked
    # again by the third quarter's results.
    for code in ("PT-FG", "PT-YJ"):
        item = items[Q2, code]
        assert item.state == RectificationState.CLOSED
        assert item.recheck_round.name == Q3
        assert item.recheck_total == pytest.approx(results(Q3)[code].total)
    assert items[Q2, "PT-FG"].recheck_total > 60  # housing improved
    # Each step was taken by the right side, after the round was published.
    published = RoundEvent.objects.get(round__name=Q2, action="publish").at
    steps = RectificationEvent.objects.filter(rectification__round__name=Q2)
    assert steps.aggregate(first=Min("at"))["first"] > published
    assert set(steps.filter(action="close").values_list("actor__username", flat=True))
    assert not steps.filter(action="plan", actor__department__code="PT-ZZB").exists()


def test_a_department_too_few_answered_about_shows_no_figures(seeded):
    thin = results(Q3)["PT-SWJ"]
    assert thin.total is None and thin.dimensions == {} and thin.rank_overall is None
    assert sum(thin.answered.values()) < 10
    assert all(n < 5 for n in thin.answered.values())
    assert (
        not QuestionResult.objects.filter(round__name=Q3, department__code="PT-SWJ")
        .exclude(mean=None, score=None, distribution={})
        .exists()
    )
    # In the quarter before, enough units answered about it.
    assert results(Q2)["PT-SWJ"].total is not None


def test_changes_since_the_second_quarter_show_and_drops_are_flagged(seeded):
    third = results(Q3)
    ranked = [r for r in third.values() if r.total is not None]
    assert all(r.previous_total is not None for r in ranked)
    dropped = {
        code
        for code, r in third.items()
        if any(flag["code"] == "drop" for flag in r.flags)
    }
    assert {"PT-JW", "PT-CG"} <= dropped
    assert third["PT-FG"].change > 10  # rectified
    assert any(
        flag["code"] == "low_dimension" and flag["dimension"] == "ledgers"
        for flag in third["PT-TJ"].flags
    )


def test_comments_are_released_redacted_withheld_or_left_for_review(seeded):
    states = dict(
        Comment.objects.filter(round__name=Q3)
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    assert states[CommentState.REDACTED] == 1
    assert states[CommentState.WITHHELD] == 1
    assert states[CommentState.RELEASED] >= 20
    assert states[CommentState.PENDING] >= 5
    redacted = Comment.objects.get(round__name=Q3, state=CommentState.REDACTED)
    assert "居委会" in redacted.text
    assert "白玉" in redacted.text and "白玉" not in redacted.released_text
    assert not Comment.objects.filter(
        round__name=Q2, state=CommentState.PENDING
    ).exists()
    # Burdensome departments hear the most.
    by_department = dict(
        Comment.objects.filter(round__name=Q3)
        .values_list("department__code")
        .annotate(n=Count("pk"))
    )
    assert by_department["PT-YJ"] >= 5 and by_department["PT-CG"] >= 5


def test_the_open_round_is_three_fifths_in_unevenly_and_the_demo_community_has_more_to_do(
    seeded,
):
    open_round = rounds()[Q4]
    participations = Participation.objects.filter(round=open_round)
    answered = participations.filter(answered_on__isnull=False).count()
    assert 0.5 <= answered / participations.count() <= 0.7
    by_street = []
    for street in Region.objects.filter(level=3, district__code="310107000000"):
        units = participations.filter(Q(unit=street) | Q(unit__street=street))
        by_street.append(
            units.filter(answered_on__isnull=False).count() / units.count()
        )
    assert max(by_street) - min(by_street) > 0.2
    home = participations.filter(unit=User.objects.get(username="shequ").region)
    assert 0 < home.filter(answered_on__isnull=False).count() < home.count()
    assert not DepartmentResult.objects.filter(round=open_round).exists()
    assert open_round.reminded_at is not None


def test_every_answer_lies_within_its_rounds_dates(seeded):
    today = timezone.localdate()
    for evaluation_round in rounds().values():
        days = Participation.objects.filter(
            round=evaluation_round, answered_on__isnull=False
        ).aggregate(first=Min("answered_on"), last=Max("answered_on"))
        assert days["first"] == evaluation_round.opens_on
        assert days["last"] <= min(evaluation_round.closes_on, today)
        assert evaluation_round.period_end < evaluation_round.opens_on or (
            evaluation_round.state == RoundState.OPEN
        )
    assert rounds()[Q3].closes_on < today


def test_the_answers_are_the_same_on_every_run(seeded):
    demo = DemoEvaluations(now=timezone.now())
    demo.respondents = demo._respondents()
    spec = next(s for s in round_specs(demo.today) if s.name == Q3)
    departments = list(Department.objects.filter(pk__in=rounds()[Q3].departments.all()))
    departments.sort(key=lambda d: d.code)

    def plan():
        return [
            (s.day, s.user.pk, s.department.pk, sorted(s.answers.items()))
            for s in demo.submissions(spec, departments)
        ]

    first = plan()
    assert first == plan()
    assert len(first) == Response.objects.filter(round__name=Q3).count()
    # The answers planned are the answers stored (counted by question).
    planned = sum(
        1
        for *_rest, answers in first
        for code, value in answers
        if code == "rankings" and value == 1
    )
    stored = Answer.objects.filter(
        response__round__name=Q3, question__code="rankings", value=1
    ).count()
    assert planned == stored


def test_a_second_run_writes_nothing(seeded):
    def counts():
        return (
            User.objects.count(),
            EvaluationRound.objects.count(),
            Participation.objects.filter(answered_on__isnull=False).count(),
            Response.objects.count(),
            Comment.objects.exclude(state=CommentState.PENDING).count(),
            RoundEvent.objects.count(),
            RectificationEvent.objects.count(),
        )

    before = counts()
    out = StringIO()
    call_command("seed_assessments_demo", stdout=out)
    assert counts() == before
    assert re.search("already loaded|已载入", out.getvalue())
