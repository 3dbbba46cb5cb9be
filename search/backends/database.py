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

import json
import re
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
        if (
            query.text
            and query.facets
            and not results.total
            and query.stop > query.start
        ):
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
        self, candidates: QuerySet[CatalogEntry], query: BrowseQuery
    ) -> list[int]:
        """One ranked query over the text index, limited to ``candidates``.

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
        where, where_params = _entry_conditions(candidates)
        if connection.vendor != "postgresql":
            return _fts_ranked_ids(terms, typed, where, where_params, query)
        # ts_rank_cd weighs cover density: closer words rank higher.
        sql = f"""
            SELECT i.offering_id
            FROM search_indexedoffering i
            JOIN catalog_catalogentry ON catalog_catalogentry.offering_id = i.offering_id,
                 (SELECT {_tsquery_expression(terms)},
                         {_tsquery_expression(typed)}) AS query(q, typed)
            WHERE i.search_vector @@ query.q AND {where}
            ORDER BY ts_rank_cd(%s, i.search_vector, query.q)
                     + ts_rank_cd(%s, i.search_vector, query.typed)
                     + %s * ts_rank_cd(%s, i.search_vector, query.typed) DESC,
                     catalog_catalogentry.published_at DESC,
                     catalog_catalogentry.offering_id DESC
            LIMIT %s OFFSET %s
        """  # noqa: S608 (structure only; words are parameters)
        params = [
            *_tsquery_params(terms),
            *_tsquery_params(typed),
            *where_params,
            TS_WEIGHTS,
            TS_WEIGHTS,
            TYPED_TITLE_BONUS,
            TS_TITLE_ONLY,
            query.stop - query.start,
            query.start,
        ]
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
# Up to this many offerings stating the words are ranked in Python, their
# bonuses read from their tokens; more (a word stated by a good part of the
# catalog, like 社区) are ranked by SQLite, bonuses and all.
STATED_RANKED_IN_PYTHON = 1000
# What FTS5's unicode61 tokenizer keeps as a token: letters and digits.
FTS_TOKEN = re.compile(r"[^\W_]+")


def _fts_ranked_ids(
    terms: list[tuple[str, ...]],
    typed: list[tuple[str, ...]],
    where: str,
    where_params: Sequence[Any],
    query: BrowseQuery,
) -> list[int]:
    """The page ``query`` asks for of the entries meeting ``where`` that match
    ``terms``: first those that state every term (title, summary, keywords),
    by weighted bm25 and the bonuses; then those that only mention them,
    newest first.

    bm25 reads every match's positions, some microseconds each: over a city's
    catalog, where a word is mentioned in passing by tens of thousands of
    bodies, scoring them all took longer than the page may. Offerings that
    state the words are few, and are what the searcher is after; the ones
    that mention them only follow, read down the newest-first index until
    the page is full.
    """
    match = _fts_match(terms)
    stated = f"{FTS_STATED} : ({match})"
    with connection.cursor() as cursor:
        ranked = _stated_ranked_in_python(
            cursor, stated, terms, typed, where, where_params
        )
        if ranked is not None:
            found = ranked[query.start : query.stop]
            start = max(0, query.start - len(ranked))
            # Every match but those ranked already.
            mentioned, ranked_already = match, ranked
        else:
            found, start = _stated_ranked_in_sql(
                cursor, stated, terms, typed, where, where_params, query
            )
            mentioned, ranked_already = f"({match}) NOT ({stated})", []
        wanted = query.stop - query.start - len(found)
        if wanted > 0:
            cursor.execute(
                _FTS_NEWEST_SQL.format(where=where),
                [mentioned, json.dumps(ranked_already), *where_params, wanted, start],
            )
            found += [row[0] for row in cursor.fetchall()]
    return found


def _stated_ranked_in_python(
    cursor: Any,
    stated: str,
    terms: list[tuple[str, ...]],
    typed: list[tuple[str, ...]],
    where: str,
    where_params: Sequence[Any],
) -> list[int] | None:
    """Every entry meeting ``where`` that states the terms, best first; None
    when more than ``STATED_RANKED_IN_PYTHON`` offerings state them.

    The bonuses are the ones ``_fts_scored_sql`` gives SQLite, worked out
    from the offerings' tokens: asked of the whole index as SQL, each is one
    more full-text search (a fifth of the time for two words with synonyms),
    while the few offerings in hand answer them at once.
    """
    weights = ", ".join(str(weight) for weight in FTS_WEIGHTS)
    cursor.execute(
        f"SELECT rowid, bm25(search_fts, {weights}) FROM search_fts"  # noqa: S608 (weights are numbers)
        " WHERE search_fts MATCH %s LIMIT %s",
        [stated, STATED_RANKED_IN_PYTHON + 1],
    )
    scores = dict(cursor.fetchall())
    if len(scores) > STATED_RANKED_IN_PYTHON:
        return None
    if not scores:
        return []
    cursor.execute(
        _STATED_ROWS_SQL.format(where=where),
        [json.dumps(list(scores)), *where_params],
    )
    words = [_fts_phrase(synonyms[0]) for synonyms in terms]
    ranked = []
    for offering_id, published_at, *columns in cursor.fetchall():
        tokens = [FTS_TOKEN.findall(column.lower()) for column in columns]
        score = scores[offering_id]
        for bonus, factor in (
            (len(words) > 1 and _near(tokens, words), NEAR_BONUS),
            (all(_has_phrase(tokens[0], word) for word in words), TYPED_TITLE_BONUS),
            (
                typed != terms
                and all(any(_has_phrase(c, word) for c in tokens) for word in words),
                TYPED_BONUS,
            ),
        ):
            # As SQLite multiplies: a missing bonus is a factor of 1.0.
            score *= factor if bonus else 1.0
        ranked.append((score, published_at, offering_id))
    # bm25 is negative, lower is better; ties go to the newest.
    ranked.sort(key=lambda row: (row[1], row[2]), reverse=True)
    ranked.sort(key=lambda row: row[0])
    return [offering_id for _score, _published, offering_id in ranked]


def _stated_ranked_in_sql(
    cursor: Any,
    stated: str,
    terms: list[tuple[str, ...]],
    typed: list[tuple[str, ...]],
    where: str,
    where_params: Sequence[Any],
    query: BrowseQuery,
) -> tuple[list[int], int]:
    """The entries stating the terms on the page ``query`` asks for, and how
    many of the page's start are left for the mentions."""
    if query.start:
        # Pages after the first skip the whole tier by its count.
        cursor.execute(
            _FTS_STATED_COUNT_SQL.format(where=where), [stated, *where_params]
        )
        count = cursor.fetchone()[0]
        if count <= query.start:
            return [], query.start - count
    sql, bonus_params = _fts_scored_sql(terms, typed)
    cursor.execute(
        sql.format(where=where),
        [stated, *where_params, *bonus_params, query.stop - query.start, query.start],
    )
    return [row[0] for row in cursor.fetchall()], 0


