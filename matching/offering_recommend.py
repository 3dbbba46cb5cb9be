"""Which offerings to recommend to a community (为您推荐).

Candidates are the offerings the community may order now: in the catalog
(published and open), serving its region or one containing it, meant for
its type of community, and with a seat open — a session ahead with a seat
left, or on request. Offerings it already has an order under way for are
left out. Each candidate is scored on four signals, each one a reason the
panel can put into words:

- **text**: the community's open needs and the offerings it ordered before,
  searched phrase by phrase in the catalog's browse engine exactly as
  ``matching.recommend`` searches a need (its ``text_phrases`` and
  ``phrase_halves``; the search app's Chinese segmentation when installed).
  A hit weighs ``weight / (hits of that phrase + 1)``: need titles 1, need
  descriptions 0.5, past orders' titles 0.25. ("与您的需求『…』相符")
- **same type**: what communities of the same type in the district ordered,
  a community of the same street counting double, a confirmed order (the
  community said it was delivered well) half as much again, a rejected or
  cancelled one not at all. ("同类型的村改居社区常点")
- **area**: the same for the district's communities of other types, weaker:
  what is popular nearby. ("附近社区常点")
- **evaluation**: the department's total of its latest published reverse
  evaluation (0–100), small enough that it mostly breaks ties. Matching
  never reads assessments: the assessments app registers a function giving
  published totals (``register_evaluation_totals``).

Scoring and ranking (``score_parts``, ``rank_offerings``, ``text_evidence``,
``peer_evidence``) are plain functions over plain data;
``offering_recommendations`` reads the catalog and the orders and calls them,
and ``community_recommendations`` caches its answer for a few minutes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, F, Q, Sum
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from catalog.browsing import BrowseQuery, browse_engine, serving_one_of
from catalog.filters import RELEVANCE
from catalog.models import (
    Availability,
    CatalogEntry,
    OfferingPage,
    OfferingSession,
    community_type_bits,
)
from matching.models import ACTIVE_STATES, Need, NeedState, Order, OrderState
from matching.recommend import WINDOW, phrase_halves, text_phrases
from portal.models import CommunityType, Region, RegionLevel, Role, User

logger = logging.getLogger(__name__)

# How many recommendations a panel shows, and how many are cached per community.
SHOWN = 6
RANKED = 20
CACHE_SECONDS = 5 * 60
# Times the text score, capped so that a wordy need does not drown the rest.
TEXT_WEIGHT = 3.0
TEXT_CAP = 2.0
# Times the weighted count of same-type communities that ordered it.
SAME_TYPE_WEIGHT = 1.0
SAME_TYPE_CAP = 10.0
# Other types of the district: what is popular nearby, a weaker hint. On the
# demo district, whose orders follow no type, popularity alone predicts the
# next order about as well as anything (bench/recommend.py), so it is not
# made much weaker than that.
AREA_WEIGHT = 0.5
AREA_CAP = 10.0
# A department's published total of 100 adds this much: less than one
# same-type order, so evaluation decides between otherwise equal offerings.
EVALUATION_WEIGHT = 0.5
# A community of the community's own street says more than one elsewhere in
# the district.
SAME_STREET = 2.0
SAME_DISTRICT = 1.0
# What an order of another community says about the offering, by its state.
STATE_WEIGHTS = {
    OrderState.CONFIRMED: 1.5,
    OrderState.DELIVERED: 1.0,
    OrderState.SCHEDULED: 1.0,
    OrderState.ACCEPTED: 1.0,
    OrderState.SUBMITTED: 0.7,
    OrderState.WAITLISTED: 0.7,
}
# Phrases searched per community (browses, halves included), and offerings
# read per phrase.
MAX_PHRASES = 12
HITS_PER_PHRASE = 30
NEED_TITLE_WEIGHT = 1.0
NEED_DESCRIPTION_WEIGHT = 0.5
# A past order's words are a weak hint: the demo's communities order across
# topics, and a higher weight lost hits there.
ORDER_TITLE_WEIGHT = 0.25
# Open needs and past orders read for their words, the newest first.
NEEDS_READ = 5
ORDERS_READ = 5


class Reason:
    """What a recommendation says for itself: the signal weighing most, or,
    with none, that seats are open."""

    NEED = "need"
    ORDERED = "ordered"
    SAME_TYPE = "same_type"
    AREA = "area"
    EVALUATION = "evaluation"
    SEATS = "seats"


@dataclass(frozen=True)
class Candidate:
    """An offering the community may order now."""

    offering_id: int
    department_id: int
    # Seats left in sessions ahead; None: offered on request.
    seats_open: int | None


@dataclass(frozen=True)
class TextSource:
    """Text of the community searched for: a need's or a past order's."""

    kind: str  # Reason.NEED or Reason.ORDERED
    title: str
    text: str
    weight: float
    # The offering a past order was of, which its own words must not bring.
    offering_id: int | None = None


@dataclass(frozen=True)
class PhraseHits:
    """What one phrase of ``source`` found: the number of offerings in all
    and some of them, best first."""

    source: TextSource
    total: int
    offering_ids: Sequence[int] = field(default_factory=list)


@dataclass(frozen=True)
class TextEvidence:
    score: float
    # The need or past order whose words weigh most for the offering.
    strongest: TextSource


@dataclass(frozen=True)
class PeerOrders:
    """Distinct other communities of the district that ordered an offering,
    in one street relation and state."""

    offering_id: int
    same_type: bool
    same_street: bool
    state: str
    communities: int


@dataclass(frozen=True)
class Recommendation:
    offering_id: int
    score: float
    reason: str
    # The need's or order's title, the community type, the evaluation total,
    # or the seats open ("" for an offering on request).
    reason_subject: str = ""

    def sentence(self) -> str:
        """The reason as one line, in the active language."""
        if self.reason == Reason.NEED:
            return _("Matches your need “%(title)s”") % {"title": self.reason_subject}
        if self.reason == Reason.ORDERED:
            return _("Close to “%(title)s”, which you ordered") % {
                "title": self.reason_subject
            }
        if self.reason == Reason.SAME_TYPE:
            return _("Often ordered by other %(type)s communities") % {
                "type": CommunityType(self.reason_subject).label
            }
        if self.reason == Reason.AREA:
            return _("Often ordered by communities nearby")
        if self.reason == Reason.EVALUATION:
            return _("Its department scored %(total)s in the latest evaluation") % {
                "total": self.reason_subject
            }
        if not self.reason_subject:
            return _("Offered on request: say which dates suit you")
        seats = int(self.reason_subject)
        return ngettext(
            "%(seats)s seat open in coming sessions",
            "%(seats)s seats open in coming sessions",
            seats,
        ) % {"seats": seats}


# Scoring ---------------------------------------------------------------------


def text_evidence(found: Iterable[PhraseHits]) -> dict[int, TextEvidence]:
    """Each offering's text score and the source whose words weigh most for
    it. A hit weighs ``source.weight / (total + 1)``; a past order's words do
    not count for the offering it was of."""
    by_source: dict[int, dict[TextSource, float]] = defaultdict(
        lambda: defaultdict(float)
    )
    for hits in found:
        if not hits.total:
            continue
        weight = hits.source.weight / (hits.total + 1)
        for offering_id in hits.offering_ids:
            if offering_id != hits.source.offering_id:
                by_source[offering_id][hits.source] += weight
    evidence = {}
    for offering_id, weights in by_source.items():
        # The first source listed wins a tie: needs come before orders.
        strongest = max(weights, key=lambda source: weights[source])
        evidence[offering_id] = TextEvidence(
            score=round(sum(weights.values()), 3), strongest=strongest
        )
    return evidence


def peer_evidence(rows: Iterable[PeerOrders]) -> dict[int, tuple[float, float]]:
    """Each offering's (same-type, other-type) weight of the orders of other
    communities of the district."""
    weights: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        value = (
            row.communities
            * STATE_WEIGHTS.get(row.state, 0.0)
            * (SAME_STREET if row.same_street else SAME_DISTRICT)
        )
        weights[row.offering_id][0 if row.same_type else 1] += value
    return {pk: (same, other) for pk, (same, other) in weights.items()}


def score_parts(
    *,
    text: TextEvidence | None,
    same_type: float,
    area: float,
    evaluation: float | None,
) -> dict[str, float]:
    """The weight of each signal of one offering (see the module docstring),
    keyed by the reason it gives."""
    parts = {
        Reason.SAME_TYPE: SAME_TYPE_WEIGHT * min(same_type, SAME_TYPE_CAP),
        Reason.AREA: AREA_WEIGHT * min(area, AREA_CAP),
        Reason.EVALUATION: EVALUATION_WEIGHT * (evaluation or 0.0) / 100,
    }
    if text is not None:
        parts[text.strongest.kind] = TEXT_WEIGHT * min(text.score, TEXT_CAP)
    return parts


def rank_offerings(
    candidates: Iterable[Candidate],
    *,
    community_type: str,
    text: Mapping[int, TextEvidence],
    peers: Mapping[int, tuple[float, float]],
    evaluations: Mapping[int, float],
    limit: int = RANKED,
) -> list[Recommendation]:
    """The ``limit`` best candidates, best first, each with its strongest
    reason; ties go to the lower offering id, so the order is stable. A
    candidate with no signal at all says that its seats are open."""
    ranked = []
    for candidate in candidates:
        evidence = text.get(candidate.offering_id)
        same_type, area = peers.get(candidate.offering_id, (0.0, 0.0))
        evaluation = evaluations.get(candidate.department_id)
        parts = score_parts(
            text=evidence, same_type=same_type, area=area, evaluation=evaluation
        )
        total = round(sum(parts.values()), 4)
        reason = max(parts, key=lambda name: parts[name])
        subject = ""
        if not parts[reason]:
            reason = Reason.SEATS
            if candidate.seats_open is not None:
                subject = str(candidate.seats_open)
        elif reason in (Reason.NEED, Reason.ORDERED):
            subject = evidence.strongest.title
        elif reason == Reason.SAME_TYPE:
            subject = community_type
        elif reason == Reason.EVALUATION:
            subject = f"{evaluation:.1f}"
        ranked.append(
            Recommendation(
                offering_id=candidate.offering_id,
                score=total,
                reason=reason,
                reason_subject=subject,
            )
        )
    ranked.sort(key=lambda r: (-r.score, r.offering_id))
    return ranked[:limit]


# Published evaluation totals, from the app above ------------------------------

EvaluationTotals = Callable[[Sequence[int]], Mapping[int, float]]
_evaluation_totals: EvaluationTotals | None = None


def register_evaluation_totals(provider: EvaluationTotals) -> None:
    """Score departments with ``provider``: department ids → the total of
    each one's latest published evaluation (assessments registers it)."""
    global _evaluation_totals
    _evaluation_totals = provider


