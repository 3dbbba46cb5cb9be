"""Which departments should answer a need (需求): a scored classifier over
the functional departments serving the community.

A need is posted because the catalog lacks something, so the departments to
ask are those whose line of work is closest to it. Five signals, each one the
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
  the description;
- **duties**: the department's statement of duties (职责) against the need's
  text, as the cosine of their term vectors ("职责包含『加装电梯』");
- **past needs**: needs the department proposed an offering for — answered,
  and perhaps fulfilled — that read like this one: the nearest few vote for
  the departments that answered them, each by its similarity ("曾答复类似需求
  『…』"). The portal learns from every answer, with no model to train.

Duties and past needs are compared as bags of terms: the character pairs of
the need's clauses (split, like the phrases, at punctuation and filler
words), weighted by how rare they are among the texts compared — inverse
document frequency. Character pairs need no dictionary: matching reaches the
search app's segmentation only through the browse engine, and two characters
are the length of most Chinese words; a pair across a word boundary is rare
elsewhere too, and weighs little.

Only departments serving the community (its region or one containing it)
are candidates, but all their offerings count, wherever they are offered: a
district bureau whose 加装电梯 consultation runs in two streets so far is the
one to ask when a third street needs it.

Scoring and ranking (``score``, ``rank_departments``, ``text_phrases``,
``text_signals``, ``need_terms``, ``duty_signals``, ``history_signals``) are
plain, deterministic functions over plain data; ``need_signals`` reads the
catalog, the departments and the answered needs and calls them, and
``need_suggestions`` ranks what it returns.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Count

from catalog.browsing import BrowseQuery, browse_engine
from catalog.filters import RELEVANCE
from catalog.models import CatalogEntry, Category
from matching.models import NeedResponse, NeedResponseKind
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
# Times the text score, capped so that wordy needs do not drown the rest: a
# need close to a department's offerings in words weighs as much as four
# offerings in its subcategory. Chosen, with the other weights, by
# ``bench/routing.py --tune`` on the past half of its labelled set alone.
TEXT_WEIGHT = 6.0
TEXT_CAP = 2.0
# Times the cosine (0–1) of the need's terms and the department's duties. A
# department's own statement of what it is responsible for is the strongest
# evidence there is, stronger than the category a community files its need
# under: a cosine of 0.1 (a specific phrase or two shared) weighs three
# offerings in the need's subcategory. Chosen by ``bench/routing.py --tune``
# (60 does worse there), measured on the half it does not read.
DUTY_WEIGHT = 90.0
# Times the votes of the past needs nearest this one, capped so that a
# department answering many look-alike needs does not drown the rest: one
# close look-alike (cosine 0.2) is past ``MIN_SCORE`` on its own. With one or
# two answered needs per department the bench cannot tell 0 from 12 yet, and
# more starts to cost accuracy: 12 is the most that costs nothing.
HISTORY_WEIGHT = 12.0
HISTORY_CAP = 1.5
# The past needs that vote, and how similar (cosine) a past need must be to
# vote at all; the most recent answered needs read.
HISTORY_NEIGHBOURS = 5
HISTORY_MIN_SIMILARITY = 0.1
HISTORY_NEEDS = 2000
# Phrases of the duties and titles of past needs named on the need page.
DUTY_PHRASES = 2
SIMILAR_NEEDS = 2
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
    # Cosine of the need's terms and the department's duties, and the
    # phrases of the need found in them.
    duty: float = 0.0
    duty_phrases: tuple[str, ...] = ()
    # Votes of the nearest past needs the department answered, and their titles.
    history: float = 0.0
    similar_needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Weights:
    """What each signal counts for in ``score``; zero leaves a signal out."""

    category: float = CATEGORY_WEIGHT
    top_category: float = TOP_CATEGORY_WEIGHT
    family: float = FAMILY_WEIGHT
    text: float = TEXT_WEIGHT
    duty: float = DUTY_WEIGHT
    history: float = HISTORY_WEIGHT


# The classifier the portal suggests with.
CLASSIFIER = Weights()


@dataclass(frozen=True)
class Suggestion:
    signals: Signals
    score: float

    @property
    def department_id(self) -> int:
        return self.signals.department_id


def score(signals: Signals, weights: Weights = CLASSIFIER) -> float:
    """The weight of a department's signals (see the module docstring)."""
    return (
        weights.category * min(signals.same_category, CATEGORY_CAP)
        + weights.top_category * min(signals.same_top_category, CATEGORY_CAP)
        + weights.family * signals.family_affinity
        + weights.text * min(signals.text, TEXT_CAP)
        + weights.duty * signals.duty
        + weights.history * min(signals.history, HISTORY_CAP)
    )


