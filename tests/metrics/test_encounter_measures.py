"""Encounter measures against hand-computed fixtures, edge cases included."""

from datetime import date, timedelta

import pytest

from cases.models import Contact, Encounter
from metrics import periods
from tests import factories as f
from tests.metrics.conftest import at, by, call, total

D = Encounter.Disposition
pytestmark = pytest.mark.usefixtures("no_suppression")


def test_call_volume_counts_every_call_received_in_the_period_cancelled_ones_too(program, other_program):
    call(program, at(1, 0, 0), call_source="911", call_type="Welfare check")
    call(program, at(5), call_source="911", call_type="Welfare check", disposition=D.CANCELLED, response=None)
    call(program, at(9), call_source="988", call_type="")
    call(program, at(31, 23, 59), call_source="police", call_type="Family crisis")
    call(program, at(28, 23, 59, month=2))  # the day before: February
    call(program, at(1, 0, 0, month=4))  # the first instant after March
    call(other_program, at(10))  # another program's call

    assert total(program, "call_volume") == {"calls": 4, "cancelled": 1}
    assert {k: v["calls"] for k, v in by(program, "call_volume", "call_source").items()} == {
        "911 call": 2,
        "988 transfer": 1,
        "Police request": 1,
    }
    assert {k: v["calls"] for k, v in by(program, "call_volume", "call_type").items()} == {
        "Family crisis": 1,
        "Welfare check": 2,
        "Not recorded": 1,
    }
    assert {k: v["calls"] for k, v in by(program, "call_volume", "month").items()} == {"March 2025": 4}


def test_call_volume_by_month_follows_local_time_across_months(program):
    call(program, at(31, 23, 30))  # 05:30 UTC on 1 April, still March here
    call(program, at(1, 0, 30, month=4))
    call(program, at(2, month=4))
    march_and_april = periods.custom(date(2025, 3, 1), date(2025, 4, 30))

    assert {k: v["calls"] for k, v in by(program, "call_volume", "month", period=march_and_april).items()} == {
        "March 2025": 1,
        "April 2025": 2,
    }


def test_response_time_median_and_90th_percentile_over_timed_calls(program):
    for response in (4, 8, 10, 12, 30):
        call(program, response=response)

    # sorted 4 8 10 12 30: median 10; p90 at 0.9 x 4 = 3.6, so 12 + 0.6 x (30 - 12) = 22.8
    assert total(program, "response_time") == {
        "response_n": 5,
        "response_median": 10.0,
        "response_p90": 22.8,
        "missing_time": 0,
    }


def test_response_time_leaves_out_cancelled_calls_and_counts_calls_missing_a_time(program):
    call(program, response=6)
    call(program, response=9)
    call(program, response=2, disposition=D.CANCELLED)  # arrived, then cancelled: never timed
    call(program, response=None, disposition=D.STABILISED)  # no on-scene time
    call(program, dispatch=None, response=8)  # no dispatch time
    call(program, response=None, disposition=D.CANCELLED)  # cancelled: not missing, just not timed

    assert total(program, "response_time") == {
        "response_n": 2,
        "response_median": 7.5,
        "response_p90": 8.7,
        "missing_time": 2,
    }


def test_response_time_counts_unable_to_locate_when_both_times_are_there(program):
    call(program, response=20, disposition=D.UNABLE_TO_LOCATE)
    call(program, response=None, disposition=D.UNABLE_TO_LOCATE)

    figures = total(program, "response_time")
    assert (figures["response_n"], figures["response_median"], figures["missing_time"]) == (1, 20.0, 1)


def test_time_on_scene_runs_from_arrival_to_clearing(program):
    for scene in (30, 50, 70, 90):
        call(program, scene=scene)
    call(program, scene=None)  # never cleared
    call(program, scene=5, disposition=D.CANCELLED)

    # sorted 30 50 70 90: median 60; p90 at 2.7: 70 + 0.7 x 20 = 84
    assert total(program, "time_on_scene") == {
        "on_scene_n": 4,
        "on_scene_median": 60.0,
        "on_scene_p90": 84.0,
        "missing_time": 1,
    }


