"""The need routing benchmark keeps running against the code it measures."""

import re
import subprocess
import sys

import pytest
from django.conf import settings

from bench.routing import Classified, split, tune
from bench.routing_needs import LabelledNeed, labelled_needs
from matching.recommend import CLASSIFIER, Signals

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


def test_tuning_never_reads_the_measured_half():
    past, measured = split(labelled_needs(), 0)
    posted, tuned_on = split(past, 0)
    assert posted and tuned_on
    assert set(posted) | set(tuned_on) == set(past)
    assert not (set(posted) | set(tuned_on)) & set(measured)


def test_tuning_ranks_the_weightings_best_first_beside_the_portals():
    need = LabelledNeed("普陀区水务局", "防汛防台", "路口积水", "")
    # The duties name the department; the community's category names another.
    signals = [
        Signals(department_id=1, duty=0.3),
        Signals(department_id=2, same_category=1, family_affinity=1.0),
    ]
    scored = tune([Classified(need, expected=1, signals=signals, seconds=0.0)])
    (portal, portal_tally), *grid = scored
    assert portal == CLASSIFIER and portal_tally.ranks == [1]
    assert len(grid) == 540
    top1 = [tally.share(1) for _weights, tally in grid]
    assert top1 == sorted(top1, reverse=True)
    # Duties at 30 (9 points) lose to the category at 4.5 with family at 5.
    assert (grid[-1][0].duty, grid[-1][1].ranks) == (30.0, [2])
