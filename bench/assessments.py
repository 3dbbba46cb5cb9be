"""Reverse evaluation at the scale of a city: 6,000 communities (and their
street offices, "7+3") × 60 departments × 25 questions in one round — 9
million answers. Times answering, closing, the results pages and the PDFs.

The script creates a fresh database — a SQLite file in a temporary folder, as
the portal runs it, or with ``--database-url`` a PostgreSQL database that it
creates and drops at the end (its name must start with ``diandan_bench``), or
an SQLite file it is given — migrates it and generates straight into the
tables, with bulk inserts, the org tree (a city of 16 districts, about 28
communities a street), 60 city-level departments in 20 families of three, a
questionnaire of 25 questions in five dimensions, and the organization
department with its account. The round itself goes through the services:
``round_save`` and ``round_open`` (one participation per unit and department,
timed).

1. **Submission**: a sample of evaluations sent through
   ``services.evaluation_submit`` by community accounts, on 1 and several
   threads (``--threads``, ``--submissions`` each), beside a naive peer that
   reads the participation, checks it in Python, saves it and inserts the
   answers one by one. Median and p95 of one submission, submissions per
   second, errors.
2. **The rest of the answers** are written straight into the tables, as
   ``evaluation_submit`` writes them: a response per participation (random
   id, department, class), its answers, the participation's day. Each
   department answers around a standing of its own, so that the scores
   spread.
3. **Close of round**: ``services.round_results_compute`` in a process of its
   own; its time and its peak memory (``os.wait4``), beside the peak of a
   process that only starts Django.
4. **Pages**: the ranking page (``round_results``) and a department's page
   (``department_result``) through the Django test client signed in as the
   organization department, ``--repeat`` requests each: median, p95, queries.
5. **PDFs**: ``assessments.reports.card_pdf`` for one department and
   ``bulletin_pdf`` for the round, each in a process of its own: time, peak
   memory, pages.

Targets (from the issue): at 6,000 × 60 × 25, the ranking page p95 under
200 ms; a report card under 1 s; the bulletin under 10 s and under 500 MB.

    .venv/bin/python bench/assessments.py                        # SQLite, full size
    .venv/bin/python bench/assessments.py --database-url \\
        postgresql://postgres@127.0.0.1:5432/diandan_bench_assessments
    .venv/bin/python bench/assessments.py --communities 300 --departments 10
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

COMMUNITIES_PER_STREET = 28
DISTRICTS = 16
FAMILIES = 20
DIMENSIONS = (
    ("meetings", "文件会议精简", "0.25"),
    ("inspections", "督查检查考核", "0.20"),
    ("ledgers", "台账资料", "0.20"),
    ("responsiveness", "吹哨报到响应", "0.20"),
    ("services", "赋能服务实效", "0.15"),
)
# The kinds of a dimension's questions, in turn: (kind, direction, scale_max).
KINDS = (
    ("likert", "higher", None),
    ("count", "lower", 6),
    ("yes_no", "lower", None),
    ("single", "higher", None),
    ("likert", "higher", None),
    ("multiple", "higher", None),
)
SINGLE_OPTIONS = "明显减轻|100\n略有减轻|75\n没有变化|50\n有所加重|0"
MULTIPLE_OPTIONS = "推诿扯皮\n答复不及时\n超出职责\n要求社区自行解决\n其他"
# Rows written per statement when filling the tables.
CHUNK = 20_000
PROJECT = "evaluation_submit"
NAIVE = "naive peer"
TARGETS = {"ranking": 200.0, "card": 1.0, "bulletin": 10.0, "bulletin_mb": 500.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=6000)
    parser.add_argument("--departments", type=int, default=60)
    parser.add_argument("--questions", type=int, default=25)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--threads", default="1,4", help="e.g. 1,4")
    parser.add_argument(
        "--submissions",
        type=int,
        default=1200,
        help="evaluations sent through the service per thread count and variant",
    )
    parser.add_argument("--repeat", type=int, default=30, help="requests per page")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--round-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--department-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bench-assessments-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    postgres = url.startswith(("postgres://", "postgresql://"))
    env = {
        "DIANDAN_VAR_DIR": str(workdir),
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
    }
    os.environ.update(env)
    if postgres:
        _postgres_database(url, create=True)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        thread_counts = [int(n) for n in args.threads.split(",") if n.strip()]
        runs = [
            (threads, variant)
            for threads in thread_counts
            for variant in (PROJECT, NAIVE)
        ]
        mark = time.perf_counter()
        world = generate(
            communities=args.communities,
            departments=args.departments,
            questions=args.questions,
            # Each thread answers for whole communities, every department.
            accounts=sum(
                threads * math.ceil(args.submissions // threads / args.departments)
                for threads, _variant in runs
            ),
        )
        progress(f"org tree, departments and questionnaire in {_since(mark)}")
        report = Report(world=world)
        report.opening = round_start(world)
        progress(
            f"round opened: {report.opening.participations:,} participations "
            f"in {report.opening.seconds:.1f} s"
        )
        for threads, variant in runs:
            report.submits.append(
                submit_measure(world, threads, variant, args.submissions)
            )
            progress(f"submitted: {report.submits[-1].line()}")
        mark = time.perf_counter()
        report.filled = fill(world)
        report.fill_seconds = time.perf_counter() - mark
        progress(f"answers written in {report.fill_seconds:.0f} s")
        report.close = close_measure(world, env)
        progress(f"results computed in {report.close['compute'].seconds:.1f} s")
        report.pages = pages_measure(world, args.repeat)
        report.pdfs = pdfs_measure(world, env)
        report.print(args)
    finally:
        from django.db import connections

        connections.close_all()
        if postgres:
            _postgres_database(url, create=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _since(mark: float) -> str:
    return f"{time.perf_counter() - mark:.1f} s"


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


# The world ------------------------------------------------------------------------


@dataclass
class World:
    city: object
    organizer: object
    departments: list
    questionnaire: object
    questions: list
    # Community operators whose units answer through the service, in turn.
    accounts: list
    # Each department's standing (0–1): how well it does by the communities.
    standing: dict[int, float]
    evaluation_round: object = None
    # The department in the middle of the ranking, whose page is timed.
    middle_department: int = 0
    communities: int = 0
    streets: int = 0


def generate(*, communities: int, departments: int, questions: int, accounts: int):
    """The city, its departments, a questionnaire and the organizer, written
    straight into the tables."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from assessments.models import Dimension, Question, Questionnaire
    from portal.models import (
        CommunityType,
        Department,
        DepartmentFamily,
        DepartmentKind,
        Region,
        RegionLevel,
        Role,
        User,
    )

    rng = random.Random(2026)
    types = [value for value, _label in CommunityType.choices]
    with transaction.atomic():
        city = Region.objects.create(
            code="310000000000", name="上海市", level=RegionLevel.CITY
        )
        districts = Region.objects.bulk_create(
            Region(
                code=f"31{n + 1:02d}00000000",
                name=f"第{n + 1}区",
                level=RegionLevel.DISTRICT,
                parent=city,
                city=city,
            )
            for n in range(DISTRICTS)
        )
        street_count = max(1, math.ceil(communities / COMMUNITIES_PER_STREET))
        streets = Region.objects.bulk_create(
            Region(
                code=f"{districts[n % DISTRICTS].code[:4]}{n // DISTRICTS + 1:02d}{0:06d}",
                name=f"第{n + 1}街道",
                level=RegionLevel.STREET,
                parent=districts[n % DISTRICTS],
                city=city,
                district=districts[n % DISTRICTS],
            )
            for n in range(street_count)
        )
        units = Region.objects.bulk_create(
            (
                Region(
                    code=f"{streets[n % street_count].code[:9]}{n // street_count + 1:03d}",
                    name=f"第{n + 1}居委会",
                    level=RegionLevel.COMMUNITY,
                    parent=streets[n % street_count],
                    city=city,
                    district=streets[n % street_count].district,
                    street=streets[n % street_count],
                    community_type=types[n % len(types)],
                )
                for n in range(communities)
            ),
            batch_size=2000,
        )
        families = list(DepartmentFamily.objects.order_by("sort_order", "pk"))
        families += DepartmentFamily.objects.bulk_create(
            DepartmentFamily(name=f"条线{n}", sort_order=100 + n)
            for n in range(max(0, FAMILIES - len(families)))
        )
        evaluated = Department.objects.bulk_create(
            Department(
                code=f"SH-{n + 1:03d}",
                name=f"市第{n + 1}局",
                family=families[n % FAMILIES],
                region=city,
            )
            for n in range(departments)
        )
        organization = Department.objects.create(
            code="SH-ZZB",
            name="中共上海市委组织部",
            kind=DepartmentKind.ORGANIZATION,
            region=city,
        )
        organizer = User.objects.create(
            username="zuzhibu",
            role=Role.ORGANIZATION_DEPARTMENT,
            department=organization,
        )
        unusable = make_password(None)
        operators = User.objects.bulk_create(
            User(
                username=f"bench{n + 1}",
                password=unusable,
                role=Role.COMMUNITY_OPERATOR,
                region=units[n],
            )
            for n in range(min(accounts, communities))
        )
        questionnaire = Questionnaire.objects.create(title="基准问卷")
        Dimension.objects.bulk_create(
            Dimension(
                questionnaire=questionnaire,
                sort_order=n,
                code=code,
                name=name,
                weight=weight,
            )
            for n, (code, name, weight) in enumerate(DIMENSIONS)
        )
        rows = []
        for n in range(questions):
            kind, direction, scale_max = KINDS[(n // len(DIMENSIONS)) % len(KINDS)]
            options = {"single": SINGLE_OPTIONS, "multiple": MULTIPLE_OPTIONS}
            rows.append(
                Question(
                    questionnaire=questionnaire,
                    sort_order=n,
                    dimension_code=DIMENSIONS[n % len(DIMENSIONS)][0],
                    code=f"q{n + 1}",
                    text=f"第{n + 1}题",
                    kind=kind,
                    weight=0 if kind == "multiple" else 1,
                    direction=direction,
                    options=options.get(kind, ""),
                    scale_max=scale_max,
                )
            )
        Question.objects.bulk_create(rows)
    return World(
        city=city,
        organizer=organizer,
        departments=evaluated,
        questionnaire=questionnaire,
        questions=list(questionnaire.questions.order_by("sort_order")),
        accounts=operators,
        standing={d.pk: rng.uniform(0.35, 0.92) for d in evaluated},
        communities=len(units),
        streets=len(streets),
    )


@dataclass
class Opening:
    participations: int
    seconds: float


def round_start(world: World) -> Opening:
    """The round, "7+3", made and opened through the services."""
    from decimal import Decimal

    from django.utils import timezone

    from assessments.services import round_open, round_save

    today = timezone.localdate()
    world.evaluation_round = round_save(
        user=world.organizer,
        departments=world.departments,
        name="2026年第四季度",
        questionnaire=world.questionnaire,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 12, 31),
        opens_on=today,
        closes_on=today + timedelta(days=14),
        community_weight=Decimal("0.7"),
        street_weight=Decimal("0.3"),
    )
    started = time.perf_counter()
    asked = round_open(evaluation_round=world.evaluation_round, user=world.organizer)
    return Opening(asked, time.perf_counter() - started)


# Answers -------------------------------------------------------------------------


def _value_tables(world: World) -> dict[tuple[int, int], tuple[list[int], list[float]]]:
    """For each department and question, the answers it gets and how often:
    around the department's standing, spread by unit."""
    tables = {}
    for department in world.departments:
        level = world.standing[department.pk]
        for question in world.questions:
            tables[department.pk, question.pk] = _distribution(question, level)
    return tables


def _distribution(question, level: float) -> tuple[list[int], list[float]]:
    """Possible answers to ``question`` and their weights for a department of
    ``level``: each answer as likely as its score is near the level."""
    if question.kind == "likert":
        values = [1, 2, 3, 4, 5]
        scores = [(v - 1) / 4 for v in values]
    elif question.kind == "count":
        values = list(range(question.scale_max + 3))
        scores = [1 - min(v, question.scale_max) / question.scale_max for v in values]
    elif question.kind == "yes_no":
        values = [0, 1]
        scores = [1.0, 0.0] if question.direction == "lower" else [0.0, 1.0]
    elif question.kind == "single":
        values = [1, 2, 3, 4]
        scores = [1.0, 0.75, 0.5, 0.0]
    else:  # several choices: any non-empty set of five options, as bits
        values = list(range(1, 32))
        return values, [1.0] * len(values)
    weights = [math.exp(-(((score - level) / 0.22) ** 2)) + 0.02 for score in scores]
    return values, weights


def _answers(world: World, department, rng: random.Random, tables) -> dict:
    answers = {}
    for question in world.questions:
        values, weights = tables[department.pk, question.pk]
        value = rng.choices(values, weights)[0]
        if question.kind == "multiple":
            value = [bit + 1 for bit in range(5) if value & (1 << bit)]
        answers[question.code] = value
    return answers


@dataclass
class SubmitRun:
    threads: int
    variant: str
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    first_error: str = ""

    @property
    def sent(self) -> int:
        return len(self.latencies) - sum(self.errors.values())

    def line(self) -> str:
        return (
            f"{self.threads} threads, {self.variant}: {self.sent / self.wall:.0f}/s, "
            f"p95 {_p95(self.latencies):.1f} ms"
        )


_next_account = 0


def submit_measure(world: World, threads: int, variant: str, count: int) -> SubmitRun:
    """``count`` evaluations sent by ``threads`` threads at once, each thread
    for its own communities (every department of each in turn)."""
    global _next_account

    tables = _value_tables(world)
    per_thread = count // threads
    plans = []
    for thread in range(threads):
        rng = random.Random(f"{variant} {threads} {thread}")
        plan = []
        while len(plan) < per_thread:
            user = world.accounts[_next_account]
            _next_account += 1
            plan += [
                (user, department, _answers(world, department, rng, tables))
                for department in world.departments
            ]
        plans.append(plan[:per_thread])
    run = SubmitRun(threads, variant)
    lock = threading.Lock()
    go = threading.Barrier(threads + 1)
    workers = [
        threading.Thread(target=_send, args=(world, plan, variant, go, run, lock))
        for plan in plans
    ]
    for worker in workers:
        worker.start()
    go.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    run.wall = time.perf_counter() - began
    return run


def _send(world, plan, variant, go, run, lock) -> None:
    from django.db import connections

    from assessments.services import evaluation_submit

    submit = evaluation_submit if variant == PROJECT else submit_naive
    latencies, errors, first_error = [], Counter(), ""
    try:
        go.wait()
        for user, department, answers in plan:
            started = time.perf_counter()
            try:
                submit(
                    user=user,
                    evaluation_round=world.evaluation_round,
                    department=department,
                    answers=answers,
                )
            except Exception as error:
                errors[type(error).__name__] += 1
                first_error = first_error or repr(error)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        connections.close_all()
        with lock:
            run.latencies += latencies
            run.errors += errors
            run.first_error = run.first_error or first_error


def submit_naive(*, user, evaluation_round, department, answers) -> None:
    """The peer: the same checks and rows, the way a first version would
    write them — the participation read, checked and saved, and one INSERT
    per answer."""
    from django.db import transaction
    from django.utils import timezone

    from assessments.models import Answer, Participation, Response
    from assessments.questionnaires import answers_check
    from assessments.services import ERROR_ALREADY_ANSWERED, EvaluationError

    questions = list(evaluation_round.questionnaire.questions.all())
    checked = answers_check(questions, answers)
    with transaction.atomic():
        participation = Participation.objects.get(
            round=evaluation_round, unit_id=user.region_id, department=department
        )
        if participation.answered_on is not None:
            raise EvaluationError(ERROR_ALREADY_ANSWERED)
        participation.answered_on = timezone.localdate()
        participation.save(update_fields=["answered_on"])
        response = Response.objects.create(
            round=evaluation_round,
            department=department,
            respondent_class=participation.respondent_class,
        )
        for question_id, value in checked.values.items():
            Answer.objects.create(
                response=response, question_id=question_id, value=value
            )


@dataclass
class Filled:
    responses: int
    answers: int


def fill(world: World) -> Filled:
    """Answer every participation still open, straight into the tables, as
    ``evaluation_submit`` would: a response with a random id, its answers,
    the participation's day. Responses are written in the order of their
    ids, which keeps the indexes on them appending."""
    from django.db import connection, transaction
    from django.utils import timezone

    from assessments.models import Participation

    rng = random.Random(9)
    tables = _value_tables(world)
    evaluation_round = world.evaluation_round
    pending = list(
        Participation.objects.filter(
            round=evaluation_round, answered_on__isnull=True
        ).values_list("department_id", "respondent_class")
    )
    responses = sorted((uuid.uuid4(), d, c) for d, c in pending)
    # Every answer drawn at once for each department and question.
    per_department = Counter(department for _key, department, _class in responses)
    drawn = {
        (department, question.pk): iter(
            rng.choices(
                tables[department, question.pk][0],
                tables[department, question.pk][1],
                k=count,
            )
        )
        for department, count in per_department.items()
        for question in world.questions
    }
    question_ids = [question.pk for question in world.questions]
    postgres = connection.vendor == "postgresql"
    answers = 0
    with transaction.atomic():
        cursor = connection.cursor()
        for start in range(0, len(responses), CHUNK):
            chunk = responses[start : start + CHUNK]
            rows = [
                (_id(key, postgres), evaluation_round.pk, department, kind)
                for key, department, kind in chunk
            ]
            _insert(
                cursor,
                "assessments_response (id, round_id, department_id, respondent_class)",
                rows,
                postgres,
            )
            values = [
                (row[0], question_id, next(drawn[department, question_id]))
                for row, (_key, department, _kind) in zip(rows, chunk, strict=True)
                for question_id in question_ids
            ]
            _insert(
                cursor,
                "assessments_answer (response_id, question_id, value)",
                values,
                postgres,
            )
            answers += len(values)
            progress(f"  {start + len(chunk):,} of {len(responses):,} responses")
        Participation.objects.filter(
            round=evaluation_round, answered_on__isnull=True
        ).update(answered_on=timezone.localdate())
    if postgres:
        # As autovacuum would after so many rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Filled(len(responses), answers)


def _id(key: uuid.UUID, postgres: bool) -> str:
    # Django keeps a UUID as 32 hex digits on SQLite, natively on PostgreSQL.
    return str(key) if postgres else key.hex


def _insert(cursor, target: str, rows: list[tuple], postgres: bool) -> None:
    if postgres:
        # COPY: what a bulk load on PostgreSQL uses.
        with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(rows[0]))
    # The table and columns are the constants above, the values parameters.
    cursor.executemany(f"INSERT INTO {target} VALUES ({marks})", rows)  # noqa: S608


