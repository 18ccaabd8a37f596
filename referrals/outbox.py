"""The outbox: a message to a partner is a Delivery row written in the same transaction as the
change it announces. After commit, a task is asked to deliver it (referrals.delivery).

The row, not the broker message, is the promise: if the kick is lost (the broker is down, the
process dies right after commit), the delivery sweep finds the row due and sends it anyway.
"""

import logging
import time
import uuid

from django.db import transaction
from django.utils import timezone

from providers.models import Organization
from referrals.models import Delivery, Referral

logger = logging.getLogger(__name__)

# After the broker failed to take a kick, leave kicks to the sweep for this long: while the broker
# is down each failed publish waits for kombu's connection retries (seconds), and that wait would
# otherwise land on every request that sends a referral.
KICK_PAUSE_SECONDS = 30.0
_kicks_paused_until = 0.0


def enqueue_event(referral: Referral, event_type: str) -> Delivery | None:
    """Write the outbox row announcing `event_type` for this referral; None for pull-only partners.

    Call inside the transaction that makes the change. The payload is thin: ids, type, status and
    time, never personal data; the partner fetches the rest over the authenticated API.
    """
    organization = referral.organization
    if organization.channel == Organization.Channel.PULL:
        return None
    now = timezone.now()
    delivery = Delivery.objects.create(
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
    delivery_id = delivery.pk
    transaction.on_commit(lambda: kick(delivery_id))
    return delivery


def kick(delivery_id: int) -> None:
    """Ask a worker for the first attempt now. A failure to reach the broker is logged, not raised:
    the change is already committed and the sweep will deliver the row."""
    global _kicks_paused_until
    from referrals.tasks import deliver  # here, so that importing the outbox never loads the HTTP stack

    if time.monotonic() < _kicks_paused_until:
        return
    try:
        deliver.apply_async((delivery_id, 0), retry=False)  # 0: before its first attempt
    except Exception as error:
        _kicks_paused_until = time.monotonic() + KICK_PAUSE_SECONDS
        logger.warning(
            "delivery %s: broker unreachable (%s), the sweep will send it", delivery_id, type(error).__name__
        )
