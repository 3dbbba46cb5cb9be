"""Answering as a unit sees it: the evaluations it has to fill, the form of
each department with a widget per kind of question, display conditions that
the server applies too, problems shown at their questions with nothing
stored, one submit only, 404 for anything the unit was not asked, and no
answer ever shown again once it is sent."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from assessments.models import (
    Answer,
    Comment,
    Dimension,
    EvaluationRound,
    Participation,
    Question,
    Questionnaire,
    Response,
)
from assessments.services import evaluation_submit
from portal.models import Role
from tests.assessments.helpers import answers, district, round_opened
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def form_url(evaluation_round, department) -> str:
    return reverse("evaluation_form", args=[evaluation_round.pk, department.pk])


def form_data(values: dict, confirm: bool = True) -> dict:
    """What the form sends for ``values`` ({question code: value})."""
    data = {f"q-{code}": value for code, value in values.items()}
    if confirm:
        data["confirm"] = "on"
    return data


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def every_kind_questionnaire() -> Questionnaire:
    """A small questionnaire with one question of each kind and a condition."""
    questionnaire = Questionnaire.objects.create(title="每种题型", version=1)
    Dimension.objects.create(
        questionnaire=questionnaire, sort_order=0, code="all", name="全部题型"
    )
    rows = [
        ("scale", "likert", {}),
        ("yes", "yes_no", {}),
        ("count", "count", {"scale_max": 10, "direction": "lower"}),
        ("one", "single", {"options": "甲|100\n乙|50\n丙|0"}),
        ("several", "multiple", {"options": "红\n绿\n蓝", "weight": 0}),
        ("why", "text", {"weight": 0, "required": False}),
        (
            "followup",
            "likert",
            {"show_if": "yes", "show_if_values": "1"},
        ),
    ]
    for n, (code, kind, fields) in enumerate(rows):
        Question.objects.create(
            questionnaire=questionnaire,
            sort_order=n,
            dimension_code="all",
            code=code,
            text=f"题目 {code}",
            kind=kind,
            **{"weight": Decimal("1"), **fields},
        )
    return questionnaire


# The list ---------------------------------------------------------------------


def test_a_community_sees_its_rounds_with_deadline_progress_and_each_department(
    client,
):
    place = district(departments=3)
    evaluation_round = round_opened(place)
    user = place.operators[0]
    done, *left = place.departments
    evaluation_submit(
        user=user,
        evaluation_round=evaluation_round,
        department=done,
        answers=answers(4),
    )
    client.force_login(user)

    response = client.get(reverse("evaluation_list"))

    assert response.status_code == 200
    (pending,) = response.context["pending"]
    assert pending.round == evaluation_round
    assert pending.answered == 1
    assert len(pending.participations) == 3
    text = response.text
    assert evaluation_round.name in text
    assert "已评价 <strong>1</strong> / 3 个部门" in text
    assert f"{evaluation_round.closes_on:%Y-%m-%d} 前提交" in text
    assert "还剩 14 天" in text
    today = timezone.localdate()
    assert f"已提交（{today:%Y-%m-%d}）" in text
    assert form_url(evaluation_round, done) not in text
    for department in left:
        assert department.name in text
        assert form_url(evaluation_round, department) in text
    assert text.count("待评价") == 2


def test_the_list_states_the_anonymity_rules_at_the_top(client):
    place = district()
    round_opened(place)
    client.force_login(place.operators[0])

    text = client.get(reverse("evaluation_list")).text

    rules = text.index("您的评价是匿名的")
    assert rules < text.index("2026年第四季度")
    for words in (
        "与答案分开保存",
        "只能看到汇总分数和平均值",
        "样本不足",
        "经组织部审核",
        "草稿仅保存在本设备的浏览器中",
        "提交后不能修改",
    ):
        assert words in text
    assert "本轮每个部门至少有 3 家单位提交后才显示结果" in text


def test_the_list_says_so_when_there_is_nothing_to_evaluate(client):
    place = district()
    client.force_login(place.operators[0])

    response = client.get(reverse("evaluation_list"))

    assert response.status_code == 200
    assert "目前没有需要填写的评价" in response.text


def test_a_street_office_answers_in_a_seven_plus_three_round(client):
    place = district(departments=2)
    evaluation_round = round_opened(
        place, community_weight=Decimal("0.7"), street_weight=Decimal("0.3")
    )
    officer = place.street_officers[0]
    department = place.departments[0]
    client.force_login(officer)

    listed = client.get(reverse("evaluation_list"))
    sent = client.post(
        form_url(evaluation_round, department), form_data(answers(3)), follow=True
    )

    assert form_url(evaluation_round, department) in listed.text
    assert sent.redirect_chain == [(reverse("evaluation_list"), 302)]
    (response,) = Response.objects.all()
    assert response.respondent_class == "street"


@pytest.mark.parametrize(
    ("role", "link"),
    [
        (Role.ORGANIZATION_DEPARTMENT, "round_list"),
        (Role.ADMINISTRATOR, "round_list"),
        (Role.DEPARTMENT_PUBLISHER, "evaluation_results_mine"),
        (Role.DEPARTMENT_APPROVER, "evaluation_results_mine"),
    ],
)
def test_other_roles_are_told_where_their_part_is(client, role, link):
    place = district()
    round_opened(place)
    department = (
        place.organizer.department
        if role in (Role.ORGANIZATION_DEPARTMENT, Role.ADMINISTRATOR)
        else place.departments[0]
    )
    client.force_login(UserFactory(role=role, region=None, department=department))

    response = client.get(reverse("evaluation_list"))

    assert response.status_code == 200
    assert "这里由基层单位填写评价" in response.text
    assert f'href="{reverse(link)}"' in response.text
    assert "2026年第四季度" not in response.text


def test_visitors_who_are_not_signed_in_are_sent_to_sign_in(client):
    place = district()
    evaluation_round = round_opened(place)
    for url in (
        reverse("evaluation_list"),
        form_url(evaluation_round, place.departments[0]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# The form ---------------------------------------------------------------------


def test_the_form_groups_the_questions_by_dimension_with_a_widget_per_kind(client):
    place = district()
    evaluation_round = round_opened(place)
    client.force_login(place.operators[0])

    response = client.get(form_url(evaluation_round, place.departments[0]))

    assert response.status_code == 200
    text = response.text
    # The five dimensions in order, each with its description.
    positions = [
        text.index(f"</span> {name}</h2>")
        for name in (
            "文件会议精简",
            "督查检查考核",
            "台账资料",
            "吹哨报到响应",
            "赋能服务实效",
        )
    ]
    assert positions == sorted(positions)
    assert "部门下发文件、要求参会的数量和必要性" in text
    # A number, a scale with its ends, yes/no, one and several choices, text.
    assert re.search(
        r'<input type="number" name="q-meetings_count"[^>]* max="999"', text
    )
    assert text.count('name="q-meetings_needed"') == 5
    assert "非常不同意" in text and "非常同意" in text
    assert re.search(r'type="radio" name="q-rankings" value="1"', text)
    assert re.search(r'type="radio" name="q-rankings" value="0"', text)
    assert text.count('name="q-ledgers_trend"') == 4
    assert text.count('type="checkbox" name="q-unsolved_why"') == 5
    assert re.search(r'<textarea name="q-suggestions"[^>]* maxlength="2000"', text)
    # Required marks, help text, and the condition in words for pages
    # without the script.
    assert text.count('class="question__required"') >= 19
    assert "只计该部门召集或要求社区派人参加的会议。" in text
    assert "仅当第 14 题回答“1（非常不同意）”或“2（不同意）”时填写本题。" in text
    assert 'data-show-if="issues_solved" data-show-if-values="1,2"' in text
    # Drafts stay in the browser, and the page says so.
    assert "草稿仅保存在本设备的浏览器中" in text
    assert "data-draft-key=" in text
    assert "提交后不能修改" in text


def test_the_form_page_is_never_kept_by_the_browser(client):
    place = district()
    evaluation_round = round_opened(place)
    client.force_login(place.operators[0])

    response = client.get(form_url(evaluation_round, place.departments[0]))

    assert "no-store" in response["Cache-Control"]
    assert 'autocomplete="off"' in response.text


def test_every_kind_of_answer_round_trips(client):
    place = district(departments=1)
    evaluation_round = round_opened(place, questionnaire=every_kind_questionnaire())
    department = place.departments[0]
    client.force_login(place.operators[0])
    page = client.get(form_url(evaluation_round, department))
    assert page.status_code == 200

    response = client.post(
        form_url(evaluation_round, department),
        form_data(
            {
                "scale": "4",
                "yes": "1",
                "count": "7",
                "one": "2",
                "several": ["1", "3"],
                "why": "  会议太多，希望合并。  ",
                "followup": "2",
            }
        ),
    )

    assert response.status_code == 302
    stored = dict(
        Answer.objects.values_list("question__code", "value").order_by("question_id")
    )
    assert stored == {
        "scale": 4,
        "yes": 1,
        "count": 7,
        "one": 2,
        "several": 0b101,
        "followup": 2,
    }
    (comment,) = Comment.objects.all()
    assert comment.text == "会议太多，希望合并。"
    assert comment.department == department


def test_answers_to_questions_not_shown_are_dropped_by_the_server(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    client.force_login(place.operators[0])
    # Without the page's script every question shows and may be answered:
    # the problems were solved (5) and no service was used (0), so the
    # follow-up questions are not asked, and their answers are not kept.
    values = answers(
        4,
        issues_solved=5,
        unsolved_why=["1", "2"],
        services_used=0,
        services_useful=1,
        services_paperwork=1,
    )

    response = client.post(form_url(evaluation_round, department), form_data(values))

    assert response.status_code == 302
    codes = set(Answer.objects.values_list("question__code", flat=True))
    assert {"unsolved_why", "services_useful", "services_paperwork"}.isdisjoint(codes)
    assert {"issues_solved", "services_used", "recommend"} <= codes


def test_a_required_question_that_is_not_shown_need_not_be_answered(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    values = answers(4, services_used=0)
    del values["services_useful"], values["services_paperwork"]
    client.force_login(place.operators[0])

    response = client.post(
        form_url(evaluation_round, place.departments[0]), form_data(values)
    )

    assert response.status_code == 302
    assert Response.objects.count() == 1


def test_problems_are_shown_at_their_questions_and_nothing_is_stored(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    values = answers(4, meetings_count="1000", ledgers_trend="9")
    del values["rankings"]
    client.force_login(place.operators[0])

    response = client.post(form_url(evaluation_round, department), form_data(values))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["q-rankings"] == ["请回答此题。"]
    assert form.errors["q-meetings_count"] == ["请填写 0 到 999 之间的整数。"]
    assert "q-ledgers_trend" in form.errors
    text = response.text
    assert "评价未提交" in text
    assert '<a href="#question-rankings">第 7 题</a>：请回答此题。' in text
    # Nothing lost: what was typed is on the page again.
    assert 'name="q-meetings_count" id="id_q-meetings_count" value="1000"' in text
    assert re.search(r'name="q-meetings_needed" value="4"[^>]*checked', text)
    # Nothing stored.
    assert Response.objects.count() == 0
    assert Answer.objects.count() == 0
    assert not Participation.objects.filter(answered_on__isnull=False).exists()


def test_sending_needs_the_confirmation(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    client.force_login(place.operators[0])

    response = client.post(
        form_url(evaluation_round, place.departments[0]),
        form_data(answers(4), confirm=False),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["confirm"] == [
        "请勾选确认：评价提交后不能修改。"
    ]
    assert Response.objects.count() == 0


def test_a_sent_evaluation_goes_back_to_the_list_with_a_message(client):
    place = district(departments=2)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    client.force_login(place.operators[0])

    response = client.post(
        form_url(evaluation_round, department), form_data(answers(4)), follow=True
    )

    assert response.redirect_chain == [(reverse("evaluation_list"), 302)]
    assert message_texts(response) == [f"对{department.name}的评价已匿名提交，谢谢！"]
    assert Response.objects.count() == 1
    participation = Participation.objects.get(
        unit=place.operators[0].region, department=department
    )
    assert participation.answered_on == timezone.localdate()


def test_a_second_submit_is_refused_and_stores_nothing(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    url = form_url(evaluation_round, place.departments[0])
    client.force_login(place.operators[0])
    client.post(url, form_data(answers(4)), follow=True)

    again = client.post(url, form_data(answers(1)), follow=True)

    assert again.redirect_chain == [(reverse("evaluation_list"), 302)]
    assert message_texts(again) == ["您单位已经提交过对该部门的评价。"]
    assert Response.objects.count() == 1
    assert set(
        Answer.objects.filter(question__code="recommend").values_list(
            "value", flat=True
        )
    ) == {4}


def test_the_already_answered_error_of_the_service_reaches_the_list(
    client, monkeypatch
):
    # A submit that raced another (the page read the participation before the
    # other committed): the service refuses it, the unit is told why.
    place = district(departments=1)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    user = place.operators[0]
    client.force_login(user)
    from assessments import answer_views

    real = answer_views.participation_of

    def read_then_answered(**kwargs):
        participation = real(**kwargs)
        evaluation_submit(
            user=user,
            evaluation_round=evaluation_round,
            department=department,
            answers=answers(2),
        )
        return participation

    monkeypatch.setattr(answer_views, "participation_of", read_then_answered)

    response = client.post(
        form_url(evaluation_round, department), form_data(answers(5)), follow=True
    )

    assert response.redirect_chain == [(reverse("evaluation_list"), 302)]
    assert message_texts(response) == ["您单位已经提交过对该部门的评价。"]
    assert Response.objects.count() == 1


def test_a_round_past_its_last_day_takes_no_more_answers(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    yesterday = timezone.localdate() - timedelta(days=1)
    EvaluationRound.objects.filter(pk=evaluation_round.pk).update(
        opens_on=yesterday - timedelta(days=7), closes_on=yesterday
    )
    url = form_url(evaluation_round, place.departments[0])
    client.force_login(place.operators[0])

    shown = client.get(url, follow=True)
    sent = client.post(url, form_data(answers(4)), follow=True)
    listed = client.get(reverse("evaluation_list"))

    expected = [f"本轮评价已于 {yesterday:%Y-%m-%d} 截止。"]
    assert shown.redirect_chain == [(reverse("evaluation_list"), 302)]
    assert message_texts(shown) == expected
    assert message_texts(sent) == expected
    assert Response.objects.count() == 0
    assert "已截止" in listed.text
    assert url not in listed.text


# Scoping ------------------------------------------------------------------------


def test_a_unit_not_asked_gets_404(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    elsewhere = district()
    url = form_url(evaluation_round, place.departments[0])

    for user in (
        elsewhere.operators[0],
        elsewhere.street_officers[0],
        # Street offices are not asked when only communities weigh.
        place.street_officers[0],
        place.organizer,
        place.staff[place.departments[0].pk],
    ):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url, form_data(answers(4))).status_code == 404
    assert Response.objects.count() == 0


def test_a_round_or_department_that_is_not_the_units_is_404(client):
    place = district(departments=2)
    evaluation_round = round_opened(place, departments=place.departments[:1])
    other = district(departments=1)
    other_round = round_opened(other)
    client.force_login(place.operators[0])

    for round_id, department_id in (
        # A department of the district the round does not evaluate.
        (evaluation_round.pk, place.departments[1].pk),
        # Another district's round and department.
        (other_round.pk, other.departments[0].pk),
        (evaluation_round.pk, other.departments[0].pk),
        # Ids that do not exist.
        (evaluation_round.pk + 1000, place.departments[0].pk),
        (evaluation_round.pk, 999999),
    ):
        url = reverse("evaluation_form", args=[round_id, department_id])
        assert client.get(url).status_code == 404
        assert client.post(url, form_data(answers(4))).status_code == 404


def test_a_draft_round_is_not_listed_and_its_form_is_404(client):
    from tests.assessments.helpers import round_draft

    place = district(departments=1)
    evaluation_round = round_draft(place)
    client.force_login(place.operators[0])

    listed = client.get(reverse("evaluation_list"))
    form = client.get(form_url(evaluation_round, place.departments[0]))

    assert evaluation_round.name not in listed.text
    assert form.status_code == 404


# Nothing shown again ------------------------------------------------------------


def test_the_sent_page_shows_no_form_and_no_answer(client):
    place = district(departments=2)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    url = form_url(evaluation_round, department)
    client.force_login(place.operators[0])
    client.post(url, form_data(answers(2, meetings_count="37", suggestions="台账太多")))

    response = client.get(url)

    assert response.status_code == 200
    assert response.templates[0].name == ("assessments/evaluation_done.html")
    text = response.text
    assert "<form" not in text.split("<main", 1)[1].split("</main>")[0]
    assert "已提交" in text
    assert "不能修改" in text
    assert "台账太多" not in text
    assert 'value="' not in text.split("<main", 1)[1].split("</main>")[0]
    # It points to the next department still to evaluate.
    assert form_url(evaluation_round, place.departments[1]) in text


def test_no_answer_of_a_sent_form_appears_on_any_page_the_unit_reaches(client):
    place = district(departments=2)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    user = place.operators[0]
    comment = "文件会议减负建议独一无二的句子"
    client.force_login(user)
    sent = client.post(
        form_url(evaluation_round, department),
        form_data(
            answers(2, meetings_count="731", apps_count="613", suggestions=comment)
        ),
        follow=True,
    )
    assert sent.status_code == 200

    pages = [sent] + [
        client.get(url, follow=True)
        for url in (
            reverse("evaluation_list"),
            form_url(evaluation_round, department),
            form_url(evaluation_round, place.departments[1]),
            reverse("workbench"),
            reverse("inbox"),
            reverse("my_unit"),
            "/",
        )
    ]

    for page in pages:
        assert page.status_code == 200
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page.text)
        assert comment not in text
        for number in ("731", "613"):
            assert not re.search(rf"(?<![\w-]){number}(?![\w-])", text)


def test_the_pages_speak_chinese(client):
    place = district(departments=1)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    client.force_login(place.operators[0])

    for url in (reverse("evaluation_list"), form_url(evaluation_round, department)):
        text = client.get(url).text
        assert CHINESE.search(text)
        for english in (
            "Evaluations to fill",
            "Send the evaluation",
            "Strongly agree",
            "Your evaluations are anonymous",
            "days left",
        ):
            assert english not in text
