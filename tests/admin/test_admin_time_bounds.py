"""Dates and times typed in the admin get the same bounds as the staff pages (crt.validators): a
mistyped year is a field error and the record is unchanged. Before, the year 0350 was stored, and
31 December 9999 was a server error (23:59 in Chicago is past the calendar's end in UTC). The admin
writes dates only in the partner directory: person data is read-only there (accounts.admin.ScopedAdmin)."""

import pytest

from providers.models import Service
from tests.admin.test_admin import admin_url, post_form

pytestmark = pytest.mark.django_db

TOO_EARLY = "Before 2000: check the year."
FUTURE = "Cannot be in the future."

TYPOS = [
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
