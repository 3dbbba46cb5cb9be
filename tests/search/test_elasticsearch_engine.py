"""The Elasticsearch engine against the client's request/response contract:
the index definition, the exact bodies of browse requests (disjunctive
facets, text with synonyms, scope, sorts, slices), answers read from recorded
Elasticsearch 9 responses, the rebuild as a sequence of requests, and a
cluster that cannot be reached. The tests at the end run against a real
cluster, and only when ELASTICSEARCH_URL is set."""

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import pytest
from elastic_transport import (
    ApiResponseMeta,
    BaseNode,
    ConnectionError,
    ConnectionTimeout,
    HttpHeaders,
)
from elasticsearch import BadRequestError, Elasticsearch
from elasticsearch.helpers import BulkIndexError

from catalog.browsing import AreaChoice, BrowseQuery, EntryEngine
from search.backends import FallbackEngine
from search.backends import elasticsearch as es_engine
from search.backends.base import IndexStatus, SearchDocument, SearchUnavailable
from search.backends.elasticsearch import ElasticsearchEngine, index_definition
from tests.catalog.helpers import corner, offering
from tests.factories import DepartmentFactory, FamilyFactory, StreetFactory

# Browsing loads the page's offerings from the database.
pytestmark = pytest.mark.django_db

RECORDED = Path(__file__).parent / "recorded"
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
NEW_INDEX = "diandan-offerings-20250301080000000000"
LIVE_INDEX = "diandan-offerings-20250201080000000000"
ALIAS = "diandan-offerings"
BUILDING = "diandan-offerings-building"


# A cluster on a script ---------------------------------------------------------


class Answer(NamedTuple):
    """What a node returns to the transport (elastic_transport's
    NodeApiResponse, which the package does not export)."""

    meta: ApiResponseMeta
    body: bytes


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, list[str]]
    body: Any
    timeout: Any


