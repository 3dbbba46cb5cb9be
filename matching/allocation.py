"""Seat allocation for ordering campaigns (点单季): who gets which seats when
more communities want a session than it has seats. Plain Python over plain
data (indexes), no Django, so that it is fast to test and to benchmark
(bench/allocation.py; the campaigns around it: docs/subsystems/campaigns.md).

A ``Campaign`` is sessions with seats, and communities each with a quota (at
most this many seats in the campaign) and up to K ranked choices. Two
mechanisms answer it:

- ``welfare_optimal`` — as many seats as the choices can fill, and among
  those allocations the one of least total cost, a community's k-th choice
  costing more the further down its list it is (``rank_cost``), a second
  seat of one community costing more than a first seat of another
  (``EXTRA_SEAT_COST``), and a community of a later priority class costing
  more than any rank (``PRIORITY_COST``). It is a min-cost flow: source →
  community (one arc per seat of its quota) → session (one arc per choice) →
  sink (capacity the seats), solved exactly by OR-Tools.
- ``deferred_acceptance`` — communities propose down their lists, sessions
  keep the communities they rank best (priority class, then a lottery) and
  turn the others away. No community gains by ranking other than it truly
  prefers, which the welfare optimum cannot promise.

Nothing is first come, first served: the order of arrival plays no part. Ties
are broken by a lottery drawn from ``Campaign.seed``, the same every time.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

WELFARE = "welfare"
DEFERRED_ACCEPTANCE = "deferred_acceptance"
MECHANISMS = (WELFARE, DEFERRED_ACCEPTANCE)

# A community's second seat costs this much more than its first, its third
# twice as much: seats spread over communities before any gets several.
EXTRA_SEAT_COST = 10


def rank_cost(rank: Any) -> Any:
    """The cost of giving a community its ``rank``-th choice (from 1; an int
    or an array of them): growing faster than the rank, so that two
    communities getting their second choices beat one getting its first and
    the other its third."""
    return rank * rank


@dataclass(frozen=True)
class Campaign:
    """``seats[s]`` of each session s; for each community c, ``quotas[c]``
    and ``choices[c]`` (session indexes, first choice first, no repeats);
    ``priority[c]`` its class (0 first; empty: everyone equal)."""

    seats: Sequence[int]
    quotas: Sequence[int]
    choices: Sequence[Sequence[int]]
    priority: Sequence[int] = ()
    seed: int = 0

    def priority_of(self, community: int) -> int:
        return self.priority[community] if self.priority else 0

    @cached_property
    def priority_cost(self) -> int:
        """What each priority class after the first adds to a seat's cost:
        more than the worst rank and the most extra seats together, so that a
        scarce seat goes to the earlier class whatever the rankings."""
        longest = max((len(c) for c in self.choices), default=0)
        quota = max(self.quotas, default=0)
        return rank_cost(longest) + EXTRA_SEAT_COST * quota + 1

    def lottery(self) -> list[int]:
        """Each community's place in the tie-breaking lottery (0 first)."""
        order = list(range(len(self.quotas)))
        # A reproducible draw, not a secret: anyone may rerun it.
        random.Random(self.seed).shuffle(order)  # noqa: S311
        places = [0] * len(order)
        for place, community in enumerate(order):
            places[community] = place
        return places


@dataclass
class Allocation:
    mechanism: str
    # Per community, the sessions it got, in its order of choice.
    assigned: list[list[int]]
    # The total cost of the welfare optimum (None for other mechanisms).
    objective: int | None = None

    def seats_taken(self, sessions: int) -> list[int]:
        taken = [0] * sessions
        for sessions_of in self.assigned:
            for session in sessions_of:
                taken[session] += 1
        return taken


def cost_of(campaign: Campaign, community: int, rank: int, seat: int) -> int:
    """What the welfare optimum pays for ``community``'s ``seat``-th seat (from
    0) at its ``rank``-th choice."""
    return (
        rank_cost(rank)
        + EXTRA_SEAT_COST * seat
        + campaign.priority_cost * campaign.priority_of(community)
    )


