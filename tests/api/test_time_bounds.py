"""A mistyped year over the API is a field error (400, problem details) and changes nothing, as on the
staff pages (crt.validators): contacts, consents, intake's date of birth, a partner's appointment."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Consent, Contact, Encounter
from referrals.models import Referral
from tests import factories as f

pytestmark = pytest.mark.django_db
ABSURD = ["0350-06-01T10:00:00Z", "1999-06-01T10:00:00Z", "9999-06-01T10:00:00Z"]


def assert_field_error(response, field: str) -> None:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert field in str(response.json())


@pytest.mark.parametrize("occurred_at", ABSURD)
def test_a_contact_in_an_absurd_year_is_refused(api_client, navigator, program, occurred_at):
    case = f.CaseFactory(program=program, navigator=navigator)
    body = {"case": case.pk, "occurred_at": occurred_at, "method": "phone", "outcome": "reached"}

    assert_field_error(api_client(navigator).post("/api/v1/contacts/", body, format="json"), "occurred_at")
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("given_at", value) for value in ABSURD]
    + [("expires_at", "2100-01-01T00:00:00Z"), ("expires_at", "0350-01-01T00:00:00Z")],
)
def test_a_consent_given_or_expiring_in_an_absurd_year_is_refused(
    api_client, navigator, program, partner_org, field, value
):
    person = f.IndividualFactory(program=program)
    body = {
        "individual": person.pk,
        "recipient_organization": partner_org.pk,
        "method": "written",
        "given_at": timezone.now().isoformat(),
        field: value,
    }

    assert_field_error(api_client(navigator).post("/api/v1/consents/", body, format="json"), field)
    assert not Consent.objects.exists()


@pytest.mark.parametrize("born", ["0350-01-01", "1850-01-01", "2999-01-01"])
def test_intake_refuses_an_absurd_date_of_birth(api_client, integration, born):
    body = {
        "cad_incident_number": "CAD-1",
        "call_received_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "person": {"legal_first_name": "Dana", "legal_last_name": "Reyes", "date_of_birth": born},
    }

    assert_field_error(api_client(integration).post("/api/v1/encounters/intake/", body, format="json"), "date_of_birth")
    assert not Encounter.objects.exists()


@pytest.mark.parametrize("when", ["0350-06-01T10:00:00Z", "9999-06-01T10:00:00Z"])
def test_a_partner_cannot_book_an_appointment_in_an_absurd_year(api_client, partner_credential, program, when):
    referral = f.ReferralFactory(
        program=program, service=f.ServiceFactory(organization=partner_credential.organization)
    )
    client = api_client(partner_credential)
    url = f"/api/v1/partner/referrals/{referral.pk}/"
    client.post(f"{url}accept/", {}, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])
    tag = client.get(url)["ETag"]

    assert_field_error(
        client.post(f"{url}appointment/", {"appointment_at": when}, format="json", HTTP_IF_MATCH=tag), "appointment_at"
    )
    assert Referral.objects.get(pk=referral.pk).appointment_at is None


def test_sensible_times_still_pass(api_client, navigator, program, partner_org):
    case = f.CaseFactory(program=program, navigator=navigator)
    body = {"case": case.pk, "occurred_at": timezone.now().isoformat(), "method": "phone", "outcome": "reached"}
    assert api_client(navigator).post("/api/v1/contacts/", body, format="json").status_code == 201
    consent = {
        "individual": case.individual_id,
        "recipient_organization": partner_org.pk,
        "method": "written",
        "given_at": (timezone.now() - timedelta(days=3)).isoformat(),
        "expires_at": (timezone.now() + timedelta(days=365)).isoformat(),
    }
    assert api_client(navigator).post("/api/v1/consents/", consent, format="json").status_code == 201
