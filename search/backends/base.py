"""The one interface every search engine implements.

The catalog asks an engine to browse (``catalog.browsing.BrowseQuery``: text,
facet choices, scope, sort, a slice) and gets the number of matches, the
disjunctive facet counts, the slice of offerings in order and highlighted
snippets (``catalog.browsing.BrowseResults``). The search app keeps each
engine's index true with ``index`` and ``remove``; ``rebuild`` replaces the
whole index without a moment in which searches find nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from catalog.browsing import BrowseQuery, BrowseResults
from catalog.models import OfferingPage
from search.analysis import highlight, query_terms

# Called with how many more documents were written since the last call.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class SearchDocument:
    """What is indexed of one orderable offering: its texts, raw and as
    space-separated tokens (``search.analysis.index_tokens``), and the fields
    the catalog filters, counts and sorts on, copied from its catalog entry."""

    offering_id: int
    title: str
    summary: str
    body: str
    department: str
    # Tags and category names, searched like the summary.
    keywords: str
    title_tokens: str
    summary_tokens: str
    body_tokens: str
    department_tokens: str
    keywords_tokens: str
    kind: str
    category_id: int
    family_id: int | None
    department_id: int
    delivery_mode: str
    availability: str
    is_free: bool
    # Community-type codes the offering names; empty: every type.
    community_types: tuple[str, ...]
    # The regions it serves, and every ancestor of those regions.
    area_ids: tuple[int, ...]
    area_ancestor_ids: tuple[int, ...]
    published_at: datetime
    # Start of every session that still has a seat, for "seats open soon";
    # start of every upcoming session, for the upcoming sort.
    open_session_starts: tuple[datetime, ...]
    session_starts: tuple[datetime, ...]
    # How often it has been ordered, for the "most ordered" sort.
    orders_placed: int = 0


@dataclass(frozen=True)
class IndexStatus:
    engine: str
    documents: int
    # Orderable offerings the index should hold.
    expected: int
    detail: str = ""


class SearchEngine(ABC):
    """One engine. Methods may be called inside a transaction; they raise
    ``SearchUnavailable`` when the engine cannot be reached."""

    name: str = ""
    # Whether the engine's documents hold what bookings change (which sessions
    # have a seat left, how often the offering was ordered), so that each
    # booking must index the offering again. An engine that reads those from
    # the catalog's tables when it answers leaves this off, and bookings cost
    # it nothing.
    stores_bookings: bool = False

    @abstractmethod
    def browse(self, query: BrowseQuery) -> BrowseResults:
        """Answer catalog browsing (see the module docstring)."""

    @abstractmethod
    def index(self, documents: Iterable[SearchDocument]) -> int:
        """Add or replace these documents; returns how many were written."""

    @abstractmethod
    def remove(self, offering_ids: Sequence[int]) -> None:
        """Drop the documents of these offerings; unknown ids are ignored."""

    @abstractmethod
    def rebuild(
        self, documents: Iterable[SearchDocument], progress: Progress | None = None
    ) -> int:
        """Replace the whole index with ``documents``; searches keep answering
        from the old index until the new one is complete."""

    @abstractmethod
    def autocomplete(self, prefix: str, *, limit: int = 8) -> list[str]:
        """Offering titles completing what the user is typing, best first."""

    @abstractmethod
    def status(self) -> IndexStatus: ...


def offering_highlights(
    offerings: Sequence[OfferingPage], text: str
) -> dict[int, dict[str, str]]:
    """Each offering's title and summary with the words of ``text`` (and their
    synonyms) marked, the same whichever engine found them."""
    words = [word for synonyms in query_terms(text) for word in synonyms]
    return {
        offering.pk: {
            "title": highlight(offering.title, words),
            "summary": highlight(offering.summary, words),
        }
        for offering in offerings
    }


class SearchUnavailable(Exception):
    """The engine cannot answer now (a server down, a timeout)."""