def test_stabilised_in_place_is_a_share_of_the_people_the_team_met(program):
    for disposition in [D.STABILISED] * 3 + [D.EMERGENCY_DEPARTMENT, D.REFUSED, D.ARREST]:
        call(program, disposition=disposition)
    for disposition in (D.CANCELLED, D.UNABLE_TO_LOCATE, ""):  # in neither count
        call(program, disposition=disposition)

    assert total(program, "stabilised_in_place") == {"contacted": 6, "stabilised": 3, "stabilised_rate": 50.0}


def test_transports_are_split_by_destination_and_leave_arrests_out(program):
    call(program, disposition=D.VOLUNTARY_CRISIS_CENTRE, transport_destination="Crisis unit")
    call(program, disposition=D.VOLUNTARY_CRISIS_CENTRE, transport_destination="Crisis unit")
    call(program, disposition=D.EMERGENCY_DEPARTMENT, transport_destination="Central hospital")
    call(program, disposition=D.INVOLUNTARY_HOLD, transport_destination="")
    call(program, disposition=D.ARREST, transport_destination="County jail")
    call(program, disposition=D.STABILISED)
    call(program, disposition=D.STABILISED)
    call(program, disposition=D.STABILISED)

    assert total(program, "transports") == {
        "contacted": 8,
        "transports": 4,
        "crisis_centre": 2,
        "emergency_department": 1,
        "transport_rate": 50.0,
    }
    assert {k: v["transports"] for k, v in by(program, "transports", "destination").items()} == {
        "Central hospital": 1,
        "Crisis unit": 2,
        "Not recorded": 1,
    }


def test_involuntary_holds_and_arrests_are_shares_of_the_people_met(program):
    for disposition in (D.INVOLUNTARY_HOLD, D.ARREST, D.ARREST, D.STABILISED, D.UNABLE_TO_LOCATE):
        call(program, disposition=disposition)

    assert total(program, "involuntary_holds") == {"contacted": 4, "holds": 1, "hold_rate": 25.0}
    assert total(program, "arrests") == {"contacted": 4, "arrests": 2, "arrest_rate": 50.0}


def test_law_enforcement_co_response_leaves_cancelled_calls_out(program):
    call(program, law_enforcement=Encounter.CoResponse.ON_SCENE)
    call(program, law_enforcement=Encounter.CoResponse.REQUESTED)
    call(program, law_enforcement=Encounter.CoResponse.NONE)
    call(program, law_enforcement=Encounter.CoResponse.NONE, disposition=D.UNABLE_TO_LOCATE)
    call(program, law_enforcement=Encounter.CoResponse.ON_SCENE, disposition=D.CANCELLED)

    assert total(program, "law_enforcement") == {
        "responses": 4,
        "requested": 1,
        "on_scene": 1,
        "any": 2,
        "on_scene_rate": 25.0,
        "any_rate": 50.0,
    }


def test_field_contact_rate_counts_unable_to_locate_as_looked_for_but_not_met(program):
    for disposition in (D.STABILISED, D.REFUSED, D.INVOLUNTARY_HOLD, D.UNABLE_TO_LOCATE):
        call(program, disposition=disposition)
    call(program, disposition=D.CANCELLED)
    call(program, disposition="")

    assert total(program, "field_contact") == {
        "attempted": 4,
        "contacted": 3,
        "contact_rate": 75.0,
        "no_disposition": 1,
    }


def test_repeat_crisis_counts_another_call_of_the_same_person_within_30_days(program):
    ana, ben, cy, dee = (f.IndividualFactory(program=program) for _ in range(4))
    call(program, at(2), person=ana)
    call(program, at(2) + timedelta(days=30), person=ana)  # exactly 30 days later: a repeat
    call(program, at(3), person=ben)
    call(program, at(3) + timedelta(days=30, minutes=1), person=ben)  # one minute too late
    call(program, at(4), person=cy)
    call(program, at(5), person=cy, disposition=D.CANCELLED)  # a cancelled call is no repeat
    call(program, at(6), person=dee)
    call(program, at(7), person=None, disposition=D.UNABLE_TO_LOCATE)  # nobody identified: not counted

    # In March: ana (2nd), ben (1st), cy (1st, the cancelled one is not an index), dee; ana's April call is outside.
    # Index encounters: ana 2 Mar, ben 3 Mar, cy 4 Mar, dee 6 Mar; only ana repeats.
    assert total(program, "repeat_crisis") == {"people": 4, "repeat": 1, "repeat_rate": 25.0, "pending": 0}