def _published_totals(department_ids: Sequence[int]) -> Mapping[int, float]:
    return _evaluation_totals(department_ids) if _evaluation_totals else {}


# Reading the catalog and the orders -------------------------------------------


def offering_recommendations(
    *, community: Region, limit: int = RANKED
) -> list[Recommendation]:
    """The offerings to recommend to ``community``, best first, each with its
    reason, read now (no cache).

    Reads the candidates and their seats in two queries, the community's
    own needs and orders in two, the district's orders in one, the published
    evaluation totals in one, and at most ``MAX_PHRASES`` browses. When the
    browse engine fails (a search cluster down), the text signal is left out
    and the others still rank.
    """
    candidates = offering_candidates(community)
    if not candidates:
        return []
    sources = _text_sources(community)
    text = text_evidence(_phrase_hits(community, sources))
    peers = peer_evidence(_peer_orders(community, list(candidates)))
    department_ids = sorted({c.department_id for c in candidates.values()})
    return rank_offerings(
        candidates.values(),
        community_type=community.community_type,
        text=text,
        peers=peers,
        evaluations=_published_totals(department_ids),
        limit=limit,
    )


@dataclass(frozen=True)
class Shown:
    """A recommendation as a panel shows it."""

    offering: OfferingPage
    reason: str


