"""Running a round: who is asked, answering once, results that show only
where enough units answered, ranks, the change since last time, publishing
and the rectification items it makes."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone, translation

from assessments.models import (
    Comment,
    CommentState,
    DepartmentResult,
    Participation,
    QuestionResult,
    Rectification,
    RespondentClass,
    Response,
    RoundState,
)
from assessments.questionnaires import AnswerError
from assessments.services import (
    ERROR_ALREADY_ANSWERED,
    ERROR_DATES,
    ERROR_FOREIGN_DEPARTMENT,
    ERROR_FROZEN,
    ERROR_MIN_RESPONSES,
    ERROR_NO_RESULTS,
    ERROR_STATE,
    ERROR_WEIGHTS,
    EvaluationError,
    comment_review,
    evaluation_submit,
    questionnaire_check_editable,
    questionnaire_new_version,
    round_close,
    round_open,
    round_publish,
    round_save,
    rounds_advance,
)
from portal.models import Notification, Role
from tests.assessments.helpers import (
    answer_all,
    answers,
    default_questionnaire,
    district,
    round_draft,
    round_opened,
)
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    """The services' messages are asserted as written, in English; the
    portal says them in Chinese by default."""
    with translation.override("en"):
        yield


def close(evaluation_round, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        round_close(evaluation_round=evaluation_round, user=user)
    evaluation_round.refresh_from_db()


def test_only_the_organization_department_makes_rounds_of_its_own_area():
    place = district()
    with pytest.raises(PermissionDenied):
        round_save(
            user=place.operators[0],
            departments=place.departments,
            name="x",
            questionnaire=default_questionnaire(),
            period_start=date(2026, 10, 1),
            period_end=date(2026, 12, 31),
            opens_on=date(2026, 12, 1),
            closes_on=date(2026, 12, 20),
        )
    elsewhere = DepartmentFactory()
    with pytest.raises(EvaluationError, match=re.escape(str(ERROR_FOREIGN_DEPARTMENT))):
        round_draft(place, departments=[elsewhere])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"community_weight": Decimal("0.7"), "street_weight": Decimal("0.2")},
            lambda: str(ERROR_WEIGHTS),
        ),
        ({"min_responses": 2}, lambda: ERROR_MIN_RESPONSES % {"count": 3}),
        ({"closes_on": date(2020, 1, 1)}, lambda: str(ERROR_DATES)),
    ],
    ids=["weights", "k", "dates"],
)
def test_unsound_settings_are_refused(fields, message):
    # The message is read in the test's language, not the one at collection.
    with pytest.raises(EvaluationError, match=re.escape(message())):
        round_draft(district(), **fields)


def test_opening_asks_every_community_about_every_department(
    django_capture_on_commit_callbacks,
):
    place = district(streets=2, communities=4, departments=3)
    evaluation_round = round_draft(place)
    with django_capture_on_commit_callbacks(execute=True):
        asked = round_open(evaluation_round=evaluation_round, user=place.organizer)
    assert asked == 8 * 3 == Participation.objects.count()
    assert default_questionnaire().is_frozen
    operator = place.operators[0]
    assert Notification.objects.filter(recipient=operator).count() == 1
    assert not Notification.objects.filter(recipient=place.street_officers[0]).exists()


def test_seven_plus_three_asks_the_street_offices_too():
    place = district(streets=2, communities=3, departments=2)
    round_opened(place, community_weight=Decimal("0.7"), street_weight=Decimal("0.3"))
    classes = Participation.objects.values_list("respondent_class", flat=True)
    assert sorted(set(classes)) == [RespondentClass.COMMUNITY, RespondentClass.STREET]
    assert Participation.objects.filter(respondent_class="street").count() == 2 * 2


def test_a_unit_answers_once_and_the_answer_says_nothing_of_who_sent_it():
    place = district()
    evaluation_round = round_opened(place)
    department = place.departments[0]
    user = place.operators[0]
    evaluation_submit(
        user=user,
        evaluation_round=evaluation_round,
        department=department,
        answers=answers(),
    )
    with pytest.raises(EvaluationError, match=re.escape(str(ERROR_ALREADY_ANSWERED))):
        evaluation_submit(
            user=UserFactory(role=Role.COMMUNITY_OPERATOR, region=user.region),
            evaluation_round=evaluation_round,
            department=department,
            answers=answers(),
        )
    participation = Participation.objects.get(unit=user.region, department=department)
    assert participation.answered_on == timezone.localdate()
    response = Response.objects.get()
    assert response.answers.count() == 19
    # The response has no unit, no user and no time of its own.
    columns = {f.name for f in Response._meta.concrete_fields}
    assert columns == {"id", "round", "department", "respondent_class"}


def test_a_unit_not_asked_cannot_answer():
    place = district()
    evaluation_round = round_opened(place, departments=place.departments[:1])
    with pytest.raises(PermissionDenied):
        evaluation_submit(
            user=place.operators[0],
            evaluation_round=evaluation_round,
            department=place.departments[1],
            answers=answers(),
        )


def test_answers_that_do_not_suit_their_questions_are_refused_and_nothing_is_kept():
    place = district()
    evaluation_round = round_opened(place)
    bad = answers(meetings_needed=7, rankings="也许", apps_count=-1)
    del bad["issues_solved"]
    with pytest.raises(AnswerError) as refused:
        evaluation_submit(
            user=place.operators[0],
            evaluation_round=evaluation_round,
            department=place.departments[0],
            answers=bad,
        )
    assert set(refused.value.problems) == {
        "meetings_needed",
        "rankings",
        "apps_count",
        "issues_solved",
    }
    assert not Response.objects.exists()
    assert not Participation.objects.filter(answered_on__isnull=False).exists()


def test_a_question_shown_only_after_some_answers_is_asked_only_then():
    place = district()
    evaluation_round = round_opened(place)
    # Services not used: the two questions about them are not asked, and an
    # answer sent to one anyway is dropped.
    sent = answers(services_used=0, services_paperwork=1)
    del sent["services_useful"]
    evaluation_submit(
        user=place.operators[0],
        evaluation_round=evaluation_round,
        department=place.departments[0],
        answers=sent,
    )
    codes = set(Response.objects.get().answers.values_list("question__code", flat=True))
    assert "services_useful" not in codes and "services_paperwork" not in codes


def test_results_show_only_where_enough_units_answered(
    django_capture_on_commit_callbacks,
):
    place = district(streets=2, communities=3, departments=2)
    evaluation_round = round_opened(place)
    enough, few = place.departments
    answer_all(evaluation_round, place.operators[:4], enough, level=4)
    answer_all(evaluation_round, place.operators[:2], few, level=1)
    close(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    good = DepartmentResult.objects.get(department=enough)
    assert good.answered == {"community": 4} and good.asked == {"community": 6}
    assert good.total == pytest.approx(75, abs=8)
    assert good.rank_overall == 1 and good.ranked_overall == 1
    thin = DepartmentResult.objects.get(department=few)
    assert thin.total is None and thin.dimensions == {} and thin.rank_overall is None
    assert thin.answered == {"community": 2}
    # Not a mean, a score or a distribution of the two answers anywhere.
    assert (
        not QuestionResult.objects.filter(department=few)
        .exclude(mean=None, score=None, distribution={})
        .exists()
    )


def test_departments_are_ranked_in_their_family_and_overall(
    django_capture_on_commit_callbacks,
):
    place = district(streets=1, communities=3, departments=4)
    evaluation_round = round_opened(place)
    for level, department in zip((5, 2, 4, 3), place.departments, strict=True):
        answer_all(evaluation_round, place.operators, department, level=level)
    close(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    results = {
        r.department_id: r
        for r in DepartmentResult.objects.filter(round=evaluation_round)
    }
    overall = [results[d.pk].rank_overall for d in place.departments]
    assert overall == [1, 4, 2, 3]
    # Families alternate: departments 0 and 2 are peers, as are 1 and 3.
    in_family = [results[d.pk].rank_in_family for d in place.departments]
    assert in_family == [1, 2, 2, 1]
    assert {results[d.pk].ranked_in_family for d in place.departments} == {2}


def test_publishing_makes_rectification_items_and_the_next_round_checks_them(
    django_capture_on_commit_callbacks,
):
    place = district(streets=1, communities=3, departments=2)
    first = round_opened(
        place,
        name="第三季度",
        opens_on=timezone.localdate() - timedelta(days=90),
        closes_on=timezone.localdate() + timedelta(days=1),
    )
    weak, strong = place.departments
    answer_all(first, place.operators, weak, level=1)
    answer_all(first, place.operators, strong, level=5)
    close(first, place.organizer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        round_publish(evaluation_round=first, user=place.organizer)
    item = Rectification.objects.get()
    assert item.department == weak and item.total < 60
    assert "meetings" in item.dimensions
    staff = place.staff[weak.pk]
    assert Notification.objects.filter(
        recipient=staff, title__contains="第三季度"
    ).exists()

    second = round_opened(place, name="第四季度")
    answer_all(second, place.operators, weak, level=4)
    answer_all(second, place.operators, strong, level=5)
    close(second, place.organizer, django_capture_on_commit_callbacks)
    result = DepartmentResult.objects.get(round=second, department=weak)
    assert result.previous_total == pytest.approx(item.total)
    assert result.change > 50
    with django_capture_on_commit_callbacks(execute=True):
        round_publish(evaluation_round=second, user=place.organizer)
    item.refresh_from_db()
    assert item.recheck_round == second and item.recheck_total == result.total


def test_results_are_published_only_once_computed(django_capture_on_commit_callbacks):
    place = district()
    evaluation_round = round_opened(place)
    round_close(evaluation_round=evaluation_round, user=place.organizer)
    with pytest.raises(EvaluationError, match=re.escape(str(ERROR_NO_RESULTS))):
        round_publish(evaluation_round=evaluation_round, user=place.organizer)
    with pytest.raises(EvaluationError, match=re.escape(str(ERROR_STATE))):
        round_open(evaluation_round=evaluation_round, user=place.organizer)
    history = evaluation_round.events.values_list("action", "from_state", "to_state")
    assert list(history) == [
        ("create", "", "draft"),
        ("open", "draft", "open"),
        ("close", "open", "closed"),
    ]


def test_a_frozen_questionnaire_cannot_change_and_a_new_version_copies_it():
    place = district()
    round_opened(place)
    questionnaire = default_questionnaire()
    with pytest.raises(EvaluationError, match=re.escape(str(ERROR_FROZEN))):
        questionnaire_check_editable(questionnaire)
    copy = questionnaire_new_version(questionnaire=questionnaire)
    assert (copy.version, copy.lineage, copy.is_frozen) == (
        2,
        questionnaire.lineage,
        False,
    )
    assert list(copy.questions.values_list("code", flat=True)) == list(
        questionnaire.questions.values_list("code", flat=True)
    )
    questionnaire_check_editable(copy)


def test_comments_wait_for_the_organization_department():
    place = district()
    evaluation_round = round_opened(place)
    evaluation_submit(
        user=place.operators[0],
        evaluation_round=evaluation_round,
        department=place.departments[0],
        answers=answers(suggestions="希望少开会，我是第一居委会的王书记"),
    )
    comment = Comment.objects.get()
    assert comment.state == CommentState.PENDING
    with pytest.raises(PermissionDenied):
        comment_review(
            comment=comment, user=place.staff[place.departments[0].pk], state="released"
        )
    comment_review(
        comment=comment,
        user=place.organizer,
        state=CommentState.REDACTED,
        released_text="希望少开会",
    )
    comment.refresh_from_db()
    assert (comment.state, comment.released_text) == (
        CommentState.REDACTED,
        "希望少开会",
    )


def test_the_schedule_opens_reminds_and_closes_rounds(
    django_capture_on_commit_callbacks,
):
    place = district()
    today = timezone.localdate()
    due = round_draft(place, name="到期开始", closes_on=today + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert rounds_advance(today=today) == {"opened": 1, "reminded": 1, "closed": 0}
    due.refresh_from_db()
    assert due.state == RoundState.OPEN and due.reminded_at is not None
    # Reminded once a day at most.
    with django_capture_on_commit_callbacks(execute=True):
        assert rounds_advance(today=today) == {"opened": 0, "reminded": 0, "closed": 0}
        assert rounds_advance(today=today + timedelta(days=3)) == {
            "opened": 0,
            "reminded": 0,
            "closed": 1,
        }
    due.refresh_from_db()
    assert due.state == RoundState.CLOSED and hasattr(due, "result")
