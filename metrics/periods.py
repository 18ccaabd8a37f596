"""The period a figure covers, and the selection (program, period, team, area) it is computed for.

A period is a run of whole local days (the program's time zone, settings.TIME_ZONE): it starts at
local midnight of its first day and ends, exclusive, at local midnight after its last day.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from crt.validators import EARLIEST_CALL

MAX_DAYS = 5 * 366  # a longer custom range is refused: nobody reports on more, and it only costs


@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date  # inclusive
    label: str

    def __post_init__(self):
        if self.last_day < self.first_day:
            raise ValueError("A period cannot end before it starts.")
        if (self.last_day - self.first_day).days >= MAX_DAYS:
            raise ValueError("A period can be at most five years long.")

    @property
    def start(self) -> datetime:
        return _local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return _local_midnight(self.last_day + timedelta(days=1))

    @property
    def slug(self) -> str:
        return f"{self.first_day:%Y-%m-%d}_{self.last_day:%Y-%m-%d}"


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def month(year: int, number: int) -> Period:
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    return Period(first, following - timedelta(days=1), f"{first:%B %Y}")


def quarter(year: int, number: int) -> Period:
    first_month = 3 * (number - 1) + 1
    return Period(month(year, first_month).first_day, month(year, first_month + 2).last_day, f"Q{number} {year}")


def whole_year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year))


def custom(first_day: date, last_day: date) -> Period:
    return Period(first_day, last_day, f"{first_day.day} {first_day:%b %Y} to {last_day.day} {last_day:%b %Y}")


def months_before(today: date, count: int) -> Period:
    """The `count` whole calendar months before the month of `today`."""
    last = today.replace(day=1) - timedelta(days=1)
    year, number = last.year, last.month - count + 1
    while number < 1:
        year, number = year - 1, number + 12
    label = f"{last:%B %Y}" if count == 1 else f"{count} months to {last:%B %Y}"
    return Period(date(year, number, 1), last, label)


PRESETS = {
    "last-month": "Last month",
    "this-month": "This month so far",
    "last-quarter": "Last quarter",
    "this-quarter": "This quarter so far",
    "last-12-months": "Last 12 whole months",
    "this-year": "This year so far",
}


def preset(name: str, today: date) -> Period:
    q = (today.month - 1) // 3 + 1
    if name == "this-month":
        return month(today.year, today.month)
    if name == "last-month":
        return months_before(today, 1)
    if name == "this-quarter":
        return quarter(today.year, q)
    if name == "last-quarter":
        return quarter(today.year - (q == 1), (q - 2) % 4 + 1)
    if name == "last-12-months":
        return months_before(today, 12)
    if name == "this-year":
        return whole_year(today.year)
    raise ValueError(f"Unknown period {name!r}.")


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


def parse(text: str, today: date) -> Period:
    """A preset name, a month (2025-03), a quarter (2025-Q1) or a year (2025)."""
    text = text.strip()
    if text in PRESETS:
        return preset(text, today)
    if m := _MONTH.match(text):
        if not 1 <= int(m[2]) <= 12:
            raise ValueError(f"{text!r} is not a month.")
        return month(int(m[1]), int(m[2]))
    if m := _QUARTER.match(text):
        return quarter(int(m[1]), int(m[2]))
    if m := _YEAR.match(text):
        return whole_year(int(m[1]))
    raise ValueError(f"{text!r} is not a period: use a month (2025-03), a quarter (2025-Q1) or a year (2025).")


def parse_month(text: str) -> Period:
    """Exactly a month, YYYY-MM."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise ValueError(f"{text!r} is not a month: use YYYY-MM.")
    try:
        return month(int(m[1]), int(m[2]))
    except ValueError:  # December 9999: the month after it is past the calendar's end
        raise ValueError(f"{text!r} is not a month we can report: check the year.") from None


def check_years(period: Period, today: date) -> None:
    """A mistyped year is an error: no call we hold is older than 2000 (crt.validators.EARLIEST_CALL),
    and nothing is planned past next year."""
    if period.first_day < EARLIEST_CALL.date() or period.last_day.year > today.year + 1:
        raise ValueError(f"Choose a period between 2000 and {today.year + 1}: check the year.")


@dataclass(frozen=True)
class Selection:
    """What a set of figures is computed for. Built only by metrics.access from a user who may see
    the program's metrics, or by the report command for a named program."""

    program_id: int
    period: Period
    as_of: datetime = field(default_factory=timezone.now)
    team: str = ""
    area: str = ""

    @property
    def start(self) -> datetime:
        return self.period.start

    @property
    def end(self) -> datetime:
        return self.period.end

    @property
    def point(self) -> datetime:
        """The instant of point-in-time measures (open caseload): the period's end, or now if sooner."""
        return min(self.end, self.as_of)
