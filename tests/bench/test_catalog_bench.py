"""The catalog benchmark keeps running against the code it measures."""

import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def test_the_catalog_benchmark_prints_its_table(bench_database):
    result = subprocess.run(
        [
            sys.executable,
            "bench/catalog.py",
            "--offerings",
            "200",
            "--departments",
            "10",
            "--repeat",
            "1",
            "--database-url",
            bench_database,
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    for case in ("0 facets", "1 facet", "3 facets", "upcoming"):
        assert any(line.startswith(case) and "catalog" in line for line in lines)
        assert any(line.startswith(case) and "naive peer" in line for line in lines)
