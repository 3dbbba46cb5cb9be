"""The reverse evaluation benchmark keeps running against the code it measures."""

import re
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def test_the_assessments_benchmark_prints_its_tables(bench_database):
    result = subprocess.run(
        [
            sys.executable,
            "bench/assessments.py",
            "--communities",
            "60",
            "--departments",
            "4",
            "--questions",
            "10",
            "--submissions",
            "8",
            "--threads",
            "1,2",
            "--repeat",
            "2",
            "--database-url",
            bench_database,
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    # 60 communities and 3 street offices × 4 departments, all answered.
    assert "252 participations" in out
    assert "252 responses, 2,520 answers" in out
    rows = {
        (line.split()[0], line[9:27].strip()): line.split()
        for line in out.splitlines()
        if line[9:27].strip() in ("evaluation_submit", "naive peer")
    }
    assert set(rows) == {
        (threads, variant)
        for threads in ("1", "2")
        for variant in ("evaluation_submit", "naive peer")
    }
    for cells in rows.values():
        sent, errors = int(cells[-5]), int(cells[-1])
        assert (sent, errors) == (8, 0)
    computed = re.search(r"results of 2,520 answers\s+([\d.]+)\s+(\d+)", out)
    assert computed and float(computed.group(2)) > 0
    for page in ("ranking", "department"):
        assert re.search(rf"^{page}\s+[\d.]+\s+[\d.]+\s+\d+", out, re.M)
    for report in ("card", "bulletin"):
        assert re.search(rf"^{report}\s+[\d.]+\s+\d+\s+\d+", out, re.M), out
