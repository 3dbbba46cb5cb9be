"""Chinese text analysis: the short queries communities type find the long
titles departments write, domain terms are not cut apart, synonyms that
administrators add in the CMS work at the next search, and matches are
marked safely."""

import jieba
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.safestring import SafeString

from search import analysis
from search.analysis import highlight, index_tokens, query_terms
from search.models import SynonymGroup

pytestmark = pytest.mark.django_db

TITLE = "社区消防安全知识培训"


@pytest.fixture(autouse=True)
def lexicon_restored():
    """Tests roll back the synonyms they add; this process must forget them too."""
    before = analysis.current_lexicon()
    yield
    analysis.install_lexicon(before)


def finds(query: str, text: str) -> bool:
    """Whether an engine would match: every term has a word among the tokens."""
    tokens = set(index_tokens(text))
    terms = query_terms(query)
    return bool(terms) and all(tokens & set(synonyms) for synonyms in terms)


def test_a_training_title_is_indexed_under_each_of_its_words():
    tokens = index_tokens(TITLE)
    assert {"社区", "消防", "安全", "消防安全", "知识", "培训"} <= set(tokens)


def test_fire_training_query_is_two_terms_widened_by_synonyms():
    fire, training = query_terms("消防培训")
    assert fire[0] == "消防" and "防火" in fire
    assert training[0] == "培训" and "讲座" in training
    tokens = set(index_tokens(TITLE))
    assert tokens & set(fire) and tokens & set(training)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("消防培训", TITLE),
        ("防火讲座", TITLE),
        ("消防安全", "防火安全进社区"),
        ("安全知识", TITLE),
        ("养老", "老年人防诈骗讲座"),
        ("反诈", "老年人防诈骗讲座"),
        ("心理疏导", "社区心理健康讲座"),
        ("应急演练", "高层住宅应急疏散演练"),
        ("电动车", "电动自行车充电安全"),
        ("助餐点", "长者食堂助餐服务"),
        ("ＡＰＰ", "随申办APP使用培训"),
        ("12345", "12345热线工单处理"),
    ],
)
def test_short_queries_find_the_offerings_they_mean(query, text):
    assert finds(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("消防培训", "社区垃圾分类培训"),
        ("心理疏导", TITLE),
        # Without 楼组长 in the dictionary the query would be 楼 + 组长.
        ("楼组长", "楼宇党建组长培训"),
        ("村改居", "村委会改选和居民议事"),
    ],
)
def test_queries_do_not_find_offerings_about_something_else(query, text):
    assert not finds(query, text)


def test_domain_terms_stay_whole():
    assert query_terms("村改居") == [("村改居",)]
    assert query_terms("一网通办")[0][0] == "一网通办"
    assert [terms[0] for terms in query_terms("12345热线")] == ["12345", "热线"]
    tokens = index_tokens("村改居社区一网通办操作培训")
    assert {"村改居", "一网通办"} <= set(tokens)


def test_function_words_punctuation_and_case_are_ignored():
    assert query_terms("消防 的 培训！") == query_terms("消防培训")
    assert index_tokens("Wi-Fi 与 APP，１２３４５") == ["wi", "fi", "app", "12345"]
    assert query_terms("的") == []


def test_a_single_character_query_is_kept():
    assert query_terms("火") == [("火",)]
    assert finds("火", "冬季用电用火安全")


def test_autocomplete_keeps_the_unfinished_last_character():
    terms = query_terms("消防培", prefix=True)
    assert [synonyms[0] for synonyms in terms] == ["消防", "培"]


def test_synonyms_added_in_the_cms_work_for_the_next_query(client, administrator):
    assert not finds("微站", "微型消防站建设培训")

    client.force_login(administrator)
    response = client.post(
        reverse("wagtailsnippets_search_synonymgroup:add"),
        {"words": "微型消防站，微站", "note": "基层叫法"},
    )

    assert response.status_code == 302
    assert SynonymGroup.objects.get(note="基层叫法").words == "微型消防站、微站"
    assert query_terms("微站") == [("微站", "微型消防站")]
    assert finds("微站", "微型消防站建设培训")


def test_a_synonym_group_deleted_in_the_cms_stops_widening(client, administrator):
    group = SynonymGroup.objects.get(words__startswith="消防、")
    assert finds("消防", "防火安全进社区")
    client.force_login(administrator)

    response = client.post(
        reverse("wagtailsnippets_search_synonymgroup:delete", args=[group.pk])
    )

    assert response.status_code == 302
    assert query_terms("消防") == [("消防",)]
    assert not finds("消防", "防火安全进社区")


def test_domain_terms_added_in_the_cms_are_cut_whole(client, administrator):
    assert "楼宇长" not in index_tokens("楼宇长工作培训")
    client.force_login(administrator)

    response = client.post(
        reverse("wagtailsnippets_search_domainterm:add"), {"word": "楼宇长"}
    )

    assert response.status_code == 302
    assert "楼宇长" in index_tokens("楼宇长工作培训")
    assert query_terms("楼宇长") == [("楼宇长",)]


