"""Celery tasks for partner delivery. Thin: ids in, a service call, nothing else (STYLE.md).

The schedule lives in Delivery.next_attempt_at, never in broker countdowns: the after-commit kick
(referrals.outbox) asks for the first attempt at once, and the beat-driven sweep asks for every
attempt that has come due since, including any whose message was lost with a broker or a worker.
"""

import logging

from celery import shared_task
from django.utils import timezone

from referrals import delivery as delivery_service
from referrals.models import Delivery

logger = logging.getLogger(__name__)

# One sweep enqueues at most this many deliveries; the next tick takes the rest. A delivery still
# waiting in the queue when the next tick comes is enqueued again: harmless, as the second message
# finds it claimed or done, and bounded by this number per tick.
SWEEP_BATCH = 500


@shared_task(name="referrals.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> str:
    return delivery_service.deliver(delivery_id)  # safe to run twice: the claim lets one attempt through


@shared_task(name="referrals.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    """Enqueue an attempt for each pending delivery that is due (the delivery_pending_due index)."""
    due = Delivery.objects.pending_due(timezone.now()).order_by("next_attempt_at").values_list("pk", flat=True)
    ids = list(due[:SWEEP_BATCH])
    for delivery_id in ids:
        deliver.delay(delivery_id)
    if ids:
        logger.info("delivery sweep: %s due", len(ids))
    return len(ids)
