"""The checks every service makes of its input are crt.inputs' own, one definition each: one clock skew
for every time said to have happened, one rule for an aware date-time, one for text."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import encounters, intake
from cases import services as case_services
from cases.models import Contact
from crt.inputs import aware_datetime, clean_text
from crt.validators import validate_happened
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def half_an_hour_ahead(monkeypatch):
    """A clock skew of an hour, for every service at once; a time half an hour ahead is then taken."""
    monkeypatch.setattr("crt.inputs.CLOCK_SKEW", timedelta(hours=1))
    return timezone.now() + timedelta(minutes=30)


def test_every_time_said_to_have_happened_allows_the_one_clock_skew(
    half_an_hour_ahead, paramedic, clinician, navigator, program
):
    at = half_an_hour_ahead
    encounter = encounters.create_encounter(by=paramedic, cad_incident_number="CAD-1", call_received_at=at)
    encounters.update_encounter(encounter, by=paramedic, cleared_at=at)
    encounters.record_assessment(encounter, by=paramedic, kind="medical", performed_at=at, heart_rate=80)
    intake.intake_call(by=clinician, cad_incident_number="CAD-2", call_received_at=at)
    case = f.CaseFactory(program=program, navigator=navigator)
    case_services.log_contact(
        case, by=navigator, occurred_at=at, method=Contact.Method.PHONE, outcome=Contact.Outcome.REACHED
    )
    validate_happened(at)  # the pages' and the admin's bound


def test_a_time_beyond_the_clock_skew_is_refused_everywhere(paramedic, clinician, navigator, program):
    at = timezone.now() + timedelta(minutes=6)
    case = f.CaseFactory(program=program, navigator=navigator)
    calls = [
        lambda: encounters.create_encounter(by=paramedic, cad_incident_number="CAD-1", call_received_at=at),
        lambda: intake.intake_call(by=clinician, cad_incident_number="CAD-2", call_received_at=at),
        lambda: case_services.log_contact(
            case, by=navigator, occurred_at=at, method=Contact.Method.PHONE, outcome=Contact.Outcome.REACHED
        ),
        lambda: validate_happened(at),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match="future"):
            call()


def test_a_naive_time_is_refused_in_the_same_words_by_every_service(paramedic, clinician, navigator, program):
    naive = timezone.now().replace(tzinfo=None)
    case = f.CaseFactory(program=program, navigator=navigator)
    calls = {
        "call time": lambda: encounters.create_encounter(
            by=paramedic, cad_incident_number="CAD-1", call_received_at=naive
        ),
        "call time ": lambda: intake.intake_call(by=clinician, cad_incident_number="CAD-2", call_received_at=naive),
        "contact time": lambda: case_services.log_contact(
            case, by=navigator, occurred_at=naive, method=Contact.Method.PHONE, outcome=Contact.Outcome.REACHED
        ),
    }
    for label, call in calls.items():
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.messages == [f"The {label.strip()} must be a date and time with a time zone."]


def test_aware_datetime_and_clean_text_say_which_field():
    with pytest.raises(ValidationError) as refused:
        aware_datetime(None, "call time", field="call_received_at")
    assert (refused.value.messages, refused.value.params) == (
        ["The call time is required."],
        {"field": "call_received_at"},
    )
    assert aware_datetime(None, "expiry", required=False) is None
    assert clean_text("  a note ", "note", max_length=10) == "a note"
    assert clean_text(None, "name", max_length=10, none_is_empty=True) == ""
    for bad, message in [(None, "The note must be text."), ("x" * 11, "The note must be at most 10 characters.")]:
        with pytest.raises(ValidationError, match=message):
            clean_text(bad, "note", max_length=10)
