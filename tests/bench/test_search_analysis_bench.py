"""The analysis benchmark keeps running against the code it measures."""

import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def test_the_analysis_benchmark_prints_its_table():
    result = subprocess.run(
        [sys.executable, "bench/search_analysis.py", "--repeat", "20"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # jieba says nothing on stderr: its loading messages are silenced.
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    for case in ("index_tokens body", "jieba's own cut (peer)", "query_terms"):
        assert any(line.startswith(case) for line in lines)
