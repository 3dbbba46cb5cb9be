"""The PDF reports: a department's report card and the round's bulletin are
real PDFs in Chinese with page numbers, show only aggregates and released
comments, and are downloaded only by those allowed, through their view."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from assessments import reports
from assessments.models import (
    Answer,
    Comment,
    CommentState,
    Participation,
    Rectification,
    Report,
    ReportState,
    Response,
    RoundState,
)
from assessments.questionnaires import answers_check
from assessments.reports import bulletin_pdf, card_pdf, report_for
from assessments.scoring import FORMULA_VERSION
from assessments.services import (
    comment_review,
    evaluation_submit,
    round_close,
    round_publish,
)
from portal.models import Role
from tests.assessments.helpers import answer_all, answers, district, round_opened
from tests.factories import OrganizationDepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, without the spaces PDF extraction puts
    between characters."""
    assert data.startswith(b"%PDF-")
    return [
        re.sub(r"\s+", "", page.extract_text())
        for page in PdfReader(BytesIO(data)).pages
    ]


def close(evaluation_round, user, capture):
    with capture(execute=True):
        round_close(evaluation_round=evaluation_round, user=user)
    evaluation_round.refresh_from_db()


def publish(evaluation_round, user, capture, *, bulletin=False):
    """Publish; the bulletin it asks for is made only if ``bulletin``."""
    with capture(execute=bulletin):
        round_publish(evaluation_round=evaluation_round, user=user)
    evaluation_round.refresh_from_db()


def answered_in_bulk(evaluation_round, department, units, level):
    """What ``evaluation_submit`` writes for each of ``units``, written at
    once (the bulletin test needs many departments)."""
    questions = list(evaluation_round.questionnaire.questions.all())
    checked = answers_check(questions, answers(level))
    for participation in Participation.objects.filter(
        round=evaluation_round, department=department, unit__in=units
    ):
        response = Response.objects.create(
            round=evaluation_round,
            department=department,
            respondent_class=participation.respondent_class,
        )
        Answer.objects.bulk_create(
            Answer(response=response, question_id=question_id, value=value)
            for question_id, value in checked.values.items()
        )
    Participation.objects.filter(
        round=evaluation_round, department=department, unit__in=units
    ).update(answered_on=timezone.localdate())


