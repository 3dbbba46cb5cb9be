"""Book seats from many threads at once: orders per second, seats sold twice,
and constraint and lock errors, for the project's path beside two peers.

The script creates a fresh database — a SQLite file in a temporary folder, as
the portal runs it (WAL, IMMEDIATE transactions, 20 s busy timeout), or with
``--database-url`` a PostgreSQL database that it creates, and drops at the
end; its name must start with ``diandan_bench`` — migrates it, and publishes
offerings of one department, with a community operator for every thread.

A run gives ``--sessions`` new sessions of ``--seats`` seats to the
offerings, and every thread places orders of one seat in sessions it picks at
random (each of its communities orders a session once) until ``--orders``
orders in all have been placed: by default half as many again as there are
seats, so that sessions fill up and later orders wait. Every order goes
through ``matching.services.order_place``, which checks the community may
order, records the order and its event, counts the offering's demand and,
after the commit, notifies the department (with the database search engine,
which reads seats live, a booking indexes nothing; with Elasticsearch it
indexes the offering again). The variants differ only in how it takes the
seat:

- ``order_place``: the project's ``catalog.services.session_seats_take``,
  one conditional UPDATE (on PostgreSQL, a refusal locks the row and counts
  again, see there);
- ``naive read-check-save``: read the session, check in Python that a seat
  is left, write the new count with ``update(seats_taken=value)``;
- ``select_for_update``: lock the session row, check, write the new count
  (in ``order_place``'s transaction, like the others: no savepoint of its
  own).

The peers do all the other work too, and announce the seat change as the
project does, so the table compares the seat-taking strategies alone.

Each line adds up ``--rounds`` runs (the rounds interleave the variants, in
turn each first): orders per second (orders given a seat or put on the
waiting list; wall time from the start signal to the last thread's end) and
the slowest and fastest run's; median and p95 time of one order; orders told
they have a seat, seats counted taken, and the difference (lost updates: two
orders counted as one seat); sessions where more orders hold a seat than it
has (overbooked: the check constraint cannot see a lost update); errors
raised to the caller: check-constraint violations, lock errors ("database is
locked", deadlocks, serialization failures) and any other; errors in the work
done after the commit (failed index tasks, notifications that raised).

Below the table, for each thread count, the verdict: whether the project's
path is correct, and its throughput against the best correct peer (the
correct peer with the most orders per second over all rounds). The machine's
other work and the scheduler move a run's throughput by several per cent, and
slow or speed up the runs of one round alike, so each round's runs of
``order_place`` and that peer, a few seconds apart, are compared as a pair:
the median of the paired ratios, their spread (min–max), how many rounds the
project's path was at least as fast, and the ratio of the pooled throughputs.

Target (from the issue): no overbooking, no lock errors, and a throughput at
least that of the best correct peer.

    .venv/bin/python bench/booking.py                      # SQLite
    .venv/bin/python bench/booking.py --database-url \\
        postgresql://postgres@127.0.0.1:5432/diandan_bench_booking
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

PROJECT = "order_place"
NAIVE = "naive read-check-save"
LOCKED = "select_for_update"
VARIANTS = (PROJECT, NAIVE, LOCKED)
# Orders placed per run, in seats: sessions fill up and half as many again wait.
DEMAND = 1.5
# Enough pairs for a median and a spread that mean something, while the whole
# bench on one database stays under about 15 minutes on a 2-core machine.
ROUNDS = 7


@dataclass
class Run:
    threads: int
    variant: str
    rounds: int = 0
    wall: float = 0.0
    # Orders per second of each round, for the spread between runs.
    per_round: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)
    seats_taken: int = 0
    overbooked: int = 0
    background_errors: int = 0
    first_error: str = ""

    @property
    def orders(self) -> int:
        return self.outcomes["seat"] + self.outcomes["waitlist"]

    @property
    def lost(self) -> int:
        return self.outcomes["seat"] - self.seats_taken

    @property
    def correct(self) -> bool:
        errors = sum(self.outcomes[kind] for kind in ("constraint", "lock", "other"))
        return not (self.lost or self.overbooked or errors or self.background_errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="16,64", help="e.g. 16,64")
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--seats", type=int, default=10)
    parser.add_argument(
        "--orders",
        type=int,
        default=0,
        help=f"orders per run (default: {DEMAND} × sessions × seats)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=ROUNDS,
        help="runs of each variant, interleaved, their results added up",
    )
    parser.add_argument("--offerings", type=int, default=20)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    thread_counts = [int(n) for n in args.threads.split(",") if n.strip()]
    orders = args.orders or round(DEMAND * args.sessions * args.seats)

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-booking-"))
    os.environ["DIANDAN_VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = args.database_url or (
        f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    if args.database_url:
        _postgres_database(args.database_url, create=True)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        world = generate(
            args.offerings,
            max(
                threads * _operators_per_thread(threads, orders, args.sessions)
                for threads in thread_counts
            ),
        )
        # Warm up (imports, the first connections) outside the measures.
        for variant in VARIANTS:
            measure(Run(2, variant), world, orders=8, sessions=4, seats=2)
        runs = {
            (threads, variant): Run(threads, variant)
            for threads in thread_counts
            for variant in VARIANTS
        }
        # Rounds interleave the variants, each round in another order, so
        # that no variant always runs first or after the same one.
        for round_ in range(args.rounds):
            for threads in thread_counts:
                for n in range(len(VARIANTS)):
                    variant = VARIANTS[(n + round_) % len(VARIANTS)]
                    measure(
                        runs[threads, variant],
                        world,
                        orders=orders,
                        sessions=args.sessions,
                        seats=args.seats,
                    )
        print_table(list(runs.values()), orders, args.rounds, args.sessions, args.seats)
    finally:
        from django.db import connections

        connections.close_all()
        if args.database_url:
            _postgres_database(args.database_url, create=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


def _postgres_database(url: str, *, create: bool) -> None:
    """Drop the benchmark's own database, and create it afresh if asked."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.startswith("diandan_bench"):
        raise SystemExit(
            f"{name!r}: the benchmark drops and re-creates its database; "
            "give one named diandan_bench…"
        )
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')


