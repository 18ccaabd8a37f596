"""Recording field encounters and their assessments (cases.encounters): what a responder saves, what
is refused with nothing written, and the C-SSRS risk derived on the server and carried to the person
and their open cases."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from cases import encounters
from cases.models import Assessment, Case, Encounter, EncounterResponder, Individual
from tests import factories as f

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
M = timedelta(minutes=1)
RECEIVED = NOW - 120 * M


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def person(program):
    return f.IndividualFactory(program=program, risk_level="low")


@pytest.fixture
def encounter(program, person):
    return f.EncounterFactory(
        program=program,
        individual=person,
        call_received_at=RECEIVED,
        dispatched_at=RECEIVED + 2 * M,
        on_scene_at=RECEIVED + 15 * M,
        cleared_at=RECEIVED + 70 * M,
    )


def call(**overrides) -> dict:
    return {
        "cad_incident_number": "CAD-26-0042",
        "call_received_at": RECEIVED,
        "dispatched_at": RECEIVED + 2 * M,
        "on_scene_at": RECEIVED + 15 * M,
        "cleared_at": RECEIVED + 70 * M,
        "team": "CRT-2",
        "law_enforcement": "on_scene",
        "reason_for_call": "Neighbour worried about him.",
        "interventions": ["de_escalation", "safety_planning"],
        "disposition": "stabilised",
        **overrides,
    }


def state() -> tuple:
    """Everything these services may write, to show that a refusal wrote nothing."""
    return (
        list(Encounter.objects.order_by("pk").values()),
        list(EncounterResponder.objects.order_by("pk").values()),
        list(Assessment.objects.order_by("pk").values()),
        list(Individual.objects.order_by("pk").values_list("pk", "risk_level")),
        list(Case.objects.order_by("pk").values_list("pk", "risk_level")),
    )


def refused(code: str, action, **kwargs) -> str:
    before = state()
    with pytest.raises(ValidationError) as caught:
        action(**kwargs)
    assert caught.value.code == code
    assert state() == before
    return caught.value.messages[0]


# --- create_encounter ---------------------------------------------------------------------------


def test_paramedic_records_an_encounter_with_the_team_on_the_call(paramedic, clinician, person):
    encounter = encounters.create_encounter(
        by=paramedic, individual=person, responders=[paramedic, (clinician, "clinician")], **call()
    )
    encounter.refresh_from_db()
    assert (encounter.program_id, encounter.individual, encounter.created_by) == (person.program_id, person, paramedic)
    assert (encounter.law_enforcement, encounter.disposition) == ("on_scene", "stabilised")
    assert encounter.interventions == ["de_escalation", "safety_planning"]
    assert set(EncounterResponder.objects.values_list("user__username", "role")) == {
        ("pam.paramedic", "paramedic"),
        ("cleo.clinician", "clinician"),
    }


def test_an_encounter_may_name_nobody_when_the_person_was_not_located(clinician):
    encounter = encounters.create_encounter(by=clinician, **call(disposition="unable_to_locate", on_scene_at=None))
    assert encounter.individual is None
    assert Encounter.objects.get().disposition == "unable_to_locate"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"dispatched_at": RECEIVED - M}, "dispatch time cannot be before the call time", id="dispatch"),
        pytest.param(
            {"dispatched_at": None, "on_scene_at": RECEIVED - M}, "on-scene time cannot be before", id="on-scene"
        ),
        pytest.param({"cleared_at": RECEIVED + 10 * M}, "clear time cannot be before the on-scene", id="cleared"),
        pytest.param({"call_received_at": RECEIVED.replace(tzinfo=None)}, "with a time zone", id="naive"),
        pytest.param({"on_scene_at": NOW + 60 * M, "cleared_at": None}, "cannot be in the future", id="future"),
        pytest.param({"cad_incident_number": "  "}, "CAD incident number is required", id="no-cad"),
        pytest.param({"disposition": "vanished"}, "Unknown disposition", id="disposition"),
        pytest.param({"law_enforcement": "maybe"}, "Unknown law enforcement", id="co-response"),
        pytest.param({"interventions": ["hugs"]}, "Unknown intervention", id="intervention"),
        pytest.param({"team": "x" * 51}, "At most 50", id="long-team"),
        pytest.param({"latitude": "95"}, "between -90 and 90", id="latitude"),
    ],
)
def test_bad_encounter_input_is_refused_and_nothing_is_written(paramedic, person, overrides, message):
    assert message in refused(
        "invalid", encounters.create_encounter, by=paramedic, individual=person, **call(**overrides)
    )


def test_a_responder_from_another_program_is_refused(paramedic, person, navigator_elsewhere):
    refused(
        "invalid",
        encounters.create_encounter,
        by=paramedic,
        individual=person,
        responders=[navigator_elsewhere],
        **call(),
    )


def test_a_person_of_another_program_is_not_found(paramedic, other_program):
    stranger = f.IndividualFactory(program=other_program)
    refused("not_found", encounters.create_encounter, by=paramedic, individual=stranger, **call())


def test_a_cad_number_already_recorded_is_a_conflict(paramedic, person, encounter):
    refused(
        "conflict", encounters.create_encounter, by=paramedic, **call(cad_incident_number=encounter.cad_incident_number)
    )


@pytest.mark.parametrize("role", ["navigator", "peer", "staff_admin", "partner_user"])
def test_roles_that_do_not_record_encounters_are_refused(request, person, role):
    refused("forbidden", encounters.create_encounter, by=request.getfixturevalue(role), individual=person, **call())


# --- update_encounter ---------------------------------------------------------------------------


def test_clinician_updates_the_disposition_and_the_team(clinician, paramedic, encounter):
    f.EncounterResponderFactory(encounter=encounter, user=paramedic, role="paramedic")
    encounters.update_encounter(
        encounter,
        by=clinician,
        disposition="voluntary_crisis_centre",
        transport_destination="Crisis centre",
        responders=[clinician],
    )
    encounter.refresh_from_db()
    assert (encounter.disposition, encounter.transport_destination) == ("voluntary_crisis_centre", "Crisis centre")
    assert list(EncounterResponder.objects.values_list("user", "role")) == [(clinician.pk, "clinician")]


def test_an_unknown_person_is_named_once_identified(paramedic, person, program):
    encounter = f.EncounterFactory(program=program, individual=None)
    encounters.update_encounter(encounter, by=paramedic, individual=person)
    assert Encounter.objects.get(pk=encounter.pk).individual == person


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"program": None}, "invalid", id="field-not-allowed"),
        pytest.param({"created_by": None}, "invalid", id="creator-not-allowed"),
        pytest.param({"on_scene_at": RECEIVED - M}, "invalid", id="time-before-call"),
        pytest.param({"cleared_at": RECEIVED + 5 * M}, "invalid", id="cleared-before-on-scene"),
        pytest.param({"call_received_at": None}, "invalid", id="no-call-time"),
        pytest.param({"dispatched_at": (RECEIVED + M).replace(tzinfo=None)}, "invalid", id="naive"),
    ],
)
def test_bad_changes_are_refused_and_nothing_is_written(paramedic, encounter, changes, code):
    refused(code, encounters.update_encounter, encounter=encounter, by=paramedic, **changes)


def test_changing_to_a_cad_number_in_use_is_a_conflict(paramedic, encounter, program):
    other = f.EncounterFactory(program=program)
    refused(
        "conflict",
        encounters.update_encounter,
        encounter=encounter,
        by=paramedic,
        cad_incident_number=other.cad_incident_number,
    )


def test_encounter_of_another_program_is_not_found_for_update(encounter, other_program):
    paramedic_elsewhere = f.UserFactory(program=other_program, roles=["paramedic"])
    refused("not_found", encounters.update_encounter, encounter=encounter, by=paramedic_elsewhere, team="X")


def test_navigator_may_not_change_an_encounter(navigator, encounter):
    refused("forbidden", encounters.update_encounter, encounter=encounter, by=navigator, team="X")


# --- record_assessment --------------------------------------------------------------------------


def screen(**yes) -> dict:
    answers = {f"cssrs_{q}": False for q in ("wish_dead", "suicidal_thoughts", "method", "intent", "plan", "behavior")}
    return answers | {f"cssrs_{q}": value for q, value in yes.items()}


def test_the_risk_level_is_derived_from_the_answers_and_raises_the_person_and_open_case(paramedic, encounter, person):
    case = f.CaseFactory(program=person.program, individual=person, risk_level="low")
    closed = f.CaseFactory(
        program=person.program,
        individual=person,
        risk_level="none",
        status="closed",
        closed_reason="goals_met",
        closed_at=NOW - 60 * M,
    )
    assessment = encounters.record_assessment(
        encounter,
        by=paramedic,
        kind="cssrs",
        performed_at=RECEIVED + 20 * M,
        heart_rate=104,
        **screen(suicidal_thoughts=True, behavior=True, behavior_past_3_months=True),
    )
    assessment.refresh_from_db()
    assert (assessment.risk_level, assessment.performed_by, assessment.heart_rate) == ("high", paramedic, 104)
    assert Individual.objects.get(pk=person.pk).risk_level == "high"
    assert Case.objects.get(pk=case.pk).risk_level == "high"
    assert Case.objects.get(pk=closed.pk).risk_level == "none"  # a closed case keeps its record


def test_a_lower_screen_never_lowers_the_persons_risk(clinician, encounter, person):
    person.risk_level = "high"
    person.save()
    assessment = encounters.record_assessment(
        encounter, by=clinician, kind="cssrs", performed_at=RECEIVED + 20 * M, **screen(wish_dead=True)
    )
    assert assessment.risk_level == "low"
    assert Individual.objects.get(pk=person.pk).risk_level == "high"


def test_vitals_alone_record_no_risk(paramedic, encounter, person):
    assessment = encounters.record_assessment(
        encounter,
        by=paramedic,
        kind="medical",
        performed_at=RECEIVED + 20 * M,
        systolic_bp=130,
        diastolic_bp=85,
        temperature_c="37.2",
    )
    assert assessment.risk_level == ""
    assert Individual.objects.get(pk=person.pk).risk_level == "low"


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param({"heart_rate": 400}, id="heart-rate"),
        pytest.param({"spo2": 101}, id="spo2"),
        pytest.param({"systolic_bp": 80, "diastolic_bp": 90}, id="bp-order"),
        pytest.param({"temperature_c": "50"}, id="temperature"),
        pytest.param({"heart_rate": "fast"}, id="not-a-number"),
        pytest.param({"cssrs_behavior_past_3_months": True}, id="recency-without-q6-yes"),
        pytest.param({"cssrs_plan": "maybe"}, id="answer-not-yes-no"),
        pytest.param({"kind": "horoscope"}, id="kind"),
        pytest.param({"performed_at": RECEIVED - M}, id="before-the-call"),
        pytest.param({"performed_at": (RECEIVED + M).replace(tzinfo=None)}, id="naive"),
        pytest.param({"performed_at": NOW + 60 * M}, id="future"),
    ],
)
def test_bad_assessment_input_is_refused_and_nothing_is_written(paramedic, encounter, bad):
    kwargs = {"kind": "cssrs", "performed_at": RECEIVED + 20 * M, **screen(intent=True), **bad}
    refused("invalid", encounters.record_assessment, encounter=encounter, by=paramedic, **kwargs)


def test_an_empty_assessment_is_refused(paramedic, encounter):
    refused(
        "invalid",
        encounters.record_assessment,
        encounter=encounter,
        by=paramedic,
        kind="medical",
        performed_at=RECEIVED + 20 * M,
    )


def test_navigator_may_not_record_an_assessment(navigator, encounter):
    refused(
        "forbidden",
        encounters.record_assessment,
        encounter=encounter,
        by=navigator,
        kind="cssrs",
        performed_at=RECEIVED + 20 * M,
        **screen(intent=True),
    )


def test_assessment_on_another_programs_encounter_is_not_found(encounter, other_program):
    clinician_elsewhere = f.UserFactory(program=other_program, roles=["clinician"])
    refused(
        "not_found",
        encounters.record_assessment,
        encounter=encounter,
        by=clinician_elsewhere,
        kind="cssrs",
        performed_at=RECEIVED + 20 * M,
        **screen(intent=True),
    )
