"""Time catalog search on 200,000 offerings, beside two peers, and measure its
recall on the relevance suite.

The script creates a fresh SQLite database (or uses ``--database-url``, which
must name an empty database), migrates it and generates the offerings
straight into the tables, as bench/catalog.py does: page rows with computed
tree paths, offering rows with a body paragraph, tags and sessions, then
their catalog entries through the catalog's own sync. The ~140 offerings of
the relevance corpus (tests/search/corpus.py) are among them; the others are
composed from a district's vocabulary. Their titles and summaries are about
other subjects (书法, 停车管理, 无偿献血 …) and never answer a suite query
as a whole, but their bodies mention the suite's words in passing ("活动中穿插
反诈知识介绍"), so every query matches thousands of offerings, as it would in
a city's catalog, and ranking has to find the judged ones among them.

Three engines answer every suite query, side by side in one run:

- the database engine (``search.backends.database``): indexing throughput of
  ``search.services.index_rebuild``; the 20 best-ranked offerings; the whole
  catalog browse with facet counts; recall@10 of the suite's expected
  offerings and how often the expected first hit is first;
- Wagtail's own database search backend (modelsearch), with the offering's
  summary and body added to its search fields in this process only: indexing
  throughput of its rebuild, 20 ranked hits, recall@10;
- a plain ``icontains`` scan of titles and summaries (the catalog's own
  ``EntryEngine``): 20 hits, title matches first, and the whole browse.

Targets (from the issue): recall@10 ≥ 0.95; p95 ≤ 50 ms on SQLite for 20
ranked hits; at least 4× faster than the scan.

Given a ``--database-url`` that already holds a catalog this script
generated, the script measures it again without generating (indexes are
rebuilt and timed as before).

    .venv/bin/python bench/search.py                    # 200,000 offerings
    .venv/bin/python bench/search.py --offerings 2000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.search.corpus import (  # noqa: E402 (after the path is set)
    DEPARTMENTS,
    OFFERINGS,
    RELEVANCE_QUERIES,
)

HITS = 20
TOP = 10
# The suite queries timed and judged; --queries keeps only the first few.
SUITE = RELEVANCE_QUERIES
# A query slower than this once is timed once only (see _timed).
SLOW_MS = 1000
# Departments are the corpus's, once per district.
DISTRICTS = ["普陀", "静安", "长宁", "徐汇", "黄浦", "杨浦", "虹口", "闵行"]
STREETS = [
    "长风新村街道",
    "曹杨新村街道",
    "甘泉路街道",
    "石泉路街道",
    "宜川路街道",
    "万里街道",
    "真如镇街道",
    "长征镇",
    "桃浦镇",
    "",
]
# The generated offerings' subjects: (subject, category, department, tags).
# None of them is a suite query's subject.
SUBJECTS = [
    ("书法", "文化活动", "区文化和旅游局", "书法、传统文化"),
    ("国画", "文化活动", "区文化和旅游局", "国画、艺术"),
    ("摄影", "文化活动", "区文化和旅游局", "摄影、艺术"),
    ("合唱", "文化活动", "区文化和旅游局", "合唱、文艺"),
    ("茶艺", "文化活动", "区文化和旅游局", "茶艺、传统文化"),
    ("插花", "文化活动", "区妇女联合会", "插花、生活美学"),
    ("诗词朗诵", "文化活动", "区文化和旅游局", "诗词、朗诵"),
    ("传统节日民俗", "文化活动", "区文化和旅游局", "民俗、节日"),
    ("红色观影", "党建引领", "共青团区委", "观影、红色文化"),
    ("太极拳", "全民健身", "区文化和旅游局", "太极拳、健身"),
    ("八段锦", "全民健身", "区卫生健康委员会", "八段锦、健身"),
    ("乒乓球", "全民健身", "区教育局", "乒乓球、运动"),
    ("健步走", "全民健身", "区总工会", "健步走、运动"),
    ("瑜伽", "全民健身", "区妇女联合会", "瑜伽、运动"),
    ("亲子阅读", "阅读推广", "区妇女联合会", "亲子阅读、绘本"),
    ("读书会", "阅读推广", "区文化和旅游局", "读书会、阅读"),
    ("科普阅读", "阅读推广", "区教育局", "科普、阅读"),
    ("楼道美化", "绿化美化", "区绿化和市容管理局", "楼道美化、环境"),
    ("阳台种植", "绿化美化", "区绿化和市容管理局", "阳台种植、绿化"),
    ("河道保护", "绿化美化", "区生态环境局", "河道、生态"),
    ("节水节电", "绿化美化", "区生态环境局", "节水、节能"),
    ("低碳生活", "绿化美化", "区生态环境局", "低碳、环保"),
    ("旧物改造", "绿化美化", "区生态环境局", "旧物改造、环保"),
    ("党史学习", "党建引领", "区退役军人事务局", "党史、学习"),
    ("廉洁文化", "党建引领", "区文化和旅游局", "廉洁文化"),
    ("国防教育", "党建引领", "区退役军人事务局", "国防教育、征兵"),
    ("民族团结", "党建引领", "区民政局", "民族团结"),
    ("个案管理方法", "社工培训", "区民政局", "个案管理、社会工作"),
    ("小组工作方法", "社工培训", "区民政局", "小组工作、社会工作"),
    ("社区调研方法", "社工培训", "区民政局", "调研、方法"),
    ("公文写作", "社工培训", "区民政局", "公文写作"),
    ("无偿献血", "医疗健康", "区卫生健康委员会", "献血、公益"),
    ("控烟", "医疗健康", "区卫生健康委员会", "控烟、无烟环境"),
    ("爱国卫生", "医疗健康", "区卫生健康委员会", "爱国卫生、环境卫生"),
    ("口腔保健", "医疗健康", "区卫生健康委员会", "口腔、保健"),
    ("视力保护", "医疗健康", "区卫生健康委员会", "视力、近视防控"),
    ("职业规划", "就业帮扶", "区人力资源和社会保障局", "职业规划"),
    ("短视频制作", "数字化工具", "区数据局", "短视频、新媒体"),
    ("办公软件", "数字化工具", "区数据局", "办公软件、电脑"),
    ("停车管理", "物业治理", "区房屋管理局", "停车、小区管理"),
    ("文明养犬", "物业治理", "区城市管理行政执法局", "养犬、文明"),
    ("快递驿站", "物业治理", "区城市管理行政执法局", "快递、驿站"),
    ("共享单车停放", "物业治理", "区城市管理行政执法局", "共享单车、停放"),
    ("邻里节", "社区议事", "区民政局", "邻里节、睦邻"),
    ("社区营造", "社区议事", "区民政局", "社区营造、参与"),
    ("消费维权", "法律服务", "区市场监督管理局", "消费维权、投诉"),
    ("知识产权", "法律服务", "区市场监督管理局", "知识产权、商标"),
]
FORMATS = [
    ("培训班", "training"),
    ("讲座", "training"),
    ("体验课", "training"),
    ("工作坊", "training"),
    ("上门服务", "service"),
    ("咨询日", "service"),
    ("主题活动", "project"),
    ("宣传周", "project"),
    ("展览", "project"),
    ("比赛", "project"),
    ("活动场地", "venue"),
    ("器材借用", "equipment"),
    ("专家指导", "expert"),
    ("资料包", "material"),
]
AUDIENCES = ["社区居民", "辖区居民", "青少年", "亲子家庭", "上班族", "辖区单位职工"]
DETAILS = [
    "由专业老师带领",
    "材料和器材由主办方提供",
    "每期二十人左右",
    "社区只需提供场地和组织报名",
    "时间可与社区商定",
    "结束后可参加区里的展示交流",
    "适合零基础的居民参加",
    "可按社区需要调整内容",
]
# What a body says besides its subject, as long as a real one.
BODY_SENTENCES = [
    "报名由社区居委会统一组织，名额满后可预约下一期",
    "活动结束后发放学习资料和电子版课件，方便居民回家复习",
    "主办方提前一周与社区确认时间和人数，并提供宣传海报",
    "如遇恶劣天气顺延，顺延时间由主办方另行通知社区",
    "每次活动后收集居民意见，下一期据此调整安排",
    "参加者需自带水杯，现场提供基本用具",
    "可安排在周末或工作日晚上，方便上班族参加",
    "优秀作品和成果可在社区公告栏或公众号展示",
    "活动全程有工作人员负责安全和秩序",
    "所需费用由主办部门承担，社区和居民不需另付",
    "社区可根据居民报名情况申请增加场次",
    "活动记录由主办方留存，不需社区另行填报",
]
# Passing mentions: a body names a suite word without being about it.
MENTIONS = [
    "活动中穿插{}知识介绍",
    "可与社区{}工作结合安排",
    "现场设置{}咨询台",
    "往期活动曾结合{}主题开展",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offerings", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--queries",
        type=int,
        default=len(RELEVANCE_QUERIES),
        help="time and judge only the first N suite queries (a quick check)",
    )
    args = parser.parse_args()
    global SUITE
    SUITE = RELEVANCE_QUERIES[: args.queries]

    begun = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-search-"))
    os.environ["DIANDAN_VAR_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = (
        args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    )
    # The database engine answers, whatever the environment says.
    os.environ["ELASTICSEARCH_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.models import CatalogEntry, OfferingPage

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if CatalogEntry.objects.exists():
        # A catalog this script generated before: measured again as it is.
        titles = {item.title for item in OFFERINGS}
        corpus_ids = dict(
            OfferingPage.objects.filter(title__in=titles).values_list("title", "pk")
        )
        print(f"{CatalogEntry.objects.count()} offerings found ({connection.vendor})")
    else:
        corpus_ids = generate(max(args.offerings, len(OFFERINGS)))
        print(
            f"{max(args.offerings, len(OFFERINGS))} offerings generated in "
            f"{time.perf_counter() - started:.0f} s ({connection.vendor}, {workdir})"
        )
    results = [
        database_engine(corpus_ids, args.repeat),
        wagtail_backend(corpus_ids, args.repeat),
        icontains_scan(corpus_ids, args.repeat),
    ]
    print_table(results, args.repeat)
    print(f"\nwall time {time.perf_counter() - begun:.0f} s")


# Generating the catalog --------------------------------------------------------


def generate(offerings: int) -> dict[str, int]:
    """The catalog; returns the corpus offerings' ids by title."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.utils import timezone
    from taggit.models import Tag
    from wagtail.models import Locale, Page

    from catalog.models import (
        CatalogEntry,
        Category,
        DepartmentPage,
        OfferingPage,
        OfferingSession,
        OfferingTag,
    )
    from catalog.services import catalog_entries_sync, department_catalog_sync
    from portal.models import Department, DepartmentFamily, Region

    rng = random.Random(2026)
    now = timezone.now()
    city = Region.objects.create(code="310100000000", name="上海市", level=1)
    district = Region.objects.create(
        code="310107000000", name="普陀区", level=2, parent=city, city=city
    )
    families = {family.name: family for family in DepartmentFamily.objects.all()}
    Department.objects.bulk_create(
        Department(
            code=f"BENCH-{number:04d}",
            name=name.replace("区", f"{prefix}区", 1),
            family=families[family],
            region=district,
        )
        for number, (prefix, (name, family)) in enumerate(
            (prefix, item) for prefix in DISTRICTS for item in DEPARTMENTS.items()
        )
    )
    department_catalog_sync(
        department_ids=Department.objects.values_list("pk", flat=True)
    )
    # Department pages by district and corpus name.
    parents: dict[tuple[str, str], DepartmentPage] = {}
    for page in DepartmentPage.objects.select_related("department"):
        for prefix in DISTRICTS:
            for name in DEPARTMENTS:
                if page.department.name == name.replace("区", f"{prefix}区", 1):
                    parents[prefix, name] = page
    categories = {category.name: category for category in Category.objects.all()}
    items = [("corpus", item) for item in OFFERINGS] + [
        ("generated", item)
        for item in generated_offerings(offerings - len(OFFERINGS), rng)
    ]
    rng.shuffle(items)

    content_type = ContentType.objects.get_for_model(OfferingPage)
    locale = Locale.get_default()
    children: dict[int, int] = {}
    pages, placed = [], []
    for origin, item in items:
        prefix = DISTRICTS[0] if origin == "corpus" else rng.choice(DISTRICTS)
        parent = parents[prefix, item.department]
        step = children[parent.pk] = children.get(parent.pk, 0) + 1
        published = now - timedelta(minutes=rng.randrange(60 * 24 * 365))
        n = len(pages)
        pages.append(
            Page(
                title=item.title,
                draft_title=item.title,
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
        placed.append(item)
    with transaction.atomic():
        for parent_pk, count in children.items():
            Page.objects.filter(pk=parent_pk).update(numchild=count)
        pages = Page.objects.bulk_create(pages, batch_size=2000)
        tag_ids = {}
        names = {tag for item in placed for tag in item.tags}
        Tag.objects.bulk_create(
            [Tag(name=name, slug=f"t{n}") for n, name in enumerate(sorted(names))],
            batch_size=2000,
        )
        tag_ids = dict(Tag.objects.values_list("name", "pk"))
        rows, tags, sessions = [], [], []
        for page, item in zip(pages, placed, strict=True):
            on_request = item.kind in ("venue", "equipment", "expert", "material")
            rows.append(
                OfferingPage(
                    page_ptr_id=page.pk,
                    kind=item.kind,
                    category=categories[item.category],
                    summary=item.summary,
                    body=json.dumps(
                        [
                            {
                                "type": "paragraph",
                                "value": f"<p>{item.body}</p>",
                                "id": str(uuid.uuid4()),
                            }
                        ],
                        ensure_ascii=False,
                    ),
                    delivery_mode="at_department"
                    if item.kind == "venue"
                    else "at_community",
                    fee=0,
                    availability="on_request" if on_request else "scheduled",
                    monthly_capacity=5 if on_request else None,
                    status="open",
                    whole_area=True,
                )
            )
            tags += [
                OfferingTag(content_object_id=page.pk, tag_id=tag_ids[name])
                for name in item.tags
            ]
            if not on_request:
                for _ in range(rng.randint(1, 2)):
                    start = now + timedelta(hours=rng.randrange(-240, 24 * 60))
                    sessions.append(
                        OfferingSession(
                            offering_id=page.pk,
                            starts_at=start,
                            ends_at=start + timedelta(hours=2),
                            seats=30,
                            seats_taken=rng.randint(0, 30),
                        )
                    )
        # Only the offering table: the page rows exist (multi-table
        # inheritance has no bulk insert of its own).
        fields = OfferingPage._meta.local_concrete_fields
        for start in range(0, len(rows), 500):
            OfferingPage.objects._insert(rows[start : start + 500], fields=fields)
        OfferingTag.objects.bulk_create(tags, batch_size=2000)
        OfferingSession.objects.bulk_create(sessions, batch_size=2000)
        ids = [page.pk for page in pages]
        for start in range(0, len(ids), 5000):
            catalog_entries_sync(offering_ids=ids[start : start + 5000])
    if CatalogEntry.objects.count() != len(ids):
        raise SystemExit("some generated offerings got no catalog entry")
    corpus_titles = {item.title for item in OFFERINGS}
    return {
        page.title: page.pk
        for page, (origin, _item) in zip(pages, items, strict=True)
        if origin == "corpus" and page.title in corpus_titles
    }


@dataclass(frozen=True)
class Generated:
    department: str
    kind: str
    category: str
    title: str
    tags: tuple[str, ...]
    summary: str
    body: str


def generated_offerings(count: int, rng: random.Random) -> list[Generated]:
    """Offerings about other subjects whose title, summary, tags and category
    never answer a suite query as a whole; their bodies mention one or two
    suite words in passing."""
    from search.analysis import query_terms

    # Each query as groups of words, any word of a group standing for it.
    asked = [
        [[word.lower() for word in group] for group in query_terms(query.text)]
        for query in RELEVANCE_QUERIES
    ]
    mentions = [query.text for query in RELEVANCE_QUERIES]
    corpus_titles = {item.title for item in OFFERINGS}
    offerings = []
    while len(offerings) < count:
        subject, category, department, tags = rng.choice(SUBJECTS)
        form, kind = rng.choice(FORMATS)
        place = rng.choice(STREETS)
        title = f"{place}{subject}{form}"
        if rng.random() < 0.3:
            title += f"（第{rng.randint(2, 12)}期）"
        summary = (
            f"面向{rng.choice(AUDIENCES)}开展{subject}{form}，"
            f"{rng.choice(DETAILS)}，{rng.choice(DETAILS)}。"
        )
        visible = f"{title} {summary} {tags} {category}".lower()
        if title in corpus_titles or any(
            all(any(word in visible for word in group) for group in groups)
            for groups in asked
        ):
            continue
        sentences = [
            *rng.sample(BODY_SENTENCES, rng.randint(2, 4)),
            *(
                rng.choice(MENTIONS).format(word)
                for word in rng.sample(mentions, rng.randint(1, 2))
            ),
        ]
        rng.shuffle(sentences)
        body = "。".join([f"本次{subject}{form}{rng.choice(DETAILS)}", *sentences])
        offerings.append(
            Generated(
                department=department,
                kind=kind,
                category=category,
                title=title,
                tags=tuple(tags.split("、")),
                summary=summary,
                body=body + "。",
            )
        )
    return offerings


def _step(number: int) -> str:
    from wagtail.models import Page

    key = Page._int2str(number)
    return Page.alphabet[0] * (Page.steplen - len(key)) + key


# Measuring ---------------------------------------------------------------------


@dataclass
class EngineResult:
    name: str
    indexed_per_second: float | None
    index_seconds: float | None
    ranked: list[float]
    browsed: list[float] = field(default_factory=list)
    recall: float = 0.0
    first: float = 0.0
    # Queries below full recall: (text, recall).
    misses: list[tuple[str, float]] = field(default_factory=list)


def database_engine(corpus_ids: dict[str, int], repeat: int) -> EngineResult:
    from catalog.browsing import BrowseQuery, offerings_in_order
    from catalog.filters import RELEVANCE
    from catalog.models import CatalogEntry
    from search.backends import answering_engine
    from search.services import index_rebuild

    engine = answering_engine()
    started = time.perf_counter()
    written = index_rebuild()
    seconds = time.perf_counter() - started

    def ranked(text: str) -> list[int]:
        query = BrowseQuery(text=text, sort=RELEVANCE, stop=HITS)
        ids = engine.ranked_ids(CatalogEntry.objects.all(), query)
        return [offering.pk for offering in offerings_in_order(ids)]

    def browsed(text: str) -> list[int]:
        query = BrowseQuery(text=text, sort=RELEVANCE, stop=HITS)
        return [offering.pk for offering in engine.browse(query).offerings]

    samples, hits = _timed(ranked, repeat)
    result = EngineResult("database engine", written / seconds, seconds, samples)
    result.browsed = _timed(browsed, repeat)[0]
    _judge(result, hits, corpus_ids)
    return result


def wagtail_backend(corpus_ids: dict[str, int], repeat: int) -> EngineResult:
    from wagtail.models import Page
    from wagtail.search import index
    from wagtail.search.backends import get_search_backend

    from catalog.models import OfferingPage

    # What an offering says, beyond the page title Wagtail indexes by itself.
    OfferingPage.search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
    ]
    backend = get_search_backend()
    # From empty, also when the catalog is measured again.
    backend.reset_indexes()
    started = time.perf_counter()
    rebuilder = backend.rebuilder_class(backend.get_index_for_model(OfferingPage))
    search_index = rebuilder.start()
    search_index.add_model(OfferingPage)
    ids = list(OfferingPage.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 1000):
        chunk = list(OfferingPage.objects.filter(pk__in=ids[start : start + 1000]))
        search_index.add_items(OfferingPage, chunk)
    rebuilder.finish()
    seconds = time.perf_counter() - started

    def ranked(text: str) -> list[int]:
        return [page.pk for page in backend.search(text, OfferingPage)[:HITS]]

    samples, hits = _timed(ranked, repeat)
    result = EngineResult("Wagtail search", len(ids) / seconds, seconds, samples)
    _judge(result, hits, corpus_ids)
    return result


def icontains_scan(corpus_ids: dict[str, int], repeat: int) -> EngineResult:
    from catalog.browsing import BrowseQuery, EntryEngine, offerings_in_order
    from catalog.filters import RELEVANCE
    from catalog.models import CatalogEntry

    engine = EntryEngine()

    def ranked(text: str) -> list[int]:
        query = BrowseQuery(text=text, sort=RELEVANCE, stop=HITS)
        ids = engine.ranked_ids(CatalogEntry.objects.all(), query)
        return [offering.pk for offering in offerings_in_order(ids)]

    def browsed(text: str) -> list[int]:
        query = BrowseQuery(text=text, sort=RELEVANCE, stop=HITS)
        return [offering.pk for offering in engine.browse(query).offerings]

    samples, hits = _timed(ranked, repeat)
    result = EngineResult("icontains scan", None, None, samples)
    result.browsed = _timed(browsed, repeat)[0]
    _judge(result, hits, corpus_ids)
    return result


def _timed(
    search: Callable[[str], list[int]], repeat: int
) -> tuple[list[float], list[list[int]]]:
    """Milliseconds of every run of every suite query, after one run each to
    warm caches, and each query's hits. A query whose first run took over
    ``SLOW_MS`` is not run again: that first run is its one sample (caches
    do not matter at that scale, and repeating it would take hours)."""
    hits, samples, fast = [], [], []
    for query in SUITE:
        started = time.perf_counter()
        hits.append(search(query.text))
        elapsed = (time.perf_counter() - started) * 1000
        if elapsed > SLOW_MS:
            samples.append(elapsed)
        else:
            fast.append(query)
    for _ in range(repeat):
        for query in fast:
            started = time.perf_counter()
            search(query.text)
            samples.append((time.perf_counter() - started) * 1000)
    return samples, hits


def _judge(
    result: EngineResult, hits: list[list[int]], corpus_ids: dict[str, int]
) -> None:
    recalls, firsts = [], []
    for query, ids in zip(SUITE, hits, strict=True):
        top = set(ids[:TOP])
        found = sum(corpus_ids[title] in top for title in query.expected)
        recalls.append(found / len(query.expected))
        if recalls[-1] < 1:
            result.misses.append((query.text, recalls[-1]))
        if query.first:
            firsts.append(bool(ids) and ids[0] == corpus_ids[query.first])
    result.recall = statistics.mean(recalls)
    result.first = statistics.mean(firsts)


def _p95(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def print_table(results: list[EngineResult], repeat: int) -> None:
    scan = results[-1]
    print(
        f"\n{len(SUITE)} suite queries × {repeat} runs each (a query "
        f"slower than {SLOW_MS / 1000:.0f} s: one run); {HITS} ranked hits; "
        "browse = the whole catalog answer with facet counts\n"
    )
    header = (
        f"{'engine':<16} {'index docs/s':>12} {'index s':>8} "
        f"{'ranked median':>13} {'p95 ms':>7} {'browse median':>13} {'p95 ms':>7} "
        f"{'recall@10':>9} {'first hit':>9} {'× scan (p95)':>12}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        indexed = result.indexed_per_second is not None
        browsed = [
            f"{statistics.median(result.browsed):.1f}" if result.browsed else "—",
            f"{_p95(result.browsed):.1f}" if result.browsed else "—",
        ]
        print(
            f"{result.name:<16} "
            f"{f'{result.indexed_per_second:.0f}' if indexed else '—':>12} "
            f"{f'{result.index_seconds:.1f}' if indexed else '—':>8} "
            f"{statistics.median(result.ranked):>13.1f} {_p95(result.ranked):>7.1f} "
            f"{browsed[0]:>13} {browsed[1]:>7} "
            f"{result.recall:>9.3f} {result.first:>9.2f} "
            f"{_p95(scan.ranked) / _p95(result.ranked):>12.1f}"
        )
    for result in results:
        if result.misses:
            misses = "、".join(f"{text} {recall:.2f}" for text, recall in result.misses)
            print(f"\n{result.name}, below full recall@10: {misses}")


if __name__ == "__main__":
    main()
