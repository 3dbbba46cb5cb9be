"""Results as their readers see them: the organization department's ranking,
heatmap and drill-down, the department's own results once published — the
figures those of the close, no number where too few units answered, and
nothing of another department or of an unpublished round."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import scoring
from assessments.models import Comment, CommentState, QuestionResult
from assessments.services import comment_review
from tests.assessments.helpers import (
    answer_all,
    default_questionnaire,
    district,
    round_opened,
)
from tests.assessments.review_helpers import close, get, publish, result_url, scene

pytestmark = pytest.mark.django_db


def comment(the_scene, department, text, state=CommentState.PENDING, released=""):
    """A comment as a unit's answer stores it (no unit, no time)."""
    stored = Comment.objects.create(
        round=the_scene.round,
        department=department,
        question=default_questionnaire().questions.get(code="suggestions"),
        text=text,
    )
    if state != CommentState.PENDING:
        comment_review(
            comment=stored,
            user=the_scene.organizer,
            state=state,
            released_text=released,
        )
    return stored


def figures_in(text: str) -> set[str]:
    """The decimal figures a page writes (scores and means have decimals)."""
    return set(re.findall(r"\d+\.\d+", text))


# Who reaches the pages ---------------------------------------------------------


def test_each_results_page_answers_each_role_as_it_should(client):
    the_scene = scene()
    pk = the_scene.round.pk
    closed = {
        "organizer": 200,
        "other district's organizer": 404,
        "department evaluated": 404,
        "other department": 404,
        "department not evaluated": 404,
        "community": 404,
        "street office": 404,
        "anonymous": 302,
    }
    pages = [
        reverse("round_results", args=[pk]),
        reverse("round_results_export", args=[pk]),
        result_url(the_scene, the_scene.good),
    ]
    for name, user in the_scene.users().items():
        for url in pages:
            status = get(client, user, url).status_code
            assert status == closed[name], f"{name} on {url}: {status}"
    publish(the_scene)
    # Published: the department reads its own result, and no one else's.
    staff = the_scene.staff(the_scene.good)
    assert get(client, staff, result_url(the_scene, the_scene.good)).status_code == 200
    assert get(client, staff, result_url(the_scene, the_scene.weak)).status_code == 404
    assert get(client, staff, reverse("round_results", args=[pk])).status_code == 404
    for name in ("community", "street office", "other district's organizer"):
        user = the_scene.users()[name]
        status = get(client, user, result_url(the_scene, the_scene.good)).status_code
        assert status == 404, name


def test_my_results_lists_published_rounds_for_departments_only(client):
    the_scene = scene()
    staff = the_scene.staff(the_scene.good)
    url = reverse("evaluation_results_mine")
    response = get(client, staff, url)
    assert response.status_code == 200
    assert response.context["results"] == []
    publish(the_scene)
    response = get(client, staff, url)
    [result] = response.context["results"]
    assert result.department == the_scene.good
    assert f"{result.total:.1f}" in response.text
    assert the_scene.weak.name not in response.text
    assert get(client, the_scene.organizer, url).status_code == 302
    assert get(client, the_scene.place.operators[0], url).status_code == 403
    assert get(client, None, url).status_code == 302


def test_an_unknown_round_or_department_is_a_404(client):
    the_scene = scene()
    client.force_login(the_scene.organizer)
    for url in (
        reverse("round_results", args=[the_scene.round.pk + 99]),
        reverse("department_result", args=[the_scene.round.pk, 999999]),
        reverse(
            "department_result",
            args=[the_scene.round.pk, the_scene.bystander.department_id],
        ),
    ):
        assert client.get(url).status_code == 404


def test_an_open_round_has_no_results_page_yet(client):
    place = district(streets=1, communities=1, departments=1)
    evaluation_round = round_opened(place)
    client.force_login(place.organizer)
    response = client.get(reverse("round_results", args=[evaluation_round.pk]))
    assert response.status_code == 302
    url = reverse(
        "department_result", args=[evaluation_round.pk, place.departments[0].pk]
    )
    assert client.get(url).status_code == 404