@pytest.fixture
def scene(django_capture_on_commit_callbacks):
    """A published round of three departments: the first answered well by
    every community, the second badly, the third by too few; the first has
    comments pending, released, redacted and withheld."""
    place = district(streets=1, communities=4, departments=3)
    evaluation_round = round_opened(place)
    good, bad, thin = place.departments
    texts = {
        "pending": "会议太多，还没审核的意见",
        "released": "吹哨后到场很及时，点赞",
        "redacted": "天山一居王书记说检查太多",
        "withheld": "不予公开的意见内容",
    }
    for user, text in zip(place.operators, texts.values(), strict=True):
        evaluation_submit(
            user=user,
            evaluation_round=evaluation_round,
            department=good,
            answers=answers(5, suggestions=text),
        )
    answer_all(evaluation_round, place.operators, bad, level=1)
    answer_all(evaluation_round, place.operators[:2], thin, level=3)
    close(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    comments = {c.text: c for c in Comment.objects.filter(round=evaluation_round)}
    comment_review(
        comment=comments[texts["released"]],
        user=place.organizer,
        state=CommentState.RELEASED,
    )
    comment_review(
        comment=comments[texts["redacted"]],
        user=place.organizer,
        state=CommentState.REDACTED,
        released_text="检查太多",
    )
    comment_review(
        comment=comments[texts["withheld"]],
        user=place.organizer,
        state=CommentState.WITHHELD,
    )
    publish(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    place.round = evaluation_round
    place.texts = texts
    return place


# What a card shows ---------------------------------------------------------------


def test_a_report_card_is_a_chinese_pdf_of_two_to_four_numbered_pages(scene):
    department = scene.departments[0]
    pages = pdf_pages(card_pdf(evaluation_round=scene.round, department=department))
    assert 2 <= len(pages) <= 4
    text = "".join(pages)
    for words in (department.name, scene.round.name, "总分", "各维度得分", "历次得分"):
        assert words in text
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页/共{len(pages)}页" in page
        assert f"{timezone.localdate():%Y年%-m月%-d日}生成" in page


def test_a_report_card_shows_ranks_and_says_how_the_score_was_computed(scene):
    result = scene.round.department_results.get(department=scene.departments[0])
    text = "".join(
        pdf_pages(
            card_pdf(evaluation_round=scene.round, department=scene.departments[0])
        )
    )
    assert f"{result.total:.1f}" in text
    assert f"{result.rank_overall}/{result.ranked_overall}" in text
    assert _("Question by question") in text and _("Units answered") in text
    assert _("How the score was computed") in text and FORMULA_VERSION in text
    # The dimension weights stored with the results: 文件会议精简 weighs 0.25.
    assert "0.25（25%）" in text


def test_only_released_comments_reach_a_report_card_and_redacted_ones_as_released(
    scene,
):
    text = "".join(
        pdf_pages(
            card_pdf(evaluation_round=scene.round, department=scene.departments[0])
        )
    )
    assert scene.texts["released"] in text
    assert "检查太多" in text
    assert scene.texts["redacted"] not in text
    assert scene.texts["pending"] not in text
    assert scene.texts["withheld"] not in text


def test_a_department_with_too_few_answers_gets_a_card_without_a_figure(scene):
    thin = scene.departments[2]
    text = "".join(pdf_pages(card_pdf(evaluation_round=scene.round, department=thin)))
    assert "样本不足" in text
    # No score, mean or rank anywhere before the formula's own numbers
    # (its version, the 0.01 of equal totals), and not how few answered.
    figures = text.split(_("How the score was computed"))[0]
    assert _("Question by question") not in figures and "各维度得分" not in figures
    assert not re.search(r"\d+\.\d", figures)
    assert "2/4" not in figures and "第1名" not in figures


def test_a_card_with_many_comments_still_fits_in_four_pages(
    django_capture_on_commit_callbacks,
):
    place = district(streets=2, communities=10, departments=1)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    for n, user in enumerate(place.operators):
        evaluation_submit(
            user=user,
            evaluation_round=evaluation_round,
            department=department,
            answers=answers(4, suggestions=f"第{n}条意见：" + "台账报表太多" * 40),
        )
    close(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    for comment in Comment.objects.all():
        comment_review(
            comment=comment, user=place.organizer, state=CommentState.RELEASED
        )
    publish(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    pages = pdf_pages(
        card_pdf(evaluation_round=evaluation_round, department=department)
    )
    assert len(pages) <= 4
    assert "另有8条意见" in "".join(pages)


def test_a_card_shows_its_rectification_item(scene):
    item = Rectification.objects.get(department=scene.departments[1])
    text = "".join(
        pdf_pages(
            card_pdf(evaluation_round=scene.round, department=scene.departments[1])
        )
    )
    assert "整改" in text and f"总分{item.total:.1f}分" in text


# The bulletin --------------------------------------------------------------------


def test_the_bulletin_ranks_sixty_departments_by_family_and_overall(
    django_capture_on_commit_callbacks,
):
    place = district(streets=1, communities=3, departments=60)
    evaluation_round = round_opened(place)
    units = [user.region for user in place.operators]
    for n, department in enumerate(place.departments):
        answered_in_bulk(evaluation_round, department, units, level=1 + n % 5)
    close(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    publish(evaluation_round, place.organizer, django_capture_on_commit_callbacks)
    pages = pdf_pages(bulletin_pdf(evaluation_round=evaluation_round))
    text = "".join(pages)
    for words in (
        "总排名",
        "系统内排名",
        "维度概览",
        "进步最大",
        "各维度最佳",
        "作答情况",
    ):
        assert words in text
    assert "民政" in text and "卫健" in text
    for department in place.departments:
        # Each department: in the ranking, its family's and the overview.
        assert text.count(department.name) >= 3
    assert f"第{len(pages)}页/共{len(pages)}页" in pages[-1]
    below = evaluation_round.department_results.filter(total__lt=60).count()
    assert (
        below and Rectification.objects.filter(round=evaluation_round).count() == below
    )
    assert "新增整改事项" in text


def test_publishing_a_round_makes_its_bulletin(
    scene, django_capture_on_commit_callbacks
):
    evaluation_round = round_opened(scene, name="下一轮")
    answer_all(evaluation_round, scene.operators, scene.departments[0], level=4)
    close(evaluation_round, scene.organizer, django_capture_on_commit_callbacks)
    publish(
        evaluation_round,
        scene.organizer,
        django_capture_on_commit_callbacks,
        bulletin=True,
    )
    report = Report.objects.get(round=evaluation_round, department=None)
    assert report.state == ReportState.READY and report.pages >= 1
    with report.file.open("rb") as stored:
        assert "下一轮" in "".join(pdf_pages(stored.read()))


def test_publishing_queues_the_bulletin_as_a_background_task(
    scene, settings, django_capture_on_commit_callbacks
):
    evaluation_round = round_opened(scene, name="下一轮")
    answer_all(evaluation_round, scene.operators, scene.departments[0], level=4)
    close(evaluation_round, scene.organizer, django_capture_on_commit_callbacks)
    settings.TASKS = DUMMY_TASKS
    publish(
        evaluation_round,
        scene.organizer,
        django_capture_on_commit_callbacks,
        bulletin=True,
    )
    report = Report.objects.get(round=evaluation_round, department=None)
    assert report.state == ReportState.PENDING and not report.file


# Who downloads what ---------------------------------------------------------------


def card_url(place, department):
    return reverse("department_card_pdf", args=[place.round.pk, department.pk])


def bulletin_url(place):
    return reverse("round_bulletin_pdf", args=[place.round.pk])


def downloaded_name(response) -> str:
    return unquote(response["Content-Disposition"].split("UTF-8''")[1])


def bulletin_made(place, capture):
    """The bulletin, made as publishing makes it (after the commit)."""
    with capture(execute=True):
        reports.report_request(round_id=place.round.pk)


def test_the_organization_department_downloads_the_bulletin_and_every_card(
    client, scene, django_capture_on_commit_callbacks
):
    bulletin_made(scene, django_capture_on_commit_callbacks)
    client.force_login(scene.organizer)
    response = client.get(bulletin_url(scene))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert downloaded_name(response) == f"{scene.round.name}反向评价通报.pdf"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    for department in scene.departments:
        assert client.get(card_url(scene, department)).status_code == 200


def test_a_department_downloads_its_own_card_once_published(
    client, scene, django_capture_on_commit_callbacks
):
    department = scene.departments[0]
    client.force_login(scene.staff[department.pk])
    response = client.get(card_url(scene, department))
    assert response.status_code == 200
    assert downloaded_name(response) == (
        f"{department.name}{scene.round.name}评价报告.pdf"
    )
    text = "".join(pdf_pages(b"".join(response.streaming_content)))
    assert department.name in text
    # Not another department's card, nor the bulletin.
    assert client.get(card_url(scene, scene.departments[1])).status_code == 404
    assert client.get(bulletin_url(scene)).status_code == 404
    # Nor its card of a round not published yet.
    closed = round_opened(scene, name="未发布")
    answer_all(closed, scene.operators, department, level=4)
    close(closed, scene.organizer, django_capture_on_commit_callbacks)
    assert closed.state == RoundState.CLOSED
    url = reverse("department_card_pdf", args=[closed.pk, department.pk])
    assert client.get(url).status_code == 404
    client.force_login(scene.organizer)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("who", ["community", "street", "other_organizer"])
def test_nobody_else_downloads_a_report(client, scene, who):
    if who == "community":
        user = scene.operators[0]
    elif who == "street":
        user = scene.street_officers[0]
    else:
        user = UserFactory(
            role=Role.ORGANIZATION_DEPARTMENT,
            region=None,
            department=OrganizationDepartmentFactory(),
        )
    client.force_login(user)
    assert client.get(bulletin_url(scene)).status_code == 404
    assert client.get(card_url(scene, scene.departments[0])).status_code == 404
    assert not Report.objects.exists()


def test_a_visitor_who_is_not_signed_in_is_asked_to(client, scene):
    response = client.get(card_url(scene, scene.departments[0]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_report_being_made_answers_202_with_a_page_that_refreshes(
    client, scene, settings
):
    settings.TASKS = DUMMY_TASKS
    client.force_login(scene.organizer)
    response = client.get(bulletin_url(scene))
    assert response.status_code == 202
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "正在生成，请稍后刷新" in page
    assert '<meta http-equiv="refresh" content="5">' in page
    assert Report.objects.get(department=None).state == ReportState.PENDING
    # A card another request is making: the same page, not a second PDF.
    department = scene.departments[0]
    Report.objects.create(round=scene.round, department=department, kind="card")
    assert client.get(card_url(scene, department)).status_code == 202


def test_a_report_lost_while_pending_is_made_again(client, scene):
    department = scene.departments[0]
    report = Report.objects.create(
        round=scene.round, department=department, kind="card"
    )
    Report.objects.filter(pk=report.pk).update(
        requested_at=timezone.now() - reports.PENDING_TIMEOUT - timedelta(minutes=1)
    )
    client.force_login(scene.organizer)
    assert client.get(card_url(scene, department)).status_code == 200


def test_a_report_that_failed_says_so_and_can_be_made_again(client, scene, monkeypatch):
    department = scene.departments[0]
    real = reports._card

    def broken(*args, **kwargs):
        raise RuntimeError("no font")

    monkeypatch.setattr(reports, "_card", broken)
    client.force_login(scene.organizer)
    response = client.get(card_url(scene, department))
    assert response.status_code == 500
    assert "报告生成失败" in response.content.decode()
    report = Report.objects.get(department=department)
    assert report.state == ReportState.FAILED and "no font" in report.error
    # Asking again shows the failure without trying again, until asked to.
    assert client.get(card_url(scene, department)).status_code == 500
    monkeypatch.setattr(reports, "_card", real)
    response = client.post(card_url(scene, department))
    assert response.status_code == 302
    assert client.get(card_url(scene, department)).status_code == 200


def test_a_card_is_made_again_after_a_comment_is_released(
    client, scene, django_capture_on_commit_callbacks
):
    department = scene.departments[0]
    client.force_login(scene.staff[department.pk])
    first = b"".join(client.get(card_url(scene, department)).streaming_content)
    assert scene.texts["pending"] not in "".join(pdf_pages(first))
    # Served again as stored, until something it shows changes.
    kept = Report.objects.get(department=department)
    client.get(card_url(scene, department))
    assert Report.objects.get(department=department).file.name == kept.file.name
    comment = Comment.objects.get(text=scene.texts["pending"])
    comment_review(comment=comment, user=scene.organizer, state=CommentState.RELEASED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(card_url(scene, department))
    again = b"".join(response.streaming_content)
    assert scene.texts["pending"] in "".join(pdf_pages(again))
    report = Report.objects.get(department=department)
    assert report.file.name != kept.file.name
    assert not report.file.storage.exists(kept.file.name)


def test_reports_are_in_chinese_for_a_reader_of_the_english_site(client, scene):
    department = scene.departments[0]
    client.force_login(scene.organizer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(card_url(scene, department))
    assert "总分" in "".join(pdf_pages(b"".join(response.streaming_content)))


# Where the files are --------------------------------------------------------------


def test_report_files_are_served_only_through_their_view(
    client, scene, django_capture_on_commit_callbacks
):
    bulletin_made(scene, django_capture_on_commit_callbacks)
    report = report_for(user=scene.organizer, evaluation_round=scene.round)
    assert report.state == ReportState.READY
    location = Path(report.file.storage.location).resolve()
    for public in (settings.MEDIA_ROOT, settings.STATIC_ROOT):
        assert not location.is_relative_to(Path(public).resolve())
    assert (location / report.file.name).exists()
    client.force_login(scene.organizer)
    for url in (
        settings.MEDIA_URL + report.file.name,
        settings.STATIC_URL + report.file.name,
        "/" + report.file.name,
    ):
        assert client.get(url).status_code == 404
    # The department it does not concern cannot have it by its number either.
    client.force_login(scene.staff[scene.departments[1].pk])
    assert client.get(bulletin_url(scene)).status_code == 404
