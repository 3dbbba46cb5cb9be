"""The XLSX export of a round's results: aggregates only — the ranking,
the dimension scores and the question figures where enough units answered
— exactly the figures of the close, and nothing where too few answered."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessments.models import QuestionResult
from tests.assessments.helpers import default_questionnaire
from tests.assessments.review_helpers import scene

pytestmark = pytest.mark.django_db


def workbook(client, the_scene):
    client.force_login(the_scene.organizer)
    response = client.get(reverse("round_results_export", args=[the_scene.round.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    return load_workbook(BytesIO(response.content), read_only=True)


def rows(sheet):
    header, *body = list(sheet.iter_rows(values_only=True))
    # Read-only sheets leave out the empty cells at the end of a row.
    width = len(header)
    return [
        dict(zip(header, (*row, *[None] * (width - len(row))), strict=True))
        for row in body
    ]


def test_the_export_holds_the_ranking_and_dimension_scores_of_the_close(client):
    the_scene = scene()
    book = workbook(client, the_scene)
    assert book.sheetnames == ["排名", "维度", "题目"]
    ranking = {row["部门"]: row for row in rows(book["排名"])}
    assert set(ranking) == {d.name for d in the_scene.place.departments}
    for department in (the_scene.good, the_scene.weak):
        stored = the_scene.result(department)
        row = ranking[department.name]
        assert row["总分"] == round(stored.total, 2)
        assert row["名次"] == stored.rank_overall
        assert row["同类名次"] == stored.rank_in_family
        assert (row["社区已答"], row["社区应答"]) == (4, 4)
    dimensions = {row["部门"]: row for row in rows(book["维度"])}
    good = the_scene.result(the_scene.good)
    for dimension in default_questionnaire().dimensions.all():
        assert dimensions[the_scene.good.name][f"{dimension.name}（社区）"] == round(
            good.dimensions[dimension.code]["community"], 2
        )


def test_a_department_with_too_few_answers_has_no_number_in_the_export(client):
    the_scene = scene()
    book = workbook(client, the_scene)
    [thin] = [r for r in rows(book["排名"]) if r["部门"] == the_scene.thin.name]
    assert thin["总分"] == "样本不足"
    for name in ("名次", "同类名次", "上轮总分", "变化"):
        assert thin[name] is None, name
    [dimensions] = [r for r in rows(book["维度"]) if r["部门"] == the_scene.thin.name]
    assert set(list(dimensions.values())[1:]) == {"样本不足"}
    questions = rows(book["题目"])
    assert all(row["部门"] != the_scene.thin.name for row in questions)


def test_the_question_sheet_holds_exactly_the_figures_where_enough_answered(client):
    the_scene = scene()
    book = workbook(client, the_scene)
    questions = rows(book["题目"])
    stored = QuestionResult.objects.filter(
        round=the_scene.round, answered__gte=the_scene.round.min_responses
    )
    assert len(questions) == stored.count() > 0
    by_key = {(r["部门"], r["题目"]): r for r in questions}
    for figures in stored.select_related("department", "question"):
        row = by_key[(figures.department.name, figures.question.text)]
        assert row["作答单位数"] == figures.answered
        assert row["平均作答"] == (
            round(figures.mean, 2) if figures.mean is not None else None
        )
        assert row["得分（0–100）"] == (
            round(figures.score, 2) if figures.score is not None else None
        )
    # Aggregates only: no cell anywhere names a unit.
    cells = {
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
    }
    for user in the_scene.place.operators:
        assert user.region.name not in cells
    header = next(book["题目"].iter_rows(values_only=True))
    assert header == (
        "部门",
        "评价主体",
        "维度",
        "题目",
        "作答单位数",
        "平均作答",
        "得分（0–100）",
    )
