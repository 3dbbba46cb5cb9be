"""Allocate the seats of an ordering campaign (点单季) at three sizes, beside
first-come-first-served, random serial dictatorship and a NetworkX
min-cost-flow peer.

Sizes (communities × sessions × choices each):

- district: 300 × 70 × 5 (Putuo's 289 communities choosing among 71 projects);
- city: 6,000 × 300 × 10;
- national: 600,000 × 30,000 × 20 (``--sizes national``; minutes and GBs,
  not run by default).

Each community has a district (20 of them at city size), a community type
(新城区 / 老城区 / 村改居 / 农村, in Shanghai's shares), a quota of 3 seats
and K distinct choices drawn by popularity (a Zipf law: a few sessions are
everyone's favourites); sessions are of about the same size, one seat for
every two asked (scarcity). FCFS lets communities come to the portal over
the first hours after it opens, faster ones sooner (new-urban communities,
with younger staff, come and click fastest), and click their choices in
order, about a minute apart, each click taking a seat if one is left and the
community is below its quota. A second table shows how FCFS's figures move
with that minute: the longer a community takes between its own clicks, the
more its first click races the others' first clicks instead of their later
ones (at an hour apart, as far apart as the arrivals, FCFS hands out first
choices almost as the welfare optimum does). RSD draws a random order and
lets each community take its best choices left. The NetworkX peer solves the same
min-cost flow as ``welfare_optimal`` with ``max_flow_min_cost``.

Each mechanism runs in a child process of its own, timed from building its
model to the allocation in hand; "peak MB" is that process's maximum
resident size (it includes the instance, inherited from the parent).
"optimal" compares the total cost with the exact peer's where it ran.

Targets (from the issue): city size under 2 s including model build; at
least 50× faster than the NetworkX peer at city size; first-choice share at
least 10 points above FCFS under scarcity; zero capacity violations.

    .venv/bin/python bench/allocation.py                        # district, city
    .venv/bin/python bench/allocation.py --sizes national
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from matching.allocation import (  # noqa: E402 (after the path is set)
    EXTRA_SEAT_COST,
    Allocation,
    Campaign,
    Statistics,
    allocation_statistics,
    deferred_acceptance,
    objective_of,
    rank_cost,
    welfare_optimal,
)

SIZES = {
    "district": (300, 70, 5, 1),
    "city": (6_000, 300, 10, 20),
    "national": (600_000, 30_000, 20, 2_900),
}
QUOTA = 3
# Seats for every seat asked.
SUPPLY = 0.5
TYPES = (
    ("new_urban", 0.35),
    ("old_urban", 0.45),
    ("converted_village", 0.1),
    ("rural", 0.1),
)
# How fast each type comes and clicks under FCFS: it first opens the
# campaign after an exponential wait of 1 / speed hours on average, and
# clicks again after one of CLICK_GAP_HOURS / speed.
CLICK_SPEED = {
    "new_urban": 3.0,
    "old_urban": 1.0,
    "converted_village": 0.8,
    "rural": 0.6,
}
CLICK_GAP_HOURS = 1 / 60
# The gaps between a community's own clicks of the FCFS sensitivity table.
CLICK_GAPS_HOURS = (10 / 3600, 1 / 60, 6 / 60, 1.0)
MECHANISMS = ("welfare (OR-Tools)", "deferred acceptance", "FCFS", "RSD", "NetworkX")
# The NetworkX peer runs at these sizes only (it takes minutes beyond).
NETWORKX_SIZES = ("district", "city")


@dataclass
class Instance:
    size: str
    campaign: Campaign
    districts: list[int]
    types: list[str]


def generate(size: str, seed: int = 2026) -> Instance:
    communities, sessions, choices, districts = SIZES[size]
    rng = random.Random(seed)
    # Zipf-like popularity: session i weighs 1 / (i + 1).
    weights = [1 / (i + 1) for i in range(sessions)]
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    lists = []
    for _ in range(communities):
        picked: dict[int, None] = {}
        while len(picked) < choices:
            picked.setdefault(rng.choices(range(sessions), cum_weights=cumulative)[0])
        lists.append(list(picked))
    # Sessions are about the same size (a classroom, a venue), half to one
    # and a half times the mean, which gives one seat for every two asked.
    mean = communities * QUOTA * SUPPLY / sessions
    seats = [max(1, round(mean * rng.uniform(0.5, 1.5))) for _ in range(sessions)]
    types = rng.choices(
        [t for t, _ in TYPES], weights=[w for _, w in TYPES], k=communities
    )
    return Instance(
        size=size,
        campaign=Campaign(
            seats=seats, quotas=[QUOTA] * communities, choices=lists, seed=seed
        ),
        districts=[rng.randrange(districts) for _ in range(communities)],
        types=types,
    )


def first_come_first_served(
    instance: Instance, click_gap_hours: float = CLICK_GAP_HOURS
) -> Allocation:
    """Every community comes to the portal and clicks its choices in order,
    as fast as its staff do (``CLICK_SPEED``: it comes sooner and clicks
    again sooner); each click takes a seat if the session has one left and
    the community is below its quota."""
    import numpy as np

    campaign = instance.campaign
    rng = np.random.default_rng(campaign.seed + 1)
    lengths = np.array([len(choices) for choices in campaign.choices])
    speed = np.array([CLICK_SPEED[t] for t in instance.types])
    # A community's clicks: at its arrival, then each a gap later, so they
    # come in its order of choice (and its seats too).
    gaps = rng.exponential(click_gap_hours / np.repeat(speed, lengths))
    firsts = np.cumsum(lengths) - lengths
    gaps[firsts] = rng.exponential(1 / speed)
    within = np.cumsum(gaps)
    at = within - np.repeat(within[firsts] - gaps[firsts], lengths)
    order = np.argsort(at, kind="stable")
    clickers = np.repeat(np.arange(len(lengths)), lengths)[order].tolist()
    sessions = np.fromiter(
        (s for choices in campaign.choices for s in choices),
        dtype=np.int64,
        count=int(lengths.sum()),
    )[order].tolist()
    left = list(campaign.seats)
    assigned: list[list[int]] = [[] for _ in campaign.choices]
    for community, session in zip(clickers, sessions, strict=True):
        if left[session] and len(assigned[community]) < campaign.quotas[community]:
            left[session] -= 1
            assigned[community].append(session)
    return Allocation("FCFS", assigned)


def random_serial_dictatorship(instance: Instance) -> Allocation:
    campaign = instance.campaign
    order = list(range(len(campaign.choices)))
    random.Random(campaign.seed + 2).shuffle(order)
    left = list(campaign.seats)
    assigned: list[list[int]] = [[] for _ in campaign.choices]
    for community in order:
        for session in campaign.choices[community]:
            if len(assigned[community]) == campaign.quotas[community]:
                break
            if left[session]:
                left[session] -= 1
                assigned[community].append(session)
    return Allocation("RSD", assigned)


def networkx_optimal(instance: Instance) -> Allocation:
    """The same network as ``welfare_optimal`` (a node per seat of a quota,
    as a DiGraph has no parallel arcs), solved by NetworkX."""
    import networkx as nx

    campaign = instance.campaign
    graph = nx.DiGraph()
    priority_cost = campaign.priority_cost
    for community, choices in enumerate(campaign.choices):
        for seat in range(min(campaign.quotas[community], len(choices))):
            cost = EXTRA_SEAT_COST * seat + priority_cost * campaign.priority_of(
                community
            )
            graph.add_edge("source", ("seat", community, seat), capacity=1, weight=cost)
            graph.add_edge(
                ("seat", community, seat), ("c", community), capacity=1, weight=0
            )
        for rank, session in enumerate(choices, start=1):
            graph.add_edge(
                ("c", community), ("s", session), capacity=1, weight=rank_cost(rank)
            )
    for session, seats in enumerate(campaign.seats):
        graph.add_edge(("s", session), "sink", capacity=seats, weight=0)
    flow = nx.max_flow_min_cost(graph, "source", "sink")
    assigned: list[list[int]] = [[] for _ in campaign.choices]
    for community, choices in enumerate(campaign.choices):
        for session in choices:
            if flow[("c", community)].get(("s", session)):
                assigned[community].append(session)
    return Allocation("NetworkX", assigned, objective=nx.cost_of_flow(graph, flow))


RUNNERS = {
    "welfare (OR-Tools)": lambda instance: welfare_optimal(instance.campaign),
    "deferred acceptance": lambda instance: deferred_acceptance(instance.campaign),
    "FCFS": first_come_first_served,
    "RSD": random_serial_dictatorship,
    "NetworkX": networkx_optimal,
}


def run_in_child(instance: Instance, mechanism: str) -> tuple[Allocation, float, float]:
    """Run one mechanism in a forked child: its allocation, seconds and peak
    resident MB (``os.wait4``)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        started = time.perf_counter()
        allocation = RUNNERS[mechanism](instance)
        seconds = time.perf_counter() - started
        with os.fdopen(write, "wb") as out:
            pickle.dump((allocation, seconds), out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        allocation, seconds = pickle.load(pipe)  # noqa: S301 (our own child)
    _pid, status, usage = os.wait4(pid, 0)
    if status:
        raise SystemExit(f"{mechanism} failed ({status})")
    return allocation, seconds, usage.ru_maxrss / 1024


def main() -> None:
    # Imported once here, so that no child counts the import as solving.
    import networkx  # noqa: F401
    import numpy  # noqa: F401
    from ortools.graph.python import min_cost_flow  # noqa: F401

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="district,city")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--no-networkx", action="store_true", help="skip the NetworkX peer"
    )
    args = parser.parse_args()
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        started = time.perf_counter()
        instance = generate(size, args.seed)
        communities, sessions, choices, _districts = SIZES[size]
        seats = sum(instance.campaign.seats)
        print(
            f"\n{size}: {communities:,} communities × {sessions:,} sessions × "
            f"{choices} choices, quota {QUOTA}, {seats:,} seats for "
            f"{communities * QUOTA:,} asked (generated in "
            f"{time.perf_counter() - started:.1f} s)\n"
        )
        rows = []
        exact = None
        for mechanism in MECHANISMS:
            if mechanism == "NetworkX" and (
                args.no_networkx or size not in NETWORKX_SIZES
            ):
                continue
            allocation, seconds, peak = run_in_child(instance, mechanism)
            stats = allocation_statistics(
                instance.campaign,
                allocation,
                groups={"type": instance.types, "district": instance.districts},
            )
            cost = objective_of(instance.campaign, allocation)
            if mechanism == "NetworkX":
                exact = allocation.objective
            rows.append((mechanism, seconds, peak, stats, cost, allocation.objective))
        print_table(rows, exact, instance)
        print_fcfs_sensitivity(instance, rows[0][3])


