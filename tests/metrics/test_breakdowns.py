"""Breakdowns by person: race/ethnicity, age band at the time of the call, language, area."""

from datetime import date

import pytest

from cases.models import Encounter
from metrics import sql
from metrics.compute import compute
from metrics.sources import DIMENSIONS
from tests import factories as f
from tests.metrics.conftest import at, by, call, selection_for

pytestmark = pytest.mark.usefixtures("no_suppression")


def person(program, race, born, language, area):
    return f.IndividualFactory(
        program=program, race_ethnicity=race, date_of_birth=born, primary_language=language, area=area
    )


@pytest.fixture
def calls(program):
    maria = person(program, "hispanic", date(1990, 6, 1), "es", "Southside")
    theo = person(program, "white", date(2007, 3, 10), "en", "Midtown")
    kim = person(program, "declined", None, "vi", "")
    call(program, at(10), person=maria)  # 34
    call(program, at(9, 23, 30), person=theo)  # the evening before his 18th birthday (local time)
    call(program, at(10, 0, 30), person=theo)  # half an hour into it
    call(program, at(12), person=kim)
    call(program, at(12), person=None, disposition=Encounter.Disposition.UNABLE_TO_LOCATE)


def calls_by(program, grouping):
    return {label: figures["calls"] for label, figures in by(program, "call_volume", grouping).items()}


def test_calls_by_race_and_ethnicity_in_list_order_unknown_last(calls, program):
    assert list(calls_by(program, "race_ethnicity").items()) == [
        ("Hispanic or Latino", 1),
        ("White", 2),
        ("Declined to answer", 1),
        ("Unknown", 1),  # nobody identified
    ]


def test_age_band_is_the_age_on_the_local_day_of_the_call(calls, program):
    assert list(calls_by(program, "age_band").items()) == [
        ("Under 18", 1),
        ("18 to 24", 1),
        ("25 to 34", 1),
        ("Unknown", 2),  # no date of birth; nobody identified
    ]


def test_calls_by_language_and_by_area_where_the_person_lives(calls, program):
    assert calls_by(program, "language") == {"English": 2, "Spanish": 1, "Vietnamese": 1, "Unknown": 1}
    assert calls_by(program, "area") == {"Midtown": 2, "Southside": 1, "Not recorded": 2}


def test_every_measure_is_broken_down_by_every_dimension_and_groups_add_up_to_the_total(calls, program):
    results = compute(selection_for(program))

    for (measure, grouping), table in results.tables.items():
        if grouping not in DIMENSIONS:
            continue
        counts = [o.key for o in table.measure.outputs if o.kind == "count"]
        whole = results.total(measure).values
        for key in counts:
            assert sum(row.values[key] for row in table.rows) == whole[key], (measure, grouping, key)
    assert {g for (_, g) in results.tables} >= set(DIMENSIONS)


def test_a_breakdown_never_holds_personal_data(calls, program):
    results = compute(selection_for(program))

    for table in results.tables.values():
        for row in table.rows:
            assert all(isinstance(v, int | float) or v is None for v in row.values.values())
            assert "Theo" not in row.label and "1990" not in row.label


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(2007, 3, 11), "under_18"),  # 18 tomorrow
        (date(2007, 3, 10), "18_24"),  # 18 today
        (date(2000, 3, 11), "18_24"),
        (date(2000, 3, 10), "25_34"),
        (date(1960, 3, 11), "55_64"),
        (date(1960, 3, 10), "65_over"),
        (date(1930, 1, 1), "65_over"),
        (date(2025, 3, 11), "unknown"),  # born after the call: a data-entry error
        (None, "unknown"),
    ],
)
def test_the_native_and_the_portable_age_band_agree_on_every_edge(program, born, band):
    encounter = call(program, at(10, 12), person=person(program, "white", born, "en", ""))

    found = Encounter.objects.filter(pk=encounter.pk).annotate(
        native=sql.age_band("individual__date_of_birth", "call_received_at"),
        portable=sql._portable_age_band("individual__date_of_birth", "call_received_at"),
    )

    assert found.values_list("native", "portable").get() == (band, band)
