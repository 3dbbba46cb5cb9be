"""The organization department's round pages: the list, the settings form
and its checks, a round's page with its actions and completion, the units
left to answer and the moderation of comments — and that nobody else
reaches them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.models import (
    Comment,
    CommentState,
    EvaluationRound,
    Participation,
    RoundState,
)
from assessments.services import evaluation_submit
from portal.models import Notification
from tests.assessments.helpers import (
    answer_all,
    answers,
    default_questionnaire,
    district,
    round_draft,
    round_opened,
)
from tests.assessments.review_helpers import close, get, scene

pytestmark = pytest.mark.django_db


def form_data(place, **overrides):
    data = {
        "name": "2026年第四季度",
        "questionnaire": default_questionnaire().pk,
        "period_start": "2026-10-01",
        "period_end": "2026-12-31",
        "opens_on": "2026-12-01",
        "closes_on": "2026-12-20",
        "departments": [d.pk for d in place.departments],
        "respondent_scope": "all",
        "weights_preset": "seven_three",
        "min_responses": "5",
        "rectification_threshold": "60",
    }
    data.update(overrides)
    return data


# Who reaches the pages ---------------------------------------------------------


def test_each_round_page_answers_each_role_as_it_should(client):
    the_scene = scene()
    pk = the_scene.round.pk
    pages = {
        "round_list": reverse("round_list"),
        "round_new": reverse("round_new"),
        "round_detail": reverse("round_detail", args=[pk]),
        "round_edit": reverse("round_edit", args=[pk]),
        "round_units": reverse("round_units", args=[pk]),
        "round_comments": reverse("round_comments", args=[pk]),
    }
    expected = {
        # name: (list and new form, pages of this round)
        "organizer": (200, 200),
        "other district's organizer": (200, 404),
        "department evaluated": (403, 404),
        "other department": (403, 404),
        "department not evaluated": (403, 404),
        "community": (403, 404),
        "street office": (403, 404),
        "anonymous": (302, 302),
    }
    for name, user in the_scene.users().items():
        for page, url in pages.items():
            status = get(client, user, url).status_code
            want = expected[name][0 if page in ("round_list", "round_new") else 1]
            # The settings of a closed round cannot change: back to its page.
            if name == "organizer" and page == "round_edit":
                want = 302
            assert status == want, f"{name} on {page}: {status}"


def test_a_round_id_of_another_district_or_none_is_a_404(client):
    the_scene = scene()
    other = district(streets=1, communities=1, departments=1)
    foreign = round_draft(other)
    client.force_login(the_scene.organizer)
    for url in (
        reverse("round_detail", args=[foreign.pk]),
        reverse("round_units", args=[foreign.pk]),
        reverse("round_detail", args=[foreign.pk + 1000]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(reverse("round_act", args=[foreign.pk, "open"]))
    assert response.status_code == 404
    assert EvaluationRound.objects.get(pk=foreign.pk).state == RoundState.DRAFT


def test_the_list_shows_the_organizers_rounds_with_their_completion(client):
    place = district(streets=1, communities=4, departments=2)
    evaluation_round = round_opened(place, name="本季度测评")
    answer_all(evaluation_round, place.operators[:3], place.departments[0])
    round_draft(place, name="下季度草稿")
    elsewhere = district(streets=1, communities=1, departments=1)
    round_draft(elsewhere, name="别区的轮次")
    client.force_login(place.organizer)
    response = client.get(reverse("round_list"))
    text = response.text
    assert "本季度测评" in text and "下季度草稿" in text
    assert "别区的轮次" not in text
    # 3 of the 8 evaluations asked for (4 communities × 2 departments).
    [row] = [r for r in response.context["page_obj"] if r.name == "本季度测评"]
    assert (row.answered, row.asked) == (3, 8)
    assert "38%" in text


# The settings form ---------------------------------------------------------------


def test_a_new_round_is_saved_as_a_draft_with_the_seven_three_weights(client):
    place = district(streets=1, communities=2, departments=3)
    client.force_login(place.organizer)
    response = client.post(reverse("round_new"), form_data(place))
    evaluation_round = EvaluationRound.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("round_detail", args=[evaluation_round.pk])
    assert evaluation_round.state == RoundState.DRAFT
    assert (evaluation_round.community_weight, evaluation_round.street_weight) == (
        Decimal("0.7"),
        Decimal("0.3"),
    )
    assert set(evaluation_round.departments.all()) == set(place.departments)
    assert evaluation_round.organizer == place.organizer.department


def test_the_form_lists_departments_by_family_and_can_take_them_all(client):
    place = district(streets=1, communities=2, departments=4)
    client.force_login(place.organizer)
    response = client.get(reverse("round_new"))
    groups = list(response.context["form"].department_groups())
    assert sorted(str(g.family) for g in groups) == ["卫健", "民政"]
    assert sum(len(g.choices) for g in groups) == 4
    assert "全选" in response.text
    data = form_data(place, all_departments="on", departments=[])
    client.post(reverse("round_new"), data)
    assert EvaluationRound.objects.get().departments.count() == 4


def test_the_service_checks_stand_at_their_fields_in_chinese(client):
    place = district(streets=1, communities=1, departments=1)
    client.force_login(place.organizer)
    data = form_data(
        place,
        weights_preset="custom",
        community_weight="0.6",
        street_weight="0.3",
        min_responses="2",
        closes_on="2026-11-01",
        period_end="2026-09-01",
        departments=[],
    )
    response = client.post(reverse("round_new"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {
        "community_weight",
        "min_responses",
        "closes_on",
        "period_end",
        "departments",
    }
    assert "相加必须等于 1" in errors["community_weight"][0]
    assert "3" in errors["min_responses"][0]
    assert not EvaluationRound.objects.exists()


def test_a_foreign_department_is_not_a_choice(client):
    place = district(streets=1, communities=1, departments=1)
    other = district(streets=1, communities=1, departments=1)
    client.force_login(place.organizer)
    response = client.post(
        reverse("round_new"), form_data(place, departments=[other.departments[0].pk])
    )
    assert "departments" in response.context["form"].errors
    assert not EvaluationRound.objects.exists()


def test_the_form_explains_k_and_defaults_to_five(client):
    place = district(streets=1, communities=1, departments=1)
    client.force_login(place.organizer)
    response = client.get(reverse("round_new"))
    form = response.context["form"]
    assert form["min_responses"].value() == 5
    assert "匿名" in str(form.fields["min_responses"].help_text)


def test_a_draft_changes_through_its_form_and_an_open_round_does_not(client):
    place = district(streets=1, communities=2, departments=2)
    evaluation_round = round_draft(place)
    client.force_login(place.organizer)
    url = reverse("round_edit", args=[evaluation_round.pk])
    response = client.get(url)
    assert response.context["form"]["weights_preset"].value() == "communities"
    client.post(
        url, form_data(place, name="改过的名字", departments=[place.departments[0].pk])
    )
    evaluation_round.refresh_from_db()
    assert evaluation_round.name == "改过的名字"
    assert list(evaluation_round.departments.all()) == [place.departments[0]]
    client.post(
        reverse("round_act", args=[evaluation_round.pk, "open"]), {"confirmed": "on"}
    )
    response = client.post(url, form_data(place, name="再改"))
    assert response.status_code == 302
    evaluation_round.refresh_from_db()
    assert evaluation_round.name == "改过的名字"


# Actions ------------------------------------------------------------------------


def test_an_action_asks_for_confirmation_before_it_is_taken(client):
    place = district(streets=1, communities=2, departments=1)
    evaluation_round = round_draft(place)
    client.force_login(place.organizer)
    url = reverse("round_act", args=[evaluation_round.pk, "open"])
    response = client.post(url)
    assert response.status_code == 200
    assert "冻结" in response.text and 'name="confirmed"' in response.text
    evaluation_round.refresh_from_db()
    assert evaluation_round.state == RoundState.DRAFT
    response = client.post(url, {"confirmed": "on"})
    assert response.status_code == 302
    evaluation_round.refresh_from_db()
    assert evaluation_round.state == RoundState.OPEN
    assert Participation.objects.filter(round=evaluation_round).count() == 2


def test_the_round_page_offers_only_the_actions_possible_now(client):
    place = district(streets=1, communities=3, departments=1)
    evaluation_round = round_draft(place)
    client.force_login(place.organizer)

    def actions():
        page = client.get(reverse("round_detail", args=[evaluation_round.pk]))
        return [button.action for button in page.context["page"].actions]

    assert actions() == ["open"]
    client.post(
        reverse("round_act", args=[evaluation_round.pk, "open"]), {"confirmed": "on"}
    )
    assert actions() == ["close"]
    # Publishing is not possible yet: refused, nothing changes.
    client.post(
        reverse("round_act", args=[evaluation_round.pk, "publish"]), {"confirmed": "on"}
    )
    evaluation_round.refresh_from_db()
    assert evaluation_round.state == RoundState.OPEN
    answer_all(evaluation_round, place.operators, place.departments[0])
    client.post(
        reverse("round_act", args=[evaluation_round.pk, "close"]), {"confirmed": "on"}
    )
    evaluation_round.refresh_from_db()
    assert evaluation_round.state == RoundState.CLOSED
    assert actions() == ["publish"]
    page = client.get(reverse("round_detail", args=[evaluation_round.pk]))
    history = [row.event.action for row in page.context["history"]]
    assert history == ["create", "open", "close"]


def test_units_are_reminded_once_a_day(client, django_capture_on_commit_callbacks):
    place = district(streets=1, communities=2, departments=1)
    evaluation_round = round_opened(place)
    answer_all(evaluation_round, place.operators[:1], place.departments[0])
    client.force_login(place.organizer)
    url = reverse("round_act", args=[evaluation_round.pk, "remind"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"confirmed": "on"})
    # The community that has answered is not reminded.
    reminded = Notification.objects.filter(title__startswith="提醒")
    assert [n.recipient for n in reminded] == [place.operators[1]]
    page = client.get(reverse("round_detail", args=[evaluation_round.pk]))
    assert page.context["page"].reminded_today
    assert "明天" in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"confirmed": "on"}, follow=True)
    assert "今天已经提醒过" in response.text
    assert reminded.count() == 1


# Completion ---------------------------------------------------------------------


def test_completion_counts_what_was_sent_overall_by_class_and_by_street(client):
    place = district(streets=2, communities=2, departments=2)
    evaluation_round = round_opened(
        place, community_weight=Decimal("0.7"), street_weight=Decimal("0.3")
    )
    first, second = place.streets
    # Street 1: both its communities answer about both departments; its street
    # office about one. Street 2: one community about one department.
    answer_all(evaluation_round, place.operators[:2], place.departments[0])
    answer_all(evaluation_round, place.operators[:2], place.departments[1])
    answer_all(evaluation_round, place.street_officers[:1], place.departments[0])
    answer_all(evaluation_round, place.operators[2:3], place.departments[0])
    client.force_login(place.organizer)
    response = client.get(reverse("round_detail", args=[evaluation_round.pk]))
    completion = response.context["completion"]
    # 4 communities × 2 + 2 streets × 2 = 12 asked; 4 + 1 + 1 = 6 sent.
    assert (completion.asked, completion.answered) == (12, 6)
    classes = {
        str(row.label): (row.answered, row.asked)
        for row in response.context["class_rows"]
    }
    assert classes == {"社区": (5, 8), "街道": (1, 4)}
    streets = {row.region: (row.answered, row.asked) for row in completion.streets}
    assert streets == {first: (5, 6), second: (1, 6)}
    assert "50%" in response.text


def test_the_units_left_are_listed_by_street_without_anything_they_answered(client):
    place = district(streets=2, communities=2, departments=2)
    evaluation_round = round_opened(place)
    done, half, *rest = place.operators
    answer_all(evaluation_round, [done], place.departments[0])
    answer_all(evaluation_round, [done], place.departments[1])
    answer_all(evaluation_round, [half], place.departments[0])
    client.force_login(place.organizer)
    url = reverse("round_units", args=[evaluation_round.pk])
    response = client.get(url)
    units = list(response.context["page_obj"])
    assert done.region not in units
    assert [u.left for u in units if u == half.region] == [1]
    assert len(units) == 3
    response = client.get(url, {"street": place.streets[1].pk})
    assert {u.pk for u in response.context["page_obj"]} == {u.region_id for u in rest}
    # A street of another district is not a choice: the filter is ignored.
    other = district(streets=1, communities=1, departments=1)
    response = client.get(url, {"street": other.streets[0].pk})
    assert response.context["filterset"].errors


# Comments -----------------------------------------------------------------------


def test_comments_are_reviewed_only_once_the_round_is_closed(client):
    place = district(streets=1, communities=3, departments=1)
    evaluation_round = round_opened(place)
    evaluation_submit(
        user=place.operators[0],
        evaluation_round=evaluation_round,
        department=place.departments[0],
        answers=answers(suggestions="希望少开会"),
    )
    client.force_login(place.organizer)
    response = client.get(reverse("round_comments", args=[evaluation_round.pk]))
    assert response.status_code == 200
    assert "希望少开会" not in response.text
    assert response.context["too_early"]


def test_the_organizer_releases_edits_or_withholds_each_comment(client):
    place = district(streets=1, communities=3, departments=1)
    evaluation_round = round_opened(place)
    department = place.departments[0]
    texts = ["希望少开会，我是一居王书记", "检查太多", "报表重复"]
    for user, text in zip(place.operators, texts, strict=True):
        evaluation_submit(
            user=user,
            evaluation_round=evaluation_round,
            department=department,
            answers=answers(suggestions=text),
        )
    close(evaluation_round, place.organizer)
    client.force_login(place.organizer)
    url = reverse("round_comments", args=[evaluation_round.pk])
    response = client.get(url)
    assert response.context["pending"] == 3
    for text in texts:
        assert text in response.text
    # No unit is named anywhere on the page.
    for user in place.operators:
        assert user.region.name not in response.text
    comments = {c.text: c for c in Comment.objects.all()}
    client.post(
        url,
        {
            "comment": comments[texts[0]].pk,
            "decision": "redacted",
            "released_text": "希望少开会",
        },
    )
    client.post(url, {"comment": comments[texts[1]].pk, "decision": "released"})
    client.post(url, {"comment": comments[texts[2]].pk, "decision": "withheld"})
    states = {c.text: (c.state, c.released_text) for c in Comment.objects.all()}
    assert states == {
        texts[0]: (CommentState.REDACTED, "希望少开会"),
        texts[1]: (CommentState.RELEASED, ""),
        texts[2]: (CommentState.WITHHELD, ""),
    }
    # Releasing with changes needs the changed text.
    response = client.post(
        url,
        {
            "comment": comments[texts[1]].pk,
            "decision": "redacted",
            "released_text": " ",
        },
    )
    assert response.status_code == 200
    assert Comment.objects.get(text=texts[1]).state == CommentState.RELEASED


def test_a_comment_of_another_round_cannot_be_reviewed_through_this_one(client):
    the_scene = scene()
    other = scene()
    # The scenes hold no comment: one of the other round's, as stored.
    comment = Comment.objects.create(
        round=other.round,
        department=other.good,
        question=default_questionnaire().questions.get(code="suggestions"),
        text="别处的评论",
    )
    client.force_login(the_scene.organizer)
    response = client.post(
        reverse("round_comments", args=[the_scene.round.pk]),
        {"comment": comment.pk, "decision": "released"},
    )
    assert response.status_code == 404
    comment.refresh_from_db()
    assert comment.state == CommentState.PENDING