def print_table(rows, exact, instance: Instance) -> None:
    header = (
        f"{'mechanism':<20} {'seconds':>8} {'peak MB':>8} {'assigned':>8} "
        f"{'1st choice':>10} {'mean rank':>9} {'p90 rank':>8} {'nothing':>8} "
        f"{'over cap':>8} {'total cost':>12} {'optimal':>8}"
    )
    print(header)
    print("-" * len(header))
    welfare_cost = rows[0][4]
    for mechanism, seconds, peak, stats, cost, _objective in rows:
        optimal = "—"
        if exact is not None and mechanism.startswith(("welfare", "NetworkX")):
            optimal = "yes" if cost == exact else f"no ({cost - exact:+})"
        print(
            f"{mechanism:<20} {seconds:>8.2f} {peak:>8.0f} {stats.share_assigned:>8.1%} "
            f"{stats.share_first_choice:>10.1%} {stats.mean_rank:>9.2f} "
            f"{stats.p90_rank:>8} {stats.with_nothing:>8,} {stats.violations:>8} "
            f"{cost:>12,} {optimal:>8}"
        )
    by_name = {row[0]: row for row in rows}
    welfare, fcfs = by_name["welfare (OR-Tools)"], by_name["FCFS"]
    points = 100 * (welfare[3].share_first_choice - fcfs[3].share_first_choice)
    print(
        f"\nwelfare vs FCFS: first-choice share {points:+.1f} points; "
        f"total cost {welfare_cost:,} vs {fcfs[4]:,}"
    )
    if "NetworkX" in by_name:
        print(
            f"OR-Tools is {by_name['NetworkX'][1] / welfare[1]:.0f}× faster than NetworkX"
        )
    types = [t for t, _ in TYPES]
    print("\nseats by community type (communities of the type):")
    counts = {t: instance.types.count(t) for t in types}
    print(
        f"{'mechanism':<20} " + " ".join(f"{f'{t} ({counts[t]})':>24}" for t in types)
    )
    for mechanism, _s, _p, stats, _c, _o in rows:
        seats = stats.by_group["type"]
        print(
            f"{mechanism:<20} "
            + " ".join(
                f"{f'{seats.get(t, 0):,} ({seats.get(t, 0) / max(counts[t], 1):.2f}/c)':>24}"
                for t in types
            )
        )
    communities_in = Counter(instance.districts)
    if len(communities_in) > 1:
        print("\nseats per community by district: lowest, highest")
        for mechanism, _s, _p, stats, _c, _o in rows:
            seats = stats.by_group["district"]
            per = [seats.get(d, 0) / n for d, n in communities_in.items()]
            print(f"{mechanism:<20} {min(per):.2f} – {max(per):.2f}")


def print_fcfs_sensitivity(instance: Instance, welfare: Statistics) -> None:
    """FCFS's figures as the time between a community's own clicks grows,
    beside the welfare optimum's first-choice share."""
    print(
        "\nFCFS by the mean time between one community's clicks "
        f"(arrivals spread over hours; welfare's first choice: "
        f"{welfare.share_first_choice:.1%}):"
    )
    header = (
        f"{'between clicks':>14} {'1st choice':>10} {'welfare lead':>12} "
        f"{'nothing':>8} {'mean rank':>9}"
    )
    print(header)
    print("-" * len(header))
    for gap in CLICK_GAPS_HOURS:
        stats = allocation_statistics(
            instance.campaign, first_come_first_served(instance, gap)
        )
        points = 100 * (welfare.share_first_choice - stats.share_first_choice)
        label = f"{gap * 60:g} min" if gap * 60 >= 1 else f"{gap * 3600:g} s"
        print(
            f"{label:>14} {stats.share_first_choice:>10.1%} {points:>+10.1f} p "
            f"{stats.with_nothing:>8,} {stats.mean_rank:>9.2f}"
        )


if __name__ == "__main__":
    main()
