"""The questionnaire editor in the CMS: who finds it, versions and their
status in the list, the whole questionnaire checked on save with each problem
at its question, a frozen version that neither GET nor POST can change, the
button that makes the next version, deletes refused for versions a round
uses, and no generic copy."""

import json

import pytest
from django.contrib.messages import get_messages
from django.urls import NoReverseMatch, reverse
from wagtail.test.utils.form_data import querydict_from_html

from assessments.models import Dimension, Question, Questionnaire
from portal.models import Role
from tests.assessments.helpers import (
    default_questionnaire,
    district,
    round_draft,
    round_opened,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NAMESPACE = "wagtailsnippets_assessments_questionnaire"


def url(name: str, *args) -> str:
    return reverse(f"{NAMESPACE}:{name}", args=args)


def json_text(words: str) -> str:
    return json.dumps(words)[1:-1]


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def organizer():
    return district().organizer


@pytest.fixture
def editor(client, organizer):
    client.force_login(organizer)
    return client


def edit_data(client, questionnaire):
    """What the questionnaire's edit page would send unchanged."""
    page = client.get(url("edit", questionnaire.pk))
    assert page.status_code == 200
    return querydict_from_html(page.text, form_id="w-editor-form")


def question_prefix(data, code: str) -> str:
    """The form prefix (e.g. ``questions-3``) of the question with ``code``."""
    for key, value in data.items():
        if key.startswith("questions-") and key.endswith("-code") and value == code:
            return key.removesuffix("-code")
    raise AssertionError(code)


def child_form(response, formset: str, code: str):
    for form in response.context["form"].formsets[formset].forms:
        if form.instance.code == code:
            return form
    raise AssertionError(code)


# Who finds it ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.ORGANIZATION_DEPARTMENT, Role.ADMINISTRATOR], ids=str
)
def test_the_organization_department_and_administrators_edit_questionnaires(
    client, role
):
    place = district()
    client.force_login(
        UserFactory(role=role, region=None, department=place.organizer.department)
    )

    home = client.get(reverse("wagtailadmin_home"))
    listing = client.get(url("list"))
    edit = client.get(url("edit", default_questionnaire().pk))

    # The menu comes as JSON for the sidebar's script, Chinese escaped.
    assert json_text("反向评价") in home.text
    assert url("list") in home.text
    assert listing.status_code == 200
    assert edit.status_code == 200


def test_departments_and_units_cannot_reach_the_editor(client):
    place = district()
    for user in (place.staff[place.departments[0].pk], place.operators[0]):
        client.force_login(user)
        for target in (url("list"), url("edit", default_questionnaire().pk)):
            response = client.get(target)
            assert response.status_code in (302, 403)
            if response.status_code == 302:
                # Sent to sign in, or (with CMS access) back to the CMS home.
                location = response["Location"]
                assert location.startswith(reverse("login")) or (
                    location == reverse("wagtailadmin_home")
                )
    assert default_questionnaire().title == "为基层减负反向评价问卷"


def test_the_list_shows_each_version_with_its_status(editor, organizer):
    place = district()
    frozen = default_questionnaire()
    round_opened(place)
    draft = Questionnaire.objects.create(title="试用问卷", version=1)

    text = editor.get(url("list")).text

    assert "为基层减负反向评价问卷" in text and "试用问卷" in text
    assert "已冻结（1 个轮次使用）" in text
    assert "可编辑" in text
    # A frozen version opens read only from the list.
    assert url("edit", frozen.pk) not in text
    assert url("inspect", frozen.pk) in text
    assert url("edit", draft.pk) in text


# Editing ---------------------------------------------------------------------------


def test_an_editable_version_saves_its_dimensions_and_questions(editor):
    questionnaire = default_questionnaire()
    data = edit_data(editor, questionnaire)
    prefix = question_prefix(data, "meetings_needed")
    data[f"{prefix}-text"] = "该部门召开的会议确有必要。"
    data["title"] = "为基层减负反向评价问卷（修订）"

    response = editor.post(url("edit", questionnaire.pk), data)

    assert response.status_code == 302
    questionnaire.refresh_from_db()
    assert questionnaire.title == "为基层减负反向评价问卷（修订）"
    assert (
        questionnaire.questions.get(code="meetings_needed").text
        == "该部门召开的会议确有必要。"
    )
    assert questionnaire.questions.count() == 21


