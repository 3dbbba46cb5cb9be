"""What communities find when they type a short query into the catalog: for
each query of the relevance suite, the offerings a community worker expects
are among the first ten, the plainly best one first, and offerings that only
look alike (防汛 for 消防, 托育 for 养老) stay out.

The corpus (tests/search/corpus.py) is published once for the module through
Wagtail, so its catalog entries and its search index come from the real
publishing flow; each query then browses the catalog as the catalog page does.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.http import QueryDict
from django.test import TestCase, override_settings
from wagtail.signal_handlers import disable_reference_index_auto_update

from catalog.selectors import catalog_browse
from portal.models import Region, RegionLevel, Role
from search import analysis
from search.backends import database
from search.models import IndexedOffering
from tests.factories import (
    CommunityFactory,
    DistrictFactory,
    StreetFactory,
    UserFactory,
)
from tests.search.corpus import OFFERINGS, RELEVANCE_QUERIES, RelevanceQuery
from tests.search.helpers import corpus_publish

TOP = 10
# The suite as a whole, as the issue sets it for the benchmark too.
MEAN_RECALL_TARGET = 0.95


# Wagtail's own page search index and reference index, which the catalog does
# not read, take a third of the publishing time: they are left out here.
WAGTAIL_INDEXES_OFF = override_settings(
    WAGTAILSEARCH_BACKENDS={
        "default": {
            "BACKEND": "wagtail.search.backends.database",
            "AUTO_UPDATE": False,
        }
    }
)


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker):
    """The corpus, published and indexed once for every test here, inside one
    transaction rolled back at the end so other modules never see it. The
    index is written by the on-commit task, run as the commit would run it."""
    with django_db_blocker.unblock(), transaction.atomic():
        # The dictionary and synonyms as migrated, not another test's.
        analysis.install_lexicon(None)
        with (
            WAGTAIL_INDEXES_OFF,
            disable_reference_index_auto_update(),
            TestCase.captureOnCommitCallbacks(execute=True),
        ):
            pages = corpus_publish(DistrictFactory())
        yield pages
        transaction.set_rollback(True)
    analysis.install_lexicon(None)


def top_titles(text: str) -> list[str]:
    browse = catalog_browse(params=QueryDict(urlencode({"q": text})), user=None)
    return [offering.title for offering in browse.page.object_list][:TOP]


def recall(query: RelevanceQuery, titles: list[str]) -> float:
    return sum(title in titles for title in query.expected) / len(query.expected)


@pytest.mark.django_db
def test_the_whole_corpus_is_indexed_by_publishing(corpus):
    assert IndexedOffering.objects.count() == len(OFFERINGS) == len(corpus)


@pytest.mark.django_db
@pytest.mark.parametrize("query", RELEVANCE_QUERIES, ids=lambda query: query.text)
def test_a_community_finds_what_it_looks_for(corpus, query):
    titles = top_titles(query.text)
    missing = [title for title in query.expected if title not in titles]
    assert not missing, f"{query.text}: missing {missing} from the first ten {titles}"
    if query.first:
        assert titles[0] == query.first, f"{query.text}: first ten {titles}"
    look_alikes = [title for title in query.excluded if title in titles]
    assert not look_alikes, f"{query.text}: {look_alikes} among {titles}"


@pytest.mark.django_db
def test_the_suite_reaches_its_recall_target(corpus):
    scores = {
        query.text: recall(query, top_titles(query.text)) for query in RELEVANCE_QUERIES
    }
    mean = sum(scores.values()) / len(scores)
    below = {text: round(score, 2) for text, score in scores.items() if score < 1}
    assert mean >= MEAN_RECALL_TARGET, f"recall@10 {mean:.3f}; below 1: {below}"


@pytest.mark.django_db
@pytest.mark.skipif(
    database.connection.vendor != "sqlite", reason="SQLite's two ways to rank"
)
@pytest.mark.parametrize("scoped", [False, True], ids=["everyone", "a community"])
def test_offerings_rank_alike_however_many_state_the_words(corpus, monkeypatch, scoped):
    """SQLite ranks a few offerings stating the words in Python and many in
    SQL: both give every suite query the same first page, in the same order,
    whether the whole catalog is searched or a community's part of it."""
    user = None
    if scoped:
        district = Region.objects.get(level=RegionLevel.DISTRICT)
        community = CommunityFactory(parent=StreetFactory(parent=district))
        user = UserFactory(role=Role.COMMUNITY_OPERATOR, region=community)

    def first_pages() -> dict[str, list[int]]:
        return {
            query.text: [
                offering.pk
                for offering in catalog_browse(
                    params=QueryDict(urlencode({"q": query.text, "kind": "training"})),
                    user=user,
                ).page.object_list
            ]
            for query in RELEVANCE_QUERIES
        }

    in_python = first_pages()
    monkeypatch.setattr(database, "STATED_RANKED_IN_PYTHON", 0)
    assert first_pages() == in_python
    assert sum(map(len, in_python.values())) > len(RELEVANCE_QUERIES)
