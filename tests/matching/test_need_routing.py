"""Need routing: the departments a posted need is suggested to, by their duties
(职责) and by the past needs they answered, and the reasons the need page
gives for each."""

import pytest
from django.urls import reverse

from matching import recommend
from matching.models import NeedResponseKind
from matching.need_services import need_respond
from tests.factories import CommunityFactory, DistrictFactory
from tests.matching.helpers import operator_of
from tests.matching.need_helpers import department_of, post, published, staff_of

pytestmark = pytest.mark.django_db

WATER_DUTIES = (
    "负责全区河道管理、排水管网和防汛排涝设施运行维护；治理积水点和雨污混接，"
    "负责河长制工作。"
)
FLOODED_CROSSING = {
    "title": "一下雨路口就积水",
    "category": "防汛防台",
    "description": "小区门口路口每次下大雨积水到膝盖，居民出不了门，希望疏通排水管道。",
}


def suggested(need):
    return [s.department for s in need.suggestions.order_by("rank")]


@pytest.fixture
def emergency(street, django_capture_on_commit_callbacks):
    """An emergency bureau with an offering in the flooded crossing's
    subcategory, and duties of its own."""
    bureau = department_of(
        "应急管理",
        street.district,
        name="区应急管理局",
        duties="负责应急预案编制和社区应急演练，统筹应急物资储备和避难场所。",
    )
    published(
        django_capture_on_commit_callbacks,
        bureau,
        title="社区防汛防台应急处置培训",
        category="防汛防台",
        summary="讲解台风暴雨期间社区转移安置要点。",
    )
    return bureau


def test_duties_bring_the_department_no_offering_points_to(operator, street, emergency):
    # The water bureau has published nothing, and no department of its line
    # of work has either: only its duties say that flooded streets are its work.
    water = department_of("水务", street.district, name="区水务局", duties=WATER_DUTIES)
    unrelated = department_of(
        "税务", street.district, name="区税务局", duties="负责税收征管和纳税服务。"
    )

    need = post(operator, **FLOODED_CROSSING)

    ranked = suggested(need)
    assert ranked[0] == water
    assert unrelated not in ranked
    suggestion = need.suggestions.get(department=water)
    assert (suggestion.same_category, suggestion.similar_titles) == (0, [])
    assert suggestion.duty_phrases == ["排水管", "积水"]


def test_past_answered_needs_bring_the_department_that_answered_them(
    operator, street, django_capture_on_commit_callbacks
):
    # Two unions' federations alike in everything the catalog says: one
    # offering each in 民生服务, none in the need's subcategory, no duties.
    capture = django_capture_on_commit_callbacks
    answering = department_of("工会", street.district, name="区总工会")
    other = department_of("工会", street.district, name="区职工服务中心")
    station = published(
        capture,
        answering,
        title="职工法律援助进社区",
        category="就业帮扶",
        availability="on_request",
    )
    published(capture, other, title="职工技能竞赛", category="就业帮扶")
    neighbour = operator_of(CommunityFactory(parent=street))
    earlier = post(
        neighbour,
        title="外卖骑手夏天没地方歇脚喝水",
        category="养老服务",
        description="社区周边外卖骑手和快递员很多，夏天没地方喝水休息，希望建一个爱心驿站。",
    )
    need_respond(
        need_id=earlier.pk,
        user=staff_of(answering),
        kind=NeedResponseKind.PROPOSAL,
        offering=station,
    )

    need = post(
        operator,
        title="快递员外卖骑手歇脚驿站",
        category="养老服务",
        description="小区门口每天有很多快递员、外卖骑手等单，想给他们找个歇脚喝水的地方。",
    )

    ranked = suggested(need)
    assert ranked.index(answering) < ranked.index(other)
    by_answering = need.suggestions.get(department=answering)
    assert by_answering.similar_needs == ["外卖骑手夏天没地方歇脚喝水"]
    assert need.suggestions.get(department=other).similar_needs == []


