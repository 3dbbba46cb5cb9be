"""Time ``manage.py import_units`` on the national org tree, SQLite and PostgreSQL.

For each engine the script creates a fresh database, runs ``manage.py migrate``
and then, each in its own process, ``manage.py import_units FILE --no-progress``
twice: the first import creates every region, the re-import of the same file
updates every region. For each import it measures the wall time and the peak
resident memory of that process alone (``os.wait4``), checks the database
(region count, the ImportRun's created/updated counts) and prints a table.
With ``--repeat N`` each engine gets N fresh databases and the table shows the
median and p95 of the times and the largest peak.

Targets (from the issue): the national tree imports in under 5 minutes on
SQLite, with peak memory under 1.5 GB on every engine.

Run from the project root (PostgreSQL is skipped when it cannot be reached)::

    .venv/bin/python bench/import_units.py                    # national, ~713,000 rows
    .venv/bin/python bench/import_units.py --scale 0.01       # quick run, ~7,000 rows
    .venv/bin/python bench/import_units.py --file regions.csv --engines sqlite
    .venv/bin/python bench/import_units.py --repeat 3 --pg-url postgres://u@host:5432

Only the project's virtualenv is needed (psycopg talks to PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
MANAGE = PROJECT_DIR / "manage.py"
sys.path.insert(0, str(BENCH_DIR))

from national_tree import write_tree  # noqa: E402

TARGET_SECONDS = {"SQLite": 5 * 60}
TARGET_PEAK_MB = 1.5 * 1024
RUNS = ("first import", "re-import")


class BenchError(Exception):
    """A step failed; the message says which and shows its output."""


@dataclass
class Measurement:
    seconds: float
    peak_mb: float


@dataclass
class Result:
    engine: str
    run: str
    rows: int
    samples: list[Measurement] = field(default_factory=list)

    @property
    def seconds(self) -> list[float]:
        return [sample.seconds for sample in self.samples]

    @property
    def median_seconds(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(sample.peak_mb for sample in self.samples)


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


# ---------------------------------------------------------------- running commands


def run_measured(args: list[str], env: dict[str, str], log: Path) -> Measurement:
    """Run one command in its own process and return its wall time and peak RSS.

    ``os.wait4`` reports the resource usage of that one child, so each
    measurement's peak is its own, not the largest of every child so far.
    """
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            args, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise BenchError(f"{' '.join(args[1:])} exited {process.returncode}:\n{tail}")
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    divisor = 1024 * 1024 if sys.platform == "darwin" else 1024
    return Measurement(seconds, usage.ru_maxrss / divisor)


def manage(*args: str) -> list[str]:
    return [sys.executable, str(MANAGE), *args]


# ---------------------------------------------------------------- engines


@dataclass
class Database:
    """A fresh, empty database of one engine and a way to count what was imported."""

    url: str
    count_regions: Callable[[], int]
    last_import: Callable[[], tuple[int, dict[str, int], dict[str, int]]]


LAST_IMPORT = (
    "SELECT rows, created, updated FROM portal_importrun ORDER BY id DESC LIMIT 1"
)


def _decode(value: Any) -> dict[str, int]:
    return json.loads(value) if isinstance(value, str) else dict(value)


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[Database]:
    path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"

    def query(statement: str) -> tuple[Any, ...]:
        with sqlite3.connect(path) as connection:
            return connection.execute(statement).fetchone()

    def last_import() -> tuple[int, dict[str, int], dict[str, int]]:
        rows, created, updated = query(LAST_IMPORT)
        return rows, _decode(created), _decode(updated)

    try:
        yield Database(
            f"sqlite:///{path}",
            lambda: query("SELECT count(*) FROM portal_region")[0],
            last_import,
        )
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def postgres_reachable(server_url: str) -> str | None:
    """None when a database can be created on the server, else why not."""
    try:
        with psycopg.connect(f"{server_url}/postgres", connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]
    return None


@contextmanager
def postgres_database(server_url: str) -> Iterator[Database]:
    name = f"diandan_bench_{uuid.uuid4().hex[:8]}"
    admin_url = f"{server_url}/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"{server_url}/{name}"

    def query(statement: str) -> tuple[Any, ...]:
        with psycopg.connect(url) as conn:
            row = conn.execute(statement).fetchone()
        if row is None:
            raise BenchError(f"no result from {statement}")
        return tuple(row)

    def last_import() -> tuple[int, dict[str, int], dict[str, int]]:
        rows, created, updated = query(LAST_IMPORT)
        return rows, _decode(created), _decode(updated)

    try:
        yield Database(
            url, lambda: query("SELECT count(*) FROM portal_region")[0], last_import
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(name)
                )
            )


# ---------------------------------------------------------------- the benchmark


def check_import(database: Database, run: str, rows: int) -> None:
    """The import wrote every row: created them all, then updated them all."""
    count = database.count_regions()
    recorded, created, updated = database.last_import()
    created = {kind: n for kind, n in created.items() if n}
    updated = {kind: n for kind, n in updated.items() if n}
    every = {"regions": rows}
    expected = (every, {}) if run == RUNS[0] else ({}, every)
    if count != rows or recorded != rows or (created, updated) != expected:
        raise BenchError(
            f"{run}: {count} regions in the database, import recorded "
            f"rows={recorded} created={created} updated={updated}; expected {rows}"
        )


def bench_engine(
    engine: str,
    new_database: Callable[[], Any],
    csv_file: Path,
    rows: int,
    repeat: int,
    workdir: Path,
    settings: str,
) -> list[Result]:
    results = {run: Result(engine, run, rows) for run in RUNS}
    for attempt in range(1, repeat + 1):
        with new_database() as database:
            env = {
                **os.environ,
                "DATABASE_URL": database.url,
                "DIANDAN_VAR_DIR": str(workdir / "var"),
                "DJANGO_SETTINGS_MODULE": settings,
                "PYTHONUNBUFFERED": "1",
            }
            log = workdir / f"{engine.lower()}-{attempt}"
            migrate = run_measured(
                manage("migrate", "--no-input", "-v", "0"),
                env,
                log.with_suffix(".migrate.log"),
            )
            progress(f"{engine} #{attempt}: migrated in {migrate.seconds:.1f} s")
            for index, run in enumerate(RUNS):
                measurement = run_measured(
                    manage("import_units", str(csv_file), "--no-progress"),
                    env,
                    log.with_suffix(f".import{index + 1}.log"),
                )
                check_import(database, run, rows)
                results[run].samples.append(measurement)
                progress(
                    f"{engine} #{attempt}: {run} {measurement.seconds:.1f} s, "
                    f"peak {measurement.peak_mb:.0f} MB"
                )
    return list(results.values())


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- reporting


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with right-aligned numbers."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if num else "-" * (w + 2)
        for w, num in zip(widths, numeric, strict=True)
    )
    return "\n".join([line(headers), rule + "|", *(line(r) for r in rows)])


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").isdigit()


def results_table(results: Sequence[Result], repeat: int) -> str:
    if repeat == 1:
        headers = ["engine", "run", "rows", "seconds", "rows/s", "peak MB"]
    else:
        headers = [
            "engine", "run", "rows", "seconds (median)", "seconds (p95)",
            "rows/s (median)", "peak MB (max)",
        ]  # fmt: skip
    rows = []
    for result in results:
        median = result.median_seconds
        cells = [result.engine, result.run, f"{result.rows:,}", f"{median:.1f}"]
        if repeat > 1:
            cells.append(f"{p95(result.seconds):.1f}")
        cells += [f"{result.rows / median:,.0f}", f"{result.peak_mb:.0f}"]
        rows.append(cells)
    return render_table(headers, rows)


def side_by_side(results: Sequence[Result]) -> str | None:
    """Seconds and peak MB per run with the engines as columns."""
    engines = list(dict.fromkeys(result.engine for result in results))
    if len(engines) < 2:
        return None
    by_key = {(r.engine, r.run): r for r in results}
    headers = ["run"]
    for engine in engines:
        headers += [f"{engine} s", f"{engine} MB"]
    rows = []
    for run in RUNS:
        cells = [run]
        for engine in engines:
            result = by_key[(engine, run)]
            cells += [f"{result.median_seconds:.1f}", f"{result.peak_mb:.0f}"]
        rows.append(cells)
    return render_table(headers, rows)


def verdicts(results: Sequence[Result], full_scale: bool) -> list[str]:
    lines = []
    for result in results:
        limit = TARGET_SECONDS.get(result.engine)
        checks = [f"peak {result.peak_mb:.0f} MB < {TARGET_PEAK_MB:.0f} MB"]
        ok = result.peak_mb < TARGET_PEAK_MB
        if limit is not None:
            checks.append(f"{p95(result.seconds):.0f} s < {limit} s")
            ok &= p95(result.seconds) < limit
        mark = "ok  " if ok else "MISS"
        lines.append(f"{mark} {result.engine} {result.run}: {', '.join(checks)}")
    if not full_scale:
        lines.append("(not the national size: the targets apply to --scale 1)")
    return lines


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--file", type=Path, help="import this CSV instead of generating one"
    )
    source.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="size of the generated tree (default 1.0)",
    )
    parser.add_argument("--seed", type=int, default=2024, help="generator seed")
    parser.add_argument(
        "--engines",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without database name; a database is created and dropped",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="fresh databases per engine"
    )
    parser.add_argument(
        "--settings",
        default="portal.settings.dev",
        help="DJANGO_SETTINGS_MODULE for manage.py",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the CSV, logs and SQLite files here (default: a temp dir)",
    )
    args = parser.parse_args(argv)
    args.engines = [e.strip().lower() for e in args.engines.split(",") if e.strip()]
    unknown = set(args.engines) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def count_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return max(
            sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            - 1,
            0,
        )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="diandan-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        if args.file:
            csv_file, rows = args.file.resolve(), count_rows(args.file)
        else:
            csv_file = workdir / f"national-{args.scale:g}-{args.seed}.csv"
            started = time.perf_counter()
            rows = write_tree(csv_file, scale=args.scale, seed=args.seed).rows
            progress(
                f"generated {rows:,} rows in {time.perf_counter() - started:.1f} s: {csv_file}"
            )
        engines: list[tuple[str, Callable[[], Any]]] = []
        if "sqlite" in args.engines:
            engines.append(("SQLite", lambda: sqlite_database(workdir)))
        if "postgresql" in args.engines:
            reason = postgres_reachable(args.pg_url)
            if reason is None:
                engines.append(("PostgreSQL", lambda: postgres_database(args.pg_url)))
            else:
                progress(
                    f"PostgreSQL skipped: {args.pg_url} is not reachable ({reason})"
                )
        results: list[Result] = []
        for engine, new_database in engines:
            results += bench_engine(
                engine,
                new_database,
                csv_file,
                rows,
                args.repeat,
                workdir,
                args.settings,
            )
    except BenchError as error:
        progress(f"benchmark failed: {error}")
        return 1
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if not results:
        progress("nothing was measured")
        return 1
    print(f"\nimport_units: {csv_file.name}, {rows:,} rows, settings {args.settings}\n")
    print(results_table(results, args.repeat))
    if table := side_by_side(results):
        print(f"\n{table}")
    print()
    print(
        "\n".join(
            verdicts(results, full_scale=args.file is not None or args.scale == 1)
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