def welfare_optimal(campaign: Campaign) -> Allocation:
    """The allocation filling the most seats at the least total cost
    (``cost_of``), found exactly by OR-Tools' min-cost flow.

    The network is built as arrays (a national campaign has millions of
    choices): nodes are the communities, then the sessions, then the source
    and the sink. The cost of extra seats and of priority sits on the source
    arcs (one per seat of a community's quota), the cost of the rank on the
    choice arcs: ``cost_of`` is their sum."""
    import numpy as np
    from ortools.graph.python import min_cost_flow

    communities, sessions = len(campaign.quotas), len(campaign.seats)
    source, sink = communities + sessions, communities + sessions + 1
    lengths = np.fromiter(
        (len(choices) for choices in campaign.choices),
        dtype=np.int64,
        count=communities,
    )
    quotas = np.minimum(np.asarray(campaign.quotas, dtype=np.int64), lengths)
    priority = (
        np.asarray(campaign.priority, dtype=np.int64)
        if campaign.priority
        else np.zeros(communities, dtype=np.int64)
    )
    # Source arcs: community c's j-th seat, j < its quota.
    seat_owner = np.repeat(np.arange(communities), quotas)
    seat_index = np.arange(len(seat_owner)) - np.repeat(
        np.cumsum(quotas) - quotas, quotas
    )
    # Choice arcs: community c → its r-th choice.
    chooser = np.repeat(np.arange(communities), lengths)
    chosen = np.fromiter(
        (s for choices in campaign.choices for s in choices),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    rank = (
        np.arange(len(chooser)) - np.repeat(np.cumsum(lengths) - lengths, lengths) + 1
    )
    tails = np.concatenate(
        [np.full(len(seat_owner), source), chooser, communities + np.arange(sessions)]
    )
    heads = np.concatenate([seat_owner, communities + chosen, np.full(sessions, sink)])
    capacities = np.concatenate(
        [
            np.ones(len(seat_owner) + len(chooser), dtype=np.int64),
            np.asarray(campaign.seats, dtype=np.int64),
        ]
    )
    costs = np.concatenate(
        [
            EXTRA_SEAT_COST * seat_index
            + campaign.priority_cost * priority[seat_owner],
            rank_cost(rank),
            np.zeros(sessions, dtype=np.int64),
        ]
    )
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    total = int(quotas.sum())
    solver.set_node_supply(source, total)
    solver.set_node_supply(sink, -total)
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow: {status}")
    first_choice_arc = len(seat_owner)
    flows = solver.flows(np.arange(first_choice_arc, first_choice_arc + len(chooser)))
    assigned: list[list[int]] = [[] for _ in range(communities)]
    for arc in np.flatnonzero(flows):
        assigned[int(chooser[arc])].append(int(chosen[arc]))
    return Allocation(WELFARE, assigned, objective=solver.optimal_cost())


def deferred_acceptance(campaign: Campaign) -> Allocation:
    """Community-proposing deferred acceptance with quotas: each community
    proposes to its next choice while it holds fewer seats than its quota;
    a full session keeps the communities of the earliest priority class
    (then the lottery) and turns away the last of them."""
    lottery = campaign.lottery()
    communities = len(campaign.quotas)
    following = [0] * communities
    held_by: list[set[int]] = [set() for _ in range(communities)]
    # Per session, a heap of the communities it holds, the one it would turn
    # away first on top: (-priority, -lottery, community).
    holding: list[list[tuple[int, int, int]]] = [[] for _ in campaign.seats]
    proposing = list(range(communities))
    while proposing:
        community = proposing.pop()
        choices = campaign.choices[community]
        while len(held_by[community]) < campaign.quotas[community] and following[
            community
        ] < len(choices):
            session = choices[following[community]]
            following[community] += 1
            key = (-campaign.priority_of(community), -lottery[community], community)
            heap = holding[session]
            if len(heap) < campaign.seats[session]:
                heapq.heappush(heap, key)
                held_by[community].add(session)
            elif heap and key > heap[0]:
                _priority, _place, turned_away = heapq.heapreplace(heap, key)
                held_by[turned_away].discard(session)
                held_by[community].add(session)
                proposing.append(turned_away)
    assigned = [
        [s for s in campaign.choices[c] if s in held_by[c]] for c in range(communities)
    ]
    return Allocation(DEFERRED_ACCEPTANCE, assigned)


def objective_of(campaign: Campaign, allocation: Allocation) -> int:
    """``allocation``'s total cost by ``cost_of``: a community's seats counted
    best choice first, as the welfare optimum would pay for them."""
    total = 0
    for community, sessions in enumerate(allocation.assigned):
        ranks = sorted(campaign.choices[community].index(s) + 1 for s in sessions)
        total += sum(
            cost_of(campaign, community, rank, seat) for seat, rank in enumerate(ranks)
        )
    return total


@dataclass
class Statistics:
    """What a campaign's allocation gives, for the preview and the bench."""

    communities: int
    requested: int
    assigned: int
    first_choice: int
    ranks: list[int] = field(default_factory=list)
    with_nothing: int = 0
    by_group: dict[str, dict[Hashable, int]] = field(default_factory=dict)
    # Sessions over capacity (there should never be any).
    violations: int = 0
    fill: list[float] = field(default_factory=list)

    @property
    def share_assigned(self) -> float:
        return self.assigned / self.requested if self.requested else 0.0

    @property
    def share_first_choice(self) -> float:
        return self.first_choice / self.communities if self.communities else 0.0

    @property
    def mean_rank(self) -> float:
        return sum(self.ranks) / len(self.ranks) if self.ranks else 0.0

    @property
    def p90_rank(self) -> int:
        if not self.ranks:
            return 0
        ordered = sorted(self.ranks)
        return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def allocation_statistics(
    campaign: Campaign,
    allocation: Allocation,
    groups: dict[str, Sequence[Hashable]] | None = None,
) -> Statistics:
    """Share of requested seats assigned (a community requests up to its
    quota, at most its number of choices), share of communities that ranked
    something and got their first choice, the rank of every seat given, the
    communities that got nothing, seats by each grouping of communities
    (``groups[name][c]``, e.g. district or community type), session fill and
    any session over capacity."""
    ranking = [c for c, choices in enumerate(campaign.choices) if choices]
    stats = Statistics(
        communities=len(ranking),
        requested=sum(
            min(campaign.quotas[c], len(campaign.choices[c])) for c in ranking
        ),
        assigned=sum(len(allocation.assigned[c]) for c in ranking),
        first_choice=sum(
            campaign.choices[c][0] in allocation.assigned[c] for c in ranking
        ),
    )
    for c in ranking:
        stats.ranks += [
            campaign.choices[c].index(s) + 1 for s in allocation.assigned[c]
        ]
    stats.with_nothing = sum(not allocation.assigned[c] for c in ranking)
    for name, group_of in (groups or {}).items():
        seats: Counter = Counter()
        for c in ranking:
            seats[group_of[c]] += len(allocation.assigned[c])
        stats.by_group[name] = dict(seats)
    taken = allocation.seats_taken(len(campaign.seats))
    stats.violations = sum(t > s for t, s in zip(taken, campaign.seats, strict=True))
    stats.fill = [
        t / s if s else 0.0 for t, s in zip(taken, campaign.seats, strict=True)
    ]
    return stats


def allocate(campaign: Campaign, mechanism: str) -> Allocation:
    if mechanism == WELFARE:
        return welfare_optimal(campaign)
    if mechanism == DEFERRED_ACCEPTANCE:
        return deferred_acceptance(campaign)
    raise ValueError(mechanism)
