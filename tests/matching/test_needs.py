"""Needs (需求): posting one, the departments suggested for it, answering,
accepting a proposal into an order and following that order, closing, the
demand–supply gap, and who may see what."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from matching import recommend
from matching.models import (
    NeedResponse,
    NeedResponseKind,
    NeedState,
    NeedUrgency,
    Order,
    OrderState,
)
from matching.need_selectors import needs_visible_to, unmet_needs_summary
from matching.need_services import (
    ERROR_CLOSE_REASON,
    ERROR_DECLINE_REASON,
    ERROR_DECLINED_ALREADY,
    ERROR_OFFERING_NOT_PROPOSABLE,
    NeedError,
    need_accept_proposal,
    need_close,
    need_respond,
)
from matching.services import order_place, order_transition
from portal.models import CommunityType, Role
from tests.factories import (
    CityFactory,
    CommunityFactory,
    DistrictFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)
from tests.matching.helpers import operator_of
from tests.matching.need_helpers import (
    department_of,
    need_row,
    post,
    published,
    staff_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def lines(street, django_capture_on_commit_callbacks):
    """District departments of four lines of work, with their offerings."""
    district = street.district
    capture = django_capture_on_commit_callbacks
    fire = department_of("消防", district, name="区消防救援支队")
    published(capture, fire, title="社区消防安全知识培训")
    published(
        capture,
        fire,
        title="老旧小区消防隐患上门排查",
        kind="service",
        summary="消防监督员对楼道堆物、飞线充电、消防通道占用等隐患逐楼排查。",
        availability="on_request",
    )
    emergency = department_of("应急管理", district, name="区应急管理局")
    published(
        capture,
        emergency,
        title="社区防汛防台应急处置培训",
        category="防汛防台",
        summary="讲解台风暴雨期间社区转移安置和低洼积水点巡查。",
    )
    civil = department_of("民政", district, name="区民政局")
    published(
        capture,
        civil,
        title="社区助餐点运营指导",
        kind="service",
        category="养老服务",
        summary="养老服务专员上门指导助餐点的选址、运营和补贴申领。",
    )
    housing = department_of("住建", district, name="区建设和管理委员会")
    published(
        capture,
        housing,
        title="既有多层住宅加装电梯咨询",
        kind="service",
        category="物业治理",
        summary="解答加装电梯的政策、流程、补贴和意见征询方法。",
        availability="on_request",
    )
    return {"fire": fire, "emergency": emergency, "civil": civil, "housing": housing}


def suggested(need):
    return [s.department for s in need.suggestions.order_by("rank")]


# Posting and suggestions -----------------------------------------------------------


def test_posting_a_need_opens_it_and_records_who(operator, lines):
    need = post(operator, urgency=NeedUrgency.URGENT)
    assert (need.state, need.community, need.urgency) == (
        NeedState.OPEN,
        operator.region,
        NeedUrgency.URGENT,
    )
    event = need.events.get()
    assert (event.actor, event.action, event.from_state, event.to_state) == (
        operator,
        "post",
        "",
        NeedState.OPEN,
    )


def test_only_a_community_posts_a_need(department, publisher, lines):
    with pytest.raises(PermissionDenied):
        post(publisher)


def test_a_preferred_period_must_be_in_order(operator, lines):
    today = timezone.localdate()
    with pytest.raises(NeedError):
        post(
            operator,
            preferred_from=today + timedelta(days=9),
            preferred_to=today + timedelta(days=3),
        )


def test_the_department_with_offerings_in_the_category_comes_first(operator, lines):
    need = post(operator)
    ranked = suggested(need)
    # 消防 has two offerings in 消防安全, and text close to the need's; 应急管理
    # has one elsewhere in 安全应急; 民政 and 住建 have nothing to do with it.
    assert ranked[:2] == [lines["fire"], lines["emergency"]]
    assert lines["civil"] not in ranked and lines["housing"] not in ranked
    first = need.suggestions.get(department=lines["fire"])
    assert first.same_category == 2
    assert "老旧小区消防隐患上门排查" in first.similar_titles


def test_a_department_of_the_right_line_of_work_is_suggested_without_offerings(
    operator, street, lines
):
    # Nothing published yet, but its family's whole catalog is 安全应急.
    new_fire_station = department_of("消防", street.district, name="新建消防站")
    need = post(operator)
    assert new_fire_station in suggested(need)
    suggestion = need.suggestions.get(department=new_fire_station)
    assert (suggestion.same_category, suggestion.family_affinity) == (0, 1.0)


def test_text_similarity_finds_a_department_outside_the_category(operator, lines):
    need = post(
        operator,
        title="老楼加装电梯怎么征求居民意见",
        category="社区议事",
        description="几栋多层住宅想加装电梯，低层住户有顾虑，希望有人来讲讲加装电梯的政策。",
    )
    assert suggested(need)[0] == lines["housing"]
    suggestion = need.suggestions.get(department=lines["housing"])
    assert suggestion.similar_titles == ["既有多层住宅加装电梯咨询"]


def test_departments_that_do_not_serve_the_community_are_never_suggested(
    operator, lines, django_capture_on_commit_callbacks
):
    elsewhere = department_of("消防", DistrictFactory(), name="外区消防支队")
    published(django_capture_on_commit_callbacks, elsewhere, title="消防安全培训")
    assert elsewhere not in suggested(post(operator))


def test_a_department_counts_with_offerings_run_in_other_streets_so_far(
    operator, street, django_capture_on_commit_callbacks
):
    housing = department_of("住建", street.district, name="区建设和管理委员会")
    elsewhere = StreetFactory(parent=street.district)
    published(
        django_capture_on_commit_callbacks,
        housing,
        title="既有多层住宅加装电梯咨询",
        category="物业治理",
        summary="解答加装电梯的政策、流程和补贴。",
        streets=[elsewhere],
    )
    need = post(operator, title="老楼加装电梯政策咨询", category="物业治理")
    suggestion = need.suggestions.get(department=housing)
    assert suggestion.rank == 1
    assert (suggestion.same_category, suggestion.similar_titles) == (
        1,
        ["既有多层住宅加装电梯咨询"],
    )


def test_text_phrases_split_at_punctuation_fillers_and_long_clauses():
    assert recommend.text_phrases("老旧小区加装电梯，希望开展政策宣讲") == [
        "老旧小区",
        "小区加装",
        "加装电梯",
        "政策宣讲",
    ]


def test_a_rare_phrase_weighs_more_than_a_common_one():
    found = [
        recommend.PhraseHits(total=1, offerings=[(7, "加装电梯咨询")]),
        recommend.PhraseHits(total=4, offerings=[(8, "a"), (8, "b"), (9, "c")]),
        recommend.PhraseHits(total=1, offerings=[(9, "c")], weight=0.5),
    ]
    signals = recommend.text_signals(found)
    assert signals[7] == (0.5, ("加装电梯咨询",))
    # Each of a and b was found once, by a common phrase: 0.2 apiece.
    assert signals[8] == (0.4, ("a", "b"))
    # c by that phrase (0.2) and a rare one of the description (0.25).
    assert signals[9] == (0.45, ("c",))
    weak = recommend.text_signals([recommend.PhraseHits(9, [(5, "d")], 0.5)])
    assert weak[5] == (0.05, ())


def test_ranking_weighs_category_above_family_above_a_stray_text_match():
    ranked = recommend.rank_departments(
        [
            recommend.Signals(1, text=0.2),
            recommend.Signals(2, family_affinity=0.9),
            recommend.Signals(3, same_category=1),
            recommend.Signals(4, family_affinity=0.1),
        ]
    )
    # 1 scores 0.6 and 4 0.25: under the minimum.
    assert [s.department_id for s in ranked] == [3, 2]


# Answering ---------------------------------------------------------------------


def test_a_suggested_department_proposes_one_of_its_offerings(operator, lines):
    need = post(operator)
    fire = lines["fire"]
    offering = fire.catalog_page.get_children().specific().first()
    response = need_respond(
        need_id=need.pk,
        user=staff_of(fire),
        kind=NeedResponseKind.PROPOSAL,
        offering=offering,
        note="下周可以安排",
    )
    assert (response.department, response.offering, response.accepted_at) == (
        fire,
        offering,
        None,
    )
    assert [e.action for e in need.events.all()] == ["post", "propose"]


def test_a_department_cannot_propose_someone_elses_offering(operator, lines):
    need = post(operator)
    civil_offering = lines["civil"].catalog_page.get_children().specific().first()
    with pytest.raises(NeedError) as error:
        need_respond(
            need_id=need.pk,
            user=staff_of(lines["fire"]),
            kind=NeedResponseKind.PROPOSAL,
            offering=civil_offering,
        )
    assert str(error.value) == str(ERROR_OFFERING_NOT_PROPOSABLE)


def test_declining_needs_a_reason_and_happens_once(operator, lines):
    need = post(operator)
    staff = staff_of(lines["emergency"])
    with pytest.raises(NeedError) as error:
        need_respond(need_id=need.pk, user=staff, kind=NeedResponseKind.DECLINE)
    assert str(error.value) == str(ERROR_DECLINE_REASON)
    need_respond(
        need_id=need.pk,
        user=staff,
        kind=NeedResponseKind.DECLINE,
        note="我局不负责消防隐患排查，建议找消防救援支队。",
    )
    with pytest.raises(NeedError) as error:
        need_respond(
            need_id=need.pk, user=staff, kind=NeedResponseKind.DECLINE, note="再说一次"
        )
    assert str(error.value) == str(ERROR_DECLINED_ALREADY)


def test_a_department_outside_the_line_of_work_cannot_answer(operator, lines):
    need = post(operator)
    with pytest.raises(PermissionDenied):
        need_respond(
            need_id=need.pk,
            user=staff_of(lines["civil"]),
            kind=NeedResponseKind.DECLINE,
            note="不归我们管",
        )


def test_a_department_of_the_line_of_work_may_answer_though_not_suggested(
    operator, street, lines
):
    need = post(operator)
    latecomer = department_of("消防", street.district, name="后来的消防站")
    assert latecomer not in suggested(need)
    need_respond(
        need_id=need.pk,
        user=staff_of(latecomer),
        kind=NeedResponseKind.DECLINE,
        note="本站辖区不含该社区",
    )


# Accepting, and following the order ---------------------------------------------------


def proposal(need, department, title):
    offering = (
        department.catalog_page.get_children().specific().get(title=title).specific
    )
    return need_respond(
        need_id=need.pk,
        user=staff_of(department),
        kind=NeedResponseKind.PROPOSAL,
        offering=offering,
    )


def accept(response, user, **fields):
    today = timezone.localdate()
    fields.setdefault("wished_from", today + timedelta(days=20))
    fields.setdefault("wished_to", today + timedelta(days=30))
    return need_accept_proposal(
        response_id=response.pk,
        user=user,
        participants=30,
        contact_name="王丽",
        contact_phone="13800000001",
        **fields,
    )


def test_accepting_a_proposal_on_request_places_the_order(operator, lines):
    need = post(operator)
    response = proposal(need, lines["fire"], "老旧小区消防隐患上门排查")
    acceptance = accept(response, operator)
    order = acceptance.order
    need.refresh_from_db()
    assert Order.objects.get() == order
    assert (order.community, order.department, order.state) == (
        operator.region,
        lines["fire"],
        OrderState.SUBMITTED,
    )
    assert need.state == NeedState.MATCHED
    assert NeedResponse.objects.get(pk=response.pk).order == order
    assert [e.action for e in need.events.all()] == [
        "post",
        "propose",
        "accept",
        "match",
    ]


def test_a_refused_order_leaves_the_proposal_unaccepted(operator, lines):
    need = post(operator)
    response = proposal(need, lines["fire"], "老旧小区消防隐患上门排查")
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(NeedError):
        accept(response, operator, wished_from=yesterday, wished_to=yesterday)
    response.refresh_from_db()
    need.refresh_from_db()
    assert (response.accepted_at, need.state, Order.objects.count()) == (
        None,
        NeedState.OPEN,
        0,
    )


def test_a_scheduled_proposal_is_matched_when_the_session_is_ordered(operator, lines):
    need = post(operator)
    response = proposal(need, lines["fire"], "社区消防安全知识培训")
    acceptance = accept(response, operator)
    need.refresh_from_db()
    assert (acceptance.order, need.state) == (None, NeedState.OPEN)
    offering = response.offering
    from catalog.models import OfferingSession

    start = timezone.now() + timedelta(days=10)
    session = OfferingSession.objects.create(
        offering=offering, starts_at=start, ends_at=start + timedelta(hours=2), seats=50
    )
    order = order_place(
        user=operator,
        offering=offering,
        session=session,
        participants=20,
        contact_name="王丽",
        contact_phone="13800000001",
    )
    need.refresh_from_db()
    assert need.state == NeedState.MATCHED
    assert need.responses.get(kind=NeedResponseKind.PROPOSAL).order == order


def test_a_confirmed_order_fulfils_the_need(operator, lines):
    need = post(operator)
    order = accept(
        proposal(need, lines["fire"], "老旧小区消防隐患上门排查"), operator
    ).order
    staff = staff_of(lines["fire"])
    order_transition(order_id=order.pk, user=staff, action="accept")
    order_transition(
        order_id=order.pk,
        user=staff,
        action="schedule",
        scheduled_at=timezone.now() + timedelta(days=21),
        scheduled_place="居委会会议室",
    )
    order_transition(order_id=order.pk, user=staff, action="deliver", attendance=28)
    order_transition(order_id=order.pk, user=operator, action="confirm")
    need.refresh_from_db()
    assert need.state == NeedState.FULFILLED
    assert need.events.last().action == "fulfil"


def test_a_rejected_order_reopens_the_need(operator, lines):
    need = post(operator)
    response = proposal(need, lines["fire"], "老旧小区消防隐患上门排查")
    order = accept(response, operator).order
    order_transition(
        order_id=order.pk,
        user=staff_of(lines["fire"]),
        action="reject",
        reason="本月排查任务已满",
    )
    need.refresh_from_db()
    response.refresh_from_db()
    assert need.state == NeedState.OPEN
    assert (response.order, response.accepted_at) == (None, None)
    reopen = need.events.last()
    assert (reopen.action, reopen.actor, reopen.note) == (
        "reopen",
        None,
        "本月排查任务已满",
    )


# Closing -----------------------------------------------------------------------


def test_closing_needs_a_reason_and_ends_the_answers(operator, lines):
    need = post(operator)
    with pytest.raises(NeedError) as error:
        need_close(need_id=need.pk, user=operator, reason=" ")
    assert str(error.value) == str(ERROR_CLOSE_REASON)
    closed = need_close(need_id=need.pk, user=operator, reason="物业已自行整改")
    assert (closed.state, closed.closed_reason) == (NeedState.CLOSED, "物业已自行整改")
    with pytest.raises(NeedError):
        need_respond(
            need_id=need.pk,
            user=staff_of(lines["fire"]),
            kind=NeedResponseKind.DECLINE,
            note="已关闭",
        )


def test_only_the_community_closes_its_need(operator, street, lines):
    need = post(operator)
    with pytest.raises(PermissionDenied):
        need_close(need_id=need.pk, user=operator_of(street), reason="不需要了")


# The demand–supply gap -------------------------------------------------------------


@pytest.fixture
def gap_world(django_capture_on_commit_callbacks):
    """Two districts of one city; an organization department over the city.

    d1/s1: c1 (old urban), c2 (new urban), c4 (old urban, no needs)
    d2/s2: c3 (rural)
    """
    city = CityFactory()
    d1, d2 = DistrictFactory(parent=city), DistrictFactory(parent=city)
    s1, s2 = StreetFactory(parent=d1), StreetFactory(parent=d2)
    c1 = CommunityFactory(parent=s1, community_type=CommunityType.OLD_URBAN)
    c2 = CommunityFactory(parent=s1, community_type=CommunityType.NEW_URBAN)
    c3 = CommunityFactory(parent=s2, community_type=CommunityType.RURAL)
    CommunityFactory(parent=s1, community_type=CommunityType.OLD_URBAN)
    poster = UserFactory(region=c1)
    fire = department_of("消防", d1)
    offering = published(django_capture_on_commit_callbacks, fire)
    n2 = need_row(c1, poster)
    need_row(c1, poster, urgency=NeedUrgency.URGENT)
    need_row(c2, poster, category="养老服务", urgency=NeedUrgency.URGENT)
    need_row(c3, poster, urgency=NeedUrgency.LOW)
    need_row(c3, poster, category="养老服务", state=NeedState.CLOSED)
    need_row(c2, poster, state=NeedState.FULFILLED)
    NeedResponse.objects.create(
        need=n2,
        department=fire,
        responded_by=staff_of(fire),
        kind=NeedResponseKind.PROPOSAL,
        offering=offering,
    )
    org = OrganizationDepartmentFactory(region=city)
    return {
        "officer": UserFactory(
            role=Role.ORGANIZATION_DEPARTMENT, region=None, department=org
        ),
        "d1": d1,
        "d2": d2,
        "s1": s1,
    }


def row_numbers(row):
    return (row.open_needs, row.urgent, row.unanswered, row.communities, row.supply)


def test_the_gap_counts_open_needs_by_category_district_and_type(gap_world):
    summary = unmet_needs_summary(gap_world["officer"])
    # Open: n1, n2 (c1, 消防), n3 (c2, 养老, urgent), n4 (c3, 消防, low);
    # n1 and n3 urgent; n2 has a proposal.
    assert (
        summary.open_needs,
        summary.urgent,
        summary.unanswered,
        summary.communities,
    ) == (4, 2, 3, 3)
    by_category = {row.label: row_numbers(row) for row in summary.by_category}
    # 消防安全 has the district fire brigade's one offering; 养老服务 none.
    assert by_category == {"消防安全": (3, 1, 2, 2, 1), "养老服务": (1, 1, 1, 1, 0)}
    by_district = {row.key: row_numbers(row) for row in summary.by_district}
    # The last number: all communities of the district.
    assert by_district == {
        gap_world["d1"].pk: (3, 2, 2, 2, 3),
        gap_world["d2"].pk: (1, 0, 1, 1, 1),
    }
    by_type = {row.key: row_numbers(row) for row in summary.by_community_type}
    assert by_type == {
        CommunityType.OLD_URBAN: (2, 1, 1, 1, 2),
        CommunityType.NEW_URBAN: (1, 1, 1, 1, 1),
        CommunityType.RURAL: (1, 0, 1, 1, 1),
    }


def test_a_street_office_sees_its_own_communities_needs_only(gap_world):
    officer = UserFactory(role=Role.STREET_OFFICE, region=gap_world["s1"])
    assert needs_visible_to(officer).count() == 4


def test_the_gap_page_is_for_the_organization_department(client, gap_world, operator):
    client.force_login(gap_world["officer"])
    response = client.get(reverse("need_gap"))
    assert response.status_code == 200
    assert response.context["summary"].open_needs == 4
    client.force_login(operator)
    assert client.get(reverse("need_gap")).status_code == 403


# Pages and access -----------------------------------------------------------------


def test_a_foreign_need_is_a_404(client, operator, street, lines):
    need = post(operator)
    for stranger in (
        operator_of(StreetFactory()),
        staff_of(lines["civil"]),
        UserFactory(role=Role.STREET_OFFICE, region=StreetFactory()),
    ):
        client.force_login(stranger)
        assert client.get(reverse("need_detail", args=[need.pk])).status_code == 404


def test_the_need_is_seen_by_its_community_street_and_suggested_departments(
    client, operator, street_officer, lines
):
    need = post(operator)
    for user in (operator, street_officer, staff_of(lines["fire"])):
        client.force_login(user)
        response = client.get(reverse("need_detail", args=[need.pk]))
        assert response.status_code == 200
        assert "楼道电动自行车飞线充电隐患排查" in response.content.decode()


def test_posting_a_need_through_the_form(client, operator, lines):
    from catalog.models import Category

    client.force_login(operator)
    assert client.get(reverse("need_new")).status_code == 200
    response = client.post(
        reverse("need_new"),
        {
            "title": "楼道电动自行车飞线充电隐患排查",
            "description": "楼道飞线充电多，希望上门排查。",
            "category": Category.objects.get(name="消防安全").pk,
            "urgency": "urgent",
        },
    )
    need = needs_visible_to(operator).get()
    assert response.status_code == 302
    assert response.url == reverse("need_detail", args=[need.pk])


def test_a_department_answers_through_the_page(client, operator, lines):
    need = post(operator)
    client.force_login(staff_of(lines["emergency"]))
    url = reverse("need_respond", args=[need.pk, "decline"])
    empty = client.post(url, {"decline-reason": ""})
    assert empty.status_code == 200 and not need.responses.exists()
    client.post(url, {"decline-reason": "请联系消防救援支队"})
    assert need.responses.get().note == "请联系消防救援支队"


def test_a_department_that_may_not_answer_cannot_even_see_it(client, operator, lines):
    need = post(operator)
    client.force_login(staff_of(lines["civil"]))
    url = reverse("need_respond", args=[need.pk, "decline"])
    assert client.post(url, {"decline-reason": "x"}).status_code == 404


def test_the_list_filters_by_state_and_category(client, operator, lines):
    from catalog.models import Category

    post(operator)
    post(operator, title="助餐点排队太长", category="养老服务")
    client.force_login(operator)
    top = Category.objects.get(name="民生服务")
    response = client.get(reverse("need_list"), {"category": top.pk, "state": "open"})
    titles = [need.title for need in response.context["page_obj"]]
    assert titles == ["助餐点排队太长"]
