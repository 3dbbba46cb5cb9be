"""Which departments should answer a need (需求).

A need is posted because the catalog lacks something, so the departments to
ask are those whose line of work is closest to it. Three signals, each one the
need page can put into words:

- **category**: the department's open offerings in the need's subcategory
  ("有 3 个同类服务"), and, weaker, elsewhere in its top category;
- **family**: how much of the department family's whole catalog lies in the
  need's top category — learned from the offerings, so that a department with
  nothing published yet, but in the right line of work (消防 for 安全应急), is
  still asked;
- **text**: offerings whose text is close to the need's title and
  description, found by the catalog's browse engine — the search app's
  Chinese full-text search when it is installed (matching must not import
  it). The engines AND the words of a query, so the need is searched phrase
  by phrase — short clauses, and long ones as overlapping windows, a window
  that finds nothing tried again as its two halves. Each hit counts
  ``1 / (hits of that phrase + 1)``: a rare, specific phrase (加装电梯) weighs
  more than a common one, and no single phrase settles it alone. Phrases of
  the title, the community's own summary of the need, count double those of
  the description.

Only departments serving the community (its region or one containing it)
are candidates, but all their offerings count, wherever they are offered: a
district bureau whose 加装电梯 consultation runs in two streets so far is the
one to ask when a third street needs it.

Scoring and ranking (``score``, ``rank_departments``, ``text_phrases``,
``text_signals``) are plain functions over plain data; ``need_suggestions``
reads the catalog and calls them.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Count

from catalog.browsing import BrowseQuery, browse_engine
from catalog.filters import RELEVANCE
from catalog.models import CatalogEntry, Category
from portal.models import Department, DepartmentKind, Region

logger = logging.getLogger(__name__)

# How many departments a need is suggested to.
SUGGESTED = 5
# An offering in the need's subcategory says most; a few say it all.
CATEGORY_WEIGHT = 3.0
TOP_CATEGORY_WEIGHT = 1.0
CATEGORY_CAP = 3
# Times the family's share (0–1) of offerings in the need's top category: at
# most a little less than one offering in the subcategory itself.
FAMILY_WEIGHT = 2.5
# Times the text score, capped so that wordy needs do not drown the rest.
TEXT_WEIGHT = 3.0
TEXT_CAP = 2.0
# Below this a department is not worth asking: an offering in the need's
# subcategory is enough, and so is a family mostly at home in its top
# category; one stray offering or phrase is not.
MIN_SCORE = 2.0
# Phrases searched per need (browses, halves included), and offerings read
# per phrase.
MAX_PHRASES = 16
HITS_PER_PHRASE = 50
# What a phrase of the description counts beside one of the title.
DESCRIPTION_WEIGHT = 0.5
SIMILAR_TITLES = 3
# A title is named as similar only when its phrases weigh this much together
# (one phrase of the title finding four offerings, or of the description one):
# a single common word in passing says nothing to the reader.
SIMILAR_TITLE_WEIGHT = 0.2
# Phrases longer than this are searched as overlapping windows: the engines
# would otherwise ask for every word of a clause at once.
LONGEST_PHRASE = 6
WINDOW, WINDOW_STEP = 4, 2

# Words that say nothing about what is needed, and split a clause into
# phrases. Mostly function words; 社区 and 居民 are in nearly every offering.
_FILLERS = (
    "我们|希望|需要|能够|可以|进行|开展|一些|一下|请求|想请|如果|目前|现在|"
    "社区|居民|居委会|村委会|辖区|问题|情况|相关|方面|工作|帮助|协助|"
    "的|了|和|与|及|或|把|被|将|也|都|就|着|过|请"
)
_SPLIT = re.compile(rf"[^\w]+|_+|{_FILLERS}")


@dataclass(frozen=True)
class Signals:
    """What speaks for asking one department."""

    department_id: int
    same_category: int = 0
    same_top_category: int = 0
    family_affinity: float = 0.0
    text: float = 0.0
    similar_titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    signals: Signals
    score: float

    @property
    def department_id(self) -> int:
        return self.signals.department_id


def score(signals: Signals) -> float:
    """The weight of a department's signals (see the module docstring)."""
    return (
        CATEGORY_WEIGHT * min(signals.same_category, CATEGORY_CAP)
        + TOP_CATEGORY_WEIGHT * min(signals.same_top_category, CATEGORY_CAP)
        + FAMILY_WEIGHT * signals.family_affinity
        + TEXT_WEIGHT * min(signals.text, TEXT_CAP)
    )


