"""The Elasticsearch engine: catalog browsing answered by an Elasticsearch 9
cluster through the client's DSL (``elasticsearch.dsl``).

Chinese text is segmented in Python (``search.analysis``) and sent as
space-separated tokens, which the index splits on whitespace and lowercases:
no server plugin is needed, and both engines see the same words. Searches go
to an alias, ``<SEARCH_INDEX_PREFIX>-offerings``; ``rebuild`` loads a fresh
timestamped index and swaps the alias to it in one atomic request, so searches
never see a half-built index.

Facets are disjunctive, as in the catalog (``catalog.browsing.EntryEngine``):
the chosen values narrow the hits through ``post_filter``, and each facet is
counted inside a ``filter`` aggregation holding every other facet's condition.

When the cluster cannot be reached, every method raises ``SearchUnavailable``
(``search.backends`` then answers from the database).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from itertools import chain
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from elasticsearch import (
    ApiError,
    BadRequestError,
    Elasticsearch,
    TransportError,
    UnsupportedProductError,
)
from elasticsearch.dsl import (
    Boolean,
    Date,
    Document,
    Index,
    InnerDoc,
    Integer,
    Keyword,
    MetaField,
    Nested,
    Search,
    Text,
    analyzer,
    token_filter,
)
from elasticsearch.dsl import aggs as dsl_aggs
from elasticsearch.dsl import query as dsl_query
from elasticsearch.helpers import streaming_bulk

from catalog.browsing import (
    BrowseQuery,
    BrowseResults,
    offerings_in_order,
    total_only,
)
from catalog.filters import (
    FREE,
    MOST_ORDERED,
    PAID,
    RELEVANCE,
    SEATS_OPEN,
    SEATS_OPEN_WINDOW,
    UPCOMING,
)
from catalog.models import Availability, CatalogEntry
from portal.models import CommunityType, Region
from search.analysis import query_terms
from search.backends.base import (
    IndexStatus,
    Progress,
    SearchDocument,
    SearchEngine,
    SearchUnavailable,
    offering_highlights,
)

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "diandan"
# A browse waits this long at most: a cluster that is down or stuck must fail
# fast, so that the database can answer while the user still waits.
BROWSE_TIMEOUT = 2.0
# Writes and rebuilds run in the background and may wait for a busy cluster.
WRITE_TIMEOUT = 30.0
BULK_CHUNK = 500
# Buckets per terms facet: more than a city has departments or categories.
FACET_SIZE = 1000
# Elasticsearch refuses to page past index.max_result_window (10,000 hits).
MAX_RESULT_WINDOW = 10_000
# Terms typed this close together (in tokens) make a match rank higher; the
# same distance as the database engine's NEAR.
NEAR_SLOP = 4
# Where a typed word is looked for, and how much a match there weighs.
TEXT_FIELDS = (
    "title_tokens^4",
    "summary_tokens^2",
    "keywords_tokens^2",
    "body_tokens",
    "department_tokens^0.5",
)
# Facets counted by a terms aggregation on one field.
TERMS_FACETS = {
    "kind": "kind",
    "category": "category_id",
    "family": "family_id",
    "department": "department_id",
    "delivery": "delivery_mode",
}
# Edge n-grams of the whole title, for "titles starting with what is typed".
TITLE_PREFIX_LENGTH = 30


# Mapping ---------------------------------------------------------------------

# The tokens are segmented in Python already; the index only splits them.
segmented = analyzer("segmented", tokenizer="whitespace", filter=["lowercase"])
title_prefix = analyzer(
    "title_prefix",
    tokenizer="keyword",
    filter=[
        "lowercase",
        token_filter(
            "title_edge_ngram",
            "edge_ngram",
            min_gram=1,
            max_gram=TITLE_PREFIX_LENGTH,
        ),
    ],
)
# What is typed is matched whole against the title's prefixes; longer input is
# cut to the longest prefix indexed.
title_prefix_search = analyzer(
    "title_prefix_search",
    tokenizer="keyword",
    filter=[
        "lowercase",
        token_filter("title_truncate", "truncate", length=TITLE_PREFIX_LENGTH),
    ],
)


class Session(InnerDoc):
    """One upcoming session. Nested, so that "a session with a seat, starting
    within the window" is one condition on one session, and the upcoming sort
    can skip sessions that have started since the document was written."""

    starts_at = Date()
    has_seats = Boolean()


class OfferingDocument(Document):
    """The mapping of one offering (``SearchDocument``). Raw body, department
    and keyword texts are not stored: the tokens carry them, and highlights
    are cut from the offering's own title and summary."""

    offering_id = Integer()
    # The raw title, for autocomplete: indexed as its own prefixes.
    title = Text(
        analyzer=title_prefix,
        search_analyzer=title_prefix_search,
        fields={"keyword": Keyword(ignore_above=256)},
    )
    summary = Text(index=False)
    # Word prefixes of the title are indexed too, for autocomplete.
    title_tokens = Text(
        analyzer=segmented, index_prefixes={"min_chars": 1, "max_chars": 10}
    )
    summary_tokens = Text(analyzer=segmented)
    keywords_tokens = Text(analyzer=segmented)
    body_tokens = Text(analyzer=segmented)
    department_tokens = Text(analyzer=segmented)
    kind = Keyword()
    category_id = Integer()
    family_id = Integer()
    department_id = Integer()
    delivery_mode = Keyword()
    availability = Keyword()
    is_free = Boolean()
    # Absent: every type of community.
    community_types = Keyword(multi=True)
    area_ids = Integer(multi=True)
    area_ancestor_ids = Integer(multi=True)
    published_at = Date()
    orders_placed = Integer()
    sessions = Nested(Session)

    class Meta:
        # A field the mapping does not name is a bug, not a new field.
        dynamic = MetaField("strict")


