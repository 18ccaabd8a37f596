"""The case lifecycle over the API: the CAD integration opens a case from the encounter; staff close
(deciding open referrals), reopen, and dismiss a missed follow-up. Responses match the schema."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Case, FollowUp
from referrals.models import Referral
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def encounter(program):
    return f.EncounterFactory(program=program, disposition="stabilised")


def test_the_cad_integration_opens_a_case_from_the_encounter(api_client, integration, encounter, navigator, peer):
    body = {
        "individual": encounter.individual_id,
        "encounter": encounter.pk,
        "navigator": navigator.pk,
        "peer": peer.pk,
    }
    client = api_client(integration)
    response = client.post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["id"])
    assert (case.navigator, case.peer, case.encounter) == (navigator, peer, encounter)
    assert list(case.follow_ups.values_list("label", flat=True)) == ["24h", "72h", "7d", "30d"]
    again = client.post("/api/v1/cases/", body, format="json")
    assert (again.status_code, again.json()["id"]) == (200, case.pk)


def test_opening_refuses_someone_elses_person_or_a_stranger_as_navigator(
    api_client, integration, encounter, person_elsewhere, navigator_elsewhere, peer
):
    client = api_client(integration)
    assert client.post("/api/v1/cases/", {"individual": person_elsewhere.pk}, format="json").status_code == 404
    for navigator in (navigator_elsewhere.pk, peer.pk):
        response = client.post(
            "/api/v1/cases/", {"individual": encounter.individual_id, "navigator": navigator}, format="json"
        )
        assert response.status_code in (400, 422)
    assert not Case.objects.exists()


@pytest.fixture
def person_elsewhere(other_program):
    return f.IndividualFactory(program=other_program)


def test_a_navigator_closes_a_case_deciding_each_referral_then_reopens_it(api_client, navigator, program):
    case = f.CaseFactory(program=program, navigator=navigator)
    keep = f.ReferralFactory(program=program, individual=case.individual, case=case)
    cancel = f.ReferralFactory(program=program, individual=case.individual, case=case)
    client = api_client(navigator)
    undecided = client.post(
        f"/api/v1/cases/{case.pk}/close/",
        {"reason": "connected", "referrals": [{"referral": keep.pk, "decision": "keep"}]},
        format="json",
    )
    assert undecided.status_code == 422 and Case.objects.get(pk=case.pk).status == "open"
    body = {
        "reason": "connected",
        "referrals": [{"referral": keep.pk, "decision": "keep"}, {"referral": cancel.pk, "decision": "cancel"}],
    }
    response = client.post(f"/api/v1/cases/{case.pk}/close/", body, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert dict(Referral.objects.values_list("pk", "status")) == {keep.pk: "requested", cancel.pk: "cancelled"}
    reopened = client.post(f"/api/v1/cases/{case.pk}/reopen/", {}, format="json")
    assert (reopened.status_code, reopened.json()["id"], reopened.json()["times_reopened"]) == (200, case.pk, 1)


def test_a_peer_may_not_close_or_reopen(api_client, peer, program):
    case = f.CaseFactory(program=program, peer=peer)
    client = api_client(peer)
    assert client.post(f"/api/v1/cases/{case.pk}/close/", {"reason": "moved"}, format="json").status_code == 403
    assert Case.objects.get(pk=case.pk).status == "open"


def test_a_missed_follow_up_is_dismissed_with_a_reason(api_client, navigator, program):
    case = f.CaseFactory(program=program, navigator=navigator)
    missed = f.FollowUpFactory(case=case, due_at=timezone.now() - timedelta(days=4), is_missed=True)
    client = api_client(navigator)
    assert client.post(f"/api/v1/follow-ups/{missed.pk}/dismiss/", {}, format="json").status_code == 400
    response = client.post(f"/api/v1/follow-ups/{missed.pk}/dismiss/", {"reason": "Moved away."}, format="json")
    assert response.status_code == 200
    assert response.json()["dismissed_reason"] == "Moved away."
    assert FollowUp.objects.get(pk=missed.pk).dismissed_by == navigator