def _fts_phrase(word: str) -> list[str]:
    """The tokens FTS5 makes of a quoted word: the phrase it looks for."""
    return FTS_TOKEN.findall(word.lower())


def _has_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    return bool(_starts(tokens, phrase))


def _starts(tokens: Sequence[str], phrase: Sequence[str]) -> list[int]:
    size = len(phrase)
    return [
        n
        for n, token in enumerate(tokens)
        if token == phrase[0] and list(tokens[n : n + size]) == list(phrase)
    ]


def _near(columns: Sequence[Sequence[str]], phrases: Sequence[Sequence[str]]) -> bool:
    """FTS5's ``NEAR(…, NEAR_DISTANCE)`` on one offering's token columns: in
    one column, an instance of every phrase, with at most ``NEAR_DISTANCE``
    tokens between the end of the first and the start of the last."""
    for tokens in columns:
        starts = [_starts(tokens, phrase) for phrase in phrases]
        if not all(starts):
            continue
        for first, first_starts in enumerate(starts):
            for start in first_starts:
                # The earliest instance of every other phrase from here on.
                later = [
                    min((s for s in other if s >= start), default=None)
                    for n, other in enumerate(starts)
                    if n != first
                ]
                if None in later:
                    continue
                end = start + len(phrases[first])
                if max(later, default=start) - end <= NEAR_DISTANCE:
                    return True
    return False


# The text index is searched once, before anything joins it: left to itself,
# SQLite may walk the catalog and ask the index about each row, which repeats
# the whole search for every row.
_FTS_STATED_COUNT_SQL = """
    WITH hits(rowid) AS MATERIALIZED (
        SELECT rowid FROM search_fts WHERE search_fts MATCH %s
    )
    SELECT count(*)
    FROM hits JOIN catalog_catalogentry
         ON catalog_catalogentry.offering_id = hits.rowid
    WHERE {where}
"""
_STATED_ROWS_SQL = """
    SELECT catalog_catalogentry.offering_id, catalog_catalogentry.published_at,
           i.title_tokens, i.summary_tokens, i.keywords_tokens, i.body_tokens,
           i.department_tokens
    FROM catalog_catalogentry
    JOIN search_indexedoffering i ON i.offering_id = catalog_catalogentry.offering_id
    WHERE catalog_catalogentry.offering_id IN (SELECT value FROM json_each(%s))
      AND {where}
"""
# Mentions are many: the entries are read newest first down their index, each
# looked up in the list of matches (the unary + keeps SQLite from driving the
# query by that list and sorting every match by date), until the page is full.
_FTS_NEWEST_SQL = """
    SELECT catalog_catalogentry.offering_id
    FROM catalog_catalogentry INDEXED BY entry_newest_idx
    WHERE +catalog_catalogentry.offering_id IN (
        SELECT rowid FROM search_fts WHERE search_fts MATCH %s
    )
      AND catalog_catalogentry.offering_id NOT IN (SELECT value FROM json_each(%s))
      AND {where}
    ORDER BY catalog_catalogentry.published_at DESC,
             catalog_catalogentry.offering_id DESC
    LIMIT %s OFFSET %s
"""


def _entry_conditions(candidates: QuerySet[CatalogEntry]) -> tuple[str, list[Any]]:
    """The condition ``candidates`` sets on entries, as SQL over the table
    ``catalog_catalogentry`` under its own name, for ranked queries that join
    it to the text index; ``1 = 1`` for all entries.

    Applied to the joined entry row rather than as ``IN (SELECT … FROM
    catalog_catalogentry WHERE …)``: an IN list is built whole before the
    search reads it, every entry of the scope at a city's size.
    """
    condition = candidates.query.where
    if not condition:
        return "1 = 1", []
    compiler = candidates.query.get_compiler(connection=connection)
    sql, params = compiler.compile(condition)
    return sql, list(params)


def _fts_scored_sql(
    terms: list[tuple[str, ...]], typed: list[tuple[str, ...]]
) -> tuple[str, list[str]]:
    """The ranked query (its ``{where}`` left to fill) and its bonus
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
        FROM hits JOIN catalog_catalogentry
             ON catalog_catalogentry.offering_id = hits.rowid
        WHERE {{where}}
        ORDER BY hits.score{factors},
                 catalog_catalogentry.published_at DESC,
                 catalog_catalogentry.offering_id DESC
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
