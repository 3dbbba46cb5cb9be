"""The lists' "Export to Excel": each export holds the rows of its list under
the same filters and the same scoping, for every kind of unit; foreign orders
and needs never appear; the gap export is for those who see the gap; and an
export costs the same number of queries however many rows it holds."""

from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from matching.exports import ORDERS_FILE
from matching.models import NeedResponse, NeedResponseKind, NeedUrgency, OrderState
from matching.need_selectors import unmet_needs_summary
from matching.services import order_place
from portal.models import Role
from tests.factories import (
    DepartmentFactory,
    OrganizationDepartmentFactory,
    StreetFactory,
    UserFactory,
)
from tests.matching.helpers import exported, operator_of, scheduled_offering, sheets
from tests.matching.need_helpers import need_row, staff_of

pytestmark = pytest.mark.django_db

VIEWERS = ("community", "department", "street_office", "organization")


def place(user, page, session, **fields):
    return order_place(
        user=user,
        offering=page,
        session=session,
        participants=fields.pop("participants", 3),
        contact_name="王丽",
        contact_phone=fields.pop("contact_phone", "13800000001"),
        **fields,
    )


@pytest.fixture
def world():
    """Two streets of one district, two departments of the district, and a
    district far away with its own order and need.

    Orders: own → fire, neighbour → fire, own → law, across → fire.
    """
    street = StreetFactory(name="东湖街道")
    other_street = StreetFactory(parent=street.district)
    department = DepartmentFactory(region=street.district, name="区消防救援支队")
    other_department = DepartmentFactory(region=street.district, name="区司法局")
    fire, fire_session = scheduled_offering(department, title="消防培训", seats=50)
    law, law_session = scheduled_offering(other_department, title="法律讲座", seats=50)
    own, neighbour = operator_of(street), operator_of(street)
    across = operator_of(other_street)
    far_street = StreetFactory()
    far_page, far_session = scheduled_offering(
        DepartmentFactory(region=far_street.district), title="远方的培训"
    )
    far_operator = operator_of(far_street)
    org = OrganizationDepartmentFactory(region=street.district)
    return {
        "street": street,
        "department": department,
        "other_department": other_department,
        "fire": (fire, fire_session),
        "law": law,
        "own": own,
        "neighbour": neighbour,
        "across": across,
        "far": far_operator,
        "orders": {
            "own_fire": place(own, fire, fire_session, contact_phone="+86 138"),
            "neighbour_fire": place(neighbour, fire, fire_session),
            "own_law": place(own, law, law_session),
            "across_fire": place(across, fire, fire_session),
        },
        "far_order": place(far_operator, far_page, far_session),
        "users": {
            "community": own,
            "department": staff_of(department),
            "street_office": UserFactory(role=Role.STREET_OFFICE, region=street),
            "organization": UserFactory(
                role=Role.ORGANIZATION_DEPARTMENT, region=None, department=org
            ),
        },
    }


def listed(client, url_name, **params) -> list[int]:
    response = client.get(reverse(url_name), params)
    page = response.context["page_obj"]
    # Every row is on the first page here: the list is the whole list.
    assert not page.has_next()
    return [item.pk for item in page]


# Orders ----------------------------------------------------------------------

EXPECTED_ORDERS = {
    "community": {"own_fire", "own_law"},
    "department": {"own_fire", "neighbour_fire", "across_fire"},
    "street_office": {"own_fire", "neighbour_fire", "own_law"},
    "organization": {"own_fire", "neighbour_fire", "own_law", "across_fire"},
}


@pytest.mark.parametrize("who", VIEWERS)
def test_the_order_export_holds_the_rows_of_the_list(client, world, who):
    client.force_login(world["users"][who])
    numbers = [row[0] for row in exported(client, "order_export")[1:]]
    assert numbers == listed(client, "order_list")
    orders = world["orders"]
    assert set(numbers) == {orders[name].pk for name in EXPECTED_ORDERS[who]}
    assert world["far_order"].pk not in numbers