def test_a_declined_need_does_not_vote_for_the_department_that_declined(
    operator, street, django_capture_on_commit_callbacks
):
    declining = department_of("工会", street.district, name="区总工会")
    published(django_capture_on_commit_callbacks, declining, category="就业帮扶")
    earlier = post(
        operator_of(CommunityFactory(parent=street)),
        title="外卖骑手夏天没地方歇脚喝水",
        category="养老服务",
        description="社区周边外卖骑手很多，希望建一个爱心驿站。",
    )
    need_respond(
        need_id=earlier.pk,
        user=staff_of(declining),
        kind=NeedResponseKind.DECLINE,
        note="驿站由街道统一建设。",
    )

    need = post(
        operator,
        title="外卖骑手歇脚驿站",
        category="养老服务",
        description="想给外卖骑手找个歇脚喝水的地方。",
    )

    assert need.suggestions.get(department=declining).similar_needs == []


def test_the_need_page_says_in_chinese_which_duties_and_past_needs_speak_for_it(
    client, operator, street, emergency, django_capture_on_commit_callbacks
):
    water = department_of("水务", street.district, name="区水务局", duties=WATER_DUTIES)
    pumping = published(
        django_capture_on_commit_callbacks,
        water,
        title="排水泵车应急借用",
        category="应急演练",
        availability="on_request",
    )
    earlier = post(
        operator_of(CommunityFactory(parent=street)),
        title="暴雨后地下车库积水排不出去",
        category="防汛防台",
        description="每次暴雨小区地下车库积水，排水管道排不出去，希望有部门来疏通。",
    )
    need_respond(
        need_id=earlier.pk,
        user=staff_of(water),
        kind=NeedResponseKind.PROPOSAL,
        offering=pumping,
    )
    need = post(operator, **FLOODED_CROSSING)

    client.force_login(operator)
    page = client.get(reverse("need_detail", args=[need.pk])).content.decode()

    assert "职责包含『排水管』『积水』" in page
    assert "曾答复类似需求『暴雨后地下车库积水排不出去』" in page


def test_departments_not_serving_the_community_are_never_suggested(
    operator, street, emergency, django_capture_on_commit_callbacks
):
    # Duties that say it all and a past need answered just like this one, but
    # the bureau serves another district.
    elsewhere = department_of(
        "水务", DistrictFactory(), name="外区水务局", duties=WATER_DUTIES
    )
    pumping = published(
        django_capture_on_commit_callbacks,
        elsewhere,
        title="排水泵车应急借用",
        category="防汛防台",
        availability="on_request",
    )
    there = CommunityFactory(parent__parent=elsewhere.region)
    earlier = post(operator_of(there), **FLOODED_CROSSING)
    need_respond(
        need_id=earlier.pk,
        user=staff_of(elsewhere),
        kind=NeedResponseKind.PROPOSAL,
        offering=pumping,
    )

    need = post(operator, **FLOODED_CROSSING)

    assert elsewhere not in suggested(need)
    assert suggested(need) == [emergency]


def test_the_phrases_named_are_the_longest_the_need_shares_rarest_first():
    signals = recommend.duty_signals(
        "老楼加装电梯",
        "六层老公房想加装电梯，老人上下楼难。",
        {
            1: "推进既有多层住宅加装电梯和老旧小区综合改造。",
            2: "负责养老服务和老人助餐。",
            3: "负责税收征管。",
        },
    )
    assert signals[1][1] == ("加装电梯",)
    assert signals[1][0] > signals[2][0] > 0
    assert 3 not in signals


def test_past_needs_vote_by_similarity_and_the_nearest_is_named_first():
    past = [
        recommend.PastNeed("楼道堆物清理", "楼道堆满杂物", frozenset({1})),
        recommend.PastNeed("楼道飞线充电排查", "电动车飞线充电", frozenset({2})),
        recommend.PastNeed("垃圾分类培训", "湿垃圾分不清", frozenset({3})),
    ]
    votes = recommend.history_signals("楼道飞线充电", "电动车在楼道充电", past)
    assert votes[2][1] == ("楼道飞线充电排查",)
    assert votes[2][0] > votes.get(1, (0.0,))[0]
    assert 3 not in votes