@pytest.mark.parametrize(
    ("code", "changes", "field", "message"),
    [
        (
            "ledgers_trend",
            {"options": "只有一个选项|100"},
            "options",
            "选择题至少要有两个选项，每行一个。",
        ),
        (
            "meetings_count",
            {"scale_max": ""},
            "scale_max",
            "计分的数字题需要填写“满分对应的数”。",
        ),
        (
            "recommend",
            {"dimension_code": "nowhere"},
            "dimension_code",
            "没有代码为“nowhere”的维度。",
        ),
        (
            "services_useful",
            {"show_if": "suggestions"},
            "show_if",
            "显示条件必须填写前面某道题的代码。",
        ),
        (
            "unsolved_why",
            {"show_if_values": "7"},
            "show_if_values",
            "请填写显示本题所需的答案，例如“是”填 1。",
        ),
    ],
)
def test_a_problem_of_the_questionnaire_shows_at_its_question(
    editor, code, changes, field, message
):
    questionnaire = default_questionnaire()
    data = edit_data(editor, questionnaire)
    prefix = question_prefix(data, code)
    for name, value in changes.items():
        data[f"{prefix}-{name}"] = value
    data["title"] = "不应保存"

    response = editor.post(url("edit", questionnaire.pk), data)

    assert response.status_code == 200
    form = child_form(response, "questions", code)
    assert form.errors[field] == [message]
    assert message in response.text
    questionnaire.refresh_from_db()
    assert questionnaire.title == "为基层减负反向评价问卷"


@pytest.mark.parametrize(
    ("formset", "code", "taken"),
    [
        ("questions", "documents_count", "meetings_count"),
        ("dimensions", "ledgers", "meetings"),
    ],
)
def test_a_code_used_twice_is_refused_at_the_second(editor, formset, code, taken):
    questionnaire = default_questionnaire()
    data = edit_data(editor, questionnaire)
    for key, value in list(data.items()):
        if key.startswith(f"{formset}-") and key.endswith("-code") and value == code:
            data[key] = taken

    response = editor.post(url("edit", questionnaire.pk), data)

    assert response.status_code == 200
    forms = response.context["form"].formsets[formset]
    (refused,) = [form for form in forms.forms if form.errors]
    assert refused.instance.code == taken
    assert refused.non_field_errors()
    assert forms.non_form_errors()
    assert getattr(questionnaire, formset).filter(code=code).exists()


def test_a_questionnaire_without_a_scored_question_is_refused(editor):
    questionnaire = default_questionnaire()
    data = edit_data(editor, questionnaire)
    for key in list(data):
        if key.startswith("questions-") and key.endswith("-weight"):
            data[key] = "0"

    response = editor.post(url("edit", questionnaire.pk), data)

    assert response.status_code == 200
    assert "没有一道题计分。" in response.text
    assert questionnaire.questions.filter(weight__gt=0).exists()


def test_a_new_questionnaire_starts_at_version_one(editor):
    page = editor.get(url("add"))
    data = querydict_from_html(page.text, form_id="w-editor-form")
    data.update(
        {
            "title": "社区减负专项问卷",
            "dimensions-TOTAL_FORMS": "1",
            "dimensions-0-code": "meetings",
            "dimensions-0-name": "文件会议",
            "dimensions-0-weight": "1",
            "dimensions-0-ORDER": "1",
            "questions-TOTAL_FORMS": "1",
            "questions-0-dimension_code": "meetings",
            "questions-0-code": "meetings_needed",
            "questions-0-text": "会议确有必要。",
            "questions-0-kind": "likert",
            "questions-0-weight": "1",
            "questions-0-direction": "higher",
            "questions-0-required": "on",
            "questions-0-ORDER": "1",
        }
    )

    response = editor.post(url("add"), data)

    assert response.status_code == 302, response.context["form"].errors
    created = Questionnaire.objects.get(title="社区减负专项问卷")
    assert created.version == 1
    assert not created.is_frozen
    assert created.lineage != default_questionnaire().lineage
    assert list(created.questions.values_list("code", flat=True)) == ["meetings_needed"]


# Frozen versions -------------------------------------------------------------------


def test_a_frozen_questionnaire_opens_read_only_with_the_new_version_button(editor):
    place = district()
    questionnaire = default_questionnaire()
    round_opened(place)

    response = editor.get(url("edit", questionnaire.pk), follow=True)

    assert response.redirect_chain == [(url("inspect", questionnaire.pk), 302)]
    assert message_texts(response) == [
        "该问卷已被测评轮次使用，不能再修改：请基于它新建一个版本。"
    ]
    text = response.text
    assert "已冻结" in text
    assert "不能再修改" in text
    assert "基于此版本新建版本" in text
    assert f'action="{url("new_version", questionnaire.pk)}"' in text
    assert "2026年第四季度" in text
    # Read only: every question, and no way to edit or delete it.
    assert "本季度该部门要求您单位参加的会议有几次" in text
    assert 'id="w-editor-form"' not in text
    assert f'href="{url("edit", questionnaire.pk)}"' not in text
    assert f'href="{url("delete", questionnaire.pk)}"' not in text


