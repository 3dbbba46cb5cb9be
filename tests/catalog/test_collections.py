"""Collections (专题): a page that keeps catalog filters and an introduction and
lists the open offerings that match them, written by the organization
department and administrators in the CMS."""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import GroupPagePermission, Page
from wagtail.test.utils.form_data import querydict_from_html, rich_text

from catalog.models import (
    CatalogCollectionPage,
    Category,
    OfferingPage,
    OfferingStatus,
)
from catalog.services import (
    catalog_index_page,
    collection_editors_sync,
    collection_index_page,
    department_staff_groups_sync,
)
from portal.models import Role, User
from portal.roles import ROLE_GROUP_NAMES
from tests.catalog.helpers import corner, offering
from tests.factories import DepartmentFactory, FamilyFactory, UserFactory

pytestmark = pytest.mark.django_db


def _offerings(street):
    """Open offerings of two departments, and two that browsing never shows.

    | title            | dept | kind     | category | delivery      | fee | seats ≤30 d |
    | 防汛防台应急培训 | 应急 | training | 防汛防台 | at_community  | 0   | yes (10 d)  |
    | 防汛专家驻点     | 应急 | expert   | 防汛防台 | at_community  | 0   | on request  |
    | 防汛物资配送     | 应急 | service  | 防汛防台 | at_department | 80  | no (45 d)   |
    | 综合应急演练指导 | 应急 | training | 应急演练 | online        | 0   | yes (3 d)   |
    | 老年人防诈骗讲座 | 公安 | training | 反诈宣传 | at_community  | 0   | yes (5 d)   |
    | 暂停的防汛培训   | 应急 | training | 防汛防台 | paused                            |
    | 下架的防汛沙袋   | 应急 | material | 防汛防台 | closed                            |
    """
    emergency = corner(
        DepartmentFactory(region=street.district, family=FamilyFactory(name="应急"))
    )
    police = corner(
        DepartmentFactory(region=street.district, family=FamilyFactory(name="公安"))
    )
    offering(
        emergency,
        title="防汛防台应急处置培训",
        category="防汛防台",
        sessions=[(10, 30, 0)],
        published_days_ago=5,
    )
    offering(
        emergency,
        title="防汛专家驻点指导",
        kind="expert",
        category="防汛防台",
        availability="on_request",
        published_days_ago=4,
    )
    offering(
        emergency,
        title="防汛物资配送",
        kind="service",
        category="防汛防台",
        delivery_mode="at_department",
        fee=80,
        sessions=[(45, 20, 0)],
        published_days_ago=3,
    )
    offering(
        emergency,
        title="综合应急演练指导",
        category="应急演练",
        delivery_mode="online",
        sessions=[(3, 20, 0)],
        published_days_ago=2,
    )
    offering(
        police,
        title="老年人防诈骗宣传讲座",
        category="反诈宣传",
        sessions=[(5, 40, 0)],
        published_days_ago=1,
    )
    offering(
        emergency,
        title="暂停的防汛培训",
        category="防汛防台",
        status=OfferingStatus.PAUSED,
    )
    offering(
        emergency,
        title="下架的防汛沙袋",
        kind="material",
        category="防汛防台",
        status=OfferingStatus.CLOSED,
    )
    return {"emergency": emergency, "police": police}


@pytest.fixture
def offerings(street, django_capture_on_commit_callbacks):
    # Published as in the CMS: the search index is written after the commit.
    with django_capture_on_commit_callbacks(execute=True):
        return _offerings(street)


def collection(
    *,
    title="2026 防汛防台专题",
    categories=(),
    live=True,
    **criteria,
) -> CatalogCollectionPage:
    page = CatalogCollectionPage(
        title=title, introduction="<p>汛期将至，请提前点单。</p>", **criteria
    )
    collection_index_page().add_child(instance=page)
    page.categories.set(Category.objects.filter(name__in=categories))
    revision = page.save_revision()
    if live:
        revision.publish()
    else:
        Page.objects.filter(pk=page.pk).update(live=False)
    return page


def listed(client, page, query: str = "") -> list[str]:
    response = client.get(page.url + query)
    assert response.status_code == 200
    return [o.title for o in response.context["browse"].page.object_list]


def chips(html: str) -> list[str]:
    # Whichever colon the translation uses between heading and values.
    found = re.findall(r'<li class="chip">(.*?)</li>', html)
    return [re.sub(r"\s*[:：]\s*", "：", chip, count=1) for chip in found]


