"""Staff API tokens (accounts.tokens): a token acts as its user, and fails as soon as it or its user
may no longer act. Every response is checked against the schema (CheckedClient)."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.credentials import hash_key
from accounts.models import StaffToken
from accounts.roles import Role
from accounts.tokens import issue_token
from audit.models import AccessLog, Action
from cases.models import Encounter
from tests import factories as f
from tests.api.conftest import CheckedClient, openapi, token_for

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/individuals/"
INTAKE = "/api/v1/encounters/intake/"


def intake_call(number="CAD-77"):
    return {
        "cad_incident_number": number,
        "call_received_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "call_type": "Mental health crisis",
        "person": {"legal_first_name": "Dana", "legal_last_name": "Reyes", "date_of_birth": "1990-04-02"},
    }


def bearer(key: str) -> CheckedClient:
    client = CheckedClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def assert_refused(response) -> None:
    """401 as a problem document, with a Bearer challenge."""
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def cad(program):
    """The 911 CAD system's service account: a program account with the field-write role."""
    return f.UserFactory(username="cad.integration", program=program, roles=[Role.CLINICIAN])


# --- a token acts as its user ---------------------------------------------------------------------


def test_navigators_token_lists_the_people_of_their_program_only(api_client, navigator, program, other_program):
    mine = f.IndividualFactory(program=program)
    f.IndividualFactory(program=other_program)

    response = api_client(token_for(navigator)).get(PEOPLE)

    assert response.status_code == 200
    assert [person["id"] for person in response.json()["results"]] == [mine.pk]


def test_another_programs_person_is_a_404_with_a_token(api_client, navigator, other_program):
    theirs = f.IndividualFactory(program=other_program)
    missing = api_client(token_for(navigator)).get(f"{PEOPLE}{theirs.pk + 1000}/")

    response = api_client(token_for(navigator)).get(f"{PEOPLE}{theirs.pk}/")

    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_a_peers_token_sees_only_their_caseload(api_client, program, peer, navigator):
    theirs = f.IndividualFactory(program=program)
    f.CaseFactory(program=program, individual=theirs, navigator=navigator, peer=peer)
    f.IndividualFactory(program=program)  # in the program, not on the peer's caseload

    response = api_client(token_for(peer)).get(PEOPLE)

    assert [person["id"] for person in response.json()["results"]] == [theirs.pk]


def test_cad_integration_posts_intake_with_a_token(api_client, cad):
    response = api_client(token_for(cad)).post(INTAKE, intake_call(), format="json")

    assert response.status_code == 201
    encounter = Encounter.objects.get(pk=response.json()["encounter"]["id"])
    assert encounter.program_id == cad.program_id


def test_a_token_write_needs_no_csrf_token_but_a_session_write_does(cad):
    with_token = APIClient(enforce_csrf_checks=True)
    with_token.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(cad).key}")
    with_session = APIClient(enforce_csrf_checks=True)
    with_session.force_login(cad)

    assert with_token.post(INTAKE, intake_call("CAD-1"), format="json").status_code == 201
    refused = with_session.post(INTAKE, intake_call("CAD-2"), format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_the_token_decides_who_acts_even_beside_a_session(navigator, cad):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(navigator)  # a browser's session cookie on the same request
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(cad).key}")

    response = client.post(INTAKE, intake_call(), format="json")

    assert response.status_code == 201
    assert Encounter.objects.get().created_by == cad


def test_a_read_with_a_token_is_audited_in_the_tokens_users_name(api_client, navigator, program):
    person = f.IndividualFactory(program=program)

    response = api_client(token_for(navigator)).get(f"{PEOPLE}{person.pk}/")

    assert response.status_code == 200
    row = AccessLog.objects.get(object_type="cases.individual", object_id=str(person.pk))
    assert (row.action, row.actor_id, row.credential_id) == (Action.VIEW, navigator.pk, None)
    assert row.program_id == program.pk


def test_a_write_with_a_token_is_audited_in_the_tokens_users_name(api_client, cad):
    response = api_client(token_for(cad)).post(INTAKE, intake_call(), format="json")

    encounter_id = response.json()["encounter"]["id"]
    row = AccessLog.objects.get(object_type="cases.encounter", object_id=str(encounter_id))
    assert (row.action, row.actor_id, row.credential_id) == (Action.CREATE, cad.pk, None)


# --- refused: 401 as a problem document, on the very next request -------------------------------------


def test_revoked_token_fails_on_the_next_request(api_client, navigator):
    token = token_for(navigator)
    client = api_client(token)
    assert client.get(PEOPLE).status_code == 200

    StaffToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    assert_refused(client.get(PEOPLE))


