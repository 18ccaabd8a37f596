"""The person page reads with hand-written SQL (the timeline in one statement, the panels in three):
it must show exactly what each model's visible_to lets through, for every role, with and without a
caseload or a break-glass grant."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.breakglass import start_break_glass
from accounts.models import User
from accounts.roles import Kind, Role
from cases.display import user_name
from cases.models import (
    Assessment,
    Case,
    Consent,
    Contact,
    Encounter,
    FollowUp,
    SafetyPlan,
    SupportContact,
    kinds_visible_of_person,
)
from cases.panels import panels_for
from cases.timeline import PAGE, timeline_page_for
from referrals.models import Referral
from tests import factories as f
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db

# model -> how its rows reach their person
WHOSE = {
    Encounter: "individual",
    Assessment: "encounter__individual",
    Contact: "case__individual",
    Referral: "individual",
    SafetyPlan: "case__individual",
}


def one_of_each(program, person, by):
    """One record of every timeline kind for `person`, all in `program`."""
    case = f.CaseFactory(program=program, individual=person, navigator=by)
    encounter = f.EncounterFactory(program=program, individual=person)
    f.AssessmentFactory(encounter=encounter)
    f.ContactFactory(case=case, made_by=by)
    f.FollowUpFactory(case=case)  # open: the person page shows what open cases still owe
    f.ReferralFactory(program=program, individual=person, case=case)
    f.SafetyPlanFactory(case=case, created_by=by)
    f.SupportContactFactory(individual=person)
    f.ConsentFactory(individual=person, recorded_by=by)
    return case


def shown(user, person) -> set:
    rows, _ = timeline_page_for(User.objects.get(pk=user.pk), person)
    return {(row.obj.model, row.obj.pk) for row in rows}


PANELS = {Case: "individual", FollowUp: "case__individual", SupportContact: "individual", Consent: "individual"}


def allowed(user, person, models=WHOSE) -> set:
    """What the models' own scoping says this user may see of the person (models: model -> how
    its rows reach their person)."""
    user = User.objects.get(pk=user.pk)
    return {
        (model, pk)
        for model, whose in models.items()
        for pk in model.objects.visible_to(user).filter(**{whose: person}).values_list("pk", flat=True)
    }


def shown_in_panels(user, person) -> set:
    user = User.objects.get(pk=user.pk)
    visible = kinds_visible_of_person(user, person.pk, set(Kind))
    return {(seen.model, seen.pk) for seen in panels_for(user, person, visible, timezone.now()).seen()}


SETUPS = {
    # name: (roles, on the person's caseload as peer, break-glass grant, timeline kinds, panel kinds)
    "navigator": ([Role.NAVIGATOR], False, False, set(WHOSE), set(PANELS)),
    "clinician": ([Role.CLINICIAN], False, False, set(WHOSE), set(PANELS)),
    "supervisor": ([Role.SUPERVISOR], False, False, set(WHOSE), set(PANELS)),
    "paramedic": ([Role.PARAMEDIC], False, False, {Encounter, Assessment, SafetyPlan}, {SupportContact}),
    "paramedic with a grant": ([Role.PARAMEDIC], False, True, set(WHOSE), set(PANELS)),
    "peer on the caseload": ([Role.PEER], True, False, {Contact, Referral, SafetyPlan}, set(PANELS)),
    "peer off the caseload": ([Role.PEER], False, False, set(), set()),
    "peer with a grant": ([Role.PEER], False, True, set(WHOSE), set(PANELS)),
    "paramedic and peer on the caseload": ([Role.PARAMEDIC, Role.PEER], True, False, set(WHOSE), set(PANELS)),
    "paramedic and peer off the caseload": (
        [Role.PARAMEDIC, Role.PEER],
        False,
        False,
        {Encounter, Assessment, SafetyPlan},
        {SupportContact},
    ),
}


@pytest.mark.parametrize("setup", SETUPS)
def test_the_timeline_shows_what_visible_to_lets_through_and_nothing_else(setup, program, other_program, navigator):
    roles, on_caseload, granted, kinds, panel_kinds = SETUPS[setup]
    user = f.UserFactory(program=program, roles=roles)
    person = f.IndividualFactory(program=program)
    case = one_of_each(program, person, navigator)
    one_of_each(other_program, person, navigator)  # the same person's records filed in another program
    if on_caseload:
        case.peer = user
        case.save()
    if granted:
        start_break_glass(user, person, reason="Crisis call; need the safety plan and history now.")

    expected = allowed(user, person)
    assert shown(user, person) == expected
    assert {model for model, _ in expected} == kinds
    in_panels = allowed(user, person, PANELS)
    assert shown_in_panels(user, person) == in_panels
    assert {model for model, _ in in_panels} == panel_kinds


def test_other_programs_and_partner_users_see_nothing_of_the_person(program, other_program, navigator, partner_user):
    person = f.IndividualFactory(program=program)
    one_of_each(program, person, navigator)
    elsewhere = f.UserFactory(program=other_program, roles=[Role.NAVIGATOR])
    for user in (elsewhere, partner_user):
        assert shown(user, person) == allowed(user, person) == set()
        assert shown_in_panels(user, person) == allowed(user, person, PANELS) == set()


def test_a_page_far_past_the_end_is_empty_not_an_error(client, navigator, case):
    f.ContactFactory(case=case, made_by=navigator)
    c = signed_in(client, navigator)
    url = reverse("cases:person", args=[case.individual_id])
    for page in ("2", "99999999999999999999"):
        response = c.get(url, {"page": page})
        assert response.status_code == 200
        assert "Nothing older." in response.content.decode()


def test_equal_times_across_kinds_page_without_loss_or_repeat(navigator, case):
    # Every event at one instant: the order falls back on kind and id, the same on every page.
    at = timezone.now() - timedelta(hours=1)
    for _ in range(PAGE):
        f.ContactFactory(case=case, made_by=navigator, occurred_at=at)
        f.EncounterFactory(program=case.program, individual=case.individual, call_received_at=at)
    user = User.objects.get(pk=navigator.pk)
    first, more = timeline_page_for(user, case.individual, 1)
    second, _ = timeline_page_for(user, case.individual, 2)
    seen = [(row.obj.model, row.obj.pk) for row in first + second]
    assert more and len(seen) == len(set(seen)) == 2 * PAGE


@pytest.mark.parametrize(
    ("first", "last", "username"), [("Nina", "Navigator", "nina"), ("", "", "nina"), ("Nina", "", "nina")]
)
def test_who_is_named_as_the_user_model_names_them(first, last, username):
    assert user_name(first, last, username) == str(User(first_name=first, last_name=last, username=username))


def test_what_people_typed_is_escaped_on_the_timeline(client, navigator, case, partner_org):
    typed = '<script>alert("x")</script>'
    f.ContactFactory(case=case, made_by=navigator, note=typed)
    f.EncounterFactory(
        program=case.program, individual=case.individual, cad_incident_number=typed, reason_for_call=typed
    )
    partner_org.name = typed
    partner_org.save()
    f.ReferralFactory(program=case.program, individual=case.individual, case=case, organization=partner_org)
    body = signed_in(client, navigator).get(reverse("cases:person", args=[case.individual_id])).content.decode()
    timeline = body[body.index('<ol class="timeline">') : body.index("</ol>")]
    assert "<script>" not in timeline
    assert timeline.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 4


def test_the_panels_say_what_the_models_say(client, navigator, peer, case, partner_org):
    person = case.individual
    closed = f.CaseFactory(
        program=case.program,
        individual=person,
        navigator=None,
        status=Case.Status.CLOSED,
        closed_reason=Case.ClosedReason.MOVED,
        closed_at=timezone.now(),
        risk_level="high",
    )
    f.SupportContactFactory(individual=person, name="Maria Reyes", relationship="sister", phone="555-0101")
    father = f.SupportContactFactory(
        individual=person, name="Luis Reyes", relationship="father", phone="", is_caregiver=True
    )
    given = timezone.localtime() - timedelta(days=3)  # the page shows local dates
    f.ConsentFactory(
        individual=person,
        recorded_by=navigator,
        recipient_organization=None,
        recipient_support_contact=father,
        purpose="contact",
        method="verbal",
        witness_name="Nina Navigator",
        given_at=given,
    )
    f.ConsentFactory(
        individual=person,
        recorded_by=navigator,
        recipient_organization=partner_org,
        covers_part2=True,
        given_at=given,
        expires_at=given + timedelta(days=400),
    )
    f.ConsentFactory(
        individual=person,
        recorded_by=navigator,
        recipient_organization=None,
        recipient_category="housing",
        given_at=given,
        expires_at=given + timedelta(days=1),
    )
    body = signed_in(client, navigator).get(reverse("cases:person", args=[person.pk])).content.decode()
    text = " ".join(body.split())
    on = timezone.localdate(given)  # the page says the day in TIME_ZONE, not in UTC

    assert f"Case #{case.pk}</strong> — {case.get_status_display()}," in text
    assert f"navigator {navigator}, peer {peer}" in text
    assert f"Case #{closed.pk}</strong> — Closed (Moved out of area)," in text
    assert 'risk <span class="badge high">High</span>, navigator none' in text
    assert text.count("Log contact") == 1  # the closed case offers no actions
    assert 'Maria Reyes (sister) — <span class="phone"><span class="number">555-0101</span>' in text
    assert 'not agreed to be contacted.</span></span> <span class="badge high">no consent to contact</span>' in text
    assert 'Luis Reyes (father) · caregiver <span class="badge ok">may contact</span>' in text
    assert (
        f"Contacting them about the person — Luis Reyes; verbal, with a witness (witness Nina Navigator), "
        f"given {on:%Y-%m-%d}" in text
    )
    assert (
        f"Referral and care coordination — {partner_org.name}, covers Part 2; written, signed, given {on:%Y-%m-%d}"
        in text
    )
    assert "Referral and care coordination — any housing partner; written, signed" in text
    assert text.count('<span class="badge ok">active</span>') == 2
    assert text.count('<span class="badge">not active</span>') == 1