def test_a_collection_lists_exactly_its_open_matching_offerings(
    client, operator, offerings
):
    flood = collection(categories=["防汛防台", "应急演练"])
    client.force_login(operator)
    response = client.get(flood.url)
    assert response.status_code == 200
    # Newest first; neither the paused nor the closed offering.
    assert [o.title for o in response.context["browse"].page.object_list] == [
        "综合应急演练指导",
        "防汛物资配送",
        "防汛专家驻点指导",
        "防汛防台应急处置培训",
    ]
    text = response.text
    assert "暂停的防汛培训" not in text
    assert "下架的防汛沙袋" not in text
    assert "汛期将至，请提前点单。" in text
    assert offerings["emergency"].title in text


def test_criteria_combine_and_are_shown_as_chips(client, operator, offerings):
    # Free trainings and experts of the emergency family with seats soon.
    family = offerings["emergency"].department.family
    page = collection(
        categories=["防汛防台", "应急演练", "反诈宣传"],
        kinds=["training", "expert"],
        seats_open_soon=True,
        free_only=True,
        delivery_modes=["at_community"],
    )
    page.families.set([family])
    page.save_revision().publish()
    client.force_login(operator)
    assert set(listed(client, page)) == {"防汛防台应急处置培训", "防汛专家驻点指导"}
    assert chips(client.get(page.url).text) == [
        "类别：培训课程、专家",
        "分类：防汛防台、应急演练、反诈宣传",
        "条线：应急",
        "服务方式：到社区",
        "供给安排：30 天内有余位",
        "费用：免费",
    ]


def test_the_text_criterion_matches_title_and_summary(client, operator, offerings):
    page = collection(query="防诈骗")
    client.force_login(operator)
    assert listed(client, page) == ["老年人防诈骗宣传讲座"]


def test_visitors_can_narrow_a_collection_but_never_widen_it(
    client, operator, offerings
):
    flood = collection(categories=["防汛防台"], free_only=True)
    client.force_login(operator)
    anti_fraud = Category.objects.get(name="反诈宣传")
    # Another category, paid offerings too: the collection's own choices hold.
    widened = listed(client, flood, f"?category={anti_fraud.pk}&price=free&price=paid")
    assert set(widened) == {"防汛防台应急处置培训", "防汛专家驻点指导"}
    # Facets and text the collection leaves open narrow it.
    assert listed(client, flood, "?kind=expert") == ["防汛专家驻点指导"]
    assert listed(client, flood, "?q=驻点") == ["防汛专家驻点指导"]
    # The collection's own text cannot be swapped for another.
    anti_fraud_talks = collection(title="反诈专题", query="防诈骗")
    assert listed(client, anti_fraud_talks, "?q=防汛") == ["老年人防诈骗宣传讲座"]


def test_sorting_by_upcoming_session(client, operator, offerings):
    flood = collection(categories=["防汛防台", "应急演练"])
    client.force_login(operator)
    # Sessions in 3, 10 and 45 days; the one on request has none and comes last.
    assert listed(client, flood, "?sort=upcoming") == [
        "综合应急演练指导",
        "防汛防台应急处置培训",
        "防汛物资配送",
        "防汛专家驻点指导",
    ]
    text = client.get(flood.url + "?sort=upcoming").text
    assert '<option value="upcoming" selected>' in text


def test_a_collection_without_matches_leads_to_the_whole_catalog(
    client, operator, offerings
):
    page = collection(categories=["垃圾分类"])
    client.force_login(operator)
    response = client.get(page.url)
    assert listed(client, page) == []
    assert f'href="{catalog_index_page().url}"' in response.text
    assert "results__empty" in response.text