@pytest.mark.parametrize("who", VIEWERS)
def test_a_filter_narrows_the_order_export_as_it_narrows_the_list(client, world, who):
    client.force_login(world["users"][who])
    params = {"state": OrderState.SUBMITTED, "placed_from": timezone.localdate()}
    if who != "department":
        params["department"] = world["department"].pk
    numbers = [row[0] for row in exported(client, "order_export", **params)[1:]]
    assert numbers == listed(client, "order_list", **params)
    expected = EXPECTED_ORDERS[who] - {"own_law"}
    assert set(numbers) == {world["orders"][name].pk for name in expected}
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert exported(client, "order_export", placed_from=tomorrow)[1:] == []


def test_another_communitys_orders_never_appear_even_when_asked_for(client, world):
    client.force_login(world["own"])
    # Another community's department filter, and values that are no values:
    # the list leaves them out, and so does the export.
    params = {
        "department": world["far_order"].department_id,
        "community": world["far_order"].community_id,
        "placed_from": "not-a-date",
        "state": "lost",
    }
    numbers = [row[0] for row in exported(client, "order_export", **params)[1:]]
    assert numbers == listed(client, "order_list", **params)
    assert set(numbers) == {
        world["orders"]["own_fire"].pk,
        world["orders"]["own_law"].pk,
    }


def test_an_order_row_says_what_the_page_says(client, world):
    client.force_login(world["users"]["organization"])
    header, *rows = exported(client, "order_export")
    order = world["orders"]["own_fire"]
    row = dict(zip(header, next(r for r in rows if r[0] == order.pk), strict=True))
    assert row["服务项目"] == "消防培训"
    assert row["部门"] == "区消防救援支队"
    assert row["社区"] == order.community.name
    assert row["街镇"] == "东湖街道"
    # The session's start, in local time (Excel has no time zones).
    starts_at = timezone.localtime(order.session.starts_at).replace(tzinfo=None)
    assert abs(row["场次"] - starts_at) < timedelta(seconds=1)
    assert row["参加人数"] == 3
    assert row["状态"] == "已提交"
    assert row["下单时间"].date() == timezone.localdate()
    assert row["联系人"] == "王丽"
    # A phone number starting with "+" is text, not a formula.
    assert row["联系电话"] == "+86 138"
    assert row["实到人数"] is None


def test_the_order_list_links_to_its_export_with_its_filters(client, world):
    client.force_login(world["own"])
    response = client.get(reverse("order_list"), {"state": "submitted", "page": 1})
    url = f"{reverse('order_export')}?state=submitted"
    assert response.context["export_url"] == url
    assert f'href="{url}"' in response.text


def test_the_order_export_is_named_for_the_day_in_chinese(client, world):
    client.force_login(world["own"])
    response = client.get(reverse("order_export"))
    name = unquote(response["Content-Disposition"].split("UTF-8''")[1])
    with translation.override("zh-hans"):
        assert name == f"{ORDERS_FILE}-{timezone.localdate():%Y-%m-%d}.xlsx"


# Needs -----------------------------------------------------------------------


@pytest.fixture
def needs(world):
    """Needs of three communities of the district and the far one; the first
    has a proposal of the fire brigade, accepted, and a decline."""
    poster = world["own"]
    own = need_row(poster.region, poster, title="楼道飞线充电排查")
    urgent = need_row(
        world["neighbour"].region,
        poster,
        title="助餐点排队太长",
        category="养老服务",
        urgency=NeedUrgency.URGENT,
    )
    across = need_row(world["across"].region, poster, title="防汛培训")
    far = need_row(world["far"].region, poster, title="远方的需求")
    NeedResponse.objects.create(
        need=own,
        department=world["department"],
        responded_by=staff_of(world["department"]),
        kind=NeedResponseKind.PROPOSAL,
        offering=world["fire"][0],
        accepted_at=timezone.now(),
    )
    NeedResponse.objects.create(
        need=own,
        department=world["other_department"],
        responded_by=staff_of(world["other_department"]),
        kind=NeedResponseKind.DECLINE,
        note="不在本部门职责内",
    )
    return {"own": own, "urgent": urgent, "across": across, "far": far}


@pytest.mark.parametrize("who", VIEWERS)
def test_the_need_export_holds_the_rows_of_the_list(client, world, needs, who):
    client.force_login(world["users"][who])
    titles = [row[0] for row in exported(client, "need_export")[1:]]
    response = client.get(reverse("need_list"))
    assert titles == [need.title for need in response.context["page_obj"]]
    assert "远方的需求" not in titles
    assert "楼道飞线充电排查" in titles


