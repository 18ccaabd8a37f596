"""The delivery tests' cast: a partner with a signed webhook pointing at a local receiver, and a
person whose every field holds a canary string that must never leave in a message."""

import base64
import datetime as dt
import secrets

import pytest
from django.utils import timezone

from cases.models import Individual
from providers.models import Organization
from referrals import outbox
from tests import factories as f
from tests.delivery.receiver import Receiver

CANARIES = {
    "legal_first_name": "Zebulonqx",
    "legal_last_name": "Quillfeatherby",
    "preferred_name": "Zebbyqx",
    "phone": "405-555-0177",
    "email": "zebulonqx@example.net",
    "address": "1712 Canaryvale Road",
    "where_staying": "under the Canarybridge",
    "responder_safety_notes": "Canarynote: dog in the yard",
    "mrn": "MRN-CANARY-4471",
    "cad_person_id": "CAD-CANARY-9931",
    "hmis_id": "HMIS-CANARY-2208",
}
CANARY_BIRTH_DATE = dt.date(1958, 11, 23)
CANARY_REASON = "Canaryreason: lost housing after eviction"


def canary_strings() -> list[str]:
    """Every value that would reveal the person, including the birth date in the usual spellings."""
    d = CANARY_BIRTH_DATE
    return [*CANARIES.values(), CANARY_REASON, d.isoformat(), f"{d:%m/%d/%Y}", f"{d:%Y%m%d}", "Canary"]


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The cast's users need a password hash each; Argon2 at full strength would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def kicks_not_paused(monkeypatch):
    monkeypatch.setattr(outbox, "_kicks_paused_until", 0.0)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver() as running:
        yield running


@pytest.fixture
def webhook_partner(db, receiver):
    return f.OrganizationFactory(
        name="Safe Harbor Housing",
        channel=Organization.Channel.WEBHOOK,
        webhook_url=receiver.url,
        webhook_secret=new_webhook_secret(),
    )


@pytest.fixture
def email_partner(db):
    return f.OrganizationFactory(
        name="Riverside Recovery", channel=Organization.Channel.EMAIL, notification_email="intake@riverside.example"
    )


@pytest.fixture
def person(program) -> Individual:
    return f.IndividualFactory(program=program, date_of_birth=CANARY_BIRTH_DATE, **CANARIES)


def referral_to(organization, *, program, individual, navigator, consent=True):
    """A requested referral on the navigator's case, with a consent naming the partner."""
    case = f.CaseFactory(program=program, individual=individual, navigator=navigator)
    if consent:
        f.ConsentFactory(individual=individual, recipient_organization=organization, recorded_by=navigator)
    service = f.ServiceFactory(organization=organization)
    return f.ReferralFactory(
        program=program,
        individual=individual,
        case=case,
        service=service,
        reason=CANARY_REASON,
        created_by=navigator,
        requested_at=timezone.now(),
    )


@pytest.fixture
def referral(webhook_partner, program, person, navigator):
    return referral_to(webhook_partner, program=program, individual=person, navigator=navigator)


@pytest.fixture
def pending(referral):
    """The outbox row for the referral, written the way the services write it."""
    return outbox.enqueue_event(referral, "referral.requested")