def rank_departments(
    candidates: Iterable[Signals],
    *,
    limit: int = SUGGESTED,
    weights: Weights = CLASSIFIER,
    min_score: float = MIN_SCORE,
) -> list[Suggestion]:
    """The ``limit`` best departments scoring at least ``min_score``, best
    first; ties go to the lower id, so the order is stable."""
    scored = [
        Suggestion(signals, round(score(signals, weights), 3)) for signals in candidates
    ]
    chosen = [s for s in scored if s.score >= min_score and s.score > 0]
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


# Duties and past needs: terms ---------------------------------------------------

Terms = Mapping[str, float]


def text_terms(text: str) -> list[str]:
    """The character pairs of ``text``'s clauses (split as ``text_phrases``
    splits them), in order, repeats included."""
    return [
        chunk[start : start + 2]
        for chunk in _SPLIT.split(text)
        for start in range(len(chunk) - 1)
    ]


def need_terms(title: str, description: str = "") -> dict[str, float]:
    """The terms of a need, each weighing 1 when it is in the title and
    ``DESCRIPTION_WEIGHT`` when it is in the description (both add up)."""
    terms = dict.fromkeys(text_terms(title), 1.0)
    for term in set(text_terms(description)):
        terms[term] = terms.get(term, 0.0) + DESCRIPTION_WEIGHT
    return terms


def inverse_frequencies(
    documents: Iterable[Iterable[str]], *, floor: float = 0.0
) -> dict[str, float]:
    """Each term's ``floor + log((documents + 1) / (documents holding it +
    1))``: ``floor`` for a term in every document, the more the rarer it is."""
    counts: dict[str, int] = defaultdict(int)
    total = 0
    for document in documents:
        total += 1
        for term in set(document):
            counts[term] += 1
    return {term: floor + math.log((total + 1) / (n + 1)) for term, n in counts.items()}


def _weighted(terms: Terms, idf: Mapping[str, float]) -> dict[str, float]:
    """``terms`` times their inverse frequency, terms outside ``idf`` left out:
    they are in no document, so they can match none."""
    return {t: w * idf[t] for t, w in terms.items() if idf.get(t, 0.0) > 0}


def cosine(left: Terms, right: Terms) -> float:
    """The cosine of two weighted term vectors: 1 for the same direction, 0
    for nothing in common."""
    if len(right) < len(left):
        left, right = right, left
    dot = sum(w * right[t] for t, w in left.items() if t in right)
    if not dot:
        return 0.0
    norm = math.sqrt(sum(w * w for w in left.values())) * math.sqrt(
        sum(w * w for w in right.values())
    )
    return dot / norm


def shared_phrases(
    text: str, terms: Terms, *, limit: int, idf: Mapping[str, float]
) -> tuple[str, ...]:
    """The longest stretches of ``text`` whose character pairs are all in
    ``terms`` — the words the need shares with a text — the ``limit`` rarest
    (by the sum of their pairs' ``idf``) first, without repeats."""
    found: dict[str, float] = {}
    for chunk in _SPLIT.split(text):
        start = 0
        while start < len(chunk) - 1:
            end = start
            while end < len(chunk) - 1 and chunk[end : end + 2] in terms:
                end += 1
            if end > start:
                phrase = chunk[start : end + 1]
                weight = sum(idf.get(chunk[i : i + 2], 0.0) for i in range(start, end))
                found[phrase] = max(found.get(phrase, 0.0), weight)
                start = end
            else:
                start += 1
    # A phrase inside a longer one found says nothing more.
    phrases = [p for p in found if not any(p != q and p in q for q in found)]
    phrases.sort(key=lambda p: (-found[p], -len(p), p))
    return tuple(phrases[:limit])


def duty_signals(
    title: str, description: str, duties: Mapping[int, str]
) -> dict[int, tuple[float, tuple[str, ...]]]:
    """Each department's duty score — the cosine of the need's terms and its
    ``duties``' — and the phrases of the need found in its duties, rarest
    first; departments whose duties share nothing with the need left out.
    Terms are weighed by their inverse frequency among these duties."""
    duty_terms = {
        department_id: text_terms(text) for department_id, text in duties.items()
    }
    idf = inverse_frequencies(duty_terms.values())
    need = _weighted(need_terms(title, description), idf)
    signals = {}
    for department_id, terms in duty_terms.items():
        vector = _weighted(dict.fromkeys(terms, 1.0), idf)
        similarity = cosine(need, vector)
        if similarity > 0:
            phrases = shared_phrases(
                f"{title}。{description}", vector, limit=DUTY_PHRASES, idf=idf
            )
            signals[department_id] = (round(similarity, 3), phrases)
    return signals