def test_a_change_made_in_another_worker_arrives_within_seconds(cache_on, monkeypatch):
    analysis.reload()
    # Another worker saved a group: its row, then a new shared version. This
    # process got no signal.
    SynonymGroup.objects.bulk_create([SynonymGroup(words="微型消防站、微站")])
    monkeypatch.setattr(analysis, "CHECK_SECONDS", 3600)
    assert "微型消防站" not in sum(query_terms("微站"), ())

    cache.set(analysis.VERSION_CACHE_KEY, "from-another-worker")
    monkeypatch.setattr(analysis, "CHECK_SECONDS", 0)

    assert query_terms("微站") == [("微站", "微型消防站")]


def test_other_workers_are_told_only_once_the_change_is_committed(
    cache_on, django_capture_on_commit_callbacks
):
    analysis.reload()
    before = cache.get(analysis.VERSION_CACHE_KEY)
    told = []

    def listener(**kwargs):
        told.append(kwargs["sender"])

    analysis.dictionary_changed.connect(listener, dispatch_uid="test-told")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            SynonymGroup.objects.create(words="微型消防站、微站")
            assert cache.get(analysis.VERSION_CACHE_KEY) == before
            assert told == []
    finally:
        analysis.dictionary_changed.disconnect(dispatch_uid="test-told")

    assert cache.get(analysis.VERSION_CACHE_KEY) != before
    assert len(told) == 1


def test_administrators_find_the_dictionary_in_the_cms(client, administrator):
    client.force_login(administrator)
    terms = client.get(
        reverse("wagtailsnippets_search_domainterm:list"), {"q": "村改居"}
    )
    synonyms = client.get(
        reverse("wagtailsnippets_search_synonymgroup:list"), {"q": "养老"}
    )
    assert "村改居" in terms.text
    assert "养老、为老、老年人" in synonyms.text


def test_publishers_cannot_change_the_dictionary(client, publisher):
    client.force_login(publisher)
    response = client.post(
        reverse("wagtailsnippets_search_synonymgroup:add"), {"words": "消防、灭火"}
    )
    assert response.status_code in (302, 403)
    assert not SynonymGroup.objects.filter(words__contains="灭火").exists()


@pytest.mark.parametrize(
    ("words", "error"),
    [
        ("养老", "同义词组至少需要两个不同的词"),
        ("养老、养老", "同义词组至少需要两个不同的词"),
        ("心理 疏导、心理健康", "“心理 疏导”中含有空格"),
        ("消防、火", "“火”只有一个字"),
        ("消防、防火！", "“防火!”只能包含汉字、字母和数字"),
    ],
)
def test_a_bad_synonym_group_is_refused_with_a_chinese_message(
    client, administrator, words, error
):
    client.force_login(administrator)
    groups = SynonymGroup.objects.count()

    response = client.post(
        reverse("wagtailsnippets_search_synonymgroup:add"), {"words": words}
    )

    assert response.status_code == 200
    assert error in response.text
    assert SynonymGroup.objects.count() == groups


def test_highlight_marks_every_term_and_escapes_the_text():
    marked = highlight("<b>社区</b>消防安全知识培训", ["培训", "消防", "消防安全"])
    assert isinstance(marked, SafeString)
    # The longest term wins; marks never nest.
    assert marked == "&lt;b&gt;社区&lt;/b&gt;<mark>消防安全</mark>知识<mark>培训</mark>"


def test_highlight_marks_latin_words_whole_whatever_the_case():
    marked = highlight("APP 培训（application）", ["app"])
    assert marked == "<mark>APP</mark> 培训（application）"


def test_highlight_window_cuts_around_the_first_match():
    text = (
        "本课程面向社区工作者。" * 10 + "重点讲解消防安全知识。" + "课后发放资料。" * 10
    )
    snippet = highlight(text, ["消防"], window=30)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>消防</mark>" in snippet
    visible = snippet.replace("<mark>", "").replace("</mark>", "").strip("…")
    assert 25 <= len(visible) <= 35


def test_highlight_window_without_a_match_keeps_the_beginning():
    assert highlight("一二三四五六七八九十", ["消防"], window=4) == "一二三四…"


def test_segmentation_is_jiebas_own():
    # analysis cuts with its own faster copy of jieba's route search; documents
    # and queries must still be cut exactly as jieba documents its modes.
    tokenizer = analysis._tokenizer()
    text = (
        "为提升居民消防安全意识，区消防救援支队联合街道开展培训：家庭火灾预防、"
        "电动自行车安全充电、灭火器使用。报名请拨打12345或通过APP，费用3.5元/人。"
    )
    assert analysis._cut(tokenizer, text) == [
        word for word in jieba.Tokenizer.cut(tokenizer, text, HMM=False)
    ]
    assert analysis._cut_for_search(tokenizer, text) == list(
        tokenizer.cut_for_search(text, HMM=False)
    )
