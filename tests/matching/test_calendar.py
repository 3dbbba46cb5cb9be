"""Working days of the Chinese calendar, on the official 2026 arrangement as
the chinesecalendar package carries it:

- Spring Festival: 15–23 February off; Saturday 14 and Saturday 28 February
  worked (调休).
- National Day: 1–7 October off; Sunday 20 September and Saturday 10 October
  worked.
"""

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from matching.calendar import add_working_days, is_working_day, working_days_between


def test_the_national_day_week_is_off():
    assert not any(is_working_day(date(2026, 10, day)) for day in range(1, 8))
    assert is_working_day(date(2026, 9, 30))
    assert is_working_day(date(2026, 10, 8))


def test_the_make_up_days_around_national_day_are_worked():
    assert is_working_day(date(2026, 9, 20))  # a Sunday
    assert is_working_day(date(2026, 10, 10))  # a Saturday
    assert not is_working_day(date(2026, 10, 11))  # the Sunday after it


def test_the_spring_festival_is_off_and_its_saturdays_are_worked():
    assert not any(is_working_day(date(2026, 2, day)) for day in range(15, 24))
    assert is_working_day(date(2026, 2, 14))  # Saturday before
    assert is_working_day(date(2026, 2, 28))  # Saturday after
    assert is_working_day(date(2026, 2, 24))


def test_an_ordinary_weekend_is_off():
    assert not is_working_day(date(2026, 6, 6))
    assert not is_working_day(date(2026, 6, 7))
    assert is_working_day(date(2026, 6, 8))


def test_a_year_the_package_does_not_know_falls_back_to_monday_to_friday():
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2099, 1, 1))
    # 2099-01-01 is a Thursday: a holiday in any real year, a working day here.
    assert is_working_day(date(2099, 1, 1))
    assert not is_working_day(date(2099, 1, 3))
    assert add_working_days(date(2099, 1, 2), 1) == date(2099, 1, 5)


def test_the_day_something_happens_does_not_count():
    placed = datetime(2026, 6, 3, 9, 0)  # Wednesday
    assert working_days_between(placed, datetime(2026, 6, 3, 18, 0)) == 0
    assert working_days_between(placed, datetime(2026, 6, 4, 23, 59)) == 0
    assert working_days_between(placed, datetime(2026, 6, 5, 0, 1)) == 1
    assert working_days_between(placed, datetime(2026, 6, 6, 8, 0)) == 2
    # The weekend adds nothing; Monday's end is the third.
    assert working_days_between(placed, datetime(2026, 6, 8, 12, 0)) == 2
    assert working_days_between(placed, datetime(2026, 6, 9, 0, 0)) == 3


def test_working_days_across_national_day():
    placed = datetime(2026, 9, 30, 10, 0)
    assert working_days_between(placed, datetime(2026, 10, 8, 12, 0)) == 0
    assert working_days_between(placed, datetime(2026, 10, 10, 12, 0)) == 2
    assert working_days_between(placed, datetime(2026, 10, 11, 0, 0)) == 3
    assert working_days_between(placed, datetime(2026, 10, 12, 9, 0)) == 3


def test_nothing_has_passed_backwards():
    assert working_days_between(datetime(2026, 6, 9), datetime(2026, 6, 1)) == 0


def test_adding_working_days_skips_the_holiday_and_counts_the_make_up_day():
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 10), 1) == date(2026, 10, 12)
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_adding_backwards_and_adding_nothing():
    assert add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert add_working_days(date(2026, 10, 12), -3) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_adding_and_counting_agree():
    # Waited at least n days  <=>  placed before the n-th working day back.
    today = date(2026, 10, 12)
    for n in range(1, 6):
        cutoff = add_working_days(today, -n)
        day = date(2026, 9, 15)
        while day < today:
            waited = working_days_between(day, today)
            assert (waited >= n) == (day < cutoff), (n, day)
            day += timedelta(days=1)