# Close, pages, PDFs --------------------------------------------------------------


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    result: dict = field(default_factory=dict)
    error: str = ""


def close_measure(world: World, env: dict) -> dict[str, Measured]:
    """Close the round (without computing its results after the commit) and
    compute them in a process of its own; a process that only starts Django
    gives the baseline of memory."""
    from unittest import mock

    from assessments import services

    with mock.patch.object(services, "round_results"):
        services.round_close(
            evaluation_round=world.evaluation_round, user=world.organizer
        )
    return {
        "baseline": run_child("noop", env),
        "compute": run_child("compute", env, round_id=world.evaluation_round.pk),
    }


def run_child(what: str, env: dict, **ids: int) -> Measured:
    """Run ``what`` in a fresh process: its own time and peak resident memory
    as it reports them (``_own_peak_mb``; ``os.wait4``'s where it cannot)."""
    args = [sys.executable, __file__, "--child", what]
    for name, value in ids.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            args,
            cwd=PROJECT_DIR,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        output = out.read().decode(errors="replace")
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024
    peak = usage.ru_maxrss / divisor
    if os.waitstatus_to_exitcode(status) != 0:
        return Measured(0.0, peak, error=output.strip().splitlines()[-1][:200])
    result = json.loads(output.strip().splitlines()[-1])
    own = result.pop("peak_mb")
    return Measured(result.pop("seconds"), own if own is not None else peak, result)