INDEX_SETTINGS: dict[str, Any] = {
    # The catalog is small (tens of thousands of offerings): one shard, and a
    # replica whenever the cluster has a second node.
    "number_of_shards": 1,
    "auto_expand_replicas": "0-1",
}


def index_definition() -> dict[str, Any]:
    """The settings (analyzers included) and mappings of an offerings index."""
    definition = Index("offerings")
    definition.settings(**INDEX_SETTINGS)
    definition.document(OfferingDocument)
    return definition.to_dict()


def document_source(document: SearchDocument) -> dict[str, Any]:
    """What is sent to the index for one ``SearchDocument``."""
    open_starts = set(document.open_session_starts)
    starts = sorted(set(document.session_starts) | open_starts)
    return {
        "offering_id": document.offering_id,
        "title": document.title,
        "summary": document.summary,
        "title_tokens": document.title_tokens,
        "summary_tokens": document.summary_tokens,
        "keywords_tokens": document.keywords_tokens,
        "body_tokens": document.body_tokens,
        "department_tokens": document.department_tokens,
        "kind": document.kind,
        "category_id": document.category_id,
        "family_id": document.family_id,
        "department_id": document.department_id,
        "delivery_mode": document.delivery_mode,
        "availability": document.availability,
        "is_free": document.is_free,
        "community_types": list(document.community_types),
        "area_ids": list(document.area_ids),
        "area_ancestor_ids": list(document.area_ancestor_ids),
        "published_at": _iso(document.published_at),
        "orders_placed": document.orders_placed,
        "sessions": [
            {"starts_at": _iso(start), "has_seats": start in open_starts}
            for start in starts
        ],
    }


# Queries ---------------------------------------------------------------------


def text_clauses(
    text: str,
) -> tuple[list[dsl_query.Query], list[dsl_query.Query]]:
    """What the text asks, as ``must`` and ``should`` clauses: every term
    typed (through any of its synonyms) in some text field, weighted by
    field; the terms close together as a bonus."""
    terms = query_terms(text)
    if not terms:
        # Nothing searchable was typed: nothing matches, as in the database
        # engine.
        return [dsl_query.MatchNone()], []
    must: list[dsl_query.Query] = [
        dsl_query.Bool(
            should=[
                dsl_query.MultiMatch(
                    query=word,
                    fields=list(TEXT_FIELDS),
                    # A word found in several fields scores for each.
                    type="most_fields",
                    # A synonym of several words needs all of them in a field.
                    operator="and",
                )
                for word in synonyms
            ],
            minimum_should_match=1,
        )
        for synonyms in terms
    ]
    should: list[dsl_query.Query] = []
    if len(terms) > 1:
        should.append(
            dsl_query.MultiMatch(
                query=" ".join(synonyms[0] for synonyms in terms),
                fields=list(TEXT_FIELDS),
                type="phrase",
                slop=NEAR_SLOP,
            )
        )
    return must, should


