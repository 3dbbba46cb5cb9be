"""Recommendations (为您推荐): what a community is shown, why, and to whom."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import DepartmentResult, EvaluationRound, RoundState
from catalog.models import Category
from catalog.services import catalog_index_page
from matching.need_services import need_post
from matching.offering_recommend import (
    community_recommendations,
    offering_recommendations,
)
from matching.services import order_place
from portal.models import CommunityType, Role
from tests.assessments.helpers import default_questionnaire
from tests.catalog.helpers import corner, offering
from tests.factories import (
    CommunityFactory,
    DepartmentFactory,
    OrganizationDepartmentFactory,
    UserFactory,
)
from tests.matching.helpers import operator_of, scheduled_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """Publish offerings inside: as in the CMS, the search index is written
    after the commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def place(user, page, session=None):
    return order_place(
        user=user,
        offering=page,
        session=session,
        participants=1,
        contact_name="王丽",
        contact_phone="13800000001",
    )


def post_need(user, title, description="请安排一次讲座。"):
    return need_post(
        user=user,
        title=title,
        description=description,
        category=Category.objects.get(name="消防安全"),
    )


def titles(community):
    return [
        shown.offering.title for shown in community_recommendations(community=community)
    ]


def reasons(community):
    return {
        shown.offering.title: shown.reason
        for shown in community_recommendations(community=community)
    }


def test_a_need_brings_the_offering_that_matches_its_words_with_the_need_as_reason(
    street, department, published
):
    operator = operator_of(street)
    with published():
        scheduled_offering(
            department, title="加装电梯政策咨询", summary="加装电梯的流程。"
        )
        scheduled_offering(department, title="社区插花沙龙", summary="插花和茶艺。")
    post_need(operator, "老楼加装电梯")

    ranked = reasons(operator.region)

    assert next(iter(ranked)) == "加装电梯政策咨询"
    assert ranked["加装电梯政策咨询"] == "与您的需求『老楼加装电梯』相符"


def test_what_communities_of_the_same_type_ordered_is_recommended_with_that_reason(
    street, department, published
):
    operator = UserFactory(
        role=Role.COMMUNITY_OPERATOR,
        region=CommunityFactory(
            parent=street, community_type=CommunityType.CONVERTED_VILLAGE
        ),
    )
    with published():
        popular, session = scheduled_offering(department, title="垃圾分类指导")
        scheduled_offering(department, title="社区插花沙龙")
    for _ in range(2):
        neighbour = UserFactory(
            role=Role.COMMUNITY_OPERATOR,
            region=CommunityFactory(
                parent=street, community_type=CommunityType.CONVERTED_VILLAGE
            ),
        )
        place(neighbour, popular, session)

    ranked = reasons(operator.region)

    assert next(iter(ranked)) == "垃圾分类指导"
    assert ranked["垃圾分类指导"] == "同类型的村改居社区常点"


def test_offerings_the_community_may_not_order_are_never_recommended(
    street, department, published
):
    operator = operator_of(street)
    elsewhere = DepartmentFactory()  # another district's bureau
    with published():
        scheduled_offering(elsewhere, title="防范电信诈骗讲座")
        scheduled_offering(
            department,
            title="防范电信诈骗讲座（农村）",
            community_types=[CommunityType.RURAL],
        )
        scheduled_offering(department, title="防范电信诈骗宣传")
    post_need(operator, "防范电信诈骗")

    assert titles(operator.region) == ["防范电信诈骗宣传"]


def test_an_offering_already_ordered_or_full_is_not_recommended(
    street, department, published
):
    operator = operator_of(street)
    with published():
        ordered, session = scheduled_offering(department, title="消防安全培训")
        corner_page = corner(department)
        offering(corner_page, title="消防演练观摩", sessions=[(5, 10, 10)])
        offering(corner_page, title="消防器材检查", sessions=[(5, 10, 9)])
    post_need(operator, "消防安全")
    place(operator, ordered, session)

    assert titles(operator.region) == ["消防器材检查"]