def community_recommendations(*, community: Region, limit: int = SHOWN) -> list[Shown]:
    """What the 为您推荐 panels show ``community``: the best ``limit`` of
    ``offering_recommendations``, cached for ``CACHE_SECONDS``.

    Offerings ordered or gone from the catalog since the ranking was cached
    are left out when read, so an order placed a minute ago is not
    recommended again. Three queries with a warm cache.
    """
    key = f"matching:recommend:{community.pk}"
    ranked = cache.get(key)
    if ranked is None:
        ranked = offering_recommendations(community=community)
        cache.set(key, ranked, CACHE_SECONDS)
    under_way = set(
        Order.objects.filter(community=community, state__in=ACTIVE_STATES).values_list(
            "offering_id", flat=True
        )
    )
    chosen = [r for r in ranked if r.offering_id not in under_way]
    pages = OfferingPage.objects.filter(
        pk__in=[r.offering_id for r in chosen], catalog_entry__isnull=False
    ).select_related("category")
    by_id = {page.pk: page for page in pages}
    return [
        Shown(offering=by_id[r.offering_id], reason=r.sentence())
        for r in chosen
        if r.offering_id in by_id
    ][:limit]


def recommendations_for(user: User) -> list[Shown]:
    """``community_recommendations`` of the community ``user`` orders for;
    nothing for any other user."""
    if not (
        user.is_authenticated
        and user.role == Role.COMMUNITY_OPERATOR
        and user.region_id
        and user.region.level == RegionLevel.COMMUNITY
    ):
        return []
    return community_recommendations(community=user.region)


def _eligible_entries(community: Region):
    """Catalog entries ``community`` may order: serving its area, meant for
    its type of community (an entry naming no type is for every type)."""
    scope = (community.pk, *community.ancestor_ids())
    bit = community_type_bits([community.community_type])
    return CatalogEntry.objects.filter(serving_one_of(scope)).filter(
        Q(community_types=0) | Q(GreaterThan(F("community_types").bitand(bit), 0))
    )