def community_condition(codes: Sequence[str]) -> dsl_query.Query:
    # An offering that names no community type is for every type.
    return dsl_query.Bool(
        should=[
            dsl_query.Terms(community_types=list(codes)),
            dsl_query.Bool(must_not=[dsl_query.Exists(field="community_types")]),
        ]
    )


def seats_open_soon(now: datetime) -> dsl_query.Query:
    """Offerings on request, or with a session starting within the window
    that still has a seat (``catalog.filters.seats_open_soon``)."""
    return dsl_query.Bool(
        should=[
            dsl_query.Term(availability=Availability.ON_REQUEST.value),
            dsl_query.Nested(
                path="sessions",
                query=dsl_query.Bool(
                    filter=[
                        dsl_query.Term(**{"sessions.has_seats": True}),
                        dsl_query.Range(
                            **{
                                "sessions.starts_at": {
                                    "gte": _iso(now),
                                    "lt": _iso(now + SEATS_OPEN_WINDOW),
                                }
                            }
                        ),
                    ]
                ),
            ),
        ]
    )


def serving_any_of(
    region_ids: Sequence[int], ancestors: Mapping[int, Sequence[int]]
) -> dsl_query.Query:
    """Offerings serving some part of these regions: an area is one of them or
    contains one (``ancestors`` of each region), or lies inside one
    (``catalog.filters.serving_any_of``)."""
    containing = {
        pk for region_id in region_ids for pk in (region_id, *ancestors[region_id])
    }
    return dsl_query.Bool(
        should=[
            dsl_query.Terms(area_ids=sorted(containing)),
            dsl_query.Terms(area_ancestor_ids=list(region_ids)),
        ]
    )


def price_condition(values: Sequence[str]) -> dsl_query.Query:
    prices = [value == FREE for value in values if value in (FREE, PAID)]
    # No known price chosen narrows nothing, as in ``catalog.filters``.
    return dsl_query.Terms(is_free=prices) if prices else dsl_query.MatchAll()


class _Conditions:
    """Each facet's condition for one browse, as Elasticsearch queries
    (``catalog.filters.OfferingFilter``)."""

    def __init__(self, query: BrowseQuery, now: datetime):
        self.query = query
        self.now = now
        self._ancestors: dict[int, tuple[int, ...]] | None = None

    def facet(self, name: str, values: Sequence) -> dsl_query.Query:
        if name in TERMS_FACETS:
            return dsl_query.Terms(**{TERMS_FACETS[name]: list(values)})
        if name == "community":
            return community_condition(values)
        if name == "area":
            return serving_any_of(values, self.ancestors(values))
        if name == "availability":
            return seats_open_soon(self.now)
        if name == "price":
            return price_condition(values)
        raise KeyError(f"Unknown facet {name!r}")

    def chosen(self) -> dict[str, dsl_query.Query]:
        """One condition per facet with values chosen."""
        return {
            name: self.facet(name, list(values))
            for name, values in self.query.filters.items()
            if values
        }

    def ancestors(self, region_ids: Sequence[int]) -> dict[int, tuple[int, ...]]:
        """The ancestors of each region: from the facet's choices, or read for
        a region the facet does not offer."""
        if self._ancestors is None:
            self._ancestors = {
                area.region_id: area.ancestor_ids for area in self.query.areas
            }
        unknown = [pk for pk in region_ids if pk not in self._ancestors]
        for region in Region.objects.filter(pk__in=unknown):
            self._ancestors[region.pk] = tuple(region.ancestor_ids())
        return {pk: self._ancestors.get(pk, ()) for pk in region_ids}


def _all_but(
    conditions: Mapping[str, dsl_query.Query], name: str | None = None
) -> dsl_query.Query:
    """Every condition but the one of facet ``name``."""
    others = [condition for other, condition in conditions.items() if other != name]
    return dsl_query.Bool(filter=others) if others else dsl_query.MatchAll()


def _facet_aggs(query: BrowseQuery, conds: _Conditions) -> dict[str, dsl_aggs.Agg]:
    """The aggregations counting each facet's values."""
    aggs: dict[str, dsl_aggs.Agg] = {
        name: dsl_aggs.Terms(field=field, size=FACET_SIZE)
        for name, field in TERMS_FACETS.items()
    }
    aggs["community"] = dsl_aggs.Filters(
        filters={code: community_condition([code]) for code in CommunityType.values}
    )
    aggs["price"] = dsl_aggs.Filters(
        filters={FREE: price_condition([FREE]), PAID: price_condition([PAID])}
    )
    aggs["availability"] = dsl_aggs.Filters(
        filters={SEATS_OPEN: seats_open_soon(conds.now)}
    )
    if query.areas:
        region_ids = [area.region_id for area in query.areas]
        ancestors = conds.ancestors(region_ids)
        aggs["area"] = dsl_aggs.Filters(
            filters={
                str(pk): serving_any_of([pk], {pk: ancestors[pk]}) for pk in region_ids
            }
        )
    return aggs


