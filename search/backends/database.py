"""The database engine: catalog browsing with Chinese full-text search in the
portal's own database, SQLite FTS5 or PostgreSQL tsvector, chosen by the
active database.

Text is segmented in Python (``search.analysis``) and stored as
space-separated tokens in ``IndexedOffering``. SQLite indexes the token
columns in an FTS5 table kept by triggers; PostgreSQL keeps a weighted
``tsvector`` with a GIN index. Either way a text query reads the text index,
never every row. Filters, facets and paging are the catalog's own
(``catalog.browsing.EntryEngine``); this engine adds the text condition, the
ranking and the highlights.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from catalog.browsing import BrowseQuery, BrowseResults, EntryEngine
from catalog.models import CatalogEntry, OfferingPage
from search.analysis import query_terms
from search.backends.base import (
    IndexStatus,
    Progress,
    SearchDocument,
    SearchEngine,
    offering_highlights,
)
from search.models import IndexedOffering

WRITE_BATCH = 500
# The columns of an indexed offering that a document writes.
TEXT_FIELDS = [
    "title",
    "title_tokens",
    "summary_tokens",
    "keywords_tokens",
    "body_tokens",
    "department_tokens",
]
# At most this many single-term searches are tried when nothing matched.
SUGGESTED_TERMS = 3
# SQLite FTS5 column weights, in the table's column order: title, summary,
# keywords, body, department.
FTS_WEIGHTS = (10.0, 4.0, 4.0, 1.0, 0.5)
# PostgreSQL ts_rank weights for D, C, B, A: department, body, summary and
# keywords, title.
TS_WEIGHTS = "{0.1, 0.3, 0.6, 1.0}"
TS_TITLE_ONLY = "{0, 0, 0, 1.0}"
# Terms this close together (in tokens) make a match rank higher.
NEAR_DISTANCE = 4
# How much more a match counts when its words are close together, when it has
# the words as typed rather than only their synonyms, and when those typed
# words are in its title: someone who types 养老 wants 养老 offerings before
# those that only say 为老.
NEAR_BONUS = 1.5
TYPED_BONUS = 1.5
TYPED_TITLE_BONUS = 3.0
FTS_BONUS = (
    " * CASE WHEN hits.rowid IN (SELECT rowid FROM search_fts"
    " WHERE search_fts MATCH %s) THEN {factor} ELSE 1.0 END"
)


class DatabaseEngine(EntryEngine, SearchEngine):
    name = "database"

    # Browsing --------------------------------------------------------------

    def browse(self, query: BrowseQuery) -> BrowseResults:
        results = super().browse(query)
        if query.text and not results.total and query.stop > query.start:
            results.suggestions = self._single_terms(query)
        return results

    def _single_terms(self, query: BrowseQuery) -> list[tuple[str, int]]:
        """For a query of several terms that finds nothing: each term alone, if
        it finds something under the same choices."""
        terms = query_terms(query.text)
        if len(terms) < 2:
            return []
        found = []
        for synonyms in terms[:SUGGESTED_TERMS]:
            count = super().browse(replace(query, text=synonyms[0], stop=0)).total
            if count:
                found.append((synonyms[0], count))
        return found

    def text_condition(self, text: str) -> Q:
        terms = query_terms(text)
        if not terms:
            return Q(pk__in=[])
        sql, params = self._matching(terms)
        return Q(pk__in=RawSQL(sql, params))  # noqa: S611 (words are parameters)

    def ranked_ids(
        self, matching: QuerySet[CatalogEntry], query: BrowseQuery
    ) -> list[int]:
        """One ranked query over the text index, limited to ``matching``.

        Field weights put title above summary and keywords, above body, above
        department. Offerings with the words as typed (not only synonyms) and
        with the words close together rank higher; ties go to the newest. On
        SQLite, offerings with every word in their title, summary or keywords
        come first, ranked so; then those that mention the words only in their
        body or department, newest first (see ``_fts_ranked_ids``).
        """
        terms = query_terms(query.text)
        if not terms:
            return []
        typed = [(synonyms[0],) for synonyms in terms]
        within, within_params = matching.values("pk").query.sql_with_params()
        if connection.vendor == "postgresql":
            # ts_rank_cd weighs cover density: closer words rank higher.
            sql = f"""
                SELECT i.offering_id
                FROM search_indexedoffering i
                JOIN catalog_catalogentry e ON e.offering_id = i.offering_id,
                     (SELECT {_tsquery_expression(terms)},
                             {_tsquery_expression(typed)}) AS query(q, typed)
                WHERE i.search_vector @@ query.q AND i.offering_id IN ({within})
                ORDER BY ts_rank_cd(%s, i.search_vector, query.q)
                         + ts_rank_cd(%s, i.search_vector, query.typed)
                         + %s * ts_rank_cd(%s, i.search_vector, query.typed) DESC,
                         e.published_at DESC, e.offering_id DESC
                LIMIT %s OFFSET %s
            """  # noqa: S608 (structure only; words are parameters)
            params = [
                *_tsquery_params(terms),
                *_tsquery_params(typed),
                *within_params,
                TS_WEIGHTS,
                TS_WEIGHTS,
                TYPED_TITLE_BONUS,
                TS_TITLE_ONLY,
                query.stop - query.start,
                query.start,
            ]
        else:
            return _fts_ranked_ids(terms, typed, within, within_params, query)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    def highlights(
        self, offerings: Sequence[OfferingPage], text: str
    ) -> dict[int, dict[str, str]]:
        return offering_highlights(offerings, text)

    def autocomplete(self, prefix: str, *, limit: int = 8) -> list[str]:
        """Titles with every word typed so far, the last one as a prefix."""
        terms = query_terms(prefix)
        if not terms:
            return []
        done, last = terms[:-1], terms[-1][0]
        if connection.vendor == "postgresql":
            # Title words only (weight A); the last one as a prefix.
            groups = [
                "(" + " || ".join("to_tsquery('simple', %s)" for _ in synonyms) + ")"
                for synonyms in done
            ]
            expression = " && ".join([*groups, "to_tsquery('simple', %s)"])
            sql = f"""
                SELECT title FROM search_indexedoffering,
                     (SELECT {expression}) AS query(q)
                WHERE search_vector @@ query.q
                ORDER BY ts_rank_cd(search_vector, query.q) DESC, title
                LIMIT %s
            """  # noqa: S608 (structure only; words are parameters)
            params = [
                *(_tsquery_title(word) for word in _tsquery_params(done)),
                _tsquery_title(last, prefix=True),
                limit,
            ]
        else:
            match = " AND ".join(
                [*(_fts_group(group) for group in done), _fts_quote(last) + "*"]
            )
            sql = """
                SELECT i.title FROM search_fts
                JOIN search_indexedoffering i ON i.offering_id = search_fts.rowid
                WHERE search_fts MATCH %s
                ORDER BY bm25(search_fts, 10.0, 1.0, 1.0, 0.5, 0.1), i.title
                LIMIT %s
            """
            params = [f"title_tokens : ({match})", limit]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(dict.fromkeys(row[0] for row in cursor.fetchall()))

    # Keeping the index --------------------------------------------------------

    @transaction.atomic
    def index(self, documents: Iterable[SearchDocument]) -> int:
        written = 0
        batch: list[SearchDocument] = []
        for document in documents:
            batch.append(document)
            if len(batch) == WRITE_BATCH:
                written += self._write(batch)
                batch = []
        return written + self._write(batch)

    def remove(self, offering_ids: Sequence[int]) -> None:
        IndexedOffering.objects.filter(pk__in=list(offering_ids)).delete()

    @transaction.atomic
    def rebuild(
        self, documents: Iterable[SearchDocument], progress: Progress | None = None
    ) -> int:
        # One transaction: searches read the old rows until it commits.
        IndexedOffering.objects.all().delete()
        written = 0
        batch: list[SearchDocument] = []
        for document in documents:
            batch.append(document)
            if len(batch) == WRITE_BATCH:
                written += self._written(batch, progress)
                batch = []
        return written + self._written(batch, progress)

    def _written(
        self, documents: list[SearchDocument], progress: Progress | None
    ) -> int:
        count = self._write(documents, replace=False)
        if progress:
            progress(count)
        return count

    def status(self) -> IndexStatus:
        return IndexStatus(
            engine=f"{self.name} ({connection.vendor})",
            documents=IndexedOffering.objects.count(),
            expected=CatalogEntry.objects.count(),
        )

    def _write(self, documents: list[SearchDocument], *, replace: bool = True) -> int:
        if not documents:
            return 0
        ids = [document.offering_id for document in documents]
        # Replacing is an upsert, not a delete and an insert: two transactions
        # indexing one offering at once (two bookings in its sessions, a
        # booking and a publish) would on PostgreSQL both delete nothing new
        # and both insert, and the second would fail on the primary key. An
        # upsert waits for the other writer and then updates its row (on
        # SQLite, through the FTS update trigger).
        upsert = (
            {
                "update_conflicts": True,
                "unique_fields": ["offering"],
                "update_fields": TEXT_FIELDS,
            }
            if replace
            else {}
        )
        IndexedOffering.objects.bulk_create(
            (
                IndexedOffering(
                    offering_id=document.offering_id,
                    title=document.title,
                    title_tokens=document.title_tokens,
                    summary_tokens=document.summary_tokens,
                    keywords_tokens=document.keywords_tokens,
                    body_tokens=document.body_tokens,
                    department_tokens=document.department_tokens,
                )
                for document in documents
            ),
            **upsert,
        )
        if connection.vendor == "postgresql":
            IndexedOffering.objects.filter(pk__in=ids).update(
                search_vector=SearchVector("title_tokens", weight="A", config="simple")
                + SearchVector(
                    "summary_tokens", "keywords_tokens", weight="B", config="simple"
                )
                + SearchVector("body_tokens", weight="C", config="simple")
                + SearchVector("department_tokens", weight="D", config="simple")
            )
        return len(documents)

    def _matching(self, terms: list[tuple[str, ...]]) -> tuple[str, list]:
        if connection.vendor == "postgresql":
            return (
                "SELECT offering_id FROM search_indexedoffering "  # noqa: S608 (structure only)
                f"WHERE search_vector @@ ({_tsquery(terms)})",
                _tsquery_params(terms),
            )
        return (
            "SELECT rowid FROM search_fts WHERE search_fts MATCH %s",
            [_fts_match(terms)],
        )


# SQLite FTS5 ranking ----------------------------------------------------------

# The columns an offering states what it is in; its body only elaborates.
FTS_STATED = "{title_tokens summary_tokens keywords_tokens}"


def _fts_ranked_ids(
    terms: list[tuple[str, ...]],
    typed: list[tuple[str, ...]],
    within: str,
    within_params: Sequence[Any],
    query: BrowseQuery,
) -> list[int]:
    """The page ``query`` asks for of the offerings in ``within`` matching
    ``terms``: first those that state every term (title, summary, keywords),
    by weighted bm25 and the bonuses; then those that only mention them,
    newest first.

    bm25 reads every match's positions, some microseconds each: over a city's
    catalog, where a word is mentioned in passing by tens of thousands of
    bodies, scoring them all took longer than the page may. Offerings that
    state the words are few, and are what the searcher is after; the ones
    that mention them only follow.
    """
    match = _fts_match(terms)
    stated = f"{FTS_STATED} : ({match})"
    tiers = [
        (stated, _fts_scored_sql(terms, typed)),
        (f"({match}) NOT ({stated})", _FTS_NEWEST_SQL),
    ]
    start, wanted = query.start, query.stop - query.start
    found: list[int] = []
    with connection.cursor() as cursor:
        for expression, ranked_sql in tiers:
            if wanted <= 0:
                break
            if start:
                # Pages after the first skip whole tiers by their count.
                cursor.execute(
                    _FTS_COUNT_SQL.format(within=within), [expression, *within_params]
                )
                count = cursor.fetchone()[0]
                if count <= start:
                    start -= count
                    continue
            sql, bonus_params = ranked_sql
            cursor.execute(
                sql.format(within=within),
                [expression, *within_params, *bonus_params, wanted, start],
            )
            rows = [row[0] for row in cursor.fetchall()]
            found += rows
            wanted -= len(rows)
            start = 0
    return found


# The text index is searched once, before anything joins it: left to itself,
# SQLite may walk the catalog and ask the index about each row, which repeats
# the whole search for every row.
_FTS_COUNT_SQL = """
    WITH hits(rowid) AS MATERIALIZED (
        SELECT rowid FROM search_fts WHERE search_fts MATCH %s
    )
    SELECT count(*) FROM hits WHERE hits.rowid IN ({within})
