"""Referrals sent to partners and follow-ups on a navigator's case, with their clocks set the way
referrals.services and cases.services set them."""

from datetime import UTC, datetime, timedelta

import pytest

from providers.models import Organization
from referrals.models import Referral
from tests import factories as f

# A Monday morning; every test starts here with the clock stopped.
START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Every user the factories make gets an Argon2 hash otherwise: seconds per test, nothing tested."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def email_partner(db):
    return f.OrganizationFactory(
        name="Northside Shelter", channel=Organization.Channel.EMAIL, notification_email="intake@northside.example.org"
    )


@pytest.fixture
def case(program, navigator):
    return f.CaseFactory(program=program, navigator=navigator)


@pytest.fixture
def send_referral(program, case, email_partner):
    """send_referral(**overrides): a referral just sent, owed by the partner within the window."""

    def send(**overrides) -> Referral:
        organization = overrides.pop("organization", email_partner)
        fields = {
            "program": program,
            "individual": case.individual if overrides.get("case", case) is not None else None,
            "case": case,
            "service": f.ServiceFactory(organization=organization),
            "status": "requested",
            "requested_at": START,
            "next_action_owner": Referral.NextActionOwner.PARTNER,
            "next_action_due_at": START + program.referral_answer_window,
        }
        fields.update(overrides)
        if fields["individual"] is None:
            fields.pop("individual")
        return f.ReferralFactory(**fields)

    return send


def days(n: float) -> timedelta:
    return timedelta(days=n)
