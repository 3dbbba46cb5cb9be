"""The anonymity sweep: every evaluation page, export and PDF, read by every
kind of user of a published round, never tells which unit answered what.

The URLs are taken from the evaluation URL configuration itself, so a page
added later is swept without anyone remembering to add it here."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.urls import URLPattern, URLResolver, reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments import urls as evaluation_urls
from assessments.models import Comment, CommentState, Rectification, Response
from assessments.services import comment_review, evaluation_submit
from tests.assessments.helpers import answers, round_opened
from tests.assessments.review_helpers import get, publish, scene

pytestmark = pytest.mark.django_db

# What each community wrote about the well-rated department, and what the
# organization department made of it. The withheld and pending texts, and the
# redacted one's original, name the unit that wrote them.
COMMENTS = (
    (CommentState.PENDING, "{unit}每周要报三张表，希望合并", ""),
    (CommentState.RELEASED, "材料比上季度少了很多，值得肯定", ""),
    (CommentState.REDACTED, "{unit}书记说会议仍然太多", "有社区反映会议仍然太多"),
    (CommentState.WITHHELD, "{unit}的网格员被临时抽调三次", ""),
)

# Pages that are about one unit's own evaluations, named by the unit itself.
OTHER_PAGES = ("/", "/workbench/", "/inbox/")


def evaluation_paths(the_scene) -> list[str]:
    """Every path of the evaluation URL configuration, once for every round,
    department and rectification item its arguments can name."""
    values = {
        "round_id": [the_scene.round.pk],
        "department_id": [d.pk for d in the_scene.place.departments],
        "rectification_id": list(Rectification.objects.values_list("pk", flat=True)),
        "action": ["view"],
    }
    paths = []
    for name, arguments in _named_patterns(evaluation_urls.urlpatterns):
        combinations = [{}]
        for argument in arguments:
            combinations = [
                {**combination, argument: value}
                for combination in combinations
                for value in values[argument]
            ]
        paths += [reverse(name, kwargs=kwargs) for kwargs in combinations]
    return paths


def _named_patterns(patterns) -> list[tuple[str, list[str]]]:
    found = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _named_patterns(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            found.append((pattern.name, list(pattern.pattern.converters)))
    return found


def readable_text(response) -> str:
    """What a reader of the response sees: the page, the PDF's text or the
    workbook's cells."""
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    )
    kind = response.get("Content-Type", "")
    if kind.startswith("application/pdf"):
        pages = PdfReader(BytesIO(content)).pages
        return re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))
    if "spreadsheetml" in kind:
        workbook = load_workbook(BytesIO(content), read_only=True)
        return "\n".join(
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    return content.decode()


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """A published round whose well-rated department got one comment of
    each fate, each written by a different community; its bulletin made."""
    the_scene = scene(communities=5, departments=3)
    communities = [user.region for user in the_scene.place.operators]
    evaluation_round = the_scene.round
    # The scene's round is closed; the comments arrive as answers would have.
    question = evaluation_round.questionnaire.questions.get(code="suggestions")
    for community, (state, text, released) in zip(communities, COMMENTS, strict=False):
        written = text.format(unit=community.name)
        comment = Comment.objects.create(
            round=evaluation_round,
            department=the_scene.good,
            question=question,
            text=written,
        )
        if state != CommentState.PENDING:
            comment_review(
                comment=comment,
                user=the_scene.organizer,
                state=state,
                released_text=released,
            )
    with django_capture_on_commit_callbacks(execute=True):
        publish(the_scene)
    return the_scene


def test_the_sweep_reaches_every_kind_of_page(published):
    paths = evaluation_paths(published)
    names = {name for name, _ in _named_patterns(evaluation_urls.urlpatterns)}
    assert {"department_card_pdf", "round_bulletin_pdf", "round_results_export"} <= (
        names
    )
    assert Rectification.objects.exists()
    assert len(paths) > len(names)


def test_no_page_export_or_pdf_tells_who_answered_what(client, published):
    community_names = [user.region.name for user in published.place.operators]
    hidden = [
        comment.text
        for comment in Comment.objects.filter(round=published.round)
        if comment.state != CommentState.RELEASED
    ]
    response_ids = [
        form(uuid)
        for uuid in Response.objects.values_list("pk", flat=True)
        for form in (str, lambda value: value.hex)
    ]
    assert len(hidden) == 3 and response_ids
    read = {}
    for who, user in published.users().items():
        for path in evaluation_paths(published) + list(OTHER_PAGES):
            response = get(client, user, path)
            if response.status_code != 200:
                continue
            text = readable_text(response)
            read[(who, path)] = response.get("Content-Type", "")
            where = f"{who} at {path}"
            # A response's random id links nothing, but it is no one's business.
            assert not any(value in text for value in response_ids), where
            if who == "organizer":
                continue
            # Only the organization department reads comments before they
            # are released, and what it took out of them.
            assert not any(value in text for value in hidden), where
            if who in ("community", "street office"):
                continue
            # Departments do not even learn which units took part.
            assert not any(name in text for name in community_names), where
    kinds = set(read.values())
    assert any(kind.startswith("application/pdf") for kind in kinds)
    assert any("spreadsheetml" in kind for kind in kinds)
    # The evaluated department read its card, its results and what was
    # released of the comments.
    department = "department evaluated"
    card = reverse("department_card_pdf", args=[published.round.pk, published.good.pk])
    assert (department, card) in read
    page = get(
        client,
        published.staff(published.good),
        reverse("department_result", args=[published.round.pk, published.good.pk]),
    ).text
    assert "材料比上季度少了很多" in page and "有社区反映会议仍然太多" in page


def test_a_unit_that_sent_its_evaluation_is_never_shown_it_again(client, published):
    """A community answers a new round; its own pages afterwards show that it
    answered, not what."""
    later = round_opened(published.place, name="下一轮")
    operator = published.place.operators[0]
    evaluation_submit(
        user=operator,
        evaluation_round=later,
        department=published.good,
        answers=answers(4, suggestions="只写给这一个部门的一句话"),
    )
    for path in (
        reverse("evaluation_list"),
        reverse("evaluation_form", args=[later.pk, published.good.pk]),
        "/workbench/",
    ):
        response = get(client, operator, path)
        assert "只写给这一个部门的一句话" not in readable_text(response), path
