"""Partners reading and working their referrals through /api/v1/partner/referrals/."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AccessLog, Action
from providers.models import PartnerCredential
from referrals.consent import PART2_REDISCLOSURE_NOTICE
from referrals.models import Referral, ReferralEvent
from tests import factories as f
from tests.api.conftest import credential_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/partner/referrals/"


@pytest.fixture
def referral(program, partner_org, navigator):
    service = f.ServiceFactory(organization=partner_org)
    person = f.IndividualFactory(
        program=program,
        phone="405-555-0199",
        email="dana@example.org",
        address="1 Main St",
        responder_safety_notes="Dog on the porch.",
        safe_contact_channels=["text"],
        safe_contact_times="after 5pm",
    )
    consent = f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
    return f.ReferralFactory(program=program, individual=person, service=service, created_by=navigator, consent=consent)


def detail(referral):
    return f"{URL}{referral.pk}/"


def etag(client, referral):
    return client.get(detail(referral))["ETag"]


def test_partner_lists_only_referrals_addressed_to_it(api_client, partner_credential, referral, other_partner_org):
    f.ReferralFactory(service=f.ServiceFactory(organization=other_partner_org))
    f.ReferralFactory(service=referral.service, status="draft", requested_at=None)  # never sent

    response = api_client(partner_credential).get(URL)

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [referral.pk]


def test_partner_detail_shares_only_what_the_referral_needs(api_client, partner_credential, referral):
    body = api_client(partner_credential).get(detail(referral)).json()

    person = body["person"]
    assert person["phone"] == "405-555-0199"
    assert person["safe_contact_channels"] == ["text"]
    assert person["safe_contact_times"] == "after 5pm"
    text = str(body)
    assert "Dog on the porch" not in text
    for hidden in ("responder_safety_notes", "risk_level", "narrative", "mrn", "cad_person_id", "housing_status"):
        assert hidden not in text
    assert body["part2_notice"] is None


def test_do_not_contact_hides_phone_email_and_address(api_client, partner_credential, referral):
    referral.individual.is_do_not_contact = True
    referral.individual.save()

    person = api_client(partner_credential).get(detail(referral)).json()["person"]

    assert (person["phone"], person["email"], person["address"]) == (None, None, None)
    assert person["safe_contact_channels"] == ["text"]
    assert person["is_do_not_contact"] is True


def test_part2_referral_carries_the_redisclosure_notice(api_client, partner_credential, referral):
    Referral.objects.filter(pk=referral.pk).update(includes_part2=True)

    body = api_client(partner_credential).get(detail(referral)).json()

    assert body["part2_notice"] == PART2_REDISCLOSURE_NOTICE


@pytest.mark.parametrize(
    "change",
    ["none", "do_not_contact", "part2", "no_contact_details", "consent_revoked", "preferred_name"],
)
def test_a_list_row_is_exactly_the_detail(api_client, partner_credential, referral, change):
    # The list builds its rows from values() (referrals.api), the detail from the model instance:
    # both must give the partner the same thing in every case that changes what is shared.
    person = referral.individual
    if change == "do_not_contact":
        person.is_do_not_contact = True
        person.save()
    elif change == "preferred_name":
        person.preferred_name = "Dee"
        person.save()
    elif change == "part2":
        Referral.objects.filter(pk=referral.pk).update(includes_part2=True)
    elif change == "no_contact_details":
        Referral.objects.filter(pk=referral.pk).update(shares_contact_details=False)
    elif change == "consent_revoked":
        referral.consent.revoked_at = timezone.now()
        referral.consent.save()
    client = api_client(partner_credential)

    (row,) = client.get(URL).json()["results"]

    assert row == client.get(detail(referral)).json()


def test_the_list_records_one_disclosure_per_referral_shown(api_client, partner_credential, referral):
    other = f.ReferralFactory(program=referral.program, service=referral.service, created_by=referral.created_by)
    api_client(partner_credential).get(URL)

    rows = AccessLog.objects.filter(object_type="referrals.referral").order_by("object_id")
    assert [(row.object_id, row.individual_id, row.program_id) for row in rows] == sorted(
        (str(r.pk), r.individual_id, r.program_id) for r in (referral, other)
    )
    assert {(row.action, row.credential_id, row.recipient_id) for row in rows} == {
        (Action.DISCLOSE, partner_credential.pk, partner_credential.organization_id)
    }


def test_partner_read_is_recorded_as_a_disclosure(api_client, partner_credential, referral):
    api_client(partner_credential).get(detail(referral))

    row = AccessLog.objects.get(object_type="referrals.referral", object_id=str(referral.pk))
    assert row.action == Action.DISCLOSE
    assert row.credential_id == partner_credential.pk
    assert row.recipient_id == partner_credential.organization_id
    assert row.individual_id == referral.individual_id


def test_other_partners_referral_is_a_404_and_unchanged(api_client, other_partner_credential, referral):
    client = api_client(other_partner_credential)

    assert client.get(detail(referral)).status_code == 404
    response = client.post(f"{detail(referral)}accept/", {}, format="json", HTTP_IF_MATCH=f'"{referral.pk}-1"')

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    referral.refresh_from_db()
    assert referral.status == "requested"


def test_partner_accepts_with_if_match_and_gets_the_new_etag(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    tag = etag(client, referral)

    response = client.post(f"{detail(referral)}accept/", {"note": "We will call."}, format="json", HTTP_IF_MATCH=tag)

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    assert response["ETag"] != tag
    event = ReferralEvent.objects.filter(referral=referral).latest("id")
    assert event.actor_credential_id == partner_credential.pk
    assert event.to_status == "accepted"


def test_transition_without_if_match_is_428_and_changes_nothing(api_client, partner_credential, referral):
    response = api_client(partner_credential).post(f"{detail(referral)}accept/", {}, format="json")

    assert response.status_code == 428
    referral.refresh_from_db()
    assert referral.status == "requested"


def test_transition_with_a_stale_etag_is_412(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    stale = etag(client, referral)
    Referral.objects.filter(pk=referral.pk).update(version=5)

    response = client.post(f"{detail(referral)}accept/", {}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"


def test_illegal_transition_is_409_in_the_problem_shape(api_client, partner_credential, referral):
    client = api_client(partner_credential)

    response = client.post(f"{detail(referral)}start/", {}, format="json", HTTP_IF_MATCH=etag(client, referral))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == 409


def test_reject_needs_a_reason_as_a_field_error(api_client, partner_credential, referral):
    client = api_client(partner_credential)

    response = client.post(f"{detail(referral)}reject/", {}, format="json", HTTP_IF_MATCH=etag(client, referral))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"


def test_unknown_fields_and_wrong_types_are_refused(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    tag = etag(client, referral)

    unknown = client.post(f"{detail(referral)}accept/", {"nope": 1}, format="json", HTTP_IF_MATCH=tag)
    wrong = client.post(f"{detail(referral)}appointment/", {"appointment_at": 7}, format="json", HTTP_IF_MATCH=tag)
    not_json = client.post(f"{detail(referral)}accept/", "x=1", content_type="text/plain", HTTP_IF_MATCH=tag)
    broken = client.post(f"{detail(referral)}accept/", "{", content_type="application/json", HTTP_IF_MATCH=tag)

    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "nope"
    assert wrong.status_code == 400
    assert not_json.status_code == 415
    assert broken.status_code == 400
    referral.refresh_from_db()
    assert referral.version == 1


def test_oversized_body_is_413(api_client, partner_credential, referral, settings):
    settings.API_MAX_BODY_BYTES = 100
    client = api_client(partner_credential)

    response = client.post(
        f"{detail(referral)}accept/", {"note": "x" * 500}, format="json", HTTP_IF_MATCH=etag(client, referral)
    )

    assert response.status_code == 413


def test_partner_works_a_referral_to_completion(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    soon = (timezone.now() + timedelta(days=2)).isoformat()
    steps = [
        ("accept", {}),
        ("start", {}),
        ("appointment", {"appointment_at": soon}),
        ("business-status", {"business_status": "enrolled"}),
        ("hold", {"reason": "In hospital."}),
        ("resume", {}),
        ("complete", {"outcome_note": "Housed."}),
    ]
    for verb, body in steps:
        response = client.post(f"{detail(referral)}{verb}/", body, format="json", HTTP_IF_MATCH=etag(client, referral))
        assert response.status_code == 200, (verb, response.json())

    referral.refresh_from_db()
    assert (referral.status, referral.business_status, referral.outcome_note) == ("completed", "enrolled", "Housed.")


def test_fail_records_reason_and_outcome_note(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    client.post(f"{detail(referral)}accept/", {}, format="json", HTTP_IF_MATCH=etag(client, referral))

    response = client.post(
        f"{detail(referral)}fail/",
        {"reason": "Could not reach.", "outcome_note": "Three calls."},
        format="json",
        HTTP_IF_MATCH=etag(client, referral),
    )

    assert response.status_code == 200
    referral.refresh_from_db()
    assert (referral.status, referral.status_reason, referral.outcome_note) == (
        "failed",
        "Could not reach.",
        "Three calls.",
    )


def test_filters_by_status_need_and_updated_since(api_client, partner_credential, referral):
    other = f.ReferralFactory(service=f.ServiceFactory(organization=referral.organization, need_domain="food"))
    Referral.objects.filter(pk=other.pk).update(status="accepted", updated_at=timezone.now() + timedelta(hours=1))
    client = api_client(partner_credential)

    by_status = client.get(URL, {"status": "accepted"}).json()["results"]
    by_need = client.get(URL, {"need_domain": "housing"}).json()["results"]
    since = client.get(URL, {"updated_since": (timezone.now() + timedelta(minutes=30)).isoformat()}).json()

    assert [r["id"] for r in by_status] == [other.pk]
    assert [r["id"] for r in by_need] == [referral.pk]
    assert [r["id"] for r in since["results"]] == [other.pk]
    assert client.get(URL, {"status": "bogus"}).status_code == 400


def test_page_size_is_capped_at_100(api_client, partner_credential, referral):
    f.ReferralFactory.create_batch(3, service=referral.service)
    client = api_client(partner_credential)

    first = client.get(URL, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    capped = client.get(URL, {"page_size": 1000}).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 2
    assert {r["id"] for r in first["results"]}.isdisjoint({r["id"] for r in second["results"]})
    assert len(capped["results"]) == 4


def test_revoked_credential_fails_on_the_next_request(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    assert client.get(URL).status_code == 200

    PartnerCredential.objects.filter(pk=partner_credential.pk).update(revoked_at=timezone.now())
    response = client.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_inactive_organisation_credential_fails(api_client, partner_credential):
    partner_credential.organization.is_active = False
    partner_credential.organization.save()

    assert api_client(partner_credential).get(URL).status_code == 401


def test_wrong_secret_with_a_real_prefix_fails(api_client, partner_credential):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer crt_{partner_credential.prefix}_{'A' * 43}")

    assert client.get(URL).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(api_client, partner_credential, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = api_client(partner_credential)
    client.get(URL)
    partner_credential.refresh_from_db()
    first = partner_credential.last_used_at

    time_machine.shift(timedelta(seconds=30))
    client.get(URL)
    partner_credential.refresh_from_db()
    assert partner_credential.last_used_at == first

    time_machine.shift(timedelta(seconds=40))
    client.get(URL)
    partner_credential.refresh_from_db()
    assert partner_credential.last_used_at > first


def test_throttled_credential_gets_429_with_retry_after(api_client, partner_credential, settings):
    settings.API_THROTTLE_RATE = "2/min"
    client = api_client(partner_credential)
    client.get(URL)
    client.get(URL)

    response = client.get(URL)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"


def test_throttle_counts_each_credential_apart_and_lets_it_in_again_when_the_minute_is_over(
    api_client, partner_credential, partner_org, settings
):
    settings.API_THROTTLE_RATE = "2/min"
    client, other = api_client(partner_credential), api_client(credential_for(partner_org))
    minute = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    with time_machine.travel(minute + timedelta(seconds=20), tick=False):
        assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]
        refused = client.get(URL)
        assert other.get(URL).status_code == 200  # another credential has its own count
    with time_machine.travel(minute + timedelta(seconds=59), tick=False):
        assert client.get(URL).status_code == 429
    with time_machine.travel(minute + timedelta(seconds=60), tick=False):
        assert client.get(URL).status_code == 200

    assert refused["Retry-After"] == "40"  # the seconds left of the minute


def test_staff_session_cannot_use_partner_endpoints(api_client, navigator, referral):
    assert api_client(navigator).get(URL).status_code == 403


def test_once_consent_is_revoked_the_partner_no_longer_reads_the_person(api_client, partner_credential, referral):
    client = api_client(partner_credential)
    assert client.get(detail(referral)).json()["person"]["legal_last_name"] == referral.individual.legal_last_name
    referral.consent.revoked_at = timezone.now()
    referral.consent.save()

    detail_body = client.get(detail(referral)).json()
    list_body = client.get(URL).json()

    assert detail_body["person"] is None
    assert [row["person"] for row in list_body["results"]] == [None]
    assert referral.individual.legal_last_name not in str(detail_body) + str(list_body)
    assert detail_body["status"] == "requested"  # the referral itself stays visible: the partner must stop