def test_a_post_to_a_frozen_questionnaire_changes_nothing(editor):
    place = district()
    questionnaire = default_questionnaire()
    # The form as it was shown before a round opened and froze the version.
    data = edit_data(editor, questionnaire)
    round_opened(place)
    data["title"] = "改过的标题"
    data[f"{question_prefix(data, 'meetings_needed')}-text"] = "改过的题目"
    data[f"{question_prefix(data, 'recommend')}-DELETE"] = "on"

    response = editor.post(url("edit", questionnaire.pk), data)

    assert response.status_code == 302
    assert response["Location"] == url("inspect", questionnaire.pk)
    questionnaire.refresh_from_db()
    assert questionnaire.title == "为基层减负反向评价问卷"
    assert questionnaire.questions.count() == 21
    assert questionnaire.questions.get(code="meetings_needed").text == (
        "该部门召开的会议确有必要、时长合理。"
    )


def test_the_form_itself_refuses_a_frozen_version(organizer):
    # Belt and braces: the editor's form refuses a frozen version even if a
    # view forgot to check.
    from assessments.wagtail_hooks import QuestionnaireViewSet

    questionnaire = default_questionnaire()
    round_opened(district())
    questionnaire.refresh_from_db()
    form_class = QuestionnaireViewSet().get_form_class(for_update=True)
    form = form_class(data={"title": "x"}, instance=questionnaire, for_user=organizer)

    assert not form.is_valid()
    assert form.non_field_errors() == [
        "该问卷已被测评轮次使用，不能再修改：请基于它新建一个版本。"
    ]


def test_the_new_version_button_opens_the_new_versions_edit_page(editor):
    place = district()
    questionnaire = default_questionnaire()
    round_opened(place)

    response = editor.post(url("new_version", questionnaire.pk), follow=True)

    copy = Questionnaire.objects.get(lineage=questionnaire.lineage, version=2)
    assert response.redirect_chain == [(url("edit", copy.pk), 302)]
    assert response.status_code == 200
    assert 'id="w-editor-form"' in response.text
    assert (
        "已基于版本 1 新建“为基层减负反向评价问卷”的版本 2"
        in message_texts(response)[0]
    )
    assert copy.based_on == questionnaire
    assert not copy.is_frozen
    assert list(copy.questions.values_list("code", "text")) == list(
        questionnaire.questions.values_list("code", "text")
    )
    # The new version is edited; the frozen one stays as it was.
    data = querydict_from_html(response.text, form_id="w-editor-form")
    data[f"{question_prefix(data, 'meetings_needed')}-text"] = "会议确有必要。"
    assert editor.post(url("edit", copy.pk), data).status_code == 302
    assert copy.questions.get(code="meetings_needed").text == "会议确有必要。"
    assert questionnaire.questions.get(code="meetings_needed").text == (
        "该部门召开的会议确有必要、时长合理。"
    )


def test_making_a_new_version_takes_a_post(editor):
    questionnaire = default_questionnaire()

    response = editor.get(url("new_version", questionnaire.pk))

    assert response.status_code == 405
    assert Questionnaire.objects.count() == 1


def test_units_cannot_make_new_versions(client):
    place = district()
    client.force_login(place.staff[place.departments[0].pk])

    response = client.post(url("new_version", default_questionnaire().pk))

    assert response.status_code in (302, 403)
    assert Questionnaire.objects.count() == 1


# Deleting and copying ----------------------------------------------------------------


def test_a_questionnaire_a_round_uses_cannot_be_deleted(editor):
    place = district()
    questionnaire = default_questionnaire()
    # A draft round is enough: it would lose its questionnaire.
    round_draft(place)

    shown = editor.get(url("delete", questionnaire.pk), follow=True)
    posted = editor.post(url("delete", questionnaire.pk), follow=True)
    bulk = editor.post(
        reverse(
            "wagtail_bulk_action",
            args=["assessments", "questionnaire", "delete"],
        )
        + f"?id={questionnaire.pk}",
        follow=True,
    )

    refused = "“为基层减负反向评价问卷 (v1)”已被测评轮次使用，不能删除。"
    for response in (shown, posted, bulk):
        assert response.redirect_chain[-1] == (url("list"), 302)
        assert refused in message_texts(response)
    assert Questionnaire.objects.filter(pk=questionnaire.pk).exists()
    assert (
        f'href="{url("delete", questionnaire.pk)}"' not in editor.get(url("list")).text
    )


def test_an_unused_questionnaire_can_be_deleted(editor):
    unused = Questionnaire.objects.create(title="试用问卷", version=1)
    Dimension.objects.create(questionnaire=unused, code="meetings", name="文件会议")
    Question.objects.create(
        questionnaire=unused,
        dimension_code="meetings",
        code="q",
        text="会议确有必要。",
        kind="likert",
    )

    response = editor.post(url("delete", unused.pk))

    assert response.status_code == 302
    assert not Questionnaire.objects.filter(pk=unused.pk).exists()


def test_there_is_no_generic_copy(editor):
    questionnaire = default_questionnaire()
    with pytest.raises(NoReverseMatch):
        url("copy", questionnaire.pk)
    response = editor.get(
        f"/cms/snippets/assessments/questionnaire/copy/{questionnaire.pk}/"
    )
    assert response.status_code == 404
