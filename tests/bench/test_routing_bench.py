"""The need routing benchmark keeps running against the code it measures."""

import re
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def run_bench(database: str, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "bench/routing.py", "--database-url", database, *arguments],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_routing_benchmark_prints_its_table(bench_database):
    out = run_bench(bench_database, "--per-department", "2")
    # Two needs of each of the 29 labelled departments: one past, one measured.
    assert re.search(r"^29 past needs posted, \d+ answered", out, re.MULTILINE), out
    rows = {
        line[:12].strip(): line[12:].split()
        for line in out.splitlines()
        if line[:12].strip()
        in (
            "classifier",
            "old scorer",
            "category",
            "family",
            "text",
            "duties",
            "past needs",
        )
    }
    assert len(rows) == 7, out
    for needs, top1, top3, unranked in rows.values():
        assert needs == "29"
        assert float(top1.rstrip("%")) <= float(top3.rstrip("%")) <= 100
        assert 0 <= int(unranked) <= 29
    assert re.search(
        r"^time per need: median \d+\.\d ms, p95 \d+\.\d ms$", out, re.MULTILINE
    )
    assert re.search(r"^target top-3 ≥ 90%: (ok|MISS) \(\d+\.\d%\)$", out, re.MULTILINE)


def test_tuning_reads_the_past_half_alone(bench_database):
    # Four needs of each department: two past, of which one is posted and
    # one tuned on; the two measured are never classified.
    out = run_bench(bench_database, "--per-department", "4", "--tune")
    assert re.search(r"^29 past needs posted, \d+ answered", out, re.MULTILINE), out
    assert re.search(r"; 29 needs measured$", out, re.MULTILINE), out
    rows = [line.split() for line in out.splitlines() if line.startswith("grid ")]
    assert len(rows) == 8, out
    top1 = [float(row[7].rstrip("%")) for row in rows]
    assert top1 == sorted(top1, reverse=True)
    assert re.search(r"^portal( +\d+(\.\d+)?){5}( +\d+\.\d%){2}$", out, re.MULTILINE)
    assert "(540 weightings tried on 29 needs)" in out
