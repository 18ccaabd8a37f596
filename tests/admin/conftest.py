"""Fixtures for the admin tests: a logged-in staff admin, and one maker per registered model."""

import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import BreakGlassGrant, LoginFailure, Program, RecoveryCode, StaffToken, TwoFactorDevice, User
from accounts.tokens import issue_token
from audit.models import AccessLog
from cases.models import (
    Assessment,
    Case,
    Consent,
    Contact,
    Encounter,
    EncounterResponder,
    FollowUp,
    FollowUpRule,
    Individual,
    PersonMerge,
    SafetyPlan,
    SupportContact,
)
from inbox.models import Item
from providers.models import (
    IdempotencyRecord,
    Location,
    Organization,
    PartnerCredential,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
)
from referrals.models import Delivery, DeliveryAttempt, Referral, ReferralEvent
from tests import factories as f


@pytest.fixture
def staff_client(client, staff_admin):
    """The Django test client, signed in as the staff admin of `program`."""
    client.force_login(staff_admin)
    return client


def _user(program):
    return f.UserFactory(program=program)


def _break_glass_grant(program):
    now = timezone.now()
    return BreakGlassGrant.objects.create(
        user=_user(program),
        program=program,
        individual=f.IndividualFactory(program=program),
        reason="Family called: person missing, not on my caseload.",
        started_at=now,
        expires_at=now + timedelta(hours=1),
    )


# model -> how to make one more record of it in `program` (each with its own related rows, so a
# changelist that fetched them one by one would show up in the query counts).
MAKERS: dict[type, Callable] = {
    Program: lambda program: f.ProgramFactory(),
    User: lambda program: f.UserFactory(program=program),
    Organization: lambda program: f.OrganizationFactory(),
    Service: lambda program: f.ServiceFactory(),
    Location: lambda program: f.LocationFactory(),
    ServiceAtLocation: lambda program: f.ServiceAtLocationFactory(),
    ServiceCapacity: lambda program: f.ServiceCapacityFactory(),
    PartnerCredential: lambda program: f.PartnerCredentialFactory(),
    Individual: lambda program: f.IndividualFactory(program=program),
    SupportContact: lambda program: f.SupportContactFactory(individual__program=program),
    Encounter: lambda program: f.EncounterFactory(program=program),
    EncounterResponder: lambda program: f.EncounterResponderFactory(encounter__program=program),
    Assessment: lambda program: f.AssessmentFactory(encounter__program=program, performed_by=_user(program)),
    Case: lambda program: f.CaseFactory(program=program, navigator=_user(program), peer=_user(program)),
    FollowUp: lambda program: f.FollowUpFactory(case__program=program, owner=_user(program)),
    FollowUpRule: lambda program: FollowUpRule.objects.create(
        program=program, label=f"{FollowUpRule.objects.count()}h", offset=timedelta(hours=1)
    ),
    Contact: lambda program: f.ContactFactory(case__program=program),
    SafetyPlan: lambda program: f.SafetyPlanFactory(case__program=program),
    Consent: lambda program: f.ConsentFactory(individual__program=program),
    PersonMerge: lambda program: PersonMerge.objects.create(
        program=program,
        survivor=f.IndividualFactory(program=program),
        merged=f.IndividualFactory(program=program),
        reason="Same person.",
        merged_by=_user(program),
        merged_at=timezone.now(),
    ),
    Referral: lambda program: f.ReferralFactory(program=program),
    ReferralEvent: lambda program: f.ReferralEventFactory(referral__program=program),
    Delivery: lambda program: f.DeliveryFactory(referral__program=program),
    DeliveryAttempt: lambda program: f.DeliveryAttemptFactory(delivery__referral__program=program),
    Item: lambda program: f.ItemFactory(program=program),
    TwoFactorDevice: lambda program: TwoFactorDevice.objects.create(
        user=_user(program), secret="JBSWY3DPEHPK3PXP", enrolled_at=timezone.now()
    ),
    RecoveryCode: lambda program: RecoveryCode.objects.create(user=_user(program), code_hash=secrets.token_hex(32)),
    LoginFailure: lambda program: LoginFailure.objects.create(
        account_key="0" * 64, user=_user(program), kind=LoginFailure.Kind.PASSWORD, at=timezone.now()
    ),
    BreakGlassGrant: _break_glass_grant,
    StaffToken: lambda program: issue_token(_user(program), name="CAD integration", by=None)[0],
    AccessLog: lambda program: AccessLog.objects.create(
        action="view", object_type="cases.individual", object_id="1", program=program
    ),
    IdempotencyRecord: lambda program: IdempotencyRecord.objects.create(
        owner=f"user:{_user(program).pk}",
        key=f"key-{IdempotencyRecord.objects.count()}",
        method="POST",
        path="/api/v1/referrals/",
        request_hash="0" * 64,
        status_code=201,
        created_at=timezone.now(),
    ),
}


@pytest.fixture
def make(program):
    """make(Model) -> a new record of Model in the staff admin's program (or in `program=`)."""

    def _make(model, *, program=program):
        if model not in MAKERS:
            pytest.fail(f"No maker for {model._meta.label}: add one to MAKERS in tests/admin/conftest.py")
        return MAKERS[model](program)

    return _make