"""
_FTS_NEWEST_SQL = (
    """
    WITH hits(rowid) AS MATERIALIZED (
        SELECT rowid FROM search_fts WHERE search_fts MATCH %s
    )
    SELECT hits.rowid
    FROM hits JOIN catalog_catalogentry e ON e.offering_id = hits.rowid
    WHERE hits.rowid IN ({within})
    ORDER BY e.published_at DESC, e.offering_id DESC
    LIMIT %s OFFSET %s
""",
    [],
)


def _fts_scored_sql(
    terms: list[tuple[str, ...]], typed: list[tuple[str, ...]]
) -> tuple[str, list[str]]:
    """The ranked query (its ``{within}`` left to fill) and its bonus
    parameters: bm25 with the field weights (negative, lower is better), each
    bonus multiplying it."""
    weights = ", ".join(str(weight) for weight in FTS_WEIGHTS)
    bonuses = [
        (match, factor)
        for match, factor in (
            (_fts_near(terms), NEAR_BONUS),
            (f"title_tokens : ({_fts_match(typed)})", TYPED_TITLE_BONUS),
            (_fts_match(typed) if typed != terms else "", TYPED_BONUS),
        )
        if match
    ]
    factors = "".join(FTS_BONUS.format(factor=factor) for _match, factor in bonuses)
    sql = f"""
        WITH hits(rowid, score) AS MATERIALIZED (
            SELECT rowid, bm25(search_fts, {weights})
            FROM search_fts WHERE search_fts MATCH %s
        )
        SELECT hits.rowid
        FROM hits JOIN catalog_catalogentry e ON e.offering_id = hits.rowid
        WHERE hits.rowid IN ({{within}})
        ORDER BY hits.score{factors}, e.published_at DESC, e.offering_id DESC
        LIMIT %s OFFSET %s
    """  # noqa: S608 (structure only; words are parameters)
    return sql, [match for match, _factor in bonuses]


# SQLite FTS5 query syntax ----------------------------------------------------


def _fts_quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _fts_group(synonyms: tuple[str, ...]) -> str:
    return "(" + " OR ".join(_fts_quote(word) for word in synonyms) + ")"


def _fts_match(terms: list[tuple[str, ...]]) -> str:
    """Every term, each through any of its synonyms."""
    return " AND ".join(_fts_group(synonyms) for synonyms in terms)


def _fts_near(terms: list[tuple[str, ...]]) -> str:
    """The terms as typed, close together; empty for a one-term query."""
    if len(terms) < 2:
        return ""
    words = " ".join(_fts_quote(synonyms[0]) for synonyms in terms)
    return f"NEAR({words}, {NEAR_DISTANCE})"


# PostgreSQL tsquery ---------------------------------------------------------


def _tsquery_expression(terms: list[tuple[str, ...]]) -> str:
    """SQL for every term (AND), each through any of its synonyms (OR); the
    words are parameters, one per ``_tsquery_params`` item."""
    groups = [
        "(" + " || ".join("plainto_tsquery('simple', %s)" for _ in synonyms) + ")"
        for synonyms in terms
    ]
    return " && ".join(groups)


def _tsquery(terms: list[tuple[str, ...]]) -> str:
    return "SELECT " + _tsquery_expression(terms)


def _tsquery_params(terms: list[tuple[str, ...]]) -> list[str]:
    return [word for synonyms in terms for word in synonyms]


def _tsquery_title(word: str, *, prefix: bool = False) -> str:
    """``word`` as a quoted tsquery lexeme matching titles only (weight A), as
    a prefix if asked: the typed text is never parsed as tsquery syntax."""
    quoted = "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
    return quoted + (":*A" if prefix else ":A")
