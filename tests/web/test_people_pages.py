"""People pages for every role: adding a person after seeing likely duplicates, editing details, a
supervisor merging two records and undoing it, the support network with consent to contact, and
the API's answers for a merged-away id. Someone else's record is a 404; a role that may not act a 403."""

from datetime import date

import pytest
from django.urls import reverse

from audit.models import AccessLog
from cases.models import Consent, Encounter, Individual, PersonMerge, SupportContact
from tests import factories as f
from tests.web.conftest import signed_in

BORN = date(1990, 4, 2)
ROLES = ["navigator", "peer", "clinician", "paramedic", "supervisor", "staff_admin", "navigator_elsewhere"]


@pytest.fixture
def dana(case):
    """Dana Reyes, on the navigator's and the peer's caseload."""
    person = case.individual
    person.date_of_birth = BORN
    person.save()
    return person


@pytest.fixture
def twin(program):
    return f.IndividualFactory(program=program, legal_first_name="Dana", legal_last_name="Reyez", date_of_birth=BORN)


@pytest.fixture
def contact(dana):
    return f.SupportContactFactory(individual=dana, name="Maria Reyes", relationship="mother")


@pytest.fixture
def supervisor_elsewhere(other_program):
    return f.UserFactory(username="sue.elsewhere", program=other_program, roles=["supervisor"])


def person_post(**fields):
    data = {
        "legal_first_name": "Dana",
        "legal_last_name": "Reyez",
        "date_of_birth": "1990-04-02",
        "housing_status": "unknown",
        "race_ethnicity": "unknown",
        "primary_language": "en",
    }
    data.update(fields)
    return data


# --- who gets which page --------------------------------------------------------------------------