def _sort(query: BrowseQuery, now: datetime) -> list[Any]:
    newest: list[Any] = [
        {"published_at": {"order": "desc", "missing": "_last"}},
        {"offering_id": {"order": "desc"}},
    ]
    if query.sort == UPCOMING:
        # The earliest session that has not started yet; offerings with none
        # come last.
        return [
            {
                "sessions.starts_at": {
                    "order": "asc",
                    "mode": "min",
                    "missing": "_last",
                    "nested": {
                        "path": "sessions",
                        "filter": {"range": {"sessions.starts_at": {"gte": _iso(now)}}},
                    },
                }
            },
            *newest,
        ]
    if query.sort == MOST_ORDERED:
        return [{"orders_placed": {"order": "desc", "missing": "_last"}}, *newest]
    if query.sort == RELEVANCE and query.text:
        return [{"_score": {"order": "desc"}}, *newest]
    return newest


def browse_search(query: BrowseQuery, now: datetime) -> Search:
    """The search request answering ``query`` at time ``now``.

    The text and the scope make the query; the chosen facet values go in
    ``post_filter``, so that aggregations see the matches before them. Facets
    with no value chosen are counted together inside one ``filter``
    aggregation (``facets``) holding every chosen facet's condition; each
    facet with values chosen is counted alone (``facet_<name>``) with every
    other facet's condition.
    """
    conds = _Conditions(query, now)
    must, should = text_clauses(query.text) if query.text else ([], [])
    # The scope: offerings serving the user's region or one containing it.
    scope = (
        [dsl_query.Terms(area_ids=list(query.scope))] if query.scope is not None else []
    )
    search = Search()
    if must or scope:
        search = search.query(dsl_query.Bool(must=must, should=should, filter=scope))
    chosen = conds.chosen()
    if chosen:
        search = search.post_filter(_all_but(chosen))
    facet_aggs = _facet_aggs(query, conds) if query.facets else {}
    if any(name not in chosen for name in facet_aggs):
        together = search.aggs.bucket("facets", "filter", filter=_all_but(chosen))
    for name, agg in facet_aggs.items():
        if name in chosen:
            search.aggs.bucket(
                f"facet_{name}", "filter", filter=_all_but(chosen, name)
            ).bucket(name, agg)
        else:
            together.bucket(name, agg)
    start = min(max(query.start, 0), MAX_RESULT_WINDOW)
    stop = min(max(query.stop, start), MAX_RESULT_WINDOW)
    return (
        search.sort(*_sort(query, now))
        .extra(track_total_hits=True, from_=start, size=stop - start)
        .source(False)
    )


def read_counts(response: Mapping[str, Any], query: BrowseQuery) -> dict[str, dict]:
    """The facet counts of a browse response, shaped like ``EntryEngine``'s:
    ``{facet: {value as text: count}}``, ``total`` under ``""``. Community
    and area counts name every value, zeros included; other facets only the
    values found."""
    aggregations = response.get("aggregations", {})
    chosen = {name for name, values in query.filters.items() if values}

    def buckets(name: str) -> Any:
        parent = aggregations.get(f"facet_{name}" if name in chosen else "facets", {})
        return parent.get(name, {}).get("buckets", {})

    counts: dict[str, dict[str, int]] = {"total": {"": read_total(response)}}
    for name in TERMS_FACETS:
        counts[name] = {
            str(bucket["key"]): bucket["doc_count"] for bucket in buckets(name)
        }
    community = buckets("community")
    counts["community"] = {
        code: community.get(code, {}).get("doc_count", 0)
        for code in CommunityType.values
    }
    for name in ("price", "availability"):
        counts[name] = {
            value: bucket["doc_count"]
            for value, bucket in buckets(name).items()
            if bucket["doc_count"]
        }
    if query.areas:
        area = buckets("area")
        counts["area"] = {
            str(choice.region_id): area.get(str(choice.region_id), {}).get(
                "doc_count", 0
            )
            for choice in query.areas
        }
    return counts


