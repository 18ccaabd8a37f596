"""The case services as the team uses them: opening a case after a crisis with its follow-up
schedule, logging contacts that answer follow-ups, the sweep giving up on one, reassigning and
closing a caseload's case, and versioned safety plans."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from cases import services
from cases.models import Case, Contact, Encounter, FollowUp, SafetyPlan
from inbox.models import Kind as ItemKind
from tests import factories as f

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def person(program):
    return f.IndividualFactory(program=program)


@pytest.fixture
def encounter(program, person):
    """A call this morning: the team cleared the scene at 09:00."""
    received = NOW - 7 * H
    return f.EncounterFactory(
        program=program,
        individual=person,
        call_received_at=received,
        dispatched_at=received + timedelta(minutes=2),
        on_scene_at=received + timedelta(minutes=15),
        cleared_at=NOW - 6 * H,
        disposition=Encounter.Disposition.STABILISED,
    )


CLEARED = NOW - 6 * H


@pytest.fixture
def case(person, navigator, encounter, peer):
    return services.open_case(individual=person, by=navigator, encounter=encounter, peer=peer)


def code_of(call) -> str:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.code


def schedule(case) -> list[tuple[str, datetime]]:
    return list(FollowUp.objects.filter(case=case).order_by("due_at").values_list("label", "due_at"))


# --- opening a case -----------------------------------------------------------------------------


def test_open_case_puts_the_person_on_the_navigators_caseload_with_the_default_schedule(
    case, person, navigator, peer, program
):
    assert (case.program, case.individual, case.navigator, case.peer) == (program, person, navigator, peer)
    assert (case.status, case.opened_at) == ("open", NOW)
    assert schedule(case) == [
        ("24h", CLEARED + 24 * H),
        ("72h", CLEARED + 72 * H),
        ("7d", CLEARED + 7 * 24 * H),
        ("30d", CLEARED + 30 * 24 * H),
    ]
    assert set(FollowUp.objects.filter(case=case).values_list("owner", flat=True)) == {navigator.pk}


def test_the_schedule_counts_from_the_call_when_the_scene_times_are_unknown(person, navigator, program):
    encounter = f.EncounterFactory(
        program=program,
        individual=person,
        call_received_at=NOW - 2 * H,
        dispatched_at=None,
        on_scene_at=None,
        cleared_at=None,
    )
    case = services.open_case(individual=person, by=navigator, encounter=encounter)
    assert schedule(case)[0] == ("24h", NOW - 2 * H + 24 * H)


def test_unable_to_locate_gets_one_more_try_only(person, navigator, encounter):
    Encounter.objects.filter(pk=encounter.pk).update(disposition=Encounter.Disposition.UNABLE_TO_LOCATE)
    encounter.refresh_from_db()
    case = services.open_case(individual=person, by=navigator, encounter=encounter)
    assert [label for label, _ in schedule(case)] == ["24h"]


def test_high_risk_adds_a_same_day_check(person, navigator, encounter):
    case = services.open_case(individual=person, by=navigator, encounter=encounter, risk_level="high")
    assert schedule(case)[0] == ("4h", CLEARED + 4 * H)
    assert [label for label, _ in schedule(case)] == ["4h", "24h", "72h", "7d", "30d"]


def test_the_risk_level_defaults_to_the_highest_screen_of_the_encounter(person, navigator, encounter):
    f.AssessmentFactory(encounter=encounter, risk_level="low")
    f.AssessmentFactory(encounter=encounter, risk_level="high", cssrs_intent=True, performed_at=encounter.on_scene_at)
    case = services.open_case(individual=person, by=navigator, encounter=encounter)
    assert case.risk_level == "high"
    assert "4h" in [label for label, _ in schedule(case)]


def test_without_an_encounter_the_schedule_counts_from_opening(person, navigator):
    case = services.open_case(individual=person, by=navigator)
    assert schedule(case)[0] == ("24h", NOW + 24 * H)
    assert case.risk_level == person.risk_level


def test_opening_the_same_encounters_case_again_returns_it_and_adds_nothing(case, person, navigator, encounter):
    again = services.open_case(individual=person, by=navigator, encounter=encounter)
    assert again.pk == case.pk
    assert Case.objects.count() == 1
    assert FollowUp.objects.filter(case=case).count() == 4


def test_another_programs_person_or_encounter_is_not_found(navigator, other_program, person):
    stranger = f.IndividualFactory(program=other_program)
    assert code_of(lambda: services.open_case(individual=stranger, by=navigator)) == "not_found"
    their_encounter = f.EncounterFactory(program=other_program)
    assert code_of(lambda: services.open_case(individual=person, by=navigator, encounter=their_encounter)) == (
        "not_found"
    )
    assert not Case.objects.exists()


def test_roles_that_do_not_carry_caseloads_cannot_open_cases(person, paramedic, peer):
    assert code_of(lambda: services.open_case(individual=person, by=paramedic)) == "forbidden"
    assert code_of(lambda: services.open_case(individual=person, by=peer)) == "not_found"  # not on their caseload


def test_open_case_checks_the_team_it_names(person, navigator, peer, navigator_elsewhere, encounter, program):
    assert code_of(lambda: services.open_case(individual=person, by=navigator, peer=navigator)) == "invalid"
    assert code_of(lambda: services.open_case(individual=person, by=navigator, navigator=peer)) == "invalid"
    call = lambda: services.open_case(individual=person, by=navigator, navigator=navigator_elsewhere)  # noqa: E731
    assert code_of(call) == "invalid"
    someone_else = f.EncounterFactory(program=program)
    assert code_of(lambda: services.open_case(individual=person, by=navigator, encounter=someone_else)) == "invalid"
    assert code_of(lambda: services.open_case(individual=person, by=navigator, risk_level="extreme")) == "invalid"
    assert not Case.objects.exists()


def test_a_supervisor_opens_a_case_for_a_navigator(person, supervisor, navigator):
    case = services.open_case(individual=person, by=supervisor, navigator=navigator)
    assert case.navigator == navigator


# --- contacts and follow-ups --------------------------------------------------------------------


def contact(case, by, *, at=NOW, outcome=Contact.Outcome.REACHED, **kw):
    return services.log_contact(case, by=by, occurred_at=at, method=Contact.Method.PHONE, outcome=outcome, **kw)


def test_reaching_the_person_answers_the_earliest_due_follow_up(case, peer, clock):
    clock.shift(10 * H)  # the 24h check is due in 8 hours: close enough
    reached = contact(case, peer, at=NOW + 10 * H, note="Sleeping better.", needs_identified=["housing"])
    twenty_four = FollowUp.objects.get(case=case, label="24h")
    assert reached.follow_up == twenty_four
    assert twenty_four.done_at == NOW + 10 * H
    assert reached.needs_identified == ["housing"]
    case.refresh_from_db()
    assert case.status == "active_follow_up"


def test_an_attempt_answers_no_follow_up(case, peer, clock):
    clock.shift(30 * H)
    attempt = contact(case, peer, at=NOW + 30 * H, outcome=Contact.Outcome.ATTEMPTED)
    assert attempt.follow_up is None
    assert FollowUp.objects.get(case=case, label="24h").done_at is None
    case.refresh_from_db()
    assert case.status == "open"


def test_an_early_call_does_not_use_up_a_later_check(case, navigator):
    early = contact(case, navigator)  # 6 hours after the call: the 24h check is 18 hours away
    assert early.follow_up is None
    assert FollowUp.objects.filter(case=case, done_at__isnull=False).count() == 0


def test_a_contact_answers_the_follow_up_it_names(case, navigator):
    seven_days = FollowUp.objects.get(case=case, label="7d")
    answered = contact(case, navigator, follow_up=seven_days)
    assert answered.follow_up == seven_days
    assert FollowUp.objects.get(pk=seven_days.pk).done_at == NOW
    assert code_of(lambda: contact(case, navigator, follow_up=seven_days)) == "invalid_transition"


def test_a_follow_up_of_another_case_is_not_found(case, navigator, program):
    elsewhere = f.FollowUpFactory(case=f.CaseFactory(program=program))
    assert code_of(lambda: contact(case, navigator, follow_up=elsewhere)) == "not_found"


def test_a_peer_logs_contacts_only_on_their_caseload(case, program, person):
    other_peer = f.UserFactory(program=program, roles=["peer"])
    assert code_of(lambda: contact(case, other_peer)) == "not_found"
    assert not Contact.objects.exists()


def test_staff_of_another_program_cannot_log_a_contact(case, navigator_elsewhere):
    assert code_of(lambda: contact(case, navigator_elsewhere)) == "not_found"


@pytest.mark.parametrize(
    "bad",
    [
        {"at": NOW + H},
        {"at": datetime(2026, 3, 2, 9, 0)},
        {"method": "carrier pigeon"},
        {"outcome": "maybe"},
        {"duration_minutes": 2000},
        {"duration_minutes": True},
        {"needs_identified": ["jetpack"]},
        {"needs_identified": "housing"},
        {"note": "x" * 1001},
        {"next_step": None},
    ],
)
def test_bad_contact_input_is_refused_and_nothing_is_written(case, navigator, bad):
    arguments = {"occurred_at": NOW, "method": "phone", "outcome": "reached", **bad}
    arguments["occurred_at"] = arguments.pop("at", arguments["occurred_at"])
    assert code_of(lambda: services.log_contact(case, by=navigator, **arguments)) == "invalid"
    assert not Contact.objects.exists()
    assert not FollowUp.objects.filter(done_at__isnull=False).exists()


def test_complete_follow_up_counts_a_logged_contact(case, navigator):
    early = contact(case, navigator)
    twenty_four = FollowUp.objects.get(case=case, label="24h")
    done = services.complete_follow_up(twenty_four, by=navigator, contact=early)
    assert done.done_at == NOW
    assert Contact.objects.get(pk=early.pk).follow_up == twenty_four
    assert services.complete_follow_up(twenty_four, by=navigator, contact=early).done_at == NOW  # a repeat
    seventy_two = FollowUp.objects.get(case=case, label="72h")
    assert code_of(lambda: services.complete_follow_up(seventy_two, by=navigator, contact=early)) == "invalid"


def test_an_attempt_cannot_complete_a_follow_up(case, navigator):
    attempt = contact(case, navigator, outcome=Contact.Outcome.ATTEMPTED)
    twenty_four = FollowUp.objects.get(case=case, label="24h")
    assert code_of(lambda: services.complete_follow_up(twenty_four, by=navigator, contact=attempt)) == "invalid"


def test_a_follow_up_is_missed_only_after_its_grace(case, program):
    twenty_four = FollowUp.objects.get(case=case, label="24h")
    due = twenty_four.due_at
    call = lambda: services.mark_follow_up_missed(twenty_four, at=due + program.follow_up_grace - H)  # noqa: E731
    assert code_of(call) == "not_due"
    missed = services.mark_follow_up_missed(twenty_four, at=due + program.follow_up_grace)
    assert missed.is_missed
    assert services.mark_follow_up_missed(twenty_four, at=due + 10 * program.follow_up_grace).is_missed  # repeat


def test_a_follow_up_done_in_the_meantime_stays_done(case, navigator, clock):
    twenty_four = FollowUp.objects.get(case=case, label="24h")
    contact(case, navigator, follow_up=twenty_four)
    result = services.mark_follow_up_missed(twenty_four, at=twenty_four.due_at + 10 * H)
    assert (result.is_missed, result.done_at) == (False, NOW)


# --- reassigning and closing --------------------------------------------------------------------


def test_only_a_supervisor_reassigns_and_open_follow_ups_move_with_the_case(case, navigator, supervisor, program):
    new_navigator = f.UserFactory(program=program, roles=["navigator"])
    contact(case, navigator, follow_up=FollowUp.objects.get(case=case, label="24h"))
    assert code_of(lambda: services.reassign_case(case, by=navigator, navigator=new_navigator)) == "forbidden"
    moved = services.reassign_case(case, by=supervisor, navigator=new_navigator)
    assert moved.navigator == new_navigator
    owners = dict(FollowUp.objects.filter(case=case).values_list("label", "owner"))
    assert owners == {"24h": navigator.pk, "72h": new_navigator.pk, "7d": new_navigator.pk, "30d": new_navigator.pk}


def test_reassigning_checks_the_new_team(case, supervisor, peer, navigator_elsewhere, other_program):
    assert code_of(lambda: services.reassign_case(case, by=supervisor)) == "invalid"
    assert code_of(lambda: services.reassign_case(case, by=supervisor, navigator=peer)) == "invalid"
    assert code_of(lambda: services.reassign_case(case, by=supervisor, navigator=navigator_elsewhere)) == "invalid"
    their_supervisor = f.UserFactory(program=other_program, roles=["supervisor"])
    assert code_of(lambda: services.reassign_case(case, by=their_supervisor, peer=peer)) == "not_found"


def test_closing_a_case_closes_out_its_schedule_and_its_overdue_alerts(case, navigator, program, clock):
    clock.shift(30 * H)  # the 24h check is overdue, the rest are ahead
    overdue = FollowUp.objects.get(case=case, label="24h")
    alert = f.ItemFactory(
        program=program, kind=ItemKind.FOLLOW_UP_OVERDUE, referral=None, follow_up=overdue, recipient=navigator
    )
    closed = services.close_case(case, by=navigator, reason=Case.ClosedReason.CONNECTED)
    assert (closed.status, closed.closed_reason, closed.closed_at) == ("closed", "connected", NOW + 30 * H)
    assert list(FollowUp.objects.filter(case=case).values_list("label", "is_missed")) == [("24h", True)]
    alert.refresh_from_db()
    assert alert.resolved_at == NOW + 30 * H
    assert not FollowUp.objects.due(NOW + 365 * 24 * H).filter(case=case).exists()  # the sweeps are done with it


def test_closing_keeps_done_follow_ups_and_is_idempotent(case, navigator):
    contact(case, navigator, follow_up=FollowUp.objects.get(case=case, label="24h"))
    services.close_case(case, by=navigator, reason="goals_met")
    assert services.close_case(case, by=navigator, reason="goals_met").closed_reason == "goals_met"
    assert code_of(lambda: services.close_case(case, by=navigator, reason="moved")) == "invalid_transition"
    assert list(FollowUp.objects.filter(case=case).values_list("label", flat=True)) == ["24h"]


def test_a_closed_case_takes_no_contacts_plans_or_reassignment(case, navigator, supervisor, program):
    services.close_case(case, by=navigator, reason="declined")
    assert code_of(lambda: contact(case, navigator)) == "invalid_transition"
    assert code_of(lambda: services.save_safety_plan(case, by=navigator, warning_signs=["x"])) == "invalid_transition"
    other = f.UserFactory(program=program, roles=["navigator"])
    assert code_of(lambda: services.reassign_case(case, by=supervisor, navigator=other)) == "invalid_transition"


def test_closing_needs_a_known_reason_and_a_role_that_may(case, navigator, peer):
    assert code_of(lambda: services.close_case(case, by=navigator, reason="bored")) == "invalid"
    assert code_of(lambda: services.close_case(case, by=peer, reason="declined")) == "forbidden"
    case.refresh_from_db()
    assert case.status == "open"


# --- safety plans -------------------------------------------------------------------------------


PLAN = {
    "warning_signs": ["not sleeping", "giving things away"],
    "coping_strategies": ["walk the dog"],
    "distractions": [{"name": "Library", "place": "Downtown branch"}],
    "help_contacts": [{"name": "Aunt Rosa", "phone": "405-555-0102"}],
    "professional_contacts": [{"name": "988 Lifeline", "phone": "988"}],
    "environment_steps": [
        {"method": "medication", "step": "Sister keeps the pills", "who": "sister", "status": "done"}
    ],
    "most_important": "My kids.",
    "participants": [{"name": "Jo", "role": "individual"}, {"name": "Rosa", "role": "family"}],
    "copy_kept_at": "Fridge door",
    "review_on": date(2026, 4, 1),
}


def test_saving_a_safety_plan_makes_a_new_current_version(case, navigator, peer):
    first = services.save_safety_plan(case, by=navigator, **PLAN)
    assert (first.version, first.is_current, first.created_by) == (1, True, navigator)
    assert first.help_contacts == PLAN["help_contacts"]
    second = services.save_safety_plan(case, by=peer, warning_signs=["not sleeping"])
    assert (second.version, second.is_current) == (2, True)
    assert second.coping_strategies == ["walk the dog"]  # sections not given carry over
    assert second.warning_signs == ["not sleeping"]
    first.refresh_from_db()
    assert not first.is_current
    assert first.warning_signs == PLAN["warning_signs"]  # old versions stay as they were
    assert SafetyPlan.objects.filter(case=case, is_current=True).get() == second


def test_saving_the_same_plan_again_makes_no_new_version(case, navigator):
    first = services.save_safety_plan(case, by=navigator, **PLAN)
    again = services.save_safety_plan(case, by=navigator, **PLAN)
    assert again.pk == first.pk
    assert SafetyPlan.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"warning_signs": "not sleeping"},
        {"warning_signs": [""]},
        {"coping_strategies": [42]},
        {"help_contacts": [{"phone": "405-555-0102"}]},
        {"help_contacts": [{"name": "Rosa", "ssn": "123"}]},
        {"environment_steps": [{"method": "firearm", "step": "Locked away", "status": "sort of"}]},
        {"participants": [{"name": "Jo", "role": "neighbour"}]},
        {"review_on": datetime(2026, 4, 1, tzinfo=UTC)},
        {"copy_kept_at": "x" * 201},
        {"favourite_colour": "blue"},
    ],
)
def test_a_safety_plan_with_a_bad_section_is_refused_and_nothing_changes(case, navigator, bad):
    services.save_safety_plan(case, by=navigator, **PLAN)
    assert code_of(lambda: services.save_safety_plan(case, by=navigator, **bad)) == "invalid"
    assert list(SafetyPlan.objects.filter(case=case).values_list("version", "is_current")) == [(1, True)]


def test_who_may_write_a_safety_plan(case, paramedic, navigator_elsewhere, program):
    assert code_of(lambda: services.save_safety_plan(case, by=paramedic, **PLAN)) == "not_found"
    assert code_of(lambda: services.save_safety_plan(case, by=navigator_elsewhere, **PLAN)) == "not_found"
    assert code_of(lambda: services.save_safety_plan(case, by=None, **PLAN)) == "invalid"
    assert not SafetyPlan.objects.exists()