# The figures ------------------------------------------------------------------


def test_the_ranking_and_heatmap_show_the_figures_of_the_close(client):
    the_scene = scene(departments=4)
    client.force_login(the_scene.organizer)
    response = client.get(reverse("round_results", args=[the_scene.round.pk]))
    rows = response.context["rows"]
    # Best first; the department with too few answers last, unranked.
    assert rows[0].result.department == the_scene.good
    assert rows[-1].result.department == the_scene.thin
    dimensions = list(default_questionnaire().dimensions.all())
    for row in rows:
        stored = the_scene.result(row.result.department)
        assert row.result.total == stored.total
        assert [cell.score for cell in row.cells] == [
            stored.dimensions.get(d.code, {}).get(scoring.COMPOSITE) for d in dimensions
        ]
    good = the_scene.result(the_scene.good)
    text = response.text
    assert f"{good.total:.1f}" in text
    for code, scores in good.dimensions.items():
        assert f"{scores[scoring.COMPOSITE]:.1f}" in text, code
    # The weak department falls below the threshold: marked for rectification.
    assert "ranking-table__below" in text
    # Every heat cell writes its number: colour is never the only sign.
    cells = re.findall(r'<td class="heat num"[^>]*>([^<]*)</td>', text)
    assert cells and all(re.fullmatch(r"\d+\.\d", c) for c in cells)
    assert "<caption" in text and 'role="img"' in text


def test_the_ranking_by_family_ranks_peers_among_themselves(client):
    the_scene = scene(departments=4)
    client.force_login(the_scene.organizer)
    response = client.get(reverse("round_results", args=[the_scene.round.pk]))
    families = {group.name: group.rows for group in response.context["families"]}
    assert set(families) == {"民政", "卫健"}
    for rows in families.values():
        ranks = [row.result.rank_in_family for row in rows if row.result.total]
        assert ranks == sorted(ranks) and ranks[0] == 1


def test_a_department_with_too_few_answers_shows_no_figure_anywhere(client):
    the_scene = scene()
    thin = the_scene.result(the_scene.thin)
    assert thin.total is None
    publish(the_scene)
    staff = the_scene.staff(the_scene.thin)
    for user in (the_scene.organizer, staff):
        response = get(client, user, result_url(the_scene, the_scene.thin))
        text = response.text
        assert "样本不足" in text
        # No score, mean or share: above the formula's weights, the page
        # writes no decimal figure at all.
        figures = text.split('id="formula-title"')[0]
        assert figures_in(figures) == set(), figures_in(figures)
        assert "同类名次" not in figures and "/ 共" not in figures
        assert response.context["dimension_chart"] is None
        assert all(
            figures.thin
            for block in response.context["blocks"]
            for line in block.questions
            for figures in line.classes
        )
    # Nothing was stored to show either.
    assert not QuestionResult.objects.filter(
        round=the_scene.round, department=the_scene.thin, mean__isnull=False
    ).exists()
    client.force_login(the_scene.organizer)
    results = client.get(reverse("round_results", args=[the_scene.round.pk]))
    [row] = [
        r for r in results.context["rows"] if r.result.department == the_scene.thin
    ]
    assert all(cell.score is None for cell in row.cells)


