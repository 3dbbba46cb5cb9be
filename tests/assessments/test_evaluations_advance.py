"""evaluations_advance: the daily schedule opens the rounds whose day has come,
reminds the units of rounds about to close, closes the rounds past their last
day with their results, says what it did, and does nothing twice."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments.models import EvaluationRound, RoundState
from portal.models import Notification
from tests.assessments.helpers import answer_all, district, round_draft, round_opened

pytestmark = pytest.mark.django_db


def advance(django_capture_on_commit_callbacks) -> str:
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("evaluations_advance", stdout=out)
    return out.getvalue()


def test_the_daily_run_opens_reminds_and_closes_and_says_so(
    django_capture_on_commit_callbacks,
):
    place = district(streets=1, communities=3, departments=2)
    today = timezone.localdate()
    over = round_opened(place, name="上一轮")
    answer_all(over, place.operators, place.departments[0], level=4)
    # Its last day was yesterday.
    EvaluationRound.objects.filter(pk=over.pk).update(
        opens_on=today - timedelta(days=20), closes_on=today - timedelta(days=1)
    )
    due = round_draft(place, name="今天开始", closes_on=today + timedelta(days=2))

    output = advance(django_capture_on_commit_callbacks)

    assert re.findall(r"\d+", output) == ["1", "1", "1"], output
    over.refresh_from_db()
    due.refresh_from_db()
    assert over.state == RoundState.CLOSED and hasattr(over, "result")
    assert due.state == RoundState.OPEN and due.reminded_at is not None
    operator = place.operators[0]
    titles = Notification.objects.filter(recipient=operator).values_list(
        "title", flat=True
    )
    assert any("今天开始" in title for title in titles)


def test_a_second_run_on_the_same_day_does_nothing(
    django_capture_on_commit_callbacks,
):
    place = district(streets=1, communities=3, departments=1)
    round_draft(place, closes_on=timezone.localdate() + timedelta(days=2))
    advance(django_capture_on_commit_callbacks)
    notifications = Notification.objects.count()

    output = advance(django_capture_on_commit_callbacks)

    assert re.findall(r"\d+", output) == ["0", "0", "0"], output
    assert Notification.objects.count() == notifications
