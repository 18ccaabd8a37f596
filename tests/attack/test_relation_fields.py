"""Writable relation fields: the id of another program's or another partner's record gets exactly the
answer an id that does not exist gets (same status, same body), and nothing is written. Page forms
and the API write endpoints (probed read-only: every probe must be refused)."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Consent, Contact
from referrals.models import Referral
from tests import factories as f
from tests.api.conftest import credential_for

pytestmark = pytest.mark.django_db
MISSING = 987654


def _counts() -> tuple[int, int, int]:
    return Contact.objects.count(), Consent.objects.count(), Referral.objects.count()


def _form_answer(response) -> tuple[int, dict]:
    form = response.context["form"] if response.context and "form" in response.context else None
    return response.status_code, (dict(form.errors) if form is not None else {})


def test_log_contact_refuses_another_cases_follow_up_like_a_missing_one(client, navigator, ours, theirs):
    client.force_login(navigator)
    own_other_case = f.FollowUpFactory(case=f.CaseFactory(program=ours.program, navigator=navigator), label="24h")
    url = reverse("cases:log_contact", args=[ours.case.pk])
    body = {"outcome": "reached", "method": "phone", "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    before = _counts()

    answers = {
        label: _form_answer(client.post(url, {**body, "follow_up": follow_up_id}))
        for label, follow_up_id in [
            ("another program's", theirs.overdue.pk),
            ("another case's", own_other_case.pk),
            ("missing", MISSING),
        ]
    }

    assert answers["missing"][0] == 400 and "follow_up" in answers["missing"][1]
    assert answers["another program's"] == answers["missing"]
    assert answers["another case's"] == answers["missing"]
    assert _counts() == before


def test_reassign_refuses_another_programs_navigator_like_a_missing_one(client, supervisor, ours, navigator_elsewhere):
    client.force_login(supervisor)
    url = reverse("cases:reassign", args=[ours.case.pk])
    foreign = _form_answer(client.post(url, {"navigator": navigator_elsewhere.pk}))
    missing = _form_answer(client.post(url, {"navigator": MISSING}))
    assert foreign == missing and missing[0] == 400
    ours.case.refresh_from_db()
    assert ours.case.navigator_id != navigator_elsewhere.pk


def test_new_referral_refuses_a_closed_partners_service_like_a_missing_one(client, navigator, ours, other_partner_org):
    client.force_login(navigator)
    closed = f.ServiceFactory(organization=f.OrganizationFactory(is_active=False))
    url = reverse("referrals:new", args=[ours.case.pk])
    body = {"reason": "attack", "urgency": "routine"}
    before = _counts()
    closed_answer = client.post(url, {**body, "service": closed.pk})
    missing_answer = client.post(url, {**body, "service": MISSING})
    assert (closed_answer.status_code, closed_answer.content) == (missing_answer.status_code, missing_answer.content)
    assert missing_answer.status_code == 404
    assert _counts() == before


# --- the API, probed read-only ---------------------------------------------------------------------


def _problem(response) -> tuple[int, dict]:
    return response.status_code, response.json()


@pytest.fixture
def staff_api(navigator):
    client = APIClient()
    client.force_login(navigator)
    return client


def test_api_referral_create_refuses_another_programs_person_and_case_like_missing_ones(staff_api, ours, theirs):
    before = _counts()
    base = {"individual": ours.person.pk, "service": ours.service.pk, "reason": "attack"}
    probes = {
        "individual": (theirs.person.pk, MISSING),
        "case": (theirs.case.pk, MISSING),
    }
    for field, (foreign, missing) in probes.items():
        foreign_answer = _problem(staff_api.post("/api/v1/referrals/", {**base, field: foreign}, format="json"))
        missing_answer = _problem(staff_api.post("/api/v1/referrals/", {**base, field: missing}, format="json"))
        assert foreign_answer == missing_answer, field
        assert missing_answer[0] == 404, field
    assert _counts() == before


def test_api_contact_and_consent_refuse_another_programs_records_like_missing_ones(staff_api, ours, theirs):
    before = _counts()
    now = timezone.now().isoformat()
    contact = {"occurred_at": now, "method": "phone", "outcome": "reached"}
    consent = {"method": "written", "given_at": now, "recipient_organization": ours.partner_org.pk}
    pairs = [
        ("/api/v1/contacts/", {**contact, "case": theirs.case.pk}, {**contact, "case": MISSING}),
        ("/api/v1/consents/", {**consent, "individual": theirs.person.pk}, {**consent, "individual": MISSING}),
    ]
    for path, foreign, missing in pairs:
        foreign_answer = _problem(staff_api.post(path, foreign, format="json"))
        missing_answer = _problem(staff_api.post(path, missing, format="json"))
        assert foreign_answer == missing_answer, path
        assert missing_answer[0] == 404, path
    assert _counts() == before


def test_api_referral_moves_refuse_another_programs_referral_like_a_missing_one(staff_api, theirs):
    for move, body in [("send", {}), ("cancel", {"reason": "attack"})]:
        foreign = staff_api.post(
            f"/api/v1/referrals/{theirs.referral.pk}/{move}/", body, format="json", HTTP_IF_MATCH="*"
        )
        missing = staff_api.post(f"/api/v1/referrals/{MISSING}/{move}/", body, format="json", HTTP_IF_MATCH="*")
        assert _problem(foreign) == _problem(missing) and missing.status_code == 404, move
    assert Referral.objects.get(pk=theirs.referral.pk).status == theirs.referral.status


def test_partner_api_and_fhir_refuse_another_partners_records_like_missing_ones(ours, theirs, partner_org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {credential_for(partner_org).key}")
    foreign_referral, foreign_capacity_service = theirs.referral.pk, theirs.service.pk
    probes = [
        ("get", "/api/v1/partner/referrals/{}/", None),
        ("post", "/api/v1/partner/referrals/{}/accept/", {"note": ""}),
        ("post", "/api/v1/partner/referrals/{}/reject/", {"reason": "attack"}),
        ("post", "/api/v1/partner/referrals/{}/business-status/", {"business_status": "waitlisted"}),
        ("post", "/api/v1/partner/referrals/{}/appointment/", {"appointment_at": timezone.now().isoformat()}),
        ("get", "/fhir/r4/Task/{}", None),
        ("get", "/fhir/r4/ServiceRequest/{}", None),
    ]
    for method, template, body in probes:
        kwargs = {"format": "json", "HTTP_IF_MATCH": "*"} if body is not None else {}
        foreign = getattr(client, method)(template.format(foreign_referral), body, **kwargs)
        missing = getattr(client, method)(template.format(MISSING), body, **kwargs)
        # (FHIR names the id it was asked for: the same words for both)
        foreign_body = foreign.content.replace(f"/{foreign_referral} ".encode(), b"/ID ")
        missing_body = missing.content.replace(f"/{MISSING} ".encode(), b"/ID ")
        assert (foreign.status_code, foreign_body) == (missing.status_code, missing_body), template
        assert missing.status_code == 404, template
    body = {"unit": "beds", "available": 0, "maximum": 1}
    foreign = client.post(f"/api/v1/partner/services/{foreign_capacity_service}/capacity/", body, format="json")
    missing = client.post(f"/api/v1/partner/services/{MISSING}/capacity/", body, format="json")
    assert _problem(foreign) == _problem(missing) and missing.status_code == 404
    theirs.referral.refresh_from_db()
    assert theirs.referral.status == "requested"
