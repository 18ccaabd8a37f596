"""Dates and times typed in the admin get the same bounds as the staff pages (cases.validators): a
mistyped year is a field error and the record is unchanged. Before, the year 0350 was stored, and
31 December 9999 was a server error (23:59 in Chicago is past the calendar's end in UTC)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases.models import Assessment, Case, Consent, Contact, Encounter, FollowUp, Individual
from providers.models import Service
from tests.admin.test_admin import admin_url, form_errors, post_form

pytestmark = pytest.mark.django_db

TOO_EARLY = "Before 2000: check the year."
FUTURE = "Cannot be in the future."
TOO_LATE = "More than two years ahead: check the year."
CONSENT_TOO_LATE = "The expiry is more than five years ahead: check the year, or leave it empty (until revoked)."

TYPOS = [
    (Encounter, "call_received_at", "0350-11-15", TOO_EARLY),
    (Encounter, "call_received_at", "9999-12-31", FUTURE),
    (Encounter, "dispatched_at", "9999-12-31", FUTURE),
    (Encounter, "on_scene_at", "9999-12-31", FUTURE),
    (Encounter, "cleared_at", "9999-12-31", FUTURE),
    (Assessment, "performed_at", "0350-11-15", TOO_EARLY),
    (Assessment, "performed_at", "9999-12-31", FUTURE),
    (Case, "opened_at", "0350-11-15", TOO_EARLY),
    (Case, "opened_at", "9999-12-31", FUTURE),
    (Contact, "occurred_at", "0350-11-15", TOO_EARLY),
    (Contact, "occurred_at", "9999-12-31", FUTURE),
    (FollowUp, "due_at", "0350-11-15", TOO_EARLY),
    (FollowUp, "due_at", "9999-12-31", TOO_LATE),
    (Consent, "given_at", "0350-11-15", TOO_EARLY),
    (Consent, "expires_at", "9999-12-31", CONSENT_TOO_LATE),
    (Consent, "revoked_at", "9999-12-31", FUTURE),
    (Service, "assured_at", "0350-11-15", TOO_EARLY),
    (Service, "assured_at", "9999-12-31", FUTURE),
]


@pytest.mark.parametrize(
    ("model", "field", "day", "error"), TYPOS, ids=[f"{m.__name__}.{name}={day[:4]}" for m, name, day, _ in TYPOS]
)
def test_a_mistyped_year_is_a_field_error_and_the_record_is_unchanged(staff_client, make, model, field, day, error):
    record = make(model)
    record.refresh_from_db()
    before = getattr(record, field)
    response = post_form(
        staff_client, admin_url(model, "change", record.pk), **{f"{field}_0": day, f"{field}_1": "23:59:00"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [error]
    record.refresh_from_db()
    assert getattr(record, field) == before


@pytest.mark.parametrize(
    ("born", "error"),
    [("1899-12-31", "Before 1900: check the year."), ("2100-01-01", "A date of birth cannot be in the future.")],
)
def test_a_date_of_birth_before_1900_or_in_the_future_is_refused(staff_client, make, born, error):
    person = make(Individual)
    before = person.date_of_birth
    response = post_form(staff_client, admin_url(Individual, "change", person.pk), date_of_birth=born)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["date_of_birth"] == [error]
    person.refresh_from_db()
    assert person.date_of_birth == before


@pytest.mark.parametrize("born", ["1900-01-01", "1987-06-05", str(timezone.localdate())])
def test_a_date_of_birth_from_1900_to_today_still_saves(staff_client, make, born):
    person = make(Individual)
    response = post_form(staff_client, admin_url(Individual, "change", person.pk), date_of_birth=born)
    assert response.status_code == 302, form_errors(response)
    person.refresh_from_db()
    assert str(person.date_of_birth) == born


def test_a_consent_expiring_in_four_years_still_saves(staff_client, make):
    consent = make(Consent)
    expires = timezone.localtime() + timedelta(days=4 * 365)
    response = post_form(
        staff_client,
        admin_url(Consent, "change", consent.pk),
        expires_at_0=f"{expires:%Y-%m-%d}",
        expires_at_1="12:00:00",
    )
    assert response.status_code == 302, form_errors(response)
    consent.refresh_from_db()
    assert timezone.localtime(consent.expires_at).date() == expires.date()


def _local_parts(moment) -> tuple[str, str]:
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}"


def test_an_assessment_before_its_call_is_refused(staff_client, make):
    assessment = make(Assessment)
    day, time = _local_parts(assessment.encounter.call_received_at - timedelta(hours=1))
    response = post_form(
        staff_client, admin_url(Assessment, "change", assessment.pk), performed_at_0=day, performed_at_1=time
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["performed_at"] == ["The assessment cannot be before the call."]
    assert Assessment.objects.get(pk=assessment.pk).performed_at == assessment.performed_at


def test_an_assessment_inline_before_its_call_is_refused_as_the_encounter_is_saved(staff_client, make):
    assessment = make(Assessment)
    encounter = assessment.encounter
    day, time = _local_parts(encounter.call_received_at - timedelta(hours=1))
    response = post_form(
        staff_client,
        admin_url(Encounter, "change", encounter.pk),
        **{"assessments-0-performed_at_0": day, "assessments-0-performed_at_1": time},
    )
    assert response.status_code == 200
    formset = next(f.formset for f in response.context["inline_admin_formsets"] if f.formset.prefix == "assessments")
    assert formset.errors[0]["performed_at"] == ["The assessment cannot be before the call."]
    assert Assessment.objects.get(pk=assessment.pk).performed_at == assessment.performed_at
