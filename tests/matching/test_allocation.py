"""Seat allocation on small instances checked by hand: capacities, quotas,
ties, priorities, empty rankings, more seats than demand, and the two
mechanisms side by side."""

import itertools
import random

import pytest

from matching.allocation import (
    DEFERRED_ACCEPTANCE,
    WELFARE,
    Allocation,
    Campaign,
    allocate,
    allocation_statistics,
    deferred_acceptance,
    objective_of,
    welfare_optimal,
)


def brute_force_best(campaign: Campaign) -> int:
    """The least cost among allocations filling the most seats, by trying
    every one (tiny instances only)."""
    options = []
    for community, choices in enumerate(campaign.choices):
        quota = min(campaign.quotas[community], len(choices))
        options.append(
            [
                list(combo)
                for size in range(quota + 1)
                for combo in itertools.combinations(choices, size)
            ]
        )
    best = None
    for assignment in itertools.product(*options):
        taken = [0] * len(campaign.seats)
        for sessions in assignment:
            for session in sessions:
                taken[session] += 1
        if any(t > s for t, s in zip(taken, campaign.seats, strict=True)):
            continue
        key = (
            -sum(taken),
            objective_of(campaign, Allocation("x", [list(a) for a in assignment])),
        )
        best = key if best is None or key < best else best
    return best


def test_a_scarce_seat_goes_where_it_is_a_first_choice():
    # Two communities want session 0 first; community 1 would be as happy
    # with session 1, community 0 has nothing else it wants.
    campaign = Campaign(seats=[1, 1], quotas=[1, 1], choices=[[0], [0, 1]])
    allocation = welfare_optimal(campaign)
    assert allocation.assigned == [[0], [1]]
    assert allocation.objective == 1 + 4


def test_quotas_spread_seats_over_communities():
    # Three seats of one session, quota 2 each: everyone gets one before
    # anyone gets a second.
    campaign = Campaign(seats=[3], quotas=[2, 2, 2], choices=[[0], [0], [0]])
    assert [len(s) for s in welfare_optimal(campaign).assigned] == [1, 1, 1]
    campaign = Campaign(seats=[2, 2], quotas=[2, 2, 1], choices=[[0, 1], [0, 1], [0]])
    allocation = welfare_optimal(campaign)
    assert allocation.seats_taken(2) == [2, 2]
    assert sorted(len(s) for s in allocation.assigned) == [1, 1, 2]


def test_the_earlier_priority_class_gets_the_scarce_seat_whatever_its_rank():
    # Community 1 (priority 0, e.g. received least last time) ranks the
    # session third; community 0 (priority 1) ranks it first.
    campaign = Campaign(
        seats=[1, 0, 0], quotas=[1, 1], choices=[[0], [1, 2, 0]], priority=[1, 0]
    )
    for mechanism in (WELFARE, DEFERRED_ACCEPTANCE):
        assert allocate(campaign, mechanism).assigned == [[], [0]], mechanism


def test_ties_are_broken_by_the_lottery_the_same_way_every_time():
    campaign = Campaign(seats=[1], quotas=[1] * 4, choices=[[0]] * 4, seed=7)
    first = deferred_acceptance(campaign).assigned
    assert sum(map(len, first)) == 1
    assert deferred_acceptance(campaign).assigned == first
    # The seat goes to the community first in the lottery, for both mechanisms.
    winner = first.index([0])
    assert campaign.lottery()[winner] == 0


def test_communities_that_ranked_nothing_get_nothing_and_count_for_nothing():
    campaign = Campaign(seats=[2], quotas=[1, 1], choices=[[], [0]])
    allocation = welfare_optimal(campaign)
    assert allocation.assigned == [[], [0]]
    stats = allocation_statistics(campaign, allocation)
    assert (stats.communities, stats.requested, stats.assigned) == (1, 1, 1)
    assert stats.with_nothing == 0 and stats.share_first_choice == 1


def test_with_more_seats_than_demand_everyone_gets_their_first_choices():
    campaign = Campaign(
        seats=[5, 5, 5], quotas=[2, 1, 3], choices=[[2, 0], [1], [0, 1, 2]]
    )
    for mechanism in (WELFARE, DEFERRED_ACCEPTANCE):
        allocation = allocate(campaign, mechanism)
        assert allocation.assigned == [[2, 0], [1], [0, 1, 2]], mechanism


def test_deferred_acceptance_turns_away_the_later_class_for_a_better_one():
    # Community 0 proposes first and is held, then community 1 of an earlier
    # class displaces it; community 0 goes on to its second choice.
    campaign = Campaign(
        seats=[1, 1], quotas=[1, 1], choices=[[0, 1], [0]], priority=[1, 0]
    )
    assert deferred_acceptance(campaign).assigned == [[1], [0]]


@pytest.mark.parametrize("seed", range(12))
def test_the_welfare_optimum_is_optimal_and_never_overfills(seed):
    rng = random.Random(seed)  # noqa: S311
    sessions = rng.randint(1, 3)
    campaign = Campaign(
        seats=[rng.randint(0, 2) for _ in range(sessions)],
        quotas=[rng.randint(1, 2) for _ in range(4)],
        choices=[
            rng.sample(range(sessions), rng.randint(0, sessions)) for _ in range(4)
        ],
        seed=seed,
    )
    allocation = welfare_optimal(campaign)
    stats = allocation_statistics(campaign, allocation)
    assert stats.violations == 0
    filled, cost = brute_force_best(campaign)
    assert stats.assigned == -filled
    assert allocation.objective == cost == objective_of(campaign, allocation)
    assert (
        allocation_statistics(campaign, deferred_acceptance(campaign)).violations == 0
    )


def test_statistics_say_what_each_group_got():
    campaign = Campaign(seats=[1, 1], quotas=[1, 1, 1], choices=[[0], [0, 1], [0]])
    allocation = welfare_optimal(campaign)
    stats = allocation_statistics(
        campaign, allocation, groups={"type": ["old", "new", "old"]}
    )
    assert stats.assigned == 2 and stats.with_nothing == 1
    assert stats.by_group["type"] == {"old": 1, "new": 1}
    assert stats.ranks.count(1) == 1 and stats.ranks.count(2) == 1
    assert stats.mean_rank == 1.5 and stats.p90_rank == 2
    assert stats.fill == [1.0, 1.0]
