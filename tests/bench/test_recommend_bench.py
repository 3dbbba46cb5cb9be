"""The recommendation benchmark keeps running against the code it measures."""

import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def test_the_recommendation_benchmark_prints_hit_rates_against_popularity():
    result = subprocess.run(
        [
            sys.executable,
            "bench/recommend.py",
            "--datasets",
            "city",
            "--districts",
            "1",
            "--streets",
            "2",
            "--communities",
            "4",
            "--offerings",
            "12",
            "--history",
            "2",
            "--users",
            "6",
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {
        tuple(line.split()[:2]): line.split()
        for line in result.stdout.splitlines()
        if line.startswith("city ")
    }
    assert set(rows) == {("city", "recommend"), ("city", "popularity")}
    for _dataset, _ranker, users, orderable, hit, mrr, median, p95 in rows.values():
        assert int(users) == 6
        assert 0 <= float(hit.rstrip("%")) <= float(orderable.rstrip("%")) <= 100
        assert 0 <= float(mrr) <= 1
        assert 0 <= float(median) <= float(p95)
