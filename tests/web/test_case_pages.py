"""Opening a case from an encounter and from the person page, closing it with a reason and a
decision on each open referral, and reopening it: who may, and what each page shows."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, FollowUp
from referrals.models import Referral
from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def encounter(person):
    return f.EncounterFactory(program=person.program, individual=person, disposition="stabilised")


def test_a_clinician_opens_a_case_from_the_encounter_page(client, clinician, navigator, peer, encounter):
    c = signed_in(client, clinician)
    page = c.get(reverse("cases:encounter", args=[encounter.pk])).content.decode()
    url = reverse("cases:open_case_from_encounter", args=[encounter.pk])
    assert url in page
    form = c.get(url).content.decode()
    assert "24h" in form and "30d" in form  # the schedule the rules will make
    response = c.post(url, {"navigator": navigator.pk, "peer": peer.pk})
    assert response.status_code == 302
    case = Case.objects.get(encounter=encounter)
    assert (case.navigator, case.peer) == (navigator, peer)
    assert list(case.follow_ups.values_list("label", flat=True)) == ["24h", "72h", "7d", "30d"]
    # the encounter page now links to the case's person instead of offering to open another
    after = c.get(reverse("cases:encounter", args=[encounter.pk])).content.decode()
    assert f"Case #{case.pk}" in after
    assert c.post(url, {"navigator": navigator.pk}).status_code == 302
    assert Case.objects.filter(encounter=encounter).count() == 1


def test_opening_a_case_needs_a_navigator_from_the_team(client, clinician, peer, encounter, navigator_elsewhere):
    c = signed_in(client, clinician)
    url = reverse("cases:open_case_from_encounter", args=[encounter.pk])
    for body in ({"navigator": ""}, {"navigator": peer.pk}, {"navigator": navigator_elsewhere.pk}):
        assert c.post(url, body).status_code == 400
    assert not Case.objects.filter(encounter=encounter).exists()


def test_an_encounter_without_a_person_offers_no_case(client, clinician, program):
    unknown = f.EncounterFactory(program=program, individual=None)
    c = signed_in(client, clinician)
    assert c.get(reverse("cases:open_case_from_encounter", args=[unknown.pk])).status_code == 404


def test_a_navigator_opens_a_case_from_the_person_page(client, navigator, person):
    c = signed_in(client, navigator)
    url = reverse("cases:open_case", args=[person.pk])
    assert url in c.get(reverse("cases:person", args=[person.pk])).content.decode()
    assert f'value="{navigator.pk}" selected' in c.get(url).content.decode()  # themselves, by default
    assert c.post(url, {"navigator": navigator.pk}).status_code == 302
    case = Case.objects.get(individual=person)
    assert case.encounter is None and case.follow_ups.count() == 4


def test_who_may_open_close_and_reopen(client, paramedic, peer, person, case, program, navigator_elsewhere):
    open_url = reverse("cases:open_case", args=[person.pk])
    close_url = reverse("cases:close_case", args=[case.pk])
    reopen_url = reverse("cases:reopen_case", args=[case.pk])
    assert signed_in(client, paramedic).get(open_url).status_code == 403
    assert signed_in(client, paramedic).get(close_url).status_code == 404  # no care records for responders
    assert signed_in(client, peer).get(close_url).status_code == 403
    assert signed_in(client, peer).post(reopen_url).status_code == 403
    for url in (open_url, close_url):
        assert signed_in(client, navigator_elsewhere).get(url).status_code == 404
    assert signed_in(client, navigator_elsewhere).post(reopen_url).status_code == 404
    assert Case.objects.get(pk=case.pk).status == "open"


def test_closing_asks_for_a_reason_and_a_decision_on_each_open_referral(client, navigator, case, service):
    keep = f.ReferralFactory(program=case.program, individual=case.individual, case=case, service=service)
    cancel = f.ReferralFactory(program=case.program, individual=case.individual, case=case, status="accepted")
    c = signed_in(client, navigator)
    url = reverse("cases:close_case", args=[case.pk])
    page = c.get(url).content.decode()
    assert "Open referrals (2)" in page and "Rapid rehousing" in page
    assert "checked" not in page.split("Open referrals")[1]  # nothing decided for the user
    undecided = c.post(url, {"reason": "connected", f"referral_{keep.pk}": "keep"})
    assert undecided.status_code == 400 and "Decide: leave it open or cancel it." in undecided.content.decode()
    assert Case.objects.get(pk=case.pk).status == "open"
    response = c.post(url, {"reason": "connected", f"referral_{keep.pk}": "keep", f"referral_{cancel.pk}": "cancel"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).closed_reason == "connected"
    assert dict(Referral.objects.values_list("pk", "status")) == {keep.pk: "requested", cancel.pk: "cancelled"}
    assert not FollowUp.objects.filter(case=case).outstanding().exclude(is_missed=True).exists()


def test_the_person_page_reopens_a_recent_case_and_links_an_old_one(client, navigator, case):
    c = signed_in(client, navigator)
    c.post(reverse("cases:close_case", args=[case.pk]), {"reason": "goals_met"})
    person_url = reverse("cases:person", args=[case.individual_id])
    assert "Reopen case" in c.get(person_url).content.decode()
    assert c.post(reverse("cases:reopen_case", args=[case.pk])).status_code == 302
    case.refresh_from_db()
    assert case.status == "open" and case.times_reopened == 1

    c.post(reverse("cases:close_case", args=[case.pk]), {"reason": "goals_met"})
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=45))  # the window is 30 days
    assert "Open a new case" in c.get(person_url).content.decode()
    assert c.post(reverse("cases:reopen_case", args=[case.pk])).status_code == 302
    later = Case.objects.exclude(pk=case.pk).get(individual=case.individual)
    assert later.previous_case == case and later.status == "open"
