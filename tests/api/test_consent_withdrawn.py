"""Once consent no longer covers a referral, the partner reads only the withdrawal (issue 14, item 4):
no person, and no reason, status reason, business status, appointment or outcome note, on the
partner API, the FHIR facade and the partner page alike."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import Referral, Status
from tests import factories as f

pytestmark = pytest.mark.django_db

REASON = "Sleeping in his car since the eviction; asked twice for a shelter bed."
STATUS_REASON = "Waiting for the landlord's reference."
OUTCOME = "Moved into the Elm Street flat."


@pytest.fixture
def referral(program, partner_org, navigator):
    person = f.IndividualFactory(program=program, legal_first_name="Dana", legal_last_name="Quillfeather")
    consent = f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
    referral = f.ReferralFactory(
        program=program,
        individual=person,
        service=f.ServiceFactory(organization=partner_org),
        created_by=navigator,
        consent=consent,
        reason=REASON,
    )
    Referral.objects.filter(pk=referral.pk).update(
        status=Status.ON_HOLD,
        status_reason=STATUS_REASON,
        business_status=Referral.BusinessStatus.choices[0][0],
        appointment_at=timezone.now() + timedelta(days=2),
        outcome_note=OUTCOME,
    )
    referral.refresh_from_db()
    return referral


def withdraw(referral):
    referral.consent.revoked_at = timezone.now()
    referral.consent.save()


def assert_only_the_withdrawal(text: str):
    for withheld in ("Quillfeather", REASON, STATUS_REASON, OUTCOME):
        assert withheld not in text


def test_the_api_detail_and_list_keep_only_the_withdrawal(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    before = client.get(f"/api/v1/partner/referrals/{referral.pk}/").json()
    assert before["reason"] == REASON and before["consent_withdrawn"] is False
    withdraw(referral)

    detail = client.get(f"/api/v1/partner/referrals/{referral.pk}/")
    listing = client.get("/api/v1/partner/referrals/")

    body = detail.json()
    assert body["consent_withdrawn"] is True
    assert body["person"] is None
    assert (body["reason"], body["status_reason"], body["business_status"], body["outcome_note"]) == ("", "", "", "")
    assert body["appointment_at"] is None
    assert (body["id"], body["status"], body["etag"]) == (
        referral.pk,
        Status.ON_HOLD,
        f'"{referral.pk}-{referral.version}"',
    )
    assert listing.json()["results"] == [body]
    assert_only_the_withdrawal(detail.content.decode() + listing.content.decode())


def test_fhir_task_and_service_request_keep_only_the_withdrawal(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    assert REASON in client.get(f"/fhir/r4/ServiceRequest/{referral.pk}").content.decode()
    withdraw(referral)

    task = client.get(f"/fhir/r4/Task/{referral.pk}")
    request = client.get(f"/fhir/r4/ServiceRequest/{referral.pk}")
    search = client.get("/fhir/r4/Task")

    assert task.status_code == request.status_code == search.status_code == 200
    assert "statusReason" not in task.json() and "output" not in task.json() and "businessStatus" not in task.json()
    assert "reasonCode" not in request.json()
    assert "Consent withdrawn" in task.json()["note"][0]["text"]
    assert_only_the_withdrawal(task.content.decode() + request.content.decode() + search.content.decode())


def test_the_partner_page_keeps_only_the_withdrawal(client, partner_user, referral):
    client.force_login(partner_user)
    page = reverse("providers:partner_referral", args=[referral.pk])
    assert REASON in client.get(page).content.decode()
    withdraw(referral)

    for url in (reverse("providers:partner_home"), page):
        body = client.get(url).content.decode()
        assert "Consent withdrawn" in body
        assert_only_the_withdrawal(body)