def rank_departments(
    candidates: Iterable[Signals], *, limit: int = SUGGESTED
) -> list[Suggestion]:
    """The ``limit`` best departments scoring at least ``MIN_SCORE``, best
    first; ties go to the lower id, so the order is stable."""
    scored = [Suggestion(signals, round(score(signals), 3)) for signals in candidates]
    chosen = [s for s in scored if s.score >= MIN_SCORE]
    chosen.sort(key=lambda s: (-s.score, s.department_id))
    return chosen[:limit]


def family_affinities(
    counts: Mapping[tuple[int, int], int], top_category_id: int
) -> dict[int, float]:
    """Each family's share of its offerings that lie in ``top_category_id``,
    from offering counts by (family, top category)."""
    totals: dict[int, int] = defaultdict(int)
    for (family_id, _top), n in counts.items():
        totals[family_id] += n
    return {
        family_id: counts.get((family_id, top_category_id), 0) / total
        for family_id, total in totals.items()
        if total
    }


def text_phrases(text: str) -> list[str]:
    """The phrases of ``text`` worth searching, in order, without repeats:
    clauses split at punctuation and filler words, long ones as overlapping
    windows of ``WINDOW`` characters."""
    phrases: list[str] = []
    for chunk in _SPLIT.split(text):
        if len(chunk) < 2:
            continue
        if len(chunk) <= LONGEST_PHRASE:
            phrases.append(chunk)
            continue
        starts = range(0, len(chunk) - WINDOW + 1, WINDOW_STEP)
        phrases.extend(chunk[start : start + WINDOW] for start in starts)
        if (len(chunk) - WINDOW) % WINDOW_STEP:
            phrases.append(chunk[-WINDOW:])
    return list(dict.fromkeys(phrases))


def phrase_halves(phrase: str) -> list[str]:
    """A phrase that found nothing, cut in two: a window often straddles two
    words, and the engines want every word of a query."""
    middle = len(phrase) // 2
    return [half for half in (phrase[:middle], phrase[middle:]) if len(half) >= 2]


@dataclass
class PhraseHits:
    """What one phrase found: how many offerings in all, and some of them as
    (department id, offering title), best first; ``weight`` is the phrase's
    (1 for the title's, ``DESCRIPTION_WEIGHT`` for the description's)."""

    total: int
    offerings: Sequence[tuple[int, str]] = field(default_factory=list)
    weight: float = 1.0


def text_signals(
    found: Iterable[PhraseHits],
) -> dict[int, tuple[float, tuple[str, ...]]]:
    """Each department's text score and the titles of its offerings found
    (those weighing ``SIMILAR_TITLE_WEIGHT`` at least), best found first. A
    hit weighs ``weight / (total + 1)`` of its phrase."""
    scores: dict[int, float] = defaultdict(float)
    title_weights: dict[int, dict[str, float]] = defaultdict(dict)
    for hits in found:
        if not hits.total:
            continue
        weight = hits.weight / (hits.total + 1)
        for department_id, title in hits.offerings:
            scores[department_id] += weight
            titles = title_weights[department_id]
            titles[title] = titles.get(title, 0) + weight
    return {
        department_id: (
            round(value, 3),
            tuple(
                title
                for title, weight in sorted(
                    title_weights[department_id].items(), key=lambda item: -item[1]
                )[:SIMILAR_TITLES]
                if weight >= SIMILAR_TITLE_WEIGHT - 1e-9
            ),
        )
        for department_id, value in scores.items()
    }


