"""Catalog browsing at /catalog/: disjunctive facet counts, filters, sorting,
pagination, the partial answer for the script, and a constant query count."""

from dataclasses import replace

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.browsing import BrowseQuery, browse_engine
from catalog.filters import RELEVANCE
from catalog.models import Category, OfferingStatus
from catalog.selectors import catalog_browse, offering_facets
from catalog.services import catalog_index_page
from tests.catalog.helpers import corner, offering
from tests.factories import DepartmentFactory, FamilyFactory

pytestmark = pytest.mark.django_db


def _catalog(street):
    """Five open offerings in two departments of two families, plus a paused
    and a closed one that browsing never shows.

    | # | dept | kind     | delivery      | fee | seats open ≤30 d   | for types       |
    | 1 | 民政 | training | at_community  | 0   | yes (10 d, free)   | all             |
    | 2 | 民政 | service  | at_department | 50  | yes (on request)   | old_urban       |
    | 3 | 卫健 | training | online        | 0   | no (45 d)          | rural           |
    | 4 | 卫健 | venue    | at_department | 100 | no (5 d, full)     | new, old_urban  |
    | 5 | 卫健 | training | at_community  | 0   | yes (20 d, 1 left) | all             |
    """
    civil = corner(
        DepartmentFactory(region=street.district, family=FamilyFactory(name="民政"))
    )
    health = corner(
        DepartmentFactory(region=street.district, family=FamilyFactory(name="卫健"))
    )
    pages = {
        1: offering(
            civil,
            title="社区消防安全培训",
            sessions=[(10, 30, 0)],
            published_days_ago=5,
        ),
        2: offering(
            civil,
            title="居家养老上门服务",
            kind="service",
            category="养老服务",
            summary="为高龄独居老人提供上门助餐助浴。",
            delivery_mode="at_department",
            fee=50,
            availability="on_request",
            community_types=["old_urban"],
            published_days_ago=4,
        ),
        3: offering(
            health,
            title="慢性病健康讲座",
            category="医疗健康",
            summary="高血压糖尿病的日常管理。",
            delivery_mode="online",
            community_types=["rural"],
            sessions=[(45, 50, 0)],
            published_days_ago=3,
        ),
        4: offering(
            health,
            title="社区议事厅",
            kind="venue",
            category="社区议事",
            summary="可容纳六十人的议事场地。",
            delivery_mode="at_department",
            fee=100,
            community_types=["new_urban", "old_urban"],
            sessions=[(5, 10, 10)],
            published_days_ago=2,
        ),
        5: offering(
            health,
            title="应急救护技能培训",
            category="应急演练",
            summary="心肺复苏和止血包扎。",
            sessions=[(20, 5, 4)],
            published_days_ago=1,
        ),
    }
    offering(civil, title="暂停的培训", status=OfferingStatus.PAUSED)
    offering(health, title="下架的设备", kind="equipment", status=OfferingStatus.CLOSED)
    return {"civil": civil, "health": health, **pages}


@pytest.fixture
def catalog(street, django_capture_on_commit_callbacks):
    # Published as in the CMS: the search index is written after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        return _catalog(street)


def params(query: str = "") -> QueryDict:
    return QueryDict(query)


def titles(query: str = "") -> list[str]:
    browse = catalog_browse(params=params(query))
    return [o.title for o in browse.page.object_list]


def test_facet_counts_without_choices(catalog):
    facets = offering_facets(params=params())
    civil, health = catalog["civil"].department, catalog["health"].department
    assert facets.total == 5
    assert facets.counts("kind") == {
        "training": 3,
        "service": 1,
        "project": 0,
        "venue": 1,
        "equipment": 0,
        "expert": 0,
        "material": 0,
    }
    category_ids = dict(Category.objects.values_list("name", "pk"))
    assert facets.counts("category") == {
        category_ids[name]: 1
        for name in ("消防安全", "应急演练", "养老服务", "医疗健康", "社区议事")
    }
    assert {g.label: g.count for g in facets.facet("category").groups} == {
        "安全应急": 2,
        "民生服务": 2,
        "基层治理": 1,
    }
    assert facets.counts("family") == {civil.family_id: 2, health.family_id: 3}
    assert facets.counts("department") == {civil.pk: 2, health.pk: 3}
    # An offering that names no community type is for every type.
    assert facets.counts("community") == {
        "new_urban": 3,
        "old_urban": 4,
        "converted_village": 2,
        "rural": 3,
    }
    assert facets.counts("delivery") == {
        "at_community": 2,
        "online": 1,
        "at_department": 2,
    }
    assert facets.counts("availability") == {"soon": 3}
    assert facets.counts("price") == {"free": 3, "paid": 2}


