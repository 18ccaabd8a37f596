"""The outbox: a message to a partner is a Delivery row written in the same transaction as the
change it announces. A worker delivers it after commit (referrals.delivery)."""

import uuid

from django.utils import timezone

from providers.models import Organization
from referrals.models import Delivery, Referral


def enqueue_event(referral: Referral, event_type: str) -> Delivery | None:
    """Write the outbox row announcing `event_type` for this referral; None for pull-only partners.

    Call inside the transaction that makes the change. The payload is thin: ids, type, status and
    time, never personal data; the partner fetches the rest over the authenticated API.
    """
    organization = referral.organization
    if organization.channel == Organization.Channel.PULL:
        return None
    now = timezone.now()
    return Delivery.objects.create(
        referral=referral,
        organization=organization,
        channel=Delivery.Channel(organization.channel),
        event_type=event_type,
        message_id=f"msg_{uuid.uuid4().hex}",
        payload={
            "type": event_type,
            "timestamp": now.isoformat(),
            "data": {"referral_id": referral.pk, "status": referral.status},
        },
        next_attempt_at=now,
    )
