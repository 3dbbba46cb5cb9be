"""Offline evaluation of recommendations (为您推荐): leave-last-order-out hit
rate@10 against a popularity baseline, on the demo district and on a
synthetic city.

The script creates a fresh SQLite database in a temporary folder, migrates
it and builds two datasets in turn (``--datasets``):

- ``demo``: the demo district as ``make run`` loads it (``seed_demo``,
  ``seed_catalog_demo``, ``seed_matching_demo``, ``seed_orders_demo``);
- ``city``: a synthetic city of ``--districts`` districts of ``--streets``
  streets of ``--communities`` communities each, of the four community
  types, and ``--offerings`` offerings of each district's departments on
  twelve topics (电梯, 消防, 养老, 农技…). Each type of community prefers
  some topics (村改居: 垃圾分类 and 就业; 农村: 农技 and 防诈骗…), and each
  community mixes its type's taste with its own; each community orders
  ``--history`` offerings by that taste (confirmed orders) and then one more
  (submitted), which is the one held out; a third of the communities have
  an open need on the topic of that last order, as a community would post
  before ordering. Orders and needs are written directly (bulk), not through
  the services: the evaluation reads them, it does not test placing them.

For each community with at least two orders (at most ``--users`` per
dataset, chosen at random), the newest order is held out — deleted inside a
transaction that is rolled back afterwards, its seats given back — and both
rankers rank the offerings the community may order now:

- ``recommend``: ``matching.offering_recommend.offering_recommendations``,
  uncached, as the panels compute it;
- ``popularity``: the same candidates (``offering_candidates``: eligible,
  with a seat open, no order under way), by the number of orders all
  communities placed, the held-out one not counted.

Per dataset and ranker: hit@10 (the held-out offering among the first ten),
MRR@10 (the mean of 1 / its rank, 0 beyond the first ten), the users evaluated,
the share whose held-out offering was still a candidate at all (the ceiling
of both rankers: a held-out order of a session now past cannot be
recommended), and the time of one recommendation, median and p95.

    .venv/bin/python bench/recommend.py
    .venv/bin/python bench/recommend.py --datasets city --districts 2 --users 50
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

TOP = 10
RANKERS = ("recommend", "popularity")
# Topics of the synthetic city: the words of offerings and needs.
TOPICS = {
    "电梯": ("加装电梯政策咨询", "电梯安全检查"),
    "消防": ("消防安全知识培训", "灭火器实操演练"),
    "养老": ("居家养老服务", "老年人助餐"),
    "防诈骗": ("防范电信诈骗讲座", "反诈宣传进社区"),
    "垃圾分类": ("垃圾分类指导", "可回收物回收"),
    "就业": ("就业技能培训", "招聘信息对接"),
    "法律": ("法律咨询服务", "人民调解培训"),
    "文化": ("社区文艺演出", "读书会活动"),
    "心理": ("心理健康讲座", "心理疏导服务"),
    "助残": ("残疾人康复服务", "无障碍设施改造"),
    "托育": ("托育服务指导", "亲子活动"),
    "农技": ("农业技术培训", "农产品电商培训"),
}
# Each type's favourite topics, and how much more it likes them.
TYPE_TASTES = {
    "old_urban": ("电梯", "养老", "消防"),
    "new_urban": ("托育", "文化", "心理"),
    "converted_village": ("垃圾分类", "就业", "法律"),
    "rural": ("农技", "防诈骗", "助残"),
}
FAVOURITE = 6.0
# How far a community's own taste departs from its type's (0: not at all).
OWN_TASTE = 0.5
NEED_SHARE = 1 / 3


@dataclass
class Scores:
    dataset: str
    ranker: str
    users: int = 0
    hits: int = 0
    reciprocal: float = 0.0
    orderable: int = 0
    seconds: list[float] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="demo,city", help="demo, city or both")
    parser.add_argument("--districts", type=int, default=4)
    parser.add_argument("--streets", type=int, default=8, help="per district")
    parser.add_argument("--communities", type=int, default=20, help="per street")
    parser.add_argument("--offerings", type=int, default=60, help="per district")
    parser.add_argument("--history", type=int, default=4, help="orders before the last")
    parser.add_argument("--users", type=int, default=300, help="evaluated per dataset")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-recommend-"))
    os.environ["DIANDAN_VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        results = []
        for name in datasets:
            build = time.perf_counter()
            if name == "demo":
                for command in (
                    "seed_demo",
                    "seed_catalog_demo",
                    "seed_matching_demo",
                    "seed_orders_demo",
                ):
                    call_command(command, verbosity=0, stdout=io.StringIO())
                communities = _communities_of(None)
            elif name == "city":
                communities = generate_city(args)
            else:
                raise SystemExit(f"{name!r}: the datasets are demo and city")
            print(f"{name}: built in {time.perf_counter() - build:.0f} s", flush=True)
            results += evaluate(name, communities, users=args.users, seed=args.seed)
        print_table(results)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


# Evaluation ------------------------------------------------------------------


def _communities_of(district_ids: list[int] | None) -> list[int]:
    """Communities with at least two orders (in the districts, if given)."""
    from django.db.models import Count

    from matching.models import Order

    orders = Order.objects.all()
    if district_ids is not None:
        orders = orders.filter(community__district_id__in=district_ids)
    rows = (
        orders.values("community_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .order_by("community_id")
    )
    return [row["community_id"] for row in rows]


def evaluate(dataset: str, community_ids: list[int], *, users: int, seed: int):
    """Hold out each chosen community's newest order and rank with both
    rankers; see the module docstring."""
    from django.db import transaction
    from django.db.models import Count, F

    from catalog.models import OfferingSession
    from matching.models import Order
    from matching.offering_recommend import (
        offering_candidates,
        offering_recommendations,
    )
    from portal.models import Region

    rng = random.Random(seed)
    chosen = sorted(rng.sample(community_ids, min(users, len(community_ids))))
    popularity = Counter(
        dict(
            Order.objects.values("offering_id")
            .annotate(n=Count("pk"))
            .values_list("offering_id", "n")
            .order_by()
        )
    )
    scores = {ranker: Scores(dataset, ranker) for ranker in RANKERS}
    # Warm up (imports, the first browse) outside the measures.
    if chosen:
        offering_recommendations(community=Region.objects.get(pk=chosen[0]))
    for community_id in chosen:
        community = Region.objects.get(pk=community_id)
        with transaction.atomic():
            held_out = (
                Order.objects.filter(community=community)
                .order_by("-placed_at", "-pk")
                .first()
            )
            if held_out.holds_seats:
                OfferingSession.objects.filter(pk=held_out.session_id).update(
                    seats_taken=F("seats_taken") - held_out.participants
                )
            held_out.delete()
            target = held_out.offering_id

            began = time.perf_counter()
            ranked = [
                r.offering_id for r in offering_recommendations(community=community)
            ]
            recommend_time = time.perf_counter() - began

            began = time.perf_counter()
            candidates = offering_candidates(community)
            counts = popularity.copy()
            counts[target] -= 1
            popular = sorted(candidates, key=lambda pk: (-counts[pk], pk))[:TOP]
            popular_time = time.perf_counter() - began
            transaction.set_rollback(True)
        for ranker, ranking, seconds in (
            ("recommend", ranked, recommend_time),
            ("popularity", popular, popular_time),
        ):
            score = scores[ranker]
            score.users += 1
            score.orderable += target in candidates
            score.seconds.append(seconds)
            if target in ranking[:TOP]:
                score.hits += 1
                score.reciprocal += 1 / (ranking.index(target) + 1)
    return list(scores.values())


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_table(results: list[Scores]) -> None:
    print()
    print(
        f"{'dataset':<8} {'ranker':<11} {'users':>6} {'orderable':>9} "
        f"{'hit@10':>7} {'MRR':>6} {'median ms':>10} {'p95 ms':>8}"
    )
    for s in results:
        if not s.users:
            print(
                f"{s.dataset:<8} {s.ranker:<11} {0:>6}  (no community with two orders)"
            )
            continue
        print(
            f"{s.dataset:<8} {s.ranker:<11} {s.users:>6} "
            f"{s.orderable / s.users:>9.1%} {s.hits / s.users:>7.1%} "
            f"{s.reciprocal / s.users:>6.3f} "
            f"{statistics.median(s.seconds) * 1000:>10.1f} "
            f"{_p95(s.seconds) * 1000:>8.1f}"
        )
    print(
        "\nhit@10: the held-out order's offering among the first ten; MRR: "
        "mean of 1/rank within the first ten; orderable: held-out offering "
        "still a candidate (the ceiling of both)."
    )


# The synthetic city ----------------------------------------------------------


def generate_city(args) -> list[int]:
    """Build the synthetic city (see the module docstring) and return the
    ids of its communities with at least two orders."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from catalog.models import Category, DepartmentPage
    from catalog.services import department_catalog_sync
    from matching.models import Need, NeedState, Order, OrderState
    from portal.models import (
        CommunityType,
        Department,
        DepartmentFamily,
        Region,
        RegionLevel,
        Role,
        User,
    )

    rng = random.Random(args.seed)
    now = timezone.now()
    topics = list(TOPICS)
    category = Category.objects.filter(parent__isnull=False).order_by("pk").first()
    families = list(DepartmentFamily.objects.order_by("pk"))
    with transaction.atomic():
        city = Region.objects.create(code="990000000000", name="合成市", level=1)
        districts, communities = [], []
        for d in range(args.districts):
            district = Region.objects.create(
                code=f"99{d + 1:02d}00000000",
                name=f"合成{d + 1}区",
                level=RegionLevel.DISTRICT,
                parent=city,
                city=city,
            )
            districts.append(district)
            for s in range(args.streets):
                street = Region.objects.create(
                    code=f"{district.code[:6]}{s + 1:03d}000",
                    name=f"合成{d + 1}区{s + 1}街道",
                    level=RegionLevel.STREET,
                    parent=district,
                    city=city,
                    district=district,
                )
                communities += Region.objects.bulk_create(
                    Region(
                        code=f"{street.code[:9]}{c + 1:03d}",
                        name=f"{street.name}{c + 1}居委会",
                        level=RegionLevel.COMMUNITY,
                        parent=street,
                        city=city,
                        district=district,
                        street=street,
                        community_type=rng.choice(CommunityType.values),
                        households=1000,
                        population=3000,
                    )
                    for c in range(args.communities)
                )
        # Two departments per district, offering on every topic.
        departments = Department.objects.bulk_create(
            Department(
                code=f"CITY-{d:03d}-{n}",
                name=f"合成{d + 1}区第{n + 1}局",
                family=families[(d + n) % len(families)],
                region=district,
            )
            for d, district in enumerate(districts)
            for n in range(2)
        )
    department_catalog_sync(department_ids=[dept.pk for dept in departments])
    offerings_by_district: dict[int, list[tuple[int, str]]] = {}
    for d, district in enumerate(districts):
        pages = []
        for n in range(args.offerings):
            topic = topics[n % len(topics)]
            title = f"{rng.choice(TOPICS[topic])}（{n // len(topics) + 1}期）"
            corner = DepartmentPage.objects.get(department=departments[2 * d + n % 2])
            pages.append((_publish(corner, title, topic, rng, now), topic))
        offerings_by_district[district.pk] = pages
    call_command(
        "search_index", "rebuild", "--no-progress", verbosity=0, stdout=io.StringIO()
    )

    users = User.objects.bulk_create(
        User(
            username=f"city-{community.pk}",
            role=Role.COMMUNITY_OPERATOR,
            region=community,
        )
        for community in communities
    )
    user_of = {user.region_id: user for user in users}
    department_of = {
        page.pk: page.get_parent().specific.department_id
        for pages in offerings_by_district.values()
        for page, _topic in pages
    }
    orders, needs = [], []
    # Popularity differs between offerings too, as in the demo.
    appeal = {
        page.pk: rng.paretovariate(2.0)
        for pages in offerings_by_district.values()
        for page, _topic in pages
    }
    for community in communities:
        taste = _taste(community.community_type, rng)
        pages = offerings_by_district[community.district_id]
        weights = [taste[topic] * appeal[page.pk] for page, topic in pages]
        picks = _draw(pages, weights, args.history + 1, rng)
        for step, (page, topic) in enumerate(picks):
            last = step == len(picks) - 1
            orders.append(
                Order(
                    offering_id=page.pk,
                    community=community,
                    department_id=department_of[page.pk],
                    placed_by=user_of[community.pk],
                    participants=1,
                    contact_name="王丽",
                    contact_phone="13800000001",
                    state=OrderState.SUBMITTED if last else OrderState.CONFIRMED,
                    wished_from=(now - timedelta(days=10 * (len(picks) - step))).date(),
                    idempotency_key=uuid.uuid4(),
                )
            )
            if last and rng.random() < NEED_SHARE:
                needs.append(
                    Need(
                        community=community,
                        posted_by=user_of[community.pk],
                        title=f"希望开展{topic}方面的活动",
                        description=f"居民对{topic}很关心，请安排相关服务。",
                        category=category,
                        state=NeedState.OPEN,
                    )
                )
    Order.objects.bulk_create(orders, batch_size=2000)
    Need.objects.bulk_create(needs, batch_size=2000)
    return _communities_of([district.pk for district in districts])


