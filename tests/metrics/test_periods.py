"""Periods are whole local days; the picker takes presets, months, quarters, years and date ranges."""

from datetime import UTC, date, datetime

import pytest

from metrics import periods


def test_a_month_runs_from_local_midnight_to_local_midnight():
    march = periods.month(2025, 3)

    assert (march.first_day, march.last_day, march.label) == (date(2025, 3, 1), date(2025, 3, 31), "March 2025")
    assert march.start == datetime(2025, 3, 1, 6, 0, tzinfo=UTC)  # CST
    assert march.end == datetime(2025, 4, 1, 5, 0, tzinfo=UTC)  # CDT: the clocks moved on 9 March


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
        ("2024-12", date(2024, 12, 1), date(2024, 12, 31)),
        ("2025-Q1", date(2025, 1, 1), date(2025, 3, 31)),
        ("2025-q4", date(2025, 10, 1), date(2025, 12, 31)),
        ("2024", date(2024, 1, 1), date(2024, 12, 31)),
        ("last-month", date(2025, 4, 1), date(2025, 4, 30)),
        ("this-month", date(2025, 5, 1), date(2025, 5, 31)),
        ("last-quarter", date(2025, 1, 1), date(2025, 3, 31)),
        ("this-quarter", date(2025, 4, 1), date(2025, 6, 30)),
        ("last-12-months", date(2024, 5, 1), date(2025, 4, 30)),
        ("this-year", date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_periods_are_parsed_from_the_picker(text, first, last):
    period = periods.parse(text, today=date(2025, 5, 14))

    assert (period.first_day, period.last_day) == (first, last)


def test_presets_are_labelled_in_words():
    today = date(2025, 5, 14)

    assert periods.parse("last-month", today).label == "April 2025"
    assert periods.parse("last-12-months", today).label == "12 months to April 2025"
    assert periods.parse("2025-Q2", today).label == "Q2 2025"


def test_last_quarter_in_january_is_the_previous_years_fourth():
    period = periods.parse("last-quarter", today=date(2025, 1, 3))

    assert (period.first_day, period.last_day, period.label) == (date(2024, 10, 1), date(2024, 12, 31), "Q4 2024")


@pytest.mark.parametrize("text", ["2025-13", "2025-00", "25-03", "March", "2025-Q5", ""])
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError, match="not a"):
        periods.parse(text, today=date(2025, 5, 14))


def test_a_custom_period_must_be_ordered_and_at_most_five_years():
    assert periods.custom(date(2025, 3, 3), date(2025, 3, 3)).label == "3 Mar 2025 to 3 Mar 2025"
    with pytest.raises(ValueError, match="cannot end before it starts"):
        periods.custom(date(2025, 3, 3), date(2025, 3, 2))
    with pytest.raises(ValueError, match="at most five years"):
        periods.custom(date(2015, 1, 1), date(2025, 1, 1))