def test_a_facets_own_choice_does_not_zero_its_other_values(catalog):
    facets = offering_facets(params=params("kind=training"))
    assert facets.total == 3
    kinds = facets.counts("kind")
    assert (kinds["training"], kinds["service"], kinds["venue"]) == (3, 1, 1)
    # The other facets are narrowed to the trainings.
    civil, health = catalog["civil"].department, catalog["health"].department
    assert facets.counts("family") == {civil.family_id: 1, health.family_id: 2}
    assert facets.counts("delivery") == {
        "at_community": 2,
        "online": 1,
        "at_department": 0,
    }
    assert facets.counts("price") == {"free": 3, "paid": 0}
    assert [v.value for v in facets.facet("kind").groups[0].values if v.selected] == [
        "training"
    ]


def test_two_chosen_facets_count_each_other_but_not_themselves(catalog):
    health = catalog["health"].department
    facets = offering_facets(params=params(f"kind=training&family={health.family_id}"))
    assert facets.total == 2
    kinds = facets.counts("kind")
    assert (kinds["training"], kinds["service"], kinds["venue"]) == (2, 0, 1)
    civil = catalog["civil"].department
    assert facets.counts("family") == {civil.family_id: 1, health.family_id: 2}
    # Departments are counted under the family and kind choices.
    assert facets.counts("department") == {health.pk: 2}


def test_values_within_a_facet_are_alternatives_and_facets_narrow(catalog):
    assert set(titles("kind=service&kind=venue")) == {"居家养老上门服务", "社区议事厅"}
    assert set(titles("kind=training&delivery=at_community")) == {
        "社区消防安全培训",
        "应急救护技能培训",
    }
    department = catalog["civil"].department
    assert titles(f"department={department.pk}&kind=training") == ["社区消防安全培训"]
    assert set(titles("community=rural")) == {
        "社区消防安全培训",
        "慢性病健康讲座",
        "应急救护技能培训",
    }
    category = Category.objects.get(name="社区议事")
    assert titles(f"category={category.pk}") == ["社区议事厅"]


def test_free_and_paid(catalog):
    assert set(titles("price=paid")) == {"居家养老上门服务", "社区议事厅"}
    assert len(titles("price=free")) == 3
    assert len(titles("price=free&price=paid")) == 5


def test_seats_open_in_the_next_30_days(catalog):
    # Not the full session in 5 days, nor the one in 45 days; on request counts.
    assert set(titles("availability=soon")) == {
        "社区消防安全培训",
        "居家养老上门服务",
        "应急救护技能培训",
    }
    assert set(titles("availability=soon&price=free")) == {
        "社区消防安全培训",
        "应急救护技能培训",
    }


def test_paused_and_closed_offerings_are_not_browsed(catalog):
    listed = titles()
    assert "暂停的培训" not in listed
    assert "下架的设备" not in listed
    assert offering_facets(params=params()).counts("kind")["equipment"] == 0


def test_the_text_box_matches_titles_summaries_and_synonyms(catalog):
    # Trainings first; a lecture is a kind of training (a synonym).
    assert set(titles("q=培训")[:2]) == {"应急救护技能培训", "社区消防安全培训"}
    assert set(titles("q=培训")) == {
        "社区消防安全培训",
        "应急救护技能培训",
        "慢性病健康讲座",
    }
    assert titles("q=止血") == ["应急救护技能培训"]
    assert offering_facets(params=params("q=培训&kind=training")).total == 3