def test_repeat_crisis_waits_until_the_30_days_have_passed(program):
    call(program, at(1))
    call(program, at(20))
    as_of = at(15, month=4)  # 1 March's 30 days are over; 20 March's are not

    assert total(program, "repeat_crisis", as_of=as_of) == {
        "people": 1,
        "repeat": 0,
        "repeat_rate": 0.0,
        "pending": 1,
    }


def reached(case, when, outcome=Contact.Outcome.REACHED):
    return f.ContactFactory(case=case, occurred_at=when, outcome=outcome)


def test_follow_up_contact_within_24_and_72_hours_of_clearing(program):
    people = [f.IndividualFactory(program=program) for _ in range(5)]
    cases = [f.CaseFactory(program=program, individual=p) for p in people]
    encounters = [call(program, at(10, 9, 0), response=10, scene=50, person=p) for p in people]
    cleared = encounters[0].cleared_at
    reached(cases[0], cleared + timedelta(hours=23, minutes=59))  # within 24 h
    reached(cases[1], cleared + timedelta(hours=24, minutes=1))  # within 72 h only
    reached(cases[2], cleared + timedelta(hours=2), outcome=Contact.Outcome.ATTEMPTED)  # not reached
    reached(cases[2], cleared + timedelta(hours=80))  # too late for either
    reached(cases[3], cleared - timedelta(minutes=30))  # during the encounter: not a follow-up
    other_case = f.CaseFactory(program=program, individual=people[4])  # any case of the person counts
    reached(other_case, cleared + timedelta(hours=1))

    assert total(program, "follow_up_contact") == {
        "due_24h": 5,
        "reached_24h": 2,
        "rate_24h": 40.0,
        "due_72h": 5,
        "reached_72h": 3,
        "rate_72h": 60.0,
    }


def test_follow_up_contact_leaves_out_people_not_met_and_windows_not_yet_over(program):
    call(program, at(10), disposition=D.UNABLE_TO_LOCATE)
    call(program, at(10), person=None)
    call(program, at(10), disposition=D.CANCELLED)
    late = call(program, at(31, 20, 0), scene=30)  # cleared 20:41 on 31 March
    as_of = late.cleared_at + timedelta(hours=30)

    assert total(program, "follow_up_contact", as_of=as_of) == {
        "due_24h": 1,
        "reached_24h": 0,
        "rate_24h": 0.0,
        "due_72h": 0,
        "reached_72h": 0,
        "rate_72h": None,
    }


def test_follow_up_clock_starts_on_scene_when_no_cleared_time_is_recorded(program):
    person = f.IndividualFactory(program=program)
    case = f.CaseFactory(program=program, individual=person)
    encounter = call(program, at(10, 9, 0), scene=None, person=person)
    reached(case, encounter.on_scene_at + timedelta(hours=23))

    assert total(program, "follow_up_contact")["reached_24h"] == 1


def test_team_and_area_filters_narrow_the_encounters(program):
    call(program, team="CRT 1", area="Downtown", response=5)
    call(program, team="CRT 1", area="Midtown", response=7)
    call(program, team="CRT 2", area="Downtown", response=20)

    assert total(program, "call_volume", team="CRT 1")["calls"] == 2
    assert total(program, "call_volume", area="Downtown")["calls"] == 2
    assert total(program, "response_time", team="CRT 1", area="Downtown")["response_median"] == 5.0


def test_an_empty_period_has_zero_counts_and_no_times(program):
    figures = total(program, "response_time")

    assert figures == {"response_n": 0, "response_median": None, "response_p90": None, "missing_time": 0}
    assert total(program, "stabilised_in_place") == {"contacted": 0, "stabilised": 0, "stabilised_rate": None}


def test_times_are_read_to_the_second(program):
    call(program, response=10.5)

    assert total(program, "response_time")["response_median"] == 10.5
