"""One way to record an encounter (cases.encounters.create_encounter) with one rule for who may: the
staff pages and the CAD intake (cases.intake.intake_call, the API's POST /encounters/intake/) agree."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases import encounters, intake
from cases.models import Encounter
from tests import factories as f

pytestmark = pytest.mark.django_db

ROLES = ["navigator", "peer", "clinician", "paramedic", "supervisor", "staff_admin"]


def outcome(record) -> str:
    try:
        record()
    except ValidationError as refused:
        return refused.code
    return "recorded"


@pytest.mark.parametrize("role", ROLES)
def test_who_may_record_an_encounter_is_the_same_on_the_pages_and_through_the_cad_intake(role, program):
    user = f.UserFactory(program=program, roles=[role])
    at = timezone.now() - timedelta(minutes=10)

    on_the_pages = outcome(lambda: encounters.create_encounter(by=user, cad_incident_number="P-1", call_received_at=at))
    by_intake = outcome(lambda: intake.intake_call(by=user, cad_incident_number="I-1", call_received_at=at))

    assert on_the_pages == by_intake
    assert on_the_pages == ("recorded" if role in ("clinician", "paramedic", "supervisor") else "forbidden")


def test_an_intake_is_checked_as_a_recorded_encounter_is(clinician):
    # The intake's encounter passes the encounter service's checks: here the call's dispatch before it.
    at = timezone.now() - timedelta(minutes=10)
    with pytest.raises(ValidationError, match="The dispatch time cannot be before the call time"):
        intake.intake_call(
            by=clinician, cad_incident_number="I-2", call_received_at=at, dispatched_at=at - timedelta(minutes=1)
        )
    assert not Encounter.objects.exists()


def test_an_intake_retried_returns_the_encounter_it_made(clinician):
    at = timezone.now() - timedelta(minutes=10)
    first = intake.intake_call(by=clinician, cad_incident_number="I-3", call_received_at=at)
    again = intake.intake_call(by=clinician, cad_incident_number=" I-3 ", call_received_at=at)
    assert (first.created_encounter, again.created_encounter) == (True, False)
    assert again.encounter == first.encounter
