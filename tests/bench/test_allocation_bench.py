"""The allocation benchmark keeps running against the code it measures."""

import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def test_the_allocation_benchmark_prints_its_table():
    result = subprocess.run(
        [sys.executable, "bench/allocation.py", "--sizes", "district"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    mechanisms = {
        "welfare (OR-Tools)",
        "deferred acceptance",
        "FCFS",
        "RSD",
        "NetworkX",
    }
    rows = {
        line[:20].strip(): line.split()
        for line in result.stdout.splitlines()
        if line[:20].strip() in mechanisms and "%" in line
    }
    assert set(rows) == mechanisms
    # The optimum is the exact peer's, and no session is over capacity.
    assert rows["welfare (OR-Tools)"][-1] == "yes"
    assert all(cells[-3] == "0" for cells in rows.values())