def child(args) -> None:
    """In the child process: set up Django, do one thing, print its time."""
    import django

    django.setup()
    from assessments.models import EvaluationRound
    from portal.models import Department

    result: dict = {}
    started = time.perf_counter()
    if args.child == "compute":
        from assessments.services import round_results_compute

        evaluation_round = EvaluationRound.objects.get(pk=args.round_id)
        started = time.perf_counter()
        computed = round_results_compute(evaluation_round=evaluation_round)
        result["responses"] = computed.responses
    elif args.child in ("card", "bulletin"):
        from pypdf import PdfReader

        from assessments import reports
        from assessments.models import DepartmentResult

        evaluation_round = EvaluationRound.objects.get(pk=args.round_id)
        started = time.perf_counter()
        if args.child == "card":
            department = Department.objects.get(pk=args.department_id)
            pdf = reports.card_pdf(
                evaluation_round=evaluation_round, department=department
            )
            # A worker that has made a report before has its fonts and
            # stylesheet loaded: the next card, of the department ranked
            # after this one, shows what that costs.
            first = time.perf_counter()
            result["first_seconds"] = first - started
            result["pages"] = len(PdfReader(io.BytesIO(pdf)).pages)
            result["kb"] = len(pdf) // 1024
            following = (
                DepartmentResult.objects.filter(
                    round=evaluation_round, total__isnull=False
                )
                .exclude(department_id=department.pk)
                .order_by("rank_overall")
                .first()
            )
            reports.card_pdf(
                evaluation_round=evaluation_round, department=following.department
            )
            started = first
        else:
            pdf = reports.bulletin_pdf(evaluation_round=evaluation_round)
            result["pages"] = len(PdfReader(io.BytesIO(pdf)).pages)
            result["kb"] = len(pdf) // 1024
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = _own_peak_mb()
    print(json.dumps(result))


