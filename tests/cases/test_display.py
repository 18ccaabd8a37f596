"""Human words (cases.display): follow-up names, durations, languages, referral events."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from cases import display

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("24h", "24-hour follow-up"),
        ("4h", "4-hour follow-up"),
        ("7d", "7-day follow-up"),
        ("30d", "30-day follow-up"),
        ("appt-18", "Ask how the referral appointment went"),
        ("after court date", "after court date"),
    ],
)
def test_follow_up_names_are_said_as_people_say_them(label, name):
    assert display.follow_up_name(label) == name


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=2, minutes=40), "2 h"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=3, hours=5), "3 days"),
        (timedelta(days=20), "2 weeks"),
        (timedelta(days=65), "2 months"),
        (timedelta(days=800), "2 years"),
    ],
)
def test_durations_use_one_sensible_unit(delta, said):
    assert display.duration(delta) == said
    assert display.duration(-delta) == said


def test_due_phrases():
    assert display.due_phrase(NOW - timedelta(days=3), NOW) == "overdue by 3 days"
    assert display.due_phrase(NOW - timedelta(seconds=10), NOW) == "due now"
    assert display.due_phrase(NOW + timedelta(hours=2), NOW) == "due in 2 h"
    assert display.ago(NOW - timedelta(hours=2), NOW) == "2 h ago"
    assert display.ago(NOW, NOW) == "just now"


@pytest.mark.parametrize(
    ("codes", "names"),
    [("en", "English"), ("en/ar", "English, Arabic"), ("es, vi", "Spanish, Vietnamese"), ("xx", "xx"), ("", "")],
)
def test_languages_by_name(codes, names):
    assert display.language_names(codes) == names


def test_partner_messages_by_name():
    assert display.delivery_event_name("referral.requested") == "New referral sent"
    assert display.delivery_event_name("referral.something_new") == "Something new"


def _event(from_status, to_status, *, business_status="", note="", user="Nina Navarro", credential=None):
    event = SimpleNamespace(
        from_status=from_status,
        to_status=to_status,
        business_status=business_status,
        note=note,
        actor_user_id=1 if user else None,
        actor_user=user,
        actor_credential_id=1 if credential else None,
        actor_credential=SimpleNamespace(name=credential),
        get_business_status_display=lambda: {"appointment_scheduled": "Appointment scheduled"}[business_status],
        get_to_status_display=lambda: to_status.title(),
    )
    return event


def test_referral_events_are_sentences_without_arrows_or_codes():
    assert display.referral_event_sentence(_event("", "draft")) == "Nina Navarro drafted the referral."
    assert (
        display.referral_event_sentence(_event("requested", "accepted", user=None, credential="Safe Harbor API"))
        == "Safe Harbor API accepted the referral."
    )
    same = _event("accepted", "accepted", business_status="appointment_scheduled", user=None, credential="Safe Harbor")
    assert display.referral_event_sentence(same) == "Safe Harbor updated the referral: appointment scheduled."
    assert (
        display.referral_event_sentence(_event("accepted", "accepted", note="called")) == "Nina Navarro added a note."
    )
    assert (
        display.referral_event_sentence(_event("requested", "failed", user=None))
        == "The system said they could not help."
    )
    assert (
        display.referral_event_sentence(_event("on-hold", "in-progress"))
        == "Nina Navarro resumed work with the person."
    )
