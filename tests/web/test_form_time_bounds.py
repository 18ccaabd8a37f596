"""Dates and times typed on the staff pages and in the metrics picker: a mistyped year (0350 for 2025,
9999) is a field error and nothing is saved; a usual value still saves. Before, the encounter and
contact pages stored a call or contact in the year 0350, the safety plan a review in 9999, and a
consent expiring on 31 December 9999 or a metrics period in 9999 was a server error.

The bounds are those of crt.validators, which the intake API shares (call times from 2000)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Assessment, Consent, Contact, Encounter, FollowUp, SafetyPlan
from tests import factories as f
from tests.plans import plan_post
from tests.web.conftest import signed_in

pytestmark = pytest.mark.django_db

TOO_EARLY = "Before 2000: check the year."
BEFORE_2000 = ["0001-01-01T00:00", "0350-11-15T11:57", "1999-12-30T10:00"]  # 0350: what schemathesis sent


def _local(dt) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _call(**overrides) -> dict:
    return {
        "cad_incident_number": "CAD-2026-0042",
        "call_source": "911",
        "call_received_at": _local(timezone.now() - timedelta(hours=2)),
        "dispatched_at": "",
        "on_scene_at": "",
        "cleared_at": "",
        "law_enforcement": "none",
        **overrides,
    }


@pytest.fixture
def encounter(person):
    return f.EncounterFactory(program=person.program, individual=person, cad_incident_number="CAD-2026-0001")


# --- encounters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", BEFORE_2000)
def test_a_new_encounter_with_a_call_before_2000_is_refused_on_its_field(client, paramedic, person, typed):
    response = signed_in(client, paramedic).post(
        reverse("cases:encounter_new", args=[person.pk]), _call(call_received_at=typed)
    )
    assert response.status_code == 400
    assert response.context["form"].errors["call_received_at"] == [TOO_EARLY]
    assert TOO_EARLY in response.content.decode()
    assert not Encounter.objects.exists()


def test_a_new_encounter_with_a_call_in_the_year_9999_is_refused_on_its_field(client, paramedic, person):
    response = signed_in(client, paramedic).post(
        reverse("cases:encounter_new", args=[person.pk]), _call(call_received_at="9999-12-31T23:59")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["call_received_at"] == ["Cannot be in the future."]
    assert not Encounter.objects.exists()


@pytest.mark.parametrize("typed", ["2000-01-01T12:00", _local(timezone.now() - timedelta(minutes=10))])
def test_a_new_encounter_from_2000_on_still_saves(client, paramedic, person, typed):
    response = signed_in(client, paramedic).post(
        reverse("cases:encounter_new", args=[person.pk]), _call(call_received_at=typed)
    )
    assert response.status_code == 302
    assert _local(Encounter.objects.get().call_received_at) == typed


def test_editing_the_call_time_to_the_year_0350_is_refused_and_the_encounter_is_unchanged(client, paramedic, encounter):
    before = Encounter.objects.get(pk=encounter.pk)
    response = signed_in(client, paramedic).post(
        reverse("cases:encounter_edit", args=[encounter.pk]),
        _call(
            cad_incident_number=encounter.cad_incident_number,
            call_received_at="0350-11-15T11:57",
            dispatched_at=_local(before.dispatched_at),
            on_scene_at=_local(before.on_scene_at),
            cleared_at=_local(before.cleared_at),
        ),
    )
    assert response.status_code == 400
    assert response.context["form"].errors["call_received_at"] == [TOO_EARLY]
    encounter.refresh_from_db()
    assert (encounter.call_received_at, encounter.law_enforcement) == (before.call_received_at, before.law_enforcement)


def test_an_assessment_in_the_year_0350_is_refused_as_a_year_typo(client, clinician, encounter):
    response = signed_in(client, clinician).post(
        reverse("cases:encounter", args=[encounter.pk]),
        {"kind": "vitals", "performed_at": "0350-11-15T11:57", "heart_rate": "90"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["performed_at"] == [TOO_EARLY]
    assert not Assessment.objects.exists()


# --- log a contact ------------------------------------------------------------------------------


def _contact(at: str) -> dict:
    return {"outcome": "reached", "method": "phone", "occurred_at": at}


@pytest.mark.parametrize("typed", BEFORE_2000)
def test_a_contact_before_2000_is_refused_on_its_field_and_answers_no_follow_up(client, navigator, case, typed):
    response = signed_in(client, navigator).post(reverse("cases:log_contact", args=[case.pk]), _contact(typed))
    assert response.status_code == 400
    assert response.context["form"].errors["occurred_at"] == [TOO_EARLY]
    assert not Contact.objects.exists()
    assert not FollowUp.objects.filter(case=case, done_at__isnull=False).exists()


def test_a_contact_in_the_year_9999_is_refused_on_its_field(client, navigator, case):
    response = signed_in(client, navigator).post(
        reverse("cases:log_contact", args=[case.pk]), _contact("9999-12-31T23:59")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["occurred_at"] == ["A contact cannot be in the future."]
    assert not Contact.objects.exists()


def test_a_contact_an_hour_ago_still_saves(client, navigator, case):
    typed = _local(timezone.now() - timedelta(hours=1))
    response = signed_in(client, navigator).post(reverse("cases:log_contact", args=[case.pk]), _contact(typed))
    assert response.status_code == 302
    assert _local(Contact.objects.get(case=case).occurred_at) == typed


# --- safety plan review date --------------------------------------------------------------------


def _plan(review_on: str) -> dict:
    return plan_post(warning_signs=["not sleeping"], review_on=review_on)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("0350-11-15", TOO_EARLY),
        ("9999-12-31", "More than two years ahead: check the year."),
        (str(timezone.localdate() + timedelta(days=3 * 365)), "More than two years ahead: check the year."),
    ],
)
def test_a_review_date_with_a_mistyped_year_is_refused_and_no_version_is_saved(client, navigator, case, typed, error):
    response = signed_in(client, navigator).post(reverse("cases:safety_plan_edit", args=[case.pk]), _plan(typed))
    assert response.status_code == 400
    assert response.context["form"].errors["review_on"] == [error]
    assert not SafetyPlan.objects.exists()


@pytest.mark.parametrize("typed", ["2024-01-15", str(timezone.localdate() + timedelta(days=30))])  # a passed one too
def test_a_review_date_from_2000_to_two_years_ahead_still_saves(client, navigator, case, typed):
    response = signed_in(client, navigator).post(reverse("cases:safety_plan_edit", args=[case.pk]), _plan(typed))
    assert response.status_code == 302
    assert str(SafetyPlan.objects.get(case=case).review_on) == typed


# --- consent expiry, on the referral page -------------------------------------------------------


@pytest.mark.parametrize("typed", ["9999-12-31", str(timezone.localdate() + timedelta(days=6 * 365))])
def test_a_consent_expiring_more_than_five_years_ahead_is_refused_and_nothing_saved(
    client, navigator, case, service, typed
):
    response = signed_in(client, navigator).post(
        reverse("referrals:record_consent", args=[case.pk, service.pk]),
        {"method": "written", "expires_on": typed},
        follow=True,
    )
    assert response.status_code == 200  # back on the referral page, the refusal shown as a message
    assert [m.message for m in response.context["messages"]] == [
        "The expiry is more than five years ahead: check the year, or leave it empty (until revoked)."
    ]
    assert not Consent.objects.exists()


def test_a_consent_expiring_in_a_year_still_saves(client, navigator, case, service):
    typed = timezone.localdate() + timedelta(days=365)
    response = signed_in(client, navigator).post(
        reverse("referrals:record_consent", args=[case.pk, service.pk]), {"method": "written", "expires_on": str(typed)}
    )
    assert response.status_code == 302
    assert timezone.localtime(Consent.objects.get().expires_at).date() == typed


# --- metrics period -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["period=9999", "start=9999-12-01&end=9999-12-31", "period=0350", "period=1999-Q4"])
def test_a_metrics_period_with_a_mistyped_year_is_refused(client, supervisor, query):
    message = f"Choose a period between 2000 and {timezone.localdate().year + 1}: check the year."
    c = signed_in(client, supervisor)
    response = c.get(f"/metrics/?{query}")
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [message]
    export = c.get(f"/metrics/all.csv?{query}")
    assert export.status_code == 400
    assert message in export.content.decode()


def test_a_metrics_period_of_a_past_year_still_shows(client, supervisor):
    response = signed_in(client, supervisor).get("/metrics/?period=2025")
    assert response.status_code == 200
    assert response.context["selection"].period.label == "2025"