# Reading the catalog ---------------------------------------------------------


def need_suggestions(
    *,
    community: Region,
    category: Category,
    title: str,
    description: str = "",
    limit: int = SUGGESTED,
) -> list[Suggestion]:
    """The departments to suggest for a need of ``community`` in ``category``
    (a subcategory), best first, with their signals.

    Only functional departments serving the community (its region or one
    containing it) are candidates. Reads two grouped queries and at most
    ``MAX_PHRASES`` browses. When
    the browse engine fails (a search cluster down), the text signal is left
    out and the others still rank.
    """
    scope = (community.pk, *community.ancestor_ids())
    departments = dict(
        Department.objects.filter(
            kind=DepartmentKind.FUNCTIONAL, region_id__in=scope
        ).values_list("pk", "family_id")
    )
    if not departments:
        return []
    top_id = category.parent_id or category.pk
    same, related = _category_counts(list(departments), category, top_id)
    affinity = family_affinities(_family_counts(), top_id)
    text = text_signals(_phrase_hits(list(departments), title, description))
    candidates = []
    for department_id, family_id in departments.items():
        text_score, titles = text.get(department_id, (0.0, ()))
        candidates.append(
            Signals(
                department_id=department_id,
                same_category=same.get(department_id, 0),
                same_top_category=related.get(department_id, 0),
                family_affinity=round(affinity.get(family_id, 0.0), 3),
                text=text_score,
                similar_titles=titles,
            )
        )
    return rank_departments(candidates, limit=limit)


def _category_counts(
    department_ids: list[int], category: Category, top_id: int
) -> tuple[dict[int, int], dict[int, int]]:
    """Open offerings of the departments: in the subcategory, and in the top
    category's other subcategories."""
    rows = (
        CatalogEntry.objects.filter(
            department_id__in=department_ids, category__parent_id=top_id
        )
        .values("department_id", "category_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    same: dict[int, int] = defaultdict(int)
    related: dict[int, int] = defaultdict(int)
    for row in rows:
        target = same if row["category_id"] == category.pk else related
        target[row["department_id"]] += row["n"]
    return same, related


def _family_counts() -> dict[tuple[int, int], int]:
    """Open offerings of the whole catalog by (family, top category)."""
    rows = (
        CatalogEntry.objects.filter(family__isnull=False)
        .values("family_id", "category__parent_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(row["family_id"], row["category__parent_id"]): row["n"] for row in rows}


def _phrase_hits(
    department_ids: list[int], title: str, description: str
) -> list[PhraseHits]:
    """Browse each phrase of the title, then of the description, until
    ``MAX_PHRASES`` browses are spent."""
    engine = browse_engine()
    seen: set[str] = set()
    queue = [(phrase, 1.0) for phrase in text_phrases(title)] + [
        (phrase, DESCRIPTION_WEIGHT) for phrase in text_phrases(description)
    ]
    found = []
    while queue and len(seen) < MAX_PHRASES:
        phrase, weight = queue.pop(0)
        if phrase in seen:
            continue
        seen.add(phrase)
        query = BrowseQuery(
            text=phrase,
            filters={"department": department_ids},
            sort=RELEVANCE,
            stop=HITS_PER_PHRASE,
        )
        try:
            results = engine.browse(query)
        except Exception:
            # Suggestions are a help, not a precondition of posting a need:
            # without the text signal the others still rank.
            logger.warning("Text similarity unavailable for a need", exc_info=True)
            return found
        if not results.total and len(phrase) >= WINDOW:
            queue[:0] = [(half, weight) for half in phrase_halves(phrase)]
        found.append(
            PhraseHits(
                total=results.total,
                offerings=[
                    (offering.catalog_entry.department_id, offering.title)
                    for offering in results.offerings
                ],
                weight=weight,
            )
        )
    return found
