"""The database engine behind the catalog's search box: short Chinese queries
find long titles, titles rank first, matches are highlighted, facets count
only matches, and the index follows publishing."""

import logging

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.urls import reverse

from catalog.models import OfferingStatus
from catalog.selectors import catalog_browse
from catalog.services import catalog_index_page
from portal.signals import units_changed
from search.models import IndexedOffering
from tests.catalog.helpers import corner, offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(django_capture_on_commit_callbacks):
    """Publish like the CMS does: the index is written after the commit."""

    def publish(department_page, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            return offering(department_page, **fields)

    return publish


@pytest.fixture
def shelf(department, published):
    page = corner(department)
    return {
        "fire": published(
            page,
            title="社区消防安全知识培训",
            summary="讲解家庭火灾隐患排查和灭火器使用。",
        ),
        "elderly": published(
            page,
            title="老年人防诈骗讲座",
            kind="service",
            category="反诈宣传",
            summary="结合真实案例，帮助老人识别电信网络诈骗。",
        ),
        "drill": published(
            page,
            title="应急疏散演练指导",
            category="应急演练",
            summary="指导社区组织一次消防疏散演练。",
        ),
        "page": page,
    }


def titles(query: str, user=None) -> list[str]:
    browse = catalog_browse(params=QueryDict(query), user=user)
    return [o.title for o in browse.page.object_list]


def test_a_short_query_finds_the_long_title(shelf):
    assert titles("q=消防培训") == ["社区消防安全知识培训"]


def test_title_matches_rank_above_summary_matches(shelf):
    # Both mention 消防; only the first has it in its title.
    assert titles("q=消防") == ["社区消防安全知识培训", "应急疏散演练指导"]


def test_offerings_stating_the_words_come_before_those_mentioning_them_in_passing(
    department, published, settings
):
    """Many bodies mention 反诈 in passing; the few offerings about it come
    first, on the first page, and the next pages go on without repeating."""
    page = corner(department)
    stated = published(page, title="社区反诈小课堂", summary="民警讲解本地案例。")
    mentions = [
        published(
            page,
            title=f"书法体验课（第{n}期）",
            summary="面向居民的书法入门。",
            body=f"<p>活动中穿插反诈知识介绍，第{n}期。</p>",
        )
        for n in range(25)
    ]
    first = catalog_browse(params=QueryDict("q=反诈"), user=None)
    assert first.page.paginator.count == 26
    shown = [o.pk for o in first.page.object_list]
    assert shown[0] == stated.pk
    # Mentions in passing follow, the newest first.
    assert shown[1:4] == [o.pk for o in reversed(mentions)][:3]
    second = catalog_browse(params=QueryDict("q=反诈"), user=None, page_number=2)
    rest = [o.pk for o in second.page.object_list]
    assert len(rest) == 6 and not set(rest) & set(shown)


def test_synonyms_find_the_same_offerings(shelf):
    assert titles("q=反诈") == ["老年人防诈骗讲座"]
    assert "老年人防诈骗讲座" in titles("q=养老")


def test_matches_are_highlighted_and_escaped(client, operator, shelf):
    client.force_login(operator)
    text = client.get(catalog_index_page().url + "?q=消防培训").text
    assert "社区<mark>消防</mark>安全知识<mark>培训</mark>" in text
    response = client.get(catalog_index_page().url + "?q=<b>消防</b>")
    assert "<b>消防</b>" not in response.text


def test_facets_count_only_what_the_text_matches(shelf):
    browse = catalog_browse(params=QueryDict("q=消防&kind=training"))
    assert browse.facets.total == 2
    kinds = browse.facets.counts("kind")
    assert (kinds["training"], kinds["service"]) == (2, 0)


def test_paused_unpublished_and_deleted_offerings_leave_the_index(
    shelf, django_capture_on_commit_callbacks
):
    fire, drill = shelf["fire"], shelf["drill"]
    with django_capture_on_commit_callbacks(execute=True):
        fire.status = OfferingStatus.PAUSED
        fire.save_revision().publish()
    assert titles("q=消防") == ["应急疏散演练指导"]
    with django_capture_on_commit_callbacks(execute=True):
        drill.unpublish()
    assert titles("q=消防") == []
    assert not IndexedOffering.objects.filter(pk__in=[fire.pk, drill.pk]).exists()
    with django_capture_on_commit_callbacks(execute=True):
        shelf["elderly"].delete()
    assert not IndexedOffering.objects.exists()


def test_a_renamed_department_is_found_by_its_new_name(
    shelf, department, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        department.name = "普陀区消防救援支队"
        department.save()
        units_changed.send(sender=None, department_ids=[department.pk], user_ids=[])
    assert "老年人防诈骗讲座" in titles("q=救援支队")


def test_nothing_found_suggests_what_would_be(client, operator, shelf):
    client.force_login(operator)
    text = client.get(catalog_index_page().url + "?q=消防托育").text
    assert "托育" in text
    assert "搜索“消防”" in text
    text = client.get(catalog_index_page().url + "?q=消防&kind=venue").text
    assert "全部服务目录中的“消防”" in text


def test_suggestions_complete_titles_for_signed_in_users(client, operator, shelf):
    url = reverse("search_suggest")
    assert client.get(url, {"q": "消防"}).status_code == 403
    client.force_login(operator)
    assert client.get(url, {"q": "消防"}).json()["suggestions"] == [
        "社区消防安全知识培训"
    ]
    assert client.get(url, {"q": "老年人防"}).json()["suggestions"] == [
        "老年人防诈骗讲座"
    ]
    assert client.get(url, {"q": ""}).json()["suggestions"] == []


def test_the_index_command_rebuilds_updates_and_reports(shelf, capsys):
    IndexedOffering.objects.all().delete()
    call_command("search_index", "status")
    assert "0" in capsys.readouterr().out
    call_command("search_index", "rebuild", "--no-progress")
    assert "3" in capsys.readouterr().out
    assert titles("q=消防培训") == ["社区消防安全知识培训"]
    call_command("search_index", "update", "--no-progress")
    call_command("search_index", "status")
    assert IndexedOffering.objects.count() == 3


def test_elasticsearch_down_answers_from_the_database(settings, shelf, caplog):
    # Nothing listens on port 9: the cluster is down.
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    with caplog.at_level(logging.WARNING, logger="search"):
        assert titles("q=消防培训") == ["社区消防安全知识培训"]
    assert "unavailable" in caplog.text