def offering_candidates(community: Region) -> dict[int, Candidate]:
    """The offerings the community may order now with a seat open, without
    those it has an order under way for."""
    entries = (
        _eligible_entries(community)
        .exclude(
            offering_id__in=Order.objects.filter(
                community=community, state__in=ACTIVE_STATES
            ).values("offering_id")
        )
        .values_list("offering_id", "department_id", "availability")
    )
    rows = list(entries)
    scheduled = [
        pk for pk, _d, availability in rows if availability != Availability.ON_REQUEST
    ]
    seats = dict(
        OfferingSession.objects.filter(
            offering_id__in=scheduled,
            starts_at__gte=timezone.now(),
            seats_taken__lt=F("seats"),
        )
        .values("offering_id")
        .annotate(left=Sum(F("seats") - F("seats_taken")))
        .values_list("offering_id", "left")
        .order_by()
    )
    candidates = {}
    for offering_id, department_id, availability in rows:
        if availability == Availability.ON_REQUEST:
            open_seats = None
        elif offering_id in seats:
            open_seats = seats[offering_id]
        else:
            # Full, or no session ahead: nothing to order now.
            continue
        candidates[offering_id] = Candidate(offering_id, department_id, open_seats)
    return candidates


def _text_sources(community: Region) -> list[TextSource]:
    """The community's open needs (title, then description) and the
    offerings of its latest orders that were not refused or withdrawn, the
    newest first."""
    needs = Need.objects.filter(community=community, state=NeedState.OPEN).order_by(
        "-created_at", "-pk"
    )[:NEEDS_READ]
    sources = []
    descriptions = []
    for title, description in needs.values_list("title", "description"):
        sources.append(TextSource(Reason.NEED, title, title, NEED_TITLE_WEIGHT))
        descriptions.append(
            TextSource(Reason.NEED, title, description, NEED_DESCRIPTION_WEIGHT)
        )
    orders = (
        Order.objects.filter(community=community)
        .exclude(state__in=(OrderState.REJECTED, OrderState.CANCELLED))
        .order_by("-placed_at", "-pk")
        .values_list("offering_id", "offering__title")[:ORDERS_READ]
    )
    ordered = [
        TextSource(Reason.ORDERED, title, title, ORDER_TITLE_WEIGHT, offering_id)
        for offering_id, title in dict(orders).items()
    ]
    return sources + descriptions + ordered


def _phrase_hits(community: Region, sources: list[TextSource]) -> list[PhraseHits]:
    """Browse each phrase of the sources, in order, among the offerings the
    community may order, until ``MAX_PHRASES`` browses are spent; a phrase
    two sources share is browsed once."""
    engine = browse_engine()
    scope = (community.pk, *community.ancestor_ids())
    queue = [
        (phrase, source) for source in sources for phrase in text_phrases(source.text)
    ]
    seen: set[tuple[str, TextSource]] = set()
    browsed: dict[str, tuple[int, list[int]]] = {}
    found = []
    while queue:
        phrase, source = queue.pop(0)
        if (phrase, source) in seen:
            continue
        if phrase not in browsed:
            if len(browsed) >= MAX_PHRASES:
                continue
            query = BrowseQuery(
                text=phrase,
                filters={"community": [community.community_type]},
                sort=RELEVANCE,
                stop=HITS_PER_PHRASE,
                facets=False,
                scope=scope,
            )
            try:
                results = engine.browse(query)
            except Exception:
                # Recommendations are a help: without the text the others rank.
                logger.warning(
                    "Text similarity unavailable for recommendations", exc_info=True
                )
                return found
            browsed[phrase] = (results.total, [o.pk for o in results.offerings])
        seen.add((phrase, source))
        total, offering_ids = browsed[phrase]
        if not total and len(phrase) >= WINDOW:
            queue[:0] = [(half, source) for half in phrase_halves(phrase)]
        found.append(PhraseHits(source=source, total=total, offering_ids=offering_ids))
    return found


def _peer_orders(community: Region, offering_ids: list[int]) -> list[PeerOrders]:
    """Other communities of the district that ordered the candidates, counted
    by offering, type (same or other), street (same or other) and state."""
    rows = (
        Order.objects.filter(
            offering_id__in=offering_ids,
            community__district_id=community.district_id,
            state__in=list(STATE_WEIGHTS),
        )
        .exclude(community=community)
        .values(
            "offering_id", "community__community_type", "community__street_id", "state"
        )
        .annotate(communities=Count("community_id", distinct=True))
        .order_by()
    )
    return [
        PeerOrders(
            offering_id=row["offering_id"],
            same_type=row["community__community_type"] == community.community_type,
            same_street=row["community__street_id"] == community.street_id,
            state=row["state"],
            communities=row["communities"],
        )
        for row in rows
    ]