def test_collections_are_for_signed_in_users_unless_the_catalog_is_public(
    client, offerings, settings
):
    flood = collection(categories=["防汛防台"])
    response = client.get(flood.url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    settings.CATALOG_PUBLIC = True
    assert client.get(flood.url).status_code == 200


def test_the_catalog_shows_its_live_collections(client, operator, offerings):
    collection(title="2026 防汛防台专题", categories=["防汛防台"])
    collection(title="反诈宣传专题", categories=["反诈宣传"])
    collection(title="还在起草的专题", categories=["养老服务"], live=False)
    client.force_login(operator)
    response = client.get(catalog_index_page().url)
    assert [c.title for c in response.context["browse"].lookups.collections] == [
        "2026 防汛防台专题",
        "反诈宣传专题",
    ]
    assert "汛期将至，请提前点单。" in response.text
    assert "还在起草的专题" not in response.text
    # The block leads to the collections' own page, /catalog/topics/.
    topics = collection_index_page()
    assert topics.url == catalog_index_page().url + "topics/"
    assert f'href="{topics.url}"' in response.text


def test_the_topics_page_lists_the_live_collections(client, operator, offerings):
    collection(title="2026 防汛防台专题", categories=["防汛防台"])
    collection(title="反诈宣传专题", categories=["反诈宣传"])
    collection(title="还在起草的专题", categories=["养老服务"], live=False)
    client.force_login(operator)
    topics = collection_index_page()
    response = client.get(topics.url)
    assert response.status_code == 200
    text = response.text
    assert re.findall(r'class="collection-card__title">(.*?)<', text) == [
        "2026 防汛防台专题",
        "反诈宣传专题",
    ]
    assert "汛期将至，请提前点单。" in text
    assert "还在起草的专题" not in text
    # Each card leads to its collection, whose breadcrumb leads back here.
    flood = CatalogCollectionPage.objects.get(title="2026 防汛防台专题")
    assert f'href="{flood.url}"' in text
    assert f'href="{topics.url}"' in client.get(flood.url).text
    assert f'href="{catalog_index_page().url}"' in text


def test_the_topics_page_reads_its_collections_at_once(
    client, operator, offerings, cache_on
):
    client.force_login(operator)
    url = collection_index_page().url

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    collection(title="2026 防汛防台专题", categories=["防汛防台"])
    queries()  # fills the cache
    with_one = queries()
    for number in range(3):
        collection(title=f"专题{number}", categories=["反诈宣传"])
    assert queries() == with_one


def test_the_topics_page_says_when_there_is_no_collection_yet(client, operator):
    collection(title="还在起草的专题", live=False)
    client.force_login(operator)
    response = client.get(collection_index_page().url)
    assert response.status_code == 200
    assert "results__empty" in response.text
    assert "collection-card" not in response.text
    assert f'href="{catalog_index_page().url}"' in response.text


# ------------------------------------------------------------------ the CMS


def add_url() -> str:
    return reverse(
        "wagtailadmin_pages:add",
        args=["catalog", "catalogcollectionpage", collection_index_page().pk],
    )


def create_collection(client, *, title: str, category: Category):
    """Fill in and publish the CMS form for a new collection."""
    data = querydict_from_html(client.get(add_url()).text, form_id="page-edit-form")
    data["title"] = title
    data["slug"] = "flood-2026"
    data["introduction"] = rich_text("<p>汛期专题</p>")
    data.setlist("categories", [str(category.pk)])
    data.setlist("kinds", ["training"])
    data["action-publish"] = "action-publish"
    return client.post(add_url(), data)


def test_the_organization_department_publishes_a_collection_in_the_cms(
    client, organization_officer, offerings
):
    client.force_login(organization_officer)
    topics = collection_index_page()
    # "Add child page" on the topics page goes straight to a collection's form.
    add_child = reverse("wagtailadmin_pages:add_subpage", args=[topics.pk])
    assert client.get(add_child)["Location"] == add_url()
    flood = Category.objects.get(name="防汛防台")
    response = create_collection(client, title="2026 防汛防台专题", category=flood)
    assert response.status_code == 302
    page = CatalogCollectionPage.objects.get(title="2026 防汛防台专题")
    assert page.live
    assert page.get_parent().pk == topics.pk
    assert page.kinds == ["training"]
    assert list(page.categories.all()) == [flood]
    edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
    assert client.get(edit).status_code == 200
    client.force_login(UserFactory())
    assert "2026 防汛防台专题" in client.get(topics.url).text


def test_collections_are_published_without_an_approval_step(
    client, organization_officer, offerings
):
    # Wagtail's own "Moderators approval" workflow on the whole tree is gone:
    # its group is, and nobody could have approved.
    page = collection(categories=["防汛防台"])
    client.force_login(organization_officer)
    text = client.get(reverse("wagtailadmin_pages:edit", args=[page.pk])).text
    assert 'name="action-publish"' in text
    assert 'name="action-submit"' not in text
    assert "Moderators" not in text


def test_collection_rights_do_not_reach_a_departments_pages(
    client, organization_officer, offerings
):
    expert = OfferingPage.objects.get(title="防汛专家驻点指导")
    department_page = offerings["emergency"]
    client.force_login(organization_officer)
    for page in (expert, department_page, catalog_index_page()):
        edit = reverse("wagtailadmin_pages:edit", args=[page.pk])
        assert client.get(edit).status_code == 302, page.title
    add_offering = reverse(
        "wagtailadmin_pages:add",
        args=["catalog", "offeringpage", department_page.pk],
    )
    assert client.get(add_offering).status_code == 302
    add_department_page = reverse(
        "wagtailadmin_pages:add",
        args=["catalog", "departmentpage", catalog_index_page().pk],
    )
    assert client.get(add_department_page).status_code == 302


def test_rights_once_granted_on_the_catalog_index_are_taken_back(
    client, organization_officer, offerings
):
    # Before the topics page, collection editors held their rights on the
    # catalog index, and through it on every department's offerings.
    group = Group.objects.get(name=ROLE_GROUP_NAMES[Role.ORGANIZATION_DEPARTMENT])
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=catalog_index_page(),
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    expert = OfferingPage.objects.get(title="防汛专家驻点指导")
    edit = reverse("wagtailadmin_pages:edit", args=[expert.pk])
    client.force_login(organization_officer)
    assert client.get(edit).status_code == 200
    # The sync after every migrate takes them back, and keeps the topics page's.
    collection_editors_sync()
    collection_editors_sync()
    assert client.get(edit).status_code == 302
    assert client.get(add_url()).status_code == 200


def test_nobody_adds_a_department_page_by_hand(client, offerings):
    # Department pages come with their department, its groups and workflow.
    superuser = UserFactory(
        role=Role.ADMINISTRATOR, region=None, department=None, is_superuser=True
    )
    client.force_login(superuser)
    index = catalog_index_page()
    # With the topics page in place, nothing is left to add under the index:
    # its listing in the CMS offers no "add child page".
    add_child = reverse("wagtailadmin_pages:add_subpage", args=[index.pk])
    listing = client.get(reverse("wagtailadmin_explore", args=[index.pk]))
    assert listing.status_code == 200
    assert add_child not in listing.text
    assert client.get(add_child).status_code == 302
    add_department_page = reverse(
        "wagtailadmin_pages:add", args=["catalog", "departmentpage", index.pk]
    )
    assert client.get(add_department_page).status_code == 302


def test_an_administrator_may_write_collections_too(client, administrator, offerings):
    client.force_login(administrator)
    response = create_collection(
        client, title="防汛专题", category=Category.objects.get(name="防汛防台")
    )
    assert response.status_code == 302
    assert CatalogCollectionPage.objects.filter(title="防汛专题", live=True).exists()


def test_a_department_publisher_cannot_add_a_collection(client, offerings):
    department = offerings["emergency"].department
    publisher = UserFactory(
        role=Role.DEPARTMENT_PUBLISHER, region=None, department=department
    )
    department_staff_groups_sync(user_ids=[publisher.pk])
    client.force_login(publisher)
    assert client.get(add_url()).status_code == 302
    client.post(add_url(), {"title": "越权的专题", "action-publish": "1"})
    assert not CatalogCollectionPage.objects.exists()


# ---------------------------------------------------------------- demo data


@pytest.mark.database_independent  # the demo of `make run`, on SQLite
def test_the_demo_collections_match_demo_offerings_and_load_once(
    client, django_capture_on_commit_callbacks
):
    # As `make run` does: each command commits, then the search index follows.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=StringIO())
        call_command("seed_catalog_demo", stdout=StringIO())
    collections = CatalogCollectionPage.objects.live()
    assert {c.title for c in collections} == {
        "2026 防汛防台专题",
        "反诈宣传专题",
        "为老服务专题",
    }
    # A department sees the whole catalog, whatever streets an offering serves.
    client.force_login(User.objects.get(username="weijian"))
    for page in collections:
        assert len(listed(client, page)) >= 3, page.title
    topics = client.get(collection_index_page().url).text
    assert topics.count('class="collection-card"') == 3

    call_command("seed_catalog_demo", stdout=StringIO())
    assert CatalogCollectionPage.objects.count() == 3