@dataclass
class World:
    offerings: list
    operators: list


def _operators_per_thread(threads: int, orders: int, sessions: int) -> int:
    """A community orders a session once: a thread placing more orders than
    there are sessions orders for several communities."""
    return math.ceil(math.ceil(orders / threads) / sessions)


def generate(offerings: int, communities: int) -> World:
    """A department with ``offerings`` published offerings, and
    ``communities`` communities with one operator each."""
    from catalog.models import (
        Availability,
        Category,
        DeliveryMode,
        DepartmentPage,
        OfferingKind,
        OfferingPage,
    )
    from catalog.services import department_catalog_sync
    from portal.models import (
        CommunityType,
        Department,
        DepartmentFamily,
        Region,
        RegionLevel,
        Role,
        User,
    )

    city = Region.objects.create(code="310100000000", name="上海市", level=1)
    district = Region.objects.create(
        code="310107000000", name="普陀区", level=2, parent=city, city=city
    )
    street = Region.objects.create(
        code="310107005000",
        name="曹杨新村街道",
        level=RegionLevel.STREET,
        parent=district,
        city=city,
        district=district,
    )
    department = Department.objects.create(
        code="BENCH-BOOKING",
        name="区消防救援支队",
        family=DepartmentFamily.objects.first(),
        region=district,
    )
    department_catalog_sync(department_ids=[department.pk])
    corner = DepartmentPage.objects.get(department=department)
    category = Category.objects.filter(parent__isnull=False).first()
    pages = []
    for n in range(offerings):
        page = OfferingPage(
            title=f"社区消防安全知识培训第{n + 1}期",
            kind=OfferingKind.TRAINING,
            category=category,
            summary="消防知识讲座和灭火器实操演练。",
            delivery_mode=DeliveryMode.AT_COMMUNITY,
            availability=Availability.SCHEDULED,
            whole_area=True,
        )
        corner.add_child(instance=page)
        page.save_revision().publish()
        pages.append(page)

    operators = []
    for n in range(communities):
        community = Region.objects.create(
            code=f"310107005{n + 1:03d}",
            name=f"第{n + 1}居委会",
            level=RegionLevel.COMMUNITY,
            parent=street,
            city=city,
            district=district,
            street=street,
            community_type=CommunityType.OLD_URBAN,
        )
        operators.append(
            User.objects.create(
                username=f"bench{n + 1}",
                role=Role.COMMUNITY_OPERATOR,
                region=community,
            )
        )
    return World(pages, operators)


# The seat-taking strategies of the peers, in place of session_seats_take.


