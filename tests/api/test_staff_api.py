"""Staff and the CAD integration: intake, people, case work, consents and referrals over the API."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AccessLog, Action
from cases.models import Consent, Contact, Encounter, Individual
from providers.models import IdempotencyRecord
from referrals.models import Referral
from tests import factories as f

pytestmark = pytest.mark.django_db


def call(number="CAD-1", **person):
    return {
        "cad_incident_number": number,
        "call_received_at": (timezone.now() - timedelta(minutes=10)).isoformat(),
        "call_type": "Mental health crisis",
        "person": person,
    }


def test_intake_creates_the_person_and_the_encounter(api_client, integration):
    body = call(legal_first_name="Dana", legal_last_name="Reyes", date_of_birth="1990-04-02")

    response = api_client(integration).post("/api/v1/encounters/intake/", body, format="json")

    assert response.status_code == 201
    result = response.json()
    assert result["created_individual"] is True
    person = Individual.objects.get(pk=result["individual_id"])
    assert (person.legal_last_name, person.program_id) == ("Reyes", integration.program_id)
    assert Encounter.objects.get(pk=result["encounter"]["id"]).individual_id == person.pk


def test_intake_matches_a_known_person_by_name_and_birth_date(api_client, integration, program):
    known = f.IndividualFactory(
        program=program, legal_first_name="Dana", legal_last_name="Reyes", date_of_birth="1990-04-02"
    )

    result = (
        api_client(integration)
        .post(
            "/api/v1/encounters/intake/",
            call(legal_first_name="dana", legal_last_name="REYES", date_of_birth="1990-04-02"),
            format="json",
        )
        .json()
    )

    assert (result["individual_id"], result["created_individual"]) == (known.pk, False)


def test_intake_never_matches_someone_of_another_program(api_client, integration, other_program):
    f.IndividualFactory(
        program=other_program, legal_first_name="Dana", legal_last_name="Reyes", date_of_birth="1990-04-02"
    )

    result = (
        api_client(integration)
        .post(
            "/api/v1/encounters/intake/",
            call(legal_first_name="Dana", legal_last_name="Reyes", date_of_birth="1990-04-02"),
            format="json",
        )
        .json()
    )

    assert result["created_individual"] is True


def test_the_same_incident_posted_twice_makes_one_encounter(api_client, integration):
    client = api_client(integration)
    first = client.post(
        "/api/v1/encounters/intake/", call("CAD-9", legal_first_name="A", legal_last_name="B"), format="json"
    )
    second = client.post(
        "/api/v1/encounters/intake/", call("CAD-9", legal_first_name="A", legal_last_name="B"), format="json"
    )

    assert (first.status_code, second.status_code) == (201, 200)
    assert Encounter.objects.filter(cad_incident_number="CAD-9").count() == 1


def test_intake_refuses_a_call_time_with_a_mistyped_year(api_client, integration):
    body = {**call(), "call_received_at": "0350-11-15T11:57:55-14:07"}  # what schemathesis sent

    response = api_client(integration).post("/api/v1/encounters/intake/", body, format="json")

    assert response.status_code == 422
    assert "before 2000" in response.json()["detail"]
    assert not Encounter.objects.exists()


def test_peer_cannot_record_calls(api_client, peer):
    response = api_client(peer).post("/api/v1/encounters/intake/", call(), format="json")

    assert response.status_code == 403
    assert not Encounter.objects.exists()


def test_another_programs_person_is_a_404(api_client, navigator, other_program):
    elsewhere = f.IndividualFactory(program=other_program)

    assert api_client(navigator).get(f"/api/v1/individuals/{elsewhere.pk}/").status_code == 404


def test_peer_sees_only_people_on_their_caseload(api_client, peer, program):
    mine = f.CaseFactory(program=program, peer=peer).individual
    f.IndividualFactory(program=program)

    rows = api_client(peer).get("/api/v1/individuals/").json()["results"]

    assert [row["id"] for row in rows] == [mine.pk]


def test_reading_a_person_is_recorded(api_client, navigator, program):
    person = f.IndividualFactory(program=program)

    api_client(navigator).get(f"/api/v1/individuals/{person.pk}/")

    row = AccessLog.objects.get(object_type="cases.individual", object_id=str(person.pk))
    assert (row.action, row.actor_id, row.individual_id) == (Action.VIEW, navigator.pk, person.pk)


def test_navigator_logs_a_contact(api_client, navigator, program):
    case = f.CaseFactory(program=program, navigator=navigator)

    response = api_client(navigator).post(
        "/api/v1/contacts/",
        {"case": case.pk, "occurred_at": timezone.now().isoformat(), "method": "phone", "outcome": "reached"},
        format="json",
    )

    assert response.status_code == 201
    assert Contact.objects.get(pk=response.json()["id"]).made_by == navigator


def test_contact_on_another_programs_case_is_a_404(api_client, navigator, other_program):
    case = f.CaseFactory(program=other_program)

    response = api_client(navigator).post(
        "/api/v1/contacts/",
        {"case": case.pk, "occurred_at": timezone.now().isoformat(), "method": "phone", "outcome": "reached"},
        format="json",
    )

    assert response.status_code == 404
    assert not Contact.objects.exists()


def test_navigator_records_a_consent(api_client, navigator, program, partner_org):
    person = f.IndividualFactory(program=program)

    response = api_client(navigator).post(
        "/api/v1/consents/",
        {
            "individual": person.pk,
            "recipient_organization": partner_org.pk,
            "method": "written",
            "given_at": timezone.now().isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201
    assert Consent.objects.get(individual=person).recipient_organization == partner_org


def test_verbal_consent_without_witness_is_refused(api_client, navigator, program):
    person = f.IndividualFactory(program=program)

    response = api_client(navigator).post(
        "/api/v1/consents/",
        {
            "individual": person.pk,
            "recipient_category": "housing",
            "method": "verbal",
            "given_at": timezone.now().isoformat(),
        },
        format="json",
    )

    assert response.status_code == 422
    assert not Consent.objects.exists()


@pytest.fixture
def draft_setup(program, partner_org, navigator):
    person = f.IndividualFactory(program=program)
    service = f.ServiceFactory(organization=partner_org)
    f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
    return person, service


def test_navigator_creates_sends_and_cancels_a_referral(api_client, navigator, draft_setup):
    person, service = draft_setup
    client = api_client(navigator)

    created = client.post(
        "/api/v1/referrals/", {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}, format="json"
    )
    assert created.status_code == 201
    url = created["Location"]
    sent = client.post(f"{url}send/", {}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert sent.status_code == 200, sent.json()
    assert sent.json()["status"] == "requested"
    cancelled = client.post(f"{url}cancel/", {"reason": "Found housing."}, format="json", HTTP_IF_MATCH=sent["ETag"])

    assert cancelled.status_code == 200
    assert Referral.objects.get(pk=created.json()["id"]).status == "cancelled"


def test_sending_without_consent_is_refused_and_stays_draft(api_client, navigator, program, partner_org):
    person = f.IndividualFactory(program=program)
    service = f.ServiceFactory(organization=partner_org)
    client = api_client(navigator)
    created = client.post(
        "/api/v1/referrals/", {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}, format="json"
    )

    response = client.post(f"{created['Location']}send/", {}, format="json", HTTP_IF_MATCH=created["ETag"])

    assert response.status_code == 422
    assert response.json()["code"] == "no_consent"
    assert Referral.objects.get().status == "draft"


def test_referral_for_another_programs_person_is_a_404(api_client, navigator, other_program, partner_org):
    elsewhere = f.IndividualFactory(program=other_program)
    service = f.ServiceFactory(organization=partner_org)

    response = api_client(navigator).post(
        "/api/v1/referrals/", {"individual": elsewhere.pk, "service": service.pk, "reason": "x"}, format="json"
    )

    assert response.status_code == 404
    assert not Referral.objects.exists()


def test_same_idempotency_key_and_body_returns_the_first_answer(api_client, navigator, draft_setup):
    person, service = draft_setup
    client = api_client(navigator)
    body = {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}

    first = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Referral.objects.count() == 1


def test_same_idempotency_key_with_another_body_is_422(api_client, navigator, draft_setup):
    person, service = draft_setup
    client = api_client(navigator)
    client.post(
        "/api/v1/referrals/",
        {"individual": person.pk, "service": service.pk, "reason": "A"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    response = client.post(
        "/api/v1/referrals/",
        {"individual": person.pk, "service": service.pk, "reason": "B"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert response.status_code == 422
    assert Referral.objects.count() == 1


def test_a_duplicate_still_in_flight_is_409(api_client, navigator, draft_setup):
    person, service = draft_setup
    body = {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}
    client = api_client(navigator)
    # What a concurrent first request leaves while it runs: the key claimed, no answer yet.
    digest = hashlib.sha256()
    raw = json.dumps(body, separators=(",", ":")).encode()
    for part in (b"POST", b"/api/v1/referrals/", raw):
        digest.update(hashlib.sha256(part).digest())
    IdempotencyRecord.objects.create(
        owner=f"user:{navigator.pk}",
        key="k-3",
        method="POST",
        path="/api/v1/referrals/",
        request_hash=digest.hexdigest(),
        created_at=timezone.now(),
    )

    response = client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 409
    assert not Referral.objects.exists()


def test_idempotency_keys_are_scoped_to_the_caller(api_client, navigator, supervisor, draft_setup):
    person, service = draft_setup
    body = {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}

    api_client(navigator).post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    api_client(supervisor).post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert Referral.objects.count() == 2


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert schema.status_code == 200
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert script.status_code == 200


def test_idempotency_keys_expire_after_a_day(api_client, navigator, draft_setup, time_machine):
    person, service = draft_setup
    client = api_client(navigator)
    body = {"individual": person.pk, "service": service.pk, "reason": "Needs a bed."}
    time_machine.move_to(timezone.now(), tick=False)
    client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-day")

    time_machine.shift(timedelta(hours=23))
    client = api_client(navigator)  # a new session: sessions end after 12 hours
    client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-day")
    assert Referral.objects.count() == 1

    time_machine.shift(timedelta(hours=2))
    client = api_client(navigator)
    client.post("/api/v1/referrals/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-day")
    assert Referral.objects.count() == 2
    assert IdempotencyRecord.objects.filter(key="k-day").count() == 1


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/api/v1/individuals/", "cases.individual"),
        ("/api/v1/encounters/", "cases.encounter"),
        ("/api/v1/cases/", "cases.case"),
        ("/api/v1/contacts/", "cases.contact"),
        ("/api/v1/follow-ups/", "cases.followup"),
        ("/api/v1/consents/", "cases.consent"),
        ("/api/v1/referrals/", "referrals.referral"),
    ],
)
def test_every_staff_list_and_detail_records_the_access(url, kind, api_client, navigator, program, partner_org):
    person = f.IndividualFactory(program=program)
    case = f.CaseFactory(program=program, individual=person, navigator=navigator)
    f.EncounterFactory(program=program, individual=person)
    f.ContactFactory(case=case, made_by=navigator)
    f.FollowUpFactory(case=case)
    f.ConsentFactory(individual=person, recipient_organization=partner_org, recorded_by=navigator)
    f.ReferralFactory(program=program, individual=person, service=f.ServiceFactory(organization=partner_org))
    client = api_client(navigator)

    first = client.get(url).json()["results"][0]
    client.get(f"{url}{first['id']}/")

    rows = AccessLog.objects.filter(object_type=kind, object_id=str(first["id"]), actor=navigator)
    assert sorted(rows.values_list("action", flat=True)) == [Action.LIST, Action.VIEW]
    assert {row.individual_id for row in rows} == {person.pk}


def test_people_are_searched_by_post_so_names_never_reach_a_url(api_client, navigator, program, other_program):
    ours = f.IndividualFactory(program=program, legal_last_name="Okonkwo", date_of_birth="1975-01-09")
    f.IndividualFactory(program=program, legal_last_name="Smith")
    f.IndividualFactory(program=other_program, legal_last_name="Okonkwo", date_of_birth="1975-01-09")
    client = api_client(navigator)

    response = client.post("/api/v1/individuals/search/", {"q": "okonk"}, format="json")

    assert response.status_code == 200
    assert [person["id"] for person in response.json()["results"]] == [ours.pk]  # not the other program's
    assert response.json()["truncated"] is False
    assert AccessLog.objects.filter(action=Action.LIST, individual_id=ours.pk).count() == 1
    by_birth = client.post("/api/v1/individuals/search/", {"date_of_birth": "1975-01-09"}, format="json")
    assert [person["id"] for person in by_birth.json()["results"]] == [ours.pk]


def test_a_search_with_no_criteria_or_unknown_fields_is_refused(api_client, navigator):
    client = api_client(navigator)
    assert client.post("/api/v1/individuals/search/", {}, format="json").status_code == 400
    refused = client.post("/api/v1/individuals/search/", {"q": "ok", "program": 9}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "program"


@pytest.mark.parametrize("parameter", ["q", "date_of_birth", "legal_last_name"])
def test_the_people_list_refuses_names_and_birth_dates_in_the_query_string(api_client, navigator, program, parameter):
    f.IndividualFactory.create_batch(3, program=program)
    response = api_client(navigator).get("/api/v1/individuals/", {parameter: "Okonkwo", "page_size": 1})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == parameter
    assert AccessLog.objects.count() == 0  # nothing was read