class Cluster:
    """Answers each request with the next exchange of a script (method, path,
    status, JSON body and optionally the response headers; or an exception
    the connection raises) and records what the client sent, bodies decoded
    (bulk bodies as a list of lines)."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests: list[Request] = []

    def client(self) -> Elasticsearch:
        cluster = self

        class Node(BaseNode):
            def perform_request(
                self, method, target, body=None, headers=None, request_timeout=None
            ):
                return cluster.answer(
                    self.config, method, target, body, request_timeout
                )

        # Retries as the engine's own client does (shared_client).
        return Elasticsearch("http://es.test:9200", node_class=Node, max_retries=1)

    def answer(self, config, method, target, body, timeout) -> Answer:
        url = urlsplit(target)
        self.requests.append(
            Request(method, url.path, parse_qs(url.query), _decode(body), timeout)
        )
        assert self.script, f"unexpected request {method} {target}"
        exchange = self.script.pop(0)
        if isinstance(exchange, Exception):
            raise exchange
        expected_method, expected_path, status, payload, *headers = exchange
        assert (method, url.path) == (expected_method, expected_path)
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders(
                headers[0]
                if headers
                else {
                    "x-elastic-product": "Elasticsearch",
                    "content-type": "application/vnd.elasticsearch+json;compatible-with=9",
                }
            ),
            duration=0.001,
            node=config,
        )
        return Answer(meta, json.dumps(payload).encode())

    @property
    def sent(self) -> list[tuple[str, str]]:
        return [(request.method, request.path) for request in self.requests]


def _decode(body: bytes | None) -> Any:
    if body is None:
        return None
    text = body.decode()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line]


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


def script(name: str) -> list[tuple]:
    """A recorded sequence of exchanges as a script."""
    return [
        (
            item["request"]["method"],
            item["request"]["path"],
            item["response"]["status"],
            item["response"]["body"],
        )
        for item in recorded(name)
    ]


def search(payload: Any, status: int = 200) -> tuple:
    return ("POST", f"/{ALIAS}/_search", status, payload)


def engine_on(cluster: Cluster) -> ElasticsearchEngine:
    return ElasticsearchEngine(client=cluster.client(), now=lambda: NOW)


@pytest.fixture
def segmenter(monkeypatch):
    """Queries cut on spaces, 老人 with two synonyms: request bodies that do
    not hang on the dictionary."""
    synonyms = {"老人": ("老人", "长者", "老年人")}

    def query_terms(text, *, prefix=False):
        return [synonyms.get(word, (word,)) for word in text.split()]

    monkeypatch.setattr(es_engine, "query_terms", query_terms)


def document(offering_id: int, **fields) -> SearchDocument:
    values = {
        "offering_id": offering_id,
        "title": "社区消防安全培训",
        "summary": "消防知识讲座和灭火器实操演练。",
        "body": "",
        "department": "普陀区消防救援支队",
        "keywords": "消防安全 安全应急",
        "title_tokens": "社区 消防 安全 消防安全 培训",
        "summary_tokens": "消防 知识 讲座 灭火器 实操 演练",
        "body_tokens": "",
        "department_tokens": "普陀 普陀区 消防 救援 支队",
        "keywords_tokens": "消防 安全 消防安全 安全 应急",
        "kind": "training",
        "category_id": 11,
        "family_id": 3,
        "department_id": 21,
        "delivery_mode": "at_community",
        "availability": "scheduled",
        "is_free": True,
        "community_types": (),
        "area_ids": (7,),
        "area_ancestor_ids": (1,),
        "published_at": NOW - timedelta(days=3),
        "open_session_starts": (NOW + timedelta(days=10),),
        "session_starts": (NOW + timedelta(days=10), NOW + timedelta(days=40)),
    }
    return SearchDocument(**{**values, **fields})


# What the requests should hold ---------------------------------------------------

FIELDS = [
    "title_tokens^4",
    "summary_tokens^2",
    "keywords_tokens^2",
    "body_tokens",
    "department_tokens^0.5",
]
NEWEST = [
    {"published_at": {"order": "desc", "missing": "_last"}},
    {"offering_id": {"order": "desc"}},
]
SOON = {
    "bool": {
        "should": [
            {"term": {"availability": "on_request"}},
            {
                "nested": {
                    "path": "sessions",
                    "query": {
                        "bool": {
                            "filter": [
                                {"term": {"sessions.has_seats": True}},
                                {
                                    "range": {
                                        "sessions.starts_at": {
                                            "gte": "2025-03-01T08:00:00.000+00:00",
                                            "lt": "2025-03-31T08:00:00.000+00:00",
                                        }
                                    }
                                },
                            ]
                        }
                    },
                }
            },
        ]
    }
}


def word(text: str) -> dict:
    return {
        "multi_match": {
            "query": text,
            "fields": FIELDS,
            "type": "most_fields",
            "operator": "and",
        }
    }


def any_of(*words: str) -> dict:
    return {"bool": {"should": [word(w) for w in words], "minimum_should_match": 1}}


def for_types(*codes: str) -> dict:
    # Or naming no type at all: for every type.
    return {
        "bool": {
            "should": [
                {"terms": {"community_types": list(codes)}},
                {"bool": {"must_not": [{"exists": {"field": "community_types"}}]}},
            ]
        }
    }


def serving(region_id: int, *ancestors: int) -> dict:
    return {
        "bool": {
            "should": [
                {"terms": {"area_ids": sorted({region_id, *ancestors})}},
                {"terms": {"area_ancestor_ids": [region_id]}},
            ]
        }
    }


def every(*conditions: dict) -> dict:
    return {"bool": {"filter": list(conditions)}}


AGGS = {
    "kind": {"terms": {"field": "kind", "size": 1000}},
    "category": {"terms": {"field": "category_id", "size": 1000}},
    "family": {"terms": {"field": "family_id", "size": 1000}},
    "department": {"terms": {"field": "department_id", "size": 1000}},
    "delivery": {"terms": {"field": "delivery_mode", "size": 1000}},
    "community": {
        "filters": {
            "filters": {
                code: for_types(code)
                for code in ("new_urban", "old_urban", "converted_village", "rural")
            }
        }
    },
    "price": {
        "filters": {
            "filters": {
                "free": {"terms": {"is_free": [True]}},
                "paid": {"terms": {"is_free": [False]}},
            }
        }
    },
    "availability": {"filters": {"filters": {"soon": SOON}}},
}


def browse_body(query: BrowseQuery, response: Any | None = None) -> dict:
    """What the engine sends to browse ``query``."""
    cluster = Cluster(search(response or recorded("browse_text.json")))
    engine_on(cluster).browse(query)
    (request,) = cluster.requests
    assert (request.method, request.path) == ("POST", f"/{ALIAS}/_search")
    return request.body


# The index -----------------------------------------------------------------------


def test_index_settings_define_the_analyzers():
    assert index_definition()["settings"] == {
        "number_of_shards": 1,
        "auto_expand_replicas": "0-1",
        "analysis": {
            "analyzer": {
                # Tokens come segmented: split on spaces, lowercase, nothing else.
                "segmented": {
                    "type": "custom",
                    "tokenizer": "whitespace",
                    "filter": ["lowercase"],
                },
                "title_prefix": {
                    "type": "custom",
                    "tokenizer": "keyword",
                    "filter": ["lowercase", "title_edge_ngram"],
                },
                "title_prefix_search": {
                    "type": "custom",
                    "tokenizer": "keyword",
                    "filter": ["lowercase", "title_truncate"],
                },
            },
            "filter": {
                "title_edge_ngram": {
                    "type": "edge_ngram",
                    "min_gram": 1,
                    "max_gram": 30,
                },
                "title_truncate": {"type": "truncate", "length": 30},
            },
        },
    }


def test_mapping_is_strict_and_types_every_field():
    segmented = {"type": "text", "analyzer": "segmented"}
    assert index_definition()["mappings"] == {
        "dynamic": "strict",
        "properties": {
            "offering_id": {"type": "integer"},
            "title": {
                "type": "text",
                "analyzer": "title_prefix",
                "search_analyzer": "title_prefix_search",
                "fields": {"keyword": {"type": "keyword", "ignore_above": 256}},
            },
            "summary": {"type": "text", "index": False},
            "title_tokens": {
                **segmented,
                "index_prefixes": {"min_chars": 1, "max_chars": 10},
            },
            "summary_tokens": segmented,
            "keywords_tokens": segmented,
            "body_tokens": segmented,
            "department_tokens": segmented,
            "kind": {"type": "keyword"},
            "category_id": {"type": "integer"},
            "family_id": {"type": "integer"},
            "department_id": {"type": "integer"},
            "delivery_mode": {"type": "keyword"},
            "availability": {"type": "keyword"},
            "is_free": {"type": "boolean"},
            "community_types": {"type": "keyword"},
            "area_ids": {"type": "integer"},
            "area_ancestor_ids": {"type": "integer"},
            "published_at": {"type": "date"},
            "orders_placed": {"type": "integer"},
            "sessions": {
                "type": "nested",
                "properties": {
                    "starts_at": {"type": "date"},
                    "has_seats": {"type": "boolean"},
                },
            },
        },
    }


def test_document_keeps_sessions_as_nested_objects_with_their_seats():
    full = NOW + timedelta(days=40)
    source = es_engine.document_source(document(5))
    assert source["sessions"] == [
        {"starts_at": "2025-03-11T08:00:00.000+00:00", "has_seats": True},
        {"starts_at": full.isoformat(timespec="milliseconds"), "has_seats": False},
    ]
    assert source["published_at"] == "2025-02-26T08:00:00.000+00:00"
    assert source["community_types"] == []
    # Raw texts the tokens already carry are not sent.
    assert not {"body", "department", "keywords"} & source.keys()


# Browse requests -----------------------------------------------------------------


def test_browse_without_facets_counts_every_facet_in_one_aggregation():
    assert browse_body(BrowseQuery()) == {
        "aggs": {"facets": {"filter": {"match_all": {}}, "aggs": AGGS}},
        "sort": NEWEST,
        "track_total_hits": True,
        "from": 0,
        "size": 20,
        "_source": False,
    }


def test_one_facet_narrows_hits_in_post_filter_and_is_counted_without_itself():
    free = {"terms": {"is_free": [True]}}
    body = browse_body(BrowseQuery(filters={"price": ["free"], "kind": []}))
    others = {name: agg for name, agg in AGGS.items() if name != "price"}
    assert body["post_filter"] == every(free)
    assert body["aggs"] == {
        "facets": {"filter": every(free), "aggs": others},
        "facet_price": {"filter": {"match_all": {}}, "aggs": {"price": AGGS["price"]}},
    }
    assert "query" not in body


def test_three_facets_each_counted_with_the_two_others():
    areas = (AreaChoice(5, 3, (1, 2)), AreaChoice(6, 3, (1, 2)))
    query = BrowseQuery(
        filters={"kind": ["training"], "community": ["rural"], "area": [5]},
        areas=areas,
    )
    kind = {"terms": {"kind": ["training"]}}
    rural = for_types("rural")
    area = serving(5, 1, 2)
    body = browse_body(query, recorded("browse_three_facets.json"))
    assert body["post_filter"] == every(kind, rural, area)
    assert body["aggs"]["facets"] == {
        "filter": every(kind, rural, area),
        "aggs": {
            name: agg for name, agg in AGGS.items() if name not in ("kind", "community")
        },
    }
    assert body["aggs"]["facet_kind"] == {
        "filter": every(rural, area),
        "aggs": {"kind": AGGS["kind"]},
    }
    assert body["aggs"]["facet_community"] == {
        "filter": every(kind, area),
        "aggs": {"community": AGGS["community"]},
    }
    # Each area is counted as if it alone were chosen.
    assert body["aggs"]["facet_area"] == {
        "filter": every(kind, rural),
        "aggs": {
            "area": {
                "filters": {"filters": {"5": serving(5, 1, 2), "6": serving(6, 1, 2)}}
            }
        },
    }


def test_availability_facet_asks_for_a_session_with_seats_in_the_window():
    body = browse_body(BrowseQuery(filters={"availability": ["soon"]}))
    assert body["post_filter"] == every(SOON)


def test_area_chosen_outside_the_offered_areas_reads_its_ancestors(street):
    body = browse_body(BrowseQuery(filters={"area": [street.pk]}))
    assert body["post_filter"] == every(serving(street.pk, *street.ancestor_ids()))


def test_text_asks_every_term_through_any_synonym_and_rewards_nearness(segmenter):
    body = browse_body(BrowseQuery(text="老人 健康", sort="relevance"))
    assert body["query"] == {
        "bool": {
            "must": [any_of("老人", "长者", "老年人"), any_of("健康")],
            "should": [
                {
                    "multi_match": {
                        "query": "老人 健康",
                        "fields": FIELDS,
                        "type": "phrase",
                        "slop": 4,
                    }
                }
            ],
        }
    }
    assert body["sort"] == [{"_score": {"order": "desc"}}, *NEWEST]


def test_text_of_one_term_has_no_nearness_bonus(segmenter):
    body = browse_body(BrowseQuery(text="消防", sort="relevance"))
    assert body["query"] == {"bool": {"must": [any_of("消防")]}}


def test_text_with_nothing_searchable_matches_nothing(monkeypatch):
    monkeypatch.setattr(es_engine, "query_terms", lambda text, **kwargs: [])
    body = browse_body(BrowseQuery(text="的"))
    assert body["query"] == {"bool": {"must": [{"match_none": {}}]}}


def test_scope_keeps_offerings_serving_the_users_regions(segmenter):
    body = browse_body(BrowseQuery(text="消防", scope=(9, 2, 1)))
    assert body["query"] == {
        "bool": {
            "must": [any_of("消防")],
            "filter": [{"terms": {"area_ids": [9, 2, 1]}}],
        }
    }


def test_empty_scope_matches_nothing():
    body = browse_body(BrowseQuery(scope=()))
    assert body["query"] == {"bool": {"filter": [{"terms": {"area_ids": []}}]}}


@pytest.mark.parametrize(
    ("sort", "text", "expected"),
    [
        ("newest", "", NEWEST),
        ("", "", NEWEST),
        # Best match needs something to match; without text, the newest.
        ("relevance", "", NEWEST),
        ("relevance", "消防", [{"_score": {"order": "desc"}}, *NEWEST]),
        ("newest", "消防", NEWEST),
        (
            "popular",
            "",
            [{"orders_placed": {"order": "desc", "missing": "_last"}}, *NEWEST],
        ),
        (
            "upcoming",
            "",
            [
                {
                    "sessions.starts_at": {
                        "order": "asc",
                        "mode": "min",
                        "missing": "_last",
                        "nested": {
                            "path": "sessions",
                            "filter": {
                                "range": {
                                    "sessions.starts_at": {
                                        "gte": "2025-03-01T08:00:00.000+00:00"
                                    }
                                }
                            },
                        },
                    }
                },
                *NEWEST,
            ],
        ),
    ],
)
def test_sort_orders(segmenter, sort, text, expected):
    assert browse_body(BrowseQuery(text=text, sort=sort))["sort"] == expected


@pytest.mark.parametrize(
    ("start", "stop", "expected_from", "expected_size"),
    [
        (0, 20, 0, 20),
        (40, 60, 40, 20),
        (20, 20, 20, 0),
        # Elasticsearch pages no further than its result window.
        (9_990, 10_010, 9_990, 10),
        (20_000, 20_020, 10_000, 0),
    ],
)
def test_slice_becomes_from_and_size(start, stop, expected_from, expected_size):
    body = browse_body(BrowseQuery(start=start, stop=stop))
    assert (body["from"], body["size"]) == (expected_from, expected_size)


def test_browse_waits_two_seconds_and_never_retries():
    cluster = Cluster(search(recorded("browse_text.json")))
    engine_on(cluster).browse(BrowseQuery())
    assert cluster.requests[0].timeout == 2.0


def test_index_prefix_comes_from_settings(settings):
    settings.SEARCH_INDEX_PREFIX = "portal2"
    cluster = Cluster(
        ("POST", "/portal2-offerings/_search", 200, recorded("browse_text.json"))
    )
    engine_on(cluster).browse(BrowseQuery())
    assert cluster.sent == [("POST", "/portal2-offerings/_search")]


# Reading responses ---------------------------------------------------------------


def test_counts_read_from_a_disjunctive_response():
    query = BrowseQuery(
        filters={"kind": ["training"], "community": ["rural"], "area": [5]},
        areas=(AreaChoice(5, 3, (1, 2)), AreaChoice(6, 3, (1, 2))),
    )
    response = recorded("browse_three_facets.json")
    assert es_engine.read_total(response) == 2
    assert es_engine.read_ids(response) == [5, 1]
    assert es_engine.read_counts(response, query) == {
        "total": {"": 2},
        # Counted without the kind chosen: other kinds show what choosing
        # them too would add.
        "kind": {"training": 2, "venue": 1},
        "category": {"11": 1, "14": 1},
        "family": {"3": 1, "4": 1},
        "department": {"21": 1, "22": 1},
        # Every type named, zeros included, as the catalog counts them.
        "community": {
            "new_urban": 3,
            "old_urban": 3,
            "converted_village": 2,
            "rural": 2,
        },
        "delivery": {"at_community": 2},
        # No zero counts for price and availability, as in the catalog.
        "price": {"free": 2},
        "availability": {"soon": 2},
        "area": {"5": 2, "6": 0},
    }


def test_counts_without_areas_have_no_area_facet():
    counts = es_engine.read_counts(recorded("browse_text.json"), BrowseQuery())
    assert "area" not in counts
    assert counts["community"] == {
        "new_urban": 1,
        "old_urban": 2,
        "converted_village": 1,
        "rural": 1,
    }
    assert counts["price"] == {"free": 1, "paid": 1}


def test_total_as_a_plain_number_is_read_too():
    assert es_engine.read_total({"hits": {"total": 7, "hits": []}}) == 7


def test_browse_loads_offerings_in_hit_order_with_highlights(department):
    page = corner(department)
    fire = offering(page, title="社区消防安全培训")
    drill = offering(
        page, title="应急疏散演练指导", summary="指导社区组织一次消防疏散演练。"
    )
    response = recorded("browse_text.json")
    # The hits name these offerings, the second first.
    response["hits"]["hits"][0]["_id"] = str(drill.pk)
    response["hits"]["hits"][1]["_id"] = str(fire.pk)
    cluster = Cluster(search(response))
    results = engine_on(cluster).browse(BrowseQuery(text="消防", sort="relevance"))
    assert [o.pk for o in results.offerings] == [drill.pk, fire.pk]
    assert results.total == 2
    assert results.highlights[fire.pk]["title"] == "社区<mark>消防</mark>安全培训"
    assert "<mark>消防</mark>疏散" in results.highlights[drill.pk]["summary"]


def test_a_browse_for_the_page_alone_asks_for_no_aggregation_or_highlight(department):
    fire = offering(corner(department), title="社区消防安全培训")
    response = recorded("browse_text.json")
    response["hits"]["hits"][0]["_id"] = str(fire.pk)
    cluster = Cluster(search(response))
    results = engine_on(cluster).browse(
        BrowseQuery(text="消防", sort="relevance", facets=False)
    )
    (request,) = cluster.requests
    assert "aggs" not in request.body
    assert [o.pk for o in results.offerings] == [fire.pk]
    assert results.counts == {"total": {"": 2}}
    assert results.highlights == {}


def test_hits_unknown_to_the_database_are_left_out():
    results = engine_on(Cluster(search(recorded("browse_text.json")))).browse(
        BrowseQuery()
    )
    assert results.offerings == []
    assert results.total == 2
    assert results.highlights == {}


# Keeping the index ---------------------------------------------------------------


def bulk_reply(*items: tuple[str, str, int]) -> dict:
    return {
        "errors": any(status >= 300 for _op, _id, status in items),
        "took": 3,
        "items": [
            {op: {"_index": NEW_INDEX, "_id": pk, "status": status}}
            for op, pk, status in items
        ],
    }


def aliases(**indices: list[str]) -> tuple:
    return (
        "GET",
        f"/{ALIAS}-*/_alias",
        200,
        {name: {"aliases": {a: {} for a in held}} for name, held in indices.items()},
    )


def test_rebuild_loads_a_new_index_then_swaps_the_alias(monkeypatch):
    monkeypatch.setattr(es_engine, "BULK_CHUNK", 2)
    cluster = Cluster(*script("rebuild.json"))
    progress: list[int] = []
    documents = [document(1), document(2), document(3)]

    written = engine_on(cluster).rebuild(iter(documents), progress.append)

    assert written == 3
    assert progress == [2, 3]
    assert cluster.sent == [
        ("PUT", f"/{NEW_INDEX}"),
        ("PUT", "/_bulk"),
        ("PUT", "/_bulk"),
        ("PUT", f"/{NEW_INDEX}/_settings"),
        ("POST", f"/{NEW_INDEX}/_refresh"),
        ("GET", f"/{ALIAS}-*/_alias"),
        ("POST", "/_aliases"),
        ("DELETE", f"/{LIVE_INDEX}"),
        # An index a dead rebuild left behind, holding no alias.
        ("DELETE", "/diandan-offerings-20250115080000000000"),
    ]
    create, first, second, settings, _refresh, _get, swap, *_ = cluster.requests
    definition = index_definition()
    # Refresh is off while loading; the index is marked as being built.
    assert create.body == {
        "settings": {**definition["settings"], "refresh_interval": "-1"},
        "mappings": definition["mappings"],
        "aliases": {BUILDING: {}},
    }
    # create: a document written meanwhile by index() is not overwritten
    # (the 409 of document 3 is expected, not an error).
    assert first.body == [
        {"create": {"_index": NEW_INDEX, "_id": "1"}},
        es_engine.document_source(documents[0]),
        {"create": {"_index": NEW_INDEX, "_id": "2"}},
        es_engine.document_source(documents[1]),
    ]
    assert second.body == [
        {"create": {"_index": NEW_INDEX, "_id": "3"}},
        es_engine.document_source(documents[2]),
    ]
    assert settings.body == {"index": {"refresh_interval": None}}
    # One atomic request: no moment without an index behind the alias.
    assert swap.body == {
        "actions": [
            {"remove": {"index": LIVE_INDEX, "alias": ALIAS, "must_exist": True}},
            {"add": {"index": NEW_INDEX, "alias": ALIAS}},
            {"remove": {"index": NEW_INDEX, "alias": BUILDING}},
        ]
    }


def test_rebuild_that_fails_deletes_its_index_and_keeps_the_old_one():
    rejected = bulk_reply(("create", "1", 400))
    rejected["items"][0]["create"]["error"] = {
        "type": "document_parsing_exception",
        "reason": "[1:15] mapping set to strict, dynamic introduction of [x] is not allowed",
    }
    cluster = Cluster(
        ("PUT", f"/{NEW_INDEX}", 200, {"acknowledged": True, "index": NEW_INDEX}),
        ("PUT", "/_bulk", 200, rejected),
        ("DELETE", f"/{NEW_INDEX}", 200, {"acknowledged": True}),
    )
    with pytest.raises(BulkIndexError):
        engine_on(cluster).rebuild([document(1)])
    assert cluster.sent[-1] == ("DELETE", f"/{NEW_INDEX}")
    assert not cluster.script


def test_rebuild_when_the_cluster_is_down_raises_search_unavailable():
    cluster = Cluster(ConnectionError("Connection refused"), ConnectionError("again"))
    with pytest.raises(SearchUnavailable, match="rebuild the index"):
        engine_on(cluster).rebuild([document(1)])


def test_index_writes_to_the_live_index_and_to_one_being_rebuilt():
    cluster = Cluster(
        aliases(**{LIVE_INDEX: [ALIAS], NEW_INDEX: [BUILDING]}),
        (
            "PUT",
            "/_bulk",
            200,
            bulk_reply(*[("index", pk, 200) for pk in ("4", "4", "5", "5")]),
        ),
    )
    written = engine_on(cluster).index([document(4), document(5)])
    assert written == 2
    bulk = cluster.requests[1].body
    assert bulk[0::2] == [
        {"index": {"_index": LIVE_INDEX, "_id": "4"}},
        {"index": {"_index": NEW_INDEX, "_id": "4"}},
        {"index": {"_index": LIVE_INDEX, "_id": "5"}},
        {"index": {"_index": NEW_INDEX, "_id": "5"}},
    ]
    assert bulk[1] == es_engine.document_source(document(4))


def test_index_creates_an_index_behind_the_alias_when_there_is_none():
    initial = f"{ALIAS}-initial"
    cluster = Cluster(
        aliases(),
        ("PUT", f"/{initial}", 200, {"acknowledged": True, "index": initial}),
        ("PUT", "/_bulk", 200, bulk_reply(("index", "4", 201))),
    )
    assert engine_on(cluster).index([document(4)]) == 1
    assert cluster.requests[1].body["aliases"] == {ALIAS: {}}
    assert cluster.requests[2].body[0] == {"index": {"_index": initial, "_id": "4"}}


def test_index_accepts_a_first_index_another_writer_just_created():
    initial = f"{ALIAS}-initial"
    exists = {
        "error": {
            "root_cause": [
                {"type": "resource_already_exists_exception", "reason": "exists"}
            ],
            "type": "resource_already_exists_exception",
            "reason": f"index [{initial}/abc] already exists",
        },
        "status": 400,
    }
    cluster = Cluster(
        aliases(),
        ("PUT", f"/{initial}", 400, exists),
        ("PUT", "/_bulk", 200, bulk_reply(("index", "4", 200))),
    )
    assert engine_on(cluster).index([document(4)]) == 1


def test_index_of_nothing_sends_nothing():
    cluster = Cluster()
    assert engine_on(cluster).index(iter([])) == 0
    assert cluster.requests == []


def test_remove_deletes_in_bulk_and_ignores_unknown_ids():
    cluster = Cluster(
        aliases(**{LIVE_INDEX: [ALIAS]}),
        (
            "PUT",
            "/_bulk",
            200,
            bulk_reply(("delete", "4", 200), ("delete", "99", 404)),
        ),
    )
    engine_on(cluster).remove([4, 99])
    assert cluster.requests[1].body == [
        {"delete": {"_index": LIVE_INDEX, "_id": "4"}},
        {"delete": {"_index": LIVE_INDEX, "_id": "99"}},
    ]


def test_remove_without_an_index_sends_nothing_more():
    cluster = Cluster(aliases())
    engine_on(cluster).remove([4])
    assert cluster.sent == [("GET", f"/{ALIAS}-*/_alias")]


def test_autocomplete_asks_typed_words_and_the_last_as_a_prefix(segmenter):
    cluster = Cluster(search(recorded("autocomplete.json")))
    titles = engine_on(cluster).autocomplete("社区 消", limit=2)
    # Repeated titles come once.
    assert titles == ["社区消防安全培训", "社区议事厅"]
    assert cluster.requests[0].body == {
        "query": {
            "bool": {
                "must": [
                    {
                        "bool": {
                            "should": [{"match": {"title_tokens": "社区"}}],
                            "minimum_should_match": 1,
                        }
                    },
                    {"prefix": {"title_tokens": "消"}},
                ],
                # Titles starting with what was typed come first.
                "should": [{"match": {"title": {"query": "社区 消", "boost": 2}}}],
            }
        },
        "sort": [{"_score": {"order": "desc"}}, {"title.keyword": {"order": "asc"}}],
        "_source": ["title"],
        "size": 4,
    }
    assert cluster.requests[0].timeout == 2.0


def test_autocomplete_of_nothing_asks_nothing(monkeypatch):
    monkeypatch.setattr(es_engine, "query_terms", lambda text, **kwargs: [])
    assert engine_on(Cluster()).autocomplete("  ") == []


def test_status_counts_the_live_index():
    cluster = Cluster(
        aliases(**{LIVE_INDEX: [ALIAS]}),
        (
            "POST",
            f"/{ALIAS}/_count",
            200,
            {"count": 5, "_shards": {"total": 1, "successful": 1, "failed": 0}},
        ),
    )
    assert engine_on(cluster).status() == IndexStatus(
        engine="elasticsearch",
        documents=5,
        expected=0,
        detail=f"{ALIAS} → {LIVE_INDEX}",
    )


def test_status_without_an_index_says_to_rebuild():
    status = engine_on(Cluster(aliases())).status()
    assert (status.documents, status.detail) == (
        0,
        f"no index behind {ALIAS}: run a rebuild",
    )


# When the cluster cannot answer ------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionError("Connection refused"),
        ConnectionTimeout("Read timed out (2.0s)"),
        search(recorded("cluster_blocked.json"), status=503),
        search(
            {"error": {"type": "es_rejected_execution_exception"}, "status": 429}, 429
        ),
        # No index behind the alias: never built.
        search(recorded("index_not_found.json"), status=404),
    ],
    ids=["refused", "timeout", "503", "429", "no-index"],
)
def test_browse_raises_search_unavailable_at_once(failure):
    cluster = Cluster(failure)
    with pytest.raises(SearchUnavailable, match="could not"):
        engine_on(cluster).browse(BrowseQuery())
    # No retry: the database answers sooner.
    assert len(cluster.requests) == 1


def test_autocomplete_raises_search_unavailable(segmenter):
    with pytest.raises(SearchUnavailable):
        engine_on(Cluster(ConnectionError("refused"))).autocomplete("消防")


def test_a_server_that_is_not_elasticsearch_is_unavailable():
    other = {"content-type": "application/json"}
    cluster = Cluster((*search(recorded("browse_text.json")), other))
    with pytest.raises(SearchUnavailable, match="not Elasticsearch"):
        engine_on(cluster).browse(BrowseQuery())


def test_malformed_request_is_not_hidden_as_unavailable():
    cluster = Cluster(search(recorded("parsing_error.json"), status=400))
    with pytest.raises(BadRequestError):
        engine_on(cluster).browse(BrowseQuery())


def test_real_client_on_a_closed_port_fails_fast():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = ElasticsearchEngine(f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(SearchUnavailable, match="could not be reached"):
        engine.browse(BrowseQuery())
    assert time.monotonic() - started < 2.0


def test_catalog_answers_from_the_database_when_elasticsearch_is_down(
    department, caplog
):
    offering(corner(department), title="社区消防安全培训")
    engine = FallbackEngine(
        engine_on(Cluster(ConnectionError("Connection refused"))), EntryEngine()
    )
    with caplog.at_level(logging.WARNING, logger="search"):
        results = engine.browse(BrowseQuery())
    assert [o.title for o in results.offerings] == ["社区消防安全培训"]
    assert "elasticsearch unavailable" in caplog.text


def test_engine_needs_an_address(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.ELASTICSEARCH_URL = ""
    with pytest.raises(ImproperlyConfigured):
        ElasticsearchEngine()


# Against a real cluster ---------------------------------------------------------------

live = pytest.mark.skipif(
    not os.environ.get("ELASTICSEARCH_URL"),
    reason="needs an Elasticsearch 9 cluster at ELASTICSEARCH_URL",
)


@pytest.fixture
def live_engine(settings):
    settings.ELASTICSEARCH_URL = os.environ["ELASTICSEARCH_URL"]
    engine = ElasticsearchEngine(prefix=f"diandan-test-{uuid.uuid4().hex[:8]}")
    yield engine
    # Deleting by wildcard is refused by default (destructive_requires_name).
    names = list(engine.client.indices.get_alias(index=f"{engine.alias}-*").body)
    if names:
        engine.client.indices.delete(index=",".join(names))


@pytest.fixture
def shelf(street):
    """Four offerings of two departments, one serving a single street."""
    other_street = StreetFactory(parent=street.district)
    civil = corner(
        DepartmentFactory(region=street.district, family=FamilyFactory(name="民政"))
    )
    health = corner(
        DepartmentFactory(region=street.district, family=FamilyFactory(name="卫健"))
    )
    return {
        "streets": (street, other_street),
        "fire": offering(
            civil,
            title="社区消防安全培训",
            sessions=[(10, 30, 0)],
            published_days_ago=4,
        ),
        "care": offering(
            civil,
            title="居家养老上门服务",
            kind="service",
            category="养老服务",
            summary="为高龄独居老人提供上门助餐助浴。",
            fee=50,
            availability="on_request",
            community_types=["old_urban"],
            published_days_ago=3,
        ),
        "health": offering(
            health,
            title="慢性病健康讲座",
            category="医疗健康",
            summary="高血压糖尿病的日常管理。",
            community_types=["rural"],
            streets=[other_street],
            sessions=[(45, 50, 0), (5, 10, 10)],
            published_days_ago=2,
        ),
        "venue": offering(
            health,
            title="社区议事厅",
            kind="venue",
            category="社区议事",
            delivery_mode="at_department",
            sessions=[(3, 10, 2)],
            published_days_ago=1,
        ),
    }


def _comparable(counts: dict) -> dict:
    """Counts without zeros or values nothing has (a NULL family)."""
    return {
        facet: kept
        for facet, values in counts.items()
        if (kept := {k: n for k, n in values.items() if n and k not in (None, "None")})
    }


@live
def test_live_facets_and_order_match_the_catalog(live_engine, shelf):
    from search.documents import offering_documents, orderable_offering_ids

    assert live_engine.rebuild(offering_documents(orderable_offering_ids())) == 4
    street, other_street = shelf["streets"]
    areas = tuple(
        AreaChoice(s.pk, s.level, tuple(s.ancestor_ids()))
        for s in (street, other_street)
    )
    queries = [
        BrowseQuery(areas=areas),
        BrowseQuery(filters={"kind": ["training"]}, areas=areas),
        BrowseQuery(
            filters={"community": ["rural"], "price": ["free"], "area": [street.pk]},
            areas=areas,
        ),
        BrowseQuery(filters={"availability": ["soon"]}, sort="upcoming"),
        BrowseQuery(scope=(other_street.pk, *other_street.ancestor_ids())),
        BrowseQuery(sort="upcoming", start=1, stop=3),
    ]
    for query in queries:
        expected = EntryEngine().browse(query)
        answer = live_engine.browse(query)
        assert answer.total == expected.total, query
        assert _comparable(answer.counts) == _comparable(expected.counts), query
        assert [o.pk for o in answer.offerings] == [o.pk for o in expected.offerings]


@live
def test_live_text_search_index_and_remove(live_engine, shelf):
    from search.documents import offering_documents

    fire, care = shelf["fire"], shelf["care"]
    live_engine.index(offering_documents([fire.pk, care.pk]))
    live_engine.client.indices.refresh(index=live_engine.alias)
    results = live_engine.browse(BrowseQuery(text="消防培训", sort="relevance"))
    assert [o.pk for o in results.offerings] == [fire.pk]
    assert "<mark>" in results.highlights[fire.pk]["title"]
    assert live_engine.autocomplete("居家") == ["居家养老上门服务"]
    live_engine.remove([fire.pk, 12345])
    live_engine.client.indices.refresh(index=live_engine.alias)
    assert live_engine.browse(BrowseQuery(text="消防")).total == 0
    assert live_engine.status().documents == 1
