"""Logging a contact, safety plans, referrals, the partner page and the team page: what each saves,
what each refuses (with nothing saved), and who gets a 404."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.models import Contact, FollowUp, SafetyPlan
from referrals.models import Referral
from tests import factories as f
from tests.plans import pdf_text, plan_post
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


# --- log a contact ------------------------------------------------------------------------------


def test_reached_contact_completes_the_overdue_follow_up_it_answers(client, peer, case):
    response = signed_in(client, peer).post(
        reverse("cases:log_contact", args=[case.pk]),
        {"outcome": "reached", "method": "phone", "occurred_at": _local(timezone.now())},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(case=case)
    assert contact.made_by == peer
    assert contact.follow_up.label == "24h"
    assert FollowUp.objects.get(case=case, label="24h").done_at is not None
    assert "completed the 24-hour follow-up" in client.get(response["Location"]).content.decode()


def test_attempted_contact_completes_no_follow_up(client, navigator, case):
    signed_in(client, navigator).post(
        reverse("cases:log_contact", args=[case.pk]),
        {"outcome": "attempted", "method": "text", "occurred_at": _local(timezone.now())},
    )
    assert Contact.objects.get(case=case).follow_up is None
    assert not FollowUp.objects.filter(case=case, done_at__isnull=False).exists()


def test_contact_in_the_future_is_refused_with_a_field_error_and_nothing_saved(client, navigator, case):
    response = signed_in(client, navigator).post(
        reverse("cases:log_contact", args=[case.pk]),
        {"outcome": "reached", "method": "phone", "occurred_at": _local(timezone.now() + timedelta(days=1))},
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    assert not Contact.objects.exists()


def test_contact_on_a_closed_case_shows_the_services_refusal(client, navigator, case):
    case.status, case.closed_reason, case.closed_at = "closed", "goals_met", timezone.now()
    case.save()
    response = signed_in(client, navigator).post(
        reverse("cases:log_contact", args=[case.pk]),
        {"outcome": "reached", "method": "phone", "occurred_at": _local(timezone.now())},
    )
    assert response.status_code == 400
    assert "This case is closed" in response.content.decode()
    assert not Contact.objects.exists()


def test_contact_form_for_someone_elses_case_is_not_found(client, navigator_elsewhere, paramedic, case):
    url = reverse("cases:log_contact", args=[case.pk])
    assert signed_in(client, navigator_elsewhere).get(url).status_code == 404
    assert signed_in(client, paramedic).get(url).status_code == 404  # responders do not see the care record


def test_contact_form_needs_the_csrf_token(navigator, case):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(navigator)
    response = browser.post(
        reverse("cases:log_contact", args=[case.pk]),
        {"outcome": "reached", "method": "phone", "occurred_at": _local(timezone.now())},
    )
    assert response.status_code == 403
    assert not Contact.objects.exists()


# --- safety plans -------------------------------------------------------------------------------

PLAN = {
    "warning_signs": ["not sleeping", "skipping meals"],
    "coping_strategies": ["walk the dog"],
    "distractions": [{"name": "Cousin Ana", "place": "library", "phone": "405-555-0111"}],
    "help_contacts": [{"name": "Aunt Rosa", "phone": "405-555-0102", "relationship": "aunt"}],
    "professional_contacts": [{"name": "Dr. Lee", "phone": "405-555-0199"}],
    "environment_steps": [
        {"method": "medication", "step": "lock box at sister's", "who": "sister", "status": "in_progress"}
    ],
    "most_important": "My kids",
    "participants": [{"name": "Dana Reyes", "role": "individual"}, {"name": "Nina", "role": "staff"}],
    "copy_kept_at": "On the fridge",
    "review_on": "",
}


def test_saving_the_safety_plan_makes_a_new_version_and_shows_what_changed(client, navigator, case):
    c = signed_in(client, navigator)
    url = reverse("cases:safety_plan_edit", args=[case.pk])
    assert c.post(url, plan_post(**PLAN)).status_code == 302
    response = c.post(
        url,
        plan_post(**{**PLAN, "coping_strategies": ["walk the dog", "play guitar"], "warning_signs": ["not sleeping"]}),
    )
    assert response["Location"] == reverse("cases:safety_plan", args=[case.pk, 2])
    first, second = SafetyPlan.objects.filter(case=case).order_by("version")
    assert not first.is_current and second.is_current
    assert second.environment_steps == [
        {"method": "medication", "step": "lock box at sister's", "who": "sister", "status": "in_progress"}
    ]
    body = c.get(response["Location"]).content.decode()
    assert "Added: play guitar" in body and "Removed: skipping meals" in body


def test_safety_plan_with_an_unknown_participant_role_is_refused_and_nothing_saved(client, navigator, case):
    response = signed_in(client, navigator).post(
        reverse("cases:safety_plan_edit", args=[case.pk]),
        plan_post(**{**PLAN, "participants": [{"name": "Someone", "role": "neighbour"}]}),
    )
    assert response.status_code == 400
    assert "Select a valid choice. neighbour is not one of the available choices." in response.content.decode()
    assert not SafetyPlan.objects.exists()


def test_safety_plan_print_view_uses_the_print_stylesheet(client, navigator, case):
    plan = f.SafetyPlanFactory(case=case, created_by=navigator)
    body = (
        signed_in(client, navigator)
        .get(reverse("cases:safety_plan", args=[case.pk, plan.version]), {"print": "1"})
        .content.decode()
    )
    assert "crt/print.css" in body and "call or text" in body and 'href="tel:988"' in body and "not sleeping" in body


def test_safety_plan_of_another_program_is_not_found(client, navigator_elsewhere, case):
    plan = f.SafetyPlanFactory(case=case)
    url = reverse("cases:safety_plan", args=[case.pk, plan.version])
    assert signed_in(client, navigator_elsewhere).get(url).status_code == 404


# --- referrals ----------------------------------------------------------------------------------


def test_directory_search_filters_by_need_and_language_and_shows_capacity_freshness(client, navigator, case, service):
    f.ServiceFactory(name="Detox beds", need_domain="recovery", languages=["en"])
    f.ServiceFactory(name="English-only housing", need_domain="housing", languages=["en"])
    stale = f.ServiceFactory(name="Old shelter", need_domain="housing", languages=["es"])
    f.ServiceCapacityFactory(service=stale, updated_at=timezone.now() - timedelta(days=30))
    body = (
        signed_in(client, navigator)
        .get(reverse("referrals:new", args=[case.pk]), {"need": "housing", "language": "es"})
        .content.decode()
    )
    assert "Rapid rehousing" in body and "Old shelter" in body
    assert "Detox beds" not in body and "English-only housing" not in body
    assert "(stale)" in body


def test_choosing_a_service_checks_consent_inline(client, navigator, case, service, consent):
    c = signed_in(client, navigator)
    url = reverse("referrals:new", args=[case.pk])
    assert "Consent on file" in c.get(url, {"service": service.pk}).content.decode()
    other = f.ServiceFactory(name="Food pantry", need_domain="food")
    assert "No active consent covers" in c.get(url, {"service": other.pk}).content.decode()


def test_sending_a_referral_requests_it_and_shows_its_page(client, navigator, case, service, consent):
    c = signed_in(client, navigator)
    response = c.post(
        reverse("referrals:new", args=[case.pk]),
        {
            "service": service.pk,
            "reason": "Lost housing last week.",
            "urgency": "urgent",
            "shares_contact_details": "on",
        },
    )
    referral = Referral.objects.get()
    assert response["Location"] == reverse("referrals:detail", args=[referral.pk])
    assert (referral.status, referral.consent, referral.case, referral.urgency) == (
        "requested",
        consent,
        case,
        "urgent",
    )
    body = c.get(response["Location"]).content.decode()
    assert "Requested" in body and "Awaiting partner" in body
    assert "drafted the referral." in body and "sent the referral to the partner." in body


def test_referral_without_consent_is_refused_and_no_draft_is_left(client, navigator, case, service):
    response = signed_in(client, navigator).post(
        reverse("referrals:new", args=[case.pk]),
        {"service": service.pk, "reason": "Needs housing.", "urgency": "routine"},
    )
    assert response.status_code == 400
    assert "No active consent covers" in response.content.decode()
    assert not Referral.objects.exists()


def test_referral_needs_a_reason(client, navigator, case, service, consent):
    response = signed_in(client, navigator).post(
        reverse("referrals:new", args=[case.pk]), {"service": service.pk, "reason": "", "urgency": "routine"}
    )
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Referral.objects.exists()


def test_navigator_marks_a_referral_entered_in_error_from_its_page(client, navigator, case, service):
    referral = f.ReferralFactory(program=case.program, individual=case.individual, service=service)
    c = signed_in(client, navigator)
    page = c.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Mark as entered in error" in page and "Cancel referral" in page
    url = reverse("referrals:move", args=[referral.pk, "entered-in-error"])

    c.post(url, {"reason": ""})
    referral.refresh_from_db()
    assert referral.status == "requested"

    c.post(url, {"reason": "Wrong person."})
    referral.refresh_from_db()
    assert (referral.status, referral.status_reason) == ("entered-in-error", "Wrong person.")
    page = c.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Mark as entered in error" not in page and "Cancel referral" not in page


def test_a_move_the_referral_page_does_not_offer_is_not_found(client, navigator, case, service):
    referral = f.ReferralFactory(program=case.program, individual=case.individual, service=service)
    c = signed_in(client, navigator)
    for verb in ("send", "accept", "nope"):
        assert c.post(reverse("referrals:move", args=[referral.pk, verb]), {"reason": "x"}).status_code == 404


def test_referral_pages_of_another_program_are_not_found(client, navigator_elsewhere, case, service):
    referral = f.ReferralFactory(program=case.program, individual=case.individual, service=service)
    c = signed_in(client, navigator_elsewhere)
    assert c.get(reverse("referrals:new", args=[case.pk])).status_code == 404
    assert c.get(reverse("referrals:detail", args=[referral.pk])).status_code == 404


def test_navigator_cancels_a_referral_with_a_reason(client, navigator, case, service):
    referral = f.ReferralFactory(program=case.program, individual=case.individual, service=service)
    signed_in(client, navigator).post(
        reverse("referrals:move", args=[referral.pk, "cancel"]), {"reason": "Moved away."}
    )
    referral.refresh_from_db()
    assert (referral.status, referral.status_reason) == ("cancelled", "Moved away.")


# --- the partner page ---------------------------------------------------------------------------


@pytest.fixture
def sent(case, service):
    consent = f.ConsentFactory(individual=case.individual, recipient_organization=service.organization)
    return f.ReferralFactory(
        program=case.program, individual=case.individual, case=case, service=service, consent=consent
    )


def test_partner_sees_only_referrals_addressed_to_their_agency(client, partner_user, sent, other_partner_org):
    f.ReferralFactory(service__organization=other_partner_org, reason="Someone else's referral.")
    body = signed_in(client, partner_user).get(reverse("providers:partner_home")).content.decode()
    assert "Dana Reyes" in body and "Rapid rehousing" in body
    assert "Someone else" not in body


def test_the_partner_page_withholds_the_person_once_consent_is_withdrawn(client, partner_user, sent):
    sent.consent.revoked_at = timezone.now()
    sent.consent.save()
    client = signed_in(client, partner_user)
    for page in (reverse("providers:partner_home"), reverse("providers:partner_referral", args=[sent.pk])):
        body = client.get(page).content.decode()
        assert "Dana Reyes" not in body and sent.individual.phone not in body
        assert "Consent withdrawn" in body


def test_the_partner_page_hides_the_phone_of_a_do_not_contact_person(client, partner_user, sent):
    sent.individual.is_do_not_contact = True
    sent.individual.save()
    body = signed_in(client, partner_user).get(reverse("providers:partner_referral", args=[sent.pk])).content.decode()
    assert "Dana Reyes" in body and sent.individual.phone not in body


def test_partner_accepts_and_the_navigator_sees_the_new_status(client, partner_user, navigator, sent):
    response = signed_in(client, partner_user).post(reverse("providers:partner_move", args=[sent.pk, "accept"]))
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.status == "accepted"
    body = signed_in(client, navigator).get(reverse("referrals:detail", args=[sent.pk])).content.decode()
    assert 'data-status="accepted"' in body and partner_user.get_full_name() in body


def test_partner_decline_needs_a_reason(client, partner_user, sent):
    c = signed_in(client, partner_user)
    c.post(reverse("providers:partner_move", args=[sent.pk, "reject"]), {"reason": ""})
    sent.refresh_from_db()
    assert sent.status == "requested"
    c.post(reverse("providers:partner_move", args=[sent.pk, "reject"]), {"reason": "No beds for families."})
    sent.refresh_from_db()
    assert (sent.status, sent.status_reason) == ("rejected", "No beds for families.")


def test_partner_reports_an_outcome(client, partner_user, sent):
    c = signed_in(client, partner_user)
    c.post(reverse("providers:partner_move", args=[sent.pk, "accept"]))
    c.post(reverse("providers:partner_move", args=[sent.pk, "complete"]), {"outcome_note": "Moved in on Friday."})
    sent.refresh_from_db()
    assert (sent.status, sent.outcome_note) == ("completed", "Moved in on Friday.")


def test_partner_could_not_help_with_a_reason_and_an_outcome_note(client, partner_user, sent):
    c = signed_in(client, partner_user)
    c.post(reverse("providers:partner_move", args=[sent.pk, "accept"]))
    c.post(
        reverse("providers:partner_move", args=[sent.pk, "fail"]),
        {"reason": "Could not reach them.", "outcome_note": "Three calls, two texts."},
    )
    sent.refresh_from_db()
    assert (sent.status, sent.status_reason, sent.outcome_note) == (
        "failed",
        "Could not reach them.",
        "Three calls, two texts.",
    )


def test_another_agency_cannot_see_or_answer_the_referral(client, other_partner_user, sent):
    c = signed_in(client, other_partner_user)
    assert c.get(reverse("providers:partner_referral", args=[sent.pk])).status_code == 404
    assert c.post(reverse("providers:partner_move", args=[sent.pk, "accept"])).status_code == 404
    sent.refresh_from_db()
    assert sent.status == "requested"


def test_staff_get_not_found_on_the_partner_page(client, navigator, supervisor, sent):
    for user in (navigator, supervisor):
        c = signed_in(client, user)
        assert c.get(reverse("providers:partner_home")).status_code == 404
        assert c.post(reverse("providers:partner_move", args=[sent.pk, "accept"])).status_code == 404


# --- the team -----------------------------------------------------------------------------------


def test_supervisor_sees_overdue_work_across_the_team_and_reassigns_a_case(client, supervisor, navigator, case):
    c = signed_in(client, supervisor)
    body = c.get(reverse("cases:team")).content.decode()
    assert "Dana Reyes" in body and "24-hour follow-up" in body and ">2 h <span" in body
    other = f.UserFactory(program=case.program, roles=["navigator"])
    response = c.post(reverse("cases:reassign", args=[case.pk]), {"navigator": other.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.navigator == other
    assert FollowUp.objects.get(case=case, label="24h").owner == other


def test_team_page_is_for_supervisors_only(client, navigator, peer, case):
    for user in (navigator, peer):
        c = signed_in(client, user)
        assert c.get(reverse("cases:team")).status_code == 404
        assert c.post(reverse("cases:reassign", args=[case.pk]), {"navigator": user.pk}).status_code == 404


def test_partner_updates_capacity_in_one_tap(client, partner_user, service):
    capacity = service.capacities.get()
    signed_in(client, partner_user).post(reverse("providers:partner_capacity", args=[capacity.pk]), {"available": 1})
    capacity.refresh_from_db()
    assert capacity.available == 1


def test_partner_cannot_update_another_agencys_capacity(client, other_partner_user, service):
    capacity = service.capacities.get()
    response = signed_in(client, other_partner_user).post(
        reverse("providers:partner_capacity", args=[capacity.pk]), {"available": 0}
    )
    assert response.status_code == 404
    capacity.refresh_from_db()
    assert capacity.available == 2


def test_navigator_records_consent_inline_and_then_sends(client, navigator, case, service):
    c = signed_in(client, navigator)
    response = c.post(
        reverse("referrals:record_consent", args=[case.pk, service.pk]), {"method": "verbal", "witness_name": "Sam"}
    )
    assert response.status_code == 302
    consent = case.individual.consents.get()
    assert (consent.recipient_organization, consent.method, consent.recorded_by) == (
        service.organization,
        "verbal",
        navigator,
    )
    assert "Consent on file" in c.get(response["Location"]).content.decode()
    c.post(
        reverse("referrals:new", args=[case.pk]),
        {"service": service.pk, "reason": "Needs housing.", "urgency": "routine"},
    )
    assert Referral.objects.get().consent == consent


def test_verbal_consent_without_a_witness_is_refused_and_nothing_saved(client, navigator, case, service):
    signed_in(client, navigator).post(
        reverse("referrals:record_consent", args=[case.pk, service.pk]), {"method": "verbal"}
    )
    assert not case.individual.consents.exists()


def test_consent_for_someone_of_another_program_is_not_found(client, navigator_elsewhere, case, service):
    response = signed_in(client, navigator_elsewhere).post(
        reverse("referrals:record_consent", args=[case.pk, service.pk]), {"method": "written"}
    )
    assert response.status_code == 404
    assert not case.individual.consents.exists()


def test_after_logging_a_contact_only_a_path_on_this_site_is_followed(client, navigator, case):
    c = signed_in(client, navigator)
    url = reverse("cases:log_contact", args=[case.pk])
    data = {"outcome": "attempted", "method": "phone", "occurred_at": _local(timezone.now())}
    back = reverse("cases:person", args=[case.individual_id])
    assert c.post(url, {**data, "next": back})["Location"] == back
    assert c.post(url, {**data, "next": "https://evil.example/"})["Location"] == reverse("cases:caseload")


def test_safety_plan_pdf_is_a_pdf_with_the_plan_in_it(client, navigator, case):
    plan = f.SafetyPlanFactory(case=case, created_by=navigator, coping_strategies=["walk (the dog)"])
    response = signed_in(client, navigator).get(reverse("cases:safety_plan_pdf", args=[case.pk, plan.version]))
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "walk (the dog)" in text and "not sleeping" in text and "call or text: 988" in text


def test_safety_plan_pdf_of_another_program_is_not_found(client, navigator_elsewhere, case):
    plan = f.SafetyPlanFactory(case=case)
    url = reverse("cases:safety_plan_pdf", args=[case.pk, plan.version])
    assert signed_in(client, navigator_elsewhere).get(url).status_code == 404