def test_a_published_evaluation_breaks_a_tie_between_departments(street):
    operator = operator_of(street)
    district = street.parent
    plain, praised, unpublished = (DepartmentFactory(region=district) for _ in range(3))
    for dept in (plain, praised, unpublished):
        scheduled_offering(dept, title=f"急救技能培训{dept.pk}")
    organizer = OrganizationDepartmentFactory(region=district)
    for state, dept, total in (
        (RoundState.PUBLISHED, praised, 92.0),
        (RoundState.CLOSED, unpublished, 99.0),
    ):
        evaluation_round = EvaluationRound.objects.create(
            name="2026年第三季度",
            organizer=organizer,
            area=district,
            questionnaire=default_questionnaire(),
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            opens_on=date(2026, 10, 1),
            closes_on=date(2026, 10, 15),
            state=state,
            created_by=UserFactory(
                role=Role.ORGANIZATION_DEPARTMENT, region=None, department=organizer
            ),
        )
        DepartmentResult.objects.create(
            round=evaluation_round, department=dept, total=total
        )

    first = community_recommendations(community=operator.region)[0]
    assert first.offering.title == f"急救技能培训{praised.pk}"
    assert first.reason == "该部门在最近一次反向评价中得分 92.0"
    # Without any signal, an offering says what seats it has left.
    assert (
        reasons(operator.region)[f"急救技能培训{plain.pk}"] == "近期场次还有 10 个空位"
    )


def test_the_community_workbench_and_catalog_show_recommendations_in_chinese(
    client, street, department, published
):
    operator = operator_of(street)
    with published():
        scheduled_offering(department, title="加装电梯政策咨询")
    post_need(operator, "加装电梯")
    client.force_login(operator)

    text = client.get(reverse("workbench")).text

    assert "为您推荐" in text
    assert "与您的需求『加装电梯』相符" in text
    catalog = client.get(catalog_index_page().url).text
    assert "为您推荐" in catalog and "加装电梯政策咨询" in catalog
    # Choosing a facet shows the catalog's answer alone.
    assert "为您推荐" not in client.get(catalog_index_page().url + "?kind=service").text


def test_recommending_takes_as_many_queries_however_many_offerings_and_orders(
    street, department, published
):
    operator = operator_of(street)
    post_need(operator, "加装电梯")

    def count():
        with CaptureQueriesContext(connection) as queries:
            offering_recommendations(community=operator.region)
        return len(queries)

    with published():
        scheduled_offering(department, title="加装电梯政策咨询")
    before = count()
    with published():
        for n in range(6):
            page, session = scheduled_offering(department, title=f"电梯维保{n}")
            place(operator_of(street), page, session)
    assert count() == before


def test_a_warm_workbench_reads_recommendations_in_a_few_queries(
    street, department, published, cache_on, django_assert_max_num_queries
):
    operator = operator_of(street)
    with published():
        for n in range(8):
            scheduled_offering(department, title=f"加装电梯政策咨询{n}")
    post_need(operator, "加装电梯")
    community_recommendations(community=operator.region)

    with django_assert_max_num_queries(3):
        shown = community_recommendations(community=operator.region)

    assert len(shown) == 6


def test_other_users_see_no_recommendations(client, street, department):
    scheduled_offering(department, title="加装电梯政策咨询")
    publisher = UserFactory(
        role=Role.DEPARTMENT_PUBLISHER, region=None, department=department
    )
    officer = UserFactory(role=Role.STREET_OFFICE, region=street)
    for user in (publisher, officer):
        client.force_login(user)
        assert "为您推荐" not in client.get(reverse("workbench")).text
        assert "为您推荐" not in client.get(catalog_index_page().url).text


def test_an_order_placed_leaves_the_cached_recommendations_at_once(
    street, department, published
):
    operator = operator_of(street)
    with published():
        page, session = scheduled_offering(department, title="加装电梯政策咨询")
    post_need(operator, "加装电梯")
    assert titles(operator.region) == ["加装电梯政策咨询"]

    place(operator, page, session)

    assert titles(operator.region) == []
