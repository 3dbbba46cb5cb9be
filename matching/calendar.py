"""Working days of the Chinese calendar: weekends, public holidays and the
调休 make-up days on which a weekend day is worked instead.

Pure Python, no Django: the dates come from the maintained ``chinesecalendar``
package (import name ``chinese_calendar``), which carries each year's official
holiday arrangement once the State Council has published it (usually in
November for the next year). For a year the installed package does not know
yet, every function here falls back to Monday to Friday: holidays of that
year are then missed until the package is upgraded (``pip install -U
chinesecalendar`` within the range pinned in ``pyproject.toml``).

Periods follow the Civil Code (民法典 art. 201): the day something happens is
not counted, the period starts on the next day. So an order placed on the
last working day before National Day has waited one working day only when
the first working day after the holiday is over.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

__all__ = ["add_working_days", "is_working_day", "working_days_between"]


def is_working_day(day: date) -> bool:
    """Whether ``day`` is worked: a weekday that is no public holiday, or a
    weekend day made a working day by 调休. Outside the years the installed
    package knows, Monday to Friday."""
    if isinstance(day, datetime):
        day = day.date()
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The package raises for years it has no official arrangement for.
        return day.weekday() < 5


def working_days_between(start: datetime | date, end: datetime | date) -> int:
    """How many whole working days have passed from ``start`` to ``end``.

    Only the dates count (give both in the same, local, time zone): the
    working days after ``start``'s day and before ``end``'s day. Something
    that happened on Wednesday has waited one working day on Friday, and two
    from Saturday on, whatever the hours. Zero when ``end`` is not later.
    """
    first = _as_date(start) + timedelta(days=1)
    last = _as_date(end) - timedelta(days=1)
    count = 0
    day = first
    while day <= last:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


def add_working_days(day: datetime | date, n: int) -> date:
    """The ``n``-th working day after ``day`` (``day`` itself not counted);
    before it when ``n`` is negative; ``day``'s date when ``n`` is zero."""
    current = _as_date(day)
    step = timedelta(days=1 if n > 0 else -1)
    remaining = abs(n)
    while remaining:
        current += step
        remaining -= is_working_day(current)
    return current


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value
