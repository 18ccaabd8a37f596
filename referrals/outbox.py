"""The outbox: a message to a partner is a Delivery row written in the same transaction as the
change it announces. After commit, a task is asked to deliver it (referrals.delivery).

The row, not the broker message, is the promise: if the kick is lost (the broker is down, the
process dies right after commit), the delivery sweep (`sweep_due`, run by the beat task
referrals.sweep_deliveries) finds the row due and sends it anyway.
"""

import logging
import time
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from crt.scoping import system_read
from providers.models import Organization
from referrals.models import Delivery, Referral

logger = logging.getLogger(__name__)

# After the broker failed to take a kick, leave kicks to the sweep for this long: while the broker
# is down each failed publish waits for kombu's connection retries (seconds), and that wait would
# otherwise land on every request that sends a referral.
KICK_PAUSE_SECONDS = 30.0
_kicks_paused_until = 0.0

# A sweep enqueues due deliveries in batches of SWEEP_BATCH, at most SWEEP_MAX_BATCHES of them per
# tick (5000 per 30 s), so that after a partner's outage the retries come back at the workers' pace
# and one tick still has a bounded cost. The next tick takes the rest.
SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 10
# The sweep moves next_attempt_at of what it enqueued this far ahead, so that while a backlog waits
# in the queue the next ticks do not enqueue the same rows again and again. It is also how long a
# message lost after it was published (a broker restarted empty) waits before the sweep resends it.
ENQUEUED_GRACE = timedelta(minutes=5)


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


@system_read("the delivery sweep reads every pending delivery")
def sweep_due(now: datetime) -> int:
    """Enqueue an attempt for each pending delivery that is due (the delivery_pending_due index)."""
    total = 0
    for _ in range(SWEEP_MAX_BATCHES):
        enqueued = _enqueue_due_batch(now)
        total += enqueued
        if enqueued < SWEEP_BATCH:
            break
    if total:
        logger.info("delivery sweep: %s due", total)
    return total


def _enqueue_due_batch(now: datetime) -> int:
    """Two queries: read a batch of due rows, then move the ones published out of the next reads."""
    from referrals.tasks import deliver  # here, so that importing the outbox never loads the HTTP stack

    due = Delivery.objects.pending_due(now).order_by("next_attempt_at").values_list("pk", "attempts")
    enqueued = []
    try:
        for delivery_id, attempts in due[:SWEEP_BATCH]:
            deliver.delay(delivery_id, attempts)
            enqueued.append(delivery_id)
    finally:
        # Only rows still due as of `now`: a row a worker has claimed meanwhile carries its lease.
        # Published first, moved after: a broker that refuses the message leaves the row due.
        Delivery.objects.pending_due(now).filter(pk__in=enqueued).update(next_attempt_at=now + ENQUEUED_GRACE)
    return len(enqueued)
