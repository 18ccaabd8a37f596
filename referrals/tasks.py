"""Celery tasks for partner delivery. Thin: ids in, a service call, nothing else (STYLE.md).

The schedule lives in Delivery.next_attempt_at, never in broker countdowns: the after-commit kick
(referrals.outbox) asks for the first attempt at once, and the beat-driven sweep asks for every
attempt that has come due since, including any whose message was lost with a broker or a worker.
"""

import logging
import random

from celery import shared_task
from django import db
from django.utils import timezone

from referrals import delivery as delivery_service
from referrals import outbox

logger = logging.getLogger(__name__)


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
    """Enqueue an attempt for each pending delivery that is due (referrals.outbox.sweep_due)."""
    return outbox.sweep_due(timezone.now())