def test_a_filter_narrows_the_need_export_and_a_bad_value_is_left_out(
    client, world, needs
):
    client.force_login(world["users"]["organization"])
    urgent = exported(client, "need_export", urgency="urgent", district="x")
    assert [row[0] for row in urgent[1:]] == ["助餐点排队太长"]
    client.force_login(world["own"])
    titles = [row[0] for row in exported(client, "need_export", district="x")[1:]]
    assert titles == ["楼道飞线充电排查"]


def test_a_need_row_names_who_answered_and_what_was_accepted(client, world, needs):
    client.force_login(world["users"]["street_office"])
    header, *rows = exported(client, "need_export")
    row = dict(
        zip(header, next(r for r in rows if r[0] == "楼道飞线充电排查"), strict=True)
    )
    assert header[:8] == [
        "标题",
        "上级分类",
        "分类",
        "紧急程度",
        "社区",
        "街镇",
        "状态",
        "发布时间",
    ]
    assert row["分类"] == "消防安全"
    assert row["街镇"] == "东湖街道"
    with translation.override("zh-hans"):
        answered = [
            _("Departments that proposed"),
            _("Departments that declined"),
            _("Accepted offering"),
        ]
    assert header[8:] == answered
    assert [row[name] for name in answered] == [
        "区消防救援支队",
        "区司法局",
        "消防培训",
    ]
    # A need nobody answered has empty cells there.
    unanswered = next(r for r in rows if r[0] == "助餐点排队太长")
    assert unanswered[8:] == [None, None, None]
    assert unanswered[3] == "紧急"


def test_the_need_list_links_to_its_export_with_its_filters(client, world, needs):
    client.force_login(world["own"])
    response = client.get(reverse("need_list"), {"state": "open", "page": 1})
    url = f"{reverse('need_export')}?state=open"
    assert f'href="{url}"' in response.text


# The demand–supply gap -------------------------------------------------------


def test_the_gap_export_holds_the_three_tables_of_the_page(client, world, needs):
    officer = world["users"]["organization"]
    client.force_login(officer)
    assert reverse("need_gap_export") in client.get(reverse("need_gap")).text
    exported_sheets = sheets(client.get(reverse("need_gap_export")))
    assert list(exported_sheets) == ["按分类", "按区", "按社区类型"]
    summary = unmet_needs_summary(officer)
    by_category = [row[1:] for row in exported_sheets["按分类"][1:]]
    assert by_category == [
        [r.label, r.open_needs, r.urgent, r.unanswered, r.communities, r.supply]
        for r in summary.by_category
    ]
    for title, rows in (
        ("按区", summary.by_district),
        ("按社区类型", summary.by_community_type),
    ):
        assert exported_sheets[title][1:] == [
            [r.label, r.open_needs, r.urgent, r.unanswered, r.communities, r.supply]
            for r in rows
        ]
    assert "远方的需求" not in str(exported_sheets)


@pytest.mark.parametrize("who", ("community", "department", "street_office"))
def test_the_gap_export_needs_the_right_to_see_the_gap(client, world, who):
    client.force_login(world["users"][who])
    assert client.get(reverse("need_gap_export")).status_code == 403


@pytest.mark.parametrize("url_name", ("order_export", "need_export", "need_gap_export"))
def test_visitors_not_signed_in_are_sent_to_log_in(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# What an export costs ----------------------------------------------------------


def count_queries(client, url_name) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse(url_name)).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url_name", ("order_export", "need_export", "need_gap_export"))
def test_an_export_costs_the_same_however_many_rows_it_holds(
    client, world, needs, url_name, django_assert_max_num_queries
):
    client.force_login(world["users"]["organization"])
    few = count_queries(client, url_name)
    page, session = world["fire"]
    poster = world["own"]
    for _more in range(6):
        community_user = operator_of(world["street"])
        place(community_user, page, session)
        need = need_row(community_user.region, poster, category="养老服务")
        NeedResponse.objects.create(
            need=need,
            department=world["department"],
            responded_by=staff_of(world["department"]),
            kind=NeedResponseKind.PROPOSAL,
            offering=page,
        )
    with django_assert_max_num_queries(few):
        client.get(reverse(url_name))
