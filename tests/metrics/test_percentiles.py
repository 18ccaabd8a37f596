"""Medians and 90th percentiles: PostgreSQL's percentile_cont, and the portable path elsewhere."""

import pytest

from metrics.compute import compute, percentile_cont
from tests import factories as f
from tests.metrics.conftest import call, selection_for


def test_percentile_cont_interpolates_between_the_nearest_values():
    assert percentile_cont([7.0], 0.5) == 7.0
    assert percentile_cont([1.0, 2.0], 0.5) == 1.5
    assert percentile_cont([4.0, 8.0, 10.0, 12.0, 30.0], 0.5) == 10.0
    assert percentile_cont([4.0, 8.0, 10.0, 12.0, 30.0], 0.9) == pytest.approx(22.8)
    assert percentile_cont([0.0, 10.0, 20.0, 30.0], 0.9) == pytest.approx(27.0)


@pytest.fixture
def timed_calls(program, settings):
    settings.METRICS_MIN_CELL_SIZE = 1
    for race, responses in (("white", [3, 5, 11, 40]), ("black", [6, 9]), ("asian", [12])):
        for response in responses:
            call(program, response=response, person=f.IndividualFactory(program=program, race_ethnicity=race))


def medians(program, **kwargs):
    results = compute(selection_for(program), ["response_time"], groupings=["race_ethnicity", "month"], **kwargs)
    return {
        (table.grouping.key, row.label): (row.values["response_median"], row.values["response_p90"])
        for table in results.tables_of("response_time")
        for row in table.rows
    }


EXPECTED = {
    ("all", "All"): (9.0, 23.2),  # 3 5 6 9 11 12 40: median 9; p90 at 0.9 x 6 = 5.4: 12 + 0.4 x 28
    ("month", "March 2025"): (9.0, 23.2),
    ("race_ethnicity", "Asian"): (12.0, 12.0),
    ("race_ethnicity", "Black or African American"): (7.5, 8.7),
    ("race_ethnicity", "White"): (8.0, 31.3),  # 3 5 11 40: median 8; p90 at 2.7: 11 + 0.7 x 29
}


def test_the_portable_path_matches_hand_computed_percentiles(timed_calls, program):
    assert medians(program, use_sql_percentiles=False) == EXPECTED


@pytest.mark.postgres
def test_postgresql_percentile_cont_matches_hand_computed_percentiles(timed_calls, program):
    assert medians(program, use_sql_percentiles=True) == EXPECTED
