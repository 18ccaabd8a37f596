"""Every database constraint of referrals/ rejects what it should and accepts its valid neighbour."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from referrals.models import REASON_REQUIRED, Delivery, Referral, ReferralEvent, Status
from tests import factories as f
from tests.cases.test_constraints import (
    accepts,
    assert_accepted,
    assert_database_rejects,
    assert_every_constraint_tested,
    assert_full_clean_rejects,
    rejects,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# Written out, not read from the model: these are the FHIR codes that need a reason.
NEEDS_REASON = ["rejected", "cancelled", "on-hold", "failed"]
SENT_ONLY = ["requested", "accepted", "rejected", "in-progress", "on-hold", "completed", "failed"]


@pytest.fixture(autouse=True, scope="module")
def fast_password_hashing():
    # Argon2 costs about half a second per user here, and these tests never sign anyone in.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


def referral(**fields) -> Referral:
    individual = f.IndividualFactory()
    fields.setdefault("requested_at", T0)
    return f.ReferralFactory.build(
        program=individual.program,
        individual=individual,
        service=f.ServiceFactory(),
        created_by=f.UserFactory(program=individual.program),
        **fields,
    )


def event(kind: str, *, by_user: bool = False, by_credential: bool = False) -> ReferralEvent:
    sent = f.ReferralFactory()
    return f.ReferralEventFactory.build(
        referral=sent,
        actor_kind=kind,
        actor_user=sent.created_by if by_user else None,
        actor_credential=f.PartnerCredentialFactory(organization=sent.organization) if by_credential else None,
    )


def delivery(**fields) -> Delivery:
    return f.DeliveryFactory.build(referral=f.ReferralFactory(), **fields)


REJECTED = [
    rejects("referral_status_valid", "unknown-code", lambda: referral(status="closed"), clean_error_on="status"),
    *[
        rejects("referral_reason_for_negative_status", f"{status}-without-reason", lambda s=status: referral(status=s))
        for status in NEEDS_REASON
    ],
    *[
        rejects(
            "referral_sent_has_requested_at",
            f"{status}-never-requested",
            lambda s=status: referral(status=s, status_reason="Reason given.", requested_at=None),
        )
        for status in SENT_ONLY
    ],
    rejects("referral_event_actor_matches_kind", "staff-nobody", lambda: event("staff")),
    rejects(
        "referral_event_actor_matches_kind",
        "staff-with-credential",
        lambda: event("staff", by_user=True, by_credential=True),
    ),
    rejects("referral_event_actor_matches_kind", "partner-nobody", lambda: event("partner")),
    rejects("referral_event_actor_matches_kind", "system-with-user", lambda: event("system", by_user=True)),
    rejects("referral_event_actor_matches_kind", "system-with-credential", lambda: event("system", by_credential=True)),
    rejects(
        "delivery_pending_has_next_attempt",
        "pending-unscheduled",
        lambda: delivery(state=Delivery.State.PENDING, next_attempt_at=None),
    ),
    rejects(
        "delivery_delivered_has_time",
        "delivered-no-time",
        lambda: delivery(state=Delivery.State.DELIVERED, next_attempt_at=None, delivered_at=None),
    ),
]

ACCEPTED = [
    *[
        accepts("referral_status_valid", status, lambda s=status: referral(status=s, status_reason="Reason given."))
        for status in Status.values
    ],
    accepts("referral_reason_for_negative_status", "accepted-without-reason", lambda: referral(status="accepted")),
    *[
        accepts(
            "referral_reason_for_negative_status",
            f"{status}-with-reason",
            lambda s=status: referral(status=s, status_reason="Client moved out of the county."),
        )
        for status in NEEDS_REASON
    ],
    accepts("referral_sent_has_requested_at", "draft", lambda: referral(status="draft", requested_at=None)),
    accepts(
        "referral_sent_has_requested_at",
        "cancelled-draft",
        lambda: referral(status="cancelled", status_reason="Wrong service.", requested_at=None),
    ),
    accepts(
        "referral_sent_has_requested_at",
        "draft-entered-in-error",
        lambda: referral(status="entered-in-error", requested_at=None),
    ),
    accepts("referral_event_actor_matches_kind", "staff-user", lambda: event("staff", by_user=True)),
    accepts("referral_event_actor_matches_kind", "partner-user", lambda: event("partner", by_user=True)),
    accepts("referral_event_actor_matches_kind", "partner-credential", lambda: event("partner", by_credential=True)),
    accepts("referral_event_actor_matches_kind", "system", lambda: event("system")),
    accepts("delivery_pending_has_next_attempt", "pending-scheduled", lambda: delivery(next_attempt_at=T0)),
    accepts(
        "delivery_pending_has_next_attempt",
        "dead-unscheduled",
        lambda: delivery(state=Delivery.State.DEAD, next_attempt_at=None),
    ),
    accepts(
        "delivery_delivered_has_time",
        "delivered-with-time",
        lambda: delivery(state=Delivery.State.DELIVERED, next_attempt_at=None, delivered_at=T0),
    ),
]


@pytest.mark.parametrize(("name", "build", "clean_error_on"), REJECTED)
def test_database_rejects_invalid_row(db, name, build, clean_error_on):
    assert_database_rejects(build(), name)


@pytest.mark.parametrize(("name", "build", "clean_error_on"), REJECTED)
def test_full_clean_rejects_invalid_row(db, name, build, clean_error_on):
    assert_full_clean_rejects(build(), name, clean_error_on)


@pytest.mark.parametrize(("name", "build"), ACCEPTED)
def test_valid_row_is_accepted(db, name, build):
    assert_accepted(build(), name)


def test_every_constraint_of_referrals_has_a_rejected_and_an_accepted_row():
    assert_every_constraint_tested(("referrals",), REJECTED, ACCEPTED)


def test_the_reason_rule_covers_exactly_the_statuses_the_design_names():
    assert set(REASON_REQUIRED) == set(NEEDS_REASON)


def test_two_deliveries_cannot_share_a_webhook_id(db):
    first = f.DeliveryFactory()
    again = delivery(message_id=first.message_id)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        again.save()
    assert "message_id" in str(caught.value)


def test_database_rejects_a_partner_event_naming_both_a_user_and_a_credential(db):
    row = event("partner", by_user=True, by_credential=True)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return
    pytest.fail("an event with two actors was stored")