def read_total(response: Mapping[str, Any]) -> int:
    total = response["hits"]["total"]
    # An integer when rest_total_hits_as_int is set, an object otherwise.
    return total["value"] if isinstance(total, Mapping) else int(total)


def read_ids(response: Mapping[str, Any]) -> list[int]:
    return [int(hit["_id"]) for hit in response["hits"]["hits"]]


# The engine ------------------------------------------------------------------


@cache
def shared_client(url: str) -> Elasticsearch:
    """One client (and connection pool) per URL for the whole process: the
    engine is made anew for every browse. The client speaks the Elasticsearch
    9 API (it sends ``compatible-with=9``), matching the server's major."""
    return Elasticsearch(
        url,
        request_timeout=WRITE_TIMEOUT,
        max_retries=1,
        retry_on_timeout=False,
    )


class ElasticsearchEngine(SearchEngine):
    """Catalog search on the Elasticsearch 9 cluster at ``url`` (by default
    ``ELASTICSEARCH_URL``).

    ``client`` replaces the client made for ``url`` and ``now`` the clock
    (tests pass a client on a recording transport and a fixed time);
    ``prefix`` replaces ``SEARCH_INDEX_PREFIX``. Nothing is sent to the
    cluster until a method is called.
    """

    name = "elasticsearch"
    # A document holds whether each session has a seat left and how often the
    # offering was ordered (``OfferingDocument``): a booking indexes it again.
    stores_bookings = True

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Elasticsearch | None = None,
        prefix: str | None = None,
        now: Callable[[], datetime] | None = None,
    ):
        if client is None:
            url = url or getattr(settings, "ELASTICSEARCH_URL", "")
            if not url:
                raise ImproperlyConfigured(
                    "The Elasticsearch engine needs ELASTICSEARCH_URL."
                )
            client = shared_client(url)
        self.client = client
        prefix = (
            prefix or getattr(settings, "SEARCH_INDEX_PREFIX", "") or DEFAULT_PREFIX
        )
        # Searches and writes go through this alias, never to an index by name.
        self.alias = f"{prefix}-offerings"
        # Held by an index while ``rebuild`` loads it, so that writes made
        # meanwhile reach it too.
        self.building_alias = f"{self.alias}-building"
        self.now = now or timezone.now

    # Browsing ----------------------------------------------------------------

    def browse(self, query: BrowseQuery) -> BrowseResults:
        """Answer catalog browsing with one search request.

        Reads the database only to load the page's offerings (and the
        ancestors of an area chosen outside ``query.areas``). Raises
        ``SearchUnavailable`` within ``BROWSE_TIMEOUT`` seconds when the
        cluster is down, overloaded or has no index yet.
        """
        search = browse_search(query, self.now())
        with _reachable("browse the catalog"):
            response = self._reading.search(index=self.alias, body=search.to_dict())
        body = response.body
        offerings = offerings_in_order(read_ids(body))
        return BrowseResults(
            total=read_total(body),
            counts=(
                read_counts(body, query)
                if query.facets
                else total_only(read_total(body))
            ),
            offerings=offerings,
            highlights=(
                offering_highlights(offerings, query.text)
                if query.text and query.facets
                else {}
            ),
        )

    def autocomplete(self, prefix: str, *, limit: int = 8) -> list[str]:
        """Titles with every word typed so far, the last one as a prefix;
        titles starting with the typed text first. Raises
        ``SearchUnavailable`` as ``browse`` does."""
        # The last term as typed, however short: the user has not finished it.
        terms = query_terms(prefix, prefix=True)
        if not terms or limit <= 0:
            return []
        done, last = terms[:-1], terms[-1][0]
        search = (
            Search()
            .query(
                dsl_query.Bool(
                    must=[
                        *(
                            dsl_query.Bool(
                                should=[
                                    dsl_query.Match(title_tokens=word)
                                    for word in synonyms
                                ],
                                minimum_should_match=1,
                            )
                            for synonyms in done
                        ),
                        # Prefix queries are not analysed: lowercase as indexed.
                        dsl_query.Prefix(title_tokens=last.lower()),
                    ],
                    should=[
                        dsl_query.Match(title={"query": prefix.strip(), "boost": 2})
                    ],
                )
            )
            .sort({"_score": {"order": "desc"}}, {"title.keyword": {"order": "asc"}})
            .source(["title"])
            # Titles may repeat: ask for more to return ``limit`` distinct ones.
            .extra(size=limit * 2)
        )
        with _reachable("complete a title"):
            response = self._reading.search(index=self.alias, body=search.to_dict())
        titles = (hit["_source"]["title"] for hit in response.body["hits"]["hits"])
        return list(dict.fromkeys(titles))[:limit]

    # Keeping the index -------------------------------------------------------

    def index(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace these documents with bulk requests of ``BULK_CHUNK``,
        in the live index and in one being rebuilt. Creates the live index
        (empty but for these documents: run ``rebuild``) when there is none.
        Raises ``SearchUnavailable`` when the cluster cannot be reached and
        ``elasticsearch.helpers.BulkIndexError`` when it rejects a document.
        Documents become searchable at the next refresh (within a second)."""
        remaining = iter(documents)
        first = next(remaining, None)
        if first is None:
            return 0
        documents = chain([first], remaining)
        with _reachable("index offerings"):
            live, building = self._indices()
            if not live:
                live = [self._create_first_index()]
            targets = live + building
            written = 0

            def actions() -> Iterator[dict[str, Any]]:
                nonlocal written
                for document in documents:
                    written += 1
                    source = document_source(document)
                    for target in targets:
                        yield {
                            "_op_type": "index",
                            "_index": target,
                            "_id": str(document.offering_id),
                            "_source": source,
                        }

            for _ok, _item in streaming_bulk(
                self.client,
                actions(),
                chunk_size=BULK_CHUNK * len(targets),
                max_retries=2,
                initial_backoff=1,
            ):
                pass
        return written

    def remove(self, offering_ids: Sequence[int]) -> None:
        """Delete these offerings' documents from the live index and from one
        being rebuilt; unknown ids are ignored. Raises ``SearchUnavailable``
        when the cluster cannot be reached."""
        if not offering_ids:
            return
        with _reachable("remove offerings"):
            live, building = self._indices()
            actions = (
                {"_op_type": "delete", "_index": target, "_id": str(pk)}
                for target in live + building
                for pk in offering_ids
            )
            for _ok, _item in streaming_bulk(
                self.client,
                actions,
                chunk_size=BULK_CHUNK,
                ignore_status=(404,),
                max_retries=2,
                initial_backoff=1,
            ):
                pass

    def rebuild(
        self, documents: Iterable[SearchDocument], progress: Progress | None = None
    ) -> int:
        """Load ``documents`` into a new index and swap the alias to it.

        Steps: create ``<alias>-<timestamp>`` (refresh off, holding the
        building alias), bulk-load it in chunks of ``BULK_CHUNK`` (``progress``
        called after each chunk and at the end), turn refresh back on and
        refresh, then in one alias request move the alias from the old index
        to the new one, and delete the old index. Searches read the old index
        until the swap. Writes made meanwhile by ``index`` and ``remove`` reach
        both indexes; a document ``index`` wrote into the new index is not
        overwritten by the older copy being loaded (``create`` operations).
        On any failure the new index is deleted and the old one stays live.
        Raises ``SearchUnavailable`` when the cluster cannot be reached.
        """
        new = f"{self.alias}-{self.now():%Y%m%d%H%M%S%f}"
        with _reachable("rebuild the index"):
            definition = index_definition()
            self.client.indices.create(
                index=new,
                settings={**definition["settings"], "refresh_interval": "-1"},
                mappings=definition["mappings"],
                aliases={self.building_alias: {}},
            )
            try:
                written = self._load(new, documents, progress)
                self.client.indices.put_settings(
                    index=new, settings={"index": {"refresh_interval": None}}
                )
                self.client.indices.refresh(index=new)
                indices = self._aliases()
                live = sorted(
                    name for name, aliases in indices.items() if self.alias in aliases
                )
                # Left behind by a rebuild that died: no alias at all.
                orphans = sorted(
                    name for name, aliases in indices.items() if not aliases
                )
                self.client.indices.update_aliases(
                    actions=[
                        # must_exist: a rebuild running alongside that swapped
                        # first makes this one fail instead of serving both.
                        *(
                            {
                                "remove": {
                                    "index": name,
                                    "alias": self.alias,
                                    "must_exist": True,
                                }
                            }
                            for name in live
                        ),
                        {"add": {"index": new, "alias": self.alias}},
                        {"remove": {"index": new, "alias": self.building_alias}},
                    ]
                )
            except BaseException:
                self._drop(new)
                raise
        # The new index is live: failing to delete the old ones now is no
        # reason to report the rebuild failed (the next rebuild deletes them).
        for name in live + orphans:
            self._drop(name)
        return written

    def status(self) -> IndexStatus:
        """How many documents the live index holds against the orderable
        offerings in the database. Raises ``SearchUnavailable`` when the
        cluster cannot be reached."""
        expected = CatalogEntry.objects.count()
        with _reachable("read the index status"):
            live, building = self._indices()
            if not live:
                return IndexStatus(
                    engine=self.name,
                    documents=0,
                    expected=expected,
                    detail=f"no index behind {self.alias}: run a rebuild",
                )
            documents = self._reading.count(index=self.alias).body["count"]
        detail = f"{self.alias} → {', '.join(live)}"
        if building:
            detail += f"; rebuilding into {', '.join(building)}"
        return IndexStatus(
            engine=self.name, documents=documents, expected=expected, detail=detail
        )

    # -------------------------------------------------------------------------

    @property
    def _reading(self) -> Elasticsearch:
        # No retry: the fallback answers sooner than a second attempt would.
        return self.client.options(request_timeout=BROWSE_TIMEOUT, max_retries=0)

    def _aliases(self) -> dict[str, set[str]]:
        """Every offerings index of this prefix, with the aliases it holds."""
        response = self.client.indices.get_alias(index=f"{self.alias}-*")
        return {
            name: set(info.get("aliases", {}))
            for name, info in response.body.items()
            if isinstance(info, Mapping)
        }

    def _indices(self) -> tuple[list[str], list[str]]:
        """The live indexes (behind the alias) and those being rebuilt."""
        indices = self._aliases()
        live = sorted(
            name for name, aliases in indices.items() if self.alias in aliases
        )
        building = sorted(
            name for name, aliases in indices.items() if self.building_alias in aliases
        )
        return live, building

    def _create_first_index(self) -> str:
        """An index for the alias when none was ever built. Its name is fixed,
        so that two writers creating it at once make one index."""
        name = f"{self.alias}-initial"
        definition = index_definition()
        try:
            self.client.indices.create(
                index=name,
                settings=definition["settings"],
                mappings=definition["mappings"],
                aliases={self.alias: {}},
            )
        except BadRequestError as error:
            if error.message != "resource_already_exists_exception":
                raise
        return name

    def _load(
        self,
        index: str,
        documents: Iterable[SearchDocument],
        progress: Progress | None,
    ) -> int:
        actions = (
            {
                # create: a newer copy written by ``index`` meanwhile wins.
                "_op_type": "create",
                "_index": index,
                "_id": str(document.offering_id),
                "_source": document_source(document),
            }
            for document in documents
        )
        written = 0
        for _ok, _item in streaming_bulk(
            self.client,
            actions,
            chunk_size=BULK_CHUNK,
            ignore_status=(409,),
            max_retries=2,
            initial_backoff=1,
        ):
            written += 1
            if progress and written % BULK_CHUNK == 0:
                progress(written)
        if progress and written % BULK_CHUNK:
            progress(written)
        return written

    def _drop(self, index: str) -> None:
        """Delete ``index`` if it can; a failure is only logged, since this
        runs while another error is reported or after the work is done."""
        try:
            self.client.options(ignore_status=404).indices.delete(index=index)
        except (ApiError, TransportError) as error:
            logger.warning("Could not delete the index %s: %s", index, error)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


# What makes the cluster unavailable rather than the request wrong: rejected
# credentials or a server that is not Elasticsearch (deployment faults), too
# many requests, and server errors.
_UNAVAILABLE_STATUSES = {401, 403, 429}


@contextmanager
def _reachable(action: str) -> Iterator[None]:
    """Turn "the cluster cannot answer" into ``SearchUnavailable``; other
    errors (a malformed request) propagate."""
    try:
        yield
    except TransportError as error:
        raise SearchUnavailable(
            f"Elasticsearch could not be reached to {action}: {error}"
        ) from error
    except ApiError as error:
        if (
            error.status_code >= 500
            or error.status_code in _UNAVAILABLE_STATUSES
            or isinstance(error, UnsupportedProductError)
            # No index behind the alias: never built, or deleted by hand.
            or error.message == "index_not_found_exception"
        ):
            raise SearchUnavailable(
                f"Elasticsearch could not {action} (HTTP {error.status_code}): {error}"
            ) from error
        raise
