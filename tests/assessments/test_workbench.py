"""Reverse evaluation on each role's workbench and in the navigation: what
waits for a unit, the organization department and a department."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import Comment, Rectification, RectificationState
from assessments.services import rectification_act
from tests.assessments.helpers import (
    answer_all,
    default_questionnaire,
    district,
    round_opened,
)
from tests.assessments.review_helpers import publish, scene

pytestmark = pytest.mark.django_db


def panels(client, user) -> dict:
    client.force_login(user)
    response = client.get(reverse("workbench"))
    assert response.status_code == 200
    return {
        str(panel.title): (panel, body) for panel, body in response.context["panels"]
    }


def nav(client, user) -> list[str]:
    client.force_login(user)
    response = client.get(reverse("workbench"))
    return [str(item["label"]) for item in response.context["nav_items"]]


def test_a_unit_sees_its_evaluations_to_answer_with_the_deadline(client):
    place = district(streets=1, communities=2, departments=2)
    evaluation_round = round_opened(place, name="第四季度测评")
    operator = place.operators[0]
    answer_all(evaluation_round, [operator], place.departments[0])
    panel, body = panels(client, operator)["待完成的反向评价"]
    [pending] = panel.context["rounds"]
    assert pending.round == evaluation_round and pending.answered == 1
    assert "第四季度测评" in body and "已评价 1 / 2 个部门" in body
    assert evaluation_round.closes_on.isoformat() in body
    assert reverse("evaluation_list") in body
    # A unit that was not asked has no such panel.
    other = district(streets=1, communities=1, departments=1)
    assert "待完成的反向评价" not in panels(client, other.operators[0])


def test_the_organizer_sees_completion_rounds_to_publish_and_what_to_review(client):
    the_scene = scene()
    place = the_scene.place
    Comment.objects.create(
        round=the_scene.round,
        department=the_scene.good,
        question=default_questionnaire().questions.get(code="suggestions"),
        text="意见",
    )
    open_round = round_opened(place, name="进行中的轮次")
    answer_all(open_round, place.operators[:2], the_scene.good)
    found = panels(client, the_scene.organizer)
    panel, body = found["测评轮次"]
    assert [r.name for r in panel.context["open_rounds"]] == ["进行中的轮次"]
    [opened] = panel.context["open_rounds"]
    assert (opened.answered, opened.asked) == (2, 4 * 3)
    assert [r.pk for r in panel.context["closed_rounds"]] == [the_scene.round.pk]
    assert reverse("round_results", args=[the_scene.round.pk]) in body
    panel, body = found["等待您处理"]
    assert [count for _round, count in panel.context["commented"]] == [1]
    assert reverse("round_comments", args=[the_scene.round.pk]) in body


def test_the_organizer_sees_rectifications_reported_done(client):
    the_scene = scene()
    publish(the_scene)
    item = Rectification.objects.get(round=the_scene.round)
    staff = the_scene.staff(the_scene.weak)
    rectification_act(rectification=item, user=staff, action="plan", plan="计划")
    rectification_act(rectification=item, user=staff, action="report", note="完成")
    panel, body = panels(client, the_scene.organizer)["等待您处理"]
    assert panel.context["reported"] == [item]
    assert reverse("rectification_detail", args=[item.pk]) in body


def test_a_department_sees_its_latest_published_result_and_open_items(client):
    the_scene = scene()
    staff = the_scene.staff(the_scene.weak)
    assert "基层反向评价" not in panels(client, staff)
    publish(the_scene)
    panel, body = panels(client, staff)["基层反向评价"]
    result = the_scene.result(the_scene.weak)
    assert panel.context["result"] == result
    assert f"{result.total:.1f}" in body
    [item] = panel.context["items"]
    assert item.state == RectificationState.OPEN
    assert reverse("rectification_detail", args=[item.pk]) in body
    # Another department sees its own result, and no item.
    panel, body = panels(client, the_scene.staff(the_scene.good))["基层反向评价"]
    assert panel.context["items"] == []
    assert panel.context["result"].department == the_scene.good


def test_each_role_finds_reverse_evaluation_in_the_navigation(client):
    the_scene = scene()
    assert "反向评价" in nav(client, the_scene.place.operators[0])
    assert "反向评价" in nav(client, the_scene.place.street_officers[0])
    assert "测评轮次" in nav(client, the_scene.organizer)
    assert "评价结果" in nav(client, the_scene.staff(the_scene.good))
    assert "测评轮次" not in nav(client, the_scene.staff(the_scene.good))


def workbench_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("workbench")).status_code == 200
    return len(captured)


def test_the_workbench_takes_as_many_queries_for_many_departments_as_for_few(client):
    few, many = scene(departments=3), scene(departments=7)
    for the_scene in (few, many):
        publish(the_scene)
        round_opened(the_scene.place, name="进行中")
    assert workbench_queries(client, few.organizer) == workbench_queries(
        client, many.organizer
    )
    assert workbench_queries(client, few.staff(few.weak)) == workbench_queries(
        client, many.staff(many.weak)
    )