def test_the_drill_down_shows_each_question_with_its_stored_figures(client):
    the_scene = scene()
    client.force_login(the_scene.organizer)
    response = client.get(result_url(the_scene, the_scene.good))
    stored = {
        q.question.code: q
        for q in QuestionResult.objects.filter(
            round=the_scene.round, department=the_scene.good
        ).select_related("question")
    }
    lines = {
        line.text: line.classes[0]
        for block in response.context["blocks"]
        for line in block.questions
    }
    meetings = stored["meetings_count"]
    shown = lines[meetings.question.text]
    assert shown.figures.pk == meetings.pk
    assert shown.mean == ("平均", f"{meetings.mean:.2f}")
    assert sum(bar.count for bar in shown.bars) == meetings.answered
    rankings = stored["rankings"]
    assert lines[rankings.question.text].mean == ("答“是”", f"{rankings.mean:.0%}")
    # A scale names its ends.
    scale = lines[stored["meetings_needed"].question.text]
    assert scale.bars[0].label.startswith("1（")
    text = response.text
    assert f"{the_scene.result(the_scene.good).total:.1f}" in text
    assert "分数是怎样算出来的" in text
    assert scoring.FORMULA_VERSION in text


def test_the_explanation_states_every_weight_stored_with_the_result(client):
    the_scene = scene()
    client.force_login(the_scene.organizer)
    response = client.get(result_url(the_scene, the_scene.good))
    explanation = response.context["explanation"]
    weights = the_scene.round.result.weights
    assert {row.name: row.weight for row in explanation["dimensions"]} == {
        d.name: weights["dimensions"][d.code]
        for d in default_questionnaire().dimensions.all()
    }
    assert sum(row.share for row in explanation["dimensions"]) == pytest.approx(1)
    scored = [row for _name, rows in explanation["questions"] for row in rows]
    assert len(scored) == len(weights["questions"])


def test_the_trend_follows_the_department_over_published_rounds(client):
    the_scene = scene()
    publish(the_scene)
    place = the_scene.place
    second = round_opened(
        place, name="第二轮", opens_on=timezone.localdate() + timedelta(days=1)
    )
    for department in place.departments:
        answer_all(second, place.operators, department, level=3)
    close(second, place.organizer)
    client.force_login(the_scene.organizer)
    response = client.get(
        reverse("department_result", args=[second.pk, the_scene.good.pk])
    )
    trend = response.context["trend"]
    assert [r.round for r in trend] == [the_scene.round, second]
    assert response.context["trend_chart"] is not None
    # Down from 5 to 3: the change is shown with its arrow.
    assert "↓" in response.text


# Comments ---------------------------------------------------------------------


def test_a_department_reads_only_the_comments_released_as_released(client):
    the_scene = scene()
    good = the_scene.good
    comment(the_scene, good, "检查太多，请合并")
    comment(the_scene, good, "会议可以更少", CommentState.RELEASED)
    comment(
        the_scene, good, "我是一居王书记，报表太多", CommentState.REDACTED, "报表太多"
    )
    comment(the_scene, good, "不宜转交的话", CommentState.WITHHELD)
    comment(the_scene, the_scene.weak, "别的部门的意见", CommentState.RELEASED)
    publish(the_scene)
    response = get(client, the_scene.staff(good), result_url(the_scene, good))
    text = response.text
    assert "会议可以更少" in text and "报表太多" in text
    for hidden in ("检查太多", "王书记", "不宜转交", "别的部门的意见"):
        assert hidden not in text, hidden
    # The organizer sees them all, with the decisions.
    response = get(client, the_scene.organizer, result_url(the_scene, good))
    for shown in ("检查太多", "王书记", "不宜转交", "会议可以更少"):
        assert shown in response.text


# Queries ----------------------------------------------------------------------


def queries(client, user, url) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_results_pages_take_as_many_queries_for_many_departments_as_for_few(
    client,
):
    few = scene(departments=3)
    many = scene(departments=7)
    assert queries(
        client, few.organizer, reverse("round_results", args=[few.round.pk])
    ) == queries(client, many.organizer, reverse("round_results", args=[many.round.pk]))
    assert queries(client, few.organizer, result_url(few, few.good)) == queries(
        client, many.organizer, result_url(many, many.good)
    )
    assert queries(
        client, few.organizer, reverse("round_results_export", args=[few.round.pk])
    ) == queries(
        client, many.organizer, reverse("round_results_export", args=[many.round.pk])
    )