def _taste(community_type: str, rng: random.Random) -> dict[str, float]:
    """A community's liking of each topic: its type's, blurred by its own."""
    favourites = TYPE_TASTES[community_type]
    return {
        topic: (FAVOURITE if topic in favourites else 1.0)
        * rng.lognormvariate(0, OWN_TASTE)
        for topic in TOPICS
    }


def _draw(items: list, weights: list[float], k: int, rng: random.Random) -> list:
    """``k`` distinct items drawn one by one in proportion to their weights."""
    items, weights = list(items), list(weights)
    drawn = []
    for _ in range(min(k, len(items))):
        (index,) = rng.choices(range(len(items)), weights=weights)
        drawn.append(items.pop(index))
        weights.pop(index)
    return drawn


def _publish(corner, title: str, topic: str, rng: random.Random, now):
    """A published offering of ``corner``'s department with sessions ahead,
    one in ten of them already full."""
    from catalog.models import Category, OfferingPage, OfferingSession

    page = OfferingPage(
        title=title,
        kind="training",
        category=Category.objects.filter(parent__isnull=False).order_by("pk").first(),
        summary=f"面向社区的{topic}服务：{title}。",
        body=[],
        delivery_mode="at_community",
        fee=0,
        availability="scheduled",
        status="open",
        whole_area=True,
    )
    corner.add_child(instance=page)
    page.save_revision().publish()
    for _ in range(2):
        start = now + timedelta(days=rng.randint(3, 60))
        seats = 30
        session = OfferingSession.objects.create(
            offering=page,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=seats,
        )
        if rng.random() < 0.1:
            OfferingSession.objects.filter(pk=session.pk).update(seats_taken=seats)
    return page


if __name__ == "__main__":
    main()