ADDERS = {"navigator": 200, "clinician": 200, "paramedic": 200, "supervisor": 200, "staff_admin": 200}
EXPECTED = {
    "person_new": {**ADDERS, "peer": 403, "navigator_elsewhere": 200},
    "person_edit": {**ADDERS, "peer": 403, "navigator_elsewhere": 404},
    # not a supervisor: refused before any record is looked up (a supervisor elsewhere gets a 404, below)
    "person_merge": {"supervisor": 200, "navigator_elsewhere": 403},
    "support_new": {"navigator": 200, "peer": 200, "clinician": 200, "supervisor": 200, "staff_admin": 200},
    "support_edit": {"navigator": 200, "peer": 200, "clinician": 200, "supervisor": 200, "staff_admin": 200},
    "support_consent": {"navigator": 200, "peer": 200, "clinician": 200, "supervisor": 200, "staff_admin": 200},
    "merge": {"navigator": 200, "peer": 200, "clinician": 200, "paramedic": 200, "supervisor": 200},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_people_page_answers_each_role(request, client, dana, contact, twin, supervisor, name, role):
    merge = PersonMerge.objects.create(
        program=dana.program,
        survivor=dana,
        merged=twin,
        reason="Same.",
        merged_by=supervisor,
        merged_at=dana.created_at,
    )
    urls = {
        "person_new": reverse("cases:person_new"),
        "person_edit": reverse("cases:person_edit", args=[dana.pk]),
        "person_merge": reverse("cases:person_merge", args=[dana.pk]),
        "support_new": reverse("cases:support_new", args=[dana.pk]),
        "support_edit": reverse("cases:support_edit", args=[contact.pk]),
        "support_consent": reverse("cases:support_consent", args=[contact.pk]),
        "merge": reverse("cases:merge", args=[merge.pk]),
    }
    user = request.getfixturevalue(role)
    response = signed_in(client, user).get(urls[name])
    expected = EXPECTED[name].get(role, 404 if role == "navigator_elsewhere" else 403)
    if name == "merge" and role == "staff_admin":
        expected = 200
    if role in ("paramedic",) and name.startswith("support"):
        expected = 403
    assert response.status_code == expected


# --- adding a person ------------------------------------------------------------------------------


def test_a_clinician_sees_the_likely_duplicate_first_then_adds_a_new_person(client, clinician, dana):
    page = signed_in(client, clinician)
    response = page.post(reverse("cases:person_new"), person_post())
    body = response.content.decode()
    assert response.status_code == 200
    assert "This person may already have a record" in body and dana.display_name in body
    assert Individual.objects.filter(legal_last_name="Reyez").count() == 0

    response = page.post(reverse("cases:person_new"), person_post(confirm_new="yes"))
    added = Individual.objects.get(legal_last_name="Reyez")
    assert response.status_code == 302 and response.url == reverse("cases:person", args=[added.pk])
    assert AccessLog.objects.filter(object_type="cases.individual", object_id=str(added.pk), action="create").exists()


def test_picking_the_duplicate_links_the_unidentified_encounter(client, clinician, dana, program):
    encounter = f.EncounterFactory(program=program, individual=None)
    page = signed_in(client, clinician)
    assert "Identify the person" in page.get(reverse("cases:encounter", args=[encounter.pk])).content.decode()
    response = page.post(reverse("cases:person_new"), person_post(encounter=encounter.pk))
    assert f'name="encounter" value="{encounter.pk}"' in response.content.decode()
    response = page.post(reverse("cases:person_pick", args=[dana.pk]), {"encounter": encounter.pk})
    assert response.status_code == 302 and response.url == reverse("cases:encounter", args=[encounter.pk])
    assert Encounter.objects.get(pk=encounter.pk).individual == dana


def test_a_new_person_with_no_likely_duplicate_is_added_at_once(client, navigator):
    response = signed_in(client, navigator).post(
        reverse("cases:person_new"), person_post(legal_first_name="Olu", legal_last_name="Adeyemi")
    )
    assert response.status_code == 302
    assert Individual.objects.filter(legal_last_name="Adeyemi", program=navigator.program).exists()


def test_bad_input_on_the_add_page_is_a_400_and_adds_nobody(client, navigator):
    response = signed_in(client, navigator).post(
        reverse("cases:person_new"), person_post(legal_first_name="", date_of_birth="2999-01-01")
    )
    assert response.status_code == 400
    assert Individual.objects.count() == 0


def test_the_people_search_finds_typos_and_hides_names_a_peer_may_not_see(client, peer, navigator, dana, program):
    stranger = f.IndividualFactory(
        program=program, legal_first_name="Dana", legal_last_name="Reyes", date_of_birth=BORN
    )
    body = signed_in(client, navigator).post(reverse("cases:people"), {"q": "Dana Reyez"}).content.decode()
    assert reverse("cases:person", args=[dana.pk]) in body and reverse("cases:person", args=[stranger.pk]) in body

    body = signed_in(client, peer).post(reverse("cases:people"), {"q": "Dana Reyez"}).content.decode()
    assert f'href="{reverse("cases:person", args=[dana.pk])}"' in body  # on the peer's caseload
    assert f'href="{reverse("cases:person", args=[stranger.pk])}"' not in body
    # the fuzzy match the peer may not see: its record number only, for break-glass (accounts.breakglass)
    assert f"Record #{stranger.pk}" in body and reverse("cases:break_glass", args=[stranger.pk]) in body
    assert body.count("Dana Reyes") == 1


# --- editing --------------------------------------------------------------------------------------


def test_a_navigator_edits_safe_contact_preferences(client, navigator, dana):
    page = signed_in(client, navigator)
    assert "Edit details" in page.get(reverse("cases:person", args=[dana.pk])).content.decode()
    data = person_post(
        legal_last_name="Reyes",
        is_do_not_contact="on",
        safe_contact_channels=["text"],
        responder_safety_notes="Knock at the side door.",
    )
    response = page.post(reverse("cases:person_edit", args=[dana.pk]), data)
    assert response.status_code == 302
    dana.refresh_from_db()
    assert dana.is_do_not_contact and dana.safe_contact_channels == ["text"]
    body = page.get(reverse("cases:person", args=[dana.pk])).content.decode()
    assert "Do not contact." in body and "Knock at the side door." in body


def test_another_programs_person_cannot_be_edited(client, navigator, other_program):
    elsewhere = f.IndividualFactory(program=other_program)
    response = signed_in(client, navigator).post(reverse("cases:person_edit", args=[elsewhere.pk]), person_post())
    assert response.status_code == 404


# --- merging --------------------------------------------------------------------------------------


def test_a_supervisor_merges_a_duplicate_and_the_old_id_leads_to_the_survivor(client, supervisor, dana, twin):
    f.EncounterFactory(program=twin.program, individual=twin)
    page = signed_in(client, supervisor)
    body = page.get(reverse("cases:person", args=[dana.pk])).content.decode()
    assert reverse("cases:person_merge", args=[dana.pk]) in body

    body = page.get(reverse("cases:person_merge", args=[dana.pk])).content.decode()
    assert f"?other={twin.pk}" in body  # the likely duplicate is offered

    url = reverse("cases:person_merge", args=[dana.pk])
    data = {"other": twin.pk, "keep": "this", "reason": "Same person: intake typo."}
    body = page.post(url, data).content.decode()
    assert "Check before merging" in body and "1 encounters" in body
    assert not PersonMerge.objects.exists()

    response = page.post(url, {**data, "confirmed": "True"})
    merge = PersonMerge.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases:merge", args=[merge.pk])
    assert (merge.survivor, merge.merged, merge.merged_by) == (dana, twin, supervisor)

    response = page.get(reverse("cases:person", args=[twin.pk]), follow=True)
    assert response.redirect_chain == [(reverse("cases:person", args=[dana.pk]), 302)]
    body = response.content.decode()
    assert f"Record #{twin.pk} was merged into this one" in body
    assert reverse("cases:merge", args=[merge.pk]) in body


def test_a_supervisor_undoes_a_merge_from_its_record(client, supervisor, dana, twin):
    page = signed_in(client, supervisor)
    url = reverse("cases:person_merge", args=[dana.pk])
    page.post(url, {"other": twin.pk, "keep": "other", "reason": "Same.", "confirmed": "True"})
    merge = PersonMerge.objects.get()
    assert (merge.survivor, merge.merged) == (twin, dana)  # kept the other record
    assert page.post(reverse("cases:merge", args=[merge.pk]), {"reason": ""}).status_code == 400
    response = page.post(reverse("cases:merge", args=[merge.pk]), {"reason": "Twins, not one person."})
    assert response.status_code == 302
    dana.refresh_from_db()
    assert dana.merged_into is None
    assert page.get(reverse("cases:person", args=[dana.pk])).status_code == 200


def test_a_navigator_reads_a_merge_but_cannot_undo_it(client, navigator, supervisor, dana, twin):
    from cases import people

    merge = people.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same.")
    page = signed_in(client, navigator)
    body = page.get(reverse("cases:merge", args=[merge.pk])).content.decode()
    assert "Undo merge" not in body
    assert page.post(reverse("cases:merge", args=[merge.pk]), {"reason": "x"}).status_code == 403
    assert page.post(reverse("cases:person_merge", args=[dana.pk]), {"other": twin.pk}).status_code == 403


def test_merging_across_programs_is_a_404_and_names_no_one(
    client, supervisor, supervisor_elsewhere, dana, other_program
):
    elsewhere = f.IndividualFactory(program=other_program, legal_first_name="Olive", legal_last_name="Elsewhere")
    assert signed_in(client, supervisor_elsewhere).get(reverse("cases:person_merge", args=[dana.pk])).status_code == 404
    url = reverse("cases:person_merge", args=[dana.pk])
    response = signed_in(client, supervisor).post(
        url, {"other": elsewhere.pk, "keep": "this", "reason": "Same.", "confirmed": "True"}
    )
    assert response.status_code == 400 and "Olive" not in response.content.decode()
    assert not PersonMerge.objects.exists()


# --- the support network --------------------------------------------------------------------------


def test_a_navigator_adds_a_caregiver_records_verbal_consent_and_ends_them(client, navigator, dana):
    page = signed_in(client, navigator)
    response = page.post(
        reverse("cases:support_new", args=[dana.pk]),
        {"name": "Luis Reyes", "relationship": "father", "phone": "405-555-0177", "is_caregiver": "on"},
    )
    luis = SupportContact.objects.get(name="Luis Reyes")
    assert response.status_code == 302 and response.url == reverse("cases:support_consent", args=[luis.pk])
    assert luis.is_caregiver

    consent_url = reverse("cases:support_consent", args=[luis.pk])
    given = {"purpose": "contact", "method": "verbal", "given_at": "2026-01-05T10:00"}
    response = page.post(consent_url, given)
    assert response.status_code == 400 and "A verbal consent needs a witness." in response.content.decode()
    assert page.post(consent_url, {**given, "witness_name": "Pete Peer"}).status_code == 302

    body = " ".join(page.get(reverse("cases:person", args=[dana.pk])).content.decode().split())
    assert "Luis Reyes (father) — " in body and 'href="tel:4055550177"' in body  # consent: tap to call
    assert '· caregiver <span class="badge ok">may contact</span>' in body
    assert "Contacting them about the person — Luis Reyes; verbal, with a witness (witness Pete Peer)" in body

    consent = Consent.objects.get(recipient_support_contact=luis)
    assert page.post(reverse("cases:consent_revoke", args=[consent.pk])).status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_at is not None

    assert page.post(reverse("cases:support_end", args=[luis.pk])).status_code == 302
    luis.refresh_from_db()
    assert luis.ended_at is not None
    assert page.get(reverse("cases:support_edit", args=[luis.pk])).status_code == 404


def test_support_pages_of_another_programs_person_are_404(client, navigator_elsewhere, contact):
    page = signed_in(client, navigator_elsewhere)
    assert page.post(reverse("cases:support_end", args=[contact.pk])).status_code == 404
    assert page.get(reverse("cases:support_new", args=[contact.individual_id])).status_code == 404
    consent = f.ConsentFactory(individual=contact.individual, recorded_by=None, recipient_organization=None,
                               recipient_support_contact=contact, purpose="contact", method="not_recorded")  # fmt: skip
    assert page.post(reverse("cases:consent_revoke", args=[consent.pk])).status_code == 404
    assert SupportContact.objects.get(pk=contact.pk).ended_at is None


# --- the API --------------------------------------------------------------------------------------


def test_the_api_answers_a_merged_id_with_a_pointer_to_the_survivor(client, supervisor, dana, twin):
    from cases import people

    people.merge_people(survivor=dana, merged=twin, by=supervisor, reason="Same.")
    api = signed_in(client, supervisor)
    response = api.get(f"/api/v1/individuals/{twin.pk}/")
    assert response.status_code == 301
    assert response["Location"] == f"/api/v1/individuals/{dana.pk}/"
    assert response.json()["merged_into"] == dana.pk
    assert api.get(f"/api/v1/individuals/{dana.pk}/").json()["id"] == dana.pk
    listed = [row["id"] for row in api.get("/api/v1/individuals/").json()["results"]]
    assert dana.pk in listed and twin.pk not in listed


def test_the_api_search_finds_a_typo(client, navigator, dana):
    response = signed_in(client, navigator).post(
        "/api/v1/individuals/search/", {"q": "Dana Reyez"}, content_type="application/json"
    )
    assert [row["id"] for row in response.json()["results"]] == [dana.pk]