@dataclass(frozen=True)
class PastNeed:
    """A need answered before: its text and the departments that proposed an
    offering for it."""

    title: str
    description: str
    department_ids: frozenset[int]


def history_signals(
    title: str, description: str, past: Sequence[PastNeed]
) -> dict[int, tuple[float, tuple[str, ...]]]:
    """Each department's votes from the ``HISTORY_NEIGHBOURS`` past needs most
    similar to this one (cosine at least ``HISTORY_MIN_SIMILARITY``; ties to
    the earlier in ``past``), each voting its similarity for every department
    that answered it, and the titles of those it answered, nearest first."""
    documents = [need_terms(p.title, p.description) for p in past]
    # While few needs have been answered, a term they all share may still be
    # the point (the first two needs about 驿站): it keeps a weight of 1.
    idf = inverse_frequencies(documents, floor=1.0)
    need = _weighted(need_terms(title, description), idf)
    nearest = sorted(
        (
            (similarity, index)
            for index, document in enumerate(documents)
            if (similarity := cosine(need, _weighted(document, idf)))
            >= HISTORY_MIN_SIMILARITY
        ),
        key=lambda pair: (-pair[0], pair[1]),
    )[:HISTORY_NEIGHBOURS]
    votes: dict[int, float] = defaultdict(float)
    titles: dict[int, list[str]] = defaultdict(list)
    for similarity, index in nearest:
        for department_id in sorted(past[index].department_ids):
            votes[department_id] += similarity
            if past[index].title not in titles[department_id]:
                titles[department_id].append(past[index].title)
    return {
        department_id: (round(value, 3), tuple(titles[department_id][:SIMILAR_NEEDS]))
        for department_id, value in votes.items()
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
    (a subcategory), best first, with their signals (``need_signals``)."""
    return rank_departments(
        need_signals(
            community=community,
            category=category,
            title=title,
            description=description,
        ),
        limit=limit,
    )


def need_signals(
    *,
    community: Region,
    category: Category,
    title: str,
    description: str = "",
) -> list[Signals]:
    """The signals of every candidate for a need of ``community`` in
    ``category`` (a subcategory): the functional departments serving the
    community (its region or one containing it).

    Reads the candidates, two grouped queries of offerings, at most
    ``MAX_PHRASES`` browses and the ``HISTORY_NEEDS`` needs answered most
    recently. When the browse engine fails (a search cluster down), the text
    signal is left out and the others still rank.
    """
    scope = (community.pk, *community.ancestor_ids())
    rows = list(
        Department.objects.filter(
            kind=DepartmentKind.FUNCTIONAL, region_id__in=scope
        ).values_list("pk", "family_id", "duties")
    )
    departments = {pk: family_id for pk, family_id, _duties in rows}
    if not departments:
        return []
    top_id = category.parent_id or category.pk
    same, related = _category_counts(list(departments), category, top_id)
    affinity = family_affinities(_family_counts(), top_id)
    text = text_signals(_phrase_hits(list(departments), title, description))
    duty = duty_signals(
        title, description, {pk: duties for pk, _family, duties in rows if duties}
    )
    history = history_signals(title, description, _past_needs(list(departments)))
    candidates = []
    for department_id, family_id in departments.items():
        text_score, titles = text.get(department_id, (0.0, ()))
        duty_score, phrases = duty.get(department_id, (0.0, ()))
        votes, similar_needs = history.get(department_id, (0.0, ()))
        candidates.append(
            Signals(
                department_id=department_id,
                same_category=same.get(department_id, 0),
                same_top_category=related.get(department_id, 0),
                family_affinity=round(affinity.get(family_id, 0.0), 3),
                text=text_score,
                similar_titles=titles,
                duty=duty_score,
                duty_phrases=phrases,
                history=votes,
                similar_needs=similar_needs,
            )
        )
    return candidates


def _past_needs(department_ids: list[int]) -> list[PastNeed]:
    """The ``HISTORY_NEEDS`` needs most recently answered with a proposal by
    any of the departments, oldest first, with the departments that
    proposed."""
    rows = (
        NeedResponse.objects.filter(
            kind=NeedResponseKind.PROPOSAL, department_id__in=department_ids
        )
        .values_list("need_id", "need__title", "need__description", "department_id")
        .order_by("-need_id")
    )
    needs: dict[int, tuple[str, str, set[int]]] = {}
    for need_id, title, description, department_id in rows.iterator():
        if need_id not in needs:
            if len(needs) == HISTORY_NEEDS:
                break
            needs[need_id] = (title, description, set())
        needs[need_id][2].add(department_id)
    return [
        PastNeed(title, description, frozenset(answered))
        for _need_id, (title, description, answered) in sorted(needs.items())
    ]


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
            facets=False,
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