def test_a_browse_for_the_page_alone_finds_the_same_offerings_uncounted(catalog):
    engine = browse_engine()
    query = BrowseQuery(
        text="培训",
        filters={"department": [catalog["civil"].department_id]},
        sort=RELEVANCE,
    )
    full = engine.browse(query)
    lean = engine.browse(replace(query, facets=False))
    assert [o.title for o in lean.offerings] == [o.title for o in full.offerings]
    assert [o.title for o in lean.offerings] == ["社区消防安全培训"]
    assert lean.total == full.total == 1
    assert lean.counts == {"total": {"": 1}}
    # Nothing has both words: the full browse suggests each alone, the lean none.
    nothing = BrowseQuery(text="止血 养老", sort=RELEVANCE)
    assert engine.browse(nothing).suggestions
    assert engine.browse(replace(nothing, facets=False)).suggestions == []


def test_malformed_values_are_ignored_and_unknown_ids_match_nothing(catalog):
    assert len(titles("kind=rocket&category=abc&page=x&sort=best")) == 5
    assert titles("department=999999") == []


def test_sort_by_newest_and_by_upcoming_session(catalog):
    assert titles() == [
        "应急救护技能培训",
        "社区议事厅",
        "慢性病健康讲座",
        "居家养老上门服务",
        "社区消防安全培训",
    ]
    # Offerings without an upcoming session come last.
    assert titles("sort=upcoming") == [
        "社区议事厅",
        "社区消防安全培训",
        "应急救护技能培训",
        "慢性病健康讲座",
        "居家养老上门服务",
    ]


def test_the_page_shows_departments_and_next_sessions(client, operator, catalog):
    client.force_login(operator)
    response = client.get(catalog_index_page().url + "?kind=training")
    assert response.status_code == 200
    text = response.text
    assert "应急救护技能培训" in text
    assert "居家养老上门服务" not in text
    assert catalog["health"].title in text
    assert 'name="kind" value="training" id="f-kind-training" checked' in text


def test_the_script_gets_the_browsing_region_only(client, operator, catalog):
    client.force_login(operator)
    url = catalog_index_page().url
    response = client.get(url, headers={"X-Requested-With": "XMLHttpRequest"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "data-browse-form" in response.text
    assert "X-Requested-With" in response["Vary"]
    assert "<html" in client.get(url).text


def test_pagination_keeps_the_choices(client, operator, street):
    department_page = corner(DepartmentFactory(region=street.district))
    for number in range(23):
        offering(department_page, title=f"培训{number:02d}", published_days_ago=number)
    first = catalog_browse(params=params())
    assert first.facets.total == 23
    assert len(first.page.object_list) == 20
    second = catalog_browse(params=params("page=2"), page_number=2)
    assert [o.title for o in second.page.object_list] == ["培训20", "培训21", "培训22"]
    client.force_login(operator)
    text = client.get(catalog_index_page().url + "?kind=training").text
    assert "?kind=training&amp;page=2" in text


def test_queries_do_not_grow_with_the_page_size(
    client, operator, street, cache_on, django_assert_max_num_queries
):
    department_page = corner(DepartmentFactory(region=street.district))
    url = catalog_index_page().url
    client.force_login(operator)
    offering(department_page, title="唯一的培训", sessions=[(3, 10, 0)])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for number in range(24):
        offering(department_page, title=f"培训{number:02d}", sessions=[(3, 10, 0)])
    with CaptureQueriesContext(connection) as full:
        client.get(url)
    assert len(full) == len(one)
    # Seven are the fixed cost of any page: Wagtail's routing and the user with
    # their unit; the catalog adds its facet counts, the page's offerings and
    # the row of collections (专题) above browsing.
    with django_assert_max_num_queries(10):
        client.get(
            url + "?kind=training&delivery=at_community&price=free&sort=upcoming"
        )


def test_the_catalog_is_for_signed_in_users(client, street):
    url = catalog_index_page().url
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