def seats_take_naive(*, session_id: int, seats: int) -> bool:
    from catalog.models import OfferingSession

    session = OfferingSession.objects.get(pk=session_id)
    if session.seats_taken + seats > session.seats:
        return False
    OfferingSession.objects.filter(pk=session_id).update(
        seats_taken=session.seats_taken + seats
    )
    _seats_changed(session)
    return True


def seats_take_locked(*, session_id: int, seats: int) -> bool:
    from catalog.models import OfferingSession

    # order_place calls this inside its transaction, which holds the lock
    # until the commit; a savepoint of its own would only add two statements.
    session = OfferingSession.objects.select_for_update().get(pk=session_id)
    if session.seats_taken + seats > session.seats:
        return False
    OfferingSession.objects.filter(pk=session_id).update(
        seats_taken=session.seats_taken + seats
    )
    _seats_changed(session)
    return True


def _seats_changed(session) -> None:
    from catalog.models import OfferingSession
    from catalog.signals import seats_changed

    seats_changed.send(sender=OfferingSession, session_ids=[session.pk])


def measure(run: Run, world: World, *, orders: int, sessions: int, seats: int) -> None:
    """One run of ``run.variant`` on ``run.threads`` threads, added to ``run``."""
    from django.db.models import Count, F, Q
    from django.utils import timezone
    from django_tasks.base import TaskResultStatus
    from django_tasks.signals import task_finished

    import matching.services
    from catalog.models import OfferingSession
    from matching.models import Order

    start = timezone.now() + timedelta(days=10)
    created = OfferingSession.objects.bulk_create(
        OfferingSession(
            offering=world.offerings[n % len(world.offerings)],
            starts_at=start + timedelta(hours=n),
            ends_at=start + timedelta(hours=n, minutes=90),
            seats=seats,
        )
        for n in range(sessions)
    )
    threads, variant = run.threads, run.variant
    per_thread = _operators_per_thread(threads, orders, sessions)
    plans = []
    for thread in range(threads):
        rng = random.Random(f"{variant} {threads} {thread} {run.rounds}")
        plan = [
            (user, session)
            for user in world.operators[thread * per_thread :][:per_thread]
            for session in rng.sample(created, len(created))
        ]
        plans.append(plan[: orders // threads + (thread < orders % threads)])

    run.rounds += 1
    placed = run.orders
    lock = threading.Lock()
    go = threading.Barrier(threads + 1)

    def failed(*, task_result, **kwargs) -> None:
        if task_result.status == TaskResultStatus.FAILED:
            with lock:
                run.background_errors += 1
                run.first_error = run.first_error or task_result.errors[-1].traceback

    errors_logged = _ErrorCount()
    task_finished.connect(failed, weak=False)
    logging.getLogger().addHandler(errors_logged)
    take = {
        PROJECT: matching.services.session_seats_take,
        NAIVE: seats_take_naive,
        LOCKED: seats_take_locked,
    }[variant]
    original = matching.services.session_seats_take
    matching.services.session_seats_take = take
    try:
        workers = [
            threading.Thread(target=_book, args=(plan, go, run, lock)) for plan in plans
        ]
        for worker in workers:
            worker.start()
        go.wait()
        began = time.perf_counter()
        for worker in workers:
            worker.join()
        wall = time.perf_counter() - began
        run.wall += wall
    finally:
        matching.services.session_seats_take = original
        task_finished.disconnect(failed)
        logging.getLogger().removeHandler(errors_logged)
    run.background_errors += errors_logged.count
    run.per_round.append((run.orders - placed) / wall)
    ids = [session.pk for session in created]
    run.seats_taken += sum(
        OfferingSession.objects.filter(pk__in=ids).values_list("seats_taken", flat=True)
    )
    run.overbooked += (
        OfferingSession.objects.filter(pk__in=ids)
        .annotate(held=Count("orders", filter=Q(orders__holds_seats=True)))
        .filter(held__gt=F("seats"))
        .count()
    )
    if Order.objects.filter(session_id__in=ids).count() != run.orders - placed:
        raise SystemExit(f"{variant}: orders stored differ from orders placed")


def _book(plan, go: threading.Barrier, run: Run, lock: threading.Lock) -> None:
    """One thread: its orders one after the other, each timed."""
    from django.db import connections

    from matching.services import order_place

    latencies, outcomes, first_error = [], Counter(), ""
    try:
        go.wait()
        for user, session in plan:
            started = time.perf_counter()
            try:
                order = order_place(
                    user=user,
                    offering=session.offering,
                    session=session,
                    participants=1,
                    contact_name="王丽",
                    contact_phone="13800000001",
                )
            except Exception as error:
                outcomes[_kind(error)] += 1
                first_error = first_error or repr(error)
            else:
                outcomes["seat" if order.holds_seats else "waitlist"] += 1
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        connections.close_all()
        with lock:
            run.latencies += latencies
            run.outcomes += outcomes
            run.first_error = run.first_error or first_error


def _kind(error: Exception) -> str:
    from django.db import IntegrityError, OperationalError

    text = str(error).lower()
    if isinstance(error, IntegrityError) and "session_never_overbooked" in text:
        return "constraint"
    if isinstance(error, OperationalError) and any(
        words in text
        for words in ("database is locked", "deadlock", "could not serialize", "lock")
    ):
        return "lock"
    return "other"


class _ErrorCount(logging.Handler):
    """Errors logged meanwhile: work after commit that raised (robust
    ``on_commit`` callbacks log instead of raising)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def verdict(runs: list[Run], threads: int) -> str:
    """Is the project's path correct at ``threads`` threads, and how fast
    against the best correct peer, round by round and pooled."""
    ours = next(r for r in runs if r.threads == threads and r.variant == PROJECT)
    peers = [
        r for r in runs if r.threads == threads and r.variant != PROJECT and r.correct
    ]
    correct = "correct" if ours.correct else "NOT correct"
    line = f"{threads} threads: {PROJECT} is {correct}"
    best = max(peers, key=lambda r: r.orders / r.wall, default=None)
    if best is None:
        return f"{line}; no peer was correct"
    # Run n of each variant belongs to round n: a few seconds apart, under
    # much the same load from the rest of the machine.
    ratios = [
        mine / theirs
        for mine, theirs in zip(ours.per_round, best.per_round, strict=True)
    ]
    faster = sum(ratio >= 1 for ratio in ratios)
    pooled = (ours.orders / ours.wall) / (best.orders / best.wall)
    return (
        f"{line}; throughput against the best correct peer ({best.variant}):\n"
        f"    {statistics.median(ratios):.2f}× median of {len(ratios)} paired "
        f"rounds (min–max {min(ratios):.2f}–{max(ratios):.2f}, at least as "
        f"fast in {faster} of {len(ratios)}), {pooled:.2f}× pooled\n"
        f"    per round: {' '.join(f'{ratio:.2f}' for ratio in ratios)}"
    )


def print_table(
    runs: list[Run], orders: int, rounds: int, sessions: int, seats: int
) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        version = connection.cursor().connection.info.server_version
        engine = f"PostgreSQL {version // 10000}.{version % 10000}"
    else:
        import sqlite3

        engine = f"SQLite {sqlite3.sqlite_version} (WAL, IMMEDIATE transactions)"
    print(
        f"\n{engine}: {rounds} × {orders} orders of 1 seat for each line, "
        f"in runs of {sessions} new sessions × {seats} seats\n"
    )
    header = (
        f"{'threads':>7}  {'variant':<22} {'orders/s':>8} {'runs':>9} {'median ms':>9} "
        f"{'p95 ms':>7} {'seated':>6} {'taken':>6} {'lost':>5} "
        f"{'overbooked':>10} {'constraint':>10} {'lock err':>8} {'other err':>9} "
        f"{'after-commit err':>16} {'wall s':>6}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        print(
            f"{run.threads:>7}  {run.variant:<22} {run.orders / run.wall:>8.0f} "
            f"{f'{min(run.per_round):.0f}–{max(run.per_round):.0f}':>9} "
            f"{statistics.median(run.latencies):>9.1f} {_p95(run.latencies):>7.1f} "
            f"{run.outcomes['seat']:>6} {run.seats_taken:>6} {run.lost:>5} "
            f"{run.overbooked:>10} {run.outcomes['constraint']:>10} "
            f"{run.outcomes['lock']:>8} {run.outcomes['other']:>9} "
            f"{run.background_errors:>16} {run.wall:>6.1f}"
        )
    print()
    for threads in dict.fromkeys(run.threads for run in runs):
        print(verdict(runs, threads))
    for run in runs:
        if run.first_error:
            print(f"first error, {run.threads} threads, {run.variant}:")
            print("   ", run.first_error.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
