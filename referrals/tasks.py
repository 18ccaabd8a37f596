"""Celery tasks for partner delivery. Thin: ids in, a service call, nothing else (STYLE.md).

The schedule lives in Delivery.next_attempt_at, never in broker countdowns: the after-commit kick
(referrals.outbox) asks for the first attempt at once, and the beat-driven sweep asks for every
attempt that has come due since, including any whose message was lost with a broker or a worker.
"""

import logging
import random
from datetime import timedelta

from celery import shared_task
from django import db
from django.utils import timezone

from referrals import delivery as delivery_service
from referrals.models import Delivery

logger = logging.getLogger(__name__)

# A sweep enqueues due deliveries in batches of SWEEP_BATCH, at most SWEEP_MAX_BATCHES of them per
# tick (5000 per 30 s), so that after a partner's outage the retries come back at the workers' pace
# and one tick still has a bounded cost. The next tick takes the rest.
SWEEP_BATCH = 500
SWEEP_MAX_BATCHES = 10
# The sweep moves next_attempt_at of what it enqueued this far ahead, so that while a backlog waits
# in the queue the next ticks do not enqueue the same rows again and again. It is also how long a
# message lost after it was published (a broker restarted empty) waits before the sweep resends it.
ENQUEUED_GRACE = timedelta(minutes=5)


# A task whose database connection went away retries after a pause drawn between these bounds, at
# most this many times; after that the claim lease and the sweep bring the delivery back.
CONNECTION_RETRY_SECONDS = (1.0, 4.0)
CONNECTION_RETRIES = 5


@shared_task(bind=True, name="referrals.deliver", acks_late=True, ignore_result=True)
def deliver(self, delivery_id: int, after_attempts: int | None = None) -> str:
    # Safe to run twice: the claim lets one attempt through (referrals.delivery.deliver).
    try:
        return delivery_service.deliver(delivery_id, after_attempts=after_attempts)
    except delivery_service.ConnectionLost as lost:
        if self.request.retries >= CONNECTION_RETRIES:
            raise
        db.connection.close()  # the retry opens a fresh connection
        pause = random.uniform(*CONNECTION_RETRY_SECONDS)  # noqa: S311 - jitter, not a secret
        logger.warning("delivery %s: database connection lost; retrying in %.1fs", delivery_id, pause)
        # A countdown of seconds, far below the broker's visibility timeout (DESIGN.md §4).
        raise self.retry(
            args=(delivery_id, lost.after_attempts), countdown=pause, max_retries=CONNECTION_RETRIES
        ) from None


@shared_task(name="referrals.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    """Enqueue an attempt for each pending delivery that is due (the delivery_pending_due index)."""
    now = timezone.now()
    total = 0
    for _ in range(SWEEP_MAX_BATCHES):
        enqueued = _enqueue_due_batch(now)
        total += enqueued
        if enqueued < SWEEP_BATCH:
            break
    if total:
        logger.info("delivery sweep: %s due", total)
    return total


def _enqueue_due_batch(now) -> int:
    """Two queries: read a batch of due rows, then move the ones published out of the next reads."""
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
