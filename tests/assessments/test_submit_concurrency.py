"""One unit's evaluation of one department sent twice at the same moment
(a double tap, two tabs, two colleagues): exactly one response is stored and
the other submit is told the evaluation was already sent. Each thread stands
for one request, with its own database connection and committed data.

On PostgreSQL the second transaction's conditional UPDATE of the
participation waits for the first and then finds it answered; on SQLite the
IMMEDIATE transactions run one after the other."""

import threading

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections

from assessments.models import Answer, Comment, Participation, Response
from assessments.services import (
    ERROR_ALREADY_ANSWERED,
    EvaluationError,
    evaluation_submit,
)
from tests.assessments.helpers import answers, district, round_opened

# Committed data, visible to every thread; the database is emptied after each
# test and what the migrations loaded (the default questionnaire, the site)
# is put back.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
UNITS = 8


@pytest.fixture(scope="module", autouse=True)
def migrated_rows_put_back(django_db_blocker):
    """A transactional test ends by emptying every table, and the next one
    puts what the migrations loaded back before it starts. After the last
    one, put it back too: under pytest-xdist, tests that expect those rows
    (the default questionnaire, content types, Wagtail's site) may run after
    this module in the same process."""
    yield
    with django_db_blocker.unblock():
        connection = connections["default"]
        connection.creation.deserialize_db_from_string(
            connection._test_serialized_contents
        )
        ContentType.objects.clear_cache()


def race(calls):
    """Run each call in a thread of its own, all let go at once; return
    (results, errors) in the order of ``calls``."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def run(index, call):
        try:
            start.wait()
            results[index] = call()
        except Exception as error:
            errors[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, call))
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results, errors


def submit(user, evaluation_round, department, level):
    return lambda: evaluation_submit(
        user=user,
        evaluation_round=evaluation_round,
        department=department,
        answers=answers(level, suggestions=f"意见 {level}"),
    )


def two_submits_of_each_unit_at_once():
    place = district(streets=2, communities=UNITS // 2, departments=1)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    calls = [
        submit(user, evaluation_round, department, level)
        for user in place.operators
        for level in (2, 4)
    ]
    _results, errors = race(calls)
    return place, evaluation_round, department, errors


def assert_one_response_per_unit(place, evaluation_round, department, errors):
    # Of each unit's two submits, one went through and the other was told.
    for first, second in zip(errors[::2], errors[1::2], strict=True):
        refused = [error for error in (first, second) if error is not None]
        assert len(refused) == 1, (first, second)
        assert isinstance(refused[0], EvaluationError)
        assert str(refused[0]) == str(ERROR_ALREADY_ANSWERED)
    assert Response.objects.filter(round=evaluation_round).count() == UNITS
    assert Comment.objects.filter(round=evaluation_round).count() == UNITS
    # Each response is whole, one submit's answers and none of the other's:
    # only the low one (2) answered why problems stayed unsolved.
    for response in Response.objects.filter(round=evaluation_round):
        given = dict(
            Answer.objects.filter(response=response).values_list(
                "question__code", "value"
            )
        )
        assert given["recommend"] in (2, 4)
        assert ("unsolved_why" in given) == (given["recommend"] == 2)
    assert (
        Participation.objects.filter(
            round=evaluation_round, department=department, answered_on__isnull=True
        ).count()
        == 0
    )


@pytest.mark.skipif(not ON_POSTGRESQL, reason="needs PostgreSQL (DATABASE_URL)")
def test_two_submits_at_once_on_postgresql_store_one_response():
    place, evaluation_round, department, errors = two_submits_of_each_unit_at_once()
    assert_one_response_per_unit(place, evaluation_round, department, errors)


@pytest.mark.skipif(ON_POSTGRESQL, reason="the SQLite variant")
def test_two_submits_at_once_on_sqlite_store_one_response():
    place, evaluation_round, department, errors = two_submits_of_each_unit_at_once()
    assert_one_response_per_unit(place, evaluation_round, department, errors)
