"""Time the catalog page (/catalog/) on 20,000 offerings under 200 departments.

The script creates a fresh SQLite database (or uses ``--database-url``),
migrates it and generates the offerings straight into the tables: page rows
with computed tree paths in one bulk insert, their offering rows, sessions,
target community types and streets, and their catalog entries through the
same code path as publishing. Then it requests the catalog page with the
Django test client, signed in as a community operator, with 0, 1 and 3 facets
chosen and sorted by upcoming session, and reports the median and p95 server
time and the number of queries.

Each case runs twice in the same process: with the real page, and with a
naive listing as the peer — the same facet counts, but the page's rows read
as generic pages and turned into offerings one by one (``.specific``), with
their category, department and next session looked up per row.

Target (from the issue): at most 10 queries for the whole page and a p95
under 100 ms on SQLite.

    .venv/bin/python bench/catalog.py                 # 20,000 offerings
    .venv/bin/python bench/catalog.py --offerings 2000 --repeat 20
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

# The fixed cost of any signed-in Wagtail page here: site, home page, the child
# page and its specific row, alias and view-restriction checks, and the user
# with their unit (the session and the navigation links come from the cache).
FRAMEWORK_QUERIES = 7
CASES = {
    "0 facets": "",
    "1 facet": "kind=training",
    "3 facets": "kind=training&delivery=at_community&price=free",
    "upcoming": "sort=upcoming",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offerings", type=int, default=20_000)
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    os.environ["DIANDAN_VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = (
        args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from django.test.utils import override_settings

    # The test settings turn the cache off; a server runs with one.
    override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ).enable()
    from django.core import signals
    from django.core.management import call_command
    from django.db import close_old_connections

    # As in Django's test runner: keep one connection across requests, as a
    # server with persistent connections would, and keep the query log.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    user = generate(args.offerings, args.departments)
    print(
        f"{args.offerings} offerings under {args.departments} departments "
        f"generated in {time.perf_counter() - started:.0f} s ({workdir})"
    )
    rows = []
    for case, query in CASES.items():
        for variant in ("catalog", "naive peer"):
            rows.append((case, variant, *measure(user, query, variant, args.repeat)))
    print_table(rows, args.repeat)


def generate(offerings: int, departments: int):
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Locale, Page

    from catalog.models import (
        Availability,
        Category,
        CommunityTypeOption,
        DeliveryMode,
        DepartmentPage,
        OfferingKind,
        OfferingPage,
        OfferingSession,
        OfferingStatus,
    )
    from catalog.services import catalog_entries_sync, department_catalog_sync
    from portal.models import (
        CommunityType,
        Department,
        DepartmentFamily,
        Region,
        RegionLevel,
        Role,
        User,
    )

    rng = random.Random(2026)
    now = timezone.now()
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
    community = Region.objects.create(
        code="310107005001",
        name="曹杨一村居委会",
        level=RegionLevel.COMMUNITY,
        parent=street,
        city=city,
        district=district,
        street=street,
        community_type=CommunityType.OLD_URBAN,
    )
    # More streets in the district, so that some offerings serve other streets.
    streets = [street] + [
        Region.objects.create(
            code=f"310107{n:03d}000",
            name=f"第{n}街道",
            level=RegionLevel.STREET,
            parent=district,
            city=city,
            district=district,
        )
        for n in range(100, 109)
    ]
    families = list(DepartmentFamily.objects.all())
    Department.objects.bulk_create(
        Department(
            code=f"BENCH-{n:04d}",
            name=f"第{n}职能局",
            family=families[n % len(families)],
            region=district,
        )
        for n in range(departments)
    )
    department_catalog_sync(
        department_ids=Department.objects.values_list("pk", flat=True)
    )
    user = User.objects.create(
        username="bench", role=Role.COMMUNITY_OPERATOR, region=community
    )

    categories = list(Category.objects.filter(parent__isnull=False))
    type_ids = list(CommunityTypeOption.objects.values_list("pk", flat=True))
    content_type = ContentType.objects.get_for_model(OfferingPage)
    locale = Locale.get_default()
    kinds = [value for value, _label in OfferingKind.choices]
    modes = [value for value, _label in DeliveryMode.choices]
    parents = list(DepartmentPage.objects.order_by("path"))
    per_parent = -(-offerings // len(parents))
    with transaction.atomic():
        pages = []
        for parent in parents:
            children = min(per_parent, offerings - len(pages))
            for step in range(1, children + 1):
                n = len(pages)
                published = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
                pages.append(
                    Page(
                        title=f"{rng.choice(categories).name}项目{n}",
                        draft_title=f"项目{n}",
                        slug=f"offering-{n}",
                        path=parent.path + _step(step),
                        depth=parent.depth + 1,
                        numchild=0,
                        url_path=f"{parent.url_path}offering-{n}/",
                        live=True,
                        content_type=content_type,
                        locale=locale,
                        translation_key=uuid.uuid4(),
                        first_published_at=published,
                        last_published_at=published,
                    )
                )
            Page.objects.filter(pk=parent.pk).update(numchild=children)
        pages = Page.objects.bulk_create(pages, batch_size=2000)
        sessions, targets, served = [], [], []
        through = OfferingPage.target_community_types.through
        street_links = OfferingPage.service_streets.through
        for page in pages:
            on_request = rng.random() < 0.2
            status = OfferingStatus.OPEN
            if rng.random() < 0.05:
                status = rng.choice([OfferingStatus.PAUSED, OfferingStatus.CLOSED])
            offering = OfferingPage(
                page_ptr_id=page.pk,
                kind=rng.choice(kinds),
                category=rng.choice(categories),
                summary="面向社区的服务项目，内容详见正文。",
                body="[]",
                delivery_mode=rng.choice(modes),
                fee=0 if rng.random() < 0.7 else rng.choice([50, 100, 300]),
                availability=(
                    Availability.ON_REQUEST if on_request else Availability.SCHEDULED
                ),
                monthly_capacity=5 if on_request else None,
                status=status,
                whole_area=rng.random() < 0.7,
            )
            offering.save_base(raw=True)
            if not on_request:
                for _ in range(rng.randint(1, 3)):
                    start = now + timedelta(hours=rng.randrange(-240, 24 * 60))
                    seats = rng.choice([20, 30, 50])
                    sessions.append(
                        OfferingSession(
                            offering_id=page.pk,
                            starts_at=start,
                            ends_at=start + timedelta(hours=2),
                            seats=seats,
                            seats_taken=rng.randint(0, seats),
                        )
                    )
            if not offering.whole_area:
                for region in rng.sample(streets, rng.randint(1, 3)):
                    served.append(
                        street_links(offeringpage_id=page.pk, region_id=region.pk)
                    )
            if rng.random() < 0.3:
                for type_id in rng.sample(type_ids, rng.randint(1, 2)):
                    targets.append(
                        through(offeringpage_id=page.pk, communitytypeoption_id=type_id)
                    )
        OfferingSession.objects.bulk_create(sessions, batch_size=2000)
        through.objects.bulk_create(targets, batch_size=2000)
        street_links.objects.bulk_create(served, batch_size=2000)
        catalog_entries_sync(offering_ids=[page.pk for page in pages])
    return user


def _step(number: int) -> str:
    from wagtail.models import Page

    key = Page._int2str(number)
    return Page.alphabet[0] * (Page.steplen - len(key)) + key


def naive_browse(*, params, page_number=1, user=None):
    """The peer: same facets, but the rows read the way a first version would
    (newest first only)."""
    from django.core.paginator import Paginator
    from django.utils import timezone
    from wagtail.models import Page

    from catalog import browsing, selectors
    from catalog.models import CatalogEntry

    filterset, query, _areas = selectors._browse_query(params, user)
    facets = selectors.offering_facets(params=params, user=user)
    matching = CatalogEntry.objects.filter(
        browsing.all_but(browsing.facet_conditions(query.filters))
    )
    if query.scope is not None:
        matching = matching.filter(browsing.serving_one_of(query.scope))
    pages = Page.objects.filter(pk__in=matching.values("pk")).order_by(
        "-first_published_at", "-pk"
    )
    page = Paginator(pages, selectors.BROWSE_PAGE_SIZE).get_page(page_number)
    rows = []
    for generic in page.object_list:
        offering = generic.specific
        offering.department_title = generic.get_parent().title
        upcoming = offering.sessions.filter(starts_at__gte=timezone.now())
        first = upcoming.order_by("starts_at").first()
        offering.next_session_at = first.starts_at if first else None
        rows.append(offering)
    page.object_list = rows
    return selectors.CatalogBrowse(
        filterset=filterset,
        facets=facets,
        page=page,
        lookups=selectors.catalog_lookups(),
    )


def measure(user, query: str, variant: str, repeat: int):
    from django.db import connection
    from django.test import Client

    import catalog.selectors
    from catalog.models import CatalogIndexPage

    url = CatalogIndexPage.objects.get().url + (f"?{query}" if query else "")
    real = catalog.selectors.catalog_browse
    if variant == "naive peer":
        catalog.selectors.catalog_browse = naive_browse
    try:
        client = Client()
        client.force_login(user)
        _check(client.get(url))
        queries = []
        with connection.execute_wrapper(
            lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)
        ):
            client.get(url)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            _check(response)
    finally:
        catalog.selectors.catalog_browse = real
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, len(queries)


def _check(response) -> None:
    if response.status_code != 200:
        raise SystemExit(f"catalog page answered {response.status_code}")


def print_table(rows, repeat: int) -> None:
    print(f"\nGET /catalog/, {repeat} requests each (server time, test client)\n")
    header = (
        f"{'case':<10} {'variant':<11} {'median ms':>10} {'p95 ms':>8} "
        f"{'queries':>8} {'of which catalog':>17}"
    )
    print(header)
    print("-" * len(header))
    for case, variant, median, p95, queries in rows:
        print(
            f"{case:<10} {variant:<11} {median:>10.1f} {p95:>8.1f} {queries:>8} "
            f"{queries - FRAMEWORK_QUERIES:>17}"
        )


if __name__ == "__main__":
    main()
