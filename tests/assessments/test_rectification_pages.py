"""Rectification items (整改) as the department and the organization
department work them: why, the plan, progress, the check by the next round,
and only the steps each side may take."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Rectification, RectificationState
from assessments.services import round_publish
from tests.assessments.helpers import answer_all, round_opened
from tests.assessments.review_helpers import close, get, publish, scene

pytestmark = pytest.mark.django_db


def published_item():
    """A published round whose weak department got an item."""
    the_scene = scene()
    publish(the_scene)
    item = Rectification.objects.get(round=the_scene.round)
    assert item.department == the_scene.weak
    return the_scene, item


def act(client, user, item, action, **data):
    client.force_login(user)
    return client.post(reverse("rectification_act", args=[item.pk, action]), data)


def test_each_rectification_page_answers_each_role_as_it_should(client):
    the_scene, item = published_item()
    detail = reverse("rectification_detail", args=[item.pk])
    listing = reverse("rectification_list")
    expected = {
        # name: (list, the item)
        "organizer": (200, 200),
        "other district's organizer": (200, 404),
        "department evaluated": (200, 404),
        "other department": (200, 200),  # the weak department: its own item
        "department not evaluated": (200, 404),
        "community": (403, 404),
        "street office": (403, 404),
        "anonymous": (302, 302),
    }
    for name, user in the_scene.users().items():
        for index, url in enumerate((listing, detail)):
            status = get(client, user, url).status_code
            assert status == expected[name][index], f"{name} on {url}: {status}"
    assert (
        get(
            client,
            the_scene.organizer,
            reverse("rectification_detail", args=[item.pk + 99]),
        ).status_code
        == 404
    )


def test_each_sees_only_the_items_it_may(client):
    the_scene, item = published_item()
    response = get(
        client, the_scene.staff(the_scene.good), reverse("rectification_list")
    )
    assert list(response.context["page_obj"]) == []
    response = get(
        client, the_scene.staff(the_scene.weak), reverse("rectification_list")
    )
    assert list(response.context["page_obj"]) == [item]
    response = get(client, the_scene.outsider, reverse("rectification_list"))
    assert list(response.context["page_obj"]) == []
    response = get(
        client,
        the_scene.organizer,
        reverse("rectification_list"),
    )
    assert list(response.context["page_obj"]) == [item]
    response = client.get(reverse("rectification_list"), {"state": "closed"})
    assert list(response.context["page_obj"]) == []


def test_the_page_says_why_with_the_dimensions_below_the_threshold(client):
    the_scene, item = published_item()
    response = get(
        client,
        the_scene.staff(the_scene.weak),
        reverse("rectification_detail", args=[item.pk]),
    )
    text = response.text
    assert f"{item.total:.1f}" in text and "60" in text
    assert "文件会议精简" in response.context["low_dimensions"]
    assert response.context["recheck"] == "pending"
    assert [form.transition.action for form in response.context["action_forms"]] == [
        "plan"
    ]


def test_the_department_plans_reports_and_the_organizer_accepts(client):
    the_scene, item = published_item()
    staff = the_scene.staff(the_scene.weak)
    due = timezone.localdate() + timedelta(days=30)
    # A plan without its text is refused and shown again.
    response = act(client, staff, item, "plan", **{"plan-plan": "", "plan-due_on": ""})
    assert response.status_code == 200
    assert response.context["action_forms"][0].errors
    act(
        client,
        staff,
        item,
        "plan",
        **{"plan-plan": "合并检查，取消两类报表", "plan-due_on": due.isoformat()},
    )
    item.refresh_from_db()
    assert (item.state, item.plan, item.due_on) == (
        RectificationState.UNDER_WAY,
        "合并检查，取消两类报表",
        due,
    )
    # The organizer cannot act for the department, nor the department for it.
    assert (
        act(
            client, the_scene.organizer, item, "report", **{"report-note": "x"}
        ).status_code
        == 403
    )
    act(client, staff, item, "progress", **{"progress-note": "已取消一类报表"})
    act(client, staff, item, "report", **{"report-note": "两类报表都已取消"})
    item.refresh_from_db()
    assert item.state == RectificationState.REPORTED
    assert act(client, staff, item, "close").status_code == 403
    # Sending back needs a reason.
    response = act(client, the_scene.organizer, item, "return", **{"return-note": ""})
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.state == RectificationState.REPORTED
    act(client, the_scene.organizer, item, "close")
    item.refresh_from_db()
    assert item.state == RectificationState.CLOSED
    response = client.get(reverse("rectification_detail", args=[item.pk]))
    history = [row.event.action for row in response.context["history"]]
    assert history == ["plan", "progress", "report", "close"]
    assert "两类报表都已取消" in response.text
    assert response.context["action_forms"] == []


def test_an_organizer_of_another_district_cannot_act(client):
    the_scene, item = published_item()
    response = act(client, the_scene.outsider, item, "close")
    assert response.status_code == 404
    response = act(
        client, the_scene.staff(the_scene.good), item, "plan", **{"plan-plan": "x"}
    )
    assert response.status_code == 404


def test_the_next_round_checks_the_total_against_the_threshold(client):
    the_scene, item = published_item()
    place = the_scene.place
    second = round_opened(
        place, name="复查轮", opens_on=timezone.localdate() + timedelta(days=1)
    )
    for department in place.departments:
        answer_all(second, place.operators, department, level=5)
    close(second, place.organizer)
    round_publish(evaluation_round=second, user=place.organizer)
    client.force_login(the_scene.organizer)
    response = client.get(reverse("rectification_detail", args=[item.pk]))
    assert response.context["recheck"] == "passed"
    assert "达标" in response.text and "复查轮" in response.text
    response = client.get(reverse("rectification_list"))
    [row] = [r for r in response.context["rows"] if r.item == item]
    assert row.recheck == "passed"