def test_expired_token_fails(api_client, navigator, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = api_client(token_for(navigator, expires_at=timezone.now() + timedelta(days=1)))
    time_machine.shift(timedelta(days=1) - timedelta(seconds=1))
    assert client.get(PEOPLE).status_code == 200

    time_machine.shift(timedelta(seconds=1))

    assert_refused(client.get(PEOPLE))


def test_wrong_secret_with_a_real_prefix_fails(navigator):
    token = token_for(navigator)

    assert_refused(bearer(f"crts_{token.prefix}_{'A' * 43}").get(PEOPLE))


@pytest.mark.parametrize(
    "key", ["crts_0000abcd_" + "A" * 43, "crts_", "crts_nothex00_" + "A" * 43, "crts_0000abcd_short"]
)
def test_unknown_or_malformed_staff_token_fails(navigator, key):
    assert_refused(bearer(key).get(PEOPLE))


def test_deactivated_user_fails_on_the_next_request(api_client, navigator):
    client = api_client(token_for(navigator))
    assert client.get(PEOPLE).status_code == 200

    navigator.is_active = False
    navigator.save(update_fields=["is_active"])

    assert_refused(client.get(PEOPLE))


def test_user_taken_out_of_their_program_fails_on_the_next_request(api_client, navigator):
    client = api_client(token_for(navigator))

    navigator.program = None
    navigator.save(update_fields=["program"])

    assert_refused(client.get(PEOPLE))


def test_a_token_of_a_user_later_given_the_partner_role_fails(api_client, navigator):
    client = api_client(token_for(navigator))

    navigator.groups.add(Group.objects.get(name=Role.PARTNER.label))

    assert_refused(client.get(PEOPLE))


def test_partner_users_cannot_be_issued_a_token(partner_user, program):
    mixed = f.UserFactory(program=program, roles=[Role.NAVIGATOR, Role.PARTNER])
    for user in (partner_user, mixed):
        with pytest.raises(ValidationError):
            issue_token(user, name="sync", by=None)
    assert not StaffToken.objects.exists()


# --- staff tokens and partner keys never stand in for each other ------------------------------------


def test_partner_endpoints_refuse_a_staff_token(api_client, navigator):
    client = api_client(token_for(navigator))

    response = client.get("/api/v1/partner/referrals/")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert client.get("/fhir/r4/Task").status_code == 403


def test_a_partner_key_reaches_no_staff_endpoint(api_client, partner_credential):
    response = api_client(partner_credential).get(PEOPLE)

    assert response.status_code == 403  # authenticated as the partner, refused as staff


def test_a_partner_key_dressed_as_a_staff_token_fails(partner_credential, navigator):
    token_for(navigator)
    disguised = partner_credential.key.replace("crt_", "crts_", 1)

    assert_refused(bearer(disguised).get(PEOPLE))


def test_a_staff_token_dressed_as_a_partner_key_fails(navigator):
    disguised = token_for(navigator).key.replace("crts_", "crt_", 1)

    response = bearer(disguised).get("/api/v1/partner/referrals/")

    assert response.status_code == 401


def test_sessions_still_work_next_to_tokens(api_client, navigator):
    token_for(navigator)

    assert api_client(navigator).get(PEOPLE).status_code == 200


# --- bookkeeping ---------------------------------------------------------------------------------------


def test_only_the_hash_is_stored(navigator):
    token = token_for(navigator)

    stored = [str(getattr(token, field.attname)) for field in StaffToken._meta.concrete_fields]
    assert not any(token.key in value for value in stored)
    assert token.key_hash == hash_key(token.key)
    assert token.key.startswith(f"crts_{token.prefix}_")


def test_last_used_at_is_written_at_most_once_a_minute(api_client, navigator, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    token = token_for(navigator)
    client = api_client(token)
    client.get(PEOPLE)
    token.refresh_from_db()
    first = token.last_used_at
    assert first == timezone.now()

    time_machine.shift(timedelta(seconds=30))
    client.get(PEOPLE)
    token.refresh_from_db()
    assert token.last_used_at == first

    time_machine.shift(timedelta(seconds=40))
    client.get(PEOPLE)
    token.refresh_from_db()
    assert token.last_used_at > first


def _token_writes(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PEOPLE).status_code == 200
    return sum(query["sql"].startswith("UPDATE") and "stafftoken" in query["sql"] for query in queries)


def test_a_request_within_the_minute_sends_no_write_for_the_token(api_client, navigator, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = api_client(token_for(navigator))

    assert _token_writes(client) == 1  # never used: one conditional UPDATE
    assert _token_writes(client) == 0  # used this minute: no query at all
    time_machine.shift(timedelta(seconds=61))
    assert _token_writes(client) == 1


def test_the_schema_documents_staff_tokens():
    schemes = openapi()["components"]["securitySchemes"]

    assert schemes["staffToken"]["scheme"] == "bearer"
    assert "crts_" in schemes["staffToken"]["description"]
    people = openapi()["paths"]["/api/v1/individuals/"]["get"]
    assert {"staffToken": []} in people["security"]


# --- manage.py create_api_token --------------------------------------------------------------------------


def test_create_api_token_prints_one_working_token(cad, program):
    f.IndividualFactory(program=program)
    out, err = io.StringIO(), io.StringIO()

    call_command("create_api_token", cad.username, name="CAD integration", days=90, stdout=out, stderr=err)

    key = out.getvalue().strip()
    assert len(out.getvalue().splitlines()) == 1
    token = StaffToken.objects.get()
    assert (token.user, token.name, token.created_by) == (cad, "CAD integration", None)
    assert token.matches(key)
    assert key not in err.getvalue()
    assert token.key_hash not in out.getvalue() + err.getvalue()
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert bearer(key).get(PEOPLE).status_code == 200


def test_create_api_token_without_days_lasts_until_revoked(cad):
    call_command("create_api_token", cad.username, name="CAD integration", stdout=io.StringIO(), stderr=io.StringIO())

    assert StaffToken.objects.get().expires_at is None


@pytest.mark.parametrize(
    ("who", "options", "message"),
    [
        ("hal.housing", {}, "Only active staff of a program"),
        ("nobody", {}, "No user named nobody"),
        ("cad.integration", {"days": 0}, "--days must be at least 1"),
    ],
)
def test_create_api_token_refuses(cad, partner_user, who, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", who, name="x", stdout=io.StringIO(), stderr=io.StringIO(), **options)
    assert not StaffToken.objects.exists()
