"""The booking benchmark keeps running against the code it measures."""

import re
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.database_independent


def test_the_booking_benchmark_prints_its_table():
    result = subprocess.run(
        [
            sys.executable,
            "bench/booking.py",
            "--threads",
            "2,4",
            "--sessions",
            "4",
            "--seats",
            "2",
            "--orders",
            "12",
            "--offerings",
            "2",
            "--rounds",
            "1",
        ],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    variants = ("order_place", "naive read-check-save", "select_for_update")
    rows = {
        (line.split()[0], line[9:31].strip()): line.split()
        for line in result.stdout.splitlines()
        if line[9:31].strip() in variants
    }
    assert set(rows) == {
        (threads, variant) for threads in ("2", "4") for variant in variants
    }
    # The project's path: a seat taken for every order told it has one, no
    # session overbooked, no errors.
    for threads in ("2", "4"):
        cells = rows[threads, "order_place"]
        seated, taken, lost, overbooked, *errors = (int(c) for c in cells[6:-1])
        assert 0 < seated == taken <= 4 * 2
        assert (lost, overbooked, errors) == (0, 0, [0, 0, 0, 0])
    # The verdict pairs each round's run with the best correct peer's.
    for threads in ("2", "4"):
        assert re.search(
            rf"^{threads} threads: order_place is correct; throughput against "
            r"the best correct peer \((naive read-check-save|select_for_update)\):\n"
            r" +\d+\.\d\d× median of 1 paired rounds \(min–max "
            r"\d+\.\d\d–\d+\.\d\d, at least as fast in [01] of 1\), "
            r"\d+\.\d\d× pooled\n +per round: \d+\.\d\d$",
            result.stdout,
            re.MULTILINE,
        ), result.stdout