def _own_peak_mb() -> float | None:
    """This process's own peak resident memory (VmHWM), or None where there
    is no /proc. Not ``ru_maxrss``: Linux carries the parent's peak over
    into a child started by (v)fork and exec, and the parent holds the whole
    generated world by then."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


@dataclass
class PageTimes:
    name: str
    times: list[float]
    queries: int


def pages_measure(world: World, repeat: int) -> list[PageTimes]:
    """The ranking and a department's page, signed in as the organization
    department, after publishing the round."""
    from unittest import mock

    from django.core import signals
    from django.db import close_old_connections, connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from assessments import services
    from assessments.models import DepartmentResult

    evaluation_round = world.evaluation_round
    evaluation_round.refresh_from_db()
    # The bulletin made after publishing is measured on its own, below.
    with mock.patch("assessments.reports.report_request"):
        services.round_publish(evaluation_round=evaluation_round, user=world.organizer)
    # As in Django's test runner: one connection across requests, as a server
    # with persistent connections would have, and the cache a server has.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ).enable()
    client = Client()
    client.force_login(world.organizer)
    # The department in the middle of the ranking.
    middle = (
        DepartmentResult.objects.filter(round=evaluation_round, total__isnull=False)
        .order_by("rank_overall")
        .values_list("department_id", flat=True)
    )
    department_id = list(middle)[len(middle) // 2]
    world.middle_department = department_id
    cases = [
        ("ranking", reverse("round_results", args=[evaluation_round.pk])),
        (
            "department",
            reverse("department_result", args=[evaluation_round.pk, department_id]),
        ),
    ]
    measured = []
    for name, url in cases:
        status = client.get(url).status_code
        if status != 200:
            raise SystemExit(f"The {name} page answered {status}: {url}")

        def call(url=url):
            return client.get(url)

        queries = []
        with connection.execute_wrapper(
            lambda execute, sql, *a, seen=queries: seen.append(sql) or execute(sql, *a)
        ):
            call()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        measured.append(PageTimes(name, times, len(queries)))
    return measured


def pdfs_measure(world: World, env: dict) -> dict[str, Measured]:
    """A department's report card and the round's bulletin, each in its own
    process."""
    round_id = world.evaluation_round.pk
    return {
        "card": run_child(
            "card", env, round_id=round_id, department_id=world.middle_department
        ),
        "bulletin": run_child("bulletin", env, round_id=round_id),
    }


# The tables ----------------------------------------------------------------------


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class Report:
    world: World
    opening: Opening | None = None
    submits: list[SubmitRun] = field(default_factory=list)
    filled: Filled | None = None
    fill_seconds: float = 0.0
    close: dict[str, Measured] = field(default_factory=dict)
    pages: list[PageTimes] = field(default_factory=list)
    pdfs: dict[str, Measured] = field(default_factory=dict)

    def print(self, args) -> None:
        from django.db import connection

        from assessments.models import Answer, Response

        if connection.vendor == "postgresql":
            version = connection.cursor().connection.info.server_version
            engine = f"PostgreSQL {version // 10000}.{version % 10000}"
        else:
            import sqlite3

            engine = f"SQLite {sqlite3.sqlite_version}"
        world = self.world
        responses = Response.objects.count()
        answers = Answer.objects.count()
        print(
            f"\n{engine}: {world.communities:,} communities and {world.streets:,} "
            f"street offices × {len(world.departments)} departments × "
            f"{len(world.questions)} questions, one round (7+3)"
        )
        print(
            f"{self.opening.participations:,} participations (opening the round: "
            f"{self.opening.seconds:.1f} s); {responses:,} responses, "
            f"{answers:,} answers ({self.filled.answers:,} written straight into "
            f"the tables in {self.fill_seconds:.0f} s)\n"
        )
        print(
            "Submission (services.evaluation_submit: one evaluation of "
            f"{len(world.questions)} answers)\n"
        )
        header = (
            f"{'threads':>7}  {'variant':<18} {'sent':>6} {'per s':>7} "
            f"{'median ms':>9} {'p95 ms':>7} {'errors':>6}"
        )
        print(header)
        print("-" * len(header))
        for run in self.submits:
            print(
                f"{run.threads:>7}  {run.variant:<18} {run.sent:>6} "
                f"{run.sent / run.wall:>7.0f} "
                f"{statistics.median(run.latencies):>9.1f} "
                f"{_p95(run.latencies):>7.1f} {sum(run.errors.values()):>6}"
            )
        for run in self.submits:
            if run.first_error:
                print(f"  first error, {run.threads} threads, {run.variant}:")
                print(f"    {run.first_error[:300]}")

        print("\nClose of round (services.round_results_compute, own process)\n")
        header = f"{'':<32} {'seconds':>8} {'peak MB':>8}"
        print(header)
        print("-" * len(header))
        compute, baseline = self.close["compute"], self.close["baseline"]
        print(
            f"{'results of ' + format(answers, ',') + ' answers':<32} "
            f"{compute.seconds:>8.1f} {compute.peak_mb:>8.0f}"
        )
        print(
            f"{'(a process only starting Django)':<32} {'':>8} {baseline.peak_mb:>8.0f}"
        )
        if compute.error:
            print(f"  failed: {compute.error}")

        print(
            f"\nPages, signed in as the organization department ({args.repeat} "
            "requests each)\n"
        )
        header = f"{'page':<11} {'median ms':>9} {'p95 ms':>7} {'queries':>7}  target"
        print(header)
        print("-" * len(header))
        for page in self.pages:
            target = ""
            if page.name == "ranking":
                limit = TARGETS["ranking"]
                verdict = "ok" if _p95(page.times) < limit else "MISS"
                target = f"p95 < {limit:.0f} ms: {verdict}"
            print(
                f"{page.name:<11} {statistics.median(page.times):>9.1f} "
                f"{_p95(page.times):>7.1f} {page.queries:>7}  {target}"
            )

        print("\nPDFs (assessments.reports, own process)\n")
        header = f"{'report':<10} {'seconds':>8} {'peak MB':>8} {'pages':>6}  target"
        print(header)
        print("-" * len(header))
        for name, limit in (("card", "< 1 s"), ("bulletin", "< 10 s, < 500 MB")):
            measured = self.pdfs[name]
            if measured.error:
                print(f"{name:<10} failed: {measured.error}")
                continue
            ok = measured.seconds < TARGETS[name] and (
                name != "bulletin" or measured.peak_mb < TARGETS["bulletin_mb"]
            )
            print(
                f"{name:<10} {measured.seconds:>8.2f} {measured.peak_mb:>8.0f} "
                f"{measured.result['pages']:>6}  {limit}: "
                f"{'ok' if ok else 'MISS'}"
            )
        card = self.pdfs["card"]
        if not card.error:
            print(
                f"  card: {card.result['first_seconds']:.2f} s as the first report "
                "of a fresh process (loading the fonts and the stylesheet), "
                f"{card.seconds:.2f} s for the next one in that process"
            )


if __name__ == "__main__":
    main()
