"""An Idempotency-Key replay answers as a fresh read would (issue 14, item 2): the stored outcome is
which record, never its data; the replay reads it now, scoped and consent-checked, and audits it."""

import pytest
from django.utils import timezone

from audit.models import AccessLog, Action
from providers.models import IdempotencyRecord
from referrals.models import Referral, Status
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def referral(program, partner_org, navigator):
    person = f.IndividualFactory(
        program=program,
        legal_first_name="Dana",
        legal_last_name="Quillfeather",
        phone="405-555-0199",
        date_of_birth="1990-04-02",
    )
    consent = f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
    return f.ReferralFactory(
        program=program,
        individual=person,
        service=f.ServiceFactory(organization=partner_org),
        created_by=navigator,
        consent=consent,
    )


def accept(client, referral, key):
    url = f"/api/v1/partner/referrals/{referral.pk}/accept/"
    etag = f'"{referral.pk}-{referral.version}"'
    return client.post(url, {"note": "We will call."}, format="json", HTTP_IF_MATCH=etag, HTTP_IDEMPOTENCY_KEY=key)


def test_a_replay_after_consent_is_revoked_withholds_the_person_and_is_audited(
    api_client, partner_credential, referral
):
    client = api_client(partner_credential)
    first = accept(client, referral, "K")
    assert first.status_code == 200
    assert first.json()["person"]["legal_last_name"] == "Quillfeather"
    referral.consent.revoked_at = timezone.now()
    referral.consent.save()
    reads_before = AccessLog.objects.filter(action=Action.DISCLOSE, object_id=str(referral.pk)).count()

    again = accept(client, referral, "K")

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    body = again.json()
    assert body["person"] is None
    for personal in ("Quillfeather", "Dana", "405-555-0199", "1990-04-02"):
        assert personal not in again.content.decode()
    assert body["status"] == Status.ACCEPTED
    reads_after = AccessLog.objects.filter(action=Action.DISCLOSE, object_id=str(referral.pk)).count()
    assert reads_after == reads_before + 1
    assert Referral.objects.get(pk=referral.pk).version == referral.version + 1  # accepted once only


def test_the_stored_outcome_holds_no_personal_data(api_client, partner_credential, referral):
    accept(api_client(partner_credential), referral, "K")

    record = IdempotencyRecord.objects.get(key="K")

    assert record.status_code == 200
    assert record.outcome == {"id": referral.pk}
    stored = f"{record.outcome} {record.response_headers}"
    assert "Quillfeather" not in stored and "405-555-0199" not in stored


def test_a_replay_reads_the_current_state_and_etag(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    accept(client, referral, "K")
    current = Referral.objects.get(pk=referral.pk)
    start = client.post(
        f"/api/v1/partner/referrals/{referral.pk}/start/",
        {"note": ""},
        format="json",
        HTTP_IF_MATCH=f'"{current.pk}-{current.version}"',
    )
    assert start.status_code == 200

    again = accept(client, referral, "K")

    assert again.json()["status"] == Status.IN_PROGRESS
    assert again["ETag"] == start["ETag"]


def test_a_refused_request_releases_its_key(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    url = f"/api/v1/partner/referrals/{referral.pk}/accept/"
    stale = client.post(url, {"note": ""}, format="json", HTTP_IF_MATCH='"0-0"', HTTP_IDEMPOTENCY_KEY="K")
    assert stale.status_code == 412
    assert not IdempotencyRecord.objects.filter(key="K").exists()

    assert accept(client, referral, "K").status_code == 200  # the same key, now with the right ETag


def test_a_staff_replay_of_a_new_draft_is_read_again_and_audited(api_client, navigator, program, partner_org):
    person = f.IndividualFactory(program=program)
    service = f.ServiceFactory(organization=partner_org)
    client = api_client(navigator)
    body = {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}
    first = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    views_before = AccessLog.objects.filter(action=Action.VIEW, object_type="referrals.referral").count()

    again = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Location"] == first["Location"]
    assert again.json() == first.json()
    assert AccessLog.objects.filter(action=Action.VIEW, object_type="referrals.referral").count() == views_before + 1


def test_a_people_search_is_never_stored_under_a_key(api_client, navigator, program):
    f.IndividualFactory(program=program, legal_last_name="Quillfeather")
    client = api_client(navigator)

    response = client.post(
        "/api/v1/individuals/search/", {"q": "quill"}, format="json", HTTP_IDEMPOTENCY_KEY="search-1"
    )

    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()
