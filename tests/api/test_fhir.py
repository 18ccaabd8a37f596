"""The FHIR R4 facade: Task and ServiceRequest for partners, validated against FHIR definitions."""

from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from audit.models import AccessLog, Action
from referrals.consent import PART2_REDISCLOSURE_NOTICE
from referrals.models import Referral
from tests import factories as f

pytestmark = pytest.mark.django_db
BASE = "/fhir/r4"


@pytest.fixture
def referral(program, partner_org, navigator):
    service = f.ServiceFactory(organization=partner_org)
    return f.ReferralFactory(program=program, service=service, created_by=navigator)


def test_metadata_is_a_valid_capability_statement(api_client):
    response = api_client().get(f"{BASE}/metadata")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate(response.json())
    assert {r.type for r in statement.rest[0].resource} == {"Task", "ServiceRequest"}


def test_task_read_follows_the_referral_task_shape(api_client, partner_credential, referral):
    response = api_client(partner_credential).get(f"{BASE}/Task/{referral.pk}")

    assert response.status_code == 200
    task = Task.model_validate(response.json())
    assert (task.status, task.intent, task.code.coding[0].code) == ("requested", "order", "fulfill")
    assert task.focus.reference == f"ServiceRequest/{referral.pk}"
    assert task.owner.reference == f"Organization/{referral.organization_id}"
    assert task.for_fhir.reference == f"Patient/{referral.individual_id}"
    assert response["ETag"] == 'W/"1"'
    assert AccessLog.objects.get(object_id=str(referral.pk)).action == Action.DISCLOSE


def test_service_request_is_valid_and_carries_the_part2_notice(api_client, partner_credential, referral):
    Referral.objects.filter(pk=referral.pk).update(includes_part2=True)

    body = api_client(partner_credential).get(f"{BASE}/ServiceRequest/{referral.pk}").json()

    request = ServiceRequest.model_validate(body)
    assert request.note[0].text == PART2_REDISCLOSURE_NOTICE
    assert "42CFRPart2" in [label.code for label in request.meta.security]


def test_task_search_by_owner_status_and_last_updated_with_include(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    response = client.get(
        f"{BASE}/Task",
        {
            "owner": f"Organization/{referral.organization_id}",
            "status": "requested",
            "_lastUpdated": f"ge{since}",
            "_include": "Task:focus",
        },
    )

    assert response.status_code == 200
    bundle = Bundle.model_validate(response.json())
    kinds = sorted(entry.resource.__resource_type__ for entry in bundle.entry)
    assert kinds == ["ServiceRequest", "Task"]
    empty = client.get(f"{BASE}/Task", {"status": "completed"}).json()
    assert empty.get("entry", []) == []


def test_other_partner_gets_an_operation_outcome_404(api_client, other_partner_credential, referral):
    response = api_client(other_partner_credential).get(f"{BASE}/Task/{referral.pk}")

    assert response.status_code == 404
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-found"


def test_anonymous_gets_a_401_operation_outcome(api_client, referral):
    response = api_client().get(f"{BASE}/Task/{referral.pk}")

    assert response.status_code == 401
    OperationOutcome.model_validate(response.json())


def test_partner_accepts_through_task_put_with_if_match(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    task = client.get(f"{BASE}/Task/{referral.pk}").json()
    task["status"] = "accepted"

    response = client.put(f"{BASE}/Task/{referral.pk}", task, format="json", HTTP_IF_MATCH='W/"1"')

    assert response.status_code == 200, response.json()
    assert Task.model_validate(response.json()).status == "accepted"
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_task_put_needs_if_match_and_a_reason_to_reject(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    task = client.get(f"{BASE}/Task/{referral.pk}").json()
    task["status"] = "rejected"

    missing = client.put(f"{BASE}/Task/{referral.pk}", task, format="json")
    stale = client.put(f"{BASE}/Task/{referral.pk}", task, format="json", HTTP_IF_MATCH='W/"7"')
    no_reason = client.put(f"{BASE}/Task/{referral.pk}", task, format="json", HTTP_IF_MATCH='W/"1"')

    assert (missing.status_code, stale.status_code, no_reason.status_code) == (428, 412, 422)
    for response in (missing, stale, no_reason):
        OperationOutcome.model_validate(response.json())
    referral.refresh_from_db()
    assert referral.status == "requested"


def test_task_put_completes_with_an_output_note(api_client, partner_credential, referral):
    Referral.objects.filter(pk=referral.pk).update(status="in-progress")
    client = api_client(partner_credential)
    task = client.get(f"{BASE}/Task/{referral.pk}").json()
    task["status"] = "completed"
    task["output"] = [{"type": {"text": "outcome note"}, "valueString": "Enrolled."}]

    response = client.put(
        f"{BASE}/Task/{referral.pk}", task, format="json", HTTP_IF_MATCH=response_tag(client, referral)
    )

    assert response.status_code == 200
    referral.refresh_from_db()
    assert (referral.status, referral.outcome_note) == ("completed", "Enrolled.")


def response_tag(client, referral):
    return client.get(f"{BASE}/Task/{referral.pk}")["ETag"]


def test_illegal_task_status_is_a_409_operation_outcome(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    task = client.get(f"{BASE}/Task/{referral.pk}").json()
    task["status"] = "completed"

    response = client.put(f"{BASE}/Task/{referral.pk}", task, format="json", HTTP_IF_MATCH='W/"1"')

    assert response.status_code == 409
    assert OperationOutcome.model_validate(response.json()).issue[0].code == "conflict"


def test_task_search_pages_with_a_next_link(api_client, partner_credential, referral):
    f.ReferralFactory.create_batch(2, program=referral.program, service=referral.service)
    client = api_client(partner_credential)

    first = Bundle.model_validate(client.get(f"{BASE}/Task", {"_count": 2}).json())
    next_url = next(link.url for link in first.link if link.relation == "next")
    second = Bundle.model_validate(client.get(next_url).json())

    ids = [e.resource.id for e in first.entry] + [e.resource.id for e in second.entry]
    assert len(ids) == len(set(ids)) == 3
    assert not [link for link in second.link if link.relation == "next"]


def test_unknown_search_parameter_is_an_operation_outcome_400(api_client, partner_credential):
    response = api_client(partner_credential).get(f"{BASE}/Task", {"patient": "1"})

    assert response.status_code == 400
    assert OperationOutcome.model_validate(response.json()).issue[0].code == "invalid"


def test_the_task_names_the_patient_only_while_consent_covers_the_referral(api_client, partner_credential, referral):
    consent = f.ConsentFactory(individual=referral.individual, recipient_organization=referral.organization)
    client = api_client(partner_credential)
    assert client.get(f"{BASE}/Task/{referral.pk}").json()["for"]["display"] == referral.individual.display_name

    consent.revoked_at = timezone.now()
    consent.save()
    withdrawn = client.get(f"{BASE}/Task/{referral.pk}").json()["for"]

    assert withdrawn == {"reference": f"Patient/{referral.individual_id}"}
