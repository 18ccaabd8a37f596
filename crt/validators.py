"""Bounds on the dates and times people type, shared by the staff pages, the admin and the intake API.

A mistyped year (0350 or 1925 for 2025, 9999) is a field error. Stored, it would be shown and counted
as if it were true; at the far end of the calendar, turning a local time into UTC for the database
overflows, which was a server error. Each validator takes a date or a date-time, as Django's
validators do, and raises ValidationError.
"""

from datetime import UTC, date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from crt import inputs

# No call we hold is older; an earlier time is a typo (year 0350 for 2025). Before 1883 local time
# also had offsets in seconds, which an RFC 3339 date-time in our answers cannot carry.
EARLIEST_CALL = datetime(2000, 1, 1, tzinfo=UTC)
EARLIEST_BIRTH = date(1900, 1, 1)
PLANNED_AHEAD = timedelta(days=2 * 366)  # follow-ups, reviews and appointments are planned weeks ahead
CONSENT_AHEAD = timedelta(days=5 * 366)  # a longer consent is one until revoked (no expiry)


def _now_like(value: date) -> date:
    """Now, as a date-time or as today's date, to compare with `value` (a date plus minutes is the same date)."""
    return timezone.now() if isinstance(value, datetime) else timezone.localdate()


def validate_since_2000(value: date) -> None:
    earliest = EARLIEST_CALL if isinstance(value, datetime) else EARLIEST_CALL.date()
    if value < earliest:
        raise ValidationError("Before 2000: check the year.", code="too_early")


def validate_happened(value: date) -> None:
    """Something that happened (a call, a contact, a consent given): since 2000 and not in the future."""
    validate_since_2000(value)
    if value > _now_like(value) + inputs.CLOCK_SKEW:
        raise ValidationError("Cannot be in the future.", code="future")


def validate_planned(value: date) -> None:
    """Something planned (a follow-up, a review): since 2000 and at most about two years ahead."""
    validate_since_2000(value)
    if value > _now_like(value) + PLANNED_AHEAD:
        raise ValidationError("More than two years ahead: check the year.", code="too_late")


def validate_consent_expiry(value: date) -> None:
    """At most about five years ahead; that it is after the consent was given is the form's check."""
    validate_since_2000(value)
    if value > _now_like(value) + CONSENT_AHEAD:
        raise ValidationError(
            "The expiry is more than five years ahead: check the year, or leave it empty (until revoked).",
            code="too_late",
        )


def validate_date_of_birth(value: date) -> None:
    if value < EARLIEST_BIRTH:
        raise ValidationError("Before 1900: check the year.", code="too_early")
    if value > timezone.localdate():
        raise ValidationError("A date of birth cannot be in the future.", code="future")


# What each bound looks like in the OpenAPI schema (crt.schema.AutoSchema): an RFC 3339 date-time
# (or date) whose year is in the window, as a pattern (a mistyped year fails it, and the server
# refuses it), and the part relative to today in words. The pattern stands in for `format`: with
# both, a generator must make date-times and throw away nearly all of them.
_DAY = r"(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
YEAR_2000_ON = rf"^20[0-9]{{2}}-{_DAY}{_TIME}$"
BORN = rf"^(19|20)[0-9]{{2}}-{_DAY}$"


def _openapi(pattern: str, words: str) -> dict:
    return {"pattern": pattern, "format": None, "description": words}


validate_since_2000.openapi = _openapi(YEAR_2000_ON, "RFC 3339 date-time from the year 2000.")
validate_happened.openapi = _openapi(YEAR_2000_ON, "RFC 3339 date-time from the year 2000, not in the future.")
validate_planned.openapi = _openapi(
    YEAR_2000_ON, "RFC 3339 date-time from the year 2000, at most about two years ahead."
)
validate_consent_expiry.openapi = _openapi(
    YEAR_2000_ON, "RFC 3339 date-time from the year 2000, at most about five years ahead (none: until revoked)."
)
validate_date_of_birth.openapi = _openapi(BORN, "A date (YYYY-MM-DD) from 1900, not in the future.")
