"""The search benchmark keeps running against the code it measures."""

import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def test_the_search_benchmark_prints_its_table(bench_database):
    result = subprocess.run(
        [
            sys.executable,
            "bench/search.py",
            "--offerings",
            "300",
            "--repeat",
            "1",
            "--queries",
            "8",
            "--database-url",
            bench_database,
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {
        line.split("  ")[0]: line.split()
        for line in result.stdout.splitlines()
        if line.startswith(("database engine ", "Wagtail search ", "icontains scan "))
    }
    assert set(rows) == {"database engine", "Wagtail search", "icontains scan"}
    # Every engine answered every query: a recall@10 between 0 and 1.
    for cells in rows.values():
        assert 0 <= float(cells[-3]) <= 1
