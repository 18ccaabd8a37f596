"""Small cells in breakdowns by person are suppressed; totals and splits are not."""

import pytest

from metrics.compute import Row, compute
from metrics.measures import Output
from metrics.suppression import DEFAULT_MIN_CELL_SIZE, min_cell_size, suppress
from tests import factories as f
from tests.metrics.conftest import call, selection_for

CALLS = Output("calls", "Calls", "count")
MET = Output("met", "Met", "count")
STABLE = Output("stable", "Stabilised", "count")
RATE = Output("rate", "Rate", "percent", ("stable", "met"))
MEDIAN = Output("time_median", "Median", "minutes", ("met",))


def rows(*values):
    return [Row(key=k, label=str(k), values=dict(v)) for k, v in enumerate(values)]


def hidden(table):
    return [sorted(row.suppressed) for row in table]


def test_counts_from_one_to_under_the_threshold_are_suppressed_and_zero_is_not():
    table = rows({"calls": 0}, {"calls": 10}, {"calls": 11}, {"calls": 25}, {"calls": 4})

    suppress(table, [CALLS], 11)

    assert [row.values["calls"] for row in table] == [0, None, 11, 25, None]
    assert hidden(table) == [[], ["calls"], [], [], ["calls"]]  # two hidden: neither can be recovered


def test_a_lone_suppressed_cell_takes_the_next_smallest_cell_with_it():
    table = rows({"calls": 40}, {"calls": 3}, {"calls": 12}, {"calls": 0})

    suppress(table, [CALLS], 11)

    assert hidden(table) == [[], ["calls"], ["calls"], []]  # 12 could be recovered as total - 40 - 0
    assert table[0].values["calls"] == 40


def test_a_rate_whose_complement_is_small_hides_its_numerator_and_itself():
    table = rows(
        {"met": 50, "stable": 48, "rate": 96.0, "time_median": 12.0},
        {"met": 60, "stable": 30, "rate": 50.0, "time_median": 14.0},
        {"met": 70, "stable": 35, "rate": 50.0, "time_median": 9.0},
    )

    suppress(table, [MET, STABLE, RATE, MEDIAN], 11)

    # "48 of 50" names the 2 who were not stabilised; the next smallest numerator (30) goes too.
    assert hidden(table) == [["rate", "stable"], ["rate", "stable"], []]
    assert table[0].values == {"met": 50, "stable": None, "rate": None, "time_median": 12.0}


def test_figures_computed_from_a_suppressed_count_are_suppressed():
    table = rows(
        {"met": 5, "stable": 0, "rate": 0.0, "time_median": 30.0},
        {"met": 0, "stable": 0, "rate": None, "time_median": None},
        {"met": 30, "stable": 15, "rate": 50.0, "time_median": 20.0},
        {"met": 40, "stable": 20, "rate": 50.0, "time_median": 10.0},
    )

    suppress(table, [MET, STABLE, RATE, MEDIAN], 11)

    assert table[0].values == {"met": None, "stable": 0, "rate": None, "time_median": None}
    assert table[2].values == {"met": None, "stable": 15, "rate": None, "time_median": None}  # complementary
    assert table[3].values == {"met": 40, "stable": 20, "rate": 50.0, "time_median": 10.0}


def test_the_threshold_is_eleven_unless_the_setting_says_otherwise(settings):
    del settings.METRICS_MIN_CELL_SIZE  # not set: the default
    assert min_cell_size() == DEFAULT_MIN_CELL_SIZE == 11

    settings.METRICS_MIN_CELL_SIZE = 5
    assert min_cell_size() == 5


@pytest.fixture
def calls_by_race(program):
    for race, count in (("white", 14), ("black", 12), ("asian", 3)):
        for _ in range(count):
            call(program, person=f.IndividualFactory(program=program, race_ethnicity=race), call_source="911")


def test_breakdowns_by_person_are_suppressed_but_totals_and_splits_are_not(calls_by_race, program, settings):
    settings.METRICS_MIN_CELL_SIZE = 11
    results = compute(selection_for(program), ["call_volume"], groupings=["race_ethnicity", "call_source"])

    by_race = {row.label: row for row in results.table("call_volume", "race_ethnicity").rows}
    assert by_race["Asian"].values["calls"] is None  # 3
    assert by_race["Black or African American"].values["calls"] is None  # 12: else Asian = 29 - 14 - 12
    assert by_race["White"].values["calls"] == 14
    assert results.total("call_volume").values["calls"] == 29
    assert [row.values["calls"] for row in results.table("call_volume", "call_source").rows] == [29]
    assert results.min_cell_size == 11


def test_a_lower_threshold_setting_shows_more(calls_by_race, program, settings):
    settings.METRICS_MIN_CELL_SIZE = 3
    table = compute(selection_for(program), ["call_volume"], groupings=["race_ethnicity"]).table(
        "call_volume", "race_ethnicity"
    )

    assert {row.label: row.values["calls"] for row in table.rows} == {
        "Asian": 3,
        "Black or African American": 12,
        "White": 14,
    }
